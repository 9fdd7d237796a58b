"""Leases under ``.squad/locks/``: acquire, release, renew and break, never two holders at once.

Every check-and-write runs under one mutex (``locks/.mutex``, an advisory ``flock`` taken the way
filelock takes it; the lease data never lives in the locked file). A new lease is an exclusive
create (O_EXCL), a renewal an atomic replace. Leases written by hand by agents (``LOCKED_BY:``
lines or YAML, possibly a flat ``locks/<basename>.lock``) take part like squad's own.

Hot path: stdlib only (json, os, fcntl). The holder's comm file is read, and the coordinator's
state code imported, only when a conflicting lease is met and its staleness must be judged.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from squad.atomic import create_exclusive, write_atomic
from squad.errors import Refused, SquadError
from squad.paths import LOCK_SUFFIX, SquadPaths
from squad.protocol.lease import Lease, lease_files, parse_lease, target_of
from squad.protocol.times import format_time, from_timestamp
from squad.protocol.times import now as utcnow

if TYPE_CHECKING:
    from squad.config import Config

__all__ = [
    "Broken",
    "LockHeld",
    "acquire",
    "break_lease",
    "break_stale",
    "conflicts",
    "held",
    "lease_stale_reason",
    "mutex",
    "release",
    "renew",
    "renew_all",
    "same_holder",
]

DEFAULT_TTL_S = 1800.0
_MAX_BACKOFF_S = 0.5


class LockHeld(Refused):
    """Another agent holds a conflicting live lease (exit 1)."""

    def __init__(self, target: str, lease: Lease) -> None:
        self.lease = lease
        self.target = target
        what = target if lease.path == target else f"{target} conflicts with {lease.path}, which"
        why = lease.reason or "no reason given"
        super().__init__(
            f"{what} is locked by {lease.agent} since {format_time(lease.acquired_at)} "
            f"until {format_time(lease.expires_at)} ({why})"
        )


@dataclass(frozen=True)
class Broken:
    lease: Lease
    reason: str
    moved_to: Path  # under .squad/locks/.broken/


# -- the mutex -------------------------------------------------------------------------------


# SquadPaths builds a new Path on every property access; pathlib was a measurable share of a
# lock+unlock pair, so the few paths on the hot path are computed once per squad.
@functools.lru_cache(maxsize=64)
def _mutex_file(paths: SquadPaths) -> str:
    return os.fspath(paths.lock_mutex)


@functools.lru_cache(maxsize=64)
def _locks_dir(paths: SquadPaths) -> Path:
    return paths.locks


@functools.lru_cache(maxsize=4096)
def _lease_file(paths: SquadPaths, target: str) -> Path:
    return paths.lease_file(target)


@contextlib.contextmanager
def mutex(paths: SquadPaths) -> Iterator[None]:
    """Hold the filelock mutex ``locks/.mutex``; every check-and-write of a lease runs inside it.

    One FileLock instance per path (``is_singleton``), so it is reentrant within a thread: the
    coordinator may call into this module while it already holds the mutex. The lease data never
    lives in the mutex file (filelock's Unix lock truncates the file it locks).
    """
    from filelock import FileLock

    _locks_dir(paths).mkdir(parents=True, exist_ok=True)
    with FileLock(_mutex_file(paths), is_singleton=True):
        yield


# -- targets ---------------------------------------------------------------------------------


def _parts(target: str) -> list[str]:
    return [p for p in target.strip("/").split("/") if p]


def conflicts(a: str, b: str) -> bool:
    """Same target, or one is a folder holding the other (component-wise: ``src`` vs ``src2/x`` is no conflict)."""
    if a.startswith("@") or b.startswith("@"):
        return a.lower() == b.lower()
    pa, pb = _parts(a), _parts(b)
    n = min(len(pa), len(pb))
    return n > 0 and pa[:n] == pb[:n]


def _same_target(a: str, b: str) -> bool:
    if a.startswith("@") or b.startswith("@"):
        return a.lower() == b.lower()
    return _parts(a) == _parts(b)


def same_holder(a: str, b: str) -> bool:
    """True when two holder names name one agent: by number (``agent-2``, ``Agent 2 (backend)``), else by text."""
    from squad.protocol.ids import mentioned_agent, parse_agent_id

    pa = parse_agent_id(a) or mentioned_agent(a)
    pb = parse_agent_id(b) or mentioned_agent(b)
    if pa is not None and pb is not None:
        return pa.number == pb.number
    return a.strip().lower() == b.strip().lower()


# -- settings --------------------------------------------------------------------------------

_TTL_RE = re.compile(r"^lock_ttl_s[ \t]*:(.*)$", re.MULTILINE)
_NUMBER_RE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*(?:#.*)?$")


def _default_ttl(paths: SquadPaths, config: Config | None) -> float:
    """``lock_ttl_s`` without importing yaml when the line is a plain number (the common case)."""
    if config is not None:
        return config.lock_ttl_s
    file = paths.config
    try:
        st = file.stat()
    except FileNotFoundError:
        return DEFAULT_TTL_S
    stamp = (os.fspath(file), st.st_ino, st.st_mtime_ns, st.st_size)
    cached = _TTL_CACHE.get(stamp[0])
    if cached is not None and cached[0] == stamp:
        return cached[1]
    ttl = _read_ttl(paths)
    _TTL_CACHE[stamp[0]] = (stamp, ttl)
    return ttl


_TTL_CACHE: dict[str, tuple[tuple[str, int, int, int], float]] = {}


def _read_ttl(paths: SquadPaths) -> float:
    try:
        text = paths.config.read_text(encoding="utf-8")
    except FileNotFoundError:
        return DEFAULT_TTL_S
    match = _TTL_RE.search(text)
    if match is None:
        return DEFAULT_TTL_S
    number = _NUMBER_RE.match(match.group(1))
    if number is not None and float(number.group(1)) > 0:
        return float(number.group(1))
    return _full_config(paths).lock_ttl_s  # let the real parser name the file and line


def _full_config(paths: SquadPaths) -> Config:
    from squad.config import load_config

    return load_config(paths.config)


# -- reading leases --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    file: Path
    lease: Lease | None  # None: an empty file (a create interrupted by a crash)
    text: str


def _read(file: Path, paths: SquadPaths, ttl: float) -> _Entry | None:
    try:
        text = file.read_text(encoding="utf-8")
        mtime = from_timestamp(file.stat().st_mtime)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not text.strip():
        return _Entry(file, None, text)
    return _Entry(file, parse_lease(text, file, target_of(file, _locks_dir(paths)), ttl, mtime), text)


def _scan(paths: SquadPaths, ttl: float) -> list[_Entry]:
    entries = []
    flat_index: dict[str, str] | None = None
    for file in lease_files(_locks_dir(paths)):
        entry = _read(file, paths, ttl)
        if entry is None:
            continue
        if entry.lease is not None and entry.lease.flat:
            if flat_index is None:
                flat_index = _basename_index(paths.root)
            resolved = flat_index.get(entry.lease.path, entry.lease.path)
            entry = replace(entry, lease=replace(entry.lease, path=resolved))
        entries.append(entry)
    return entries


def _basename_index(root: Path) -> dict[str, str]:
    """basename -> the one repo path with that name (a flat hand-written lease names a file so).

    A basename found at several paths maps to itself (the file at the root), as design says.
    """
    names = _repo_files(root)
    seen: dict[str, str | None] = {}
    for rel in names:
        base = rel.rsplit("/", 1)[-1]
        seen[base] = rel if base not in seen else None
    return {base: rel for base, rel in seen.items() if rel is not None}


def _repo_files(root: Path) -> list[str]:
    import subprocess

    try:
        result = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        result = None
    if result is not None and result.returncode == 0:
        return [n for n in result.stdout.decode("utf-8", "replace").split("\0") if n and not n.startswith(".squad/")]
    out: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".squad", "node_modules", ".venv", "__pycache__")]
        rel = Path(folder).relative_to(root).as_posix()
        out.extend(name if rel == "." else f"{rel}/{name}" for name in files)
    return out


def held(paths: SquadPaths, *, config: Config | None = None) -> list[Lease]:
    """Every current lease, hand-written ones included, stale or not. Never breaks anything."""
    ttl = _default_ttl(paths, config)
    return sorted((e.lease for e in _scan(paths, ttl) if e.lease is not None), key=lambda lease: lease.path)


# -- staleness -------------------------------------------------------------------------------


class _Judge:
    """Decides staleness, reading a holder's comm file only when asked (once per holder)."""

    def __init__(self, paths: SquadPaths, config: Config | None, now: datetime) -> None:
        self.paths = paths
        self._config = config
        self.now = now
        self._states: dict[str, object] = {}

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = _full_config(self.paths)
        return self._config

    def reason(self, entry: _Entry) -> str | None:
        if entry.lease is None:
            return "empty lease file (an interrupted create)"
        return lease_stale_reason(self.paths, entry.lease, self.now, self.config, self._states)


def lease_stale_reason(
    paths: SquadPaths,
    lease: Lease,
    now: datetime,
    config: Config,
    cache: dict[str, object] | None = None,
) -> str | None:
    """Why ``lease`` is stale (expired, holder DONE/FAILED or silent, holder pid gone), or None."""
    from squad.coordinator.state import AgentState, stale_reason

    if lease.expired(now):
        return stale_reason(lease, None, now, config)
    key = lease.agent.lower()
    cache = cache if cache is not None else {}
    if key not in cache:
        cache[key] = _holder_state(paths, lease.agent, now)
    holder = cache[key]
    return stale_reason(lease, holder if isinstance(holder, AgentState) else None, now, config)


def _holder_state(paths: SquadPaths, agent: str, now: datetime) -> object:
    from squad.coordinator.state import agent_state
    from squad.protocol.comm import read_comm
    from squad.protocol.ids import mentioned_agent, parse_agent_id

    parsed = parse_agent_id(agent) or mentioned_agent(agent)
    if parsed is None:
        return None
    comm_file = paths.comm(parsed.number)
    if not comm_file.exists():
        return None
    comm = read_comm(comm_file, paths.display(comm_file))
    return agent_state(str(parsed), comm, None, now)


# -- breaking --------------------------------------------------------------------------------


def _broken_name(paths: SquadPaths, lease_path: str, now: datetime) -> Path:
    slug = re.sub(r"[^A-Za-z0-9@._-]+", "__", lease_path.strip("/")) or "lease"
    stamp = now.strftime("%Y%m%dT%H%M%S.%f")
    paths.broken_locks.mkdir(parents=True, exist_ok=True)
    candidate = paths.broken_locks / f"{slug}.{stamp}{LOCK_SUFFIX}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = paths.broken_locks / f"{slug}.{stamp}-{n}{LOCK_SUFFIX}"
    return candidate


def _annotate(text: str, reason: str, now: datetime, by: str | None) -> str:
    import json

    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            data["broken"] = {"at": format_time(now, precise=True), "reason": reason, "by": by}
            return json.dumps(data, indent=2) + "\n"
    tail = f"BROKEN_AT: {format_time(now)}\nBROKEN_REASON: {' '.join(reason.split())}\n"
    if by:
        tail += f"BROKEN_BY: {by}\n"
    return (text if text.endswith("\n") or not text else text + "\n") + tail


def _break(paths: SquadPaths, entry: _Entry, reason: str, now: datetime, by: str | None, *, forced: bool) -> Broken:
    """Move a lease to ``locks/.broken/`` with the reason, and log ``lock_broken``. Caller holds the mutex."""
    from squad.protocol import events as ev

    lease = entry.lease or Lease(
        agent="unknown",
        path=target_of(entry.file, _locks_dir(paths)),
        acquired_at=now,
        expires_at=now,
        ttl_s=0.0,
    )
    moved = _broken_name(paths, lease.path, now)
    entry.file.replace(moved)
    # Annotate what was actually moved, so the record shows the lease exactly as it was broken.
    write_atomic(moved, _annotate(moved.read_text(encoding="utf-8"), reason, now, by))
    _prune(paths, entry.file.parent)
    ev.append_event(
        paths.events,
        ev.Event(
            kind=ev.LOCK_BROKEN,
            at=now,
            agent=lease.agent,
            path=lease.path,
            detail=reason,
            data={"by": by, "forced": forced, "moved_to": paths.display(moved)},
        ),
    )
    return Broken(lease, reason, moved)


def _prune(paths: SquadPaths, folder: Path) -> None:
    """Remove folders under ``locks/`` emptied by a release. Caller holds the mutex."""
    locks = _locks_dir(paths)
    while folder != locks and locks in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


# -- the API ---------------------------------------------------------------------------------


def acquire(
    paths: SquadPaths,
    agent: str,
    target: str,
    *,
    ttl_s: float | None = None,
    wait_s: float = 0.0,
    reason: str | None = None,
    pid: int | None = None,
    config: Config | None = None,
) -> Lease:
    """Take (or renew) ``agent``'s lease on ``target``; LockHeld when another live lease conflicts.

    Conflicting stale leases are broken on the way. With ``wait_s`` the call waits, sleeping with
    backoff, for the holder to let go; a wait is logged as a ``lock_wait`` event.
    """
    pid = (
        pid
        if pid is not None
        else (int(os.environ["SQUAD_AGENT_PID"]) if os.environ.get("SQUAD_AGENT_PID", "").isdigit() else None)
    )  # a launched agent (squad launch)
    ttl = ttl_s if ttl_s is not None else _default_ttl(paths, config)
    if ttl <= 0:
        raise SquadError(f"ttl must be a positive number of seconds, not {ttl}")
    started = time.monotonic()
    deadline = started + max(0.0, wait_s)
    delay = 0.01
    waited = False
    while True:
        try:
            lease = _try_acquire(paths, agent, target, ttl, reason, pid, config)
        except LockHeld:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if waited:
                    _log_wait(paths, agent, target, time.monotonic() - started, granted=False)
                raise
            waited = True
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, _MAX_BACKOFF_S)
            continue
        if waited:
            _log_wait(paths, agent, target, time.monotonic() - started, granted=True)
        return lease


def _log_wait(paths: SquadPaths, agent: str, target: str, waited_s: float, *, granted: bool) -> None:
    from squad.protocol import events as ev

    ev.append_event(
        paths.events,
        ev.Event(
            kind=ev.LOCK_WAIT,
            at=utcnow(),
            agent=agent,
            path=target,
            detail="granted" if granted else "timed out",
            data={"waited_s": round(waited_s, 3), "granted": granted},
        ),
    )


def _try_acquire(
    paths: SquadPaths,
    agent: str,
    target: str,
    ttl: float,
    reason: str | None,
    pid: int | None,
    config: Config | None,
) -> Lease:
    with mutex(paths):
        now = utcnow()
        judge = _Judge(paths, config, now)
        own: _Entry | None = None
        for entry in _scan(paths, ttl):
            lease_path = entry.lease.path if entry.lease else target_of(entry.file, _locks_dir(paths))
            if not conflicts(lease_path, target):
                continue
            if entry.lease is not None and same_holder(entry.lease.agent, agent):
                if _same_target(lease_path, target):
                    own = entry
                continue  # an agent's own leases never block it
            why = judge.reason(entry)
            if why is None:
                assert entry.lease is not None
                raise LockHeld(target, entry.lease)
            _break(paths, entry, why, now, by=agent, forced=False)
        if own is not None and own.lease is not None:
            lease = own.lease.renewed(now, ttl)
            if reason:
                lease = replace(lease, reason=reason)
            if pid is not None:
                lease = replace(lease, pid=pid)
            write_atomic(own.file, _to_text(lease))
            return lease
        lease = Lease(
            agent=agent,
            path=target,
            acquired_at=now,
            expires_at=now + timedelta(seconds=ttl),
            ttl_s=ttl,
            reason=reason,
            host=_hostname(),
            pid=pid,
        )
        file = _lease_file(paths, target)
        if not create_exclusive(file, lease.to_json(), fsync=False):
            # A file we could not read as a conflicting lease (e.g. a folder lease written as
            # ``shared.lock`` next to a file named ``shared``): refuse rather than overwrite.
            raise SquadError(f"cannot create {paths.display(file)}: it exists and is not a lease for {target}")
        return lease


def _hostname() -> str:
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket  # pragma: no cover - Windows

    return socket.gethostname()


def _to_text(lease: Lease) -> str:
    if not lease.hand_written:
        return lease.to_json()
    # A hand-written lease renewed by squad becomes squad's JSON, keeping what it said.
    return replace(lease, hand_written=False, flat=False).to_json()


def _find(paths: SquadPaths, target: str, ttl: float) -> _Entry | None:
    """The lease file standing for exactly ``target`` (its mirrored file, or a flat hand-written one)."""
    file = _lease_file(paths, target)
    if file.is_file():
        entry = _read(file, paths, ttl)
        if entry is not None:
            return entry
    for entry in _scan(paths, ttl):
        lease_path = entry.lease.path if entry.lease else target_of(entry.file, _locks_dir(paths))
        if _same_target(lease_path, target):
            return entry
    return None


def release(paths: SquadPaths, agent: str, target: str, *, force: bool = False) -> Lease:
    """Drop ``agent``'s lease on ``target``; ``force`` breaks another agent's (logged).

    A lease naming ``HANDOFF_TO`` tells that agent (a coordinator notice and an event).
    """
    with mutex(paths):
        now = utcnow()
        entry = _find(paths, target, _default_ttl(paths, None))
        if entry is None:
            raise Refused(f"no lease on {target}")
        lease = entry.lease
        if lease is None or not same_holder(lease.agent, agent):
            if not force:
                if lease is None:
                    raise Refused(f"the lease file for {target} is empty: use --force to remove it")
                raise LockHeld(target, lease)
            return _break(paths, entry, f"forced release by {agent}", now, by=agent, forced=True).lease
        entry.file.unlink()
        _prune(paths, entry.file.parent)
    if lease.handoff_to:
        _tell_handoff(paths, lease, agent, now)
    return lease


def _tell_handoff(paths: SquadPaths, lease: Lease, agent: str, now: datetime) -> None:
    from squad.atomic import append_lines
    from squad.protocol import events as ev
    from squad.protocol.comm import format_notice

    to = lease.handoff_to or ""
    text = f"{agent} released {lease.path}; it is handed to {to}"
    append_lines(paths.coordinator_comm, format_notice(to_agent=to, at=now, kind="handoff", text=text))
    ev.append_event(
        paths.events,
        ev.Event(kind=ev.LOCK_RELEASED, at=now, agent=agent, path=lease.path, detail=text, data={"handoff_to": to}),
    )


def renew(paths: SquadPaths, agent: str, target: str, *, ttl_s: float | None = None) -> Lease:
    """Push out the expiry of ``agent``'s own lease on ``target``; Refused when it holds none."""
    with mutex(paths):
        now = utcnow()
        entry = _find(paths, target, _default_ttl(paths, None))
        if entry is None or entry.lease is None:
            raise Refused(f"{agent} holds no lease on {target}")
        if not same_holder(entry.lease.agent, agent):
            raise LockHeld(target, entry.lease)
        lease = entry.lease.renewed(now, ttl_s)
        write_atomic(entry.file, _to_text(lease))
        return lease


def renew_all(paths: SquadPaths, agent: str, now: datetime) -> list[Lease]:
    """Renew every lease ``agent`` holds (a status update of the holder renews its leases)."""
    if not any(lease_files(_locks_dir(paths))):
        return []
    ttl = _default_ttl(paths, None)
    if not any(e.lease is not None and same_holder(e.lease.agent, agent) for e in _scan(paths, ttl)):
        return []
    renewed = []
    with mutex(paths):
        for entry in _scan(paths, ttl):
            if entry.lease is None or not same_holder(entry.lease.agent, agent):
                continue
            lease = entry.lease.renewed(now)
            write_atomic(entry.file, _to_text(lease))
            renewed.append(lease)
    return renewed


def break_stale(paths: SquadPaths, now: datetime, *, config: Config | None = None) -> list[Broken]:
    """Break every stale lease (expired, holder DONE/FAILED or silent, holder pid gone)."""
    broken = []
    with mutex(paths):
        judge = _Judge(paths, config, now)
        for entry in _scan(paths, _default_ttl(paths, config)):
            why = judge.reason(entry)
            if why is not None:
                broken.append(_break(paths, entry, why, now, by=None, forced=False))
    return broken


def break_lease(paths: SquadPaths, target: str, reason: str, *, now: datetime, by: str | None = None) -> Broken | None:
    """Break the lease on exactly ``target`` whatever its state (deadlocks, ``--force``); None if none."""
    with mutex(paths):
        entry = _find(paths, target, _default_ttl(paths, None))
        if entry is None:
            return None
        return _break(paths, entry, reason, now, by=by, forced=True)
