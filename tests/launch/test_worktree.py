from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from squad.errors import Refused
from squad.launch.worktree import (
    commit_all,
    commits_ahead,
    copy_untracked,
    ensure_worktree,
    find_worktree,
    is_dirty,
    merge_branch,
    remove_worktree,
    untracked_only,
)
from squad.paths import find_root
from tests.conftest import git

AT = datetime(2026, 11, 22, 14, 5, tzinfo=UTC)


def test_worktree_is_created_reused_and_committed(repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "wt" / "agent-1-api"
    assert ensure_worktree(repo, folder, "squad/agent-1-api", "main")
    assert (folder / "README.md").exists()
    assert not ensure_worktree(repo, folder, "squad/agent-1-api", "main")
    (folder / "api.py").write_text("x = 1\n")
    (folder / ".env").write_text("SECRET=1\n")
    sha = commit_all(folder, "agent-1-api", AT, exclude=(".env",))
    assert sha is not None
    assert commit_all(folder, "agent-1-api", AT, exclude=(".env",)) is None  # nothing new
    log = git(repo, "log", "-1", "--format=%s", "squad/agent-1-api").strip()
    assert log == "squad: work of agent-1-api at 2026-11-22T14:05:00Z"
    files = git(repo, "ls-tree", "-r", "--name-only", "squad/agent-1-api").split()
    assert "api.py" in files
    assert ".env" not in files
    assert commits_ahead(repo, "main", "squad/agent-1-api") == [f"{sha[:7]} {log}"]


def test_existing_branch_gets_a_worktree_keeping_its_commits(repo: Path, tmp_path: Path) -> None:
    first = tmp_path / "wt" / "a"
    ensure_worktree(repo, first, "squad/agent-1-api", "main")
    (first / "kept.txt").write_text("kept\n")
    commit_all(first, "agent-1-api", AT)
    remove_worktree(repo, first)
    assert find_worktree(repo, "squad/agent-1-api") is None
    second = tmp_path / "wt" / "b"
    assert ensure_worktree(repo, second, "squad/agent-1-api", "main")
    assert (second / "kept.txt").read_text() == "kept\n"


def test_dirty_worktree_is_never_removed(repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "wt" / "agent-1-api"
    ensure_worktree(repo, folder, "squad/agent-1-api", "main")
    (folder / "unsaved.txt").write_text("precious\n")
    assert is_dirty(folder)
    with pytest.raises(Refused, match="uncommitted"):
        remove_worktree(repo, folder)
    assert (folder / "unsaved.txt").read_text() == "precious\n"


def test_copy_untracked_never_overwrites(repo: Path, tmp_path: Path) -> None:
    (repo / ".env").write_text("A=1\n")
    folder = tmp_path / "wt" / "x"
    ensure_worktree(repo, folder, "squad/agent-1-x", "main")
    assert copy_untracked(repo, folder, (".env", "missing.txt")) == [".env"]
    (folder / ".env").write_text("A=2\n")
    assert copy_untracked(repo, folder, (".env",)) == []
    assert (folder / ".env").read_text() == "A=2\n"


def test_conflicting_merge_is_aborted(repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "wt" / "x"
    ensure_worktree(repo, folder, "squad/agent-1-x", "main")
    (folder / "README.md").write_text("agent version\n")
    commit_all(folder, "agent-1-x", AT)
    (repo / "README.md").write_text("main version\n")
    git(repo, "commit", "-qam", "main edit")
    before = git(repo, "rev-parse", "HEAD")
    for squash in (False, True):
        with pytest.raises(Refused, match=r"conflicts in README\.md"):
            merge_branch(repo, "squad/agent-1-x", squash=squash, message="m")
        assert git(repo, "rev-parse", "HEAD") == before
        assert git(repo, "status", "--porcelain") == ""
        assert (repo / "README.md").read_text() == "main version\n"


def test_find_root_from_a_worktree_uses_the_main_squad(repo: Path, tmp_path: Path) -> None:
    (repo / ".squad").mkdir()
    folder = tmp_path / "wt" / "x"
    ensure_worktree(repo, folder, "squad/agent-1-x", "main")
    assert find_root(folder) == repo.resolve()


def test_only_untracked_setup_files_are_kept_out_of_commits(repo: Path) -> None:
    (repo / "config").mkdir()
    (repo / "config" / "app.env").write_text("tracked\n")
    (repo / ".envrc").write_text("tracked\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "tracked config")
    assert untracked_only(repo, (".env", ".envrc", "config/", "local/")) == (".env", "local/")
