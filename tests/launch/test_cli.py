"""The commands end to end: launch/stop/resume as real processes, review, merge, clean, tmux."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from squad.config import load_config
from squad.errors import Refused, SquadError
from squad.launch import state as st
from squad.launch.config import LaunchSettings, launch_settings
from squad.launch.launcher import launch, launch_tmux, stop
from squad.paths import SquadPaths
from squad.protocol.ownership import Entry, Matrix, write_matrix
from tests.conftest import SQUAD_BIN, git, invoke, run_squad
from tests.launch.conftest import add_plan, script, wait_for

Fast = Callable[..., LaunchSettings]


def _config(paths: SquadPaths, tmp_path: Path, cmd: Path, **extra: object) -> None:
    lines = [
        "launch:",
        f"  cmd: {cmd}",
        f"  worktree_dir: {tmp_path / 'worktrees'}",
        "  idle_timeout_s: 60",
        "  retries: 0",
        "  grace_s: 5",
        "  sample_s: 0.2",
        *(f"  {k}: {v}" for k, v in extra.items()),
    ]
    paths.config.write_text("\n".join(lines) + "\n")


def test_stop_commits_every_worktree_and_launch_resumes(squad: SquadPaths, tmp_path: Path) -> None:
    add_plan(squad, 1, "api")
    add_plan(squad, 2, "web")
    agent = script(
        tmp_path,
        "long",
        "if [ -f finish-now ]; then echo resumed > resumed.txt; exit 0; fi\n"
        "trap 'echo got TERM; exit 0' TERM\n"
        'echo "draft by $AGENT_ID" > draft.txt\n'
        "touch finish-now\n"
        "while true; do sleep 0.1; done",
    )
    _config(squad, tmp_path, agent)
    launcher = subprocess.Popen(
        [SQUAD_BIN, "launch"], cwd=squad.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:

        def both_running() -> bool:
            report = st.read_report(squad)
            return len(report) == 2 and all(r.state == st.RUNNING and r.files_changed >= 2 for r in report.values())

        wait_for(both_running, what="both agents running with files written")
        stopped = run_squad("stop", cwd=squad.root)
        assert stopped.returncode == 0, stopped.stderr
        assert "agent-1-api" in stopped.stdout
        out, err = launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.communicate()
    assert launcher.returncode == 0, err
    assert "agent-1-api: stopped" in out
    report = st.read_report(squad)
    assert {r.state for r in report.values()} == {st.STOPPED}
    for agent_id in ("agent-1-api", "agent-2-web"):
        assert git(squad.root, "show", f"squad/{agent_id}:draft.txt") == f"draft by {agent_id}\n"
        assert "got TERM" in (squad.logs / f"{agent_id}.log").read_text()
    assert not squad.launch_pid.exists()
    # resume: the same worktrees, from what was committed
    again = run_squad("launch", "--json", cwd=squad.root)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"agents": {"agent-1-api": "done", "agent-2-web": "done"}}
    assert git(squad.root, "show", "squad/agent-2-web:resumed.txt") == "resumed\n"


def test_stop_without_a_launcher_says_so(squad: SquadPaths, runner: CliRunner) -> None:
    result = invoke(runner, "stop")
    assert result.exit_code == 0
    assert "no launched agent" in result.output


def test_review_merge_and_clean(squad: SquadPaths, tmp_path: Path, fast: Fast, runner: CliRunner) -> None:
    add_plan(squad, 1, "api", owns=("api/",))
    add_plan(squad, 2, "web", owns=("web/",))
    write_matrix(
        squad.ownership,
        Matrix(
            (
                Entry("api/", "agent-1-api", "EXCLUSIVE"),
                Entry("web/", "agent-2-web", "EXCLUSIVE"),
                Entry("README.md", None, "SEQUENTIAL"),
            )
        ),
    )
    agent = script(
        tmp_path,
        "work",
        'if [ "$AGENT_ID" = agent-1-api ]; then mkdir -p api && printf "a\\nb\\nc\\n" > api/app.py; fi\n'
        'if [ "$AGENT_ID" = agent-2-web ]; then echo "web readme" > README.md; mkdir -p api && echo x > api/stolen.py; fi',
    )
    settings = fast(str(agent))
    assert set(launch(squad, settings).values()) == {st.DONE}
    _config(squad, tmp_path, agent)

    result = invoke(runner, "review")
    assert result.exit_code == 0, result.output
    assert "api/app.py | 3 +++" in result.output
    assert "ownership: api/stolen.py: EXCLUSIVE to agent-1-api" in result.output
    data = json.loads(invoke(runner, "review", "--json").output)
    first = data["branches"][0]
    assert first["agent"] == "agent-1-api"
    assert first["passes"] is True
    assert first["changed"] == ["api/app.py"]

    refused = invoke(runner, "merge", "agent-2")
    assert refused.exit_code == 1
    assert "api/stolen.py" in refused.output

    worktree = Path(st.read_report(squad)["agent-1-api"].worktree)
    merged = invoke(runner, "merge", "agent-1")
    assert merged.exit_code == 0, merged.output
    assert (squad.root / "api" / "app.py").read_text() == "a\nb\nc\n"
    assert git(squad.root, "merge-base", "--is-ancestor", "squad/agent-1-api", "HEAD") == ""
    assert not worktree.exists()
    assert st.read_report(squad)["agent-1-api"].state == st.MERGED

    cleaned = invoke(runner, "clean", "--json")
    assert cleaned.exit_code == 0, cleaned.output
    data = json.loads(cleaned.output)
    assert [c["agent"] for c in data["cleaned"]] == ["agent-1-api"]
    assert data["cleaned"][0]["branch_deleted"] is True
    assert "squad/agent-1-api" not in git(squad.root, "branch", "--list")
    assert "squad/agent-2-web" in git(squad.root, "branch", "--list")  # not merged: kept


def test_merge_refuses_a_conflicting_branch(squad: SquadPaths, tmp_path: Path, fast: Fast, runner: CliRunner) -> None:
    add_plan(squad, 1, "docs", owns=("README.md",))  # its own file: no lease, so no fencing token, needed
    agent = script(tmp_path, "readme", 'echo "agent readme" > README.md')
    launch(squad, fast(str(agent)))
    (squad.root / "README.md").write_text("main readme\n")
    git(squad.root, "commit", "-qam", "main changed README")
    head = git(squad.root, "rev-parse", "HEAD")
    result = invoke(runner, "merge", "agent-1")
    assert result.exit_code == 1
    assert "conflicts in README.md" in result.output
    assert "merge aborted" in result.output
    assert git(squad.root, "rev-parse", "HEAD") == head
    assert not (squad.root / ".git" / "MERGE_HEAD").exists()
    assert (squad.root / "README.md").read_text() == "main readme\n"
    assert Path(st.read_report(squad)["agent-1-docs"].worktree).is_dir()  # kept


def test_squash_merge_then_clean_keeps_the_branch(
    squad: SquadPaths, tmp_path: Path, fast: Fast, runner: CliRunner
) -> None:
    add_plan(squad, 1, "api", owns=("one.txt",))
    agent = script(tmp_path, "two", "echo one > one.txt")
    launch(squad, fast(str(agent)))
    result = invoke(runner, "merge", "1", "--squash")
    assert result.exit_code == 0, result.output
    assert "(squash)" in result.output
    assert (squad.root / "one.txt").exists()
    cleaned = invoke(runner, "clean")
    assert cleaned.exit_code == 0
    assert "squad/agent-1-api" in git(squad.root, "branch", "--list")  # git -d refuses; squad never forces


def test_clean_never_removes_a_dirty_worktree(squad: SquadPaths, tmp_path: Path, fast: Fast, runner: CliRunner) -> None:
    add_plan(squad, 1, "api")
    agent = script(tmp_path, "nothing", "true")
    launch(squad, fast(str(agent)))
    worktree = Path(st.read_report(squad)["agent-1-api"].worktree)
    (worktree / "late.txt").write_text("written after the agent ended\n")
    result = invoke(runner, "clean")
    assert result.exit_code == 0
    assert "uncommitted changes" in result.output
    assert (worktree / "late.txt").exists()


def test_launch_needs_a_command(squad: SquadPaths, runner: CliRunner) -> None:
    add_plan(squad, 1, "api")
    result = invoke(runner, "launch")
    assert result.exit_code == 2
    assert "no agent command" in result.output


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_tmux_mode_opens_a_window_per_agent(squad: SquadPaths, tmp_path: Path, fast: Fast) -> None:
    add_plan(squad, 1, "api")
    add_plan(squad, 2, "web")
    socket = f"squad-test-{tmp_path.name}"
    agent = script(tmp_path, "tmuxagent", 'echo "hello from $AGENT_ID"; echo x > tmux.txt; exec sleep 60')
    settings = fast(str(agent), tmux_socket=socket, tmux_session="sq", monitor_cmd="sleep 60")
    try:
        opened = launch_tmux(squad, settings)
        assert opened.windows == ("monitor", "agent-1-api", "agent-2-web")
        windows = subprocess.run(
            ["tmux", "-L", socket, "list-windows", "-t", "sq", "-F", "#{window_name}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert windows == ["monitor", "agent-1-api", "agent-2-web"]
        wait_for(
            lambda: "hello from agent-1-api" in _text(squad.logs / "agent-1-api.log"), what="tmux output in the log"
        )
        stopped = stop(squad, settings)
        assert sorted(stopped) == ["agent-1-api", "agent-2-web"]
        assert git(squad.root, "show", "squad/agent-2-web:tmux.txt") == "x\n"
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def test_help_has_examples(runner: CliRunner) -> None:
    for name in ("launch", "stop", "review", "merge", "clean"):
        result = invoke(runner, name, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.output


def test_ctrl_c_stops_agents_gracefully(squad: SquadPaths, tmp_path: Path) -> None:
    add_plan(squad, 1, "api")
    agent = script(tmp_path, "forever", "echo wip > wip.txt\nexec sleep 60")
    _config(squad, tmp_path, agent)
    launcher = subprocess.Popen(
        [SQUAD_BIN, "launch"], cwd=squad.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(
            lambda: st.read_report(squad).get("agent-1-api", st.AgentReport("x")).files_changed >= 1,
            what="agent working",
        )
        running = st.read_report(squad)["agent-1-api"]
        assert running.state == st.RUNNING
        assert running.pid is not None
        assert 0 < running.score <= 100
        assert running.log.endswith("agent-1-api.log")
        launcher.send_signal(signal.SIGINT)
        out, err = launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.communicate()
    assert "agent-1-api: stopped" in out, err
    assert git(squad.root, "show", "squad/agent-1-api:wip.txt") == "wip\n"


def test_launch_refuses_while_earlier_agents_still_run(squad: SquadPaths, tmp_path: Path, fast: Fast) -> None:
    add_plan(squad, 1, "api")
    st.update_agent(squad, "agent-1-api", state=st.RUNNING, pid=os.getpid())
    with pytest.raises(Refused, match="still running"):
        launch(squad, fast("true"), ("1",))


def test_launch_settings_from_config(squad: SquadPaths, tmp_path: Path) -> None:
    squad.config.write_text(
        "launch:\n  cmd: aider --message-file {plan}\n  per_role: 2\n  idle_timeout: 30\n  setup: {copy: [.env, .npmrc], run: npm ci}\n"
    )
    settings = launch_settings(load_config(squad.config), squad.config)
    assert settings.cmd == "aider --message-file {plan}"
    assert settings.per_role == 2
    assert settings.idle_timeout_s == 30.0
    assert settings.setup_copy == (".env", ".npmrc")
    assert settings.setup_run == ("npm ci",)
    assert settings.worktree_base(squad.root) == squad.root.parent / f"{squad.root.name}-squad"
    assert settings.backoff(1) == 10.0
    assert settings.backoff(3) == 40.0
    squad.config.write_text("launch:\n  retries: many\n")
    with pytest.raises(SquadError, match=r"launch\.retries"):
        launch_settings(load_config(squad.config), squad.config)


def test_review_runs_the_test_command_and_merge_refuses_a_failing_branch(
    squad: SquadPaths, tmp_path: Path, fast: Fast, runner: CliRunner
) -> None:
    add_plan(squad, 1, "api")
    agent = script(tmp_path, "broken", "echo 'exit 3' > check.sh")
    launch(squad, fast(str(agent)))
    result = invoke(runner, "review", "--test", "sh check.sh")
    assert "tests: `sh check.sh` exited 3" in result.output
    _config(squad, tmp_path, agent, test_cmd="sh check.sh")
    refused = invoke(runner, "merge", "agent-1")
    assert refused.exit_code == 1
    assert "tests failed" in refused.output
    assert not (squad.root / "check.sh").exists()


def test_merge_refuses_when_the_checkout_has_uncommitted_changes(
    squad: SquadPaths, tmp_path: Path, fast: Fast, runner: CliRunner
) -> None:
    add_plan(squad, 1, "api", owns=("new.txt",))
    launch(squad, fast(str(script(tmp_path, "new", "echo n > new.txt"))))
    (squad.root / "README.md").write_text("my own edit\n")
    result = invoke(runner, "merge", "1")
    assert result.exit_code == 1
    assert "uncommitted changes" in result.output
    assert (squad.root / "README.md").read_text() == "my own edit\n"
