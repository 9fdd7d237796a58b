"""Finding the squad from anywhere, and the path-safety rules of repo_relative."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from squad.errors import NotInitialised, SquadError
from squad.paths import SquadPaths, find_root, repo_relative, require_paths
from tests.conftest import git


def test_root_found_from_a_subfolder(squad: SquadPaths) -> None:
    deep = squad.root / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == squad.root


def test_not_initialised_says_run_init(tmp_path: Path) -> None:
    with pytest.raises(NotInitialised, match="squad init"):
        require_paths(tmp_path)


def test_linked_worktree_uses_the_main_checkout_squad(squad: SquadPaths, tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    git(squad.root, "worktree", "add", "-q", "-b", "squad/agent-1", str(worktree))
    assert find_root(worktree) == squad.root


def test_squad_root_env_overrides(squad: SquadPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUAD_ROOT", str(squad.root))
    assert find_root(tmp_path) == squad.root


def test_repo_relative_accepts_and_normalises(squad: SquadPaths) -> None:
    (squad.root / "shared" / "types").mkdir(parents=True)
    root = squad.root
    assert repo_relative("shared/types/a.ts", squad, root) == "shared/types/a.ts"
    assert repo_relative("./shared//types/../types/a.ts", squad, root) == "shared/types/a.ts"
    assert repo_relative(str(root / "shared/types/a.ts"), squad, root) == "shared/types/a.ts"
    assert repo_relative("/shared/types/a.ts", squad, root) == "shared/types/a.ts"  # ai-agent-hub style
    assert repo_relative("shared/types", squad, root) == "shared/types/"  # a folder
    assert repo_relative("a.ts", squad, root / "shared") == "shared/a.ts"  # relative to cwd
    assert repo_relative("@db-migrations", squad, root) == "@db-migrations"


@pytest.mark.parametrize(
    "bad", ["../outside.txt", "shared/../../x", "/etc/passwd", "", "@bad name", ".squad/config.yaml"]
)
def test_repo_relative_refuses(squad: SquadPaths, bad: str) -> None:
    with pytest.raises(SquadError):
        repo_relative(bad, squad, squad.root)


def test_repo_relative_refuses_symlink_out(squad: SquadPaths, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, squad.root / "link")
    with pytest.raises(SquadError, match="symlink"):
        repo_relative("link/file.txt", squad, squad.root)
