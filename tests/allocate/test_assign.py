from __future__ import annotations

import pytest

from squad.allocate import plan_allocation
from squad.allocate.render import render_text, to_json
from squad.config import parse_config
from squad.errors import SquadError
from tests.allocate.invariants import check_invariants
from tests.allocate.prds import CYCLE, EXAMPLE, FULLY_ANNOTATED, MANY_AGENTS, MANY_STREAMS, NO_ANNOTATIONS, PROSE


def _streams(allocation) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {a.id: [t.id for t in a.tasks] for a in allocation.agents}


def test_example_allocates_to_the_twelve_tasks_of_the_demo() -> None:
    allocation = plan_allocation(EXAMPLE.read_text(), EXAMPLE)
    check_invariants(allocation)
    assert _streams(allocation) == {
        "agent-1-frontend": ["F1", "F2", "F3", "F5", "F4"],
        "agent-2-backend": ["B1", "B2", "B3", "B4"],
        "agent-3-ml": ["M1", "M2", "M3"],
    }
    owns = {a.id: a.owns for a in allocation.agents}
    assert owns == {"agent-1-frontend": ("frontend/",), "agent-2-backend": ("backend/",), "agent-3-ml": ("ml/",)}
    matrix = allocation.matrix
    for shared in ("shared/types/metrics.ts", "shared/types/analytics.ts"):
        assert matrix.rule(shared).access == "SEQUENTIAL"
    assert matrix.rule("config/webpack.config.js").access == "READONLY"
    handoffs = {(h.task, h.from_agent, h.to_agent, h.file) for h in allocation.handoffs}
    assert ("F1", "agent-1-frontend", "agent-2-backend", "shared/types/metrics.ts") in handoffs
    assert ("F1", "agent-1-frontend", "agent-3-ml", "shared/types/analytics.ts") in handoffs
    assert ("B2", "agent-2-backend", "agent-3-ml", None) in handoffs  # ML depends on the backend API
    p = allocation.prediction
    assert p.sequential_h == 31 and p.makespan_h < p.sequential_h and p.speedup > 1


def test_no_annotations_classifies_by_keywords() -> None:
    allocation = plan_allocation(NO_ANNOTATIONS, "reset.md")
    check_invariants(allocation, balanced=False)
    by_role = {a.role: [t.raw.title for t in a.tasks] for a in allocation.agents}
    assert any("reset request page" in t for t in by_role["frontend"])
    assert any("REST endpoint" in t for t in by_role["backend"])
    assert any("tokens table" in t for t in by_role["database"])
    assert any("integration tests" in t for t in by_role["tests"])
    assert any("user guide" in t for t in by_role["docs"])
    ids = [t.id for a in allocation.agents for t in a.tasks]
    assert sorted(ids, key=lambda i: int(i[1:])) == [f"T{n}" for n in range(1, 9)]


def test_fully_annotated() -> None:
    allocation = plan_allocation(FULLY_ANNOTATED, "billing.md")
    check_invariants(allocation, balanced=False)
    roles = [a.role for a in allocation.agents]
    assert roles == ["payments", "frontend", "database", "infra"]
    payments = allocation.agents[0]
    assert payments.owns == ("payments/",)
    tasks = {t.id: t for a in allocation.agents for t in a.tasks}
    assert tasks["W2"].depends_on == ("P2",)  # after: <title>
    assert tasks["D1"].resource == "@db-migrations"
    assert tasks["X1"].resource == "@deploy" and tasks["X1"].hours == 8
    assert allocation.matrix.rule("db/migrations/004.sql").resource == "@db-migrations"


def test_more_agents_than_streams_splits_by_sub_folder() -> None:
    allocation = plan_allocation(MANY_AGENTS, "admin.md", agents=4)
    check_invariants(allocation)
    assert len(allocation.agents) == 4
    owned = [p for a in allocation.agents for p in a.owns]
    assert len(owned) == len(set(owned))
    assert allocation.matrix.rule("frontend/").access == "SEQUENTIAL"  # the split stream's root is shared
    assert {a.streams for a in allocation.agents} == {("frontend",), ("backend",)}


def test_more_agents_than_work_units_says_so() -> None:
    allocation = plan_allocation("# X\n\n## Tasks\n- [backend] one `backend/a.py`\n", "x.md", agents=3)
    assert len(allocation.agents) == 1
    assert "only 1 parts" in allocation.notes[0]


def test_more_streams_than_agents_packs_longest_first() -> None:
    allocation = plan_allocation(MANY_STREAMS, "search.md", agents=2)
    check_invariants(allocation)
    assert len(allocation.agents) == 2
    efforts = sorted(a.effort_h for a in allocation.agents)
    assert sum(efforts) == 24 and efforts[1] <= 13  # LPT: within one small stream of perfect
    streams = [s for a in allocation.agents for s in a.streams]
    assert len(streams) == len(set(streams)) == 6


def test_cycle_names_every_task_in_it() -> None:
    with pytest.raises(SquadError) as info:
        plan_allocation(CYCLE, "cyclic.md")
    message = info.value.render()
    assert message.startswith("cyclic.md:4: dependency cycle")
    for task in ("A1", "A2", "A3"):
        assert task in message
    assert "A4" not in message


def test_unknown_dependency_is_named() -> None:
    with pytest.raises(SquadError, match=r"x\.md:4: task T1 depends on 'Z9'"):
        plan_allocation("# X\n\n## Tasks\n- do it (depends on: Z9)\n", "x.md")
    with pytest.raises(SquadError, match="'no such title'"):
        plan_allocation("# X\n\n## Tasks\n- do it after: no such title\n", "x.md")


def test_duplicate_ids_are_an_error() -> None:
    with pytest.raises(SquadError, match=r"x\.md:5: task id T1 is used twice \(also on line 4\)"):
        plan_allocation("# X\n\n## Tasks\n- T1: a\n- T1: b\n", "x.md")


def test_prose_with_a_plain_task_list() -> None:
    allocation = plan_allocation(PROSE, "notify.md", agents=2)
    check_invariants(allocation, balanced=True)
    assert sum(len(a.tasks) for a in allocation.agents) == 4


def test_unmatched_task_goes_to_least_loaded_agent_marked_unclassified() -> None:
    text = "# X\n\n## Tasks\n- [backend] api (4h)\n- [frontend] page (1h)\n- Ponder the meaning of it all (1h)\n"
    allocation = plan_allocation(text, "x.md")
    check_invariants(allocation, balanced=False)
    frontend = next(a for a in allocation.agents if a.role == "frontend")
    odd = frontend.tasks[-1]
    assert odd.stream is None and odd.plan_task().unclassified


def test_config_adds_a_stream() -> None:
    config = parse_config("streams:\n  mobile: {folders: [apps/mobile/], keywords: [ios, android]}\n", "c.yaml")  # type: ignore[arg-type]
    text = "# X\n\n## Tasks\n- iOS push registration\n- Android deep links\n- REST endpoint for devices\n"
    allocation = plan_allocation(text, "x.md", config)
    check_invariants(allocation, balanced=False)
    mobile = next(a for a in allocation.agents if a.role == "mobile")
    assert mobile.owns == ("apps/mobile/",) and len(mobile.tasks) == 2


def test_shared_manifests_are_sequential_and_contested_files_too() -> None:
    text = (
        "# X\n\n## Tasks\n- [frontend] add charts lib to `package.json` and `frontend/Chart.tsx`\n"
        "- [backend] api that also edits `frontend/api-client.ts`\n"
    )
    allocation = plan_allocation(text, "x.md")
    check_invariants(allocation, balanced=False)
    assert allocation.matrix.rule("package.json").access == "SEQUENTIAL"
    assert allocation.matrix.rule("frontend/api-client.ts").access == "SEQUENTIAL"
    assert allocation.matrix.rule("frontend/Chart.tsx").access == "EXCLUSIVE"


def test_rendering_is_deterministic_and_complete() -> None:
    one = plan_allocation(EXAMPLE.read_text(), EXAMPLE)
    two = plan_allocation(EXAMPLE.read_text(), EXAMPLE)
    locations = [(f"p{a.number}", f"c{a.number}") for a in one.agents]
    assert render_text(one, locations, False) == render_text(two, locations, False)
    data = to_json(one, locations, False)
    assert set(data["agents"][0]) >= {"id", "role", "owns", "shared", "tasks", "effort_h"}
    assert set(data["agents"][0]["tasks"][0]) >= {"id", "title", "depends_on", "estimate_h"}
    assert set(data["prediction"]) == {"sequential_h", "makespan_h", "speedup"}
    text = render_text(one, locations, False)
    for var in ("AGENT_ID=", "AGENT_TYPE=", "AGENT_PLAN=", "AGENT_COMM=", "PARALLEL_MODE="):
        assert var in text


def test_a_folder_two_streams_write_in_is_split_one_level_deeper() -> None:
    text = (
        "# X\n\n## Tasks\n- [frontend] app `src/components/App.tsx`\n- [frontend] page `src/pages/Home.tsx`\n"
        "- [backend] api `src/api/server.ts`\n- [backend] client `src/components/api-client.ts`\n"
    )
    allocation = plan_allocation(text, "x.md")
    check_invariants(allocation, balanced=False)
    owns = {a.role: a.owns for a in allocation.agents}
    assert owns == {
        "frontend": ("src/components/App.tsx", "src/pages/"),
        "backend": ("src/api/", "src/components/api-client.ts"),
    }
    assert allocation.matrix.rule("src/main.ts").owner is None  # nobody owns the shared top folder


def test_generic_sub_headings_do_not_make_streams_and_bom_is_ignored() -> None:
    text = "\ufeff# X\n\n## Tasks\n### Misc\n- tidy the api endpoint\n### Payments\n- charge cards\n"
    allocation = plan_allocation(text, "x.md")
    assert allocation.prd.title == "X"
    assert [a.role for a in allocation.agents] == ["backend", "payments"]
