"""Where a write lands, for ``squad guard``: repo-relative paths, symlinks, worktrees, ``.squad/``.

A hook names absolute paths (or paths relative to the agent's working directory) in whichever
checkout the agent works in; the ownership matrix speaks repo-relative paths. This module maps one
to the other (through symlinks, and from a linked worktree to the repository), names what a
command on the whole checkout hits, and holds the two rules the matrix cannot express: squad's
own files in ``.squad/``, and other agents' worktrees.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from squad.bash import Target
from squad.errors import SquadError
from squad.paths import SQUAD_DIR_NAME, SquadPaths, repo_relative, work_root
from squad.protocol.ids import parse_agent_id, same_agent

BRANCH_PREFIX = "squad/"  # a launched agent's worktree is on squad/<agent-id>
_HARMLESS_ON_FOLDERS = {"mkdir", "touch"}  # on an existing folder they change nothing inside it


@dataclass(frozen=True)
class Refusal:
    """One path an agent may not write, and why (``fix``: what would make it allowed)."""

    path: str
    via: str
    rule: str
    reason: str
    owner: str | None = None
    holder: str | None = None
    fix: str | None = None


# -- which agent's checkout -------------------------------------------------------------------------


def agent_from_checkout(start: Path) -> str | None:
    """The agent whose squad worktree ``start`` is in: its branch is ``squad/<agent-id>``.

    Reads ``.git`` and ``HEAD`` directly rather than spawning git: this runs before every edit.
    """
    top = work_root(start)
    dot_git = top / ".git"
    try:
        if dot_git.is_file():
            text = dot_git.read_text(encoding="utf-8").strip()
            if not text.startswith("gitdir:"):
                return None
            gitdir = Path(text.removeprefix("gitdir:").strip())
            gitdir = gitdir if gitdir.is_absolute() else top / gitdir
        elif dot_git.is_dir():
            gitdir = dot_git
        else:
            return None
        head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    ref = head.removeprefix("ref:").strip()
    branch = ref.removeprefix("refs/heads/")
    if ref == head or not branch.startswith(BRANCH_PREFIX):
        return None
    name = branch.removeprefix(BRANCH_PREFIX)
    return name if parse_agent_id(name) is not None else None


# -- paths ---------------------------------------------------------------------------------------


def checkout_of(paths: SquadPaths, cwd: Path) -> Path:
    checkout = work_root(cwd)
    # work_root falls back to cwd itself when no checkout holds it: then only the squad root counts.
    if not ((checkout / ".git").exists() or (checkout / SQUAD_DIR_NAME).is_dir()):
        return paths.root
    return checkout


def expand_root(paths: SquadPaths, target: Target, cwd: Path) -> list[Target]:
    """``rm -rf .`` (or of a folder holding the repository) hits everything at the top: name it all."""
    if target.via in _HARMLESS_ON_FOLDERS:
        return [target]
    absolute = Path(os.path.normpath(cwd / target.path))
    for top in (paths.root, checkout_of(paths, cwd)):
        if absolute == top or absolute in top.parents:
            try:
                children = sorted(top.iterdir())
            except OSError:
                return [target]
            return [
                Target(str(child) + ("/" if child.is_dir() else ""), target.via)
                for child in children
                if child.name not in (".git", SQUAD_DIR_NAME)
            ]
    return [target]


# Written through a link, these change the link itself, not what it points to.
_LINK_WRITERS = {"rm", "unlink", "rmdir", "ln", "mv", "git rm", "git mv", "shred"}


def relative_targets(paths: SquadPaths, target: Target, cwd: Path) -> list[str]:
    """The repo-relative paths a write of ``target`` lands on: as written, and where symlinks lead.

    ``frontend/link/x.py`` with ``frontend/link -> ../backend`` writes ``backend/x.py``: both are asked.
    """
    rel = relative_target(paths, target.path, cwd)
    absolute = Path(os.path.normpath(cwd / target.path))
    if target.via in _LINK_WRITERS:
        real = Path(os.path.realpath(absolute.parent)) / absolute.name
    else:
        real = Path(os.path.realpath(absolute))
    out = [rel] if rel is not None else []
    if real != absolute and not any(real == top for top in (paths.root, checkout_of(paths, cwd))):
        suffix = "/" if target.path.endswith("/") else ""
        linked = relative_target(paths, str(real) + suffix, cwd)
        if linked is not None and linked != rel:
            out.append(linked)
    return out


# git commands that throw away uncommitted work: in the shared checkout they throw away everyone's
# (refused like any write), in an agent's own worktree only its own (allowed).
DISCARDS = {"git stash", "git reset", "git clean", "git restore", "git checkout"}


def own_worktree(paths: SquadPaths, cwd: Path) -> bool:
    """True when ``cwd`` is in a linked worktree of its own, not the checkout holding ``.squad/``."""
    checkout = checkout_of(paths, cwd)
    return checkout != paths.root and (checkout / ".git").is_file()


def relative_target(paths: SquadPaths, raw: str, cwd: Path) -> str | None:
    """``raw`` as a repo-relative path, or None when it is none of squad's business.

    Outside the repository (and its worktree), inside ``.squad/`` (agents write their comm files
    there) or inside ``.git/``: None, so the write is allowed.
    """
    absolute = Path(os.path.normpath(cwd / raw))
    checkout = checkout_of(paths, cwd)
    if not any(top == absolute or top in absolute.parents for top in (paths.root, checkout)):
        # The repository reached through a symlink (/tmp -> /private/tmp, a linked home): compare real paths.
        real = Path(os.path.realpath(absolute.parent)) / absolute.name
        if any(top == real or top in real.parents for top in (paths.root, checkout)):
            absolute = real
    text = str(absolute) + ("/" if raw.endswith("/") and str(absolute) != "/" else "")
    # A worktree nested inside the main checkout: its own top is the base, not the outer repository.
    base = SquadPaths(checkout) if checkout != paths.root and checkout in absolute.parents else paths
    try:
        rel = repo_relative(text, base, cwd=checkout)
    except SquadError:
        return None
    if rel.split("/", 1)[0] in (".git", SQUAD_DIR_NAME):
        return None
    return rel


# -- .squad/ itself ------------------------------------------------------------------------------

SQUAD_SETTINGS = ("ownership.yaml", "config.yaml")
_OTHERS_FILE = {"comms": "comm", "parallel-plans": "plan"}


def squad_file_refusal(paths: SquadPaths, agent: str, target: Target, cwd: Path) -> Refusal | None:
    """Agents write their own comm file (and plan) and lease files in ``.squad/``, nothing of the lead's.

    Refused: the ownership matrix and ``config.yaml`` (an agent that rewrote them would grant itself
    anything), another agent's comm file or plan, and ``.squad/`` (or ``comms/``, ``parallel-plans/``) whole.
    """
    absolute = Path(os.path.normpath(cwd / target.path))
    real = Path(os.path.realpath(absolute.parent)) / absolute.name
    for candidate in (absolute, real):
        if candidate == paths.squad or paths.squad in candidate.parents:
            parts = candidate.relative_to(paths.squad).parts
            break
    else:
        return None
    shown = "/".join((SQUAD_DIR_NAME, *parts)) + ("/" if not parts or target.path.endswith("/") else "")
    me = parse_agent_id(agent)
    if not parts or (len(parts) == 1 and (parts[0] in SQUAD_SETTINGS or parts[0] in _OTHERS_FILE)):
        reason = f"{shown} is squad's own configuration: agents may not write it"
        return Refusal(shown, target.via, "squad", reason, fix="ask the lead (a human) to change it")
    if len(parts) == 2 and parts[0] in _OTHERS_FILE and me is not None:
        kind = _OTHERS_FILE[parts[0]]
        match = re.fullmatch(rf"agent-(\d+)-{kind}\.md", parts[1])
        if match and int(match.group(1)) != me.number:
            owner = f"agent-{match.group(1)}"
            reason = f"{shown} is {owner}'s {kind} file: only {owner} writes it"
            return Refusal(
                shown,
                target.via,
                "squad",
                reason,
                owner=owner,
                fix="write to your own comm file (`squad update`, `squad handoff`)",
            )
    return None


def worktree_refusal(
    paths: SquadPaths,
    agent: str,
    target: Target,
    cwd: Path,
    worktrees: list[tuple[Path, str | None]] | None = None,
) -> Refusal | None:
    """A write into another agent's worktree (a linked worktree on ``squad/<other agent>``)."""
    absolute = Path(os.path.normpath(cwd / target.path))
    here = checkout_of(paths, cwd)
    for top, branch_agent in linked_worktrees(paths) if worktrees is None else worktrees:
        if top != here and (top == absolute or top in absolute.parents):
            if branch_agent is None or same_agent(branch_agent, agent):
                return None
            shown = str(absolute) + ("/" if target.path.endswith("/") else "")
            reason = f"{shown} is in {branch_agent}'s worktree {top}: only {branch_agent} works there"
            return Refusal(shown, target.via, "worktree", reason, owner=branch_agent, fix="work in your own worktree")
    return None


def linked_worktrees(paths: SquadPaths) -> list[tuple[Path, str | None]]:
    """``(top, agent)`` of each linked worktree of the squad's repository (agent from a ``squad/`` branch).

    Read from ``.git/worktrees/*/gitdir`` and ``HEAD`` rather than by spawning git: this runs before every edit.
    """
    out = []
    try:
        entries = sorted((paths.root / ".git" / "worktrees").iterdir())
    except OSError:
        return []
    for entry in entries:
        try:
            top = Path(os.path.normpath((entry / "gitdir").read_text(encoding="utf-8").strip())).parent
            head = (entry / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        branch = head.removeprefix("ref:").strip().removeprefix("refs/heads/")
        name = branch.removeprefix(BRANCH_PREFIX) if branch.startswith(BRANCH_PREFIX) else None
        out.append((top, name if name is not None and parse_agent_id(name) is not None else None))
    return out
