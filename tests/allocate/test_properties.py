"""Random PRDs: whatever their shape, the allocation keeps its invariants."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from squad.allocate import plan_allocation
from squad.allocate.render import render_text
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
