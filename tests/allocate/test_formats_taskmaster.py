"""Task Master tasks.json files: structured, read exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from squad.allocate import plan_allocation
from squad.allocate.formats import detect
from squad.errors import SquadError
from tests.allocate.formats_helpers import agent_of, allocate_file, tasks_of


def _task(task_id: int, title: str, details: str, deps: list[int], status: str = "pending") -> dict[str, object]:
    return {
        "id": task_id,
        "title": title,
        "description": title,
        "details": details,
        "testStrategy": "Run the tests in tests/",
        "priority": "high",
        "dependencies": deps,
        "status": status,
        "subtasks": [
            {"id": 1, "title": f"{title}: first step", "description": "", "details": "", "status": "done",
             "dependencies": []},
            {"id": 2, "title": f"{title}: second step", "description": "", "details": "", "status": "pending",
             "dependencies": [1]},
        ],
    }  # fmt: skip


TAGGED = {
    "master": {
        "tasks": [
            _task(1, "Set up the repository", "Create package.json and the src/ layout", [], "done"),
            _task(2, "Database schema", "Write server/db/schema.sql with users and posts", [1]),
            _task(3, "Posts API", "Implement server/api/posts.ts using the schema", [2]),
            _task(4, "Feed page", "Build web/pages/Feed.tsx calling the posts API", [3]),
            _task(5, "Profile page", "Build web/pages/Profile.tsx", [2]),
            _task(6, "Dark mode", "Theme in web/theme.ts", [], "deferred"),
            _task(7, "Post editor", "Build web/pages/Feed.tsx editor panel", [3, 12]),
        ],
        "metadata": {"created": "2025-05-01T00:00:00Z", "description": "Tasks for master context"},
    },
    "feature-x": {"tasks": [_task(1, "Other tag", "not read", [])]},
}


def test_task_master_tagged_tasks_json(tmp_path: Path) -> None:
    text = json.dumps(TAGGED, indent=2)
    assert detect(text, "tasks.json") == "taskmaster"
    allocation = allocate_file(tmp_path, ".taskmaster/tasks/tasks.json", text)
    deps = tasks_of(allocation)
    assert sorted(deps) == ["2", "3", "4", "5", "7"]  # 1 done, 6 deferred
    assert deps["3"] == ("2",) and deps["5"] == ("2",)
    assert deps["2"] == ()  # its dependency is done: nothing to wait for, and no error
    assert deps["7"][0] == "3"  # 12 exists nowhere: a note
    agent = agent_of(allocation)
    assert agent["4"] == agent["7"] or "4" in deps["7"]  # both write web/pages/Feed.tsx
    notes = "\n".join(allocation.read_notes)
    assert "feature-x" in notes and "'12'" in notes and "deferred" in notes
    first = next(t for a in allocation.agents for t in a.tasks if t.id == "2")
    assert first.raw.subtasks == ("Database schema: first step (done)", "Database schema: second step")


def test_legacy_task_list_and_bad_json(tmp_path: Path) -> None:
    text = json.dumps({"tasks": TAGGED["master"]["tasks"]})  # type: ignore[index]
    allocation = allocate_file(tmp_path, "tasks.json", text, agents=2)
    assert len(tasks_of(allocation)) == 5
    with pytest.raises(SquadError, match=r"tasks\.json:3: is not valid JSON"):
        plan_allocation('{\n "tasks": [\n  {,}\n ]\n}', "tasks.json")
