"""A snapshot of the squad, built from the files alone: what ``squad status`` prints.

``agent_state`` folds one agent's comm blocks into its current state; the daemon reuses it with its
incremental readers, ``build_snapshot`` with full reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from squad.agents.liveness import (
    AgentState,
    agent_state,
    find_agent,
    is_stale_agent,
    moved_tasks,
    pid_alive,
    reopened,
    stale_reason,
)
from squad.agents.roster import Member, members, read_member_plan
from squad.config import Config, load_config
from squad.enforce.plan_rules import SourcedPlan
from squad.errors import SquadError
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import HandoffRequest, read_comm
from squad.protocol.lease import Lease
from squad.protocol.ownership import Entry
from squad.protocol.times import format_time

# Liveness lives in squad.agents.liveness (below the lock manager); re-exported for the coordinator's modules.
__all__ = [
    "AgentState",
    "EventTally",
    "LockView",
    "Snapshot",
    "agent_state",
    "build_snapshot",
    "compute_metrics",
    "find_agent",
    "is_stale_agent",
    "moved_tasks",
    "pid_alive",
    "read_locks",
    "reopened",
    "stale_reason",
]


@dataclass(frozen=True)
class LockView:
    lease: Lease
    stale: bool
    stale_reason: str | None
    held_s: float
    long_held: bool

    def as_json(self) -> dict[str, Any]:
        return {
            **self.lease.as_json(),
            "stale": self.stale,
            "stale_reason": self.stale_reason,
            "long_held": self.long_held,
        }


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
    stale_s: float | None = None  # config agent_stale_s: agents silent past it are shown as stale
    rules: tuple[Entry, ...] = ()  # the ownership rules in force, each naming where it is written

    def as_json(self) -> dict[str, Any]:
        return {
            "agents": [{**a.as_json(), "stale": is_stale_agent(a, self.stale_s)} for a in self.agents],
            "locks": [lock.as_json() for lock in self.locks],
            "handoffs": [
                {
                    "from": h.from_agent or owner,
                    "to": h.to_agent,
                    "file": h.file,
                    "status": h.status,
                    "reason": h.reason,
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
            "rules": [
                {
                    "pattern": r.pattern,
                    "access": r.access,
                    "owner": r.owner,
                    "owners": list(r.owners),
                    "resource": r.resource,
                    "source": r.source,
                }
                for r in self.rules
            ],
            "problems": [str(problem) for problem in self.problems],
        }


def full_ids(handoffs: list[tuple[str, HandoffRequest]], known: list[str]) -> list[tuple[str, HandoffRequest]]:
    """Handoffs with their FROM and TO as the roster knows them (``agent-2`` -> ``agent-2-backend``)."""
    return [
        (owner, replace(h, from_agent=_full_id(h.from_agent, known), to_agent=_full_id(h.to_agent, known)))
        for owner, h in handoffs
    ]


def _full_id(name: str | None, known: list[str]) -> str | None:
    """``agent-2`` as the roster knows it (``agent-2-backend``); a name nobody knows as written."""
    from squad.protocol.ids import same_agent

    if name is None:
        return None
    return next((k for k in known if same_agent(k, name)), name)


def read_locks(
    paths: SquadPaths,
    config: Config,
    agents: tuple[AgentState, ...],
    now: datetime,
    problems: list[SquadError] | None = None,
) -> list[LockView]:
    """Every readable lease as a view; an unreadable lease file is added to ``problems``, not raised."""
    from squad.leases.locks import survey

    found = survey(paths, config=config)
    if problems is not None:
        problems.extend(error for _, error in found.unreadable)
    views = []
    for lease in found.leases:
        reason = stale_reason(lease, find_agent(agents, lease.agent), now, config)
        held = max(0.0, (now - lease.acquired_at).total_seconds())
        views.append(LockView(lease, reason is not None, reason, held, held >= config.lock_warn_s))
    return views


@dataclass
class EventTally:
    """What the metrics count in the event log, kept as events arrive: the log only grows, so the
    coordinator adds each new event once instead of walking the whole log for every snapshot."""

    violations: list[ev.Event] = field(default_factory=list)
    wait_s: list[float] = field(default_factory=list)

    def add(self, events: Iterable[ev.Event]) -> None:
        for e in events:
            if e.kind in (ev.VIOLATION, ev.VIOLATION_ATTEMPT):
                self.violations.append(e)
            elif e.kind == ev.LOCK_WAIT:
                self.wait_s.append(float(e.data.get("waited_s", 0)))

    @classmethod
    def of(cls, events: Iterable[ev.Event]) -> EventTally:
        tally = cls()
        tally.add(events)
        return tally


def compute_metrics(agents: tuple[AgentState, ...], tally: EventTally) -> dict[str, Any]:
    done = sum(a.tasks_done for a in agents)
    total = sum(a.tasks_planned for a in agents)
    wait_s = tally.wait_s
    return {
        "tasks_done": done,
        "tasks_total": total,
        "completion_rate": round(done / total, 3) if total else None,
        "conflicts": len(tally.violations),
        "lock_waits": len(wait_s),
        "mean_lock_wait_s": round(sum(wait_s) / len(wait_s), 2) if wait_s else None,
    }


def build_snapshot(paths: SquadPaths, now: datetime, config: Config | None = None, *, strict: bool = True) -> Snapshot:
    """Everything ``squad status`` shows, from the files. ``strict`` raises the first malformed file."""
    config = config or load_config(paths.config)
    if (kept := _from_coordinator(paths, now, config, strict)) is not None:
        return kept
    problems: list[SquadError] = []
    agents = []
    handoffs: list[tuple[str, HandoffRequest]] = []
    events = ev.read_events(paths.events)
    roster: list[Member] = members(paths)
    plans: list[SourcedPlan] = []
    for member in roster:
        plan = read_member_plan(member, problems)  # a malformed plan is reported, its agent still shown
        plans.extend([SourcedPlan(paths.display(member.plan), plan)] if plan else [])
        comm = read_comm(member.comm, paths.display(member.comm))
        problems.extend(comm.problems)
        name = plan.agent if plan else member.name
        agents.append(reopened(agent_state(name, comm, plan, now), plan, events))
        # a handoff with no time of its own ("[timestamp]") takes the file's, as a status block does
        handoffs.extend((name, replace(h, at=h.at or comm.mtime)) for h in comm.handoffs)
    if strict and problems:
        raise problems[0]
    handoffs = full_ids(handoffs, [a.id for a in agents])
    agent_tuple = tuple(agents)
    locks = read_locks(paths, config, agent_tuple, now, problems)
    rules = read_rules(paths, config, plans, problems)
    tally = EventTally.of(events)
    return Snapshot(
        at=now,
        agents=agent_tuple,
        locks=tuple(locks),
        handoffs=tuple(handoffs),
        violations=tuple(tally.violations),
        events=tuple(events[-50:]),
        problems=tuple(problems),
        metrics=compute_metrics(agent_tuple, tally),
        stale_s=config.agent_stale_s,
        rules=rules,
    )


def read_rules(
    paths: SquadPaths, config: Config, plans: list[SourcedPlan] | None, problems: list[SquadError]
) -> tuple[Entry, ...]:
    """The ownership rules in force, each with its source: ``ownership.yaml``'s, else what the plans
    imply. Where the matrix refuses an agent a path its plan writes, the conflict goes to ``problems``
    (naming both files); so does a malformed matrix, while everything else is still shown."""
    from squad.enforce.access import load_rules, plan_conflicts, read_plans
    from squad.enforce.plan_rules import derive_entries

    if plans is None:
        plans = read_plans(paths, [])  # a malformed plan is reported with its agent already
    if not paths.ownership.exists():
        return derive_entries(plans)
    try:
        matrix = load_rules(paths, config)
    except SquadError as exc:
        problems.append(exc)
        return ()
    problems.extend(plan_conflicts(paths, matrix, plans))
    return matrix.entries


def _from_coordinator(paths: SquadPaths, now: datetime, config: Config, strict: bool) -> Snapshot | None:
    """The coordinator's own snapshot when it still says what the files say (``coordinator.cache``):
    no comm file parsed again, however long. Leases are read fresh."""
    from squad.coordinator import cache

    kept = cache.read(paths, now)
    if kept is None:
        return None
    problems = [p for p in kept.problems if "lease" not in p.message]  # the leases' own are read afresh below
    if strict and problems:
        raise problems[0]
    locks = read_locks(paths, config, kept.agents, now, problems)
    rules = read_rules(paths, config, None, problems)
    return replace(kept, locks=tuple(locks), problems=tuple(problems), stale_s=config.agent_stale_s, rules=rules)
