"""Random PRDs: whatever their shape, the allocation keeps its invariants."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from squad.allocate import plan_allocation
from squad.allocate.render import render_text
from squad.errors import SquadError
from tests.allocate.invariants import check_invariants

STREAM_TAGS = ["frontend", "backend", "ml", "database", "docs", "payments", None, None]
FOLDERS = [
    "frontend/a/", "frontend/b/", "backend/api/", "backend/jobs/", "ml/", "web/", "shared/types/", "", "docs/",
    "dags/", "migrations/", "db/migrations/", "app/",
]  # fmt: skip
WORDS = ["chart", "endpoint", "model", "table", "guide", "ponder", "widget", "migration", "deploy", "install"]


@st.composite
def prds(draw: st.DrawFn) -> tuple[str, int | None]:
    n = draw(st.integers(min_value=1, max_value=18))
    lines = ["# Random feature", "", "## Tasks"]
    for i in range(n):
        tag = draw(st.sampled_from(STREAM_TAGS))
        word = draw(st.sampled_from(WORDS))
        parts = [f"- K{i}:"]
        if tag:
            parts.append(f"[{tag}]")
        parts.append(f"{word} work {i}")
        if draw(st.booleans()):
            folder = draw(st.sampled_from(FOLDERS))
            parts.append(f"`{folder}f{i}.ts`")
        notes = [f"{draw(st.integers(min_value=1, max_value=6))}h"]
        if i and draw(st.booleans()):
            deps = sorted(set(draw(st.lists(st.integers(min_value=0, max_value=i - 1), min_size=1, max_size=3))))
            notes.append("depends on: " + ", ".join(f"K{d}" for d in deps))
        parts.append(f"({', '.join(notes)})")
        lines.append(" ".join(parts))
    agents = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=8)))
    return "\n".join(lines) + "\n", agents


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prds())
def test_random_prds_keep_the_invariants(case: tuple[str, int | None]) -> None:
    text, agents = case
    allocation = plan_allocation(text, "random.md", agents=agents)
    check_invariants(allocation, balanced=False)
    if agents is not None:
        assert len(allocation.agents) <= agents
    again = plan_allocation(text, "random.md", agents=agents)
    locations = [("p", "c")] * len(allocation.agents)
    assert render_text(allocation, locations, False) == render_text(again, locations, False)


FORMAT_PATHS = ["web/src/a", "web/src/b", "server/api/", "server/jobs/", "ml/", "src/models/", "src/cli/", "docs/", ""]


@st.composite
def task_lists(draw: st.DrawFn) -> tuple[str, str, int | None]:
    """A spec-kit or Kiro task list with shared files, [P] markers, done items and loose references."""
    family = draw(st.sampled_from(["spec-kit", "kiro"]))
    n = draw(st.integers(min_value=1, max_value=14))
    files = [f"{draw(st.sampled_from(FORMAT_PATHS))}f{draw(st.integers(0, 5))}.py" for _ in range(n)]
    lines = ["# Tasks: random", ""]
    for i in range(n):
        if family == "spec-kit":
            if i % 5 == 0:
                lines += ["", f"## Phase {i // 5 + 1}: " + ("Setup" if i == 0 else f"User Story {i // 5}"), ""]
            check = "x" if draw(st.integers(0, 9)) == 0 else " "
            deps = f" (depends on T{draw(st.integers(1, 30)):03d})" if draw(st.booleans()) else ""
            lines.append(f"- [{check}] T{i + 1:03d} [P] [US{i // 5}] work in {files[i]}{deps}")
        else:
            check = "x" if draw(st.integers(0, 9)) == 0 else " "
            star = "*" if draw(st.integers(0, 9)) == 0 else ""
            lines.append(f"- [{check}]{star} {i // 3 + 1}.{i % 3 + 1} work on {files[i]}")
            if draw(st.booleans()):
                lines.append(f"  - after {draw(st.integers(1, 5))}.{draw(st.integers(1, 3))}")
    agents = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=5)))
    return family, "\n".join(lines) + "\n", agents


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task_lists())
def test_random_task_lists_allocate_every_task_once_and_no_area_twice(case: tuple[str, str, int | None]) -> None:
    family, text, agents = case
    try:
        allocation = plan_allocation(text, "tasks.md", agents=agents, fmt=family)
    except SquadError as exc:  # every task skipped as done or optional, or a cycle the list states
        assert "no work left" in exc.message or "no task" in exc.message or "dependency cycle" in exc.message
        return
    check_invariants(allocation, balanced=False)  # every task once, no EXCLUSIVE path with two owners
    assert len(allocation.agents) <= (agents or 5)
    owners: dict[str, str] = {}
    for entry in allocation.matrix.entries:
        if entry.access == "EXCLUSIVE":
            assert owners.setdefault(entry.pattern, entry.owner or "") == entry.owner
    # Same-file work never in parallel: tasks of two agents writing one file are ordered.
    where = {t.id: a.id for a in allocation.agents for t in a.tasks}
    tasks = {t.id: t for a in allocation.agents for t in a.tasks}
    writers: dict[str, list[str]] = {}
    for task in tasks.values():
        for path in task.raw.paths:
            writers.setdefault(path, []).append(task.id)

    def before(a: str, b: str) -> bool:
        stack, seen = [b], set()
        while stack:
            node = stack.pop()
            if node == a:
                return True
            for d in tasks[node].depends_on:
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        return False

    for ids in writers.values():
        for x in ids:
            for y in ids:
                if x < y and where[x] != where[y]:
                    assert before(x, y) or before(y, x), (x, y)
