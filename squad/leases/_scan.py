"""Reading the leases under ``.squad/locks/`` as they are on disk (internal to ``squad.leases.locks``).

A scan yields one entry per ``*.lock`` file: a lease (squad's JSON or one written by hand), an
empty file (a create interrupted by a crash), or a file that cannot be read as a lease. An
unreadable file is kept with its error rather than raised at once, so one broken lease only stops
the operations that touch the path it stands for, never every agent's ``lock`` or ``update``.

Hot path: stdlib only; yaml is imported only for a ``config.yaml`` whose ``lock_ttl_s`` is not a
plain number, or a hand-written YAML lease.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from squad.errors import SquadError
from squad.paths import SquadPaths
from squad.protocol.lease import (
    Lease,
    claimed_path,
    hashed_name,
    lease_file_for,
    lease_files,
    parse_lease,
    target_of,
)
from squad.protocol.times import from_timestamp

if TYPE_CHECKING:
    from datetime import datetime

    from squad.agents.roster import Member
    from squad.config import Config

DEFAULT_TTL_S = 1800.0


@dataclass(frozen=True)
class Entry:
    """One ``*.lock`` file: ``lease`` when readable, ``error`` when not, neither when empty."""

    file: Path
    target: str  # the path or @resource it stands for (a flat hand-written lease resolved)
    lease: Lease | None
    error: SquadError | None = None


# SquadPaths builds a new Path on every property access; pathlib was a measurable share of a
# lock+unlock pair, so the few paths on the hot path are computed once per squad.
@functools.lru_cache(maxsize=64)
def mutex_file(paths: SquadPaths) -> str:
    return os.fspath(paths.lock_mutex)


@functools.lru_cache(maxsize=64)
def fence_file(paths: SquadPaths) -> str:
    return os.fspath(paths.fence_counter)


@functools.lru_cache(maxsize=64)
def locks_dir(paths: SquadPaths) -> Path:
    return paths.locks


@functools.lru_cache(maxsize=4096)
def lease_file(paths: SquadPaths, target: str) -> Path:
    return lease_file_for(locks_dir(paths), target)


# -- settings --------------------------------------------------------------------------------

_TTL_RE = re.compile(r"^lock_ttl_s[ \t]*:(.*)$", re.MULTILINE)
_NUMBER_RE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*(?:#.*)?$")
_TTL_CACHE: dict[str, tuple[tuple[str, int, int, int], float]] = {}


def default_ttl(paths: SquadPaths, config: Config | None) -> float:
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
    return full_config(paths).lock_ttl_s  # let the real parser name the file and line


def full_config(paths: SquadPaths) -> Config:
    from squad.config import load_config

    return load_config(paths.config)


# -- reading ---------------------------------------------------------------------------------


def read_entry(file: Path, paths: SquadPaths, ttl: float) -> Entry | None:
    """The entry for one lease file; None if it vanished (released) meanwhile."""
    target = target_of(file, locks_dir(paths))
    try:
        raw, mtime = _read_with_mtime(file)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # a folder named *.lock, no permission
        return Entry(file, target, None, _unreadable(paths, file, None, exc.strerror or str(exc)))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Entry(file, target, None, _unreadable(paths, file, 1, f"not UTF-8 text (byte {exc.start})"))
    if not text.strip():
        return Entry(file, target, None)
    try:
        lease = parse_lease(text, file, target, ttl, mtime, paths.root)
    except SquadError as exc:
        # Still blocks the path it names (a hashed file name says nothing), so nobody is granted it blindly.
        claimed = claimed_path(text) or target
        return Entry(file, claimed, None, _unreadable(paths, file, exc.line, exc.message))
    return Entry(file, lease.path, lease)


def _read_with_mtime(file: Path) -> tuple[bytes, datetime]:
    """The bytes and modification time of a file, in one open (os-level: the io layer adds five
    system calls to a read of a few hundred bytes)."""
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        chunks = [os.read(fd, st.st_size + 1)]
        while chunks[-1]:  # grew since the fstat
            chunks.append(os.read(fd, 65536))
    finally:
        os.close(fd)
    return b"".join(chunks), from_timestamp(st.st_mtime)


def _unreadable(paths: SquadPaths, file: Path, line: int | None, message: str) -> SquadError:
    return SquadError(f"unreadable lease: {message}", path=paths.display(file), line=line)


def scan(paths: SquadPaths, ttl: float) -> list[Entry]:
    """Every lease file under ``locks/``, in path order; flat hand-written ones resolved, and
    holders named by role (``frontend-ui-developer[1]``) resolved to the squad's agent ids."""
    entries = []
    flat_index: dict[str, str] | None = None
    roster: list[Member] | None = None
    for file in lease_files(locks_dir(paths)):
        entry = read_entry(file, paths, ttl)
        if entry is None:
            continue
        if entry.lease is not None and entry.lease.hand_written and not _names_agent(entry.lease.agent):
            from squad.agents.roster import by_role, members

            roster = members(paths) if roster is None else roster
            member = by_role(roster, entry.lease.agent)
            if member is not None:
                entry = replace(entry, lease=replace(entry.lease, agent=member.name))
        flat = entry.lease.flat if entry.lease is not None else _may_be_flat(entry)
        if flat:
            if flat_index is None:
                flat_index = _basename_index(paths.root)
            resolved = flat_index.get(entry.target, entry.target)
            lease = replace(entry.lease, path=resolved) if entry.lease is not None else None
            entry = replace(entry, target=resolved, lease=lease)
        entries.append(entry)
    return entries


def _names_agent(holder: str) -> bool:
    from squad.protocol.ids import mentioned_agent, parse_agent_id

    return parse_agent_id(holder) is not None or mentioned_agent(holder) is not None


def _may_be_flat(entry: Entry) -> bool:
    """An unreadable top-level file may be a flat hand-written lease: it blocks that file too."""
    return (
        entry.error is not None
        and "/" not in entry.target
        and not entry.target.startswith("@")
        and not hashed_name(entry.target)  # a hash names no file: no `git ls-files` for it on every scan
    )


def _basename_index(root: Path) -> dict[str, str]:
    """basename -> the one repo path with that name (a flat hand-written lease names a file so).

    A basename found at several paths maps to itself (the file at the root), as design says.
    """
    seen: dict[str, str | None] = {}
    for rel in _repo_files(root):
        base = rel.rsplit("/", 1)[-1]
        seen[base] = rel if base not in seen else None
    return {base: rel for base, rel in seen.items() if rel is not None}


def _repo_files(root: Path) -> list[str]:
    from squad import git

    listed = git.listed_files(root)
    if listed is not None:
        return [n for n in listed if not n.startswith(".squad/")]
    out: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".squad", "node_modules", ".venv", "__pycache__")]
        rel = Path(folder).relative_to(root).as_posix()
        out.extend(name if rel == "." else f"{rel}/{name}" for name in files)
    return out
