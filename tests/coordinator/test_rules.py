"""Each rule on real files in tmp_path, called directly with the time passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import yaml

from squad.config import Config
from squad.coordinator import actions, rules
from squad.coordinator.engine import WORKTREE, Change, Engine, react
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import Status, read_comm
from squad.protocol.plan import read_plan
from tests.conftest import at, events, handoff, lease, ownership, plan, post

CONFIG = Config()


def world(paths: SquadPaths, now: datetime) -> rules.World:
    engine = Engine(paths)
    engine.rebuild(now)
    return engine.world(now)


def kinds(items: list[rules.Item]) -> list[str]:
    return [i.kind for i in items if isinstance(i, ev.Event)]


def notices(items: list[rules.Item]) -> list[rules.Notify]:
    return [i for i in items if isinstance(i, rules.Notify)]


def two_agents(paths: SquadPaths) -> None:
    plan(paths, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], []), ("T2", ["frontend/b.tsx"], [])])
    plan(
        paths,
        2,
        "backend",
        ["backend/"],
        [("T3", ["backend/s.py"], []), ("T4", ["backend/api.py"], ["T1"]), ("T5", ["backend/e.py"], [])],
    )


def test_ownership_flags_files_outside_what_an_agent_owns(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0), task="T1", files=("frontend/a.tsx", "backend/x.py"))
    items = rules.rule_ownership(world(squad, at(5)), at(5), CONFIG)
    violations = [i for i in items if isinstance(i, ev.Event)]
    assert [(v.agent, v.path, v.data["rule"]) for v in violations] == [
        ("agent-1-frontend", "backend/x.py", "exclusive")
    ]
    assert "agent-2-backend" in violations[0].detail
    assert [n.to for n in notices(items)] == ["agent-1-frontend"]


def test_ownership_sequential_file_needs_the_lease(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0), files=("shared/types.ts",))
    assert kinds(rules.rule_ownership(world(squad, at(5)), at(5), CONFIG)) == [ev.VIOLATION]
    lease(squad, "agent-1-frontend", "shared/types.ts", at(-10))
    assert rules.rule_ownership(world(squad, at(5)), at(5), CONFIG) == []


def test_worktree_change_to_a_sequential_file_without_a_lease(squad: SquadPaths) -> None:
    two_agents(squad)
    (squad.root / "shared").mkdir()
    (squad.root / "shared" / "types.ts").write_text("x\n")
    engine = Engine(squad)
    engine.rebuild(at(0))
    engine.observe(Change(WORKTREE, "shared/types.ts"))
    engine.observe(Change(WORKTREE, "frontend/ok.tsx"))  # missing file: ignored
    items = rules.rule_worktree(engine.world(at(1)), at(1), CONFIG)
    assert [(i.path, i.data["source"]) for i in items if isinstance(i, ev.Event)] == [("shared/types.ts", "worktree")]
    lease(squad, "agent-2-backend", "shared/", at(0))
    engine.observe(Change("locks"))
    assert rules.rule_worktree(engine.world(at(1)), at(1), CONFIG) == []


def test_gitignored_and_git_paths_are_not_work_tree_changes(squad: SquadPaths) -> None:
    from squad.coordinator.engine import classify

    (squad.root / ".gitignore").write_text("build/\n*.log\n")
    engine = Engine(squad)
    engine.rebuild(at(0))
    root = squad.root
    assert classify(squad, str(root / "build" / "x.o"), engine.ignored) is None
    assert classify(squad, str(root / "debug.log"), engine.ignored) is None
    assert classify(squad, str(root / ".git" / "index"), engine.ignored) is None
    assert classify(squad, str(root / "src" / "a.py"), engine.ignored) == Change(WORKTREE, "src/a.py")
    assert classify(squad, str(squad.comm(3)), engine.ignored) == Change("comm", number=3)
    assert classify(squad, str(squad.status_report), engine.ignored) is None
    assert classify(squad, str(squad.coordinator_comm), engine.ignored) is None
    assert classify(squad, str(squad.lease_file("shared/a.ts")), None) == Change("locks", "shared/a.ts")
    # a lease's folder: the watcher marks folders with a trailing "/"
    assert classify(squad, str(squad.locks / "shared") + "/", None) == Change("locks", "shared/")
    assert classify(squad, str(squad.locks / "README.md"), None) is None
    # scratch files of any library beside the leases are no change: filelock 4.x's "#<n>", temp files
    for scratch in ("#2163665", "shared/#12", "tmp0fnp563v", ".a.ts.lock.x1.tmp", ".broken/a.ts.lock", "shared/x"):
        assert classify(squad, str(squad.locks / scratch), None) is None, scratch
    assert classify(squad, str(squad.control / "#77"), None) is None
    assert classify(squad, str(squad.lock_mutex), None) is None


def test_every_lease_change_of_a_batch_is_known_before_the_rules_run(squad: SquadPaths) -> None:
    """Whatever order a batch's events come in, locks/ is read after all of them: a lease taken and
    released inside the batch (seen only as its file's events) excuses the report of its file."""
    two_agents(squad)
    engine = Engine(squad)
    engine.rebuild(at(0))
    post(squad, 2, "backend", Status.ACTIVE, at(2), files=("shared/types/a.ts", "docs/b.md"))
    batch = [Change("comm", number=2), Change("locks", "other.ts"), Change("locks", "shared/types/a.ts")]
    items = react(engine, batch, at(3))
    assert [(i.kind, i.path) for i in items if isinstance(i, ev.Event)] == [(ev.VIOLATION, "docs/b.md")]


def test_a_lease_seen_only_as_its_folder_coming_and_going_excuses_files_under_it(squad: SquadPaths) -> None:
    two_agents(squad)
    engine = Engine(squad)
    engine.rebuild(at(0))
    post(squad, 2, "backend", Status.ACTIVE, at(2), files=("shared/types/a.ts", "docs/b.md"))
    items = react(engine, [Change("locks", "shared/types/"), Change("comm", number=2)], at(3))
    assert [(i.kind, i.path) for i in items if isinstance(i, ev.Event)] == [(ev.VIOLATION, "docs/b.md")]


def test_stale_lease_is_broken_and_its_holder_told(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0))
    lease(squad, "agent-1-frontend", "shared/types.ts", at(0), ttl_s=60)
    assert rules.rule_stale_leases(world(squad, at(30)), at(30), CONFIG) == []
    items = rules.rule_stale_leases(world(squad, at(61)), at(61), CONFIG)
    assert [type(i) for i in items] == [rules.BreakStale]
    actions.apply(squad, CONFIG, items, at(61))
    assert not squad.lease_file("shared/types.ts").exists()
    assert list(squad.broken_locks.iterdir())
    assert "TO: agent-1-frontend" in squad.coordinator_comm.read_text()
    assert events(squad, ev.LOCK_BROKEN)


def test_idle_then_stale_agent(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0))
    post(squad, 2, "backend", Status.DONE, at(0))
    assert rules.rule_idle(world(squad, at(60)), at(60), CONFIG) == []
    items = rules.rule_idle(world(squad, at(CONFIG.agent_idle_s + 1)), at(CONFIG.agent_idle_s + 1), CONFIG)
    assert kinds(items) == [ev.AGENT_IDLE]
    assert [n.to for n in notices(items)] == ["agent-1-frontend"]
    items = rules.rule_idle(world(squad, at(CONFIG.agent_stale_s + 1)), at(CONFIG.agent_stale_s + 1), CONFIG)
    assert kinds(items) == [ev.AGENT_STALE]


def test_stale_agent_makes_its_leases_stale(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0))
    lease(squad, "agent-1-frontend", "shared/a.ts", at(0), ttl_s=100_000)
    late = at(CONFIG.agent_stale_s + 5)
    assert [type(i) for i in rules.rule_stale_leases(world(squad, late), late, CONFIG)] == [rules.BreakStale]


def test_blocked_agent_reports_what_it_waits_for_and_tells_the_holder(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0))
    lease(squad, "agent-1-frontend", "shared/types.ts", at(0))
    post(squad, 2, "backend", Status.BLOCKED, at(10), waiting_for="shared/types.ts")
    items = rules.rule_blocked(world(squad, at(20)), at(20), CONFIG)
    [event] = [i for i in items if isinstance(i, ev.Event)]
    assert (event.agent, event.path, event.data["holder"]) == ("agent-2-backend", "shared/types.ts", "agent-1-frontend")
    assert [n.to for n in notices(items)] == ["agent-1-frontend"]


def deadlock(squad: SquadPaths) -> None:
    two_agents(squad)
    lease(squad, "agent-1-frontend", "shared/a.ts", at(0))
    lease(squad, "agent-2-backend", "shared/b.ts", at(5))
    post(squad, 1, "frontend", Status.BLOCKED, at(10), waiting_for="shared/b.ts")
    post(squad, 2, "backend", Status.BLOCKED, at(11), waiting_for="shared/a.ts")


def test_deadlock_releases_the_youngest_lease(squad: SquadPaths) -> None:
    deadlock(squad)
    items = rules.rule_deadlock(world(squad, at(20)), at(20), CONFIG)
    [event] = [i for i in items if isinstance(i, ev.Event)]
    assert event.kind == ev.DEADLOCK
    assert sorted(event.data["cycle"]) == ["agent-1-frontend", "agent-2-backend"]
    [brk] = [i for i in items if isinstance(i, rules.BreakLease)]
    assert (brk.target, brk.holder) == ("shared/b.ts", "agent-2-backend")
    actions.apply(squad, CONFIG, items, at(20))
    assert not squad.lease_file("shared/b.ts").exists()
    assert squad.lease_file("shared/a.ts").exists()
    assert rules.rule_deadlock(world(squad, at(21)), at(21), CONFIG) == []


def test_deadlock_policy_oldest_and_none(squad: SquadPaths) -> None:
    deadlock(squad)
    w = world(squad, at(20))
    [brk] = [
        i
        for i in rules.rule_deadlock(w, at(20), replace(CONFIG, deadlock_policy="oldest"))
        if isinstance(i, rules.BreakLease)
    ]
    assert brk.target == "shared/a.ts"
    report_only = rules.rule_deadlock(w, at(20), replace(CONFIG, deadlock_policy="none"))
    assert kinds(report_only) == [ev.DEADLOCK]
    assert not [i for i in report_only if isinstance(i, rules.BreakLease)]


def test_handoff_moves_ownership_and_unblocks(squad: SquadPaths) -> None:
    plan(
        squad,
        1,
        "frontend",
        ["frontend/"],
        [("T1", ["frontend/types.ts"], [])],
        handoffs_out=[{"task": "T4", "to": "agent-2-backend"}],
    )
    plan(squad, 2, "backend", ["backend/"], [("T3", [], []), ("T4", ["frontend/types.ts"], ["T1"])],
         handoffs_in=[{"task": "T1", "from": "agent-1-frontend"}])  # fmt: skip
    ownership(
        squad,
        "frontend/: {owner: agent-1-frontend, access: EXCLUSIVE}\nbackend/: {owner: agent-2-backend, access: EXCLUSIVE}\n",
    )
    handoff(squad, 1, "agent-1-frontend", "agent-2-backend", "frontend/types.ts", at(0))
    items = rules.rule_handoffs(world(squad, at(5)), at(5), CONFIG)
    [move] = [i for i in items if isinstance(i, rules.TransferOwnership)]
    assert move.exclusive and ("agent-2-backend", "T4") in move.unblock
    actions.apply(squad, CONFIG, items, at(5))
    data = yaml.safe_load(squad.ownership.read_text())
    assert data["frontend/types.ts"]["owner"] == "agent-2-backend"
    receiver = read_plan(squad.plan(2))
    assert receiver.handoffs_in == () and "frontend/types.ts" in receiver.owns
    assert "frontend/types.ts" not in read_plan(squad.plan(1)).owns
    [event] = events(squad, ev.HANDOFF)
    assert event.path == "frontend/types.ts"
    assert "TO: agent-2-backend" in squad.coordinator_comm.read_text()


def test_handoff_of_a_readonly_file_is_refused(squad: SquadPaths) -> None:
    two_agents(squad)
    ownership(squad, "config/: {owner: null, access: READONLY}\n")
    handoff(squad, 1, "agent-1-frontend", "agent-2-backend", "config/app.js", at(0))
    items = rules.rule_handoffs(world(squad, at(5)), at(5), CONFIG)
    assert kinds(items) == [rules.HANDOFF_REFUSED]


def three_agents(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    plan(squad, 2, "backend", ["backend/"], [("T2", [], []), ("T3", [], []), ("T4", [], [])])
    plan(squad, 3, "ml", ["ml/"], [("T5", ["ml/a.py"], []), ("T6", ["ml/b.py"], []), ("T7", ["ml/c.py"], ["T5"])])


def test_reassign_tasks_of_a_failed_agent_to_the_least_loaded(squad: SquadPaths) -> None:
    three_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0), task="T1")
    post(squad, 2, "backend", Status.ACTIVE, at(0), task="T2")
    post(squad, 3, "ml", Status.FAILED, at(0), task="T6", progress=(1, 3))
    items = rules.rule_reassign(world(squad, at(5)), at(5), CONFIG)
    [move] = [i for i in items if isinstance(i, rules.MoveTasks)]
    assert (move.source, move.target, move.task_ids) == ("agent-3-ml", "agent-1-frontend", ("T6", "T7"))
    assert set(move.files) == {"ml/b.py", "ml/c.py"}
    assert {n.to for n in notices(items)} == {"agent-1-frontend", "agent-3-ml"}
    actions.apply(squad, CONFIG, items, at(5))
    assert [t.id for t in read_plan(squad.plan(1)).tasks] == ["T1", "T6", "T7"]
    assert [t.id for t in read_plan(squad.plan(3)).tasks] == ["T5"]
    assert rules.rule_reassign(world(squad, at(6)), at(6), CONFIG) == []


def test_reassign_a_stale_agent_and_one_blocked_too_long(squad: SquadPaths) -> None:
    three_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(CONFIG.agent_stale_s), task="T1")
    post(squad, 2, "backend", Status.BLOCKED, at(800), task="T2", waiting_for="shared/x.ts")
    post(squad, 3, "ml", Status.ACTIVE, at(0), task="T5")
    now = at(CONFIG.agent_stale_s + 10)
    moves = [i for i in rules.rule_reassign(world(squad, now), now, CONFIG) if isinstance(i, rules.MoveTasks)]
    by_source = {m.source: m for m in moves}
    assert by_source["agent-3-ml"].task_ids == ("T5", "T6", "T7")  # stale: every unfinished task
    assert by_source["agent-2-backend"].task_ids == ("T3", "T4")  # blocked: the ones not started


def test_reassign_keeps_tasks_that_write_one_file_together(squad: SquadPaths) -> None:
    """Spread one by one, the silent agent's tasks would go to both idle agents, and the two that
    write ml/detector.py would end with two owners: they move as one, with its file."""
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    plan(squad, 2, "backend", ["backend/"], [("T2", ["backend/s.py"], [])])
    plan(
        squad,
        3,
        "ml",
        ["ml/"],
        [
            ("T5", ["ml/detector.py"], []),
            ("T6", ["ml/features.py"], []),
            ("T8", ["ml/model/"], []),
            ("T7", ["ml/detector.py", "ml/model.py"], ["T5"]),
        ],
    )
    post(squad, 1, "frontend", Status.ACTIVE, at(0), task="T1")
    post(squad, 2, "backend", Status.ACTIVE, at(0), task="T2")
    post(squad, 3, "ml", Status.FAILED, at(0), task="T5", progress=(0, 4))
    items = rules.rule_reassign(world(squad, at(5)), at(5), CONFIG)
    moves = {m.target: m for m in items if isinstance(m, rules.MoveTasks)}
    by_task = {task: target for target, m in moves.items() for task in m.task_ids}
    assert set(by_task) == {"T5", "T6", "T7", "T8"}
    assert by_task["T5"] == by_task["T7"]  # both write ml/detector.py
    assert len(set(by_task.values())) == 2  # the rest still spreads over the idle agents
    holder = moves[by_task["T5"]]
    assert {"ml/detector.py", "ml/model.py"} <= set(holder.files)
    actions.apply(squad, CONFIG, items, at(5))
    assert "T7" in [t.id for t in read_plan(squad.plan(int(by_task["T5"].split("-")[1]))).tasks]
    assert rules.rule_reassign(world(squad, at(6)), at(6), CONFIG) == []


def test_work_stealing_when_an_agent_is_done(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", [], [("T1", [], [])])
    plan(squad, 2, "backend", [], [("T2", [], []), ("T3", [], []), ("T4", [], []), ("T5", ["config/x.js"], [])])
    ownership(squad, "config/: {owner: null, access: READONLY}\n")
    post(squad, 1, "frontend", Status.DONE, at(0))
    post(squad, 2, "backend", Status.ACTIVE, at(0), task="T2")
    items = rules.rule_steal(world(squad, at(5)), at(5), CONFIG)
    [move] = [i for i in items if isinstance(i, rules.MoveTasks)]
    assert (move.source, move.target, move.task_ids) == ("agent-2-backend", "agent-1-frontend", ("T4",))
    actions.apply(squad, CONFIG, items, at(5))
    assert [t.id for t in read_plan(squad.plan(1)).tasks] == ["T1", "T4"]
    # the thief does not steal again before it reports on what it took
    assert rules.rule_steal(world(squad, at(6)), at(6), CONFIG) == []


def test_failure_cascade_blocks_dependents(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.FAILED, at(0), task="T1")
    items = rules.rule_cascade(world(squad, at(5)), at(5), CONFIG)
    [mark] = [i for i in items if isinstance(i, rules.MarkBlocked)]
    assert (mark.agent, mark.task) == ("agent-2-backend", "T4")
    assert [n.to for n in notices(items)] == ["agent-2-backend"]
    actions.apply(squad, CONFIG, items, at(5))
    assert "T4" in read_plan(squad.plan(2)).extra["blocked"]


def test_a_cascade_mark_is_lifted_when_the_failed_task_is_done_elsewhere(squad: SquadPaths) -> None:
    two_agents(squad)
    plan(squad, 3, "ml", ["ml/"], [("T6", ["ml/a.py"], [])])
    post(squad, 1, "frontend", Status.FAILED, at(0), task="T1")
    post(squad, 3, "ml", Status.DONE, at(0))
    engine = Engine(squad)
    engine.rebuild(at(5))
    actions.apply(squad, CONFIG, react(engine, [], at(5)), at(5))
    assert "T4" in read_plan(squad.plan(2)).extra["blocked"]
    [move] = events(squad, ev.REASSIGN)
    assert "T1" in move.data["tasks"]
    assert rules.rule_unblock(world(squad, at(6)), at(6), CONFIG) == []  # T1 not done yet
    target = int(str(move.data["target"]).split("-")[1])
    role = str(move.data["target"]).split("-", 2)[2]
    post(squad, target, role, Status.DONE, at(10))
    items = rules.rule_unblock(world(squad, at(11)), at(11), CONFIG)
    assert kinds(items) == [rules.TASK_UNBLOCKED] and [n.to for n in notices(items)] == ["agent-2-backend"]
    actions.apply(squad, CONFIG, items, at(11))
    assert "blocked" not in read_plan(squad.plan(2)).extra


def test_a_cascade_mark_stays_while_the_failed_task_is_undone(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.FAILED, at(0), task="T1")
    actions.apply(squad, CONFIG, rules.rule_cascade(world(squad, at(5)), at(5), CONFIG), at(5))
    post(squad, 1, "frontend", Status.ACTIVE, at(10), task="T1", progress=(0, 2))  # a retry
    assert rules.rule_unblock(world(squad, at(11)), at(11), CONFIG) == []
    post(squad, 1, "frontend", Status.ACTIVE, at(20), task="T2", progress=(1, 2))  # T1 done
    items = rules.rule_unblock(world(squad, at(21)), at(21), CONFIG)
    actions.apply(squad, CONFIG, items, at(21))
    assert "blocked" not in read_plan(squad.plan(2)).extra


def test_stealing_leaves_tasks_that_wait_on_another_agent(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", [], [("T1", [], [])])
    plan(squad, 2, "backend", [], [("T2", [], []), ("T3", [], []), ("T4", [], ["T9"]), ("T5", [], ["T4"])])
    plan(squad, 3, "ml", [], [("T8", [], []), ("T9", [], [])])
    post(squad, 1, "frontend", Status.DONE, at(0))
    post(squad, 2, "backend", Status.ACTIVE, at(0), task="T2")
    post(squad, 3, "ml", Status.ACTIVE, at(0), task="T8")
    # T4 waits on T9 (agent 3, not done) and T5 on T4: nothing of agent 2 may move; agent 3's T9 may
    items = rules.rule_steal(world(squad, at(5)), at(5), CONFIG)
    assert [(m.source, m.task_ids) for m in items if isinstance(m, rules.MoveTasks)] == [("agent-3-ml", ("T9",))]
    post(squad, 3, "ml", Status.DONE, at(6))
    post(squad, 1, "frontend", Status.DONE, at(7))
    items = rules.rule_steal(world(squad, at(8)), at(8), CONFIG)
    moves = [m for m in items if isinstance(m, rules.MoveTasks)]
    assert (moves[0].source, moves[0].target, moves[0].task_ids) == (
        "agent-2-backend",
        "agent-1-frontend",
        ("T4", "T5"),
    )


def test_stuck_after_three_failures(squad: SquadPaths) -> None:
    two_agents(squad)
    for n in range(2):
        post(squad, 1, "frontend", Status.FAILED, at(n), task="T1")
    assert rules.rule_stuck(world(squad, at(5)), at(5), CONFIG) == []
    post(squad, 1, "frontend", Status.FAILED, at(3), task="T1 layout")
    [event] = rules.rule_stuck(world(squad, at(5)), at(5), CONFIG)
    assert isinstance(event, ev.Event) and event.data["task"] == "T1" and event.data["failures"] == 3


def test_done_without_evidence_is_flagged_when_required(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.DONE, at(0))
    post(squad, 2, "backend", Status.DONE, at(0), evidence="pytest -q", evidence_exit=0)
    strict = replace(CONFIG, require_evidence=True)
    assert rules.rule_evidence(world(squad, at(5)), at(5), CONFIG) == []
    items = rules.rule_evidence(world(squad, at(5)), at(5), strict)
    assert [(i.kind, i.agent) for i in items if isinstance(i, ev.Event)] == [(rules.UNPROVEN_DONE, "agent-1-frontend")]


def test_react_reports_once_even_across_a_restart(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0), files=("backend/x.py",))
    post(squad, 2, "backend", Status.FAILED, at(0), task="T3")
    engine = Engine(squad)
    engine.rebuild(at(1))
    items = react(engine, [], at(1))
    logged = actions.apply(squad, engine.config, items, at(1))
    assert {e.kind for e in logged} == {ev.VIOLATION, ev.REASSIGN}  # nothing depends on T3
    engine.observe(Change("events"))
    assert [i for i in react(engine, [], at(2)) if not isinstance(i, rules.BreakStale)] == []
    again = Engine(squad)  # a restart: state from the files and the event log
    again.rebuild(at(3))
    assert [i for i in react(again, [], at(3)) if not isinstance(i, rules.BreakStale)] == []
    comm = read_comm(squad.coordinator_comm)
    assert len([b for b in comm.blocks if "violation" in getattr(b, "text", "")]) == 1


def test_pause_stops_task_moves_but_not_reports(squad: SquadPaths) -> None:
    three_agents(squad)
    post(squad, 3, "ml", Status.FAILED, at(0), task="T5", files=("backend/x.py",))
    from squad.coordinator.control import pause

    pause(squad, "hands off")
    w = world(squad, at(5))
    assert w.paused
    assert rules.rule_reassign(w, at(5), CONFIG) == []
    assert kinds(rules.rule_ownership(w, at(5), CONFIG)) == [ev.VIOLATION]


def test_metrics_measure_busy_time_and_read_the_prediction(squad: SquadPaths) -> None:
    import json

    two_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0))
    post(squad, 1, "frontend", Status.DONE, at(100))
    post(squad, 2, "backend", Status.ACTIVE, at(0))
    post(squad, 2, "backend", Status.BLOCKED, at(50), waiting_for="shared/x.ts")
    post(squad, 2, "backend", Status.DONE, at(100))
    (squad.squad / "allocation.json").write_text(json.dumps({"prediction": {"speedup": 1.8}}))
    engine = Engine(squad)
    engine.rebuild(at(200))
    m = engine.snapshot(at(200)).metrics
    assert (m["busy_s"], m["idle_s"], m["wall_s"]) == (150.0, 50.0, 100.0)
    assert m["parallel_efficiency"] == 1.5 and m["predicted_parallel_efficiency"] == 1.8
    assert m["time_saved"] == round(1 - 100 / 150, 3)


def test_a_block_written_line_by_line_is_judged_when_complete(squad: SquadPaths) -> None:
    from squad.atomic import append_lines

    two_agents(squad)
    engine = Engine(squad)
    engine.rebuild(at(0))
    comm = squad.comm(1)
    append_lines(comm, "## Status Update [2026-11-22T14:00:00Z]\nStatus: ACTIVE\n")
    assert react(engine, [Change("comm", number=1)], at(1)) == []
    append_lines(comm, "Files Modified:\n  - frontend/a.tsx\n  - backend/x.py\n")
    items = react(engine, [Change("comm", number=1)], at(2))
    assert [(i.kind, i.path) for i in items if isinstance(i, ev.Event)] == [(ev.VIOLATION, "backend/x.py")]


def test_a_judged_block_is_not_judged_again_after_ownership_moves(squad: SquadPaths) -> None:
    two_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0), files=("frontend/a.tsx",))
    engine = Engine(squad)
    engine.rebuild(at(1))
    assert react(engine, [], at(1)) == []
    ownership(squad, "frontend/: {owner: agent-2-backend, access: EXCLUSIVE}\n")  # e.g. a reassignment
    assert react(engine, [Change("matrix")], at(2)) == []


def test_a_problem_goes_away_when_its_file_is_fixed(squad: SquadPaths) -> None:
    from squad.atomic import write_atomic

    two_agents(squad)
    write_atomic(squad.comm(1), "## Status Update [2026-11-22T14:00:00Z]\nStatus: FLYING\n")
    ownership(squad, "frontend/: {owner: agent-1, access: WEIRD}\n")
    engine = Engine(squad)
    engine.rebuild(at(0))
    assert sorted(Path(str(p.path)).name for p in engine.problems) == ["agent-1-comm.md", "ownership.yaml"]
    write_atomic(squad.comm(1), "## Status Update [2026-11-22T14:00:00Z]\nStatus: ACTIVE\n")
    ownership(squad, "frontend/: {owner: agent-1, access: EXCLUSIVE}\n")
    engine.observe(Change("comm", number=1), at(1))
    engine.observe(Change("matrix"), at(1))
    assert engine.problems == []


def test_keys_logged_with_a_line_still_count_after_the_key_change(squad: SquadPaths) -> None:
    """Event logs written before keys dropped a timed block's line: nothing is reported again."""
    two_agents(squad)
    post(squad, 1, "frontend", Status.ACTIVE, at(0), files=("backend/x.py",))
    old = ev.Event(
        ev.VIOLATION,
        at(1),
        "agent-1-frontend",
        "backend/x.py",
        key="violation:agent-1-frontend:backend/x.py:2026-11-22T14:00:00Z:3",
    )
    ev.append_events(squad.events, [old])
    engine = Engine(squad)
    engine.rebuild(at(2))
    assert [i for i in react(engine, [], at(2)) if isinstance(i, ev.Event) and i.kind == ev.VIOLATION] == []


def test_cascade_marks_travel_with_reassigned_tasks(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], []), ("T2", [], ["T1"]), ("T3", [], [])])
    plan(squad, 2, "backend", ["backend/"], [("T4", [], [])])
    post(squad, 1, "frontend", Status.FAILED, at(0), task="T1")
    post(squad, 2, "backend", Status.ACTIVE, at(0), task="T4")
    engine = Engine(squad)
    engine.rebuild(at(5))
    actions.apply(squad, CONFIG, react(engine, [], at(5)), at(5))
    moved, left = read_plan(squad.plan(2)), read_plan(squad.plan(1))
    assert [t.id for t in moved.tasks] == ["T4", "T1", "T2", "T3"] and left.tasks == ()
    assert moved.extra["blocked"] == {"T2": "T1 failed (agent-1-frontend)"} and "blocked" not in left.extra
    post(squad, 2, "backend", Status.ACTIVE, at(10), task="T2", progress=(2, 4))  # T4 and T1 done
    engine.observe(Change("comm", number=2), at(11))
    engine.observe(Change("plan", number=1), at(11))
    engine.observe(Change("plan", number=2), at(11))
    items = react(engine, [], at(11))
    assert [(i.kind, i.agent) for i in items if isinstance(i, ev.Event)] == [(rules.TASK_UNBLOCKED, "agent-2-backend")]


def test_an_agent_given_tasks_is_not_stolen_from_before_it_reports(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", [], [("T1", [], [])])
    plan(squad, 2, "backend", [], [("T2", [], []), ("T3", [], []), ("T4", [], []), ("T5", [], [])])
    plan(squad, 3, "ml", [], [("T6", [], [])])
    post(squad, 1, "frontend", Status.DONE, at(0))
    post(squad, 2, "backend", Status.ACTIVE, at(0), task="T2")
    post(squad, 3, "ml", Status.ACTIVE, at(0), task="T6")
    engine = Engine(squad)
    engine.rebuild(at(1))
    actions.apply(squad, CONFIG, react(engine, [], at(1)), at(1))
    assert [t.id for t in read_plan(squad.plan(1)).tasks] == ["T1", "T4", "T5"]
    post(squad, 3, "ml", Status.DONE, at(2))  # agent 1 shows WAITING with T4, T5: agent 3 leaves them
    again = Engine(squad)
    again.rebuild(at(3))
    steals = [i for i in react(again, [], at(3)) if isinstance(i, rules.MoveTasks)]
    assert [(m.source, m.target) for m in steals] == [("agent-2-backend", "agent-3-ml")]
