"""The supervisor with fake agents: limits, idle stop and retry, crashes, done, env."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from squad.launch import state as st
from squad.launch.config import LaunchSettings
from squad.launch.launcher import launch
from squad.paths import SquadPaths
from squad.protocol.comm import Status, read_comm
from tests.conftest import git
from tests.launch.conftest import add_plan, script

Fast = Callable[..., LaunchSettings]


def _max_overlap(lines: list[str]) -> int:
    events = []
    for line in lines:
        kind, _agent, stamp = line.split()
        events.append((float(stamp), 1 if kind == "start" else -1))
    # an end and a start at the same instant: count the end first
    events.sort(key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


def _timeline_script(tmp_path: Path) -> Path:
    return script(
        tmp_path,
        "timeline",
        f"T={tmp_path}/timeline.txt\n"
        'echo "start $AGENT_ID $(date +%s.%N)" >> "$T"\n'
        "sleep 0.6\n"
        'echo "end $AGENT_ID $(date +%s.%N)" >> "$T"\n'
        'echo "made by $AGENT_ID" > "out-$AGENT_ID.txt"',
    )


def test_queue_respects_max_parallel(squad: SquadPaths, tmp_path: Path, fast: Fast) -> None:
    for n, role in enumerate(["api", "web", "db", "ops", "qa"], start=1):
        add_plan(squad, n, role)
    agent = _timeline_script(tmp_path)
    results = launch(squad, fast(str(agent), max_parallel=2))
    assert set(results.values()) == {st.DONE}
    lines = (tmp_path / "timeline.txt").read_text().splitlines()
    assert len(lines) == 10
    assert _max_overlap(lines) <= 2
    # each agent's work is committed on its own branch
    assert "out-agent-3-db.txt" in git(squad.root, "ls-tree", "--name-only", "squad/agent-3-db")


def test_queue_respects_the_per_role_limit(squad: SquadPaths, tmp_path: Path, fast: Fast) -> None:
    for n in range(1, 4):
        add_plan(squad, n, "api")
    add_plan(squad, 4, "web")
    agent = _timeline_script(tmp_path)
    launch(squad, fast(str(agent), per_role=1, max_parallel=10))
    lines = (tmp_path / "timeline.txt").read_text().splitlines()
    api = [line for line in lines if "-api " in line]
    assert _max_overlap(api) == 1
    assert len(lines) == 8


@pytest.mark.slow
def test_silent_agent_is_stopped_committed_retried_then_failed(squad: SquadPaths, tmp_path: Path, fast: Fast) -> None:
    add_plan(squad, 1, "api")
    add_plan(squad, 2, "web")
    silent = script(
        tmp_path,
        "silent",
        'if [ "$AGENT_ID" = agent-2-web ]; then echo quick > web.txt; exit 0; fi\n'
        'if git log --format=%s | grep -q "squad: work of"; then echo "resumed from checkpoint"; fi\n'
        'echo "attempt" >> attempts.txt\n'
        "echo working\n"
        "exec sleep 60",
    )
    results = launch(squad, fast(str(silent), idle_timeout_s=1.0, retries=2))
    assert results == {"agent-1-api": st.FAILED, "agent-2-web": st.DONE}  # one failure never stops the others
    log = (squad.logs / "agent-1-api.log").read_text()
    assert log.count("=== squad launch: agent-1-api attempt") == 3
    assert "resumed from checkpoint" in log
    branch = "squad/agent-1-api"
    assert git(squad.root, "show", f"{branch}:attempts.txt").count("attempt") == 3
    assert "squad: work of agent-1-api at" in git(squad.root, "log", "-1", "--format=%s", branch)
    updates = read_comm(squad.comm(1)).updates
    assert updates[-1].status is Status.FAILED
    report = json.loads((squad.reports / "launch.json").read_text())
    assert report["agents"]["agent-1-api"]["state"] == "failed"
    assert report["agents"]["agent-1-api"]["attempt"] == 3


def test_crash_mid_work_leaves_a_commit(squad: SquadPaths, tmp_path: Path, fast: Fast) -> None:
    add_plan(squad, 1, "api")
    crash = script(tmp_path, "crash", "mkdir -p api && echo half > api/handler.py\nkill -9 $$")
    results = launch(squad, fast(str(crash), retries=1))
    assert results == {"agent-1-api": st.FAILED}
    assert git(squad.root, "show", "squad/agent-1-api:api/handler.py") == "half\n"
    assert "exited with code" in (st.read_report(squad)["agent-1-api"].reason or "")


def test_env_placeholders_setup_and_comm_updates(squad: SquadPaths, tmp_path: Path, fast: Fast) -> None:
    add_plan(squad, 1, "api")
    (squad.root / ".env").write_text("TOKEN=x\n")
    agent = script(
        tmp_path,
        "good",
        'echo "$AGENT_ID|$AGENT_TYPE|$AGENT_PLAN|$AGENT_COMM|$PARALLEL_MODE|$SQUAD_ROOT|$SQUAD_AGENT_PID|$1|$2" > env.txt\n'
        "test -f .env && test -f installed.txt || exit 9\n"
        '$SQUAD update --status ACTIVE --task "T1 build"\n'
        "$SQUAD lock @db-migrations\n"
        "$SQUAD update --status DONE",
    )
    settings = fast(f"{agent} {{plan}} {{worktree}}").with_overrides(setup_run=("echo ok > installed.txt",))
    assert launch(squad, settings) == {"agent-1-api": st.DONE}
    worktree = Path(st.read_report(squad)["agent-1-api"].worktree)
    fields = (worktree / "env.txt").read_text().strip().split("|")
    assert fields[:2] == ["agent-1-api", "api"]
    assert fields[2] == fields[7] == str(squad.plan(1).resolve())
    assert fields[3] == str(squad.comm(1).resolve())
    assert fields[4:6] == ["true", str(squad.root)]
    assert fields[6].isdigit()
    assert fields[8] == str(worktree)
    assert [u.status for u in read_comm(squad.comm(1)).updates] == [Status.ACTIVE, Status.DONE]
    assert ".env" not in git(squad.root, "ls-tree", "--name-only", "squad/agent-1-api")
    lease = json.loads(squad.lease_file("@db-migrations").read_text())
    assert lease["agent"] == "agent-1-api"
    assert lease["pid"] == int(fields[6])  # squad lock inside a launched agent records its pid


def test_a_finished_launch_is_not_rerun(squad: SquadPaths, tmp_path: Path, fast: Fast) -> None:
    add_plan(squad, 1, "api")
    agent = script(tmp_path, "once", "echo run >> runs.txt")
    settings = fast(str(agent))
    assert launch(squad, settings) == {"agent-1-api": st.DONE}
    assert launch(squad, settings) == {}
    assert launch(squad, settings, ("1",)) == {"agent-1-api": st.DONE}  # named: run again, same worktree
    worktree = Path(st.read_report(squad)["agent-1-api"].worktree)
    assert (worktree / "runs.txt").read_text() == "run\nrun\n"


def test_failed_setup_fails_that_agent_only(squad: SquadPaths, tmp_path: Path, fast: Fast) -> None:
    add_plan(squad, 1, "api")
    add_plan(squad, 2, "web")
    agent = script(tmp_path, "ok", "echo fine > fine.txt")
    settings = fast(str(agent)).with_overrides(setup_run=('test "$AGENT_ID" != agent-1-api',))
    assert launch(squad, settings) == {"agent-1-api": st.FAILED, "agent-2-web": st.DONE}
    assert "set-up command" in (st.read_report(squad)["agent-1-api"].reason or "")
