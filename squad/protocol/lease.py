"""Lease files under ``.squad/locks/``: squad's JSON, or what agents write by hand.

Parsing only (stdlib json, no yaml unless a hand-written YAML lease is met), so the lock path stays
fast to start. Acquiring and breaking live in ``squad.leases.locks``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from squad.errors import SquadError
from squad.paths import LOCK_SUFFIX, strip_path
from squad.protocol.times import TIME_RE, find_time, format_time, parse_time

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
    # The fencing token: a number that only grows from one grant to the next (a counter kept under
    # the mutex on the files; the revision that created the key on etcd). None: a hand-written lease.
    token: int | None = None

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
        if self.token is not None:
            data["token"] = self.token
        # Byte for byte what json.dumps(data, indent=2) writes for these flat values, from the C
        # encoder (indent turns it off, and a lease is written on every grant).
        flat = json.dumps(data, separators=(",\n  ", ": "))
        return "{\n  " + flat[1:-1] + "\n}\n"

    def as_json(self) -> dict[str, Any]:
        """The lease as every ``--json`` output shows it (``squad lock``, ``squad locks``, status)."""
        return {
            "path": self.path,
            "agent": self.agent,
            "acquired_at": format_time(self.acquired_at),
            "expires_at": format_time(self.expires_at),
            "ttl_s": self.ttl_s,
            "reason": self.reason,
            "host": self.host,
            "pid": self.pid,
            "hand_written": self.hand_written,
            "handoff_to": self.handoff_to,
            "token": self.token,
        }


def grant_line(verb: str, lease: Lease) -> str:
    """``locked PATH for AGENT until TIME (fencing token N)``: what ``squad lock`` and the MCP tool say."""
    token = f" (fencing token {lease.token})" if lease.token is not None else ""
    return f"{verb} {lease.path} for {lease.agent} until {format_time(lease.expires_at)}{token}"


FENCE_ENV = "SQUAD_FENCE"


def fence_tokens(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """The fencing tokens an agent's shell holds, by lease path: ``$SQUAD_FENCE``, a JSON object
    that ``eval "$(squad lock --export PATH)"`` keeps. Anything unreadable there counts as none."""
    text = (os.environ if environ is None else environ).get(FENCE_ENV, "").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)}


def fence_export(tokens: dict[str, int]) -> str:
    """The shell line that sets ``$SQUAD_FENCE`` to ``tokens`` (unsets it when there are none)."""
    import shlex

    if not tokens:
        return f"unset {FENCE_ENV}"
    return f"export {FENCE_ENV}={shlex.quote(json.dumps(dict(sorted(tokens.items())), separators=(',', ':')))}"


def renewal_text(text: str, lease: Lease) -> str:
    """``lease`` (renewed) written back in the shape of ``text``, the file it was read from.

    A lease an agent wrote stays readable by what wrote it: ai-agent-hub's lock library must still
    find its ``agentId`` to release its own lock, and scripts grep ``LOCKED_BY:``. So a JSON object
    keeps its keys and gains ``expires_at`` (and ``reason``); ``KEY: value`` lines gain or update an
    ``EXPIRES_AT:`` line (and ``PURPOSE:``). Anything else becomes squad's JSON.
    """
    if not lease.hand_written:
        return lease.to_json()
    expires = format_time(lease.expires_at, precise=True)
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            data["expires_at"] = expires
            if lease.reason and lease.reason != _first({_key(str(k)): v for k, v in data.items()}, _REASON_KEYS):
                data["reason"] = lease.reason
            return json.dumps(data, indent=2) + "\n"
    rows = text.splitlines()
    keyed = [
        (i, _HAND_KEY_RE.match(row)) for i, row in enumerate(rows) if row.strip() and not row.lstrip().startswith("#")
    ]
    if keyed and all(match is not None for _, match in keyed):
        upper = any(match.group(1).isupper() for _, match in keyed if match is not None)
        for names, value in ((("expires_at", "expires"), expires), (_REASON_KEYS, lease.reason)):
            if value is None:
                continue
            at = next((i for i, m in keyed if m is not None and _key(m.group(1)) in names), None)
            if at is not None:
                match = _HAND_KEY_RE.match(rows[at])
                assert match is not None
                rows[at] = rows[at][: match.start(2)] + value
            else:
                name = names[0] if names[0] != "reason" else "purpose"
                rows.append(f"{name.upper() if upper else name}: {value}")
        return "\n".join(rows) + "\n"
    return replace(lease, hand_written=False, flat=False).to_json()


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
    # By string in the usual case: pathlib was a tenth of a lease read, and every lease is read.
    file, top = os.fspath(lease_file), os.fspath(locks_dir).rstrip(os.sep) + os.sep
    rel = (
        file[len(top) :].replace(os.sep, "/") if file.startswith(top) else lease_file.relative_to(locks_dir).as_posix()
    )
    return rel.removesuffix(LOCK_SUFFIX)


def parse_lease(
    text: str, file: Path, target: str, default_ttl_s: float, mtime: datetime | None = None, root: Path | None = None
) -> Lease:
    """Parse squad's JSON lease, one written by ai-agent-hub's lock library (``agentId``,
    ``timestamp``, ``filepath``), a YAML one, or ``LOCKED_BY:`` lines written by hand.

    ``root`` (the repository) turns an absolute path inside it into a repository path.
    """
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise SquadError(f"bad lease JSON: {exc.msg}", path=file, line=exc.lineno) from None
        if not isinstance(data, dict):
            raise SquadError("a lease must be a JSON object", path=file, line=1)
        # squad's own JSON has both; anything else (lock-core's {agentId, timestamp, ...}) was written by an agent.
        ours = "agent" in data and "acquired_at" in data
        fields = data if ours else {_key(str(k)): v for k, v in data.items()}
        return _from_mapping(fields, file, target, default_ttl_s, mtime, hand_written=not ours, root=root)
    if stripped.startswith("["):
        raise SquadError("a lease must be a JSON object, not a list", path=file, line=1)
    return _from_mapping(_hand_fields(text, file), file, target, default_ttl_s, mtime, hand_written=True, root=root)


def _hand_fields(text: str, file: Path) -> dict[str, Any]:
    """``KEY: value`` lines as a mapping with normalised keys, else real YAML; SquadError if neither."""
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
            return mapping
        fields[_key(match.group(1))] = match.group(2).strip().strip("'\"*").strip()
    return fields


def claimed_path(text: str) -> str | None:
    """The path a lease file says it locks, read as leniently as possible: for a file that cannot be
    read as a lease, so it still blocks (exit 2, never a silent grant) the path it names."""
    try:
        fields = _hand_fields(text, Path()) if not text.lstrip().startswith("{") else None
    except SquadError:
        fields = None
    if fields is None:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        fields = {_key(str(k)): v for k, v in data.items()} if isinstance(data, dict) else {}
    value = next((fields[k] for k in _PATH_KEYS if isinstance(fields.get(k), str) and fields[k].strip()), None)
    return strip_path(value) if value else None


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


# Keys as the formats spell them, normalised by ``_key`` (``agentId`` -> ``agentid``).
_HOLDER_KEYS = ("agent", "locked_by", "agentid", "agent_id", "holder", "owner")
_PATH_KEYS = ("path", "filepath", "file", "file_path")
_SINCE_KEYS = ("acquired_at", "locked_at", "timestamp", "since", "created_at")
_EXPIRY_KEYS = ("expires_at", "expires")
_REASON_KEYS = ("reason", "purpose", "operation")
# A name chosen by a hash, not by the path: ai-agent-hub's ``<tail>_<md5>.lock`` or squad's ``~squad-``.
_HASHED_NAME_RE = re.compile(r"(?:_[0-9a-f]{32}|~squad-[0-9a-f]{32})$")


def hashed_name(target: str) -> bool:
    """Whether a lease file's name (its target, from where it sits) is a hash rather than a path."""
    return _HASHED_NAME_RE.search(target) is not None


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:  # a plain loop: this runs for every lease read on the lock path
        value = data.get(key)
        if value is not None and value != "":
            return value
    return None


def _holder(value: Any, file: Path) -> str:
    if value is None:
        raise SquadError("lease names no holder (agent / LOCKED_BY / agentId)", path=file, line=1)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SquadError(f"lease holder must be an agent name, not {value!r}", path=file, line=1)
    name = str(value).strip()
    # ai-agent-hub's lock library stores the agent's number (``"agentId": 2``).
    return f"agent-{int(name)}" if name.isdigit() else name


def _lease_path(value: Any, target: str, file: Path, root: Path | None) -> tuple[str, bool]:
    """(the path the lease stands for, whether the file said so)."""
    if value is None:
        if hashed_name(target):
            raise SquadError(
                "lease names no path (path / filepath / file) and its file name is a hash", path=file, line=1
            )
        return target, False
    if not isinstance(value, str):
        raise SquadError(f"lease field 'path' must be text, not {type(value).__name__}", path=file, line=1)
    text = value.strip()
    if text.startswith("@"):
        return text, True
    if root is not None and text.startswith("/") and not text.startswith("//"):  # not pathlib: hot path
        # lock-core is handed whatever path the agent had: an absolute one inside the repository is a repo path.
        with contextlib.suppress(ValueError):
            text = Path(text).relative_to(root).as_posix() + ("/" if text.endswith("/") else "")
    path = strip_path(text)
    if not path:
        raise SquadError(f"lease path {value!r} names no file", path=file, line=1)
    return path, True


def _from_mapping(
    data: dict[str, Any],
    file: Path,
    target: str,
    default_ttl_s: float,
    mtime: datetime | None,
    *,
    hand_written: bool,
    root: Path | None = None,
) -> Lease:
    agent = _holder(_first(data, _HOLDER_KEYS), file)
    if not agent:
        raise SquadError("lease names no holder (agent / LOCKED_BY / agentId)", path=file, line=1)
    acquired = _time(_first(data, _SINCE_KEYS)) or mtime
    if acquired is None:
        raise SquadError("lease has no time (acquired_at / LOCKED_AT / timestamp)", path=file, line=1)
    ttl = data.get("ttl_s")
    ttl_s = (
        float(ttl)
        if isinstance(ttl, int | float) or (isinstance(ttl, str) and ttl.replace(".", "", 1).isdigit())
        else default_ttl_s
    )
    expires = _time(_first(data, _EXPIRY_KEYS)) or acquired + timedelta(seconds=ttl_s)
    pid = data.get("pid")
    for key in ("reason", "purpose", "host", "handoff_to", "operation"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            # ``"reason": true`` and the like: an unreadable lease, reported, never a crash later on.
            raise SquadError(f"lease field {key!r} must be text, not {type(value).__name__}", path=file, line=1)
    token = None if hand_written else data.get("token")  # another tool's "token" means something else
    if token is not None and (isinstance(token, bool) or not isinstance(token, int) or token < 1):
        raise SquadError(f"lease field 'token' must be a whole number of at least 1, not {token!r}", path=file, line=1)
    if isinstance(ttl, bool) or isinstance(pid, bool):
        raise SquadError("lease fields ttl_s and pid must be numbers, not true/false", path=file, line=1)
    path, named = _lease_path(_first(data, _PATH_KEYS), target, file, root)
    return Lease(
        agent=agent,
        path=path,
        acquired_at=acquired,
        expires_at=expires,
        ttl_s=ttl_s,
        reason=_first(data, _REASON_KEYS),
        host=data.get("host"),
        pid=int(pid) if isinstance(pid, int) or (isinstance(pid, str) and pid.isdigit()) else None,
        handoff_to=data.get("handoff_to") or None,
        hand_written=hand_written,
        flat=hand_written and "/" not in target and not target.startswith("@") and not named,
        token=token,
    )


def _time(value: Any) -> datetime | None:
    """A lease time: ISO 8601 or ``YYYY-MM-DD HH:MM``; without a zone it is UTC (ai-agent-hub's
    writers all write UTC: ``date -u``, ``toISOString()``); a number is seconds (or ms) since the epoch."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))  # squad's own leases: the fast path
    except ValueError:
        pass
    else:
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    match = TIME_RE.search(text)
    if match is not None and not match.group("zone"):
        clock = (match.group("time") or "00:00").replace(",", ".")
        try:
            naive = datetime.fromisoformat(f"{match.group('date')}T{clock.zfill(5) if len(clock) < 5 else clock}")
        except ValueError:
            naive = None
        if naive is not None:
            return naive.replace(tzinfo=UTC)
    return parse_time(text) or find_time(text)


def lease_files(locks_dir: Path) -> Iterator[Path]:
    """Every ``*.lock`` under ``locks/`` at any depth, skipping ``.broken/`` and dot files.

    In path order: a folder's files, then its subfolders. Symlinked folders are not entered.
    """
    # Only locks/.broken/ is squad's own; leases of dot paths (.github/ci.yml, .env) are leases.
    yield from _lease_files_in(os.fspath(locks_dir), top=True)


def _lease_files_in(folder: str, *, top: bool) -> Iterator[Path]:
    try:
        with os.scandir(folder) as found:
            entries = sorted(found, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    folders = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            if not (top and entry.name == ".broken") and not entry.is_symlink():
                folders.append(entry.path)
        elif entry.name.endswith(LOCK_SUFFIX):
            yield Path(entry.path)
    for sub in folders:
        yield from _lease_files_in(sub, top=False)


def read_lease(file: Path, locks_dir: Path, default_ttl_s: float, root: Path | None = None) -> Lease | None:
    """The lease in ``file``; None if it vanished (released) between listing and reading."""
    from squad.protocol.times import from_timestamp

    try:
        text = file.read_text(encoding="utf-8")
        mtime = from_timestamp(file.stat().st_mtime)
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise SquadError(f"lease is not UTF-8 text (byte {exc.start})", path=file, line=1) from None
    return parse_lease(text, file, target_of(file, locks_dir), default_ttl_s, mtime, root)
