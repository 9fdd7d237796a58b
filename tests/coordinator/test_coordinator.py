"""The coordinator loop with a real watchdog observer: files written by the test drive the rules."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from squad.coordinator.daemon import Coordinator
from squad.coordinator.watcher import Watcher
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import Status
from squad.protocol.times import now
from tests.conftest import events, lease, plan, poll_until, post


@contextmanager
def coordinating(paths: SquadPaths, offset: list[float]) -> Iterator[Coordinator]:
    coordinator = Coordinator(paths, tick_s=0.2, clock=lambda: now() + timedelta(seconds=offset[0]))
    with coordinator:
        thread = threading.Thread(target=coordinator.run, name="coordinator-test")
        thread.start()
        try:
            yield coordinator
        finally:
            coordinator.stop()
            thread.join(timeout=30)


def test_watcher_batches_changes(tmp_path: Path) -> None:
    with Watcher([tmp_path]) as watcher:
        (tmp_path / "a.txt").write_text("1")
        (tmp_path / "b.txt").write_text("2")
        seen: set[str] = set()
        poll_until(lambda: seen.update(watcher.batch(0.5) or ()) or {"a.txt", "b.txt"} <= {Path(p).name for p in seen},
                   what="both files in a batch")  # fmt: skip
        assert watcher.batch(0.05) is None


def test_rules_fire_on_file_changes_and_on_the_timer(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    plan(squad, 2, "backend", ["backend/"], [("T2", ["backend/a.py"], ["T1"])])
    offset = [0.0]
    with coordinating(squad, offset):
        post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1", files=("backend/a.py",))
        poll_until(lambda: events(squad, ev.VIOLATION), what="a violation from a comm append")
        # a SEQUENTIAL file changing in the shared checkout while nobody holds its lease
        (squad.root / "shared").mkdir()
        (squad.root / "shared" / "types.ts").write_text("export type A = 1\n")
        poll_until(
            lambda: any(e.path == "shared/types.ts" for e in events(squad, ev.VIOLATION)), what="work-tree violation"
        )
        # a lease that expires: broken on the timer
        lease(squad, "agent-2-backend", "@db", now(), ttl_s=60)
        offset[0] = 120.0
        poll_until(lambda: events(squad, ev.LOCK_BROKEN), what="the stale lease broken by the timer")
        # time passes: agent 1 goes idle, then agent 2 (never posted) is ignored
        offset[0] = 700.0
        poll_until(lambda: events(squad, ev.AGENT_IDLE), what="agent_idle from the timer")
        post(squad, 1, "frontend", Status.FAILED, now() + timedelta(seconds=700), task="T1")
        poll_until(lambda: events(squad, "task_blocked"), what="the failure cascade")
    assert "agent-1-frontend" in squad.status_report.read_text()
    assert len(events(squad, ev.AGENT_IDLE)) == 1
    assert not squad.lease_file("@db").exists()


def test_unlocking_before_reporting_the_file_is_no_violation(squad: SquadPaths) -> None:
    from squad.leases import locks

    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["shared/types.ts"], [])])
    post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1")
    with coordinating(squad, [0.0]) as coordinator:
        locks.acquire(squad, "agent-1-frontend", "shared/types.ts")
        poll_until(lambda: coordinator.engine.leases, what="the lease seen")
        locks.release(squad, "agent-1-frontend", "shared/types.ts")
        poll_until(lambda: coordinator.engine.released, what="the release seen")
        post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1", files=("shared/types.ts",))
        post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1", files=("shared/other.ts",))
        poll_until(lambda: events(squad, ev.VIOLATION), what="the violation for the unlocked file")
    assert [e.path for e in events(squad, ev.VIOLATION)] == ["shared/other.ts"]


def test_a_lease_taken_and_released_between_two_reads_is_no_violation(squad: SquadPaths) -> None:
    """Lock, edit, unlock in one burst: the coordinator never reads the lease, only sees its file
    come and go; a report of that file is not a violation, a report of another one still is."""
    from squad.leases import locks

    squad.config.write_text("coordinator:\n  watch_worktree: false\n")
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["shared/types.ts"], [])])
    post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1")
    with coordinating(squad, [0.0]) as coordinator:
        locks.acquire(squad, "agent-1-frontend", "shared/types.ts")
        locks.release(squad, "agent-1-frontend", "shared/types.ts")
        post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1", files=("shared/types.ts",))
        post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1", files=("src/other.ts",))
        poll_until(lambda: events(squad, ev.VIOLATION), what="the violation for the file never locked")
        # the burst's lease is remembered (its file events may land in a later batch on a busy machine)
        poll_until(lambda: coordinator.engine.released, what="the burst lease remembered as released")
    assert [e.path for e in events(squad, ev.VIOLATION)] == ["src/other.ts"]


def test_a_comm_file_rewritten_by_an_edit_tool_reports_nothing_again(squad: SquadPaths) -> None:
    import os

    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1", files=("backend/x.py",))
    with coordinating(squad, [0.0]):
        poll_until(lambda: events(squad, ev.VIOLATION), what="the first violation")
        comm = squad.comm(1)
        text = comm.read_text().replace("\n", "\n\nA note the agent added with its edit tool.\n", 1)
        (comm.parent / "tmp-edit").write_text(text)
        os.replace(comm.parent / "tmp-edit", comm)  # lines shift; the block is the same
        post(squad, 1, "frontend", Status.BLOCKED, now(), task="T1", waiting_for="shared/x.ts")
        poll_until(lambda: events(squad, ev.BLOCKED), what="the new block read after the rewrite")
    assert len(events(squad, ev.VIOLATION)) == 1


def test_work_tree_watch_skips_git_and_gitignored_folders(squad: SquadPaths) -> None:
    (squad.root / ".gitignore").write_text("node_modules/\n")
    (squad.root / "node_modules" / "pkg").mkdir(parents=True)
    (squad.root / "src").mkdir()
    with coordinating(squad, [0.0]) as coordinator:
        assert coordinator.watcher is not None and coordinator.watcher._observer is not None
        watched = {Path(w.path).name for w in coordinator.watcher._observer.emitters and
                   [e.watch for e in coordinator.watcher._observer.emitters]}  # fmt: skip
        assert "src" in watched and ".squad" in watched
        assert "node_modules" not in watched and ".git" not in watched
        (squad.root / "node_modules" / "pkg" / "index.js").write_text("x\n")
        (squad.root / "notes.txt~").write_text("scratch\n")
        (squad.root / "src" / "a.py").write_text("x = 1\n")
        poll_until(lambda: any(e.path == "src/a.py" for e in events(squad, ev.VIOLATION)), what="src/a.py flagged")
    assert [e.path for e in events(squad, ev.VIOLATION)] == ["src/a.py"]


def test_story_ml_agent_goes_silent_and_its_tasks_move(squad: SquadPaths) -> None:
    """The demo's story with real time: short idle/stale limits in config.yaml, the timer does the rest."""
    from squad.protocol.plan import read_plan

    squad.config.write_text("agent_idle_s: 1\nagent_stale_s: 2\nreassign_after_s: 60\ncoordinator:\n  tick_s: 0.2\n")
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    plan(squad, 2, "backend", ["backend/"], [("T2", ["backend/a.py"], []), ("T3", ["backend/b.py"], [])])
    plan(squad, 3, "ml", ["ml/"], [("T4", ["ml/a.py"], []), ("T5", ["ml/b.py"], ["T4"])])
    post(squad, 3, "ml", Status.ACTIVE, now(), task="T4")
    lease(squad, "agent-3-ml", "shared/types.ts", now())
    coordinator = Coordinator(squad)  # tick_s from config
    with coordinator:
        thread = threading.Thread(target=coordinator.run, name="coordinator-story")
        thread.start()
        try:
            keep_alive = threading.Event()

            def heartbeat() -> None:  # agents 1 and 2 keep posting; agent 3 is silent
                while not keep_alive.wait(0.3):
                    post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1")
                    post(squad, 2, "backend", Status.ACTIVE, now(), task="T2")

            beat = threading.Thread(target=heartbeat, name="heartbeat")
            beat.start()
            try:
                poll_until(lambda: events(squad, ev.AGENT_STALE), what="agent 3 stale")
                poll_until(lambda: events(squad, ev.REASSIGN), what="its tasks reassigned")
                poll_until(lambda: not squad.lease_file("shared/types.ts").exists(), what="its lease broken")
            finally:
                keep_alive.set()
                beat.join()
        finally:
            coordinator.stop()
            thread.join(timeout=30)
    [reassign] = events(squad, ev.REASSIGN)
    assert reassign.data["source"] == "agent-3-ml" and reassign.data["tasks"] == ["T4", "T5"]
    target = 1 if reassign.data["target"] == "agent-1-frontend" else 2
    assert {"T4", "T5"} <= {t.id for t in read_plan(squad.plan(target)).tasks}
    assert read_plan(squad.plan(3)).tasks == ()
    assert [e.agent for e in events(squad, ev.AGENT_STALE)] == ["agent-3-ml"]
    comm = squad.coordinator_comm.read_text()
    assert "TO: agent-3-ml" in comm and f"TO: agent-{target}-" in comm


def test_a_restart_does_not_judge_an_old_report_against_ownership_that_moved_since(squad: SquadPaths) -> None:
    """The last block was judged when it was written; after the file it names changes owner (a
    reassignment), a restarted coordinator must not call that old report a violation."""
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    plan(squad, 3, "ml", ["ml/"], [("M1", ["ml/a.py"], [])])
    offset = [0.0]
    with coordinating(squad, offset) as coordinator:
        post(squad, 3, "ml", Status.ACTIVE, now(), task="M1", files=("ml/a.py",))
        poll_until(lambda: coordinator.engine.sources[3].last_seen is not None, what="the report judged")
    assert '"last": {"3"' in (squad.control / "coordinator.state").read_text()
    assert not events(squad, ev.VIOLATION)
    # M1 and ml/a.py move to agent-1 while no coordinator runs (as a reassignment would)
    squad.ownership.write_text(
        "frontend/: {owner: agent-1-frontend, access: EXCLUSIVE}\nml/: {owner: agent-1-frontend, access: EXCLUSIVE}\n"
    )
    with coordinating(squad, offset) as coordinator:
        coordinator.step()
    assert not events(squad, ev.VIOLATION)


def test_a_launched_agent_writing_outside_its_area_in_its_own_worktree_is_a_violation(
    squad: SquadPaths, tmp_path: Path
) -> None:
    from tests.conftest import git

    squad.ownership.write_text(
        "frontend/: {owner: agent-1-frontend, access: EXCLUSIVE}\nbackend/: {owner: agent-2-backend, access: EXCLUSIVE}\n"
    )
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    tree = tmp_path / "repo-squad" / "agent-1-frontend"
    git(squad.root, "worktree", "add", "-q", "-b", "squad/agent-1-frontend", str(tree))
    offset = [0.0]
    with coordinating(squad, offset):
        (tree / "frontend").mkdir()
        (tree / "frontend" / "a.tsx").write_text("ok\n")  # its own: fine
        (tree / "backend").mkdir()
        (tree / "backend" / "api.py").write_text("not yours\n")
        poll_until(lambda: any(e.path == "backend/api.py" for e in events(squad, ev.VIOLATION)), what="the violation")
    [violation] = events(squad, ev.VIOLATION)
    assert violation.agent == "agent-1-frontend" and "EXCLUSIVE to agent-2-backend" in violation.detail
    assert "TO: agent-1-frontend" in squad.coordinator_comm.read_text()
