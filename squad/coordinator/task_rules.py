"""The coordinator's rules that move work: reassignment, work stealing, the failure cascade and
its lifting. Pure functions ``(world, now, config) -> list[Event | Action]``, like every rule
(``rules`` lists them all, in order)."""

from __future__ import annotations

from datetime import datetime

from squad.config import Config
from squad.coordinator.world import (
    STEAL,
    TASK_BLOCKED,
    TASK_UNBLOCKED,
    AgentView,
    Item,
    MarkBlocked,
    MoveTasks,
    Notify,
    UnmarkBlocked,
    World,
    can_receive,
    is_stale,
    load,
    make_event,
    may_take,
    pick_target,
    sharing_files,
    stamp,
    task_of,
    unfinished,
    unstarted,
)
from squad.protocol import events as ev
from squad.protocol.comm import Status
from squad.protocol.plan import PlanTask


def rule_reassign(world: World, now: datetime, config: Config) -> list[Item]:
    """Tasks of a FAILED or stale agent (all unfinished ones), or of one BLOCKED past
    ``reassign_after_s`` (the ones it has not started), go to the least-loaded live agent."""
    if world.paused:
        return []
    out: list[Item] = []
    for view in world.agents:
        s = view.state
        if s.status is Status.FAILED or is_stale(view, config):
            tasks, why = unfinished(view), ("failed" if s.status is Status.FAILED else "stale")
        elif (
            s.status is Status.BLOCKED
            and view.blocked_since
            and (now - view.blocked_since).total_seconds() >= config.reassign_after_s
        ):
            tasks, why = unstarted(view), f"blocked since {stamp(view.blocked_since)}"
        else:
            continue
        out.extend(_moves(world, view, tasks, now, config, ev.REASSIGN, why))
    return out


def rule_steal(world: World, now: datetime, config: Config) -> list[Item]:
    """An agent that reported DONE takes unstarted tasks (the later half) from a busy one."""
    if world.paused:
        return []
    idle = sorted(
        (
            v
            for v in world.agents
            if v.state.status is Status.DONE and v.plan is not None and not v.assigned and can_receive(v, config)
        ),
        key=lambda v: v.id,
    )
    out: list[Item] = []
    taken: set[str] = set()
    done = done_tasks(world)
    for thief in idle:
        for view in sorted(world.agents, key=lambda v: -load(v)):
            if view is thief or view.state.status not in (Status.ACTIVE, Status.STARTING, Status.WAITING):
                continue
            if view.assigned:
                continue  # it was just given tasks it has not picked up: taking them back is churn
            spare = [t for t in unstarted(view) if t.id not in taken and t.id not in _blocked_ids(view)]
            spare = spare[len(spare) // 2 :]
            movable: list[PlanTask] = []
            for t in spare:  # plan order: a task may wait on one moving with it
                ready = all(d in done or d in {m.id for m in movable} for d in t.depends_on)
                if ready and may_take(world.matrix, thief.id, view.id, t)[0]:
                    movable.append(t)
            if not movable:
                continue
            files = tuple(f for t in movable for f in may_take(world.matrix, thief.id, view.id, t)[1])
            ids = tuple(t.id for t in movable)
            taken.update(ids)
            key = f"steal:{view.id}:{','.join(ids)}"
            out.append(MoveTasks(key, view.id, thief.id, ids, files))
            out.append(make_event(STEAL, now, key, agent=thief.id, detail=f"{thief.id} takes {', '.join(ids)} from {view.id}",
                              source=view.id, target=thief.id, tasks=list(ids)))  # fmt: skip
            out.append(Notify(key, thief.id, STEAL, f"You take {', '.join(ids)} from {view.id}: see your plan."))
            out.append(Notify(key, view.id, STEAL, f"{thief.id} takes {', '.join(ids)} from you: skip them."))
            break
    return out


def _moves(world: World, view: AgentView, tasks: list[PlanTask], now: datetime, config: Config, kind: str,
           why: str) -> list[Item]:  # fmt: skip
    out: list[Item] = []
    plan_by_target: dict[str, tuple[AgentView, list[str], list[str]]] = {}
    added: dict[str, float] = {}
    for group in sharing_files(tasks):  # tasks writing one file move together, never to two agents
        picked = pick_target(world, view, group, config, added)
        if picked is None:
            continue
        target, files = picked
        added[target.id] = added.get(target.id, 0.0) + sum(task.estimate_h for task in group)
        entry = plan_by_target.setdefault(target.id, (target, [], []))
        entry[1].extend(task.id for task in group)
        entry[2].extend(f for f in files if f not in entry[2])
    for target, ids, moved in plan_by_target.values():
        key = f"{kind}:{view.id}:{','.join(ids)}"
        out.append(MoveTasks(key, view.id, target.id, tuple(ids), tuple(moved)))
        out.append(make_event(kind, now, key, agent=view.id, detail=f"{', '.join(ids)} from {view.id} ({why}) to {target.id}",
                          source=view.id, target=target.id, tasks=ids))  # fmt: skip
        out.append(
            Notify(key, target.id, kind, f"{', '.join(ids)} moved to you from {view.id} ({why}): see your plan.")
        )
        out.append(Notify(key, view.id, kind, f"{', '.join(ids)} moved from you to {target.id} ({why})."))
    return out


def rule_cascade(world: World, now: datetime, config: Config) -> list[Item]:
    """A FAILED task, or one blocked past ``reassign_after_s``, blocks every task depending on it."""
    out: list[Item] = []
    for view in world.agents:
        s = view.state
        rest = unfinished(view)
        current = task_of(s.task, view.plan) or (rest[0] if rest else None)
        if current is None:
            continue
        if s.status is Status.FAILED:
            why = f"{current.id} failed ({view.id})"
        elif (
            s.status is Status.BLOCKED
            and view.blocked_since
            and (now - view.blocked_since).total_seconds() >= config.reassign_after_s
        ):
            why = f"{current.id} blocked since {stamp(view.blocked_since)} ({view.id})"
        else:
            continue
        for other in world.agents:
            for task in other.plan.tasks if other.plan else ():
                if current.id not in task.depends_on:
                    continue
                key = f"cascade:{current.id}:{other.id}:{task.id}:{stamp(view.blocked_since or s.last_update)}"
                out.append(MarkBlocked(key, other.id, task.id, why))
                out.append(make_event(TASK_BLOCKED, now, key, agent=other.id, detail=f"{task.id} blocked: {why}",
                                  task=task.id, cause=current.id))  # fmt: skip
                out.append(Notify(key, other.id, TASK_BLOCKED, f"{task.id} is blocked: {why}. Work on something else."))
    return out


def rule_unblock(world: World, now: datetime, config: Config) -> list[Item]:
    """A task the failure cascade marked blocked is free again once the task it waits on is done
    (by its agent, or by the one it was reassigned to)."""
    out: list[Item] = []
    done = done_tasks(world)
    for view in world.agents:
        for task, why in _blocked_marks(view).items():
            cause = why.split()[0] if why.split() else ""
            if cause not in done:
                continue
            key = f"unblock:{view.id}:{task}:{why}"
            out.append(UnmarkBlocked(key, view.id, task, why))
            out.append(make_event(TASK_UNBLOCKED, now, key, agent=view.id, detail=f"{task} unblocked: {cause} is done",
                              task=task, cause=cause))  # fmt: skip
            out.append(Notify(key, view.id, TASK_UNBLOCKED, f"{task} is no longer blocked: {cause} is done."))
    return out


def _blocked_marks(view: AgentView) -> dict[str, str]:
    """The cascade's marks in a plan's front matter: ``blocked: {T4: "T1 failed (agent-1)"}``."""
    marks = view.plan.extra.get("blocked") if view.plan is not None else None
    return {str(k): str(v) for k, v in marks.items()} if isinstance(marks, dict) else {}


def _blocked_ids(view: AgentView) -> set[str]:
    return set(_blocked_marks(view))


def done_tasks(world: World) -> frozenset[str]:
    """Ids of tasks done (``World.done``: worked out once per world, however many rules ask)."""
    return world.done
