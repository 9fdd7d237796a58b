from __future__ import annotations

import re

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


def test_an_unknown_dependency_is_a_note_not_an_error() -> None:
    # Issue 13: only a real cycle is an error; a reference that names nothing is said before writing.
    allocation = plan_allocation("# X\n\n## Tasks\n- do it (depends on: Z9)\n", "x.md")
    assert allocation.read_notes == (
        "unresolved: line 4: task T1 depends on 'Z9', which is no task id or title in this PRD; ignored",
    )
    assert allocation.agents[0].tasks[0].depends_on == ()
    allocation = plan_allocation("# X\n\n## Tasks\n- do it after: no such title\n", "x.md")
    assert "'no such title'" in allocation.read_notes[0]


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


def test_after_a_title_that_names_two_tasks_waits_for_both_with_a_note() -> None:
    for first, second in (("Create schema for users", "Create schema for orders"), ("Create schema", "Create schema")):
        text = f"# X\n\n## Tasks\n- {first}\n- {second}\n- Report (after: Create schema)\n"
        allocation = plan_allocation(text, "x.md")
        assert allocation.read_notes == (
            "unresolved: line 6: task T3 depends on 'Create schema', which names 2 tasks: T1 (line 4), T2 (line 5); "
            "it waits for all of them (give an id to choose one)",
        )
        tasks = {t.id: t for a in allocation.agents for t in a.tasks}
        assert tasks["T3"].depends_on == ("T1", "T2")
    # A whole title wins over titles it is part of.
    text = "# X\n\n## Tasks\n- Create schema\n- Create schema for orders\n- Report (after: Create schema)\n"
    tasks = {t.id: t for a in plan_allocation(text, "x.md").agents for t in a.tasks}
    assert tasks["T3"].depends_on == ("T1",)


def test_one_agent_and_twenty_agents() -> None:
    one = plan_allocation(EXAMPLE.read_text(), EXAMPLE, agents=1)
    check_invariants(one)
    assert [a.id for a in one.agents] == ["agent-1-frontend-backend-ml"]
    assert one.prediction.speedup == 1 and not one.handoffs
    many = plan_allocation(EXAMPLE.read_text(), EXAMPLE, agents=20)
    check_invariants(many)
    assert len(many.agents) <= 20
    assert many.notes[0].startswith("--agents 20 asked, but the work splits into only")


def test_a_split_that_does_not_shorten_the_makespan_is_not_made() -> None:
    three = plan_allocation(EXAMPLE.read_text(), EXAMPLE, agents=3)
    five = plan_allocation(EXAMPLE.read_text(), EXAMPLE, agents=5)  # ML is one chain: M1 -> M2 -> M3
    assert [a.id for a in five.agents] == [a.id for a in three.agents]
    assert five.prediction == three.prediction
    assert five.notes[-1].startswith("3 agents already reach the predicted makespan of 18h; splitting into 5")
    # Independent work does split: four agents for a wide frontend.
    assert len(plan_allocation(MANY_AGENTS, "admin.md", agents=4).agents) == 4


def test_a_task_writing_in_two_streams_folders_takes_turns_on_the_other_streams_file() -> None:
    text = (
        "# X\n\n## Tasks\n- [frontend] Chart page `frontend/Chart.tsx` (2h)\n- [backend] Metrics api `backend/api.py` (2h)\n"
        "- [frontend] Wire the chart to the api `frontend/Chart.tsx` `backend/api.py` (1h)\n"
    )
    allocation = plan_allocation(text, "x.md")
    check_invariants(allocation, balanced=False)
    matrix = allocation.matrix
    assert (matrix.rule("backend/api.py").access, matrix.rule("backend/other.py").owner) == (
        "SEQUENTIAL",
        "agent-2-backend",
    )
    assert "backend/api.py" in allocation.agents[0].shared and "backend/api.py" in allocation.agents[1].shared


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ("streams: [a, b]\n", "streams: must map each stream name"),
        ("streams:\n  frontend: {folders: [../outside/]}\n", "streams: frontend: folder '../outside/' is not a folder"),
        ("streams:\n  mobile: {folders: 3}\n", "streams: folders must be a list of strings"),
    ],
)
def test_bad_stream_config_is_an_error(yaml: str, message: str) -> None:
    config = parse_config(yaml, "c.yaml")  # type: ignore[arg-type]
    with pytest.raises(SquadError, match=re.escape(message)):
        plan_allocation(EXAMPLE.read_text(), EXAMPLE, config)


DATA_PIPELINE = """\
# Clickstream pipeline

## Tasks
- I1: Kafka consumer for events `ingest/consumer.py` (3h)
- O1: Clickstream DAG `dags/clickstream.py` (2h, depends on: I1)
- W1: Warehouse model `warehouse/load.sql` (3h)
- A1: API endpoint for stats `api/stats.py` (2h)
"""

SYNC_WITH_MIGRATION = """\
# Sync

## Tasks
- [backend] Sync endpoint `api/sync.py` (3h)
- [backend] Sync handler `api/handlers.py` (2h)
- [database] Add synced_at column `migrations/0007_synced_at.sql` (1h)
- [frontend] Sync button `web/Sync.tsx` (2h)
"""


# A file one split piece owned that another agent's task also writes: shared, listed once in the matrix.
TWO_AGENTS_ON_ONE_FILE = """\
# R

## Tasks
- K0: guide work 0 `app/f00.py` `backend/f01.py` (5h)
- K1: [backend] table work 1 (3h)
- K2: [backend] etl work 2 `app/f20.py` (1h)
- K3: ponder work 3 `migrations/f30.py` (2h)
- K4: migration work 4 `pkg/sub/f40.py` `app/f41.py` (3h)
- K5: [frontend] ponder work 5 `web/f50.py` `migrations/f51.py` (2h)
- K6: dag work 6 `app/f60.py` `pkg/sub/f61.py` (1h)
"""


@pytest.mark.parametrize(
    ("text", "agents"),
    [
        (DATA_PIPELINE, None),
        (DATA_PIPELINE, 1),
        (DATA_PIPELINE, 3),
        ("# App\n\n## Tasks\n- Onboarding flow `app/home.dart` (3h)\n- Settings `app/settings.dart` (1h)\n", 1),
        ("# App\n\n## Tasks\n- [backend] Endpoint `frontend/x.ts` and `tools/gen.py` (2h)\n", None),
        (SYNC_WITH_MIGRATION, None),
        (SYNC_WITH_MIGRATION, 2),
        (TWO_AGENTS_ON_ONE_FILE, 5),
    ],
)
def test_every_task_file_is_owned_by_its_agent_or_shared(text: str, agents: int | None) -> None:
    allocation = plan_allocation(text, "prd.md", agents=agents)
    check_invariants(allocation, balanced=False)  # includes: no task file left to the matrix default


def test_unclassified_tasks_folder_is_owned_by_the_agent_writing_it() -> None:
    allocation = plan_allocation(DATA_PIPELINE, "prd.md")
    owner = {t.id: a.id for a in allocation.agents for t in a.tasks}
    rule = allocation.matrix.rule("dags/clickstream.py")
    assert (rule.access, rule.owner) == ("EXCLUSIVE", owner["O1"])
    one = plan_allocation("# App\n\n## Tasks\n- Onboarding flow `app/home.dart` (3h)\n", "prd.md", agents=1)
    assert one.agents[0].owns == ("app/",)


def test_a_migrations_folder_is_sequential_under_its_resource_not_owned() -> None:
    allocation = plan_allocation(SYNC_WITH_MIGRATION, "prd.md")
    entries = [e for e in allocation.matrix.entries if e.pattern == "migrations/"]
    assert [(e.access, e.owner, e.resource) for e in entries] == [("SEQUENTIAL", None, "@db-migrations")]
    database = next(a for a in allocation.agents if "database" in a.streams)
    assert "migrations/" not in database.owns and "migrations/" in database.shared


def test_a_generic_word_in_a_pathless_task_creates_no_default_folder() -> None:
    text = (
        "# T\n## Tasks\n- Results page `web/results.tsx` (2h)\n- Add sorting to the results table (1h)\n"
        "- Export endpoint `api/export.py` (2h)\n"
    )
    allocation = plan_allocation(text, "x.md")
    assert not any(e.pattern == "db/" for e in allocation.matrix.entries)
    check_invariants(allocation, balanced=False)


def test_everyday_keywords_count_half() -> None:
    from squad.allocate.classify import DEFAULT_STREAMS, Classifier

    classifier = Classifier(DEFAULT_STREAMS)
    assert classifier.by_keywords("Add sorting to the dashboard table") == "frontend"
    assert classifier.by_keywords("Create the users table") == "database"
    assert classifier.by_keywords("Postgres schema for the events table") == "database"
