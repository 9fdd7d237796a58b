"""The repository root, the ``.squad/`` tree named in one place, and path normalisation."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from squad.errors import NotInitialised, SquadError

SQUAD_DIR_NAME = ".squad"
RESOURCE_RE = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9._-]*$")
LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class SquadPaths:
    """Every path of the ``.squad/`` tree, rooted at the repository that holds it.

    Each path is built once per instance (``cached_property``): leases and the coordinator ask
    for the same few many times a second.
    """

    root: Path

    @cached_property
    def squad(self) -> Path:
        return self.root / SQUAD_DIR_NAME

    @cached_property
    def config(self) -> Path:
        return self.squad / "config.yaml"

    @cached_property
    def prd(self) -> Path:
        return self.squad / "feature-prd.md"

    @cached_property
    def ownership(self) -> Path:
        return self.squad / "ownership.yaml"

    @cached_property
    def plans(self) -> Path:
        return self.squad / "parallel-plans"

    @cached_property
    def comms(self) -> Path:
        return self.squad / "comms"

    @cached_property
    def coordinator_comm(self) -> Path:
        return self.comms / "coordinator-comm.md"

    @cached_property
    def locks(self) -> Path:
        return self.squad / "locks"

    @cached_property
    def broken_locks(self) -> Path:
        return self.locks / ".broken"

    @cached_property
    def lock_mutex(self) -> Path:
        # Never the lease file itself (filelock truncates the file it locks), and never inside
        # locks/: filelock 4.x makes short-lived scratch files beside the file it locks, and the
        # coordinator must see only leases there.
        return self.control / "locks.mutex"

    @cached_property
    def fence_counter(self) -> Path:
        """The last fencing token granted on the files backend (written under the lease mutex)."""
        return self.control / "fence"

    @cached_property
    def logs(self) -> Path:
        return self.squad / "logs"

    @cached_property
    def events(self) -> Path:
        return self.logs / "events.jsonl"

    @cached_property
    def grant_log(self) -> Path:
        """Every lease granted on the files backend, with its fencing token (``squad merge`` reads it)."""
        return self.logs / "grants.jsonl"

    @cached_property
    def lost_log(self) -> Path:
        """Leases their holder lost (expired, broken, taken) and was told of, once each."""
        return self.logs / "lost.jsonl"

    @cached_property
    def lease_log(self) -> Path:
        """Released leases, one JSON line each: a restarted coordinator judges a report by the
        leases its agent held when it wrote it, even one unlocked since."""
        return self.logs / "leases.jsonl"

    @cached_property
    def reports(self) -> Path:
        return self.squad / "reports"

    @cached_property
    def snapshot_cache(self) -> Path:
        """The coordinator's last snapshot, with what it read of each file (``squad status`` reuses it)."""
        return self.reports / "snapshot.json"

    @cached_property
    def status_report(self) -> Path:
        return self.reports / "status.md"

    @cached_property
    def control(self) -> Path:
        return self.squad / "control"

    @cached_property
    def pause_flag(self) -> Path:
        return self.control / "pause.flag"

    @cached_property
    def allocation(self) -> Path:
        """What `squad allocate --json` printed: the coordinator reads its prediction."""
        return self.squad / "allocation.json"

    @cached_property
    def allocate_mutex(self) -> Path:
        return self.control / "allocate.mutex"

    @cached_property
    def coordinator_pid(self) -> Path:
        return self.control / "coordinator.pid"

    @cached_property
    def coordinator_lock(self) -> Path:
        return self.control / "coordinator.lock"

    @cached_property
    def coordinator_state(self) -> Path:
        """Which comm blocks the coordinator judged already, kept across restarts."""
        return self.control / "coordinator.state"

    @cached_property
    def coordinator_log(self) -> Path:
        return self.logs / "coordinator.log"

    @cached_property
    def launch_report(self) -> Path:
        """The launcher's view of its agents (state, productivity): the monitor shows it."""
        return self.reports / "launch.json"

    @cached_property
    def launch_pid(self) -> Path:
        return self.control / "launch.pid"

    @cached_property
    def launch_stop(self) -> Path:
        return self.control / "launch.stop"

    @cached_property
    def launch_setup_marks(self) -> Path:
        return self.control / "launch-setup"

    def agent_log(self, agent: str) -> Path:
        """A launched agent's output."""
        return self.logs / f"{agent}.log"

    def plan(self, number: int) -> Path:
        return self.plans / f"agent-{number}-plan.md"

    def comm(self, number: int) -> Path:
        return self.comms / f"agent-{number}-comm.md"

    def lease_file(self, target: str) -> Path:
        """The lease file for a repo-relative path or an ``@resource`` name."""
        return self.locks / f"{target.rstrip('/')}{LOCK_SUFFIX}"

    def folders(self) -> tuple[Path, ...]:
        return (self.plans, self.comms, self.locks, self.logs, self.reports, self.control)

    def display(self, path: Path) -> str:
        """``path`` relative to the repository root when inside it, for messages."""
        text, root = str(path), str(self.root)
        if text.startswith(root) and text[len(root) : len(root) + 1] == os.sep:  # lexical, as relative_to
            return text[len(root) + 1 :].replace(os.sep, "/")
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return text


def _main_checkout_of_worktree(candidate: Path) -> Path | None:
    """For a linked git worktree (``.git`` is a file), the main checkout it belongs to."""
    git = candidate / ".git"
    if not git.is_file():
        return None
    try:
        text = git.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    gitdir = Path(text.removeprefix("gitdir:").strip())
    if not gitdir.is_absolute():
        gitdir = (candidate / gitdir).resolve()
    commondir_file = gitdir / "commondir"
    try:
        common = Path(commondir_file.read_text(encoding="utf-8").strip())
    except OSError:
        return None
    if not common.is_absolute():
        common = (gitdir / common).resolve()
    return common.parent


def find_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.squad/``.

    ``$SQUAD_ROOT`` overrides the search. A linked git worktree without its own ``.squad/``
    uses its main checkout's, so launched agents share one squad.
    """
    env = os.environ.get("SQUAD_ROOT")
    if env:
        root = Path(env).expanduser().resolve()
        return root if (root / SQUAD_DIR_NAME).is_dir() else None
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / SQUAD_DIR_NAME).is_dir():
            return candidate
        main = _main_checkout_of_worktree(candidate)
        if main is not None and (main / SQUAD_DIR_NAME).is_dir():
            return main
    return None


def find_project_root(start: Path | None = None) -> Path:
    """Where ``squad init`` should create ``.squad/``: an existing squad, else the git top."""
    existing = find_root(start)
    if existing is not None:
        return existing
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return here


def work_root(start: Path | None = None) -> Path:
    """The top of the checkout (main or worktree) that ``start`` is in."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists() or (candidate / SQUAD_DIR_NAME).is_dir():
            return candidate
    return here


def require_paths(start: Path | None = None) -> SquadPaths:
    root = find_root(start)
    if root is None:
        raise NotInitialised("no .squad/ folder here or above: run `squad init` first")
    return SquadPaths(root)


def strip_path(text: str) -> str:
    """Normalise a path written by an agent: no backticks or quotes, no leading ``/`` or ``./``."""
    text = text.strip().strip("`'\"").strip()
    while text.startswith("./"):
        text = text[2:]
    if text.startswith("/"):
        text = text.lstrip("/")
    return text


def is_resource(target: str) -> bool:
    return target.startswith("@")


def repo_relative(target: str, paths: SquadPaths, cwd: Path | None = None) -> str:
    """Normalise a path given on the command line or in a hook to a repo-relative POSIX path.

    Accepted: relative paths (against ``cwd``), absolute paths inside the repository or the
    checkout ``cwd`` is in (a worktree), and ``/x/y`` written repo-relative when ``x`` exists
    at the repository top (the ai-agent-hub convention). Refused with a one-line reason:
    ``..`` escapes, absolute paths outside, and symlinks that resolve outside.
    A trailing ``/`` is kept: it names a folder.
    """
    if is_resource(target):
        if not RESOURCE_RE.match(target):
            raise SquadError(f"bad resource name {target!r}: use @ and letters, digits, . _ -")
        return target
    raw = target.strip()
    if not raw:
        raise SquadError("empty path")
    folder = raw.endswith("/") and raw != "/"
    cwd = (cwd or Path.cwd()).resolve()
    roots = [paths.root.resolve()]
    checkout = work_root(cwd)
    if checkout not in roots:
        roots.append(checkout)
    candidate = Path(raw)
    if candidate.is_absolute():
        first = PurePosixPath(raw).parts[1] if len(PurePosixPath(raw).parts) > 1 else ""
        inside = any(_is_within(Path(os.path.normpath(raw)), r) for r in roots)
        # "/shared/types/x.ts" as ai-agent-hub agents write it: repo-relative, since /shared is no
        # folder of this machine. "/etc/passwd" or "/tmp/x" stay absolute, and are refused below.
        if not inside and first and not Path("/", first).exists():
            candidate = roots[0] / raw.lstrip("/")
        absolute = Path(os.path.normpath(candidate))
    else:
        absolute = Path(os.path.normpath(cwd / candidate))
    # The deepest root wins: a worktree inside the main checkout (.worktrees/agent-2) names its
    # files from its own top, not as .worktrees/agent-2/... of the main one.
    base = max((r for r in roots if _is_within(absolute, r)), key=lambda r: len(r.parts), default=None)
    if base is None:
        raise SquadError(f"path {target!r} is outside the repository {roots[0]}")
    resolved = absolute.resolve()
    if not any(_is_within(resolved, r) for r in roots):
        raise SquadError(f"path {target!r} resolves through a symlink to {resolved}, outside the repository")
    rel = absolute.relative_to(base).as_posix()
    if rel in ("", "."):
        raise SquadError(f"path {target!r} is the repository root itself")
    if rel.split("/")[0] == SQUAD_DIR_NAME:
        raise SquadError(f"path {target!r} is inside .squad/, which squad manages itself")
    return rel + "/" if folder or (absolute.is_dir() and not absolute.is_symlink()) else rel


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


NAME_MAX = 255  # bytes in one file name (ext4, APFS, ...): longer names cannot exist, nor be locked
PATH_MAX = 4096


def checked_path(target: str, paths: SquadPaths, cwd: Path | None = None) -> str:
    """The one door for paths given on the command line (``lock``, ``unlock``, ``check``,
    ``handoff --file``, ``update --files``): a repo-relative path, or a one-line ``SquadError``.

    Refused: control characters (a newline would inject lines into a comm file), a path through
    a symlink loop, a name longer than a file system allows, and a path that resolves (through
    symlinks) into ``.squad/`` or ``.git/``. A path reached through a symlink inside the repository
    is named by the file it reaches, so two agents naming one file by two names meet on one lease.
    """
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        raise SquadError(f"path {target!r} contains a control character")
    if is_resource(target):
        return repo_relative(target, paths, cwd)
    for name in PurePosixPath(target.strip()).parts:
        if len(name.encode("utf-8", "surrogateescape")) > NAME_MAX:
            size = len(name.encode("utf-8", "surrogateescape"))
            raise SquadError(f"name {name[:40]}... is {size} bytes: a file name may have at most {NAME_MAX}")
    if len(target.encode("utf-8", "surrogateescape")) > PATH_MAX:
        raise SquadError(f"path of {len(target.encode('utf-8', 'surrogateescape'))} bytes: at most {PATH_MAX}")
    here = (cwd or Path.cwd()).resolve()
    given = Path(os.path.normpath(here / target.strip()))
    try:
        real = given.resolve()  # a loop: RuntimeError before 3.13, OSError (ELOOP) from 3.13
    except (RuntimeError, OSError) as exc:
        raise SquadError(f"path {target!r} cannot be resolved: symlink loop or unreadable folder ({exc})") from None
    rel = repo_relative(target, paths, here)
    if real == given:
        return _not_protected(rel, target)
    try:
        linked = repo_relative(str(real) + ("/" if rel.endswith("/") else ""), paths, here)
    except SquadError as exc:
        if real == paths.squad.resolve() or paths.squad.resolve() in real.parents:
            raise SquadError(f"path {target!r} resolves through a symlink into .squad/, squad's own") from None
        raise exc from None
    return _not_protected(linked, target)


def _not_protected(rel: str, target: str) -> str:
    if ".git" in rel.rstrip("/").split("/"):
        raise SquadError(f"path {target!r} is inside .git/, which git manages itself")
    return rel
