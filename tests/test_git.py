"""``squad.git``: every git call goes through one place, on real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from squad import git
from tests.conftest import git as run_git


def test_staged_paths_list_both_sides_of_a_rename_and_odd_names(repo: Path) -> None:
    (repo / "a.txt").write_text("a\n")
    run_git(repo, "add", "a.txt")
    run_git(repo, "commit", "-q", "-m", "a")
    run_git(repo, "mv", "a.txt", "b.txt")
    odd = "spaced name é.txt"
    (repo / odd).write_text("x\n")
    run_git(repo, "add", odd)
    assert sorted(git.staged_paths(repo)) == sorted(["a.txt", "b.txt", odd])


def test_errors_name_gits_reason_and_settings_read_as_git_does(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(git.GitError, match="fatal"):
        git.run(repo, "rev-parse", "--verify", "no-such-ref")
    assert not git.succeeds(repo, "rev-parse", "--verify", "no-such-ref")
    assert git.config_get(repo, "core.hooksPath") is None
    run_git(repo, "config", "core.hooksPath", ".githooks")
    assert git.config_get(repo, "core.hooksPath") == ".githooks"
    assert git.top(repo / ".") == repo.resolve()
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git.listed_files(outside) is None  # no repository: the caller walks the folder itself
