"""``squad status`` reuses the coordinator's snapshot exactly while the files say the same."""

from __future__ import annotations

import json
import os

from squad.paths import SquadPaths
from squad.protocol.comm import Status
from squad.protocol.times import now
from tests.conftest import handoff, plan, poll_until, post, run_squad


def _squad(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("F1", ["frontend/a.tsx"], []), ("F2", [], [])])
    plan(squad, 2, "backend", ["backend/"], [("B1", ["backend/a.py"], [])])
    post(squad, 1, "frontend", Status.ACTIVE, now(), task="F1", files=("frontend/a.tsx", "backend/x.py"))
    handoff(squad, 1, "agent-1", "agent-2", "shared/t.ts", now())
    post(squad, 2, "backend", Status.BLOCKED, now(), task="B1", waiting_for="shared/t.ts")


def _status(squad: SquadPaths) -> dict[str, object]:
    result = run_squad("status", "--json", cwd=squad.root)
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    for agent in data["agents"]:  # type: ignore[attr-defined]
        agent.pop("idle_s")
    data.pop("metrics")
    return data


def test_status_from_the_coordinators_snapshot_equals_status_from_the_files(squad: SquadPaths) -> None:
    _squad(squad)
    assert run_squad("lock", "shared/t.ts", "--agent", "1", cwd=squad.root).returncode == 0
    assert run_squad("daemon", "start", cwd=squad.root).returncode == 0
    try:
        poll_until(squad.snapshot_cache.exists, what="the coordinator's snapshot")
        from_cache = _status(squad)
    finally:
        run_squad("daemon", "stop", cwd=squad.root)
    squad.snapshot_cache.unlink()
    from_files = _status(squad)
    assert from_cache == from_files
    assert from_cache["violations"] and from_cache["handoffs"] and from_cache["locks"]


def test_a_snapshot_is_used_only_while_every_file_is_as_it_was_read(squad: SquadPaths) -> None:
    _squad(squad)
    assert run_squad("daemon", "start", cwd=squad.root).returncode == 0
    run_squad("daemon", "stop", cwd=squad.root)
    # Mark the saved snapshot, so it shows when it is used.
    data = json.loads(squad.snapshot_cache.read_text())
    data["agents"][0]["task"] = "from the snapshot"
    squad.snapshot_cache.write_text(json.dumps(data))
    assert _status(squad)["agents"][0]["task"] == "from the snapshot"  # type: ignore[index]
    # An appended block makes it stale: the files are read.
    post(squad, 1, "frontend", Status.ACTIVE, now(), task="F2")
    assert _status(squad)["agents"][0]["task"] == "F2"  # type: ignore[index]
    # Stale it stays, whatever the saved snapshot says.
    squad.snapshot_cache.write_text(json.dumps(data))
    assert _status(squad)["agents"][0]["task"] == "F2"  # type: ignore[index]


def test_a_new_comm_file_or_a_touched_plan_makes_the_snapshot_stale(squad: SquadPaths) -> None:
    _squad(squad)
    assert run_squad("daemon", "start", cwd=squad.root).returncode == 0
    run_squad("daemon", "stop", cwd=squad.root)
    data = json.loads(squad.snapshot_cache.read_text())
    data["agents"][0]["task"] = "from the snapshot"
    squad.snapshot_cache.write_text(json.dumps(data))
    assert _status(squad)["agents"][0]["task"] == "from the snapshot"  # type: ignore[index]
    stat = squad.plan(2).stat()
    os.utime(squad.plan(2), ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert _status(squad)["agents"][0]["task"] == "F1"  # type: ignore[index]
    os.utime(squad.plan(2), ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _status(squad)["agents"][0]["task"] == "from the snapshot"  # type: ignore[index]
    post(squad, 3, "qa", Status.ACTIVE, now(), task="Q1")
    assert _status(squad)["agents"][0]["task"] == "F1"  # type: ignore[index]


def test_files_lists_are_encoded_as_they_grow_and_afresh_when_they_do_not() -> None:
    """Only what an agent's list gained is encoded; a list that is not the old one plus more (a
    rewritten comm file) is encoded whole. Either way the text is the list's JSON."""
    from squad.coordinator import cache

    def check(agent: str, files: tuple[str, ...]) -> None:
        assert json.loads(cache._files_json(agent, files)) == list(files)

    cache._FILES.pop("agent-9", None)
    grown: tuple[str, ...] = ()
    check("agent-9", grown)
    for i in range(5):
        grown = (*grown, f"src/f{i}.py", 'we"ird\\path')[: 2 * i + 2]
        check("agent-9", grown)
    check("agent-9", grown)  # unchanged
    check("agent-9", ("other.py",))  # not a growth: whole again
    check("agent-9", ("other.py", "ü.py"))
    check("agent-9", ())
    cache._FILES.pop("agent-9", None)
