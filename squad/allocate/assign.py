"""From parsed tasks to agents: ids, dependencies, streams, ownership, balance and handoffs.

Records live in model.py, plan order and the prediction in schedule.py. Pure: no files are read or written.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace

from squad.allocate.classify import Classifier, is_shared_path, resource_for
from squad.allocate.graph import resolve_dependencies, task_ids, topological_order
from squad.allocate.model import AgentAllocation, Allocation, HandoffRecord, Prediction, Task, hours_text
from squad.allocate.prd import PRD, done_notes, skipped_notes
from squad.allocate.schedule import order_plans, predict
from squad.config import Access
from squad.errors import SquadError
from squad.protocol.ownership import Entry, Matrix
from squad.protocol.plan import Handoff

__all__ = ["AgentAllocation", "Allocation", "HandoffRecord", "Prediction", "Task", "allocate_tasks", "predict"]


@dataclass
class _Draft:
    streams: list[str]
    tasks: list[Task] = field(default_factory=list)
    owns: list[str] = field(default_factory=list)
    role: str = ""

    @property
    def effort(self) -> float:
        return sum(t.hours for t in self.tasks)


def _classify(prd: PRD, classifier: Classifier) -> tuple[list[str | None], list[bool]]:
    """Each task's stream, and whether only keywords in its text chose it (no tag, heading or path)."""
    generic = {"note", "goal", "goals", "summary", "example", "status", "owner", "why"}
    for requirement in prd.requirements:
        # "Payments: Stripe checkout" in the requirements seeds a stream of that name.
        name = requirement.stream
        if name and classifier.named(name) is None and len(name.split()) <= 2 and name not in generic:
            classifier.ensure(name)
    heading_streams: dict[str, str | None] = {}
    out: list[str | None] = []
    guessed: list[bool] = []
    for raw in prd.tasks:
        stream: str | None = None
        if raw.tag:
            stream = classifier.ensure(raw.tag)
        elif raw.heading_stream:
            if raw.heading_stream not in heading_streams:
                heading_streams[raw.heading_stream] = _heading_stream(raw.heading_stream, classifier)
            stream = heading_streams[raw.heading_stream]
        if stream is None:
            stream = classifier.by_path(p for p in raw.paths if not is_shared_path(p))
        guessed.append(stream is None)
        if stream is None:
            stream = classifier.by_keywords(raw.text)
        out.append(stream)
    return out, guessed


def _heading_stream(heading: str, classifier: Classifier) -> str | None:
    named = classifier.named(heading)
    if named:
        return named
    if re.search(r"\d", heading) or len(heading.split()) > 3 or _has_generic_word(heading):
        return classifier.by_keywords(heading)
    return classifier.by_keywords(heading) or classifier.ensure(heading)


_GENERIC_HEADINGS = {
    "other", "others", "misc", "miscellaneous", "general", "cleanup", "polish", "extras", "optional", "stretch",
    "later", "backlog", "phase", "step", "steps", "week", "sprint", "milestone", "must", "should", "could", "nice",
    # sections and markers, never the name of a stream
    "p", "id", "story", "stories", "summary", "dependencies", "dependency", "rules", "constraints", "setup",
    "foundational", "foundation", "checkpoint", "notes", "overview", "format", "execution", "order", "parallel",
    "strategy", "example", "examples", "conventions", "criteria", "tasks", "task", "implementation",
}  # fmt: skip


def _has_generic_word(heading: str) -> bool:
    return any(word in _GENERIC_HEADINGS for word in re.findall(r"[a-z]+", heading.lower()))


def _resolve_claims(claims: list[tuple[str, str]], depth: int = 0) -> tuple[list[tuple[str, str]], list[str]]:
    """Folders outside every stream that the PRD's paths reveal: the top folder goes to the stream
    writing in it; a folder two streams write in is split one level deeper (``src/`` ->
    ``src/components/`` and ``src/api/``); what cannot be split is contested (SEQUENTIAL)."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path, stream in claims:
        parts = path.rstrip("/").split("/")
        is_file = not path.endswith("/")
        prefix = "/".join(parts[: depth + 1])
        leaf = len(parts) <= depth + 1
        groups[prefix if leaf and is_file else prefix + "/"].append((path, stream))
    owned: list[tuple[str, str]] = []
    contested: list[str] = []
    for prefix in sorted(groups):
        streams = sorted({stream for _, stream in groups[prefix]})
        if len(streams) == 1:
            owned.append((prefix, streams[0]))
        elif not prefix.endswith("/") or depth >= 4 or all(p.rstrip("/") + "/" == prefix for p, _ in groups[prefix]):
            contested.append(prefix)
        else:
            deeper_owned, deeper_contested = _resolve_claims(
                [(p, s) for p, s in groups[prefix] if p.rstrip("/") + "/" != prefix], depth + 1
            )
            owned += deeper_owned
            contested += deeper_contested
            if any(p.rstrip("/") + "/" == prefix for p, _ in groups[prefix]):
                contested.append(prefix)
    return owned, contested


def allocate_tasks(prd: PRD, classifier: Classifier, agents: int | None = None, max_agents: int = 5) -> Allocation:
    """``agents`` is a hard cap; without it, one agent a stream, at most ``max_agents``."""
    if agents is not None and agents < 1:
        raise SquadError(f"--agents must be at least 1, not {agents}")
    ids = task_ids(prd)
    deps, unresolved = resolve_dependencies(prd, ids)
    order = topological_order(ids, deps, prd)
    streams, guessed = _classify(prd, classifier)
    rank = {ids[i]: r for r, i in enumerate(order)}
    index = {task_id: i for i, task_id in enumerate(ids)}
    read_only = list(prd.read_only)
    ro_matrix = Matrix(tuple(Entry(p, None, Access.READONLY) for p in read_only))

    def writable(path: str) -> bool:
        return not is_shared_path(path) and ro_matrix.rule(path).access != Access.READONLY

    tasks = [
        Task(
            ids[i],
            raw,
            streams[i],
            deps[i],
            resource_for(raw.text) or ("@db-migrations" if any("migrations/" in p for p in raw.paths) else None),
        )
        for i, raw in enumerate(prd.tasks)
    ]
    ordered = [tasks[i] for i in order]
    by_stream: dict[str, list[Task]] = defaultdict(list)
    for task in ordered:
        if task.stream is not None:
            by_stream[task.stream].append(task)
    stream_order = sorted(by_stream, key=lambda s: min(t.raw.line for t in by_stream[s]))

    # Folders per stream: configured ones, then folders the PRD's paths reveal outside every stream.
    folders: dict[str, list[str]] = {s: list(classifier.streams[s].folders) for s in stream_order}
    claims: list[tuple[str, str]] = []
    for path in prd.files_to_create:
        if writable(path) and classifier.by_path([path]) is None:
            stream = classifier.named(path.split("/")[0]) or classifier.by_keywords(path.replace("/", " "))
            if stream in folders:
                claims.append((path, stream))
    for task in ordered:
        for path in task.raw.paths:
            if task.stream is not None and writable(path) and classifier.by_path([path]) is None:
                claims.append((path, task.stream))
    owned, contested = _resolve_claims(claims)
    mentioned = [*prd.files_to_create, *(p for t in ordered for p in t.raw.paths)]
    for stream in stream_order:
        learned = [pattern for pattern, owner in owned if owner == stream]
        configured = [f for f in folders[stream] if any(p.startswith(f) for p in mentioned)]
        if learned:  # the project keeps this stream elsewhere: drop default folders no path is in
            folders[stream] = configured + learned
        elif mentioned and all(guessed[index[t.id]] and not t.raw.paths for t in by_stream[stream]):
            # Only a word in path-less tasks ("sort the results table") chose this stream, and the PRD's
            # paths show where the project lives: no default folder (``db/``) nobody asked for.
            folders[stream] = configured

    unclassified = sorted((t for t in ordered if t.stream is None), key=lambda t: (-t.hours, rank[t.id]))

    def build(n: int | None) -> Allocation:
        cap = n if n is not None else min(len(stream_order), max(max_agents, 1))
        drafts, split_roots = _make_drafts(stream_order, by_stream, folders, cap)
        # Agents no stream needs take unclassified work (a PRD with no streams at all gets one agent).
        slots = (n if n is not None else (0 if drafts else 1)) - len(drafts)
        drafts += [_Draft([], role="general") for _ in range(min(max(slots, 0), len(unclassified)))]
        loads = [(d.effort, k) for k, d in enumerate(drafts)]
        heapq.heapify(loads)
        for task in unclassified:
            load, target = heapq.heappop(loads)
            drafts[target].tasks.append(task)
            heapq.heappush(loads, (load + task.hours, target))
        ordered_notes = _same_file_order(drafts, rank)
        for draft, order in zip(drafts, order_plans([d.tasks for d in drafts], rank), strict=True):
            draft.tasks = order
        _name_roles(drafts)
        return _finish(prd, drafts, split_roots, contested, read_only, tuple(ordered_notes))

    read_notes = [*(prd.notes or (*skipped_notes(prd), *done_notes(prd))), *unresolved]
    notes: list[str] = []
    full = chosen = build(agents)
    if agents is not None and len(full.agents) < agents:
        notes.append(f"--agents {agents} asked, but the work splits into only {len(full.agents)} parts without overlap")
    # More agents than streams: a split that does not shorten the predicted makespan only adds
    # handoffs (a dependency chain sets the pace), so keep the fewest agents that reach the best one.
    for n in range(len(full.agents) - 1, max(min(len(stream_order), agents or 1), 1) - 1, -1):
        if agents is None:
            break
        candidate = build(n)
        if candidate.prediction.makespan_h <= chosen.prediction.makespan_h:
            chosen = candidate
    if len(chosen.agents) < len(full.agents):
        notes.append(
            f"{len(chosen.agents)} agents already reach the predicted makespan of {hours_text(chosen.prediction.makespan_h)}; "
            f"splitting into {len(full.agents)} would only add handoffs (the dependency chain sets the pace)"
        )
    if agents is None and len(stream_order) > max_agents:
        notes.append(
            f"{len(stream_order)} streams packed onto {len(chosen.agents)} agents (`max_agents: {max_agents}` in "
            ".squad/config.yaml; `--agents N` to choose)"
        )
    return replace(chosen, notes=(*read_notes, *notes, *chosen.notes), read_notes=tuple(read_notes))


def _same_file_order(drafts: list[_Draft], rank: dict[str, int]) -> list[str]:
    """Tasks of different agents that write one file run in a stated order: each waits for the one
    before it in the global dependency order (a handoff), whatever ``[P]`` or ``parallel: true`` say.
    An edge from a later task to an earlier one in that order can never close a cycle."""
    owner = {t.id: k for k, d in enumerate(drafts) for t in d.tasks}
    writers: dict[str, list[Task]] = defaultdict(list)
    for draft in drafts:
        for task in draft.tasks:
            for path in dict.fromkeys(task.raw.paths):
                if not path.endswith("/"):
                    writers[path].append(task)
    extra: dict[str, list[str]] = defaultdict(list)
    ordered: list[str] = []
    for path in sorted(writers):
        tasks = sorted(writers[path], key=lambda t: rank[t.id])
        if len({owner[t.id] for t in tasks}) < 2:
            continue
        for before, after in itertools.pairwise(tasks):
            if before.id not in after.depends_on and before.id not in extra[after.id]:
                extra[after.id].append(before.id)
                if owner[before.id] != owner[after.id]:
                    ordered.append(f"{after.id} after {before.id} (`{path}`)")
    if not extra:
        return []
    for draft in drafts:
        draft.tasks = [
            replace(t, depends_on=(*t.depends_on, *extra[t.id])) if extra.get(t.id) else t for t in draft.tasks
        ]
    shown = "; ".join(ordered[:4]) + (f" and {len(ordered) - 4} more" if len(ordered) > 4 else "")
    return [f"same file on two agents, so in order (a handoff each): {shown}"] if ordered else []


def _make_drafts(
    stream_order: list[str],
    by_stream: dict[str, list[Task]],
    folders: dict[str, list[str]],
    agents: int | None,
) -> tuple[list[_Draft], list[str]]:
    effort = {s: sum(t.hours for t in by_stream[s]) for s in stream_order}
    n = agents if agents is not None else len(stream_order)
    if not stream_order:
        return [], []
    if n < len(stream_order):
        # More streams than agents: longest processing time first onto the least-loaded agent.
        bins = [_Draft([]) for _ in range(n)]
        for stream in sorted(stream_order, key=lambda s: (-effort[s], stream_order.index(s))):
            target = min(range(n), key=lambda k: (bins[k].effort, k))
            bins[target].streams.append(stream)
            bins[target].tasks.extend(by_stream[stream])
            bins[target].owns.extend(folders[stream])
        bins = [b for b in bins if b.streams]
        for b in bins:
            b.streams.sort(key=stream_order.index)
        return sorted(bins, key=lambda b: stream_order.index(b.streams[0])), []
    components = {
        s: sorted(_components(by_stream[s], folders[s]), key=lambda c: -sum(t.hours for t in c[1]))
        for s in stream_order
    }
    sizes = {s: [sum(t.hours for t in c[1]) for c in components[s]] for s in stream_order}
    parts = dict.fromkeys(stream_order, 1)
    while sum(parts.values()) < n:
        # Split further the stream whose heaviest piece is the heaviest load overall.
        candidates = [s for s in stream_order if parts[s] < len(components[s])]
        if not candidates:
            break
        best = max(candidates, key=lambda s: (max(_lpt(sizes[s], parts[s])[1]), -stream_order.index(s)))
        parts[best] += 1
    drafts: list[_Draft] = []
    split_roots: list[str] = []
    for stream in stream_order:
        if parts[stream] == 1:
            drafts.append(_Draft([stream], list(by_stream[stream]), list(folders[stream])))
            continue
        split_roots.extend(folders[stream])
        pieces = [_Draft([stream]) for _ in range(parts[stream])]
        placement, _ = _lpt(sizes[stream], parts[stream])
        for (units, comp_tasks), target in zip(components[stream], placement, strict=True):
            pieces[target].tasks.extend(comp_tasks)
            pieces[target].owns.extend(units)
        drafts.extend(pieces)
    return drafts, split_roots


def _lpt(sizes: list[float], k: int) -> tuple[list[int], list[float]]:
    """Longest processing time first (``sizes`` sorted descending): each item to the least-loaded bin."""
    heap = [(0.0, b) for b in range(k)]
    loads = [0.0] * k
    placement = []
    for size in sizes:
        load, b = heapq.heappop(heap)
        placement.append(b)
        loads[b] = load + size
        heapq.heappush(heap, (loads[b], b))
    return placement, loads


def _components(tasks: list[Task], folders: list[str]) -> list[tuple[list[str], list[Task]]]:
    """Tasks joined when they touch the same sub-folder or file of the stream: the pieces a split may not cut."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    task_units: list[list[str]] = []
    for task in tasks:
        units = []
        for path in task.raw.paths:
            if is_shared_path(path):
                continue
            for folder in folders:
                if path.startswith(folder) and path != folder:
                    rest = path[len(folder) :]
                    head, slash, _ = rest.partition("/")
                    units.append(folder + head + ("/" if slash else ""))
                    break
        task_units.append(units)
        for unit in units[1:]:
            parent[find(unit)] = find(units[0])
        for unit in units:
            find(unit)
    groups: dict[str, tuple[list[str], list[Task]]] = {}
    loose: list[tuple[list[str], list[Task]]] = []
    for task, units in zip(tasks, task_units, strict=True):
        if not units:
            loose.append(([], [task]))
            continue
        root = find(units[0])
        group = groups.setdefault(root, ([], []))
        group[1].append(task)
    for unit in sorted(parent):
        groups[find(unit)][0].append(unit)
    return [*groups.values(), *loose]


def _name_roles(drafts: list[_Draft]) -> None:
    used: dict[str, int] = defaultdict(int)
    for draft in drafts:
        if draft.streams and not draft.role:
            role = "-".join(draft.streams)
            if sum(1 for d in drafts if d.streams == draft.streams) > 1 and draft.owns:
                role = (
                    draft.streams[0]
                    + "-"
                    + re.sub(r"[^a-z0-9]+", "-", draft.owns[0].rstrip("/").rsplit("/", 1)[-1].lower()).strip("-")
                )
            draft.role = role
        used[draft.role] += 1
    counts: dict[str, int] = defaultdict(int)
    for draft in drafts:
        if used[draft.role] > 1:
            counts[draft.role] += 1
            draft.role = f"{draft.role}-{counts[draft.role]}"


def _own_uncovered(drafts: list[_Draft], split_roots: list[str], shared: dict[str, str | None], ro: Matrix) -> None:
    """Every file a task names is its agent's or shared: a path no stream folder covers (an unclassified
    task's, or one in a folder no stream claimed) goes to the agent whose task writes it. Its top folder
    when no other agent writes or owns there, deeper when they do, SEQUENTIAL when it cannot be split."""
    covered = Matrix(
        tuple(
            [Entry(p, None, Access.SEQUENTIAL) for p in (*split_roots, *shared)]
            + [Entry(p, str(k), Access.EXCLUSIVE) for k, d in enumerate(drafts) for p in d.owns]
        )
    )
    claims: list[tuple[str, str]] = []
    for k, draft in enumerate(drafts):
        for task in draft.tasks:
            for path in task.raw.paths:
                if is_shared_path(path) or ro.rule(path).access == Access.READONLY:
                    continue
                if covered.rule(path).pattern is None:
                    claims.append((path, str(k)))
    if not claims:
        return
    existing = {(p, str(k)) for k, d in enumerate(drafts) for p in d.owns}
    owned, contested = _resolve_claims(claims + sorted(existing))
    for pattern, key in owned:
        if (pattern, key) not in existing and any(c == key and _under(p, pattern) for p, c in claims):
            drafts[int(key)].owns.append(pattern)
    for pattern in contested:
        if any(_under(p, pattern) for p, _ in claims):
            shared.setdefault(pattern, None)


def _under(path: str, pattern: str) -> bool:
    return path == pattern or (pattern.endswith("/") and path.startswith(pattern))


def _finish(
    prd: PRD,
    drafts: list[_Draft],
    split_roots: list[str],
    contested: list[str],
    read_only: list[str],
    notes: tuple[str, ...],
) -> Allocation:
    agent_ids = [f"agent-{n}-{d.role}" for n, d in enumerate(drafts, start=1)]
    owner_of = {t.id: agent_ids[k] for k, d in enumerate(drafts) for t in d.tasks}
    task_by_id = {t.id: t for d in drafts for t in d.tasks}
    ro = Matrix(tuple(Entry(p, None, Access.READONLY) for p in read_only))
    shared: dict[str, str | None] = {}
    for path in (*prd.shared, *(p for p in prd.files_to_create if is_shared_path(p)), *contested):
        shared.setdefault(path, None)
    for draft in drafts:
        for task in draft.tasks:
            for path in task.raw.paths:
                if "migrations/" in path and not (read_only and ro.rule(path).access == Access.READONLY):
                    # A resource-locked folder is SEQUENTIAL under its resource, never owned.
                    shared[path[: path.index("migrations/") + len("migrations/")]] = "@db-migrations"
    _own_uncovered(drafts, split_roots, shared, ro)
    # A path is owned or shared, never both: the shared entries come last in the matrix and win.
    shared_matrix = Matrix(tuple(Entry(p, None, Access.SEQUENTIAL) for p in shared))
    for draft in drafts:
        draft.owns = [
            p for p in dict.fromkeys(draft.owns) if p not in split_roots and shared_matrix.rule(p).pattern is None
        ]
    exclusive = sorted(
        ((p, agent_ids[k]) for k, d in enumerate(drafts) for p in d.owns),
        key=lambda e: (e[0].rstrip("/").count("/"), agent_ids.index(e[1]), e[0]),
    )
    sequential: dict[str, str | None] = {}
    for root in split_roots:
        if root not in shared:
            sequential.setdefault(root, None)
    head = [Entry(p, None, Access.SEQUENTIAL) for p in sequential]
    base = Matrix(tuple(head + [Entry(p, a, Access.EXCLUSIVE) for p, a in exclusive]))
    for draft, agent in zip(drafts, agent_ids, strict=True):
        for task in draft.tasks:
            for path in task.raw.paths:
                if read_only and ro.rule(path).access == Access.READONLY:
                    continue
                if is_shared_path(path):
                    shared.setdefault(path, None)
                    continue
                rule = base.rule(path)
                if rule.access == Access.EXCLUSIVE and rule.owner != agent:
                    shared.setdefault(path, None)  # written by two agents: take turns under a lease
    # Files two agents write are shared now: they are no longer anyone's (one matrix entry a path).
    late = Matrix(tuple(Entry(p, None, Access.SEQUENTIAL) for p in (*shared, *read_only)))
    for draft in drafts:
        draft.owns = [p for p in draft.owns if late.rule(p).pattern is None]
    exclusive = [(p, a) for p, a in exclusive if late.rule(p).pattern is None]
    head = [e for e in head if e.pattern not in shared and e.pattern not in read_only]
    tail = [Entry(p, None, Access.SEQUENTIAL, resource) for p, resource in shared.items() if p not in read_only]
    tail += [Entry(p, None, Access.READONLY) for p in dict.fromkeys(read_only)]
    matrix = Matrix(tuple(head + [Entry(p, a, Access.EXCLUSIVE) for p, a in exclusive] + tail))

    handoffs: list[HandoffRecord] = []
    for draft, agent in zip(drafts, agent_ids, strict=True):
        for task in draft.tasks:
            for dep in task.depends_on:
                other = owner_of[dep]
                if other == agent:
                    continue
                files: list[str | None] = [p for p in task_by_id[dep].raw.paths if p in shared]
                handoffs.extend(HandoffRecord(dep, other, agent, f, task.id) for f in files or [None])
    handoffs = list(dict.fromkeys(handoffs))

    agents_out = []
    for number, (draft, agent) in enumerate(zip(drafts, agent_ids, strict=True), start=1):
        h_in = tuple(dict.fromkeys(Handoff(h.task, h.from_agent, h.file) for h in handoffs if h.to_agent == agent))
        h_out = tuple(dict.fromkeys(Handoff(h.task, h.to_agent, h.file) for h in handoffs if h.from_agent == agent))
        mine = [p for t in draft.tasks for p in t.raw.paths if p in shared]
        mine += [h.file for h in h_in if h.file] + [
            p for p in shared if shared[p] and any(t.resource == shared[p] for t in draft.tasks)
        ]
        agents_out.append(
            AgentAllocation(
                number=number,
                role=draft.role,
                streams=tuple(draft.streams),
                tasks=tuple(draft.tasks),
                owns=tuple(dict.fromkeys(draft.owns)),
                shared=tuple(dict.fromkeys(mine)),
                read_only=tuple(read_only),
                handoffs_in=h_in,
                handoffs_out=h_out,
            )
        )
    return Allocation(prd, tuple(agents_out), matrix, tuple(handoffs), predict(agents_out), notes)
