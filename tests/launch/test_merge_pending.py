"""Merging refuses over the user's uncommitted edits, names them exactly, and ignores squad's own files."""

from __future__ import annotations

from pathlib import Path

import pytest

from squad.errors import Refused
from squad.launch.worktree import merge_branch
from tests.conftest import git


def _branch_with_a_commit(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "squad/agent-1-web")
    (repo / "web.txt").write_text("work\n")
    git(repo, "add", "web.txt")
    git(repo, "commit", "-q", "-m", "work")
    git(repo, "checkout", "-q", "main")


def test_tracked_squad_files_changing_do_not_block_a_merge(repo: Path) -> None:
    (repo / ".squad" / "comms").mkdir(parents=True)
    comm = repo / ".squad" / "comms" / "agent-1-comm.md"
    comm.write_text("Status: ACTIVE\n")
    git(repo, "add", ".squad")
    git(repo, "commit", "-q", "-m", "squad state")
    _branch_with_a_commit(repo)
    comm.write_text("Status: ACTIVE\nStatus: DONE\n")  # an agent posted meanwhile
    outcome = merge_branch(repo, "squad/agent-1-web", squash=False, message="merge web")
    assert outcome.commit and (repo / "web.txt").exists()


def test_the_users_own_edit_blocks_and_is_named_exactly(repo: Path) -> None:
    _branch_with_a_commit(repo)
    (repo / "README.md").write_text("edited\n")
    with pytest.raises(Refused, match=r"uncommitted changes \(README\.md, \.\.\.\)"):
        merge_branch(repo, "squad/agent-1-web", squash=False, message="merge web")
