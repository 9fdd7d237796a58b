"""``squad lock / unlock / locks / check`` through click and as real processes."""

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
from squad.protocol import events as ev
from tests.conftest import SQUAD_BIN, git, invoke, run_squad


def test_lock_unlock_round_trip(squad: SquadPaths, runner: CliRunner) -> None:
    result = invoke(runner, "lock", "shared/types/metrics.ts", "--agent", "agent-1-frontend", "--reason", "types")
    assert result.exit_code == 0, result.output
    assert "locked shared/types/metrics.ts for agent-1-frontend until" in result.output
    assert (squad.locks / "shared" / "types" / "metrics.ts.lock").is_file()
    result = invoke(runner, "unlock", "shared/types/metrics.ts", "--agent", "1")
    assert result.exit_code == 0, result.output
    assert not (squad.locks / "shared" / "types" / "metrics.ts.lock").exists()  # its folders go on the timer


def test_agent_defaults_to_env(squad: SquadPaths, runner: CliRunner) -> None:
    result = invoke(runner, "lock", "@git", env={"AGENT_ID": "agent-3-ml"})
    assert result.exit_code == 0, result.output
    assert "agent-3-ml" in result.output
    result = invoke(runner, "lock", "@deploy")
    assert result.exit_code == 2
    assert "AGENT_ID" in result.output


def test_lock_held_exits_1_with_holder_since_until_why(squad: SquadPaths) -> None:
    run_squad("lock", "shared/", "--agent", "agent-2-backend", "--reason", "refactor", cwd=squad.root, check=True)
    result = run_squad("lock", "shared/types/user.ts", "--agent", "agent-1", cwd=squad.root)
    assert result.returncode == 1
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith("squad: error:")
    for word in ("agent-2-backend", "since", "until", "refactor"):
        assert word in line
    assert "Traceback" not in result.stderr


def test_lock_wait_and_renew(squad: SquadPaths, runner: CliRunner) -> None:
    assert invoke(runner, "lock", "a.txt", "--agent", "2", "--ttl", "60").exit_code == 0
    result = invoke(runner, "lock", "a.txt", "--agent", "1", "--wait", "0.2")
    assert result.exit_code == 1
    waits = [e for e in ev.read_events(squad.events) if e.kind == ev.LOCK_WAIT]
    assert len(waits) == 1
    assert waits[0].data["waited_s"] >= 0.1
    result = invoke(runner, "lock", "a.txt", "--agent", "2", "--renew", "--ttl", "600")
    assert result.exit_code == 0
    assert "renewed" in result.output
    assert invoke(runner, "lock", "b.txt", "--agent", "2", "--renew").exit_code == 1
    assert invoke(runner, "lock", "b.txt", "--agent", "2", "--ttl", "0").exit_code == 2


def test_unlock_errors_and_force(squad: SquadPaths, runner: CliRunner) -> None:
    assert invoke(runner, "unlock", "a.txt", "--agent", "1").exit_code == 1
    assert invoke(runner, "lock", "a.txt", "--agent", "2").exit_code == 0
    result = invoke(runner, "unlock", "a.txt", "--agent", "1")
    assert result.exit_code == 1
    assert "agent-2" in result.output
    result = invoke(runner, "unlock", "a.txt", "--force")
    assert result.exit_code == 0, result.output
    assert "broke a.txt held by agent-2" in result.output
    [event] = [e for e in ev.read_events(squad.events) if e.kind == ev.LOCK_BROKEN]
    assert event.data == {"by": "human", "forced": True, "moved_to": event.data["moved_to"]}


def test_locks_lists_json_and_breaks_stale(squad: SquadPaths, runner: CliRunner) -> None:
    assert invoke(runner, "locks").output.strip() == "no leases"
    invoke(runner, "lock", "shared/", "--agent", "1", "--reason", "r")
    (squad.locks / "old.py.lock").write_text("LOCKED_BY: agent-2\nLOCKED_AT: 2020-01-01T00:00:00Z\n")
    result = invoke(runner, "locks", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["path"] for d in data] == ["old.py", "shared/"]
    keys = {"path", "agent", "acquired_at", "expires_at", "ttl_s", "reason", "host", "pid", "stale", "stale_reason"}
    assert keys <= data[0].keys()
    assert data[0]["stale"] is True
    assert "expired" in data[0]["stale_reason"]
    assert data[1]["stale"] is False
    plain = invoke(runner, "locks").output
    assert "STALE" in plain
    assert "shared/" in plain
    result = invoke(runner, "locks", "--break-stale")
    assert "broke old.py held by agent-2" in result.output
    assert [d["path"] for d in json.loads(invoke(runner, "locks", "--json").output)] == ["shared/"]


def test_path_safety(squad: SquadPaths, repo: Path, tmp_path: Path, runner: CliRunner) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "escape").symlink_to(outside)
    (repo / "src").mkdir()
    cases = ["../x.txt", "src/../../x.txt", str(outside / "x.txt"), "escape/x.txt", ".squad/config.yaml"]
    for bad in cases:
        result = invoke(runner, "lock", bad, "--agent", "1")
        assert result.exit_code == 2, (bad, result.output)
        assert result.output.count("\n") == 1
        assert result.output.startswith("squad: error:")
    assert not list(squad.locks.glob("**/*.lock"))
    result = invoke(runner, "lock", str(repo / "src" / "main.py"), "--agent", "1")
    assert result.exit_code == 0, result.output
    assert (squad.locks / "src" / "main.py.lock").is_file()
    result = invoke(runner, "lock", "src", "--agent", "2")  # an existing folder gets its trailing /
    assert result.exit_code == 1
    assert "src/ conflicts with src/main.py" in result.output


def test_lock_from_subfolder_is_repo_relative(squad: SquadPaths, repo: Path) -> None:
    (repo / "shared" / "types").mkdir(parents=True)
    result = run_squad("lock", "metrics.ts", "--agent", "1", cwd=repo / "shared" / "types")
    assert result.returncode == 0, result.stderr
    assert (squad.locks / "shared" / "types" / "metrics.ts.lock").is_file()


CLI_WORKER = textwrap.dedent(
    """
    import subprocess, sys
    from pathlib import Path

    squad, agent, cycles, counter = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    for _ in range(cycles):
        subprocess.run([squad, "lock", "shared/counter.txt", "--agent", agent, "--wait", "120"], check=True,
                       capture_output=True)
        counter.write_text(str(int(counter.read_text()) + 1))
        subprocess.run([squad, "unlock", "shared/counter.txt", "--agent", agent], check=True, capture_output=True)
    """
)

LIBRARY_WORKER = textwrap.dedent(
    """
    import random, sys, time
    from pathlib import Path
    from squad.leases import locks
    from squad.paths import SquadPaths

    paths, agent, counter, stop = SquadPaths(Path(sys.argv[1])), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    grants = 0
    while grants < 5 or (not stop.exists() and grants < 500):  # keep competing while the CLI workers run
        locks.acquire(paths, agent, "shared/counter.txt", wait_s=120)
        counter.write_text(str(int(counter.read_text()) + 1))
        grants += 1
        locks.release(paths, agent, "shared/counter.txt")
        time.sleep(random.uniform(0.05, 0.15))  # room for the CLI workers, whose --wait looks every 50 ms
    print(grants)
    """
)


@pytest.mark.slow
def test_cli_and_library_processes_never_double_grant(squad: SquadPaths, tmp_path: Path) -> None:
    """Three processes cycling ``squad lock --wait`` / ``squad unlock`` and two looping over the library
    take turns on one file; the critical section is a read-modify-write that loses counts if two hold it."""
    counter = tmp_path / "counter.txt"
    counter.write_text("0")
    stop = tmp_path / "stop"
    cli_script = tmp_path / "cli_worker.py"
    cli_script.write_text(CLI_WORKER)
    library_script = tmp_path / "library_worker.py"
    library_script.write_text(LIBRARY_WORKER)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
    library = [
        subprocess.Popen(
            [sys.executable, str(library_script), str(squad.root), f"agent-{n}", str(counter), str(stop)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (4, 5)
    ]
    cycles = 3
    clis = [
        subprocess.Popen(
            [sys.executable, str(cli_script), SQUAD_BIN, f"agent-{n}", str(cycles), str(counter)],
            cwd=squad.root,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2, 3)
    ]
    for proc in clis:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    stop.touch()
    grants = 3 * cycles
    for proc in library:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        grants += int(out)
    assert int(counter.read_text()) == grants
    waits = [e for e in ev.read_events(squad.events) if e.kind == ev.LOCK_WAIT]
    assert waits and all(e.data["granted"] for e in waits)
    assert not list(squad.locks.glob("**/*.lock"))


# -- squad check --------------------------------------------------------------------------------

MATRIX = """\
frontend/:      {owner: agent-1-frontend, access: EXCLUSIVE}
backend/:       {owner: agent-2-backend,  access: EXCLUSIVE}
shared/:        {owner: null,             access: SEQUENTIAL}
migrations/:    {owner: null,             access: SEQUENTIAL, resource: "@db-migrations"}
docs/adr/:      {owner: null,             access: READONLY}
"""


def test_check_paths(squad: SquadPaths, runner: CliRunner) -> None:
    squad.ownership.write_text(MATRIX)
    ok = invoke(runner, "check", "frontend/App.tsx", "--agent", "agent-1")
    assert ok.exit_code == 0, ok.output
    result = invoke(
        runner, "check", "frontend/App.tsx", "backend/api.py", "shared/types.ts", "docs/adr/1.md", "--agent", "1"
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 3
    assert "backend/api.py" in lines[0]
    assert "exclusive" in lines[0]
    assert "agent-2-backend" in lines[0]
    assert "sequential" in lines[1]
    assert "squad lock shared/types.ts" in lines[1]
    assert "readonly" in lines[2]


def test_check_names_holder_and_resource(squad: SquadPaths, runner: CliRunner) -> None:
    squad.ownership.write_text(MATRIX)
    invoke(runner, "lock", "shared/", "--agent", "agent-2-backend")
    result = invoke(runner, "check", "shared/types.ts", "--agent", "1")
    assert result.exit_code == 1
    assert "agent-2-backend" in result.output
    invoke(runner, "lock", "migrations/001.sql", "--agent", "1")
    result = invoke(runner, "check", "migrations/001.sql", "--agent", "1")
    assert result.exit_code == 1
    assert "resource" in result.output
    assert "@db-migrations" in result.output
    invoke(runner, "lock", "@db-migrations", "--agent", "1")
    result = invoke(runner, "check", "migrations/001.sql", "--agent", "1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["allowed"] is True


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("frontend/: {owner: agent-1, access: EXCLUSIVE}\nbackend/: {owner: agent-2, access: [\n", 3),
        ("frontend/: {owner: agent-1, access: EXCLUSIVE}\nshared/: {access: SOMETIMES}\n", 2),
    ],
)
def test_check_bad_ownership_is_exit_2_with_file_and_line(
    squad: SquadPaths, runner: CliRunner, text: str, line: int
) -> None:
    squad.ownership.write_text(text)
    result = invoke(runner, "check", "frontend/x", "--agent", "1")
    assert result.exit_code == 2
    assert f"ownership.yaml:{line}:" in result.output
    assert result.output.count("\n") == 1


def test_check_needs_paths_or_staged(squad: SquadPaths, runner: CliRunner) -> None:
    result = invoke(runner, "check", "--agent", "1")
    assert result.exit_code == 2


def test_check_staged_in_repo_and_worktree(squad: SquadPaths, repo: Path, tmp_path: Path) -> None:
    squad.ownership.write_text(MATRIX)
    (repo / "frontend").mkdir()
    (repo / "frontend" / "App.tsx").write_text("x\n")
    git(repo, "add", "frontend/App.tsx")
    assert run_squad("check", "--staged", "--agent", "1", cwd=repo).returncode == 0
    assert run_squad("check", "--staged", "--agent", "2", cwd=repo).returncode == 1
    git(repo, "commit", "-q", "-m", "app")
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "agent-2", str(worktree))
    (worktree / "backend").mkdir()
    (worktree / "backend" / "api.py").write_text("x\n")
    (worktree / "shared").mkdir()
    (worktree / "shared" / "types.ts").write_text("x\n")
    git(worktree, "add", "backend/api.py", "shared/types.ts")
    result = run_squad("check", "--staged", "--agent", "agent-2-backend", cwd=worktree / "backend")
    assert result.returncode == 1
    assert result.stdout.strip().splitlines() == [
        "shared/types.ts: refused by sequential: shared/types.ts is SEQUENTIAL (shared/ from .squad/ownership.yaml:3):"
        " lock it first (fix: squad lock shared/types.ts)"
    ]
    assert run_squad("lock", "shared/types.ts", "--agent", "2", cwd=worktree).returncode == 0
    result = run_squad("check", "--staged", "--agent", "2", cwd=worktree)
    assert result.returncode == 0, result.stdout + result.stderr


def test_locks_lists_readable_leases_and_names_an_unreadable_one(squad: SquadPaths) -> None:
    run_squad("lock", "a.txt", "--agent", "1", cwd=squad.root, check=True)
    (squad.locks / "y.py.lock").write_text("locked_by: agent-2\nfiles:\n  - [y.py\n")
    result = run_squad("locks", cwd=squad.root)
    assert result.returncode == 0  # listing never stops on an unreadable file (issue 15): it names it
    assert "a.txt  agent-1" in result.stdout
    assert "y.py   UNREADABLE: .squad/locks/y.py.lock:3:" in result.stdout
    assert result.stderr.startswith("squad: warning: .squad/locks/y.py.lock:3: unreadable lease:")
    assert len(result.stderr.strip().splitlines()) == 1
    listed = run_squad("locks", "--json", cwd=squad.root)
    assert listed.returncode == 0
    assert [d["path"] for d in json.loads(listed.stdout)] == ["a.txt"]
    # unrelated commands go on; the path it stands for says how to clear it
    assert run_squad("update", "--agent", "1", "--status", "ACTIVE", cwd=squad.root).returncode == 0
    assert run_squad("lock", "b.txt", "--agent", "3", cwd=squad.root).returncode == 0
    blocked = run_squad("lock", "y.py", "--agent", "3", cwd=squad.root)
    assert blocked.returncode == 2
    assert "squad unlock --force y.py" in blocked.stderr
    assert "Traceback" not in blocked.stderr
    assert run_squad("check", "y.py", "--agent", "3", cwd=squad.root).returncode == 2
    forced = run_squad("unlock", "y.py", "--force", cwd=squad.root)
    assert forced.returncode == 0, forced.stderr
    assert run_squad("locks", cwd=squad.root).returncode == 0


def test_lock_refuses_non_finite_ttl_and_wait(squad: SquadPaths, runner: CliRunner) -> None:
    for args in (["--ttl", "nan"], ["--ttl", "inf"], ["--ttl", "1e300"], ["--wait", "nan"]):
        result = invoke(runner, "lock", "a.txt", "--agent", "1", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("squad: error:")
        assert "internal error" not in result.output
    assert not list(squad.locks.glob("**/*.lock"))


def test_check_fix_quotes_a_path_with_spaces(squad: SquadPaths, runner: CliRunner) -> None:
    result = invoke(runner, "check", "shared/my types.ts", "--agent", "1")
    assert result.exit_code == 1
    assert "(fix: squad lock 'shared/my types.ts')" in result.output


def test_check_staged_in_a_worktree_inside_the_repo_and_renames(squad: SquadPaths, repo: Path) -> None:
    squad.ownership.write_text(MATRIX)
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    worktree = repo / ".worktrees" / "agent-2"
    git(repo, "worktree", "add", "-q", "-b", "agent-2", str(worktree))
    (worktree / "backend").mkdir()
    (worktree / "backend" / "api.py").write_text("x\n")
    git(worktree, "add", "backend/api.py")
    # Regression: paths were named from the main checkout (.worktrees/agent-2/backend/api.py).
    result = run_squad("check", "--staged", "--agent", "agent-2-backend", cwd=worktree / "backend")
    assert result.returncode == 0, result.stdout + result.stderr
    assert run_squad("lock", "../shared/types.ts", "--agent", "2", cwd=worktree / "backend").returncode == 0
    assert (squad.locks / "shared" / "types.ts.lock").is_file()
    git(worktree, "commit", "-q", "-m", "api")
    (worktree / "frontend").mkdir()
    git(worktree, "mv", "backend/api.py", "frontend/api.py")
    # Regression: a rename listed only its new name, so moving a file out of another agent's folder passed.
    result = run_squad("check", "--staged", "--agent", "agent-1-frontend", cwd=worktree)
    assert result.returncode == 1
    assert result.stdout.startswith("backend/api.py: refused by exclusive")


def test_a_symlink_inside_the_repository_locks_the_file_it_reaches(
    squad: SquadPaths, repo: Path, runner: CliRunner
) -> None:
    # Regression: inner/types/metrics.ts (inner -> shared) was a second, non-conflicting lease.
    (repo / "shared" / "types").mkdir(parents=True)
    (repo / "shared" / "types" / "metrics.ts").write_text("")
    (repo / "inner").symlink_to("shared")
    assert invoke(runner, "lock", "shared/types/metrics.ts", "--agent", "1").exit_code == 0
    result = invoke(runner, "lock", "inner/types/metrics.ts", "--agent", "2")
    assert result.exit_code == 1
    assert "shared/types/metrics.ts is locked by agent-1" in result.output
    assert "shared/ conflicts" in invoke(runner, "lock", "inner", "--agent", "2").output
    result = invoke(runner, "unlock", "inner/types/metrics.ts", "--agent", "1")
    assert result.output == "unlocked shared/types/metrics.ts\n"


def test_lock_held_stays_one_line_and_control_characters_are_refused(squad: SquadPaths) -> None:
    run_squad("lock", "a.txt", "--agent", "2", "--reason", "two\nlines", cwd=squad.root, check=True)
    result = run_squad("lock", "a.txt", "--agent", "1", cwd=squad.root)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "(two lines)" in result.stderr
    bad = run_squad("lock", "a\nb.txt", "--agent", "1", cwd=squad.root)
    assert bad.returncode == 2
    assert "control character" in bad.stderr
    assert bad.stderr.count("\n") == 1
