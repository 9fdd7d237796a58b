"""List scheduling over agents' plans: the order each agent works in, and the predicted makespan."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence

from squad.allocate.model import AgentAllocation, Prediction, Task


def order_plans(plans: list[list[Task]], rank: dict[str, int]) -> list[list[Task]]:
    """Order each plan by list scheduling: whenever an agent is free it takes its earliest task (in
    the global dependency order) whose dependencies are done, so it works on ready tasks instead of
    idling behind one waiting for a handoff. Each plan stays in dependency order."""
    owner = {t.id: k for k, plan in enumerate(plans) for t in plan}
    by_id = {t.id: t for plan in plans for t in plan}
    missing = {t.id: len(t.depends_on) for t in by_id.values()}
    dependants: dict[str, list[str]] = defaultdict(list)
    for task in by_id.values():
        for dep in task.depends_on:
            dependants[dep].append(task.id)
    free = [0.0] * len(plans)
    waiting: list[list[tuple[float, int, str]]] = [[] for _ in plans]  # (ready at, rank, id)
    available: list[list[tuple[int, str]]] = [[] for _ in plans]  # (rank, id)
    finish: dict[str, float] = {}
    for task in by_id.values():
        if not task.depends_on:
            heapq.heappush(waiting[owner[task.id]], (0.0, rank[task.id], task.id))
    orders: list[list[Task]] = [[] for _ in plans]
    for _ in range(len(by_id)):
        best: tuple[float, int] | None = None
        for k in range(len(plans)):
            while waiting[k] and waiting[k][0][0] <= free[k]:
                _, r, task_id = heapq.heappop(waiting[k])
                heapq.heappush(available[k], (r, task_id))
            start = free[k] if available[k] else (waiting[k][0][0] if waiting[k] else None)
            if start is not None and (best is None or start < best[0]):
                best = (start, k)
        assert best is not None  # one global dependency order exists, so some task is always ready
        start, k = best
        if not available[k]:
            _, r, task_id = heapq.heappop(waiting[k])
            heapq.heappush(available[k], (r, task_id))
        _, task_id = heapq.heappop(available[k])
        task = by_id[task_id]
        finish[task_id] = free[k] = start + task.hours
        orders[k].append(task)
        for later in dependants[task_id]:
            missing[later] -= 1
            if missing[later] == 0:
                ready = max(finish[d] for d in by_id[later].depends_on)
                heapq.heappush(waiting[owner[later]], (ready, rank[later], later))
    return orders


def predict(agents: Sequence[AgentAllocation]) -> Prediction:
    """List scheduling: each agent works its plan in order; a task starts when its agent is free
    and every dependency has finished. Makespan is the last finish; speedup is sequential / makespan."""
    sequential = sum(a.effort_h for a in agents)
    finish: dict[str, float] = {}
    queues = [list(a.tasks) for a in agents]
    free = [0.0] * len(agents)
    position = [0] * len(agents)
    remaining = sum(len(q) for q in queues)
    while remaining:
        progressed = False
        for k, queue in enumerate(queues):
            while position[k] < len(queue):
                task = queue[position[k]]
                if any(d not in finish for d in task.depends_on):
                    break
                start = max([free[k], *(finish[d] for d in task.depends_on)])
                finish[task.id] = free[k] = start + task.hours
                position[k] += 1
                remaining -= 1
                progressed = True
        if not progressed:  # cannot happen: plans follow one global dependency order
            break
    makespan = max(finish.values(), default=0.0)
    return Prediction(round(sequential, 2), round(makespan, 2), round(sequential / makespan, 2) if makespan else 1.0)
