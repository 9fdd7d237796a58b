"""spec-kit tasks.md files, written in its style, with its traps."""

from __future__ import annotations

from pathlib import Path

from squad.allocate.formats import detect
from tests.allocate.formats_helpers import agent_of, allocate_file, assert_no_junk_streams, tasks_of

WEB_APP = """\
# Tasks: Photo Albums

**Input**: Design documents from `/specs/001-photo-albums/`
**Prerequisites**: plan.md, spec.md

## Format: `[ID] [P?] [Story] Description`
- **[P]**: Can run in parallel (different files, no dependencies)
- **[Story]**: Which user story this task belongs to (e.g., US1, US2, US3)

## Phase 1: Setup (Shared Infrastructure)

- [x] T001 Create project structure with backend/, frontend/ and shared/ directories
- [ ] T002 Initialize the FastAPI project in backend/pyproject.toml
- [ ] T003 [P] Configure ESLint in frontend/.eslintrc.json

---

## Phase 2: Foundational (Blocking Prerequisites)

**⚠️ CRITICAL**: No user story work can begin until this phase is complete

- [ ] T004 Base model in backend/src/models/base.py
- [ ] T005 [P] Auth middleware in backend/src/api/auth.py
- [ ] T006 [P] API client in frontend/src/services/api.ts

**Checkpoint**: Foundation ready - user story implementation can now begin in parallel

## Phase 3: User Story 1 - Create albums (Priority: P1) 🎯 MVP

### Tests for User Story 1

- [ ] T007 [P] [US1] Contract test for POST /api/albums in backend/tests/contract/test_albums.py

### Implementation for User Story 1

- [ ] T008 [P] [US1] Album model in backend/src/models/album.py
- [ ] T009 [US1] Album service in backend/src/services/albums.py (depends on T008)
- [ ] T010 [US1] Album endpoints in backend/src/api/albums.py
- [ ] T011 [P] [US1] Album list page in frontend/src/pages/Albums.tsx
<!-- - [ ] T099 [US1] an idea parked in a comment -->

## Phase 4: User Story 2 - Share albums (Priority: P2)

- [ ] T012 [P] [US2] Share model in backend/src/models/share.py
- [ ] T013 [P] [US2] Share endpoints in backend/src/api/albums.py
- [ ] T014 [P] [US2] Share dialog in frontend/src/components/ShareDialog.tsx
- [ ] T015 [US2] Wire the dialog into the album page

## Phase 5: Polish & Cross-Cutting Concerns

- [ ] T016 [P] Document albums in docs/albums.md
- [ ] ~~T017 Rewrite in Rust~~

## Dependencies & Execution Order

- **Setup (Phase 1)**: No dependencies - can start immediately
- **Foundational (Phase 2)**: Depends on Setup completion - BLOCKS all user stories
- **User Story 2 (P2)**: Can start after Foundational (Phase 2) - May integrate with US1 but should be independently testable
- T015 depends on T011

### Parallel Example: User Story 1

```bash
- [ ] T100 [US1] an example line, not a task
Task: "Album model in backend/src/models/album.py"
```

## Summary

- Total tasks: 24
- Parallel opportunities: 9
"""

SINGLE_PROJECT = """\
# Tasks: CSV linter

## Phase 3.1: Setup
- [ ] T001 Create the package layout in src/csvlint/
- [ ] T002 [P] Configure ruff in pyproject.toml

## Phase 3.2: Tests First (TDD)
- [ ] T003 [P] Contract test for the CLI in tests/contract/test_cli.py
- [ ] T004 [P] Integration test for quoting in tests/integration/test_quotes.py

## Phase 3.3: Core Implementation
- [ ] T005 [P] Dialect model in src/models/dialect.py
- [ ] T006 [P] Rule model in src/models/rule.py
- [ ] T007 Lint service in src/services/lint.py
- [ ] T008 Fixers in src/services/fix.py
- [ ] T009 CLI entry point in src/cli/main.py
- [ ] T010 CLI --fix flag in src/cli/main.py

## Phase 3.4: Polish
- [ ] T011 [P] Usage guide in docs/usage.md

## Dependencies
- Tests (T003-T004) before implementation (T005-T010)
- T007 requires T005, T006
"""


def test_spec_kit_web_app(tmp_path: Path) -> None:
    assert detect(WEB_APP) == "spec-kit"
    allocation = allocate_file(tmp_path, "specs/001-albums/tasks.md", WEB_APP)
    deps = tasks_of(allocation)
    # T001 done, T017 struck through, T099 in a comment, T100 in a fence: 14 tasks, ids as written.
    assert sorted(deps) == [f"T{n:03d}" for n in range(2, 17)]
    assert "T099" not in deps and "T100" not in deps
    assert set(deps["T009"]) >= {"T008"}  # inline
    assert "T011" in deps["T015"]  # the Dependencies section
    assert {"T004", "T005", "T006"} <= set(deps["T008"])  # Foundational blocks every story
    assert {"T002", "T003"} <= set(deps["T004"])  # Setup before Foundational
    assert "T008" not in deps["T012"]  # stories are independent of each other
    assert {"T008", "T015"} <= set(deps["T016"])  # Polish after the stories
    assert_no_junk_streams(allocation)
    agent = agent_of(allocation)
    assert agent["T008"] == agent["T012"] == agent["T010"]  # backend work lands on one agent
    assert agent["T011"] == agent["T014"] != agent["T008"]
    # A path-less task goes where its story works, to the area its words name ("page": frontend).
    assert agent["T015"] == agent["T014"]
    notes = "\n".join(allocation.read_notes)
    assert "done" in notes and "cancelled" in notes


def test_same_file_tasks_on_two_agents_are_ordered_despite_p(tmp_path: Path) -> None:
    allocation = allocate_file(tmp_path, "tasks.md", SINGLE_PROJECT, agents=3)
    deps = tasks_of(allocation)
    assert sorted(deps) == [f"T{n:03d}" for n in range(1, 12)]
    assert {"T003", "T004"} <= set(deps["T005"])  # "Tests before implementation"
    assert {"T005", "T006"} <= set(deps["T007"])
    agent = agent_of(allocation)
    # T009 and T010 both write src/cli/main.py: one agent, or in order.
    assert agent["T009"] == agent["T010"] or "T009" in deps["T010"]
    assert len(allocation.agents) <= 3
    assert_no_junk_streams(allocation)


def test_spec_kit_with_two_agents_cap(tmp_path: Path) -> None:
    allocation = allocate_file(tmp_path, "tasks.md", WEB_APP, agents=2)
    assert len(allocation.agents) == 2
    assert sum(len(a.tasks) for a in allocation.agents) == 15
