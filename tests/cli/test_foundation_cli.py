"""init / status / update / handoff, in-process (CliRunner) and as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from squad.paths import SquadPaths
from squad.protocol.comm import Status, read_comm
from tests.conftest import SQUAD_BIN, invoke, run_squad


def test_init_is_idempotent_and_never_overwrites(repo: Path) -> None:
    first = run_squad("init", cwd=repo)
    assert first.returncode == 0 and "created .squad/config.yaml" in first.stdout
    config = repo / ".squad" / "config.yaml"
    config.write_text("lock_ttl_s: 60\n")
    sub = repo / "deep" / "er"
    sub.mkdir(parents=True)
    again = run_squad("init", cwd=sub)
    assert again.returncode == 0 and "already set up" in again.stdout
    assert config.read_text() == "lock_ttl_s: 60\n"
    assert not (sub / ".squad").exists()


def test_done_when_scenario_from_the_issue(repo: Path) -> None:
    assert run_squad("init", cwd=repo).returncode == 0
    assert (
        run_squad(
            "update", "--agent", "1", "--status", "ACTIVE", "--task", "T1", "--progress", "1/4", cwd=repo
        ).returncode
        == 0
    )
    out = run_squad("status", "--json", cwd=repo)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= {"agents", "locks", "handoffs", "violations", "metrics"}
    (agent,) = data["agents"]
    assert agent["id"] == "agent-1" and agent["status"] == "ACTIVE"
    assert agent["progress"] == {"done": 1, "total": 4}
    assert set(agent) >= {"id", "status", "task", "progress", "last_update", "idle_s", "files_modified", "waiting_for"}
    assert set(data["metrics"]) >= {"tasks_done", "tasks_total", "conflicts", "lock_waits"}


def test_outside_a_squad_says_run_init(tmp_path: Path) -> None:
    result = run_squad("status", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "squad: error: no .squad/ folder here or above: run `squad init` first"


def test_malformed_comm_file_is_one_line_with_file_and_line(squad: SquadPaths) -> None:
    squad.comm(2).write_text("## Status Update [2026-11-22T14:05:00Z]\nCurrent Task: x\nStatus: ACTIV\n")
    result = run_squad("status", cwd=squad.root)
    assert result.returncode == 2
    assert result.stderr == "squad: error: .squad/comms/agent-2-comm.md:3: unknown status 'ACTIV'\n"


def test_update_from_env_and_handoff(squad: SquadPaths, runner: CliRunner) -> None:
    env = {"AGENT_ID": "agent-1-frontend"}
    result = invoke(
        runner, "update", "--status", "blocked", "--waiting-for", "shared/types/user.ts locked by agent-2", env=env
    )
    assert result.exit_code == 0, result.output
    result = invoke(runner, "handoff", "--to", "2", "--file", "/shared/types/metrics.ts", "--status", "Ready", env=env)
    assert result.exit_code == 0, result.output
    comm = read_comm(squad.comm(1))
    assert comm.updates[-1].status is Status.BLOCKED
    assert comm.handoffs[-1].file == "shared/types/metrics.ts"
    assert comm.identity is not None and str(comm.identity) == "agent-1-frontend"
    status = json.loads(invoke(runner, "status", "--json").output)
    assert status["agents"][0]["id"] == "agent-1-frontend"
    assert status["agents"][0]["waiting_for"] == "shared/types/user.ts locked by agent-2"
    assert status["handoffs"][0]["to"] == "agent-2" and status["handoffs"][0]["file"] == "shared/types/metrics.ts"


def test_update_raw_lines_are_grep_friendly(squad: SquadPaths, runner: CliRunner) -> None:
    invoke(runner, "update", "--agent", "3", "--status", "ACTIVE", "--task", "T9 ship")
    text = squad.comm(3).read_text()
    assert "\nStatus: ACTIVE\n" in text and "\nCurrent Task: T9 ship\n" in text


def test_bad_arguments_exit_2_without_traceback(squad: SquadPaths, runner: CliRunner) -> None:
    for args in (
        ["update", "--agent", "1", "--status", "ACTIV"],
        ["update", "--agent", "1", "--status", "ACTIVE", "--progress", "five"],
        ["update", "--status", "ACTIVE"],  # no agent
        ["update", "--agent", "frontend", "--status", "ACTIVE"],
        ["handoff", "--agent", "1", "--to", "1", "--file", "a.ts"],
    ):
        result = invoke(runner, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("squad: error: ") or "Error:" in result.output
        assert "Traceback" not in result.output


def test_evidence_is_recorded(squad: SquadPaths, runner: CliRunner) -> None:
    result = invoke(runner, "update", "--agent", "1", "--status", "DONE", "--evidence", "true")
    assert result.exit_code == 0 and "exited 0" in result.output
    assert read_comm(squad.comm(1)).updates[-1].evidence_exit == 0


def test_status_plain_when_no_terminal(squad: SquadPaths) -> None:
    run_squad("update", "--agent", "agent-2-backend", "--status", "ACTIVE", "--task", "B1 schema", cwd=squad.root)
    result = run_squad("status", cwd=squad.root, env={"NO_COLOR": "1"})
    assert result.returncode == 0
    assert "agent-2-backend" in result.stdout and "B1 schema" in result.stdout
    assert "\x1b[" not in result.stdout


LIBRARY_WRITER = textwrap.dedent(
    """
    import random, sys, time
    from pathlib import Path
    from squad.paths import SquadPaths
    from squad.protocol.comm import Status
    from squad.agents.updates import post_update

    paths, name, stop = SquadPaths(Path(sys.argv[1])), sys.argv[2], Path(sys.argv[3])
    count = 0
    while count < 20 or (not stop.exists() and count < 3000):  # keep writing until the CLI writers are done
        count += 1
        post_update(paths, "agent-1", status=Status.ACTIVE, task=f"{name}-{count}")
        time.sleep(random.uniform(0.02, 0.06))  # tens each, and cores left for the CLI writers
    print(count)
    """
)


@pytest.mark.slow
def test_eight_processes_appending_at_once_lose_no_update(squad: SquadPaths, tmp_path: Path) -> None:
    """Two ``squad update`` processes and six processes looping over the library append to one comm file at once."""
    stop = tmp_path / "stop"
    script = tmp_path / "writer.py"
    script.write_text(LIBRARY_WRITER)
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), str(squad.root), f"L{n}", str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(6)
    ]
    cli_rounds = 6
    env = {**os.environ, "AGENT_ID": "agent-1"}
    clis = [
        subprocess.Popen(
            [
                "bash",
                "-c",
                f'for i in $(seq 1 {cli_rounds}); do "{SQUAD_BIN}" update --status ACTIVE --task "C{n}-$i" --progress "$i/{cli_rounds}" || exit 1; done',
            ],
            cwd=squad.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    for cli in clis:
        _, err = cli.communicate(timeout=120)
        assert cli.returncode == 0, err
    stop.touch()
    written = [f"C{n}-{i}" for n in range(2) for i in range(1, cli_rounds + 1)]
    for n, writer in enumerate(writers):
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        written += [f"L{n}-{i}" for i in range(1, int(out) + 1)]
    comm = read_comm(squad.comm(1))
    assert not comm.problems
    tasks = [u.task for u in comm.updates]
    assert sorted(tasks) == sorted(written)  # every update, each once
    # they really overlapped: library updates land between the CLI's first and last
    first_cli = min(i for i, t in enumerate(tasks) if t.startswith("C"))
    last_cli = max(i for i, t in enumerate(tasks) if t.startswith("C"))
    assert any(t.startswith("L") for t in tasks[first_cli:last_cli])


def test_every_agent_environment_variable_is_honoured(squad: SquadPaths) -> None:
    """ai-agent-hub sets AGENT_ID, AGENT_TYPE, AGENT_PLAN, AGENT_COMM and PARALLEL_MODE: any of them names the agent."""
    by_comm = run_squad(
        "update",
        "--status",
        "ACTIVE",
        cwd=squad.root,
        env={"AGENT_COMM": ".squad/comms/agent-4-comm.md", "AGENT_TYPE": "qa"},
    )
    assert by_comm.returncode == 0 and by_comm.stdout.startswith("agent-4-qa: ACTIVE"), by_comm.stderr
    by_plan = run_squad(
        "update", "--status", "DONE", cwd=squad.root, env={"AGENT_PLAN": ".squad/parallel-plans/agent-5-plan.md"}
    )
    assert by_plan.returncode == 0 and by_plan.stdout.startswith("agent-5: DONE"), by_plan.stderr
    by_type = run_squad(
        "update", "--status", "ACTIVE", cwd=squad.root, env={"AGENT_ID": "agent-6", "AGENT_TYPE": "docs"}
    )
    assert by_type.stdout.startswith("agent-6-docs: ACTIVE")
    # PARALLEL_MODE=false: not working in a squad, so the guard lets the write through.
    squad.ownership.write_text("backend/: {owner: agent-2-backend, access: EXCLUSIVE}\n")
    hook = json.dumps(
        {"tool_name": "Write", "tool_input": {"file_path": str(squad.root / "backend/api.py")}, "cwd": str(squad.root)}
    )
    refused = run_squad("guard", cwd=squad.root, env={"AGENT_ID": "agent-1-frontend"}, input=hook)
    assert refused.returncode == 2
    allowed = run_squad(
        "guard", cwd=squad.root, env={"AGENT_ID": "agent-1-frontend", "PARALLEL_MODE": "false"}, input=hook
    )
    assert allowed.returncode == 0 and allowed.stdout == ""
