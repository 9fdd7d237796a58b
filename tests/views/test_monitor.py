"""The monitor: a pure render of a snapshot, ``--once``, and the live view in tmux at 80x24 and 160x48."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from rich.console import Console

from squad.coordinator.engine import Engine
from squad.paths import SquadPaths
from squad.protocol.comm import Status
from squad.protocol.times import now
from squad.views.monitor import Extras, render
from tests.conftest import SQUAD_BIN, at, lease, plan, poll_until, post, run_squad


def scene(paths: SquadPaths) -> None:
    plan(paths, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], []), ("T2", [], []), ("T3", [], [])])
    plan(paths, 2, "backend", ["backend/"], [("T4", [], []), ("T5", [], [])])
    plan(paths, 3, "ml", ["ml/"], [("T6", [], [])])
    t = now()
    post(paths, 1, "frontend", Status.ACTIVE, t, task="T2 Add charts", progress=(1, 3), files=("frontend/a.tsx",))
    lease(paths, "agent-1-frontend", "shared/types/metrics.ts", t)
    post(paths, 2, "backend", Status.BLOCKED, t, task="T4", waiting_for="shared/types/metrics.ts")
    post(paths, 3, "ml", Status.DONE, t, progress=(1, 1))


def frame(paths: SquadPaths, width: int, extras: Extras | None = None) -> str:
    engine = Engine(paths)
    engine.rebuild(now())
    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    console.print(render(engine.snapshot(now()), extras, width=width))
    return console.export_text()


@pytest.mark.parametrize("width", [80, 160])
def test_render_fits_and_shows_each_agent(squad: SquadPaths, width: int) -> None:
    scene(squad)
    text = frame(
        squad,
        width,
        Extras(
            started_at=at(0),
            launch={"agent-1-frontend": {"score": 87.0, "attempt": 2, "cpu_percent": 12.5, "rss_mb": 250.0}},
        ),
    )
    from rich.cells import cell_len

    assert max(cell_len(line) for line in text.splitlines()) <= width
    assert "PARALLEL AGENT MONITOR" in text and "Agents 3" in text
    assert "agent-1-frontend" in text and "⚡" not in text.split("agent-1-frontend")[1].splitlines()[0]  # retry: 🔧
    assert " 87 " in text  # the 0-100 productivity score
    if width >= 120:
        assert "CPU" in text and "12%" in text and "250M" in text
    assert "held by" in text
    assert "shared/types/metrics.ts" in text and "✅" in text


def test_render_puts_violations_first_and_exports_svg(squad: SquadPaths, tmp_path: Path) -> None:
    from squad.coordinator.daemon import Coordinator

    scene(squad)
    post(squad, 3, "ml", Status.DONE, now(), files=("backend/x.py",))
    with Coordinator(squad) as coordinator:
        snap = coordinator.engine.snapshot(now())
    console = Console(record=True, width=100, file=io.StringIO())
    console.print(render(snap, Extras()))
    text = console.export_text()
    events_part = text.split("EVENTS")[1]
    assert events_part.strip().splitlines()[0].split()[2] == "VIOLATION"
    svg = tmp_path / "monitor.svg"
    console.save_svg(str(svg), title="squad monitor")
    assert svg.read_text().startswith("<svg")


def test_monitor_once_prints_plain_text(squad: SquadPaths) -> None:
    scene(squad)
    result = run_squad("monitor", "--once", cwd=squad.root)
    assert result.returncode == 0, result.stderr
    assert "agent-2-backend" in result.stdout and "\x1b[" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 82  # emoji are two cells wide


def test_monitor_shows_launch_scores(squad: SquadPaths) -> None:
    scene(squad)
    (squad.reports / "launch.json").write_text(
        json.dumps({"agents": {"agent-2-backend": {"score": 42.4, "attempt": 1}}})
    )
    result = run_squad("monitor", "--once", cwd=squad.root)
    assert "SCORE" in result.stdout and " 42 " in result.stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (160, 48)])
def test_live_monitor_in_tmux(squad: SquadPaths, cols: int, rows: int) -> None:
    scene(squad)
    sock = f"squad-test-{uuid.uuid4().hex[:8]}"

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-L", sock, *args], check=True, capture_output=True, text=True).stdout

    env = f"PATH={Path(sys.executable).parent}:/usr/bin:/bin TERM=xterm-256color LANG=C.UTF-8"
    tmux("-f", "/dev/null", "new-session", "-d", "-x", str(cols), "-y", str(rows), "-c", str(squad.root),
         f"env {env} {SQUAD_BIN} monitor")  # fmt: skip
    try:
        screen = lambda: tmux("capture-pane", "-p")  # noqa: E731
        poll_until(lambda: "agent-2-backend" in screen(), what=f"agent rows at {cols}x{rows}")
        text = screen()
        assert "agent-1-frontend" in text and "agent-3-ml" in text and "PARALLEL AGENT MONITOR" in text
        post(squad, 3, "ml", Status.DONE, now(), files=("frontend/stolen.tsx",))
        poll_until(lambda: "VIOLATION" in screen(), what="the violation on screen")
        assert "frontend/stolen.tsx" in screen()
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], check=False, capture_output=True)
    poll_until(
        lambda: run_squad("daemon", "status", cwd=squad.root).returncode == 1, what="the monitor's coordinator to end"
    )


def test_stuck_task_raises_an_alert(squad: SquadPaths) -> None:
    from squad.coordinator.daemon import Coordinator

    scene(squad)
    for _ in range(3):
        post(squad, 2, "backend", Status.FAILED, now(), task="T4")
    with Coordinator(squad) as coordinator:
        snap = coordinator.engine.snapshot(now())
    console = Console(record=True, width=80, file=io.StringIO())
    console.print(render(snap, Extras()))
    text = console.export_text()
    assert "ALERT stuck: agent-2-backend T4 failed 3 times" in text
    assert "❌ FAILED" in text or "🔧 FAILED" in text


def crowd(paths: SquadPaths, count: int) -> None:
    """``count`` agents known only from their comm files (no plans), one blocked, one lease."""
    t = now()
    for n in range(1, count + 1):
        post(paths, n, f"worker{n}", Status.ACTIVE, t, task=f"T{n} build part {n}", progress=(1, 3))
    post(paths, count, f"worker{count}", Status.BLOCKED, t, waiting_for="shared/types.ts")
    lease(paths, "agent-1-worker1", "shared/types.ts", t)


def lines_of(snap_paths: SquadPaths, width: int, height: int) -> list[str]:
    engine = Engine(snap_paths)
    engine.rebuild(now())
    console = Console(record=True, width=width, height=height, file=io.StringIO(), color_system=None)
    console.print(render(engine.snapshot(now()), Extras(), width=width, height=height))
    return console.export_text().splitlines()


def test_a_short_screen_keeps_agent_rows_and_a_violation(squad: SquadPaths) -> None:
    crowd(squad, 22)
    post(squad, 3, "worker3", Status.ACTIVE, now(), files=("shared/types.ts",))  # a violation
    from squad.coordinator.daemon import Coordinator

    with Coordinator(squad):
        pass
    text = lines_of(squad, 80, 24)
    assert len(text) <= 24
    assert text[0].startswith("PARALLEL AGENT MONITOR")
    assert "agent-22-worker" in "\n".join(text) and "BLOCKED" in "\n".join(text)  # the blocked one is kept
    assert any("more agent(s)" in line for line in text)
    assert any("VIOLATION" in line and "shared/types.ts" in line for line in text)


def test_a_short_screen_shrinks_events_leases_and_metrics_before_agents(squad: SquadPaths) -> None:
    crowd(squad, 8)
    text = "\n".join(lines_of(squad, 80, 24))
    assert len(text.splitlines()) <= 24
    assert all(f"agent-{n}-worker{n}" in text for n in range(1, 9))
    assert "LOCKS 1: shared/types.ts" in text or "LEASE" in text
    assert "more agent(s)" not in text
    tall = "\n".join(lines_of(squad, 80, 60))
    assert "LEASE" in tall and "METRICS" in tall.splitlines() and "held by agent-1-worker1" in tall  # two lines


def test_monitor_shows_prediction_beside_measured(squad: SquadPaths) -> None:
    scene(squad)
    prediction = {"sequential_h": 31.0, "makespan_h": 18.0, "speedup": 1.72}
    (squad.squad / "allocation.json").write_text(json.dumps({"agents": [], "prediction": prediction}))
    out = run_squad("monitor", "--once", cwd=squad.root).stdout
    assert "(predicted 1.72x)" in out and "(predicted 42%)" in out
    assert "predicted makespan (h)" in out
    (squad.squad / "allocation.json").write_text("{not json")
    result = run_squad("monitor", "--once", cwd=squad.root)
    assert result.returncode == 0 and "predicted" not in result.stdout


def test_monitor_with_no_agents_and_with_a_malformed_comm_file(squad: SquadPaths) -> None:
    result = run_squad("monitor", "--once", cwd=squad.root)
    assert result.returncode == 0 and "no agents yet" in result.stdout
    squad.comm(4).write_text("## Status Update [2026-11-22T14:00:00Z]\nStatus: FLYING\nProgress: lots\n")
    squad.comm(5).mkdir()  # a folder where a comm file should be
    result = run_squad("monitor", "--once", cwd=squad.root)
    assert result.returncode == 0, result.stderr
    assert "problem: .squad/comms/agent-4-comm.md:2: unknown status 'FLYING'" in result.stdout
    assert "agent-5-comm.md: cannot read it" in result.stdout
    assert "Traceback" not in result.stderr and result.stderr == ""


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_live_monitor_with_many_agents_in_a_small_tmux(squad: SquadPaths) -> None:
    crowd(squad, 22)
    squad.comm(30).write_text("## Status Update [2026-11-22T14:00:00Z]\nStatus: FLYING\n")  # malformed
    sock = f"squad-test-{uuid.uuid4().hex[:8]}"

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-L", sock, *args], check=True, capture_output=True, text=True).stdout

    env = f"PATH={Path(sys.executable).parent}:/usr/bin:/bin TERM=xterm-256color LANG=C.UTF-8"
    tmux("-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "-c", str(squad.root),
         f"env {env} {SQUAD_BIN} monitor")  # fmt: skip
    try:
        screen = lambda: tmux("capture-pane", "-p")  # noqa: E731
        poll_until(lambda: "more agent(s)" in screen(), what="the crowd drawn")
        post(squad, 2, "worker2", Status.ACTIVE, now(), files=("shared/types.ts",))
        poll_until(lambda: "VIOLATION" in screen(), what="the violation on screen")
        rows = screen().splitlines()
        assert rows[0].startswith("PARALLEL AGENT MONITOR")  # nothing scrolled off the top
        assert "unknown status 'FLYING'" in "\n".join(rows)
        assert sum("ACTIVE" in row for row in rows) >= 10
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], check=False, capture_output=True)
    poll_until(
        lambda: run_squad("daemon", "status", cwd=squad.root).returncode == 1, what="the monitor's coordinator to end"
    )


def test_sigterm_ends_the_monitor_and_its_coordinator(squad: SquadPaths) -> None:
    import signal

    scene(squad)
    proc = subprocess.Popen([SQUAD_BIN, "monitor"], cwd=squad.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        poll_until(lambda: run_squad("daemon", "status", cwd=squad.root).returncode == 0, what="its coordinator")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert b"agent-1-frontend" in out and b"Traceback" not in err
    assert run_squad("daemon", "status", cwd=squad.root).returncode == 1


def test_header_counts_agents_as_their_rows_show_them(squad: SquadPaths) -> None:
    """One definition of an agent's state: a silent agent the rows call STALE is not counted active."""
    from datetime import timedelta

    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], [])])
    plan(squad, 2, "backend", ["backend/"], [("T2", [], [])])
    t = now()
    post(squad, 1, "frontend", Status.ACTIVE, t - timedelta(hours=2), task="T1")
    post(squad, 2, "backend", Status.ACTIVE, t, task="T2")
    text = frame(squad, 160, Extras(stale_s=1800))
    assert "1 active" in text and "1 stale" in text, text
    assert "2 active" not in text
    rows = [line for line in text.splitlines() if line.startswith("agent-1")]
    assert rows and "STALE" in rows[0]


def test_pending_handoffs_a_blocked_agents_alternative_and_metrics_only_once_they_mean_something(
    squad: SquadPaths,
) -> None:
    from datetime import timedelta

    from tests.conftest import handoff

    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], []), ("T2", [], [])])
    plan(squad, 2, "backend", ["backend/"], [("T3", [], [])])
    t = now()
    post(squad, 2, "backend", Status.BLOCKED, t - timedelta(seconds=20), task="T3", waiting_for="shared/t.ts")
    engine_text = frame(squad, 160)
    assert "METRICS after the first task is done" in engine_text  # 20 s in, nothing done: no verdict yet
    from squad.atomic import append_lines

    append_lines(
        squad.comm(2),
        "\n## Status Update [{}]\nStatus: BLOCKED\nWaiting for: shared/t.ts\nAlternative: writing the tests\n".format(
            (t - timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ),
    )
    handoff(squad, 1, "agent-1-frontend", "agent-2-backend", "shared/t.ts", t - timedelta(seconds=5))
    text = frame(squad, 160)
    assert "meanwhile: writing the tests" in text
    assert "PENDING HANDOFFS" in text and "agent-1-frontend → agent-2-backend: shared/t.ts" in text
    # the receiver reports after the handoff: picked up, no longer pending; a task done: metrics shown
    post(squad, 2, "backend", Status.ACTIVE, t, task="T3", progress=(1, 1))
    text = frame(squad, 160)
    assert "PENDING HANDOFFS" not in text
    assert "measured parallelism" in text
