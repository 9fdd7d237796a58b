"""Task ids and the dependency graph: stable ids, resolving ``depends on`` / ``after:``, order, cycles."""

from __future__ import annotations

import heapq

from squad.allocate.prd import PRD
from squad.errors import SquadError


def task_ids(prd: PRD) -> list[str]:
    seen: dict[str, int] = {}
    for raw in prd.tasks:
        if raw.explicit_id is not None:
            if raw.explicit_id in seen:
                raise SquadError(
                    f"task id {raw.explicit_id} is used twice (also on line {seen[raw.explicit_id]})",
                    path=prd.path,
                    line=raw.line,
                )
            seen[raw.explicit_id] = raw.line
    ids, counter = [], 0
    for raw in prd.tasks:
        if raw.explicit_id is not None:
            ids.append(raw.explicit_id)
            continue
        counter += 1
        while f"T{counter}" in seen:
            counter += 1
        ids.append(f"T{counter}")
    return ids


def resolve_dependencies(prd: PRD, ids: list[str]) -> tuple[list[tuple[str, ...]], list[str]]:
    """Each task's dependencies as ids, and notes for references that resolve to nothing or to
    several tasks. A title names a task when it is that task's whole title, or else a part of
    exactly one title. An unknown reference is a note, not an error: only a real cycle is one."""
    by_id = set(ids)
    by_title: dict[str, list[str]] = {}
    for task_id, raw in zip(ids, prd.tasks, strict=True):
        by_title.setdefault(raw.title.lower(), []).append(task_id)
    line_of = {task_id: raw.line for task_id, raw in zip(ids, prd.tasks, strict=True)}
    out = []
    notes: list[str] = []
    for task_id, raw in zip(ids, prd.tasks, strict=True):
        deps: list[str] = []
        for dep in raw.depends:
            if dep.by_id and dep.target in by_id:
                candidates = [dep.target]
            else:
                wanted = dep.target.lower()
                candidates = [t for t in by_title.get(wanted, []) if t != task_id]
                if not candidates and not dep.by_id:
                    candidates = [
                        t for title, tids in by_title.items() if wanted in title for t in tids if t != task_id
                    ]
            if len(candidates) > 1:
                if not dep.strict:
                    continue
                named = ", ".join(f"{t} (line {line_of[t]})" for t in candidates[:5])
                # Waiting for every task it may mean can never run work too early.
                notes.append(
                    f"unresolved: line {raw.line}: task {task_id} depends on {dep.target!r}, which names "
                    f"{len(candidates)} tasks: {named}; it waits for all of them (give an id to choose one)"
                )
            target = candidates[0] if candidates else None
            if target is None and dep.target.lower() == raw.title.lower():
                target = task_id
            if target is None:
                if dep.strict:
                    notes.append(
                        f"unresolved: line {raw.line}: task {task_id} depends on {dep.target!r}, "
                        "which is no task id or title in this PRD; ignored"
                    )
                continue
            if target == task_id and not dep.strict:
                continue
            if target == task_id:
                raise SquadError(f"dependency cycle: {task_id} depends on itself", path=prd.path, line=raw.line)
            for found in candidates or [target]:
                if found not in deps:
                    deps.append(found)
        out.append(tuple(deps))
    return out, notes


def topological_order(ids: list[str], deps: list[tuple[str, ...]], prd: PRD) -> list[int]:
    """Kahn's algorithm, ties broken by document order; a cycle names every task in it."""
    index = {task_id: i for i, task_id in enumerate(ids)}
    waiting = [len(d) for d in deps]
    dependants: list[list[int]] = [[] for _ in ids]
    for i, task_deps in enumerate(deps):
        for d in task_deps:
            dependants[index[d]].append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for j in dependants[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    if len(order) < len(ids):
        cycle = _find_cycle({i for i, n in enumerate(waiting) if n > 0}, deps, index)
        names = " -> ".join(ids[i] for i in [*cycle, cycle[0]])
        lines = ", ".join(f"{ids[i]} (line {prd.tasks[i].line})" for i in sorted(cycle))
        raise SquadError(
            f"dependency cycle: {names}; tasks in the cycle: {lines}", path=prd.path, line=prd.tasks[min(cycle)].line
        )
    return order


def _find_cycle(stuck: set[int], deps: list[tuple[str, ...]], index: dict[str, int]) -> list[int]:
    """One cycle among the tasks Kahn's algorithm could not order (walk dependencies until one repeats)."""
    start = min(stuck)
    path: list[int] = []
    position: dict[int, int] = {}
    node = start
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = min(index[d] for d in deps[node] if index[d] in stuck)
    return path[position[node] :]
