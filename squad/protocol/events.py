"""The event log, ``logs/events.jsonl``: one JSON object a line, append-only, the coordinator's memory."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from squad.atomic import append_lines
from squad.errors import SquadError
from squad.protocol.times import format_time, parse_time


class EventKind(StrEnum):
    """What happened: the one list of the kinds squad writes (readers accept any kind)."""

    VIOLATION = "violation"
    VIOLATION_ATTEMPT = "violation_attempt"
    LOCK_ACQUIRED = "lock_acquired"
    LOCK_RELEASED = "lock_released"
    LOCK_BROKEN = "lock_broken"
    LOCK_WAIT = "lock_wait"
    AGENT_IDLE = "agent_idle"
    AGENT_STALE = "agent_stale"
    BLOCKED = "blocked"
    DEADLOCK = "deadlock"
    HANDOFF = "handoff"
    REASSIGN = "reassign"
    STUCK = "stuck"
    PARSE_ERROR = "parse_error"
    GUARD_SKIPPED = "guard_skipped"  # squad guard let a call through it could not judge
    GUARD_REFUSED = "guard_refused"  # squad guard refused a call it could not judge (fail closed)
    GUARD_OVERRIDE = "guard_override"  # a person ran an agent with SQUAD_GUARD=off: not judged
    TASK_BLOCKED = "task_blocked"
    UNPROVEN_DONE = "unproven_done"
    STEAL = "steal"
    PAUSED = "paused"
    RESUMED = "resumed"
    HANDOFF_REFUSED = "handoff_refused"
    TASK_UNBLOCKED = "task_unblocked"  # the cascade's mark lifted: the task it waited on is done
    UNGUARDED_COMMIT = "unguarded_commit"  # an agent's work committed past a refusing pre-commit hook


# The kinds by name, as the rest of squad has always written them (``ev.VIOLATION``).
VIOLATION = EventKind.VIOLATION
VIOLATION_ATTEMPT = EventKind.VIOLATION_ATTEMPT
LOCK_ACQUIRED = EventKind.LOCK_ACQUIRED
LOCK_RELEASED = EventKind.LOCK_RELEASED
LOCK_BROKEN = EventKind.LOCK_BROKEN
LOCK_WAIT = EventKind.LOCK_WAIT
AGENT_IDLE = EventKind.AGENT_IDLE
AGENT_STALE = EventKind.AGENT_STALE
BLOCKED = EventKind.BLOCKED
DEADLOCK = EventKind.DEADLOCK
HANDOFF = EventKind.HANDOFF
REASSIGN = EventKind.REASSIGN
STUCK = EventKind.STUCK
PARSE_ERROR = EventKind.PARSE_ERROR
GUARD_SKIPPED = EventKind.GUARD_SKIPPED
GUARD_REFUSED = EventKind.GUARD_REFUSED
GUARD_OVERRIDE = EventKind.GUARD_OVERRIDE
TASK_BLOCKED = EventKind.TASK_BLOCKED
UNPROVEN_DONE = EventKind.UNPROVEN_DONE
STEAL = EventKind.STEAL
PAUSED = EventKind.PAUSED
RESUMED = EventKind.RESUMED
HANDOFF_REFUSED = EventKind.HANDOFF_REFUSED
TASK_UNBLOCKED = EventKind.TASK_UNBLOCKED
UNGUARDED_COMMIT = EventKind.UNGUARDED_COMMIT


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime
    agent: str | None = None
    path: str | None = None
    detail: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    key: str | None = None  # identity of what was reported, so a restarted coordinator never repeats it

    def to_json(self) -> str:
        out: dict[str, Any] = {"kind": self.kind, "at": format_time(self.at)}
        if self.agent is not None:
            out["agent"] = self.agent
        if self.path is not None:
            out["path"] = self.path
        if self.detail:
            out["detail"] = self.detail
        if self.data:
            out["data"] = dict(self.data)
        if self.key is not None:
            out["key"] = self.key
        return json.dumps(out, sort_keys=False, ensure_ascii=False)


def parse_event(line: str, path: Path, number: int) -> Event:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SquadError(f"bad event JSON: {exc.msg}", path=path, line=number) from None
    if not isinstance(data, dict) or "kind" not in data:
        raise SquadError("an event needs a `kind`", path=path, line=number)
    at = parse_time(str(data.get("at", "")))
    if at is None:
        raise SquadError(f"bad event time {data.get('at')!r}", path=path, line=number)
    extra = data.get("data")
    return Event(
        kind=str(data["kind"]),
        at=at,
        agent=data.get("agent"),
        path=data.get("path"),
        detail=str(data.get("detail", "")),
        data=extra if isinstance(extra, dict) else {},
        key=data.get("key"),
    )


def append_event(path: Path, event: Event) -> None:
    append_lines(path, event.to_json() + "\n")


def append_events(path: Path, events: list[Event], *, fsync: bool = True) -> None:
    if events:
        append_lines(path, "".join(e.to_json() + "\n" for e in events), fsync=fsync)


class EventLogReader:
    """Reads ``events.jsonl`` incrementally; a last line with no newline yet is left for later."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.line_no = 0

    def read_new(self) -> list[Event]:
        try:
            with self.path.open("rb") as handle:
                if handle.seek(0, 2) < self.offset:
                    self.offset, self.line_no = 0, 0
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        events = []
        for raw in data[: end + 1].decode("utf-8", errors="replace").splitlines():
            self.line_no += 1
            if raw.strip():
                events.append(parse_event(raw, self.path, self.line_no))
        return events


def read_events(path: Path) -> list[Event]:
    return EventLogReader(path).read_new()
