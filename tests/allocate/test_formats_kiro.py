"""Kiro tasks.md files, written in its style, with its traps."""

from __future__ import annotations

from pathlib import Path

from squad.allocate.formats import detect
from tests.allocate.formats_helpers import agent_of, allocate_file, assert_no_junk_streams, tasks_of

NESTED = """\
# Implementation Plan

- [x] 1. Set up project structure and core interfaces
  - Create directory structure for models, services and API
  - _Requirements: 1.1_

- [ ] 2. Implement data models
  - [ ] 2.1 Create User model with validation
    - Write `src/models/user.py` with field validation
    - _Requirements: 1.2, 2.1_
  - [-] 2.2 Create Order model
    - Implement src/models/order.py
    - Relationship to User, depends on 2.1
  - [ ]* 2.3 Write property tests for models
    - tests/models/test_props.py

- [ ] 3. Checkpoint - Ensure all tests pass, ask the user if questions arise.

- [ ] 4. Build the API layer
  - [ ] 4.1 User endpoints
    - src/api/users.py
    - _Requirements: 3.1_
  - [ ] 4.2 Order endpoints in `src/api/orders.py`
    - Adds the order link to src/api/users.py

- [ ] 5. Write the usage guide
  - docs/usage.md

```markdown
- [ ] 9. An example in a fence
```
"""

FLAT = """\
# Implementation Plan

- [ ] 1. Backend foundations
- [ ] 1.1 Database schema in backend/db/schema.sql
- [ ] 1.2 Session store in backend/auth/sessions.py
- [ ] 2. Web client
- [ ] 2.1 Login form in web/src/Login.tsx
- [ ] 2.2 Profile page
- [ ] 2.3 Settings page in web/src/Settings.tsx
- [x] 2.4 Logo
- [ ] 3. Wire the login form to the session store (after 1.2, 2.1)
"""


def test_kiro_nested_groups_checkpoints_and_optional_tasks(tmp_path: Path) -> None:
    assert detect(NESTED) == "kiro"
    allocation = allocate_file(tmp_path, ".kiro/specs/orders/tasks.md", NESTED)
    deps = tasks_of(allocation)
    # 1 done, 2.3 optional, 3 a checkpoint, 9 in a fence; groups 2 and 4 are not tasks.
    assert sorted(deps) == ["2.1", "2.2", "4.1", "4.2", "5"]
    assert deps["2.2"] == ("2.1",)  # stated in a detail line; _Requirements_ are not dependencies
    assert {"2.1", "2.2"} <= set(deps["4.1"]) and {"2.1", "2.2"} <= set(deps["5"])  # after the checkpoint
    agent = agent_of(allocation)
    assert agent["4.1"] == agent["4.2"] or "4.1" in deps["4.2"]  # both write src/api/users.py
    notes = "\n".join(allocation.read_notes)
    assert "optional" in notes and "checkpoint" in notes and "done" in notes
    assert_no_junk_streams(allocation)


def test_kiro_flat_numbering_and_path_less_subtasks(tmp_path: Path) -> None:
    assert detect(FLAT) == "kiro"
    allocation = allocate_file(tmp_path, "tasks.md", FLAT, agents=None)  # one agent a stream: 2
    assert len(allocation.agents) == 2
    deps = tasks_of(allocation)
    assert sorted(deps) == ["1.1", "1.2", "2.1", "2.2", "2.3", "3"]
    assert set(deps["3"]) == {"1.2", "2.1"}
    agent = agent_of(allocation)
    assert agent["2.2"] == agent["2.1"]  # a path-less sub-task follows its group's files
    assert agent["1.1"] == agent["1.2"] != agent["2.1"]
    assert_no_junk_streams(allocation)
