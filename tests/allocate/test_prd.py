from __future__ import annotations

import pytest

from squad.allocate.prd import looks_like_path, parse_annotations, parse_prd
from squad.config import Config
from squad.errors import SquadError
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
        parse_prd("# Empty\n\nJust prose.\n", "empty.md", HEADINGS)
    message = info.value.render()
    assert message.startswith("empty.md: no tasks found")
    assert '"task breakdown"' in message and "task_headings" in message


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
