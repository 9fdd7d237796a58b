"""Where a write lands, for ``squad guard``: repo-relative paths, symlinks, worktrees, ``.squad/``.

A hook names absolute paths (or paths relative to the agent's working directory) in whichever
checkout the agent works in; the ownership matrix speaks repo-relative paths. This module maps one
to the other (through symlinks, and from a linked worktree to the repository), names what a
command on the whole checkout hits, and holds the two rules the matrix cannot express: squad's
own files in ``.squad/``, and other agents' worktrees.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from squad.enforce.bash_commands import Target, Unjudgeable
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
_LINK_WRITERS = {"rm", "unlink", "rmdir", "ln", "mv", "git rm", "git mv", "shred", "cp -s", "ln -s"}
MAX_SYMLINKS = 40  # what Linux follows before ELOOP


def resolve_full(path: Path) -> Path:
    """``path`` with every symlink followed, the last component too, as ``open()`` would follow them.

    Unlike ``os.path.realpath`` (which silently stops at a loop on Python < 3.13), a loop, a name
    too long for the file system, or a folder that cannot be read raise ``Unjudgeable``: the guard
    refuses what it cannot resolve. Components that do not exist yet are kept as written.
    """
    pending = list(Path(os.path.normpath(path)).parts)
    done = Path(pending.pop(0)) if pending and pending[0] == "/" else Path("/")
    hops = 0
    while pending:
        name = pending.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            done = done.parent
            continue
        candidate = done / name
        try:
            link = os.readlink(candidate)  # noqa: PTH115 (errno tells loop from missing from plain file)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # exists, not a link
                done = candidate
                continue
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):  # not there yet: the rest is as written
                return Path(os.path.normpath(candidate.joinpath(*pending)))
            if exc.errno == errno.ENAMETOOLONG:
                raise Unjudgeable(f"{_short(candidate)}: name too long for the file system") from None
            raise Unjudgeable(f"cannot resolve {_short(candidate)}: {exc.strerror}") from None
        hops += 1
        if hops > MAX_SYMLINKS:
            raise Unjudgeable(f"{_short(path)}: too many levels of symbolic links (a loop)")
        if link.startswith("/"):
            done = Path("/")
        pending = [p for p in Path(link).parts if p != "/"] + pending
    return done


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 120 else text[:60] + "..." + text[-50:]


_MEMO: dict[tuple[object, ...], object] = {}


def forget() -> None:
    """Drop what was resolved for the last call: one decision sees one state of the file system."""
    _MEMO.clear()


def landing(target: Target, cwd: Path) -> Path:
    key = ("landing", target, cwd)
    if key not in _MEMO:
        _MEMO[key] = _landing(target, cwd)
    found = _MEMO[key]
    assert isinstance(found, Path)
    return found


def _landing(target: Target, cwd: Path) -> Path:
    """Where a write of ``target`` lands: the file itself through every link, or for a command that
    changes the link itself (``rm``, ``mv``, ``ln -s``) the link in its real folder."""
    absolute = Path(os.path.normpath(cwd / target.path))
    if target.via in _LINK_WRITERS:
        return resolve_full(absolute.parent) / absolute.name
    return resolve_full(absolute)


def relative_targets(paths: SquadPaths, target: Target, cwd: Path) -> list[str]:
    """The repo-relative paths a write of ``target`` lands on: as written, and where symlinks lead.

    ``frontend/link/x.py`` with ``frontend/link -> ../backend`` writes ``backend/x.py``: both are asked.
    """
    rel = relative_target(paths, target.path, cwd)
    absolute = Path(os.path.normpath(cwd / target.path))
    real = landing(target, cwd)
    out = [rel] if rel is not None else []
    if real != absolute and not any(real == top for top in (paths.root, checkout_of(paths, cwd))):
        suffix = "/" if target.path.endswith("/") else ""
        linked = relative_target(paths, str(real) + suffix, cwd)
        if linked is not None and linked != rel:
            out.append(linked)
    return out


def hardlink_refusal(paths: SquadPaths, target: Target, cwd: Path) -> Refusal | None:
    """A write into a file with several hard links changes every name of it, and squad cannot see
    the others (a hard link carries no pointer back): refused, as the issue's two-step bypass showed."""
    if target.via in _LINK_WRITERS or target.path.endswith("/"):
        return None
    real = landing(target, cwd)
    try:
        st = os.lstat(real)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_nlink < 2:
        return None
    shown = relative_target(paths, str(real), cwd) or str(real)
    reason = f"{shown} has {st.st_nlink} hard links: writing it changes files squad cannot see"
    return Refusal(shown, target.via, "hardlink", reason, fix="write a copy instead (cp, then mv over the link)")


# git commands that throw away uncommitted work: in the shared checkout they throw away everyone's
# (refused like any write), in an agent's own worktree only its own (allowed).
DISCARDS = {"git stash", "git reset", "git clean", "git restore", "git checkout"}


def own_worktree(paths: SquadPaths, cwd: Path) -> bool:
    """True when ``cwd`` is in a linked worktree of its own, not the checkout holding ``.squad/``."""
    checkout = checkout_of(paths, cwd)
    return checkout != paths.root and (checkout / ".git").is_file()


def relative_target(paths: SquadPaths, raw: str, cwd: Path) -> str | None:
    """``raw`` as a repo-relative path, or None when it is none of squad's business.

    Outside the repository (and its worktrees), inside ``.squad/`` or ``.git/`` (judged before,
    by ``squad_file_refusal`` and ``git_refusal``): None.
    """
    absolute = Path(os.path.normpath(cwd / raw))
    tops = _tops(paths, absolute, cwd)
    if not any(top == absolute or top in absolute.parents for top in tops):
        # The repository reached through a symlink (/tmp -> /private/tmp, a linked home): compare real paths.
        real = resolve_full(absolute.parent) / absolute.name
        if any(top == real or top in real.parents for top in tops):
            absolute = real
    text = str(absolute) + ("/" if raw.endswith("/") and str(absolute) != "/" else "")
    # A worktree nested inside the main checkout: its own top is the base, not the outer repository.
    inner = [t for t in tops if t != paths.root and t in absolute.parents]
    base = SquadPaths(max(inner, key=lambda t: len(t.parts))) if inner else paths
    try:
        rel = repo_relative(text, base, cwd=base.root)
    except SquadError:
        return None
    if _protected_part(rel) is not None:
        return None
    return rel


def _tops(paths: SquadPaths, absolute: Path, cwd: Path) -> tuple[Path, ...]:
    """The checkouts a path may be named from: the repository, the one ``cwd`` is in, and the
    squad worktree the path itself is in (a hook's cwd may be anywhere, /tmp included)."""
    key = ("tops", paths, absolute, cwd)
    if key not in _MEMO:
        _MEMO[key] = _find_tops(paths, absolute, cwd)
    found = _MEMO[key]
    assert isinstance(found, tuple)
    return found


def _find_tops(paths: SquadPaths, absolute: Path, cwd: Path) -> tuple[Path, ...]:
    tops = [paths.root, checkout_of(paths, cwd)]
    own = _checkout_holding(absolute)
    if own is not None and own not in tops and _belongs(paths, own):
        tops.append(own)
    return tuple(tops)


def _checkout_holding(absolute: Path) -> Path | None:
    for candidate in (absolute, *absolute.parents):
        if (candidate / ".git").exists() or (candidate / SQUAD_DIR_NAME).is_dir():
            return candidate
    return None


def _belongs(paths: SquadPaths, top: Path) -> bool:
    """``top`` is the squad's repository or one of its linked worktrees."""
    return top == paths.root or any(top == wt for wt, _ in linked_worktrees(paths))


def _protected_part(rel: str) -> str | None:
    """``.git`` or ``.squad`` when ``rel`` lies in one (at the top, or a ``.git`` at any depth)."""
    parts = rel.rstrip("/").split("/")
    if parts[0] == SQUAD_DIR_NAME:
        return SQUAD_DIR_NAME
    return ".git" if ".git" in parts else None


# Commands that leave git's files alone but switch squad's hook off (bash_commands names them so).
HOOK_BYPASSES = frozenset(
    {"git commit --no-verify", "git -c core.hooksPath", "git config core.hooksPath", "squad hooks uninstall"}
)


def git_refusal(paths: SquadPaths, target: Target, cwd: Path) -> Refusal | None:
    """Anything under ``.git/`` (hooks, config, refs): agents change git's files through git only."""
    absolute = Path(os.path.normpath(cwd / target.path))
    for candidate in (absolute, landing(target, cwd)):
        for top in _tops(paths, candidate, cwd):
            if top in candidate.parents or candidate == top:
                parts = candidate.relative_to(top).parts
                if ".git" in parts:
                    shown = "/".join(parts)
                    if target.via in HOOK_BYPASSES:  # a git command that would switch a hook off
                        reason = f"{target.via} would switch off squad's pre-commit check"
                        return Refusal(shown, target.via, "git", reason, fix="commit with the hooks on")
                    reason = f"{shown} is inside .git/: agents may not write git's own files"
                    return Refusal(shown, target.via, "git", reason, fix="use git commands instead")
    return None


# -- .squad/ itself ------------------------------------------------------------------------------

_OWN_FILE = {"comms": "comm", "parallel-plans": "plan"}
_CLAUDE_SETTINGS = (".claude/settings.json", ".claude/settings.local.json")


def squad_file_refusal(paths: SquadPaths, agent: str, target: Target, cwd: Path) -> Refusal | None:
    """``.squad/`` is squad's: an agent writes its own comm file and its own plan there, nothing else.

    Refused: the ownership matrix and ``config.yaml`` (an agent that rewrote them would grant itself
    anything), other agents' comm files and plans, ``locks/`` (leases go through ``squad lock``),
    ``logs/`` (the record of refusals), ``control/``, and the hook settings in ``.claude/`` that
    would switch the guard off. The path is judged as written and where its symlinks lead.
    """
    absolute = Path(os.path.normpath(cwd / target.path))
    for candidate in dict.fromkeys((absolute, landing(target, cwd))):
        refusal = _squad_refusal(paths, agent, target, candidate)
        if refusal is not None:
            return refusal
    return None


def _squad_refusal(paths: SquadPaths, agent: str, target: Target, candidate: Path) -> Refusal | None:
    for top in (paths.root, *(wt for wt, _ in linked_worktrees(paths))):
        if top in candidate.parents:
            rel = candidate.relative_to(top).as_posix()
            if rel in _CLAUDE_SETTINGS:
                reason = f"{rel} holds the hook that runs squad guard: agents may not change it"
                return Refusal(rel, target.via, "squad", reason, fix="ask the lead (a human) to change it")
    if not (candidate == paths.squad or paths.squad in candidate.parents):
        return None
    parts = candidate.relative_to(paths.squad).parts
    shown = "/".join((SQUAD_DIR_NAME, *parts)) + ("/" if not parts or target.path.endswith("/") else "")
    me = parse_agent_id(agent)
    if len(parts) == 2 and parts[0] in _OWN_FILE and me is not None:
        kind = _OWN_FILE[parts[0]]
        match = re.fullmatch(rf"agent-(\d+)-{kind}\.md", parts[1])
        if match and int(match.group(1)) == me.number:
            return None  # its own comm file or plan
        if match:
            owner = f"agent-{match.group(1)}"
            reason = f"{shown} is {owner}'s {kind} file: only {owner} writes it"
            fix = "write to your own comm file (`squad update`, `squad handoff`)"
            return Refusal(shown, target.via, "squad", reason, owner=owner, fix=fix)
    if parts and parts[0] == "locks":
        reason = f"{shown} is a lease file: agents take and release leases with squad lock / squad unlock"
        return Refusal(shown, target.via, "squad", reason, fix="use `squad lock PATH` / `squad unlock PATH`")
    if not parts or parts[0] in ("ownership.yaml", "config.yaml"):
        reason = f"{shown} is squad's own configuration: agents may not write it"
        return Refusal(shown, target.via, "squad", reason, fix="ask the lead (a human) to change it")
    reason = f"{shown} is squad's own: agents may write only their own comm file and plan in .squad/"
    return Refusal(shown, target.via, "squad", reason, fix="ask the lead (a human) to change it")


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
    """``(top, agent)`` of each linked worktree, read once per decision (see ``_linked_worktrees``)."""
    key = ("worktrees", paths)
    if key not in _MEMO:
        _MEMO[key] = _linked_worktrees(paths)
    found = _MEMO[key]
    assert isinstance(found, list)
    return found


def _linked_worktrees(paths: SquadPaths) -> list[tuple[Path, str | None]]:
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
