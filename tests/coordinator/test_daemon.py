"""The daemon as a real subprocess: start, refuse a second, react to files, stop, survive kill -9."""

from __future__ import annotations

import collections
import json
import os
import signal

import psutil

from squad.coordinator.daemon import running
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import Status
from squad.protocol.times import now
from tests.conftest import events, plan, poll_until, post, run_squad


def plan_two_agents(paths: SquadPaths) -> None:  # not `setup`: pytest 8.0 would run that as a nose module setup
    plan(paths, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    plan(paths, 2, "backend", ["backend/"], [("T2", ["backend/a.py"], [])])


def test_daemon_lifecycle_and_restart_after_kill(squad: SquadPaths) -> None:
    plan_two_agents(squad)
    root = squad.root
    started = run_squad("daemon", "start", cwd=root)
    assert started.returncode == 0, started.stderr
    try:
        second = run_squad("daemon", "start", cwd=root)
        assert second.returncode == 1 and "already runs" in second.stderr
        status = run_squad("daemon", "status", "--json", cwd=root)
        info = json.loads(status.stdout)
        assert status.returncode == 0 and info["running"] and info["pid"] > 0
        pid = info["pid"]
        assert psutil.Process(pid).ppid() != os.getpid()  # detached

        post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1", files=("backend/a.py",))
        poll_until(lambda: events(squad, ev.VIOLATION), what="the violation event")
        poll_until(lambda: "backend/a.py" in squad.status_report.read_text(), what="status.md to show it")

        os.kill(pid, signal.SIGKILL)
        poll_until(lambda: running(squad) is None, what="the killed daemon's lock to go")
        assert run_squad("daemon", "status", cwd=root).returncode == 1

        restarted = run_squad("daemon", "start", cwd=root)
        assert restarted.returncode == 0, restarted.stderr
        post(squad, 2, "backend", Status.ACTIVE, now(), task="T2", files=("frontend/a.tsx",))
        poll_until(lambda: len(events(squad, ev.VIOLATION)) >= 2, what="the second violation")
        poll_until(lambda: "frontend/a.tsx" in squad.status_report.read_text(), what="status.md to show it")
    finally:
        stopped = run_squad("daemon", "stop", cwd=root)
    assert stopped.returncode == 0, stopped.stderr
    assert run_squad("daemon", "status", cwd=root).returncode == 1
    keys = collections.Counter(e.key for e in events(squad) if e.key)
    assert keys and max(keys.values()) == 1, keys
    assert [e.path for e in events(squad, ev.VIOLATION)] == ["backend/a.py", "frontend/a.tsx"]
    log = (squad.logs / "coordinator.log").read_text()
    assert "coordinator stopped" in log


def test_stop_without_a_daemon_is_refused(squad: SquadPaths) -> None:
    result = run_squad("daemon", "stop", cwd=squad.root)
    assert result.returncode == 1 and "no coordinator runs" in result.stderr
