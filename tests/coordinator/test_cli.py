"""``squad pause`` / ``resume`` and ``squad coordinate`` in the foreground."""

from __future__ import annotations

import os
import signal
import subprocess

from squad.coordinator.rules import PAUSED, RESUMED
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import Status
from squad.protocol.times import now
from tests.conftest import SQUAD_BIN, events, plan, poll_until, post, run_squad


def test_pause_and_resume(squad: SquadPaths) -> None:
    assert run_squad("pause", "--reason", "rebasing", cwd=squad.root).stdout.strip() == "paused"
    assert "rebasing" in squad.pause_flag.read_text()
    assert run_squad("pause", cwd=squad.root).stdout.strip() == "already paused"
    assert run_squad("resume", cwd=squad.root).stdout.strip() == "resumed"
    assert not squad.pause_flag.exists()
    assert run_squad("resume", cwd=squad.root).stdout.strip() == "not paused"
    assert [e.kind for e in events(squad)] == [PAUSED, RESUMED]


def test_paused_squad_shows_in_monitor(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], [])])
    run_squad("pause", cwd=squad.root)
    assert "PAUSED" in run_squad("monitor", "--once", cwd=squad.root).stdout


def test_coordinate_in_the_foreground_ends_cleanly_on_sigterm(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], [])])
    proc = subprocess.Popen([SQUAD_BIN, "coordinate"], cwd=squad.root, stderr=subprocess.PIPE, text=True)
    try:
        poll_until(lambda: run_squad("daemon", "status", cwd=squad.root).returncode == 0, what="the coordinator up")
        refused = run_squad("coordinate", cwd=squad.root)
        assert refused.returncode == 1 and "already runs" in refused.stderr
        post(squad, 1, "frontend", Status.ACTIVE, now(), files=("backend/x.py",))
        poll_until(lambda: events(squad, ev.VIOLATION), what="a violation")
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "coordinator stopped" in err and "Traceback" not in err
    assert not (squad.control / "coordinator.pid").exists()


def test_commands_have_examples() -> None:
    for args in (["coordinate"], ["daemon"], ["daemon", "start"], ["monitor"], ["pause"], ["resume"]):
        result = run_squad(*args, "--help", cwd=os.getcwd())
        assert result.returncode == 0 and "Example:" in result.stdout, args
