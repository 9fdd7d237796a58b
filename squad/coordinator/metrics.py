"""Measured metrics from the agents' status timelines and the event log, beside allocate's prediction.

Busy time is time an agent spent ACTIVE, taken from the gaps between its timed status blocks (the
last ACTIVE stretch runs until now). Measured parallel efficiency is the summed busy time over the
wall time: how many agents were effectively working at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from squad.agents.liveness import Timeline
from squad.coordinator.state import AgentState
from squad.paths import SquadPaths
from squad.protocol.comm import Status

# How each metric is named for people (status report, monitor).
LABELS: dict[str, str] = {
    "completion_rate": "task completion",
    "lock_waits": "lock waits",
    "mean_lock_wait_s": "mean lock wait (s)",
    "conflict_rate": "conflicts per reported file",
    "idle_s": "idle time, all agents (s)",
    "busy_s": "busy time, all agents (s)",
    "wall_s": "wall time (s)",
    "parallel_efficiency": "measured parallelism (busy/wall)",
    "predicted_parallel_efficiency": "predicted parallelism (allocate)",
    "time_saved": "time saved vs one agent",
    "predicted_time_saved": "predicted time saved",
    "predicted_makespan_h": "predicted makespan (h)",
    "predicted_sequential_h": "predicted one-agent time (h)",
}


def timeline(t: Timeline, now: datetime, *, running: bool) -> tuple[float, float]:
    """(busy seconds, idle seconds) of one agent: its stretches between timed status blocks (kept
    by its ``Fold`` as the blocks come), and, while it runs, the last stretch until now."""
    busy, idle = t.busy_s, t.idle_s
    if running and t.since is not None and t.status is not None and now > t.since:
        span = (now - t.since).total_seconds()
        if t.status is Status.ACTIVE:
            busy += span
        elif t.status in (Status.WAITING, Status.BLOCKED):
            idle += span
    return busy, idle


def prediction(paths: SquadPaths) -> dict[str, float]:
    """allocate's prediction from ``.squad/allocation.json`` (the ``squad allocate --json`` document:
    ``prediction: {sequential_h, makespan_h, speedup}``), as metric keys; empty when absent or unreadable."""
    try:
        data = json.loads(paths.allocation.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    value = data.get("prediction") if isinstance(data, dict) else None
    if not isinstance(value, dict):
        value = {"speedup": value}

    def number(key: str) -> float | None:
        x = value.get(key)
        return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and x >= 0 else None

    out: dict[str, float] = {}
    sequential, makespan = number("sequential_h"), number("makespan_h")
    speedup = number("speedup") or number("parallel_efficiency")
    if speedup is None and sequential and makespan:
        speedup = round(sequential / makespan, 2)
    if speedup is not None:
        out["predicted_parallel_efficiency"] = speedup
    if sequential is not None and makespan is not None and sequential > 0:
        out["predicted_time_saved"] = round(1 - makespan / sequential, 3)
    if makespan is not None:
        out["predicted_makespan_h"] = makespan
    if sequential is not None:
        out["predicted_sequential_h"] = sequential
    return out


def predicted(paths: SquadPaths) -> float | None:
    """allocate's predicted parallelism (``prediction.speedup`` in ``.squad/allocation.json``), if recorded."""
    return prediction(paths).get("predicted_parallel_efficiency")


def more_metrics(
    paths: SquadPaths,
    agents: Sequence[tuple[Timeline, AgentState]],
    conflicts: int,
    now: datetime,
) -> dict[str, Any]:
    busy = idle = 0.0
    first: datetime | None = None
    last: datetime | None = None
    running = False
    reported_files = 0
    for t, state in agents:
        live = state.status not in (Status.DONE, Status.FAILED)
        running = running or live
        b, i = timeline(t, now, running=live)
        busy, idle = busy + b, idle + i
        reported_files += t.reported_files
        if t.first is not None:
            first = t.first if first is None else min(first, t.first)
        if t.last is not None:
            last = t.last if last is None else max(last, t.last)
    end = now if running else last
    wall = (end - first).total_seconds() if first and end and end > first else 0.0
    out: dict[str, Any] = {
        "conflict_rate": round(conflicts / reported_files, 3) if reported_files else None,
        "idle_s": round(idle, 1),
        "busy_s": round(busy, 1),
        "wall_s": round(wall, 1),
        "parallel_efficiency": round(busy / wall, 2) if wall > 0 else None,
        "time_saved": round(1 - wall / busy, 3) if busy > 0 and wall > 0 else None,
    }
    out.update(prediction(paths))
    return out


def labelled(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value text) for each metric that has a value, in a stable order."""
    out = []
    done, total = metrics.get("tasks_done", 0), metrics.get("tasks_total", 0)
    out.append(("tasks done", f"{done}/{total}"))
    for key, label in LABELS.items():
        value = metrics.get(key)
        if value is None:
            continue
        if key in ("completion_rate", "time_saved", "predicted_time_saved"):
            text = f"{value * 100:.0f}%"
        elif key in ("parallel_efficiency", "predicted_parallel_efficiency"):
            text = f"{value:.2f}x"
        else:
            text = f"{value:g}"
        out.append((label, text))
    out.append(("conflicts", str(metrics.get("conflicts", 0))))
    return out
