"""Leases under ``.squad/locks/``: acquire, release, renew and break, never two holders at once.

Every check-and-write runs under one mutex: filelock's lock on ``control/locks.mutex`` (the
lease data never lives in the locked file: filelock's Unix lock truncates it; and no scratch file of
filelock's ever lands in ``locks/``, where the coordinator must see only leases). A new lease is an
exclusive create (O_EXCL), a renewal an atomic replace. Leases written by hand by agents
(``LOCKED_BY:`` lines or YAML, possibly a flat ``locks/<basename>.lock``) take part like squad's
own. Reading leases lives in ``squad.leases._scan``, staleness and breaking in ``squad.leases._stale``,
the ``--wait`` watcher in ``squad.leases._wait``.

Hot path: stdlib and filelock only. The holder's comm file is read, and the coordinator's state
code imported, only when a conflicting lease is met and its staleness must be judged.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from squad.atomic import create_exclusive, write_atomic
from squad.errors import Refused, SquadError
from squad.leases._scan import (
    DEFAULT_TTL_S,
    Entry,
    default_ttl,
    fence_file,
    lease_file,
    locks_dir,
    mutex_file,
    read_entry,
    scan,
)
from squad.leases._stale import Broken, Judge, break_entry, hostname, lease_stale_reason, tell_handoff
from squad.paths import SquadPaths
from squad.protocol.lease import Lease, lease_files
from squad.protocol.times import format_time
from squad.protocol.times import now as utcnow

if TYPE_CHECKING:
    from squad.config import Config
    from squad.leases.etcd import EtcdLeases

__all__ = [
    "Broken",
    "LockHeld",
    "Survey",
    "acquire",
    "break_lease",
    "break_stale",
    "conflicts",
    "held",
    "lease_stale_reason",
    "mutex",
    "prune_empty",
    "release",
    "released_since",
    "renew",
    "renew_all",
    "same_holder",
    "survey",
]

MAX_TTL_S = 366 * 24 * 3600.0  # a lease is a turn at a file, not a deed: a year is already absurd
# A release wakes a waiter through the watch on locks/; the timer only catches leases that go
# stale with no file changing (holder DONE, pid gone), so it may back off this far.
_MAX_BACKOFF_S = 2.0


class LockHeld(Refused):
    """Another agent holds a conflicting live lease (exit 1)."""

    def __init__(self, target: str, lease: Lease) -> None:
        self.lease = lease
        self.target = target
        what = target if lease.path == target else f"{target} conflicts with {lease.path}, which"
        why = " ".join((lease.reason or "").split()) or "no reason given"  # one line, whatever was written
        super().__init__(
            f"{what} is locked by {lease.agent} since {format_time(lease.acquired_at)} "
            f"until {format_time(lease.expires_at)} ({why})"
        )


@dataclass(frozen=True)
class Survey:
    """Every lease file: the readable leases, and the errors of those that cannot be read."""

    leases: tuple[Lease, ...]
    unreadable: tuple[tuple[str, SquadError], ...]  # (the path the file stands for, why)

    def error_for(self, path: str) -> SquadError | None:
        """The error of an unreadable lease that may cover ``path`` (None when none does)."""
        return next((err for target, err in self.unreadable if conflicts(target, path)), None)


# -- the store -------------------------------------------------------------------------------


def _remote(paths: SquadPaths) -> EtcdLeases | None:
    """The etcd leases when the squad's store is etcd (``squad.store``); None for the files."""
    from squad.store import store_of

    store = store_of(paths)
    if store.kind == "files":
        return None
    from squad.leases.etcd import leases_for

    return leases_for(paths, store)


# -- the mutex -------------------------------------------------------------------------------


@contextlib.contextmanager
def mutex(paths: SquadPaths) -> Iterator[None]:
    """Hold the filelock mutex ``control/locks.mutex``; every check-and-write of a lease runs inside it.

    Reentrant within a thread (the coordinator may call into this module while it already holds
    it), exclusive between threads and between processes.
    """
    lock = _mutex_lock(paths)
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


class _DescriptorMutex:
    """The mutex through filelock's descriptor lock (``lock_descriptor``, filelock >= 3.30): the
    same lock a ``FileLock`` on the file takes, at a few microseconds a pair where
    ``FileLock.acquire`` spends hundreds (path canonicalisation, fork bookkeeping, ownership probes).

    One descriptor per process, opened on first use and again in a forked child (a child
    sharing its parent's open file would share its lock); a thread lock on top, since a lock
    on one descriptor does not exclude the process's other threads.
    """

    def __init__(self, file: str) -> None:
        self._file = file
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd = -1
        self._identity = (0, 0)
        self._pid = 0

    def acquire(self) -> None:
        self._thread_lock.acquire()
        try:
            if self._depth == 0:
                self._lock_descriptor()
            self._depth += 1
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                from filelock import unlock_descriptor

                unlock_descriptor(self._fd)
        finally:
            self._thread_lock.release()

    def _lock_descriptor(self) -> None:
        from filelock import lock_descriptor

        if self._pid != os.getpid():
            self._reopen()
        while True:
            delay = 0.0005
            while not lock_descriptor(self._fd, blocking=False):
                time.sleep(delay)
                delay = min(delay * 2, 0.02)
            if self._still_the_file():
                return
            # The file was removed or replaced (control/ deleted by hand) while we held it open:
            # a lock on the old inode excludes nobody. Take the file that is there now.
            from filelock import unlock_descriptor

            unlock_descriptor(self._fd)
            self._reopen()

    def _still_the_file(self) -> bool:
        try:
            on_disk = os.stat(self._file)  # noqa: PTH116 - str path, on every acquire
        except FileNotFoundError:
            return False
        return (on_disk.st_ino, on_disk.st_dev) == self._identity

    def _reopen(self) -> None:
        if self._fd >= 0:  # inherited across fork: closing the child's copy leaves the parent's lock alone
            os.close(self._fd)
            self._fd = -1
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd = os.open(self._file, flags, 0o644)
        except FileNotFoundError:  # control/ removed by hand
            Path(self._file).parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self._file, flags, 0o644)
        held = os.fstat(self._fd)
        self._identity = (held.st_ino, held.st_dev)
        self._pid = os.getpid()
        self._depth = 0


def _after_fork_in_child() -> None:
    # A thread of the parent may have held a mutex at the fork: the child starts with none held.
    for lock in _descriptor_mutexes:
        lock._thread_lock = threading.RLock()
        lock._depth = 0


_descriptor_mutexes: list[_DescriptorMutex] = []
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@functools.lru_cache(maxsize=64)
def _mutex_lock(paths: SquadPaths) -> _DescriptorMutex:
    lock = _DescriptorMutex(mutex_file(paths))
    _descriptor_mutexes.append(lock)
    return lock


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


def _check_target(target: str) -> str:
    """The library's last line of defence (the CLI normalises through ``repo_relative``): a lease
    file must land under ``locks/``, whatever a caller passes."""
    if not target or target.startswith("/") or ".." in target.split("/") or "\0" in target:
        raise SquadError(f"bad lease target {target!r}: use a repository-relative path or @resource")
    return target


def _check_ttl(ttl: float) -> float:
    if not math.isfinite(ttl) or ttl <= 0 or ttl > MAX_TTL_S:
        raise SquadError(f"ttl must be a positive number of seconds up to {MAX_TTL_S:.0f}, not {ttl:g}")
    return ttl


def _blocking(entry: Entry, target: str) -> SquadError:
    """An unreadable lease in the way: nobody can tell whether it is live, so say how to clear it."""
    err = entry.error
    assert err is not None
    return SquadError(
        f"{err.message}; it may lock {entry.target}, so {target} cannot be judged: fix the file "
        f"or remove it with `squad unlock --force {entry.target}`",
        path=err.path,
        line=err.line,
    )


# -- reading ---------------------------------------------------------------------------------


def held(paths: SquadPaths, *, config: Config | None = None) -> list[Lease]:
    """Every current lease, hand-written ones included, stale or not. Never breaks anything.

    Raises the error of the first lease file that cannot be read; ``survey`` reads past them.
    """
    found = survey(paths, config=config)
    if found.unreadable:
        raise found.unreadable[0][1]
    return list(found.leases)


def survey(paths: SquadPaths, *, config: Config | None = None) -> Survey:
    """Every lease (sorted by path) and every unreadable lease file, without raising."""
    remote = _remote(paths)
    if remote is not None:
        return remote.survey()
    entries = scan(paths, default_ttl(paths, config))
    leases = sorted((e.lease for e in entries if e.lease is not None), key=lambda lease: lease.path)
    unreadable = tuple((e.target, e.error) for e in entries if e.error is not None)
    return Survey(tuple(leases), unreadable)


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
    on_wait: Callable[[Lease], None] | None = None,
) -> Lease:
    """Take (or renew) ``agent``'s lease on ``target``; LockHeld when another live lease conflicts.

    Conflicting stale leases are broken on the way. With ``wait_s`` the call waits for the holder
    to let go, retrying when ``locks/`` changes (a cheap stat every 50 ms, see ``squad.leases._wait``)
    and on a backoff timer for leases that go stale with no file changing; a wait is logged as a
    ``lock_wait`` event. ``on_wait`` is told the lease in the way, once, when the wait begins.
    """
    if pid is None and os.environ.get("SQUAD_AGENT_PID", "").isdigit():
        pid = int(os.environ["SQUAD_AGENT_PID"])  # a launched agent (squad launch)
    _check_target(target)
    ttl = _check_ttl(ttl_s if ttl_s is not None else default_ttl(paths, config))
    if math.isnan(wait_s):
        raise SquadError("wait must be a number of seconds, not nan")
    remote = _remote(paths)
    if remote is not None:
        began = time.monotonic()
        waited: list[Lease] = []

        def waiting(lease: Lease) -> None:
            waited.append(lease)
            if on_wait is not None:
                on_wait(lease)

        try:
            lease = remote.acquire(
                agent, target, ttl=ttl, wait_s=wait_s, reason=reason, pid=pid, host=hostname(), on_wait=waiting
            )
        except LockHeld:
            if waited:  # a wait is logged on both stores, granted or not
                _log_wait(paths, agent, target, time.monotonic() - began, granted=False)
            raise
        if waited:
            _log_wait(paths, agent, target, time.monotonic() - began, granted=True)
        return lease
    started = time.monotonic()
    deadline = started + max(0.0, wait_s)
    watch = None
    try:
        delay = 0.05
        while True:
            try:
                lease = _try_acquire(paths, agent, target, ttl, reason, pid, config)
            except LockHeld as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if watch is not None:
                        _log_wait(paths, agent, target, time.monotonic() - started, granted=False)
                    raise
                if watch is None:
                    from squad.leases._wait import LocksWatch

                    watch = LocksWatch(locks_dir(paths))
                    if on_wait is not None:
                        on_wait(exc.lease)
                    continue  # a release may have landed before the watch began: look again
                until_expiry = (exc.lease.expires_at - utcnow()).total_seconds() + 0.01
                if not watch.wait(min(delay, remaining, max(0.01, until_expiry))):
                    delay = min(delay * 2, _MAX_BACKOFF_S)
                continue
            if watch is not None:
                _log_wait(paths, agent, target, time.monotonic() - started, granted=True)
            return lease
    finally:
        if watch is not None:
            watch.close()


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
        judge = Judge(paths, config, now)
        own: Entry | None = None
        for entry in scan(paths, ttl):
            if not conflicts(entry.target, target):
                continue
            if entry.error is not None:
                raise _blocking(entry, target)
            if entry.lease is not None and same_holder(entry.lease.agent, agent):
                if _same_target(entry.target, target):
                    own = entry
                continue  # an agent's own leases never block it
            why = judge.reason(entry)
            if why is None:
                assert entry.lease is not None
                raise LockHeld(target, entry.lease)
            break_entry(paths, entry, why, now, by=agent, forced=False)
        if own is not None and own.lease is not None:
            lease = own.lease.renewed(now, ttl)  # a renewal is the same grant: the token stays
            if reason:
                lease = replace(lease, reason=reason)
            if pid is not None:
                lease = replace(lease, pid=pid)
            write_atomic(own.file, _to_text(lease, own.file))
            return lease
        lease = Lease(
            agent=agent,
            path=target,
            acquired_at=now,
            expires_at=now + timedelta(seconds=ttl),
            ttl_s=ttl,
            reason=reason,
            host=hostname(),
            pid=pid,
            token=_next_token(paths),
        )
        file = lease_file(paths, target)
        if os.fspath(file).startswith(f"{paths.broken_locks}{os.sep}"):
            raise SquadError(f"cannot lock {target}: its lease would sit in .squad/locks/.broken/")
        if not create_exclusive(file, lease.to_json(), fsync=False):
            # A file we could not read as a conflicting lease (e.g. a folder lease written as
            # ``shared.lock`` next to a file named ``shared``): refuse rather than overwrite.
            raise SquadError(f"cannot create {paths.display(file)}: it exists and is not a lease for {target}")
        _append_record(paths.grant_log, _grant_record(lease))
        return lease


def _next_token(paths: SquadPaths) -> int:
    """The next fencing token on the files backend: one more than the last, kept in
    ``control/fence``. Called under the mutex, so no two grants share a number; one ``pwrite`` of a
    fixed-width number, so the file never reads half-written. Not fsynced: a power cut may give a
    token again (etcd's revisions never repeat; docs/distributed.md)."""
    file = fence_file(paths)
    try:
        fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o644)
    except FileNotFoundError:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        token = (int(text) if text.isdigit() else _highest_token(paths)) + 1
        os.pwrite(fd, f"{token:020d}\n".encode(), 0)
    finally:
        os.close(fd)
    return token


def _highest_token(paths: SquadPaths) -> int:
    """A counter file lost or spoiled: carry on above every token a lease still holds."""
    return max((e.lease.token or 0 for e in scan(paths, DEFAULT_TTL_S) if e.lease is not None), default=0)


def _to_text(lease: Lease, file: Path) -> str:
    if not lease.hand_written:
        return lease.to_json()
    # A lease an agent wrote keeps its shape when squad renews it (ai-agent-hub's lock library must
    # still read its own lock to release it); squad.protocol.lease.renewal_text says how.
    from squad.protocol.lease import renewal_text

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    return renewal_text(text, lease)


def _find(paths: SquadPaths, target: str, ttl: float) -> Entry | None:
    """The lease file standing for exactly ``target`` (its mirrored file, or a flat hand-written one)."""
    file = lease_file(paths, target)
    if file.is_file():
        entry = read_entry(file, paths, ttl)
        if entry is not None and (entry.error is not None or entry.lease is None or _same_target(entry.target, target)):
            return entry
    return next((e for e in scan(paths, ttl) if _same_target(e.target, target)), None)


def release(paths: SquadPaths, agent: str, target: str, *, force: bool = False) -> Lease:
    """Drop ``agent``'s lease on ``target``; ``force`` breaks another agent's (logged).

    ``force`` also clears a lease file that cannot be read. A lease naming ``HANDOFF_TO`` tells
    that agent (a coordinator notice and an event).
    """
    remote = _remote(paths)
    if remote is not None:
        gone, theirs = remote.release(agent, target, force=force)
        now = utcnow()
        if theirs:
            remote.record_break(gone, f"forced release by {agent}", now, agent, forced=True)
        else:
            _log_release(paths, gone, now)
        if gone.handoff_to:
            tell_handoff(paths, gone, f"{agent} released {gone.path}", now)
        return gone
    with mutex(paths):
        now = utcnow()
        entry = _find(paths, target, default_ttl(paths, None))
        if entry is None:
            raise Refused(f"no lease on {target}")
        lease = entry.lease
        if lease is None or not same_holder(lease.agent, agent):
            if not force:
                if entry.error is not None:
                    raise _blocking(entry, target)
                if lease is None:
                    raise Refused(f"the lease file for {target} is empty: use --force to remove it")
                raise LockHeld(target, lease)
            why = f"forced release by {agent}"
            if entry.error is not None:
                why += f" of an unreadable lease ({entry.error.message})"
            return break_entry(paths, entry, why, now, by=agent, forced=True).lease
        entry.file.unlink()  # its emptied folders stay for the next lease there (prune_empty clears them)
        _log_release(paths, lease, now)
    if lease.handoff_to:
        tell_handoff(paths, lease, f"{agent} released {lease.path}", now)
    return lease


def prune_empty(paths: SquadPaths) -> int:
    """Remove the lease folders no lease is in any more; how many went.

    A release leaves its folders behind: removing them on every release was most of a lock+unlock
    pair, and the next lease in the same folder would only create them again. The coordinator
    calls this on its slow timer, and ``squad locks`` before it lists.
    """
    if _remote(paths) is not None:
        return 0  # etcd keys have no folders
    top = locks_dir(paths)
    try:
        if not any(e.is_dir() and e.name != ".broken" for e in os.scandir(top)):
            return 0
    except OSError:
        return 0
    removed = 0
    with mutex(paths):  # an acquire creates its folders and its file under the mutex: never half-pruned
        for folder, subfolders, files in os.walk(top, topdown=False):
            if folder == os.fspath(top) or files or f"{os.sep}.broken" in folder[len(os.fspath(top)) :]:
                continue
            if any(os.path.isdir(os.path.join(folder, d)) for d in subfolders):  # noqa: PTH112, PTH118 - str walk
                continue
            try:
                os.rmdir(folder)  # noqa: PTH106 - str paths from os.walk
            except OSError:
                continue
            removed += 1
    return removed


def _log_release(paths: SquadPaths, lease: Lease, now: datetime) -> None:
    """One line in ``logs/leases.jsonl``: the coordinator's memory of a lease once its file is gone."""
    record: dict[str, object] = {
        "agent": lease.agent,
        "path": lease.path,
        "acquired_at": format_time(lease.acquired_at, precise=True),
        "released_at": format_time(now, precise=True),
    }
    if lease.token is not None:
        record["token"] = lease.token
    _append_record(paths.lease_log, record)


def _grant_record(lease: Lease) -> dict[str, object]:
    return {
        "token": lease.token,
        "agent": lease.agent,
        "path": lease.path,
        "acquired_at": format_time(lease.acquired_at, precise=True),
        "host": lease.host,
    }


def _append_record(log: Path, record: dict[str, object]) -> None:
    """One JSON line, in a single ``write`` on an O_APPEND descriptor: whole lines even from racing
    processes."""
    import json

    line = (json.dumps(record) + "\n").encode()
    file = os.fspath(log)
    for _ in range(2):
        try:
            fd = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except FileNotFoundError:
            Path(file).parent.mkdir(parents=True, exist_ok=True)
            continue
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return


def grants(paths: SquadPaths, *, recent: int | None = None) -> list[Lease]:
    """Every grant there has been (or about the ``recent`` last ones), oldest token first: who was
    given which path, when, with which fencing token (``squad merge`` checks commits against them).
    From ``logs/grants.jsonl``, or etcd's grant records when the store is etcd."""
    remote = _remote(paths)
    if remote is not None:
        return remote.grants(recent=recent)
    import json

    from squad.protocol.times import parse_time

    lines = _tail_lines(paths.grant_log, None if recent is None else recent * 160)  # a grant line is ~120 bytes
    out = []
    for raw in lines:
        try:
            data = json.loads(raw)
            token, at = data["token"], parse_time(str(data["acquired_at"]))
            if not isinstance(token, int) or at is None:
                continue
            out.append(Lease(agent=str(data["agent"]), path=str(data["path"]), acquired_at=at, expires_at=at,
                             ttl_s=0.0, host=data.get("host"), token=token))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            continue  # a torn or hand-edited line
    return sorted(out, key=lambda g: g.token or 0)


def _tail_lines(log: Path, tail_bytes: int | None) -> list[bytes]:
    """The whole lines in the last ``tail_bytes`` of a JSONL log (all of it for None; none if it
    cannot be read): the first, cut by the start of the tail, is left out."""
    try:
        with log.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = 0 if tail_bytes is None else max(0, size - tail_bytes)
            handle.seek(start)
            return handle.read().splitlines()[1 if start else 0 :]
    except OSError:
        return []


def released_since(paths: SquadPaths, since: datetime, *, tail_bytes: int = 1 << 20) -> list[tuple[Lease, datetime]]:
    """Leases released at or after ``since`` (from the end of ``logs/leases.jsonl``), oldest first."""
    import json

    from squad.protocol.times import parse_time

    lines = _tail_lines(paths.lease_log, tail_bytes)
    out = []
    for raw in lines:
        try:
            data = json.loads(raw)
            agent, path = str(data["agent"]), str(data["path"])
            acquired, gone = parse_time(str(data["acquired_at"])), parse_time(str(data["released_at"]))
        except (ValueError, KeyError, TypeError):
            continue  # a torn or hand-edited line: the memory is a courtesy, never a reason to stop
        if acquired is None or gone is None or gone < since:
            continue
        out.append((Lease(agent=agent, path=path, acquired_at=acquired, expires_at=gone, ttl_s=0.0), gone))
    return out


def renew(paths: SquadPaths, agent: str, target: str, *, ttl_s: float | None = None) -> Lease:
    """Push out the expiry of ``agent``'s own lease on ``target``; Refused when it holds none."""
    if ttl_s is not None:
        _check_ttl(ttl_s)
    remote = _remote(paths)
    if remote is not None:
        return remote.renew(agent, target, ttl_s=ttl_s)
    with mutex(paths):
        now = utcnow()
        entry = _find(paths, target, default_ttl(paths, None))
        if entry is not None and entry.error is not None:
            raise _blocking(entry, target)
        if entry is None or entry.lease is None:
            raise Refused(f"{agent} holds no lease on {target}")
        if not same_holder(entry.lease.agent, agent):
            raise LockHeld(target, entry.lease)
        lease = entry.lease.renewed(now, ttl_s)
        write_atomic(entry.file, _to_text(lease, entry.file))
        return lease


def renew_all(paths: SquadPaths, agent: str, now: datetime) -> list[Lease]:
    """Renew every lease ``agent`` holds (a status update of the holder renews its leases).

    Unreadable lease files are passed over: whose they are cannot be told.
    """
    remote = _remote(paths)
    if remote is not None:
        return remote.renew_all(agent)
    if not any(lease_files(locks_dir(paths))):
        return []
    ttl = default_ttl(paths, None)
    if not any(e.lease is not None and same_holder(e.lease.agent, agent) for e in scan(paths, ttl)):
        return []
    renewed = []
    with mutex(paths):
        for entry in scan(paths, ttl):
            if entry.lease is None or not same_holder(entry.lease.agent, agent):
                continue
            lease = entry.lease.renewed(now)
            write_atomic(entry.file, _to_text(lease, entry.file))
            renewed.append(lease)
    return renewed


def break_stale(paths: SquadPaths, now: datetime, *, config: Config | None = None) -> list[Broken]:
    """Break every stale lease (expired, holder DONE/FAILED or silent, holder pid gone).

    An unreadable lease file is never broken as stale (it may be live); ``held`` and ``squad
    locks`` report it.

    On etcd a lease ends with its TTL, in etcd itself, with nobody to break it; one past its time by
    the holder's clock is removed by the next grant that needs its path.
    """
    if _remote(paths) is not None:
        return []
    broken = []
    with mutex(paths):
        judge = Judge(paths, config, now)
        for entry in scan(paths, default_ttl(paths, config)):
            why = judge.reason(entry)
            if why is not None:
                broken.append(break_entry(paths, entry, why, now, by=None, forced=False))
    return broken


def break_lease(
    paths: SquadPaths,
    target: str,
    reason: str,
    *,
    now: datetime,
    by: str | None = None,
    holder: str | None = None,
    acquired_at: datetime | None = None,
) -> Broken | None:
    """Break the lease on exactly ``target`` whatever its state (deadlocks, ``--force``); None if none.

    With ``holder`` and ``acquired_at`` it breaks only that very lease, the one the caller judged:
    if it was released meanwhile and another agent took the path, nothing is broken (None).
    """
    remote = _remote(paths)
    if remote is not None:
        gone = remote.break_lease(target, holder=holder, acquired_at=acquired_at)
        return None if gone is None else remote.record_break(gone, reason, now, by, forced=True)
    with mutex(paths):
        entry = _find(paths, target, default_ttl(paths, None))
        if entry is None:
            return None
        if holder is not None or acquired_at is not None:
            lease = entry.lease
            if lease is None or (holder is not None and not same_holder(lease.agent, holder)):
                return None
            if acquired_at is not None and abs((lease.acquired_at - acquired_at).total_seconds()) > 0.001:
                return None
        return break_entry(paths, entry, reason, now, by=by, forced=True)
