"""The coordinator at its edges: moves that rewrite plan bodies, unreadable leases, BLOCKED blocks that
grow or change, racing starts, squad's own hook files, and the monitor at its limits (narrow, short, stale)."""

from __future__ import annotations

from squad.config import Config
from squad.coordinator import actions, rules
from squad.coordinator.engine import Change, Engine, react
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import Status
from squad.protocol.plan import read_plan
from tests.conftest import at, lease, plan, post

CONFIG = Config()


def _engine(paths: SquadPaths, now_s: float) -> Engine:
    engine = Engine(paths)
    engine.rebuild(at(now_s))
    return engine


def test_a_move_rewrites_both_plan_bodies_once_per_task(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    plan(squad, 3, "ml", ["ml/"], [("T5", ["ml/a.py"], []), ("T6", ["ml/b.py"], [])])
    post(squad, 1, "frontend", Status.ACTIVE, at(0), task="T1")
    post(squad, 3, "ml", Status.FAILED, at(0), task="T5")
    engine = _engine(squad, 5)
    items = react(engine, [], at(5))
    actions.apply(squad, CONFIG, items, at(5))
    [move] = [i for i in items if isinstance(i, rules.MoveTasks)]
    gainer = read_plan(rules.plan_path(squad, move.target)).body
    loser = read_plan(squad.plan(3)).body
    assert gainer.startswith("Do the tasks.") and loser.startswith("Do the tasks.")
    assert gainer.count(actions.CHANGES_HEADING) == 1 and loser.count(actions.CHANGES_HEADING) == 1
    assert "Received **T5** task T5 (files: ml/a.py) from agent-3-ml at 2026-11-22T14:00:05Z" in gainer
    assert "Received **T6**" in gainer
    assert f"Moved away **T5** task T5 to {move.target}" in loser and "skip it" in loser
    # Regenerated, not appended: moving again (here by hand, to the same agent) keeps one line per task.
    actions.move_tasks(squad, "agent-3-ml", move.target, ("T5",), (), now=at(9))
    again = read_plan(rules.plan_path(squad, move.target)).body
    assert again.count(actions.CHANGES_HEADING) == 1 and again.count("**T5**") == 1
    assert again == gainer  # nothing moved: nothing changes
    # A task coming back replaces the "moved away" line.
    actions.move_tasks(squad, move.target, "agent-3-ml", ("T5",), (), now=at(20))
    back = read_plan(squad.plan(3)).body
    assert back.count("**T5**") == 1 and "Received **T5**" in back and "Moved away **T5**" not in back


def test_with_changes_is_idempotent() -> None:
    body = actions.with_changes("Intro.\n", {"T1": "- Received **T1** x from a: it is yours now."})
    assert actions.with_changes(body, {"T1": "- Received **T1** x from a: it is yours now."}) == body
    assert actions.with_changes(body, {}) == body


def test_an_unreadable_lease_file_does_not_stop_stale_leases_being_broken(squad: SquadPaths) -> None:
    from squad.leases.locks import survey

    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], [])])
    lease(squad, "agent-1-frontend", "src/a.py", at(0), ttl_s=2)
    squad.locks.mkdir(parents=True, exist_ok=True)
    (squad.locks / "bad.lock").write_text('{"agent": "agent-2"\n', encoding="utf-8")
    engine = _engine(squad, 10)
    items = react(engine, [], at(10))
    assert any(isinstance(i, rules.BreakStale) for i in items)
    actions.apply(squad, CONFIG, items, at(10))
    assert [x.path for x in survey(squad).leases] == []
    assert any("bad.lock" in str(p) for p in engine.problems)
    assert len([p for p in engine.problems if "bad.lock" in str(p)]) == 1
    react(engine, [Change("locks", "bad")], at(11))
    assert len([p for p in engine.problems if "bad.lock" in str(p)]) == 1


def test_a_second_block_waiting_for_something_else_is_reported(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], [])])
    plan(squad, 2, "backend", ["backend/"], [("T2", [], [])])
    plan(squad, 3, "ml", ["ml/"], [("T3", [], [])])
    lease(squad, "agent-2-backend", "src/x.py", at(0))
    lease(squad, "agent-3-ml", "src/y.py", at(0))
    post(squad, 1, "frontend", Status.BLOCKED, at(1), task="T1", waiting_for="src/x.py")
    engine = _engine(squad, 2)
    first = react(engine, [], at(2))
    actions.apply(squad, CONFIG, first, at(2))
    assert [n.to for n in first if isinstance(n, rules.Notify)] == ["agent-2-backend"]
    post(squad, 1, "frontend", Status.BLOCKED, at(3), task="T1", waiting_for="src/y.py")
    second = react(engine, [Change("comm", number=1), Change("events")], at(4))
    blocked = [i for i in second if isinstance(i, ev.Event) and i.kind == ev.BLOCKED]
    assert [(b.path, b.data["holder"]) for b in blocked] == [("src/y.py", "agent-3-ml")]
    assert [n.to for n in second if isinstance(n, rules.Notify)] == ["agent-3-ml"]


def test_a_blocked_block_that_grows_is_judged_again(squad: SquadPaths) -> None:
    from squad.atomic import append_lines

    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], [])])
    plan(squad, 2, "backend", ["backend/"], [("T2", [], [])])
    lease(squad, "agent-2-backend", "src/y.py", at(0))
    engine = _engine(squad, 0)
    comm = squad.comm(1)
    append_lines(comm, "## Status Update [2026-11-22T14:00:01Z]\n")
    append_lines(comm, "Status: BLOCKED\n")
    actions.apply(squad, CONFIG, react(engine, [Change("comm", number=1)], at(2)), at(2))
    append_lines(comm, "Waiting for: src/y.py\n")
    items = react(engine, [Change("comm", number=1), Change("events")], at(5))
    blocked = [i for i in items if isinstance(i, ev.Event) and i.kind == ev.BLOCKED]
    assert [(b.path, b.data["holder"]) for b in blocked] == [("src/y.py", "agent-2-backend")]
    assert [n.to for n in items if isinstance(n, rules.Notify)] == ["agent-2-backend"]


def test_racing_starts_leave_one_coordinator_and_refuse_the_rest(squad: SquadPaths) -> None:
    import subprocess

    from squad.coordinator.daemon import running
    from tests.conftest import SQUAD_BIN, run_squad

    procs = [
        subprocess.Popen([SQUAD_BIN, "daemon", "start"], cwd=squad.root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(5)
    ]  # fmt: skip
    try:
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for p in procs:
            for stream in (p.stdout, p.stderr):
                if stream:
                    stream.close()
    try:
        codes = sorted(code for code, _ in results)
        assert codes == [0, 1, 1, 1, 1], results
        for code, err in results:
            if code == 1:
                assert err.count("\n") == 1 and "a coordinator already runs" in err, err
    finally:
        if running(squad) is not None:
            run_squad("daemon", "stop", cwd=squad.root)


def test_squads_own_hook_files_are_not_work_tree_violations(squad: SquadPaths) -> None:
    from squad.coordinator.engine import WORKTREE, classify

    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], [])])
    claude = squad.root / ".claude"
    claude.mkdir()
    for name in ("settings.json", "settings.json.squad-backup", "settings.local.json"):
        (claude / name).write_text("{}\n")
    engine = _engine(squad, 0)
    assert classify(squad, str(claude / "settings.json"), engine.ignored) is None
    assert classify(squad, str(claude / "settings.json.squad-backup"), engine.ignored) is None
    assert classify(squad, str(squad.root / ".git" / "hooks" / "pre-commit"), engine.ignored) is None
    assert classify(squad, str(claude / "notes.md"), engine.ignored) == Change(WORKTREE, ".claude/notes.md")
    for name in ("settings.json", "settings.json.squad-backup"):  # even if one slips through
        engine.observe(Change(WORKTREE, f".claude/{name}"))
    assert rules.rule_worktree(engine.world(at(1)), at(1), CONFIG) == []


def test_hooks_install_with_the_daemon_running_logs_no_violation(squad: SquadPaths) -> None:
    from tests.conftest import events, poll_until, run_squad

    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], [])])
    assert run_squad("daemon", "start", cwd=squad.root).returncode == 0
    try:
        installed = run_squad("hooks", "install", cwd=squad.root)
        assert installed.returncode == 0, installed.stderr
        (squad.root / "shared.txt").write_text("x\n")  # a real violation after it, as a marker
        poll_until(lambda: events(squad, ev.VIOLATION), what="the marker violation")
    finally:
        assert run_squad("daemon", "stop", cwd=squad.root).returncode == 0
    assert [e.path for e in events(squad, ev.VIOLATION)] == ["shared.txt"]


# -- the monitor ----------------------------------------------------------------------------------
def _frame(paths: SquadPaths, width: int, height: int | None, extras: object, snap: object = None) -> list[str]:
    import io

    from rich.console import Console

    from squad.protocol.times import now
    from squad.views.monitor import Extras, render

    assert isinstance(extras, Extras)
    if snap is None:
        engine = Engine(paths)
        engine.rebuild(now())
        snap = engine.snapshot(now())
    console = Console(record=True, width=width, height=height or 200, file=io.StringIO(), color_system=None)
    console.print(render(snap, extras, width=width, height=height))  # type: ignore[arg-type]
    return console.export_text().splitlines()


def _crowd(paths: SquadPaths, count: int) -> None:
    from squad.protocol.times import now

    t = now()
    for n in range(1, count + 1):
        post(paths, n, f"worker{n}", Status.ACTIVE, t, task=f"T{n} build part {n}", progress=(1, 3))
    lease(paths, "agent-1-worker1", "shared/types.ts", t, ttl_s=1)  # expired: "1 stale"


def test_monitor_header_never_wraps(squad: SquadPaths) -> None:
    from squad.views.monitor import Extras

    _crowd(squad, 3)
    post(squad, 3, "worker3", Status.BLOCKED, at(0), waiting_for="x")
    for mode in ("coordinator in-process", "daemon pid 123456"):
        for width in (60, 80, 100, 120):
            lines = _frame(squad, width, None, Extras(paused=True, mode=mode))
            assert lines[0].startswith(("PARALLEL AGENT MONITOR", "AGENT MONITOR", "MONITOR"))
            assert lines[1].startswith("Agents 3") and "Locks 1" in lines[1], lines[:3]
            assert lines[2] == "" or lines[2].startswith(("ALERT", "problem")), lines[:3]  # nothing wrapped


def test_monitor_announces_agents_hidden_to_fit(squad: SquadPaths) -> None:
    from squad.views.monitor import Extras

    _crowd(squad, 30)
    lines = _frame(squad, 80, 24, Extras(paused=True, mode="coordinator in-process", stale_s=900.0))
    assert len(lines) <= 24
    shown = sum(1 for line in lines if line.startswith("agent-"))
    assert any(f"{30 - shown} more agent(s)" in line for line in lines), lines


def test_monitor_shows_a_silent_agent_as_stale(squad: SquadPaths) -> None:
    from squad.views.monitor import Extras

    post(squad, 1, "worker1", Status.ACTIVE, at(0), task="T1")
    text = "\n".join(_frame(squad, 80, None, Extras(stale_s=900.0)))
    assert "STALE" in text and "⚡ ACTIVE" not in text


def test_monitor_drops_a_deadlock_alert_once_resolved(squad: SquadPaths) -> None:
    from dataclasses import replace
    from datetime import timedelta

    from squad.protocol.times import now
    from squad.views.monitor import Extras

    t = now()
    post(squad, 1, "worker1", Status.BLOCKED, t, waiting_for="b.py")
    post(squad, 2, "worker2", Status.BLOCKED, t, waiting_for="a.py")
    engine = Engine(squad)
    engine.rebuild(t)
    snap = engine.snapshot(t)
    cycle = ["agent-1-worker1", "agent-2-worker2"]
    old = ev.Event(kind=ev.DEADLOCK, at=t - timedelta(minutes=10), detail="wait-for cycle x", data={"cycle": cycle})
    still = replace(snap, events=(*snap.events, old))
    assert any("ALERT deadlock" in line for line in _frame(squad, 80, None, Extras(), still))
    post(squad, 2, "worker2", Status.ACTIVE, t)  # resolved
    engine.observe(Change("comm", number=2))
    gone = replace(engine.snapshot(t), events=(old,))
    assert not any("ALERT" in line for line in _frame(squad, 80, None, Extras(), gone))
    fresh = replace(gone, events=(replace(old, at=t - timedelta(seconds=5)),))
    assert any("ALERT deadlock" in line for line in _frame(squad, 80, None, Extras(), fresh))


def test_the_daemon_judges_a_blocked_block_again_when_it_grows(squad: SquadPaths) -> None:
    from squad.atomic import append_lines
    from squad.protocol.times import format_time, now
    from tests.conftest import events, poll_until, run_squad

    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], [])])
    plan(squad, 2, "backend", ["backend/"], [("T2", [], [])])
    lease(squad, "agent-2-backend", "src/y.py", now())
    assert run_squad("daemon", "start", cwd=squad.root).returncode == 0
    try:
        comm = squad.comm(1)
        append_lines(comm, f"## Status Update [{format_time(now())}]\n")
        append_lines(comm, "Status: BLOCKED\n")
        poll_until(lambda: events(squad, ev.BLOCKED), what="the first blocked event")
        append_lines(comm, "Waiting for: src/y.py\n")
        poll_until(lambda: any(e.path == "src/y.py" for e in events(squad, ev.BLOCKED)), what="the grown block's event")
        poll_until(
            lambda: "TO: agent-2-backend" in squad.coordinator_comm.read_text(encoding="utf-8"),
            what="the notice to the holder",
        )
    finally:
        assert run_squad("daemon", "stop", cwd=squad.root).returncode == 0
