"""Fencing tokens after the write: Squad-Fence trailers on commits, checked by squad review and
squad merge, in a real repository with squad's hooks installed and an agent's worktree branch."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from squad.leases import locks
from squad.paths import SquadPaths
from squad.protocol.times import now
from tests.conftest import git, run_squad

SHARED = "shared/types.ts"


@pytest.fixture
def worktree(squad: SquadPaths, tmp_path: Path) -> Path:
    """Agent 1's branch ``squad/agent-1-api`` in its own worktree, squad's git hooks installed."""
    result = run_squad("hooks", "install", "--git", "--fence", cwd=squad.root)
    assert result.returncode == 0, result.stderr
    tree = tmp_path / "wt-agent-1"
    git(squad.root, "worktree", "add", "-q", "-b", "squad/agent-1-api", str(tree))
    return tree


def commit(paths: SquadPaths, tree: Path, agent: str, message: str, *extra: str, at: str | None = None) -> str:
    """Write SHARED in the worktree and commit it as ``agent`` (git runs squad's hooks)."""
    (tree / "shared").mkdir(exist_ok=True)
    (tree / SHARED).write_text(f"{message}\n")
    git(tree, "add", SHARED)
    env = {"AGENT_ID": agent, "SQUAD_ROOT": str(paths.root)}
    if at is not None:
        env["GIT_COMMITTER_DATE"] = at
    result = run_squad_git(tree, env, "commit", "-q", "-m", message, *extra)
    assert result.returncode == 0, result.stderr
    return git(tree, "log", "-1", "--format=%B")


def run_squad_git(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True)


def test_a_commit_carries_the_token_of_its_lease_and_merges(squad: SquadPaths, worktree: Path) -> None:
    lease = locks.acquire(squad, "agent-1-api", SHARED)
    message = commit(squad, worktree, "agent-1-api", "types for the API")
    assert f"Squad-Fence: {SHARED}={lease.token}" in message
    shown = run_squad("fence", "--agent", "agent-1-api", cwd=worktree, env={"SQUAD_ROOT": str(squad.root)})
    assert shown.stdout == ""  # nothing staged any more
    locks.release(squad, "agent-1-api", SHARED)
    merged = run_squad("merge", "agent-1", cwd=squad.root)
    assert merged.returncode == 0, merged.stderr
    assert (squad.root / SHARED).exists()


def test_a_commit_without_a_token_is_refused_by_review_and_merge(squad: SquadPaths, worktree: Path) -> None:
    # No lease: the pre-commit guard would refuse, so the agent skips it (prepare-commit-msg still
    # runs under --no-verify, and finds no lease to name).
    commit(squad, worktree, "agent-1-api", "skipped the hooks", "--no-verify")
    review = json.loads(run_squad("review", "--json", "--no-tests", cwd=squad.root).stdout)["branches"][0]
    assert review["passes"] is False, review
    assert any("with no Squad-Fence token" in p and SHARED in p for p in review["problems"]), review["problems"]
    refused = run_squad("merge", "agent-1", cwd=squad.root)
    assert refused.returncode == 1 and "fencing:" in refused.stderr


def test_a_token_superseded_before_the_commit_is_stale(squad: SquadPaths, worktree: Path) -> None:
    mine = locks.acquire(squad, "agent-1-api", SHARED)
    locks.release(squad, "agent-1-api", SHARED)
    theirs = locks.acquire(squad, "agent-2-web", SHARED)  # the lease went on while agent 1 was paused
    later = (now() + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    trailer = f"Squad-Fence: {SHARED}={mine.token}"
    commit(squad, worktree, "agent-1-api", f"late edit\n\n{trailer}", "--no-verify", at=later)
    refused = run_squad("merge", "agent-1", cwd=squad.root)
    assert refused.returncode == 1
    assert f"with token {mine.token}, stale since agent-2-web was granted {SHARED} (token {theirs.token})" in (
        refused.stderr
    )


def test_a_token_never_granted_is_refused(squad: SquadPaths, worktree: Path) -> None:
    commit(squad, worktree, "agent-1-api", f"forged\n\nSquad-Fence: {SHARED}=999", "--no-verify")
    refused = run_squad("merge", "agent-1", cwd=squad.root)
    assert refused.returncode == 1 and "token 999 was never granted to agent-1-api" in refused.stderr


def test_owned_paths_need_no_token(squad: SquadPaths, worktree: Path) -> None:
    from tests.launch.conftest import add_plan

    add_plan(squad, 1, "api", owns=("shared/",))
    commit(squad, worktree, "agent-1-api", "my own file", "--no-verify")
    assert run_squad("merge", "agent-1", cwd=squad.root).returncode == 0
