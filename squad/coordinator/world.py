"""What a coordinator rule sees and what it may ask for: the world, the actions, plan helpers.

Records only and pure helpers; ``rules`` decides, ``actions`` acts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

from squad.config import Access, Config
from squad.coordinator.state import AgentState, LockView
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import HandoffRequest, Status, StatusUpdate
from squad.protocol.ids import agent_number, same_agent
from squad.protocol.lease import Lease
from squad.protocol.ownership import Matrix
from squad.protocol.plan import Plan, PlanTask
from squad.protocol.times import format_time

# Event kinds the coordinator writes (all kinds are named in protocol/events.py).
TASK_BLOCKED = ev.TASK_BLOCKED
TASK_UNBLOCKED = ev.TASK_UNBLOCKED
UNPROVEN_DONE = ev.UNPROVEN_DONE
STEAL = ev.STEAL
PAUSED = ev.PAUSED
RESUMED = ev.RESUMED
HANDOFF_REFUSED = ev.HANDOFF_REFUSED


# -- actions: what a rule asks ``actions.apply`` to do -------------------------------------------
@dataclass(frozen=True)
class Notify:
    key: str
    to: str
    kind: str
    text: str


@dataclass(frozen=True)
class BreakStale:
    """Break every stale lease (``locks.break_stale``) and tell each holder."""

    key: str


@dataclass(frozen=True)
class BreakLease:
    """Break exactly the lease judged: ``holder``'s on ``target``, taken at ``acquired_at``."""

    key: str
    target: str
    holder: str
    reason: str
    acquired_at: datetime | None = None


@dataclass(frozen=True)
class MoveTasks:
    """Move tasks from one plan to another; ``files`` change owner with them."""

    key: str
    source: str
    target: str
    task_ids: tuple[str, ...]
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransferOwnership:
    key: str
    file: str
    from_agent: str
    to_agent: str
    exclusive: bool
    unblock: tuple[tuple[str, str], ...] = ()  # (agent, task id) whose wait ends


@dataclass(frozen=True)
class MarkBlocked:
    key: str
    agent: str
    task: str
    reason: str


@dataclass(frozen=True)
class UnmarkBlocked:
    key: str
    agent: str
    task: str
    reason: str  # the mark to lift (left alone if the plan now says something else)


Action = Notify | BreakStale | BreakLease | MoveTasks | TransferOwnership | MarkBlocked | UnmarkBlocked
Item = ev.Event | Action


# -- the world a rule sees ------------------------------------------------------------------------
@dataclass(frozen=True)
class AgentView:
    state: AgentState
    plan: Plan | None
    updates: tuple[StatusUpdate, ...] = ()
    handoffs: tuple[HandoffRequest, ...] = ()
    blocked_since: datetime | None = None
    assigned: tuple[str, ...] = ()  # task ids moved to this agent since its last update
    failures: tuple[tuple[str, int], ...] = ()  # FAILED reports by the task text they name

    @property
    def id(self) -> str:
        return self.state.id


@dataclass(frozen=True)
class World:
    paths: SquadPaths
    agents: tuple[AgentView, ...]
    matrix: Matrix
    locks: tuple[LockView, ...]
    fresh: tuple[tuple[str, StatusUpdate], ...] = ()  # status blocks not yet checked for ownership
    changed_files: tuple[str, ...] = ()  # work-tree paths that changed (shared checkout)
    agent_changed: tuple[tuple[str, str], ...] = ()  # (agent, path) changed in that agent's own worktree
    paused: bool = False
    extra: dict[str, object] = field(default_factory=dict)
    released: tuple[tuple[Lease, datetime], ...] = ()  # leases seen released lately, and when

    def agent(self, name: str | None) -> AgentView | None:
        """The agent ``name`` names (by number, as ``same_agent``); None when none does."""
        number = agent_number(name) if name is not None else None
        return None if number is None else self._by_number.get(number)

    @cached_property
    def _by_number(self) -> dict[int, AgentView]:
        # A rule asks for an agent per status block: an index, not a walk over every agent.
        index: dict[int, AgentView] = {}
        for view in self.agents:
            number = agent_number(view.id)
            if number is not None:
                index.setdefault(number, view)
        return index

    @cached_property
    def done(self) -> frozenset[str]:
        """Ids of tasks done: behind their agent's progress in a plan, and unfinished in no plan (a
        reassigned task may sit in two plans for a moment). An id in no plan is not done."""
        done: set[str] = set()
        pending: set[str] = set()
        for view in self.agents:
            if view.plan is None:
                continue
            left = {t.id for t in unfinished(view)}
            for t in view.plan.tasks:
                (pending if t.id in left else done).add(t.id)
        return frozenset(done - pending)


def stamp(moment: datetime | None) -> str:
    return format_time(moment) if moment else "-"


def make_event(kind: str, now: datetime, key: str, *, agent: str | None = None, path: str | None = None,
           detail: str = "", **data: object) -> ev.Event:  # fmt: skip
    return ev.Event(kind=kind, at=now, agent=agent, path=path, detail=detail, data=data, key=key)


# -- helpers on plans -----------------------------------------------------------------------------
def task_of(text: str | None, plan: Plan | None) -> PlanTask | None:
    """The plan task a ``Current Task:`` text names (``T3 Add charts`` -> T3)."""
    if not text or plan is None:
        return None
    head = text.split()[0].strip(":.,-") if text.split() else ""
    for task in plan.tasks:
        if task.id.lower() == head.lower() or task.title.lower() == text.strip().lower():
            return task
    return None


def unfinished(view: AgentView) -> list[PlanTask]:
    """Tasks after the ones the agent reports done (progress counts tasks in plan order)."""
    if view.plan is None:
        return []
    if view.state.status is Status.DONE:
        return [t for t in view.plan.tasks if t.id in view.assigned]
    done = view.state.progress.done if view.state.progress else 0
    return list(view.plan.tasks[min(done, len(view.plan.tasks)) :])


def unstarted(view: AgentView) -> list[PlanTask]:
    """Unfinished tasks other than the one the agent is on."""
    rest = unfinished(view)
    current = task_of(view.state.task, view.plan)
    if current is not None:
        return [t for t in rest if t.id != current.id]
    return rest[1:] if view.state.status is not Status.STARTING else rest


def load(view: AgentView) -> float:
    return sum(t.estimate_h for t in unfinished(view))


def is_stale(view: AgentView, config: Config) -> bool:
    """The one definition (``liveness.is_stale_agent``), as the monitor and ``squad status`` use it."""
    from squad.agents.liveness import is_stale_agent

    return is_stale_agent(view.state, config.agent_stale_s)


def may_take(matrix: Matrix, taker: str, source: str, task: PlanTask) -> tuple[bool, tuple[str, ...]]:
    """Whether ``taker`` may do ``task`` of ``source``; and which files change owner if it does."""
    moving = []
    for file in task.files:
        rule = matrix.rule(file)
        if rule.access == Access.READONLY:
            return False, ()
        if rule.access == Access.EXCLUSIVE and rule.owner and not same_agent(rule.owner, taker):
            if not same_agent(rule.owner, source):
                return False, ()
            moving.append(file)
    return True, tuple(moving)


def can_receive(view: AgentView, config: Config) -> bool:
    """May tasks be moved to this agent? Only to one that can start them now and was heard from
    within ``agent_stale_s``: never a FAILED, BLOCKED or stale one, nor a DONE one gone silent
    (its process has likely ended), nor one that never reported."""
    s = view.state
    if s.status in (Status.FAILED, Status.BLOCKED) or s.idle_s is None:
        return False
    return s.idle_s < config.agent_stale_s


def pick_target(
    world: World,
    source: AgentView,
    tasks: PlanTask | Sequence[PlanTask],
    config: Config,
    added: dict[str, float] | None = None,
) -> tuple[AgentView, tuple[str, ...]] | None:
    """The least-loaded live agent that may take every one of ``tasks`` (lowest number on a
    tie), with the files that go with them; ``added`` is load already given out in this round."""
    group = (tasks,) if isinstance(tasks, PlanTask) else tuple(tasks)
    best: tuple[float, str, AgentView, tuple[str, ...]] | None = None
    for view in world.agents:
        if same_agent(view.id, source.id) or view.plan is None or not can_receive(view, config):
            continue
        files: list[str] = []
        for task in group:
            ok, more = may_take(world.matrix, view.id, source.id, task)
            if not ok:
                break
            files.extend(f for f in more if f not in files)
        else:
            rank = (load(view) + (added or {}).get(view.id, 0.0), view.id)
            if best is None or rank < best[:2]:
                best = (*rank, view, tuple(files))
    return (best[2], best[3]) if best else None


def sharing_files(tasks: Sequence[PlanTask]) -> list[list[PlanTask]]:
    """``tasks`` in groups that must stay with one agent: tasks writing the same file (or a file
    inside a folder another writes) land together, as ``squad allocate`` never splits them.
    Groups and the tasks in each keep plan order."""
    from squad.leases.locks import conflicts

    leader = list(range(len(tasks)))

    def find(i: int) -> int:
        while leader[i] != i:
            leader[i] = leader[leader[i]]
            i = leader[i]
        return i

    for i, a in enumerate(tasks):
        for j in range(i):
            if any(conflicts(x, y) for x in a.files for y in tasks[j].files):
                leader[find(i)] = find(j)
    groups: dict[int, list[PlanTask]] = {}
    for i, task in enumerate(tasks):
        groups.setdefault(find(i), []).append(task)
    return list(groups.values())


def live_lease(world: World, path: str) -> LockView | None:
    from squad.leases.locks import conflicts

    return next((lv for lv in world.locks if not lv.stale and conflicts(lv.lease.path, path)), None)


def plan_path(paths: SquadPaths, agent: str) -> Path:
    from squad.protocol.ids import parse_agent_id

    parsed = parse_agent_id(agent)
    assert parsed is not None
    return paths.plan(parsed.number)


_OWN_FILE = re.compile(
    r"(?:\.claude/settings(?:\.local)?\.json|\.mcp\.json)(?:\.squad-backup)?(?:\.[^/]*\.tmp)?|\.git(?:/.*)?"
)


def squad_own_file(rel: str) -> bool:
    """Files squad itself writes outside ``.squad/`` (``squad hooks install``: the Claude settings,
    ``.mcp.json`` and their backups; git hooks): never an agent's work-tree change."""
    return _OWN_FILE.fullmatch(rel) is not None
