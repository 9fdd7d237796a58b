"""Lease files under ``.squad/locks/``: squad's JSON, or what agents write by hand.

Parsing only (stdlib json, no yaml unless a hand-written YAML lease is met), so the lock path stays
fast to start. Acquiring and breaking live in ``squad.leases.locks``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from squad.errors import SquadError
from squad.paths import LOCK_SUFFIX, strip_path
from squad.protocol.times import find_time, format_time, parse_time

# ``KEY: value``, also as agents decorate it: ``- KEY: value``, ``**KEY:** value``, ``**KEY**: value``.
_HAND_KEY_RE = re.compile(r"^\s*(?:[-*+]\s+)?\**\s*([A-Za-z][A-Za-z0-9_ -]*?)\s*\**\s*:\s*\**\s*(.*)$")


@dataclass(frozen=True)
class Lease:
    agent: str
    path: str  # repo-relative path (a trailing / for a folder) or @resource
    acquired_at: datetime
    expires_at: datetime
    ttl_s: float
    reason: str | None = None
    host: str | None = None
    pid: int | None = None
    handoff_to: str | None = None
    hand_written: bool = False  # written by an agent, not by `squad lock`
    flat: bool = False  # a hand-written locks/<basename>.lock naming a file by its basename

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def renewed(self, now: datetime, ttl_s: float | None = None) -> Lease:
        ttl = ttl_s if ttl_s is not None else self.ttl_s
        return replace(self, expires_at=now + timedelta(seconds=ttl), ttl_s=ttl)

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "agent": self.agent,
            "path": self.path,
            "acquired_at": format_time(self.acquired_at, precise=True),
            "expires_at": format_time(self.expires_at, precise=True),
            "ttl_s": self.ttl_s,
            "reason": self.reason,
            "host": self.host,
            "pid": self.pid,
        }
        if self.handoff_to:
            data["handoff_to"] = self.handoff_to
        return json.dumps(data, indent=2) + "\n"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["acquired_at"] = format_time(self.acquired_at, precise=True)
        data["expires_at"] = format_time(self.expires_at, precise=True)
        return data


def new_lease(
    *,
    agent: str,
    path: str,
    now: datetime,
    ttl_s: float,
    reason: str | None = None,
    pid: int | None = None,
) -> Lease:
    import socket

    return Lease(
        agent=agent,
        path=path,
        acquired_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
        ttl_s=ttl_s,
        reason=reason,
        host=socket.gethostname(),
        pid=pid,
    )


NAME_MAX = 255  # bytes in one file name on Linux and macOS file systems
_HASHED_MARK = "~squad-"


def lease_file_for(locks_dir: Path, target: str) -> Path:
    """The lease file of a repo-relative path or ``@resource``: ``locks/<path>.lock``, mirroring the tree.

    A name too long to take the ``.lock`` suffix (251 to 255 bytes) gets a hashed name instead,
    ``<start of the name>~squad-<sha256>.lock``: still one file per target, found again the same
    way, and the lease JSON inside keeps the real path (readers take the path from there).
    """
    rel = target.rstrip("/")
    folder, _, name = rel.rpartition("/")
    if len((name + LOCK_SUFFIX).encode("utf-8", "surrogateescape")) > NAME_MAX:
        import hashlib

        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        start = name.encode("utf-8", "surrogateescape")[:160].decode("utf-8", "ignore")
        name = f"{start}{_HASHED_MARK}{digest}"
    return locks_dir / (f"{folder}/{name}{LOCK_SUFFIX}" if folder else f"{name}{LOCK_SUFFIX}")


def target_of(lease_file: Path, locks_dir: Path) -> str:
    """The path or ``@resource`` a lease file stands for, from where it sits in ``locks/``."""
    rel = lease_file.relative_to(locks_dir).as_posix()
    return rel.removesuffix(LOCK_SUFFIX)


def parse_lease(text: str, file: Path, target: str, default_ttl_s: float, mtime: datetime | None = None) -> Lease:
    """Parse squad's JSON lease, a YAML one, or ``LOCKED_BY:`` lines written by hand."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise SquadError(f"bad lease JSON: {exc.msg}", path=file, line=exc.lineno) from None
        if not isinstance(data, dict):
            raise SquadError("a lease must be a JSON object", path=file, line=1)
        return _from_mapping(data, file, target, default_ttl_s, mtime, hand_written=False)
    if stripped.startswith("["):
        raise SquadError("a lease must be a JSON object, not a list", path=file, line=1)
    fields: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _HAND_KEY_RE.match(line)
        if not match:
            # Not ``KEY: value`` lines: maybe real YAML (``---``, lists, nested keys).
            mapping = _yaml_mapping(text)
            if mapping is None:
                raise SquadError(
                    f"cannot read lease line {line.strip()!r} (a lease is JSON, YAML or KEY: value lines)",
                    path=file,
                    line=number,
                )
            return _from_mapping(mapping, file, target, default_ttl_s, mtime, hand_written=True)
        fields[_key(match.group(1))] = match.group(2).strip().strip("'\"*").strip()
    return _from_mapping(fields, file, target, default_ttl_s, mtime, hand_written=True)


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _yaml_mapping(text: str) -> dict[str, Any] | None:
    """A hand-written YAML lease as a mapping with normalised keys; None if it is not one."""
    import yaml  # only for leases that are neither JSON nor KEY: value lines

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    return {_key(str(k)): v for k, v in data.items()}


def _from_mapping(
    data: dict[str, Any],
    file: Path,
    target: str,
    default_ttl_s: float,
    mtime: datetime | None,
    *,
    hand_written: bool,
) -> Lease:
    agent = data.get("agent") or data.get("locked_by") or data.get("holder") or data.get("owner")
    if not agent:
        raise SquadError("lease names no holder (agent / LOCKED_BY)", path=file, line=1)
    if not isinstance(agent, str | int) or isinstance(agent, bool):
        raise SquadError(f"lease holder must be an agent name, not {agent!r}", path=file, line=1)
    acquired = _time(data.get("acquired_at") or data.get("locked_at") or data.get("since")) or mtime
    if acquired is None:
        raise SquadError("lease has no time (acquired_at / LOCKED_AT)", path=file, line=1)
    ttl = data.get("ttl_s")
    ttl_s = (
        float(ttl)
        if isinstance(ttl, int | float) or (isinstance(ttl, str) and ttl.replace(".", "", 1).isdigit())
        else default_ttl_s
    )
    expires = _time(data.get("expires_at") or data.get("expires")) or acquired + timedelta(seconds=ttl_s)
    pid = data.get("pid")
    for key in ("reason", "purpose", "host", "handoff_to", "path"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            # ``"reason": true`` and the like: an unreadable lease, reported, never a crash later on.
            raise SquadError(f"lease field {key!r} must be text, not {type(value).__name__}", path=file, line=1)
    if isinstance(ttl, bool) or isinstance(pid, bool):
        raise SquadError("lease fields ttl_s and pid must be numbers, not true/false", path=file, line=1)
    path = str(data.get("path") or target)
    if not path.startswith("@"):
        path = strip_path(path)
    return Lease(
        agent=str(agent).strip(),
        path=path,
        acquired_at=acquired,
        expires_at=expires,
        ttl_s=ttl_s,
        reason=data.get("reason") or data.get("purpose"),
        host=data.get("host"),
        pid=int(pid) if isinstance(pid, int) or (isinstance(pid, str) and pid.isdigit()) else None,
        handoff_to=data.get("handoff_to") or None,
        hand_written=hand_written,
        flat=hand_written and "/" not in target and not target.startswith("@") and "path" not in data,
    )


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.astimezone()
    return parse_time(str(value)) or find_time(str(value))


def lease_files(locks_dir: Path) -> Iterator[Path]:
    """Every ``*.lock`` under ``locks/`` at any depth, skipping ``.broken/`` and dot files."""
    if not locks_dir.is_dir():
        return
    for folder, dirs, files in os.walk(locks_dir):
        # Only locks/.broken/ is squad's own; leases of dot paths (.github/ci.yml, .env) are leases.
        top = folder == os.fspath(locks_dir)
        dirs[:] = sorted(d for d in dirs if not (top and d == ".broken"))
        for name in sorted(files):
            if name.endswith(LOCK_SUFFIX):
                yield Path(folder) / name


def read_lease(file: Path, locks_dir: Path, default_ttl_s: float) -> Lease | None:
    """The lease in ``file``; None if it vanished (released) between listing and reading."""
    from squad.protocol.times import from_timestamp

    try:
        text = file.read_text(encoding="utf-8")
        mtime = from_timestamp(file.stat().st_mtime)
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise SquadError(f"lease is not UTF-8 text (byte {exc.start})", path=file, line=1) from None
    return parse_lease(text, file, target_of(file, locks_dir), default_ttl_s, mtime)
