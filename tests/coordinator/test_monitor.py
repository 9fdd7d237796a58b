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
from squad.monitor import Extras, render
from squad.paths import SquadPaths
from squad.protocol.comm import Status
from squad.protocol.times import now

from ..conftest import SQUAD_BIN, run_squad
from .conftest import at, lease, plan, poll_until, post


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
    text = frame(squad, width, Extras(started_at=at(0), launch={"agent-1-frontend": {"score": 0.87, "attempt": 2}}))
    from rich.cells import cell_len

    assert max(cell_len(line) for line in text.splitlines()) <= width
    assert "PARALLEL AGENT MONITOR" in text and "Agents 3" in text
    assert "agent-1-frontend" in text and "⚡" not in text.split("agent-1-frontend")[1].splitlines()[0]  # retry: 🔧
    assert "0.87" in text
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
        json.dumps({"agents": {"agent-2-backend": {"score": 0.42, "attempt": 1}}})
    )
    result = run_squad("monitor", "--once", cwd=squad.root)
    assert "SCORE" in result.stdout and "0.42" in result.stdout


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
