"""squad launch at its edges: what a new user hits first (no plans, no repo, a dirty checkout, a missing
command, paths with spaces, bad config), set-up copies that must not block merge or clean, a
launcher killed with -9, and --tmux through the real CLI on a private tmux socket."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from squad.config import load_config
from squad.errors import SquadError
from squad.launch import state as st
from squad.launch.config import LaunchSettings, launch_settings
from squad.launch.launcher import launch
from squad.paths import SquadPaths
from squad.protocol.comm import Status, read_comm
from squad.protocol.workspace import init_squad
from tests.conftest import SQUAD_BIN, git, invoke, run_squad
from tests.launch.conftest import add_plan, script, wait_for

Fast = Callable[..., LaunchSettings]
ONE_ERROR_LINE = re.compile(r"^squad: error: [^\n]+\n$")


def _write_config(paths: SquadPaths, tmp_path: Path, cmd: str, *extra: str) -> None:
    lines = [
        "launch:",
        f"  cmd: {cmd}",
        f"  worktree_dir: {tmp_path / 'worktrees'}",
        "  idle_timeout_s: 60",
        "  retries: 0",
        "  grace_s: 5",
        "  sample_s: 0.2",
        "  backoff_s: 0.1",
        *extra,
    ]
    paths.config.write_text("\n".join(lines) + "\n")


def _last_status(paths: SquadPaths, agent: str) -> tuple[Status | None, str]:
    comm = read_comm(paths.comm(int(agent.split("-")[1])))
    update = comm.updates[-1]
    return update.status, update.task or ""


# -- first contact --------------------------------------------------------------------------


def test_launch_without_plans_says_to_allocate_first(squad: SquadPaths, runner: CliRunner) -> None:
    result = invoke(runner, "launch", "--cmd", "true")
    assert result.exit_code == 2
    assert "no plans in .squad/parallel-plans: run `squad allocate PRD` first" in result.output


def test_every_command_outside_a_git_repository_is_one_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    paths, _ = init_squad(folder)
    add_plan(paths, 1, "api")
    for args in (("launch", "--cmd", "true"), ("review",), ("merge", "1"), ("clean",)):
        result = run_squad(*args, cwd=folder)
        assert result.returncode == 2, args
        assert ONE_ERROR_LINE.match(result.stderr), result.stderr
        assert "is not a git repository" in result.stderr


def test_launch_before_the_first_commit_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    git(folder, "init", "-q")
    paths, _ = init_squad(folder)
    add_plan(paths, 1, "api")
    result = run_squad("launch", "--cmd", "true", cwd=folder)
    assert result.returncode == 2
    assert ONE_ERROR_LINE.match(result.stderr), result.stderr
    assert "has no commit yet" in result.stderr
    assert not st.read_report(paths)  # nothing half-made


def test_a_dirty_main_checkout_is_warned_about(squad: SquadPaths, tmp_path: Path) -> None:
    add_plan(squad, 1, "api")
    (squad.root / "README.md").write_text("edited, not committed\n")
    (squad.root / "scratch.txt").write_text("new\n")
    _write_config(squad, tmp_path, "cat README.md > seen.txt")
    result = run_squad("launch", cwd=squad.root)
    assert result.returncode == 0, result.stderr
    assert "warning: the main checkout has uncommitted changes (README.md and 1 more)" in result.stderr
    assert "agents start from the last commit of main without them" in result.stderr
    assert git(squad.root, "show", "squad/agent-1-api:seen.txt") == "# sample\n"
    assert (squad.root / "README.md").read_text() == "edited, not committed\n"  # untouched


def test_a_missing_command_is_retried_then_failed_and_the_log_says_why(
    squad: SquadPaths, tmp_path: Path, fast: Fast
) -> None:
    add_plan(squad, 1, "api")
    settings = fast("no-such-agent-binary {plan}", retries=2)
    assert launch(squad, settings) == {"agent-1-api": st.FAILED}
    log = (squad.logs / "agent-1-api.log").read_text()
    assert log.count("no-such-agent-binary: not found") == 3
    assert "attempt 1 exited with code 127: command not found (check --cmd / launch.cmd and PATH): retry 1 of 2" in log
    assert "attempt 3 exited with code 127: command not found" in log
    assert "FAILED after 3 attempts" in log
    report = st.read_report(squad)["agent-1-api"]
    assert report.exit_code == 127
    assert "command not found" in (report.reason or "")
    status, task = _last_status(squad, "agent-1-api")
    assert status is Status.FAILED
    assert "gave up after 3 attempts" in task


def test_plan_and_worktree_paths_with_spaces(tmp_path: Path) -> None:
    root = tmp_path / "my projects" / "web app"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("x\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "first")
    paths, _ = init_squad(root)
    add_plan(paths, 1, "api")
    paths.config.write_text(
        "launch:\n"
        "  worktree_dir: ../agent trees/{repo}\n"
        "  sample_s: 0.2\n"
        '  cmd: cp {plan} plan-copy.md && echo "$(cat {plan} | wc -l)" > lines.txt && pwd > where.txt\n'
    )
    result = run_squad("launch", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"agents": {"agent-1-api": "done"}}
    assert git(root, "show", "squad/agent-1-api:plan-copy.md") == paths.plan(1).read_text()
    worktree = tmp_path / "my projects" / "agent trees" / "web app" / "agent-1-api"
    assert git(root, "show", "squad/agent-1-api:where.txt").strip() == str(worktree)


@pytest.mark.parametrize(
    ("snippet", "line", "words"),
    [
        ("launch:\n  max_parallel: many\n", 2, "launch.max_parallel must be a whole number"),
        ("launch: 5\n", 1, "launch must be a mapping"),
        ("# launch: old\nlaunch:\n  # cmd: x\n  max_paralel: 4\n", 4, "unknown setting launch.max_paralel"),
        ("launch:\n  cmd: [claude, -p]\n", 2, "launch.cmd must be a string"),
        ("launch:\n  cmd: x\n  setup:\n    copy: 3\n", 4, "launch.setup.copy must be a string or a list"),
        ("launch:\n  setup:\n    cpy: [.env]\n", 3, "unknown setting launch.setup.cpy"),
        ("launch:\n  idle_timeout: '600'\n", 2, "launch.idle_timeout must be a positive number"),
        ("launch:\n  retries: true\nlock_ttl_s: 60\n", 2, "launch.retries must be a whole number"),
    ],
)
def test_bad_launch_config_is_one_line_naming_file_and_line(
    squad: SquadPaths, snippet: str, line: int, words: str
) -> None:
    squad.config.write_text(snippet)
    with pytest.raises(SquadError, match=re.escape(words)) as caught:
        launch_settings(load_config(squad.config), squad.config)
    assert caught.value.line == line
    add_plan(squad, 1, "api")
    result = run_squad("launch", "--cmd", "true", cwd=squad.root)
    assert result.returncode == 2
    assert ONE_ERROR_LINE.match(result.stderr), result.stderr
    assert f"config.yaml:{line}: " in result.stderr


# -- review, merge, clean as a new user tries them ------------------------------------------


def test_review_merge_and_clean_edge_cases(squad: SquadPaths, tmp_path: Path, fast: Fast, runner: CliRunner) -> None:
    nothing = invoke(runner, "review")
    assert nothing.exit_code == 0
    assert "no agent branches" in nothing.output
    unknown = invoke(runner, "merge", "agent-7")
    assert unknown.exit_code == 2
    assert "no branch squad/agent-7: nothing was launched for it" in unknown.output
    bad = invoke(runner, "merge", "frontend please")
    assert bad.exit_code == 2
    assert "bad agent id" in bad.output

    add_plan(squad, 1, "api", owns=("a.txt",))
    add_plan(squad, 2, "web")
    launch(squad, fast(str(script(tmp_path, "maybe", '[ "$AGENT_ID" = agent-1-api ] && echo a > a.txt; exit 0'))))
    empty = invoke(runner, "merge", "2")
    assert empty.exit_code == 1
    assert "no commits ahead of main: nothing to merge" in empty.output

    assert invoke(runner, "merge", "1").exit_code == 0
    again = invoke(runner, "merge", "1")
    assert again.exit_code == 1
    assert "already merged into main" in again.output

    first = invoke(runner, "clean", "--json")
    cleaned = {c["agent"] for c in json.loads(first.output)["cleaned"]}
    assert "agent-1-api" in cleaned
    assert git(squad.root, "branch", "--list", "squad/*") == ""  # agent-2's empty branch was merged too
    second = invoke(runner, "clean")
    assert second.exit_code == 0
    assert "nothing to clean" in second.output


def test_setup_copies_do_not_block_merge_and_a_changed_copy_keeps_the_worktree(
    squad: SquadPaths, tmp_path: Path, fast: Fast, runner: CliRunner
) -> None:
    (squad.root / ".env").write_text("SECRET=1\n")  # untracked, not ignored: copied into each worktree
    add_plan(squad, 1, "api", owns=("agent-1-api.txt",))
    add_plan(squad, 2, "web", owns=("agent-2-web.txt",))
    agent = script(
        tmp_path,
        "env",
        'echo "$AGENT_ID" > "$AGENT_ID.txt"; [ "$AGENT_ID" = agent-2-web ] && echo LOCAL=1 >> .env; exit 0',
    )
    launch(squad, fast(str(agent)))
    review = json.loads(invoke(runner, "review", "--json").output)["branches"]
    assert [b["passes"] for b in review] == [True, True]
    assert all(".env" not in b["changed"] for b in review)  # never committed

    merged = invoke(runner, "merge", "1")
    assert merged.exit_code == 0, merged.output
    assert "worktree removed" in merged.output
    assert not (tmp_path / "worktrees" / "agent-1-api").exists()

    merged2 = invoke(runner, "merge", "2")
    assert merged2.exit_code == 0, merged2.output
    kept = tmp_path / "worktrees" / "agent-2-web"
    assert "worktree removed" not in merged2.output
    assert (kept / ".env").read_text() == "SECRET=1\nLOCAL=1\n"  # the agent's edit of its copy is kept
    result = invoke(runner, "clean")
    assert "differs from" in result.output
    assert (kept / ".env").exists()
    assert (squad.root / ".env").read_text() == "SECRET=1\n"


def test_review_predicts_a_conflict_before_merge(
    squad: SquadPaths, tmp_path: Path, fast: Fast, runner: CliRunner
) -> None:
    add_plan(squad, 1, "api", owns=("README.md",))
    launch(squad, fast(str(script(tmp_path, "readme", "echo mine > README.md"))))
    (squad.root / "README.md").write_text("theirs\n")
    git(squad.root, "commit", "-qam", "meanwhile on main")
    result = invoke(runner, "review")
    assert "would conflict with main in README.md" in result.output
    refused = invoke(runner, "merge", "1")
    assert refused.exit_code == 1
    assert "conflicts in README.md: merge aborted, nothing changed" in refused.output
    assert (squad.root / "README.md").read_text() == "theirs\n"
    assert git(squad.root, "status", "--porcelain", "--untracked-files=no") == ""


def test_failed_setup_posts_blocked_with_the_reason(squad: SquadPaths, tmp_path: Path, fast: Fast) -> None:
    add_plan(squad, 1, "api")
    settings = fast("true").with_overrides(setup_run=("exit 4",))
    assert launch(squad, settings) == {"agent-1-api": st.FAILED}
    status, task = _last_status(squad, "agent-1-api")
    assert status is Status.BLOCKED
    assert "set-up command `exit 4` exited with code 4" in task


# -- a launcher killed with -9 --------------------------------------------------------------


def test_launcher_killed_with_9_then_stop_and_resume(squad: SquadPaths, tmp_path: Path) -> None:
    add_plan(squad, 1, "api")
    agent = script(
        tmp_path,
        "orphan",
        "if [ -f resume-me ]; then echo resumed > resumed.txt; exit 0; fi\n"
        "trap 'echo term >> wip.txt; exit 0' TERM\n"
        "echo wip > wip.txt; touch resume-me\n"
        "while true; do sleep 0.1; done",
    )
    _write_config(squad, tmp_path, str(agent))
    launcher = subprocess.Popen(
        [SQUAD_BIN, "launch"], cwd=squad.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for(
            lambda: st.read_report(squad).get("agent-1-api", st.AgentReport("x")).files_changed >= 2,
            what="agent working",
        )
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(timeout=30)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        assert launcher.stderr is not None
        launcher.stderr.close()
    orphan = st.read_report(squad)["agent-1-api"].pid
    assert orphan is not None
    assert st.pid_alive(orphan)  # the agent outlived its launcher
    refused = run_squad("launch", cwd=squad.root)
    assert refused.returncode == 1
    assert "still running from an earlier launch" in refused.stderr

    stopped = run_squad("stop", cwd=squad.root)
    assert stopped.returncode == 0, stopped.stderr
    assert "agent-1-api" in stopped.stdout
    wait_for(lambda: not st.pid_alive(orphan), what="the orphan to end")
    assert git(squad.root, "show", "squad/agent-1-api:wip.txt") == "wip\nterm\n"
    data = json.loads(squad.launch_report.read_text())
    assert data["launcher"]["state"] == "stopped"
    assert data["agents"]["agent-1-api"]["state"] == st.STOPPED

    resumed = run_squad("launch", "--json", cwd=squad.root)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout) == {"agents": {"agent-1-api": "done"}}
    assert git(squad.root, "show", "squad/agent-1-api:resumed.txt") == "resumed\n"


# -- --tmux through the CLI -----------------------------------------------------------------


def _windows(socket: str, session: str) -> list[str]:
    out = subprocess.run(
        ["tmux", "-L", socket, "list-windows", "-t", session, "-F", "#{window_name}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_tmux_through_the_cli_on_a_private_socket(squad: SquadPaths, tmp_path: Path) -> None:
    add_plan(squad, 1, "api")
    add_plan(squad, 2, "web")
    socket = f"squad-cli-{tmp_path.name}"
    agent = script(tmp_path, "tmuxcli", 'echo "up $AGENT_ID $PARALLEL_MODE"; echo t > t.txt; exec sleep 60')
    _write_config(
        squad, tmp_path, str(agent), f"  tmux_socket: {socket}", "  tmux_session: sqcli", "  monitor_cmd: sleep 60"
    )
    try:
        opened = run_squad("launch", "--tmux", "--json", "1", cwd=squad.root)
        assert opened.returncode == 0, opened.stderr
        assert json.loads(opened.stdout)["attach"] == f"tmux -L {socket} attach -t sqcli"
        assert _windows(socket, "sqcli") == ["monitor", "agent-1-api"]
        wait_for(lambda: "up agent-1-api true" in _text(squad.logs / "agent-1-api.log"), what="output in the log")
        twice = run_squad("launch", "--tmux", "1", cwd=squad.root)
        assert twice.returncode == 1
        assert "still running" in twice.stderr
        assert run_squad("stop", cwd=squad.root).returncode == 0
        assert git(squad.root, "show", "squad/agent-1-api:t.txt") == "t\n"
        # the session (and its monitor) is still there: a second launch adds windows to it
        again = run_squad("launch", "--tmux", cwd=squad.root)
        assert again.returncode == 0, again.stderr
        assert sorted(_windows(socket, "sqcli")) == ["agent-1-api", "agent-2-web", "monitor"]
        stopped = run_squad("stop", cwd=squad.root)
        assert "agent-2-web" in stopped.stdout
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


# -- never lose work ------------------------------------------------------------------------


def test_no_code_path_forces_a_removal() -> None:
    source = Path(__file__).resolve().parents[2] / "squad" / "launch"
    for module in source.glob("*.py"):
        code = "\n".join(line for line in module.read_text().splitlines() if not line.lstrip().startswith("#"))
        assert '"--force"' not in code and '"-f"' not in code, module
        assert '"-D"' not in code and '"--delete"' not in code, module
        assert "rmtree" not in code, module


def test_launch_refuses_a_name_whose_role_does_not_match(squad: SquadPaths, fast: Fast) -> None:
    add_plan(squad, 1, "api")
    with pytest.raises(SquadError, match="agent 1 is agent-1-api, not agent-1-web"):
        launch(squad, fast("true"), ("agent-1-web",))
    assert launch(squad, fast("true"), ("agent-1-api",)) == {"agent-1-api": st.DONE}


def test_stop_never_commits_in_the_main_checkout_for_an_entry_without_worktree(
    squad: SquadPaths, runner: CliRunner
) -> None:
    (squad.root / "mine.txt").write_text("the user's own work\n")
    st.update_agent(squad, "agent-1-api", state=st.RUNNING, pid=None, worktree="")  # a hand-edited launch.json
    before = git(squad.root, "rev-parse", "HEAD")
    result = invoke(runner, "stop")
    assert result.exit_code == 0
    assert git(squad.root, "rev-parse", "HEAD") == before
    assert "?? mine.txt" in git(squad.root, "status", "--porcelain")
    assert st.read_report(squad)["agent-1-api"].state == st.STOPPED


def test_a_second_launch_headless_or_tmux_is_refused_while_one_runs(squad: SquadPaths, tmp_path: Path) -> None:
    add_plan(squad, 1, "api")
    add_plan(squad, 2, "web")
    _write_config(squad, tmp_path, str(script(tmp_path, "slow", "echo w > w.txt\nexec sleep 60")), "  max_parallel: 1")
    launcher = subprocess.Popen([SQUAD_BIN, "launch"], cwd=squad.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: st.launcher_pid(squad) is not None and bool(st.read_report(squad)), what="launcher up")
        for args in (("launch",), ("launch", "2"), ("launch", "--tmux", "2")):
            second = run_squad(*args, cwd=squad.root)
            assert second.returncode == 1, (args, second.stderr)
            assert "squad launch is already running" in second.stderr
        assert run_squad("stop", cwd=squad.root).returncode == 0
        launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.communicate()
    assert {r.state for r in st.read_report(squad).values()} == {st.STOPPED}


def test_clean_says_why_a_squash_merged_branch_is_kept(
    squad: SquadPaths, tmp_path: Path, fast: Fast, runner: CliRunner
) -> None:
    add_plan(squad, 1, "api", owns=("one.txt",))
    launch(squad, fast(str(script(tmp_path, "one", "echo one > one.txt"))))
    assert invoke(runner, "merge", "1", "--squash").exit_code == 0
    for _ in range(2):
        cleaned = invoke(runner, "clean")
        assert cleaned.exit_code == 0
        assert "agent-1-api: squash-merged, so git does not see squad/agent-1-api as merged: kept" in cleaned.output
    assert "squad/agent-1-api" in git(squad.root, "branch", "--list")
