"""A snapshot of the squad, built from the files alone: what ``squad status`` prints.

``agent_state`` folds one agent's comm blocks into its current state; the daemon reuses it with its
incremental readers, ``build_snapshot`` with full reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from squad.config import Config, load_config
from squad.errors import SquadError
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import CommFile, HandoffRequest, Progress, Status, StatusUpdate, read_comm
from squad.protocol.lease import Lease, lease_files, read_lease
from squad.protocol.plan import Plan, read_plan
from squad.protocol.times import format_time
from squad.roster import Member, members


@dataclass(frozen=True)
class AgentState:
    id: str
    status: Status
    task: str | None
    progress: Progress | None
    last_update: datetime | None
    idle_s: float | None
    files_modified: tuple[str, ...]
    waiting_for: str | None
    waiting_path: str | None = None
    waiting_holder: str | None = None
    alternative: str | None = None
    tasks_total: int | None = None
    evidence_exit: int | None = None

    @property
    def tasks_done(self) -> int:
        total = self.tasks_planned
        if self.status is Status.DONE:
            return total
        return min(self.progress.done, total) if self.progress else 0

    @property
    def tasks_planned(self) -> int:
        """Tasks in its plan (which the coordinator may have changed), else what it reported."""
        if self.tasks_total is not None:
            return self.tasks_total
        return self.progress.total if self.progress else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "task": self.task,
            "progress": {"done": self.progress.done, "total": self.progress.total} if self.progress else None,
            "last_update": format_time(self.last_update) if self.last_update else None,
            "idle_s": round(self.idle_s, 1) if self.idle_s is not None else None,
            "files_modified": list(self.files_modified),
            "waiting_for": self.waiting_for,
        }


def agent_state(name: str, comm: CommFile, plan: Plan | None, now: datetime) -> AgentState:
    """Fold an agent's status blocks in file order: the latest block wins field by field."""
    status = Status.STARTING
    task = None
    progress = None
    files: list[str] = []
    waiting: StatusUpdate | None = None
    alternative = None
    evidence_exit = None
    last: datetime | None = None
    latest_untimed = False
    for block in comm.blocks:
        if block.at is not None:
            last = block.at if last is None else max(last, block.at)
        if not isinstance(block, StatusUpdate):
            continue
        latest_untimed = block.at is None
        if block.status is not None:
            status = block.status
            if status not in (Status.BLOCKED, Status.WAITING):
                waiting, alternative = None, None
        task = block.task or task
        progress = block.progress or progress
        for f in (*block.files_modified, *block.files_created):
            if f not in files:
                files.append(f)
        if block.waiting_for is not None:
            waiting = block
        if block.alternative:
            alternative = block.alternative
        if block.evidence_exit is not None:
            evidence_exit = block.evidence_exit
    if (latest_untimed or last is None) and comm.mtime is not None:
        last = comm.mtime if last is None else max(last, comm.mtime)
    total = len(plan.tasks) if plan is not None else None
    if progress is None and total:
        progress = Progress(total if status is Status.DONE else 0, total)
    wf = waiting.waiting_for if waiting is not None else None
    return AgentState(
        id=name,
        status=status,
        task=task,
        progress=progress,
        last_update=last,
        idle_s=max(0.0, (now - last).total_seconds()) if last else None,
        files_modified=tuple(files),
        waiting_for=wf.text if wf else None,
        waiting_path=wf.path if wf else None,
        waiting_holder=wf.holder if wf else None,
        alternative=alternative,
        tasks_total=total,
        evidence_exit=evidence_exit,
    )


def moved_tasks(events: list[ev.Event] | tuple[ev.Event, ...]) -> list[tuple[datetime, str, tuple[str, ...]]]:
    """``(when, to agent, task ids)`` for every reassignment and steal in the event log."""
    out = []
    for e in events:
        if e.kind in (ev.REASSIGN, ev.STEAL) and e.data.get("target"):
            out.append((e.at, str(e.data["target"]), tuple(str(t) for t in e.data.get("tasks", []))))
    return out


def reopened(state: AgentState, plan: Plan | None, events: list[ev.Event] | tuple[ev.Event, ...]) -> AgentState:
    """An agent that reported DONE and was then given tasks (stealing, reassignment) is not done:
    it is WAITING to pick them up, with those tasks still to do."""
    from squad.protocol.ids import same_agent

    if state.status is not Status.DONE or plan is None:
        return state
    given = {
        task
        for at, agent, tasks in moved_tasks(events)
        if same_agent(agent, state.id) and (state.last_update is None or at >= state.last_update)
        for task in tasks
    }
    todo = [t for t in plan.tasks if t.id in given]
    if not todo:
        return state
    total = len(plan.tasks)
    return replace(state, status=Status.WAITING, progress=Progress(total - len(todo), total))


@dataclass(frozen=True)
class LockView:
    lease: Lease
    stale: bool
    stale_reason: str | None
    held_s: float
    long_held: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.lease.path,
            "agent": self.lease.agent,
            "acquired_at": format_time(self.lease.acquired_at),
            "expires_at": format_time(self.lease.expires_at),
            "stale": self.stale,
            "stale_reason": self.stale_reason,
            "reason": self.lease.reason,
            "long_held": self.long_held,
        }


def stale_reason(lease: Lease, holder: AgentState | None, now: datetime, config: Config) -> str | None:
    """Why ``lease`` is stale, or None while it is live (design section 2)."""
    if lease.expired(now):
        return f"expired at {format_time(lease.expires_at)}"
    if holder is not None:
        if holder.status in (Status.DONE, Status.FAILED):
            return f"holder {holder.id} reported {holder.status.value}"
        if holder.idle_s is not None and holder.idle_s >= config.agent_stale_s:
            return f"holder {holder.id} has been silent for {int(holder.idle_s)}s"
    if lease.pid is not None and not _pid_alive(lease.pid):
        return f"holder process {lease.pid} is gone"
    return None


def _pid_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    agents: tuple[AgentState, ...]
    locks: tuple[LockView, ...]
    handoffs: tuple[tuple[str, HandoffRequest], ...]  # (comm owner, request)
    violations: tuple[ev.Event, ...]
    events: tuple[ev.Event, ...] = ()
    problems: tuple[SquadError, ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "agents": [a.as_json() for a in self.agents],
            "locks": [lock.as_json() for lock in self.locks],
            "handoffs": [
                {
                    "from": h.from_agent or owner,
                    "to": h.to_agent,
                    "file": h.file,
                    "status": h.status,
                    "at": format_time(h.at) if h.at else None,
                }
                for owner, h in self.handoffs
            ],
            "violations": [
                {
                    "agent": v.agent,
                    "path": v.path,
                    "rule": v.data.get("rule", v.detail),
                    "at": format_time(v.at),
                }
                for v in self.violations
            ],
            "metrics": self.metrics,
        }


def find_agent(agents: tuple[AgentState, ...] | list[AgentState], name: str) -> AgentState | None:
    from squad.protocol.ids import same_agent

    return next((a for a in agents if same_agent(a.id, name)), None)


def read_locks(paths: SquadPaths, config: Config, agents: tuple[AgentState, ...], now: datetime) -> list[LockView]:
    views = []
    for file in lease_files(paths.locks):
        lease = read_lease(file, paths.locks, config.lock_ttl_s)
        if lease is None:
            continue
        reason = stale_reason(lease, find_agent(agents, lease.agent), now, config)
        held = max(0.0, (now - lease.acquired_at).total_seconds())
        views.append(LockView(lease, reason is not None, reason, held, held >= config.lock_warn_s))
    return views


def compute_metrics(agents: tuple[AgentState, ...], events: list[ev.Event]) -> dict[str, Any]:
    done = sum(a.tasks_done for a in agents)
    total = sum(a.tasks_planned for a in agents)
    waits = [e for e in events if e.kind == ev.LOCK_WAIT]
    wait_s = [float(e.data.get("waited_s", 0)) for e in waits]
    return {
        "tasks_done": done,
        "tasks_total": total,
        "completion_rate": round(done / total, 3) if total else None,
        "conflicts": sum(1 for e in events if e.kind in (ev.VIOLATION, ev.VIOLATION_ATTEMPT)),
        "lock_waits": len(waits),
        "mean_lock_wait_s": round(sum(wait_s) / len(wait_s), 2) if wait_s else None,
    }


def build_snapshot(paths: SquadPaths, now: datetime, config: Config | None = None, *, strict: bool = True) -> Snapshot:
    """Everything ``squad status`` shows, from the files. ``strict`` raises the first malformed file."""
    config = config or load_config(paths.config)
    problems: list[SquadError] = []
    agents = []
    handoffs: list[tuple[str, HandoffRequest]] = []
    events = ev.read_events(paths.events)
    roster: list[Member] = members(paths)
    for member in roster:
        plan = read_plan(member.plan) if member.plan.exists() else None
        comm = read_comm(member.comm, paths.display(member.comm))
        problems.extend(comm.problems)
        name = plan.agent if plan else member.name
        agents.append(reopened(agent_state(name, comm, plan, now), plan, events))
        handoffs.extend((name, h) for h in comm.handoffs)
    if strict and problems:
        raise problems[0]
    agent_tuple = tuple(agents)
    locks = read_locks(paths, config, agent_tuple, now)
    violations = tuple(e for e in events if e.kind in (ev.VIOLATION, ev.VIOLATION_ATTEMPT))
    return Snapshot(
        at=now,
        agents=agent_tuple,
        locks=tuple(locks),
        handoffs=tuple(handoffs),
        violations=violations,
        events=tuple(events[-50:]),
        problems=tuple(problems),
        metrics=compute_metrics(agent_tuple, events),
    )
