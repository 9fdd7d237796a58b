"""Names the roster does not know are refused, config typos are named, and exit codes match docs/cli.md
(Ctrl-C is 130), with real ``squad`` processes and real signals."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from squad.paths import SquadPaths
from squad.protocol.ownership import Entry, Matrix, write_matrix
from squad.protocol.plan import Plan, write_plan
from tests.conftest import SQUAD_BIN, run_squad
from tests.launch.conftest import script, wait_for


def _squad_of_three(paths: SquadPaths) -> None:
    for number, role, folder in ((1, "frontend", "frontend/"), (2, "backend", "backend/"), (3, "qa", "tests/")):
        write_plan(paths.plan(number), Plan(agent=f"agent-{number}-{role}", role=role, owns=(folder,)))
    write_matrix(
        paths.ownership,
        Matrix(
            (
                Entry("frontend/", "agent-1-frontend", "EXCLUSIVE"),
                Entry("backend/", "agent-2-backend", "EXCLUSIVE"),
                Entry("tests/", "agent-3-qa", "EXCLUSIVE"),
                Entry("shared/", None, "SEQUENTIAL"),
            )
        ),
    )


def _refused_naming_the_roster(result: subprocess.CompletedProcess[str], name: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("squad: error: unknown agent"), lines[0]
    assert name in lines[0]
    for known in ("agent-1-frontend", "agent-2-backend", "agent-3-qa"):
        assert known in lines[0]


# -- unknown names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["lock", "--agent", "agent-9-nobody", "shared/a.ts"], "agent-9-nobody"),
        (["unlock", "--agent", "agent-9", "shared/a.ts"], "agent-9"),
        (["update", "--agent", "9", "--status", "ACTIVE"], "'9'"),
        (["handoff", "--agent", "1", "--to", "agent-9", "--file", "shared/a.ts"], "agent-9"),
        (["check", "--agent", "agent-9-nobody", "shared/a.ts"], "agent-9-nobody"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_a_name_the_roster_does_not_know_is_refused(squad: SquadPaths, args: list[str], name: str) -> None:
    _squad_of_three(squad)
    _refused_naming_the_roster(run_squad(*args, cwd=squad.root), name)
    assert not squad.comm(9).exists()
    assert not list(squad.locks.rglob("*.lock"))
    assert not squad.comm(1).exists()  # the handoff was not written either


def test_an_unknown_agent_in_the_environment_is_refused_too(squad: SquadPaths) -> None:
    _squad_of_three(squad)
    result = run_squad("lock", "shared/a.ts", cwd=squad.root, env={"AGENT_ID": "agent-7-ghost"})
    _refused_naming_the_roster(result, "agent-7-ghost")


def test_known_agents_by_plan_comm_file_or_matrix_owner_are_accepted(squad: SquadPaths) -> None:
    _squad_of_three(squad)
    matrix = Matrix((Entry("docs/", "agent-4-docs", "EXCLUSIVE"), Entry("shared/", None, "SEQUENTIAL")))
    write_matrix(squad.ownership, matrix)  # agent-4 has neither plan nor comm file: the matrix names it
    squad.comm(5).write_text("## Status Update\nStatus: ACTIVE\n")  # agent-5 has only a comm file
    for agent in ("agent-1", "2", "agent-4", "agent-5"):
        result = run_squad("lock", "--agent", agent, f"shared/{agent}.ts", cwd=squad.root)
        assert result.returncode == 0, result.stderr
    assert "agent-4-docs" in run_squad("lock", "--agent", "4", "shared/x.ts", cwd=squad.root).stdout
    handoff = run_squad("handoff", "--agent", "1", "--to", "agent-4", "--file", "shared/a.ts", cwd=squad.root)
    assert handoff.returncode == 0 and "agent-1-frontend -> agent-4-docs" in handoff.stdout


def test_a_squad_without_a_roster_yet_accepts_any_well_formed_id(squad: SquadPaths) -> None:
    result = run_squad("lock", "--agent", "agent-9-nobody", "shared/a.ts", cwd=squad.root)
    assert result.returncode == 0, result.stderr
    assert "agent-9-nobody" in result.stdout
    # Without plans or a matrix, agents join by posting: a comm file names an agent, closes no door.
    assert run_squad("update", "--agent", "agent-1-api", "--status", "ACTIVE", cwd=squad.root).returncode == 0
    joined = run_squad("update", "--agent", "agent-2-web", "--status", "ACTIVE", cwd=squad.root)
    assert joined.returncode == 0, joined.stderr
    handoff = run_squad("handoff", "--agent", "1", "--to", "agent-3", "--file", "shared/a.ts", cwd=squad.root)
    assert handoff.returncode == 0, handoff.stderr
    # ...until a plan says who the squad is.
    write_plan(squad.plan(1), Plan(agent="agent-1-api", role="api"))
    late = run_squad("update", "--agent", "agent-4-late", "--status", "ACTIVE", cwd=squad.root)
    assert late.returncode == 2 and "agent-1-api, agent-2-web" in late.stderr


# -- config typos ---------------------------------------------------------------------------------


def test_a_misspelled_config_key_names_file_line_and_the_closest_key(squad: SquadPaths) -> None:
    squad.config.write_text("# settings\nagent_idle_s: 60\nlock_tt_s: 90\n")
    for args in (["status"], ["locks"], ["check", "--agent", "1", "a.ts"]):
        result = run_squad(*args, cwd=squad.root)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("squad: error: ") and ".squad/config.yaml:3: unknown setting lock_tt_s" in line
        assert "did you mean lock_ttl_s?" in line


def test_sections_owned_by_other_modules_stay_accepted(squad: SquadPaths) -> None:
    squad.config.write_text(
        "lock_ttl_s: 90\n"
        "streams:\n  mobile: {folders: [mobile/], keywords: [ios]}\n"
        "launch:\n  cmd: echo {plan}\n  max_parallel: 2\n"
        "coordinator:\n  tick_s: 1\n"
    )
    result = run_squad("status", cwd=squad.root)
    assert result.returncode == 0, result.stderr


def test_a_misspelled_launch_key_also_names_the_closest_key(squad: SquadPaths) -> None:
    squad.config.write_text("launch:\n  cmd: echo {plan}\n  max_paralel: 4\n")
    result = run_squad("launch", cwd=squad.root)
    assert result.returncode == 2
    assert ".squad/config.yaml:3: unknown setting launch.max_paralel: did you mean launch.max_parallel?" in (
        result.stderr
    )


# -- Ctrl-C is 130 --------------------------------------------------------------------------------


def _run_until(args: list[str], cwd: Path, ready: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen([SQUAD_BIN, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(ready.exists, what=f"{ready.name} from squad {args[0]}")
        time.sleep(0.3)  # past start-up, into the loop
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def test_ctrl_c_in_coordinate_exits_130(squad: SquadPaths) -> None:
    result = _run_until(["coordinate", "--tick", "0.2"], squad.root, squad.coordinator_pid)
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_in_monitor_exits_130_on_a_pipe(squad: SquadPaths) -> None:
    result = _run_until(["monitor"], squad.root, squad.coordinator_pid)  # it runs a coordinator in-process
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_in_monitor_exits_130_in_a_terminal(squad: SquadPaths) -> None:
    """The live screen (rich Live on a terminal) used to swallow Ctrl-C and exit 0."""
    main, secondary = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100", "LINES": "30"}
    proc = subprocess.Popen(
        [SQUAD_BIN, "monitor"], cwd=squad.root, stdin=secondary, stdout=secondary, stderr=secondary, env=env
    )
    os.close(secondary)
    seen = b""
    try:
        wait_for(squad.coordinator_pid.exists, what="the monitor's coordinator")
        deadline = time.monotonic() + 30
        while b"PARALLEL AGENT MONITOR" not in seen and time.monotonic() < deadline:
            if select.select([main], [], [], 0.2)[0]:
                seen += os.read(main, 65536)
        assert b"PARALLEL AGENT MONITOR" in seen
        time.sleep(1.0)  # into the live loop, waiting for file events
        proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([main], [], [], 0.2)[0]:
                try:
                    seen += os.read(main, 65536)
                except OSError:
                    break
        assert proc.wait(timeout=30) == 130
        assert b"Traceback" not in seen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)


def test_ctrl_c_in_launch_stops_the_agents_says_stopped_once_and_exits_130(squad: SquadPaths, tmp_path: Path) -> None:
    write_plan(squad.plan(1), Plan(agent="agent-1-api", role="api", body="Work.\n"))
    agent = script(tmp_path, "forever", "echo started > started.txt\nexec sleep 60")
    squad.config.write_text(
        f"launch:\n  cmd: {agent}\n  worktree_dir: {tmp_path / 'worktrees'}\n  retries: 0\n  grace_s: 5\n"
        "  sample_s: 0.2\n"
    )
    ready = tmp_path / "worktrees" / "agent-1-api" / "started.txt"
    result = _run_until(["launch"], squad.root, ready)
    assert result.returncode == 130, result.stderr
    assert (result.stdout + result.stderr).count("stopped") == 1, (result.stdout, result.stderr)
    assert "agent-1-api: stopped" in result.stdout
    assert "Traceback" not in result.stderr


# -- lock --wait says once what it waits for ------------------------------------------------------


def test_lock_wait_says_once_what_it_waits_for(squad: SquadPaths) -> None:
    held = run_squad("lock", "--agent", "agent-2-backend", "shared/a.ts", "--reason", "new type", cwd=squad.root)
    assert held.returncode == 0, held.stderr
    result = run_squad("lock", "--agent", "agent-1-frontend", "shared/a.ts", "--wait", "1", cwd=squad.root)
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("waiting up to 1s for shared/a.ts: held by agent-2-backend since ")
    assert lines[0].endswith("(new type)")
    assert lines[1] == "squad: error: gave up after 1s: agent-2-backend still holds shared/a.ts"
    assert result.stderr.count("agent-2-backend") == 2  # named as the holder once, and in the outcome


def test_lock_wait_that_gets_the_lease_says_what_it_waited_for_once(squad: SquadPaths) -> None:
    assert run_squad("lock", "--agent", "2", "shared/a.ts", cwd=squad.root).returncode == 0
    waiter = subprocess.Popen(
        [SQUAD_BIN, "lock", "--agent", "1", "shared/a.ts", "--wait", "60"],
        cwd=squad.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)
        assert run_squad("unlock", "--agent", "2", "shared/a.ts", cwd=squad.root).returncode == 0
        out, err = waiter.communicate(timeout=60)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.communicate()
    assert waiter.returncode == 0, err
    assert err.count("waiting up to 60s for shared/a.ts: held by agent-2") == 1
    assert out.startswith("locked shared/a.ts for agent-1")
