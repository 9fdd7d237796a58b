from __future__ import annotations

import pytest

from squad.allocate.prd import looks_like_path, parse_annotations, parse_prd
from squad.config import Config
from squad.errors import SquadError
from squad.paths import SquadPaths
from tests.allocate.invariants import check_invariants
from tests.allocate.prds import EXAMPLE, PROSE

HEADINGS = Config().task_headings


def test_annotations_are_read_and_removed_from_the_title() -> None:
    title, task_id, tag, estimate, deps = parse_annotations(
        "B7: [backend] Export endpoint `backend/export.py` (2h, depends on: B3, B4)"
    )
    assert (title, task_id, tag, estimate) == ("Export endpoint", "B7", "backend", "2h")
    assert [d.target for d in deps] == ["B3", "B4"]
    title, _, _, estimate, deps = parse_annotations("[ ] Invoice page (30m) after: Create schema")
    assert (title, estimate) == ("Invoice page", "30m")
    assert [(d.target, d.by_id) for d in deps] == [("Create schema", False)]
    assert parse_annotations("Train model estimate: 3d")[3] == "3d"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("frontend/App.tsx", True),
        ("shared/types/", True),
        ("package.json", True),
        ("config/*.config.js", True),
        (".env", True),
        ("Dockerfile", True),
        ("npm install", False),
        ("/api/metrics", False),
        ("useSocket()", False),
        ("React.FC", False),
        ("https://example.com/a.js", False),
    ],
)
def test_paths_in_backticks(text: str, expected: bool) -> None:
    assert looks_like_path(text) is expected


def test_example_structure() -> None:
    prd = parse_prd(EXAMPLE.read_text(), EXAMPLE, HEADINGS)
    assert prd.title == "User Analytics Dashboard"
    assert [t.explicit_id for t in prd.tasks] == [
        "F1", "F2", "F3", "F4", "F5", "B1", "B2", "B3", "B4", "M1", "M2", "M3",
    ]  # fmt: skip
    assert {t.heading_stream for t in prd.tasks} == {"Frontend", "Backend", "ML"}
    assert prd.shared == ("shared/types/metrics.ts", "shared/types/analytics.ts")
    assert prd.read_only == ("config/*.config.js",)
    assert "ml/anomaly/detector.py" in prd.files_to_create
    first = prd.tasks[0]
    assert len(first.subtasks) == 2 and first.estimate == "3h"
    assert (
        first.line
        == EXAMPLE.read_text()
        .splitlines()
        .index(next(line for line in EXAMPLE.read_text().splitlines() if line.startswith("- F1:")))
        + 1
    )
    assert any(r.stream == "frontend" for r in prd.requirements)
    # success criteria checkboxes are not tasks
    assert not any("renders all metric cards" in t.title for t in prd.tasks)


def test_nested_items_with_their_own_id_are_tasks() -> None:
    text = "# X\n\n## Tasks\n- T1: parent (2h)\n  - a detail\n  - T9: child with an id\n- second\n"
    prd = parse_prd(text, "x.md", HEADINGS)
    assert [(t.explicit_id, t.title) for t in prd.tasks] == [
        ("T1", "parent"),
        ("T9", "child with an id"),
        (None, "second"),
    ]
    assert prd.tasks[0].subtasks == ("a detail",)


def test_prose_and_other_sections_are_not_tasks() -> None:
    prd = parse_prd(PROSE, "p.md", HEADINGS)
    assert [t.title for t in prd.tasks] == [
        "Notification service that fans out events to channels",
        "Email digest job that batches notifications daily",
        "Preferences page where users pick channels",
        "Unsubscribe link handling in the email templates",
    ]


def test_configured_headings() -> None:
    text = "# X\n\n## Backlog\n- do it\n"
    with pytest.raises(SquadError, match="no tasks found"):
        parse_prd(text, "x.md", HEADINGS)
    assert len(parse_prd(text, "x.md", ("backlog",)).tasks) == 1


def test_no_tasks_says_what_was_looked_for() -> None:
    with pytest.raises(SquadError) as info:
        parse_prd("# Empty\n\n## Backlog\n- an idea\n", "empty.md", HEADINGS)
    message = info.value.render()
    assert message.startswith("empty.md: no tasks found")
    assert '"task breakdown"' in message and "task_headings" in message


def test_a_prose_prd_gets_one_line_saying_so_and_what_to_do() -> None:
    with pytest.raises(SquadError) as info:
        parse_prd("# Empty\n\nJust prose.\n\nMore prose about the feature.\n", "empty.md", HEADINGS)
    message = info.value.render()
    assert "\n" not in message
    assert message.startswith("empty.md: no tasks found: this reads as a prose PRD with no task list")
    assert "write a task list" in message and "run an agent on the PRD" in message and "spec-kit" in message


def test_prose_depends_on_is_lenient_but_annotations_are_strict() -> None:
    from squad.allocate import plan_allocation

    text = "# X\n\n## Tasks\n- Schema\n- Export that depends on the weather\n- Report (depends on: Schema)\n"
    allocation = plan_allocation(text, "x.md")
    tasks = {t.raw.title: t for a in allocation.agents for t in a.tasks}
    assert tasks["Export that depends on the weather"].depends_on == ()
    assert tasks["Report"].depends_on == ("T1",)


def test_file_lists_in_code_blocks_trees_and_plain_text() -> None:
    text = (
        "# X\n\n## Files to Create\n```\nfrontend/\n├── src/\n│   ├── App.tsx\n│   └── hooks/\n"
        "│       └── useX.ts\n└── index.html\nbackend/api.py\n```\n- web/plain/path.ts (new)\n\n"
        "## Shared Dependencies\n- shared/types/user.ts\n\n## Tasks\n- a\n"
    )
    prd = parse_prd(text, "x.md", HEADINGS)
    assert "frontend/src/hooks/useX.ts" in prd.files_to_create
    assert "frontend/index.html" in prd.files_to_create
    assert "backend/api.py" in prd.files_to_create and "web/plain/path.ts" in prd.files_to_create
    assert prd.shared == ("shared/types/user.ts",)


PM_STYLE = """\
# Checkout Revamp

Our checkout converts poorly on mobile. This is what we want.

1. Users can pay with Apple Pay and Google Pay.
2. The cart page shows shipping costs before checkout.
3. Order confirmation emails include a tracking link.

## Success metrics
1. Conversion up 5%
"""


def test_a_numbered_list_with_no_task_heading_gets_an_error_saying_where_the_items_are() -> None:
    with pytest.raises(SquadError) as info:
        parse_prd(PM_STYLE, "pm.md", HEADINGS)
    message = info.value.render()
    assert message.startswith(
        'pm.md: no tasks found: looked for list items and table rows under headings named "tasks"'
    )
    assert 'found 3 list items under other headings (3 under "Checkout Revamp" (line 5))' in message
    assert "put a `## Tasks` heading above" in message and "task_headings" in message
    with pytest.raises(SquadError, match=r"named \(none: `task_headings` is empty\)"):
        parse_prd(PM_STYLE, "pm.md", ())
    assert len(parse_prd(PM_STYLE, "pm.md", ("checkout revamp",)).tasks) == 3


def test_milestones_with_phase_sub_headings() -> None:
    from squad.allocate import plan_allocation

    text = (
        "# Loyalty\n\n## Milestones\n\n### Phase 1\n- Points ledger table `db/points.sql` (4h)\n"
        "- REST endpoint to award points `backend/award.py` (3h)\n\n### Phase 2\n"
        "- Points badge component `frontend/Badge.tsx` (2h, after: REST endpoint to award points)\n"
    )
    allocation = plan_allocation(text, "m.md")
    check_invariants(allocation, balanced=False)
    roles = {t.raw.title: a.role for a in allocation.agents for t in a.tasks}
    assert roles == {"Points ledger table": "database", "REST endpoint to award points": "backend",
                     "Points badge component": "frontend"}  # fmt: skip
    assert "phase" not in " ".join(roles.values())  # "Phase 1" names no stream


def test_german_and_emoji_headings() -> None:
    text = (
        "# 🚀 Benutzer-Dashboard\n\n## 📋 Aufgaben\n- Diagramm-Komponente bauen `frontend/Diagramm.tsx` (2h)\n\n"
        "## ✅ Tasks\n### 🎨 Frontend\n- Übersichtsseite (2h)\n### ⚙️ Backend\n- Kennzahlen-API (1h)\n\n"
        "## Erfolgskriterien\n- [ ] Alles lädt in 2 s\n"
    )
    prd = parse_prd(text, "de.md", HEADINGS)
    assert prd.title == "🚀 Benutzer-Dashboard"
    assert [(t.title, t.heading_stream) for t in prd.tasks] == [
        ("Diagramm-Komponente bauen", None),
        ("Übersichtsseite", "🎨 Frontend"),
        ("Kennzahlen-API", "⚙️ Backend"),
    ]


def test_task_like_items_under_other_headings_are_named_in_a_note() -> None:
    from squad.allocate import plan_allocation

    text = "# X\n\n## Background\n- users complain\n\n## Sprint plan\n- B1: [backend] api (2h)\n\n## Tasks\n- page\n"
    allocation = plan_allocation(text, "x.md")
    assert [t.raw.title for a in allocation.agents for t in a.tasks] == ["page"]
    assert allocation.notes == (
        'line 7: 1 list item(s) under "Sprint plan" look like tasks but were not allocated: that heading is not '
        "task-like (add it to `task_headings` in .squad/config.yaml)",
    )


def test_paths_trailing_a_title_are_all_taken_out_of_it() -> None:
    title, *_ = parse_annotations("Wire the chart to the api: `frontend/Chart.tsx` and `backend/api.py` (1h)")
    assert title == "Wire the chart to the api"
    title, *_ = parse_annotations("Serve the bundle `backend/static.py`, `frontend/dist/index.html` & `nginx.conf`")
    assert title == "Serve the bundle"


def test_very_long_titles_survive_whole_in_the_plan_front_matter(squad: SquadPaths) -> None:
    from squad.allocate import allocate
    from squad.protocol.plan import read_plan

    title = "Implement the " + "very " * 90 + "long dashboard: with 'quotes', \"double\", #hash, {braces} and: colons"
    (squad.root / "long.md").write_text(f"# L\n\n## Tasks\n- {title} `frontend/a.tsx` (2h)\n")
    allocate("long.md", start=squad.root)
    plan = read_plan(squad.plan(1))
    assert plan.tasks[0].title == title
    assert max(len(line) for line in plan.body.splitlines()) < 250  # the body shortens it
    assert "…" in plan.body


def test_a_tilde_estimate_ending_the_line() -> None:
    assert parse_annotations("Star item ~3h")[::3] == ("Star item", "3h")
    assert parse_annotations("Thing ~30 min.")[::3] == ("Thing", "30m")
    assert parse_annotations("Cache ~2 d of data")[3] is None  # prose, not at the end
    assert parse_annotations("Trend prediction for the next 24h")[3] is None


TABLE = """\
# Reporting

## Tasks

| ID | Task | Team | Effort (hours) | Depends on | Files |
|----|------|------|--------|------------|-------|
| B1 | Metrics **schema** | Backend | 2 | - | `backend/db.sql` |
| B2 | REST endpoints | backend | 3h | B1 | backend/api.py |
| F1 | Report page with charts | | 1d | B2 | `frontend/Report.tsx` |
| | | | | | |
| D1 | Write the how-to | docs | 30m | F1, B2 | |

## Files to Create
| File | Why |
|---|---|
| `web/Other.tsx` | a page |
"""


def test_tasks_in_a_table() -> None:
    prd = parse_prd(TABLE, "t.md", HEADINGS)
    got = [
        (t.explicit_id, t.title, t.tag, t.estimate, [d.target for d in t.depends], t.paths, t.line) for t in prd.tasks
    ]
    assert got == [
        ("B1", "Metrics schema", "backend", "2h", [], ("backend/db.sql",), 7),
        ("B2", "REST endpoints", "backend", "3h", ["B1"], ("backend/api.py",), 8),
        ("F1", "Report page with charts", None, "1d", ["B2"], ("frontend/Report.tsx",), 9),
        ("D1", "Write the how-to", "docs", "30m", ["F1", "B2"], (), 11),
    ]
    assert prd.files_to_create == ("web/Other.tsx",)


def test_table_columns_are_known_by_their_headers() -> None:
    from squad.allocate.tables import column_roles, row_text

    header = ["Nr", "Aufgabe", "Aufwand (Tage)", "Needs"]
    roles = column_roles(header)
    assert roles == ["id", "title", "estimate", "depends"]
    assert row_text(roles, header, ["A2", "Schema", "2", "A1"]) == "A2: Schema (2d, depends on: A1)"
    assert column_roles(["What we build", "Notes"]) == ["title", None]  # no known header: first column


HEADING_TASKS = """\
# App

## Implementation

### Task 1: Welcome carousel

Build `app/Carousel.swift` (3h)

### Task 2: Permissions

Depends on: Task 1

Ask for the camera in `app/Permissions.swift`, estimate: 2h

- request dialog

### Step 3 — Analytics

After: T2

## Notes
- not a task
"""


def test_headings_named_task_n_under_a_task_heading_are_tasks() -> None:
    from squad.allocate import plan_allocation

    prd = parse_prd(HEADING_TASKS, "app.md", HEADINGS)
    tasks = {t.explicit_id: t for t in prd.tasks}
    assert list(tasks) == ["T1", "T2", "S3"]
    assert (tasks["T1"].title, tasks["T1"].paths, tasks["T1"].estimate) == (
        "Welcome carousel",
        ("app/Carousel.swift",),
        "3h",
    )
    assert tasks["T2"].paths == ("app/Permissions.swift",) and tasks["T2"].estimate == "2h"
    assert tasks["T2"].subtasks == ("request dialog",)
    allocation = plan_allocation(HEADING_TASKS, "app.md")
    deps = {t.id: t.depends_on for a in allocation.agents for t in a.tasks}
    assert deps == {"T1": (), "T2": ("T1",), "S3": ("T2",)}
    check_invariants(allocation, balanced=False)


def test_checked_and_struck_through_items_are_skipped_with_a_note() -> None:
    from squad.allocate import plan_allocation

    text = (
        "# X\n\n## Tasks\n- [x] M2: copy approved\n  - nested step of done work\n- [ ] M3: ship it (1h)\n"
        "- ~~Cancelled: GUI~~\n- M4: [docs] man page `docs/csvq.1` (1h)\n"
    )
    allocation = plan_allocation(text, "x.md")
    titles = [t.raw.title for a in allocation.agents for t in a.tasks]
    assert titles == ["ship it", "man page"]
    assert any("line 4: 1 checked item" in n and "done" in n for n in allocation.notes)
    assert any("line 7: 1 struck-through item" in n and "cancelled" in n for n in allocation.notes)
    with pytest.raises(SquadError, match=r"checked \(`- \[x\]`, done\) or struck through"):
        parse_prd("# X\n\n## Tasks\n- [x] all done\n", "x.md", HEADINGS)


def test_no_tasks_message_names_list_items_under_excluded_headings() -> None:
    with pytest.raises(SquadError) as info:
        parse_prd("# T\n## Notes\n- a bullet\n", "p.md", HEADINGS)
    message = info.value.render()
    assert "found no list items" not in message
    assert 'found 1 list item only under headings never read as tasks (1 under "Notes" (line 3)' in message
    with pytest.raises(SquadError, match="found no list items at all"):
        parse_prd("# T\n\nprose only\n", "p.md", HEADINGS)


def test_any_backticked_token_with_a_slash_is_a_path() -> None:
    assert looks_like_path("docs/csvq.1", backticked=True) and looks_like_path("bin/run", backticked=True)
    assert not looks_like_path("docs/csvq.1 page", backticked=True)
    assert not looks_like_path("/api/metrics", backticked=True) and not looks_like_path("https://x.io/a", True)
    assert parse_prd("# X\n## Tasks\n- Man page `docs/csvq.1`\n", "x.md", HEADINGS).tasks[0].paths == ("docs/csvq.1",)


def test_a_task_like_heading_over_annotated_items_only_groups_them() -> None:
    text = (
        "# X\n## Milestones\n### M1: MVP\n- Login page `web/login.tsx` (2h)\n- Signup endpoint `api/signup.py` (1h)\n"
        "  - validate email\n### M2: Polish\n- copy review\n- icons\n"
    )
    tasks = parse_prd(text, "x.md", HEADINGS).tasks
    assert [(t.explicit_id, t.title, t.subtasks) for t in tasks] == [
        (None, "Login page", ()),
        (None, "Signup endpoint", ("validate email",)),
        ("M2", "Polish", ("copy review", "icons")),
    ]
