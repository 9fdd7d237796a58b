"""False alarms found when the coordinator was tried from the outside (issue 12): each a scenario
played through the real CLI and the real daemon, or through the engine with real files."""

from __future__ import annotations

import collections
import os
from datetime import datetime

import pytest

from squad.config import Config
from squad.coordinator import rules
from squad.coordinator.engine import Engine
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import Status
from squad.protocol.lease import Lease
from squad.protocol.times import now
from tests.conftest import at, events, plan, poll_until, post, run_squad

CONFIG = Config()


def _agent_env(agent: str) -> dict[str, str]:
    return {**os.environ, "AGENT_ID": agent}


def test_a_restart_does_not_rejudge_a_report_made_under_a_lease_since_released(squad: SquadPaths) -> None:
    """Lock, edit, report, unlock; daemon stop and start; a plain update is no violation."""
    plan(squad, 1, "frontend", ["frontend/"], [("F1", ["shared/types.ts"], []), ("F2", ["frontend/b.tsx"], [])])
    plan(squad, 2, "backend", ["backend/"], [("B1", ["backend/a.py"], [])])
    root = squad.root
    env = _agent_env("agent-1-frontend")
    assert run_squad("daemon", "start", cwd=root).returncode == 0
    try:
        assert run_squad("update", "--status", "ACTIVE", "--task", "F1", cwd=root, env=env).returncode == 0
        assert run_squad("lock", "shared/types.ts", cwd=root, env=env).returncode == 0
        (root / "shared").mkdir()
        (root / "shared" / "types.ts").write_text("export type A = 1;\n")
        done = run_squad(
            "update", "--status", "ACTIVE", "--task", "F1", "--files", "shared/types.ts", cwd=root, env=env
        )
        assert done.returncode == 0, done.stderr
        assert run_squad("unlock", "shared/types.ts", cwd=root, env=env).returncode == 0
        poll_until(lambda: "F1" in squad.status_report.read_text(), what="the report judged")
        assert run_squad("daemon", "stop", cwd=root).returncode == 0
        assert run_squad("daemon", "start", cwd=root).returncode == 0
        assert run_squad("update", "--status", "ACTIVE", "--task", "F2", cwd=root, env=env).returncode == 0
        poll_until(lambda: "F2" in squad.status_report.read_text(), what="the new report judged")
    finally:
        run_squad("daemon", "stop", cwd=root)
    assert events(squad, ev.VIOLATION) == []
    assert "lock it first" not in squad.coordinator_comm.read_text() if squad.coordinator_comm.exists() else True


def test_a_report_written_while_no_daemon_ran_is_judged_by_the_lease_held_then(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("F1", ["shared/types.ts"], [])])
    root = squad.root
    env = _agent_env("agent-1-frontend")
    assert run_squad("lock", "shared/types.ts", cwd=root, env=env).returncode == 0
    assert run_squad("update", "--status", "ACTIVE", "--files", "shared/types.ts", cwd=root, env=env).returncode == 0
    assert run_squad("unlock", "shared/types.ts", cwd=root, env=env).returncode == 0
    assert run_squad("update", "--status", "ACTIVE", "--files", "shared/other.ts", cwd=root, env=env).returncode == 0
    assert run_squad("daemon", "start", cwd=root).returncode == 0
    try:
        poll_until(lambda: events(squad, ev.VIOLATION), what="the violation for the file never locked")
    finally:
        run_squad("daemon", "stop", cwd=root)
    assert [e.path for e in events(squad, ev.VIOLATION)] == ["shared/other.ts"]
    keys = collections.Counter(e.key for e in events(squad) if e.key)
    assert max(keys.values()) == 1


# -- reassignment never strands a task on an agent that cannot do it ------------------------------


def _three(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("F1", ["frontend/a.tsx"], [])])
    plan(squad, 2, "backend", ["backend/"], [("B1", ["backend/a.py"], []), ("B2", ["backend/b.py"], [])])
    plan(squad, 3, "ml", ["ml/"], [("M1", ["ml/a.py"], []), ("M2", ["ml/b.py"], [])])


def _moves(squad: SquadPaths, when: datetime) -> list[rules.MoveTasks]:
    engine = Engine(squad)
    engine.rebuild(when)
    return [i for i in rules.run_rules(engine.world(when), when, CONFIG) if isinstance(i, rules.MoveTasks)]


def test_a_stale_failed_or_blocked_agent_never_receives_tasks(squad: SquadPaths) -> None:
    _three(squad)
    stale_s = CONFIG.agent_stale_s
    # ml silent past agent_stale_s; frontend DONE but silent as long (its process has ended);
    # backend BLOCKED: nobody can take ml's work now
    post(squad, 3, "ml", Status.ACTIVE, at(0), task="M1")
    post(squad, 1, "frontend", Status.DONE, at(0), progress=(1, 1))
    post(squad, 2, "backend", Status.BLOCKED, at(stale_s), task="B1", waiting_for="shared/x.ts")
    assert _moves(squad, at(stale_s + 10)) == []
    # a FAILED agent is no target either
    post(squad, 2, "backend", Status.FAILED, at(stale_s + 20), task="B1")
    assert all(m.target != "agent-2-backend" for m in _moves(squad, at(stale_s + 30)))
    # frontend speaks again: it gets the work, once
    post(squad, 1, "frontend", Status.DONE, at(stale_s + 40), progress=(1, 1))
    moves = _moves(squad, at(stale_s + 50))
    assert {m.target for m in moves} == {"agent-1-frontend"}
    ids = [t for m in moves for t in m.task_ids]
    assert len(ids) == len(set(ids)) and {"M1", "M2"} <= set(ids)


def test_a_task_moves_at_most_once_per_decision(squad: SquadPaths) -> None:
    """ml is stale but still says ACTIVE: the reassign rule and the work stealing of a DONE agent
    both want its unstarted task; it moves once."""
    _three(squad)
    stale_s = CONFIG.agent_stale_s
    post(squad, 3, "ml", Status.ACTIVE, at(0), task="M1")
    post(squad, 2, "backend", Status.ACTIVE, at(stale_s), task="B1")
    post(squad, 1, "frontend", Status.DONE, at(stale_s), progress=(1, 1))
    moves = _moves(squad, at(stale_s + 10))
    ids = [t for m in moves for t in m.task_ids]
    assert ids and len(ids) == len(set(ids)), moves


# -- a deadlock break breaks the lease it judged, never a newer one -------------------------------


def test_a_break_of_a_lease_since_released_and_retaken_does_nothing(squad: SquadPaths) -> None:
    from squad.coordinator import actions
    from squad.leases import locks

    def take(agent: str) -> Lease:
        locks.acquire(squad, agent, "shared/a.ts")
        [lease] = locks.survey(squad).leases  # as stored (to the millisecond)
        return lease

    taken = take("agent-1-frontend")
    judged = rules.BreakLease("deadlock:x", "shared/a.ts", taken.agent, "deadlock", taken.acquired_at)
    locks.release(squad, "agent-1-frontend", "shared/a.ts")
    third = take("agent-3-ml")
    actions.apply(squad, CONFIG, [judged], now())
    [still] = locks.survey(squad).leases
    assert (still.agent, still.acquired_at) == (third.agent, third.acquired_at)
    # the same holder re-taking the path is a new lease too: not broken either
    locks.release(squad, "agent-3-ml", "shared/a.ts")
    again = take("agent-1-frontend")
    actions.apply(squad, CONFIG, [judged], now())
    assert [x.acquired_at for x in locks.survey(squad).leases] == [again.acquired_at]
    # the lease judged itself is broken
    exact = rules.BreakLease("deadlock:y", "shared/a.ts", again.agent, "deadlock", again.acquired_at)
    actions.apply(squad, CONFIG, [exact], now())
    assert locks.survey(squad).leases == ()


# -- one coordinator per repository, monitors included ----------------------------------------------


def test_monitors_started_together_run_one_coordinator_and_a_daemon_is_refused_beside_them(
    squad: SquadPaths,
) -> None:
    import signal
    import subprocess
    import time

    from tests.conftest import SQUAD_BIN

    plan(squad, 1, "frontend", ["frontend/"], [("F1", ["frontend/a.tsx"], [])])
    procs = [
        subprocess.Popen(
            [SQUAD_BIN, "monitor"], cwd=squad.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    try:
        time.sleep(0.5)
        poll_until(squad.coordinator_pid.exists, what="a monitor to claim the coordinator")
        refused = run_squad("daemon", "start", cwd=squad.root)
        assert refused.returncode == 1 and "squad monitor" in refused.stderr
        time.sleep(1.0)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        outs = [proc.communicate(timeout=30) for proc in procs]
    heads = [out.splitlines()[1] if out.count("\n") > 1 else out for out, _ in outs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    assert sum("[coordinator in-process]" in h for h in heads) == 1, heads
    assert sum("[monitor pid" in h for h in heads) == 2, heads


# -- each finding once, across restarts and within a batch ------------------------------------------


def test_two_reports_in_one_second_naming_one_file_log_one_violation(squad: SquadPaths) -> None:
    from squad.coordinator.engine import Change, react

    plan(squad, 1, "frontend", ["frontend/"], [("F1", ["frontend/a.tsx"], [])])
    plan(squad, 2, "backend", ["backend/"], [("B1", ["backend/a.py"], [])])
    engine = Engine(squad)
    engine.rebuild(at(0))
    post(squad, 1, "frontend", Status.ACTIVE, at(1), task="F1", files=("backend/a.py",))
    post(squad, 1, "frontend", Status.ACTIVE, at(1), task="F1", files=("backend/a.py",))
    items = react(engine, [Change("comm", number=1)], at(2))
    assert [i.kind for i in items if isinstance(i, ev.Event)] == [ev.VIOLATION]
    assert len([i for i in items if isinstance(i, rules.Notify)]) == 1


def test_temp_files_of_a_killed_writer_are_cleaned_at_start(squad: SquadPaths) -> None:
    import time

    squad.reports.mkdir(parents=True, exist_ok=True)
    old = squad.reports / ".status.md.k1ll3d.tmp"
    fresh = squad.plans / ".agent-1-plan.md.busy.tmp"
    for tmp in (old, fresh):
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text("half a rep")
    past = time.time() - 3600
    os.utime(old, (past, past))
    assert run_squad("daemon", "start", cwd=squad.root).returncode == 0
    run_squad("daemon", "stop", cwd=squad.root)
    assert not old.exists()
    assert fresh.exists()  # may belong to a writer still at work


_CHURN = """
import sys, time
from pathlib import Path
from squad.leases import locks
from squad.atomic import append_lines
from squad.paths import SquadPaths
from squad.protocol.comm import Status, format_status_update
from squad.protocol.times import now

paths = SquadPaths(Path(sys.argv[1]))
agent = "agent-1-frontend"
for i in range(int(sys.argv[2])):
    def post(*files):
        append_lines(paths.comm(1), format_status_update(agent=agent, status=Status.ACTIVE, at=now(),
                                                         task="F1", files=files))
    locks.acquire(paths, agent, "shared/types.ts")
    post("shared/types.ts")
    post("shared/types.ts", "frontend/a.tsx")  # same file again in the same second
    locks.release(paths, agent, "shared/types.ts")
    post(f"frontend/f{i}.tsx")
    post(f"frontend/f{i}.tsx")
    if i % 10 == 0:  # a real violation, reported twice in one second
        post(f"backend/x{i}.py")
        post(f"backend/x{i}.py")
    time.sleep(0.05)
"""


@pytest.mark.slow
def test_kill_9_restarts_under_churn_log_each_violation_once_and_no_false_one(squad: SquadPaths) -> None:
    import random
    import signal
    import subprocess
    import sys
    import time

    from squad.coordinator.daemon import running

    plan(squad, 1, "frontend", ["frontend/"], [("F1", ["frontend/a.tsx"], [])])
    squad.config.write_text("coordinator:\n  watch_worktree: false\n")
    writer = subprocess.Popen([sys.executable, "-c", _CHURN, str(squad.root), "120"])
    rng = random.Random(12)
    try:
        for _ in range(6):
            assert run_squad("daemon", "start", cwd=squad.root).returncode == 0
            time.sleep(rng.uniform(0.2, 1.2))
            info = running(squad)
            assert info is not None and info.pid > 0
            os.kill(info.pid, signal.SIGKILL)
            poll_until(lambda: running(squad) is None, what="the killed daemon's lock to go")
        assert writer.wait(timeout=120) == 0
        assert run_squad("daemon", "start", cwd=squad.root).returncode == 0  # ready: it has judged every block
    finally:
        if writer.poll() is None:
            writer.kill()
        run_squad("daemon", "stop", cwd=squad.root)
    logged = events(squad)
    keys = collections.Counter(e.key for e in logged if e.key)
    assert not [k for k, n in keys.items() if n > 1]
    violations = [e.path for e in logged if e.kind == ev.VIOLATION]
    assert sorted(violations) == sorted(f"backend/x{i}.py" for i in range(0, 120, 10))
