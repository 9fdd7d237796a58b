"""ccpm epics with their task files, written in its style, with its traps."""

from __future__ import annotations

from pathlib import Path

from squad.allocate.formats import detect
from tests.allocate.formats_helpers import agent_of, allocate_file, tasks_of

EPIC = """\
---
name: photo-sharing
status: backlog
created: 2025-01-10T10:00:00Z
progress: 0%
prd: .claude/prds/photo-sharing.md
github: [Will be updated when synced to GitHub]
---

# Epic: photo-sharing

## Task Breakdown Preview
- [ ] **Data layer**: share model and migrations
- [ ] **API**: share endpoints
- [ ] **UI**: share dialog

## Tasks Created
- [ ] 001.md - Share model and migration (parallel: false)
- [ ] 002.md - Share endpoints (parallel: true)
- [ ] 003.md - Share dialog (parallel: true, conflicts with 004)
- [ ] 004.md - Album page share button (parallel: true)
- [x] 005.md - Spike on link tokens (parallel: true)
- [ ] 010.md - Share analytics (parallel: true)

Total tasks: 9
Parallel tasks: 4
"""

TASKS = {
    "001.md": (
        "---\nname: Share model and migration\nstatus: open\ndepends_on: []\nparallel: false\nconflicts_with: []\n---\n"
        "# Task: Share model and migration\n\n## Technical Details\n- Files: `backend/models/share.py`\n\n"
        "## Effort Estimate\n- Size: M\n- Hours: 6\n"
    ),
    "002.md": "---\nname: Share endpoints\nstatus: open\ndepends_on: [001]\nparallel: true\n---\nEdit backend/api/shares.py\n",
    "003.md": (
        "---\nname: Share dialog\nstatus: open\ndepends_on: [002]\nparallel: true\nconflicts_with: [004]\n---\n"
        "## Technical Details\n- frontend/components/ShareDialog.tsx\n- frontend/pages/Album.tsx\n"
    ),
    "004.md": (
        "---\nname: Album page share button\nstatus: in-progress\ndepends_on: [002]\nparallel: true\n---\n"
        "Adds the button to frontend/pages/Album.tsx\n"
    ),
    "005.md": "---\nname: Spike on link tokens\nstatus: closed\n---\n",
    "010.md": (
        "---\nname: Share analytics\nstatus: open\ndepends_on: [008, 002]\nparallel: true\n---\n"
        "Counts shares in analytics/shares.py\n"
    ),
}

PREVIEW_ONLY = """\
---
name: exports
status: backlog
prd: .claude/prds/exports.md
---

# Epic: exports

## Task Breakdown Preview
- [ ] **CSV export**: writer in `backend/export/csv.py`
- [ ] **Export button**: in `frontend/Export.tsx`
"""


def test_ccpm_epic_with_task_files(tmp_path: Path) -> None:
    assert detect(EPIC) == "ccpm"
    allocation = allocate_file(tmp_path, ".claude/epics/photo-sharing/epic.md", EPIC, others=TASKS)
    deps = tasks_of(allocation)
    assert sorted(deps) == ["001", "002", "003", "004", "010"]  # 005 closed; the preview is not more tasks
    assert deps["002"] == ("001",)
    assert deps["010"] == ("002",)  # 008 is a leading-zero id that exists nowhere: a note, not an error
    assert "003" in deps["004"]  # conflicts_with: in order, whatever parallel: true says
    notes = "\n".join(allocation.read_notes)
    assert "'008'" in notes and "closed" in notes and "Preview" in notes
    agent = agent_of(allocation)
    assert agent["001"] == agent["002"] != agent["003"]
    hours = {t.id: t.hours for a in allocation.agents for t in a.tasks}
    assert hours["001"] == 6


def test_ccpm_epic_not_decomposed_reads_its_preview_with_a_note(tmp_path: Path) -> None:
    allocation = allocate_file(tmp_path, "epic.md", PREVIEW_ONLY)
    assert sorted(tasks_of(allocation)) == ["P1", "P2"]
    assert any("not decomposed" in n for n in allocation.read_notes)


def test_a_single_ccpm_task_file(tmp_path: Path) -> None:
    allocation = allocate_file(tmp_path, "001.md", TASKS["001.md"], agents=None)
    assert sorted(tasks_of(allocation)) == ["001"]
