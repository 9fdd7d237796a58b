"""Choosing the reader, --format, the generic markdown PRD, and what allocate says before writing."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from squad.allocate import plan_allocation
from squad.allocate.formats import detect
from tests.allocate.formats_helpers import allocate_file, assert_no_junk_streams
from tests.allocate.prds import EXAMPLE, PROSE
from tests.allocate.test_formats_agenthub import FEED
from tests.allocate.test_formats_speckit import WEB_APP
from tests.conftest import invoke

FENCED_EXAMPLES = """\
# Search

Our task files look like this:

```markdown
- [ ] T001 [P] [US1] Example in spec-kit style
- [ ] T002 [P] [US1] Another example
### Stream 1: Example
#### Story 1.1: Example
```

<!--
- [ ] 1. A commented Kiro line
- [ ] 1.1 Another
-->

## Tasks
- [backend] Search endpoint `backend/search.py` (2h)
- [frontend] Search box `frontend/Search.tsx` (1h, depends on: Search endpoint)
"""

CONSTRAINTS = """\
# Exports

## Implementation Constraints

### Parallel Execution Rules
1. Each domain works in its own directory
2. Shared files are locked

### Dependencies
- Frontend depends on: Backend

## Tasks
- [backend] CSV writer `backend/csv.py`
- [frontend] Export button `frontend/Export.tsx` (depends on: CSV writer)
"""


def test_detection_by_shape_ignores_fences_and_comments() -> None:
    assert detect(FENCED_EXAMPLES) == "markdown"
    assert detect(EXAMPLE.read_text()) == "markdown"
    assert detect(WEB_APP) == "spec-kit"
    assert detect('{"master": {"tasks": []}}') == "taskmaster"


def test_the_shipped_example_still_gives_the_twelve_tasks(tmp_path: Path) -> None:
    allocation = allocate_file(tmp_path, "feature-prd.md", EXAMPLE.read_text())
    assert [(a.id, [t.id for t in a.tasks]) for a in allocation.agents] == [
        ("agent-1-frontend", ["F1", "F2", "F3", "F5", "F4"]),
        ("agent-2-backend", ["B1", "B2", "B3", "B4"]),
        ("agent-3-ml", ["M1", "M2", "M3"]),
    ]
    assert allocation.read_notes == ()


def test_constraints_are_not_tasks_and_sections_are_not_streams(tmp_path: Path) -> None:
    allocation = allocate_file(tmp_path, "prd.md", CONSTRAINTS, agents=None)
    assert sorted(t.id for a in allocation.agents for t in a.tasks) == ["T1", "T2"]
    assert [a.role for a in allocation.agents] == ["backend", "frontend"]
    assert_no_junk_streams(allocation)


def test_format_can_be_forced(tmp_path: Path) -> None:
    # Read as plain markdown, the spec-kit file has no task heading: no tasks there.
    text = "# Tasks: X\n\n## Phase 1: Setup\n- [ ] T001 Create app/main.py\n"
    assert plan_allocation(text, "tasks.md", fmt="spec-kit").prd.tasks[0].explicit_id == "T001"


def test_cli_says_what_it_understood_before_writing(repo: Path, runner: CliRunner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(repo)
    (repo / "prd.md").write_text(FEED)
    result = invoke(runner, "allocate", "prd.md", "--agents", "3")
    assert result.exit_code == 0, result.output
    out = result.output
    head = out.split("Wrote .squad/")[0]
    assert head.startswith("Read prd.md as an ai-agent-hub PRD: 8 tasks in 3 streams (frontend 3, backend 3, ml 2).")
    assert "Unresolved: line 40: Web depends on 'Shared types'" in head
    # Existing plans: refused, but what was understood is printed first.
    again = invoke(runner, "allocate", "prd.md", "--agents", "3")
    assert again.exit_code == 2 and again.output.startswith("Read prd.md as an ai-agent-hub PRD")
    forced = invoke(runner, "allocate", "prd.md", "--format", "markdown", "--dry-run")
    assert forced.exit_code == 0 and forced.output.startswith("Read prd.md as a markdown PRD: 8 tasks")


def test_a_prose_prd_is_one_clear_line(repo: Path, runner: CliRunner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(repo)
    (repo / "prd.md").write_text("# Notifications\n\nWe want users to hear about things.\n\nIn this order.\n")
    result = invoke(runner, "allocate", "prd.md", "--dry-run")
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "prose PRD" in lines[0] and "run an agent" in lines[0]
    shutil.copy(EXAMPLE, repo / "ok.md")
    assert invoke(runner, "allocate", "ok.md", "--dry-run").exit_code == 0
    assert PROSE  # the PROSE fixture has a work-items list: it is a PRD, not prose
