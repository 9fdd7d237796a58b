"""One agent's view of the squad: its state and plan, the next task it may start, its leases, its
peers. What ``squad mcp``'s ``status`` and ``next`` tools return, from the same snapshot
``squad status`` prints and the same task rules the coordinator applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from squad.agents.liveness import AgentState, find_agent
from squad.agents.roster import members, read_member_plan
from squad.coordinator.state import LockView, build_snapshot
from squad.coordinator.world import AgentView, World, task_of, unfinished
from squad.errors import SquadError
from squad.leases.locks import same_holder
from squad.paths import SquadPaths
from squad.protocol.comm import Status
from squad.protocol.ids import same_agent
from squad.protocol.ownership import Matrix
from squad.protocol.plan import Plan, PlanTask

if TYPE_CHECKING:
    from squad.config import Config

__all__ = ["Brief", "NextTask", "agent_brief", "next_task"]


@dataclass(frozen=True)
class NextTask:
    """The next task an agent may start, or None with why not (one line either way)."""

    task: PlanTask | None
    why: str

    def line(self) -> str:
        if self.task is None:
            return f"none: {self.why}"
        return f"{self.task.id} {self.task.title}" + (f" ({self.why})" if self.why else "")


@dataclass(frozen=True)
class Brief:
    me: AgentState
    plan: Plan | None
    plan_file: str  # as shown to people: .squad/parallel-plans/agent-1-plan.md
    next: NextTask
    leases: tuple[LockView, ...]
    peers: tuple[AgentState, ...]
    paused: bool
    stale_s: float | None
    problems: tuple[SquadError, ...]


def next_task(paths: SquadPaths, me: AgentView, agents: Sequence[AgentView], *, paused: bool = False) -> NextTask:
    """The first of ``me``'s unfinished tasks (plan order) that it may start now.

    Done and unfinished mean what they mean to the coordinator (progress counts tasks in plan
    order; ``coordinator.world.unfinished`` and ``World.done``). The task the agent
    reports being on while ACTIVE is skipped: it was started already. A task waits while one of
    its dependencies is not done, or while the failure cascade marks it blocked in the plan.
    """
    if paused:
        return NextTask(None, "the squad is paused: wait for `squad resume`")
    if me.plan is None:
        return NextTask(None, f"{me.id} has no plan")
    rest = unfinished(me)
    if me.state.status is Status.ACTIVE:
        current = task_of(me.state.task, me.plan)
        rest = [t for t in rest if current is None or t.id != current.id]
    if not rest:
        return NextTask(None, f"all {len(me.plan.tasks)} tasks of the plan are done or started")
    done = World(paths, tuple(agents), Matrix(), ()).done
    # The cascade's marks in the plan's front matter: ``blocked: {T4: "T1 failed (agent-1)"}``.
    marks = me.plan.extra.get("blocked")
    blocked = {str(k): str(v) for k, v in marks.items()} if isinstance(marks, dict) else {}
    waits: list[str] = []
    for task in rest:
        missing = [d for d in task.depends_on if d not in done]
        if task.id in blocked:
            waits.append(f"{task.id} is blocked: {blocked[task.id]}")
        elif missing:
            waits.append(f"{task.id} waits on {', '.join(_owned(d, agents) for d in missing)}")
        else:
            return NextTask(task, "; ".join(waits))
    return NextTask(None, "; ".join(waits))


def _owned(task_id: str, agents: Sequence[AgentView]) -> str:
    owner = next((a.id for a in agents if a.plan is not None and any(t.id == task_id for t in a.plan.tasks)), None)
    return f"{task_id} ({owner})" if owner else task_id


def agent_brief(paths: SquadPaths, agent: str, now: datetime, config: Config | None = None) -> Brief:
    """``agent``'s brief, built from the files like ``squad status`` (malformed files are listed
    in ``problems``, never raised)."""
    snap = build_snapshot(paths, now, config, strict=False)
    roster = members(paths)
    ignored: list[SquadError] = []  # the snapshot already reports them
    plans = {m.name: read_member_plan(m, ignored) for m in roster}
    views = [AgentView(state, _plan_of(state.id, plans)) for state in snap.agents]
    me_state = find_agent(snap.agents, agent) or _silent(agent)
    me = next((v for v in views if same_agent(v.id, agent)), None) or AgentView(me_state, _plan_of(agent, plans))
    member = next((m for m in roster if same_agent(m.name, agent)), None)
    paused = paths.pause_flag.exists()
    return Brief(
        me=me_state,
        plan=me.plan,
        plan_file=paths.display(member.plan if member else paths.plan(_number(agent))),
        next=next_task(paths, me, views, paused=paused),
        leases=tuple(lock for lock in snap.locks if same_holder(lock.lease.agent, agent)),
        peers=tuple(a for a in snap.agents if not same_agent(a.id, agent)),
        paused=paused,
        stale_s=snap.stale_s,
        problems=snap.problems,
    )


def _plan_of(agent: str, plans: dict[str, Plan | None]) -> Plan | None:
    return next((plan for name, plan in plans.items() if same_agent(name, agent)), None)


def _silent(agent: str) -> AgentState:
    """An agent the files know only by name (a matrix owner that has posted nothing yet)."""
    return AgentState(agent, Status.STARTING, None, None, None, None, (), None)


def _number(agent: str) -> int:
    from squad.protocol.ids import parse_agent_id

    parsed = parse_agent_id(agent)
    return parsed.number if parsed else 0
