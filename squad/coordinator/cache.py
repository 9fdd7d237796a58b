"""The coordinator's last snapshot on disk (``reports/snapshot.json``), for ``squad status``.

Parsing every comm file costs time in their length; the running coordinator has parsed them
already. With each snapshot it writes what it had read of each file (a comm file's or the event
log's byte offset, a plan's, the matrix's and the config's modification time), so a reader can tell
exactly whether the snapshot still says what the files say: if any file differs, or a comm file or
plan came or went, the snapshot is not used and the caller reads the files itself. Times that move
on their own (how long an agent has been silent) and the leases are computed afresh at read time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from squad.agents.liveness import AgentState
from squad.atomic import write_atomic
from squad.errors import SquadError
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import HandoffRequest, Progress, Status

if TYPE_CHECKING:
    from squad.coordinator.state import Snapshot

VERSION = 3  # 3: the agents and the violations at the top level, after the snapshot
Signatures = dict[str, int | None]  # repo-relative file -> what was read of it (bytes, or mtime in ns)


def signature_of(path: Path, *, size: bool) -> int | None:
    """What a file looks like now, in the terms ``Signatures`` uses; None when it is gone."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size if size else st.st_mtime_ns


# Every violation ever seen goes into each snapshot, and a snapshot is written several times a
# second under load: each event is encoded once (events never change) and kept while it is in
# the snapshot, so a write costs a join, not a re-encoding of the whole history.
_ENCODED: dict[int, tuple[ev.Event, str]] = {}
# The same for each agent's list of files (thousands in a long comm file). The list only grows (a
# new block adds the files it names at the end), so only what it gained is encoded: re-encoding
# whole lists was most of a snapshot, on the report thread while changes waited for the interpreter.
_FILES: dict[str, tuple[tuple[str, ...], str]] = {}  # agent -> (its files, them as a JSON array)


def _files_json(agent: str, files: tuple[str, ...]) -> str:
    known = _FILES.get(agent)
    if known is not None:
        old, text = known
        if old is files:
            return text
        n = len(old)
        if len(files) >= n and files[:n] == old:
            if len(files) > n:
                more = json.dumps(list(files[n:]), separators=(",", ":"))[1:-1]
                text = f"{text[:-1]},{more}]" if n else f"[{more}]"
            _FILES[agent] = (files, text)
            return text
    text = json.dumps(list(files), separators=(",", ":"))
    _FILES[agent] = (files, text)
    return text


def write(paths: SquadPaths, snap: Snapshot, files: Signatures) -> None:
    """Save ``snap`` with the signatures of what it was built from."""
    seen: dict[int, tuple[ev.Event, str]] = {}
    fragments = []
    for event in snap.violations:
        hit = _ENCODED.get(id(event))
        if hit is None or hit[0] is not event:
            hit = (event, json.dumps(event.to_json()))
        seen[id(event)] = hit
        fragments.append(hit[1])
    _ENCODED.clear()
    _ENCODED.update(seen)
    agents = []
    for a in snap.agents:
        files_json = _files_json(a.id, a.files_modified)
        agents.append(f'{json.dumps(_agent_json(a), separators=(",", ":"))[:-1]},"files_modified":{files_json}}}')
    for gone in set(_FILES) - {a.id for a in snap.agents}:
        del _FILES[gone]
    data = {"version": VERSION, "at": snap.at.isoformat(), "files": files, "snapshot": _dump(snap)}
    head = json.dumps(data, separators=(",", ":"))
    # Written piece by piece (megabytes with long comm files): joined into one string, the copy
    # held the interpreter for milliseconds on the report thread while a change waited on it.
    write_atomic(paths.snapshot_cache, _pieces(head[:-1], agents, fragments), fsync=False)


def _pieces(head: str, agents: list[str], violations: list[str]) -> Iterator[str]:
    yield head + ',"agents":['
    for i, agent in enumerate(agents):
        yield agent if i == 0 else "," + agent
    yield '],"violations":['
    yield ",".join(violations)
    yield "]}\n"


def read(paths: SquadPaths, now: datetime) -> Snapshot | None:
    """The saved snapshot if every file it was built from is still as it was read; else None.

    Agents' silence is recomputed for ``now``; leases are left out (the caller reads them fresh)."""
    from squad.coordinator.state import Snapshot  # below: state imports this module

    try:
        data = json.loads(paths.snapshot_cache.read_text(encoding="utf-8"))
        if data.get("version") != VERSION or not _fresh(paths, data["files"]):
            return None
        body = data["snapshot"]
        agents = tuple(_agent(a, now) for a in data["agents"])
        return Snapshot(
            at=now,
            agents=agents,
            locks=(),
            handoffs=tuple((h["owner"], _handoff(h)) for h in body["handoffs"]),
            violations=tuple(ev.parse_event(line, paths.snapshot_cache, 0) for line in data["violations"]),
            events=tuple(ev.parse_event(line, paths.snapshot_cache, 0) for line in body["events"]),
            problems=tuple(SquadError(p["message"], path=p["path"], line=p["line"]) for p in body["problems"]),
            metrics=dict(body["metrics"]),
            stale_s=body["stale_s"],
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, SquadError):
        return None  # no snapshot, an older shape, a torn file: read the files instead


def _fresh(paths: SquadPaths, files: Signatures) -> bool:
    """Every file read is unchanged, and no comm file or plan appeared since."""
    from squad.agents.roster import MEMBER_FILE_RE

    listed: set[str] = set()
    for folder in (paths.comms, paths.plans):
        try:
            with os.scandir(folder) as entries:
                listed.update(paths.display(Path(e.path)) for e in entries if MEMBER_FILE_RE.match(e.name))
        except OSError:
            continue
    known = {f for f in files if MEMBER_FILE_RE.match(f.rsplit("/", 1)[-1]) and files[f] is not None}
    if listed != known:
        return False
    for rel, seen in files.items():
        if signature_of(paths.root / rel, size=rel.endswith((".jsonl", "-comm.md"))) != seen:
            return False
    return True


def _dump(snap: Snapshot) -> dict[str, Any]:
    return {
        "handoffs": [
            {
                "owner": owner,
                "line": h.line,
                "at": h.at.isoformat() if h.at else None,
                "from": h.from_agent,
                "to": h.to_agent,
                "file": h.file,
                "status": h.status,
                "reason": h.reason,
            }
            for owner, h in snap.handoffs
        ],
        "events": [e.to_json() for e in snap.events],
        "problems": [
            {"message": p.message, "path": str(p.path) if p.path is not None else None, "line": p.line}
            for p in snap.problems
        ],
        "metrics": snap.metrics,
        "stale_s": snap.stale_s,
    }


def _agent_json(a: AgentState) -> dict[str, Any]:
    p = a.progress
    return {
        "id": a.id,
        "status": a.status.value,
        "task": a.task,
        "progress": [p.done, p.total, p.percent] if p else None,
        "last_update": a.last_update.isoformat() if a.last_update else None,
        "waiting_for": a.waiting_for,
        "waiting_path": a.waiting_path,
        "waiting_holder": a.waiting_holder,
        "alternative": a.alternative,
        "tasks_total": a.tasks_total,
        "evidence_exit": a.evidence_exit,
    }


def _agent(d: dict[str, Any], now: datetime) -> AgentState:
    last = datetime.fromisoformat(d["last_update"]) if d["last_update"] else None
    p = d["progress"]
    state = AgentState(
        id=d["id"],
        status=Status(d["status"]),
        task=d["task"],
        progress=Progress(int(p[0]), int(p[1]), bool(p[2])) if p else None,
        last_update=last,
        idle_s=None,
        files_modified=tuple(d["files_modified"]),
        waiting_for=d["waiting_for"],
        waiting_path=d["waiting_path"],
        waiting_holder=d["waiting_holder"],
        alternative=d["alternative"],
        tasks_total=d["tasks_total"],
        evidence_exit=d["evidence_exit"],
    )
    return replace(state, idle_s=max(0.0, (now - last).total_seconds()) if last else None)


def _handoff(h: dict[str, Any]) -> HandoffRequest:
    return HandoffRequest(
        line=int(h["line"]),
        at=datetime.fromisoformat(h["at"]) if h["at"] else None,
        from_agent=h["from"],
        to_agent=h["to"],
        file=h["file"],
        status=h["status"],
        reason=h["reason"],
    )
