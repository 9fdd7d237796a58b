"""When a lease is stale, and how one is broken (internal to ``squad.leases.locks``).

Stale (design section 2): ``expires_at`` passed; the holder reported DONE or FAILED, or has been
silent for ``agent_stale_s``; the holder's pid is gone (judged only for a lease taken on this
host); the file is empty (a create cut short by a crash). Breaking moves the file to
``locks/.broken/`` annotated with the reason, and appends a ``lock_broken`` event.

The holder's comm file is read, and squad.agents.liveness imported, only when a
conflicting lease must be judged: never on an uncontended ``squad lock``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from squad.atomic import write_atomic
from squad.leases._scan import Entry, full_config, locks_dir
from squad.paths import LOCK_SUFFIX, SquadPaths
from squad.protocol.lease import Lease
from squad.protocol.times import format_time

if TYPE_CHECKING:
    from squad.config import Config


@dataclass(frozen=True)
class Broken:
    lease: Lease
    reason: str
    moved_to: Path  # under .squad/locks/.broken/


def hostname() -> str:
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket  # pragma: no cover - Windows

    return socket.gethostname()


class Judge:
    """Decides staleness, reading a holder's comm file only when asked (once per holder)."""

    def __init__(self, paths: SquadPaths, config: Config | None, now: datetime) -> None:
        self.paths = paths
        self._config = config
        self.now = now
        self._states: dict[str, object] = {}

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = full_config(self.paths)
        return self._config

    def reason(self, entry: Entry) -> str | None:
        if entry.error is not None:
            return None  # unreadable: nobody can tell whether it is live, so it is never broken as stale
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
    from squad.agents.liveness import AgentState, stale_reason

    if lease.expired(now):
        return stale_reason(lease, None, now, config)
    if lease.pid is not None and lease.host and lease.host != hostname():
        lease = replace(lease, pid=None)  # another machine's pid says nothing about this one's processes
    key = lease.agent.lower()
    cache = cache if cache is not None else {}
    if key not in cache:
        cache[key] = _holder_state(paths, lease.agent, now)
    holder = cache[key]
    return stale_reason(lease, holder if isinstance(holder, AgentState) else None, now, config)


def _holder_state(paths: SquadPaths, agent: str, now: datetime) -> object:
    from squad.agents.liveness import agent_state
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


def break_entry(paths: SquadPaths, entry: Entry, reason: str, now: datetime, by: str | None, *, forced: bool) -> Broken:
    """Move a lease to ``locks/.broken/`` with the reason, and log ``lock_broken``. Caller holds the mutex."""

    lease = entry.lease or Lease(agent="unknown", path=entry.target, acquired_at=now, expires_at=now, ttl_s=0.0)
    moved = _broken_name(paths, lease.path, now)
    entry.file.replace(moved)
    # Annotate what was actually moved, so the record shows the lease exactly as it was broken.
    text = moved.read_bytes().decode("utf-8", "replace")
    write_atomic(moved, _annotate(text, reason, now, by))
    prune(paths, entry.file.parent)
    log_break(paths, lease, reason, now, by, forced=forced, moved=moved)
    if lease.handoff_to:
        tell_handoff(paths, lease, f"{lease.path} was freed ({reason})", now)
    return Broken(lease, reason, moved)


def log_break(
    paths: SquadPaths,
    lease: Lease,
    reason: str,
    now: datetime,
    by: str | None,
    *,
    forced: bool,
    moved: Path,
    **extra: object,
) -> None:
    """The ``lock_broken`` event: whose lease, why, by whom, where its record was kept."""
    from squad.protocol import events as ev

    ev.append_event(
        paths.events,
        ev.Event(
            kind=ev.LOCK_BROKEN,
            at=now,
            agent=lease.agent,
            path=lease.path,
            detail=reason,
            data={"by": by, "forced": forced, "moved_to": paths.display(moved), **extra},
        ),
    )


def tell_handoff(paths: SquadPaths, lease: Lease, what: str, now: datetime) -> None:
    """A lease naming ``HANDOFF_TO`` is gone: tell that agent (a coordinator notice and an event)."""
    from squad.atomic import append_lines
    from squad.protocol import events as ev
    from squad.protocol.comm import format_notice

    to = lease.handoff_to or ""
    text = f"{what}; it is handed to {to}"
    append_lines(paths.coordinator_comm, format_notice(to_agent=to, at=now, kind="handoff", text=text))
    ev.append_event(
        paths.events,
        ev.Event(
            kind=ev.LOCK_RELEASED, at=now, agent=lease.agent, path=lease.path, detail=text, data={"handoff_to": to}
        ),
    )


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


def prune(paths: SquadPaths, folder: Path) -> None:
    """Remove folders under ``locks/`` emptied by a release. Caller holds the mutex."""
    locks = locks_dir(paths)
    while folder != locks and locks in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
