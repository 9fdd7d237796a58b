"""BMAD epics and stories, written in its style, with its traps."""

from __future__ import annotations

from pathlib import Path

from squad.allocate.formats import detect
from tests.allocate.formats_helpers import agent_of, allocate_file, assert_no_junk_streams, tasks_of

EPICS = """\
# Recipe Box - Epic Breakdown

## Epic List

- Epic 0: Foundation
- Epic 1: Recipes
- Epic 2: Sharing

Epic 0 must be completed before Epics 1-2.

## Epic 0: Foundation

### Story 0.1: Project scaffold [DONE]

As a developer, I want a scaffold.

### Story 0.2: Database and auth

As a developer,
I want a database and sign-in,
So that stories can store data.

**Acceptance Criteria:**

1. `api/db/schema.sql` creates the users table
2. `api/auth/session.py` issues sessions

## Epic 1: Recipes

#### Story 1.1: Recipe CRUD API

**Acceptance Criteria:**
- **Given** a user **When** they POST /api/recipes **Then** it is saved
- Files: `api/recipes/routes.py`, `api/recipes/models.py`

#### Story 1.2: Recipe list screen

Prerequisites: Story 1.1

- Implements `web/src/pages/Recipes.tsx`

#### Story 1.3: Recipe search

- **Given** many recipes **When** I type **Then** the list filters

## Epic 2: Sharing

#### Story 2.1: Share links

**Status:** Done

#### Story 2.2: Share dialog

Depends on: 1.2
- `web/src/components/ShareDialog.tsx`

```
#### Story 9.9: Fenced, not a story
```
"""

BOLD_STORIES = """\
# Habit Tracker PRD

## Epic 1 Tracking

**Story 1.1: Log a habit**
As a user I want to log a habit. Backend in `server/habits.py`.

**Story 1.2: Streaks**
Computes streaks in `server/streaks.py`. Prerequisites: 1.1

## Epic 2 Reminders

**Story 2.1: Reminder emails**
Sends mail from `worker/mail.py`.

Epic 2 depends on Epic 1.
"""


def test_bmad_epics_and_stories(tmp_path: Path) -> None:
    assert detect(EPICS) == "bmad"
    allocation = allocate_file(tmp_path, "docs/epics.md", EPICS)
    deps = tasks_of(allocation)
    assert sorted(deps) == ["0.2", "1.1", "1.2", "1.3", "2.2"]  # 0.1 [DONE], 2.1 Status: Done, 9.9 fenced
    assert "0.2" in deps["1.1"] and "0.2" in deps["2.2"]  # Epic 0 before Epics 1-2
    assert "1.1" in deps["1.2"] and "1.2" in deps["2.2"]
    agent = agent_of(allocation)
    assert agent["1.2"] == agent["2.2"] != agent["1.1"]  # web/ vs api/
    assert_no_junk_streams(allocation)
    assert sum("Done" in n or "done" in n for n in allocation.read_notes) == 2


def test_bmad_bold_story_lines_and_epic_order(tmp_path: Path) -> None:
    assert detect(BOLD_STORIES) == "bmad"
    allocation = allocate_file(tmp_path, "prd.md", BOLD_STORIES, agents=None)
    deps = tasks_of(allocation)
    assert sorted(deps) == ["1.1", "1.2", "2.1"]
    assert deps["1.2"] == ("1.1",)
    assert set(deps["2.1"]) == {"1.1", "1.2"}
