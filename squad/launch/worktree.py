"""What squad launch does with git (through ``squad.git``): worktrees, agent branches, commits, merges.

Never loses work: changes are committed before anything stops or is removed, a worktree with
uncommitted changes is never removed, and nothing here passes ``--force``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from squad import git as git_module
from squad.errors import Refused, SquadError
from squad.protocol.times import format_time

BRANCH_PREFIX = "squad/"


def branch_of(agent: str) -> str:
    return f"{BRANCH_PREFIX}{agent}"


def run_git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return git_module.run(cwd, *args, check=check)


def require_repo(root: Path) -> str:
    """The checked-out branch of ``root``; a clear error outside a git repository or before the
    first commit (worktrees branch from it)."""
    if run_git(root, "rev-parse", "--is-inside-work-tree", check=False).stdout.strip() != "true":
        raise SquadError(f"{root} is not a git repository: squad launch runs agents in git worktrees (git init first)")
    if not ok(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"):
        raise SquadError(f"{root} has no commit yet: commit once first (agent worktrees branch from it)")
    return current_branch(root)


def git(cwd: Path, *args: str) -> str:
    return git_module.output(cwd, *args)


def ok(cwd: Path, *args: str) -> bool:
    return git_module.succeeds(cwd, *args)


def branch_exists(repo: Path, branch: str) -> bool:
    return ok(repo, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}")


def current_branch(repo: Path) -> str:
    name = run_git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).stdout.strip()
    return name or git(repo, "rev-parse", "HEAD").strip()


def head(cwd: Path) -> str:
    return git(cwd, "rev-parse", "HEAD").strip()


@dataclass(frozen=True)
class Worktree:
    path: Path
    branch: str | None
    head: str | None


def list_worktrees(repo: Path) -> list[Worktree]:
    out: list[Worktree] = []
    path: Path | None = None
    branch: str | None = None
    sha: str | None = None
    for line in [*git(repo, "worktree", "list", "--porcelain").splitlines(), ""]:
        if line.startswith("worktree "):
            path = Path(line.removeprefix("worktree "))
        elif line.startswith("HEAD "):
            sha = line.removeprefix("HEAD ")
        elif line.startswith("branch "):
            branch = line.removeprefix("branch ").removeprefix("refs/heads/")
        elif not line and path is not None:
            out.append(Worktree(path, branch, sha))
            path, branch, sha = None, None, None
    return out


def find_worktree(repo: Path, branch: str) -> Worktree | None:
    return next((w for w in list_worktrees(repo) if w.branch == branch), None)


def ensure_worktree(repo: Path, folder: Path, branch: str, base: str) -> bool:
    """A worktree at ``folder`` on ``branch``, created from ``base`` when new; True when created.

    An existing worktree of ``branch`` is reused wherever it is (a resumed launch); an existing
    branch without a worktree gets one, keeping every commit already on it.
    """
    existing = find_worktree(repo, branch)
    if existing is not None and existing.path.is_dir():
        return False
    run_git(repo, "worktree", "prune")
    if folder.exists() and any(folder.iterdir()):
        raise SquadError(
            f"{folder} exists and is not the worktree of {branch}: move it away or set launch.worktree_dir"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    if branch_exists(repo, branch):
        git(repo, "worktree", "add", str(folder), branch)
    else:
        git(repo, "worktree", "add", "-b", branch, str(folder), base)
    return True


def status_lines(worktree: Path) -> list[str]:
    return [line for line in git(worktree, "status", "--porcelain", "--untracked-files=all").splitlines() if line]


def status_path(line: str) -> str:
    """The path of one ``git status --porcelain`` line (the new name of a rename)."""
    return line[3:].rsplit(" -> ", maxsplit=1)[-1].strip('"')


def _under(path: str, names: tuple[str, ...]) -> bool:
    return any(path == n.rstrip("/") or path.startswith(n.rstrip("/") + "/") for n in names)


def pending_changes(worktree: Path, setup: tuple[str, ...] = ()) -> list[str]:
    """Uncommitted changes in ``worktree``, leaving out untracked set-up copies (``.env``)."""
    return [line for line in status_lines(worktree) if not (line.startswith("??") and _under(status_path(line), setup))]


def is_dirty(worktree: Path, setup: tuple[str, ...] = ()) -> bool:
    return bool(pending_changes(worktree, setup))


def commit_message(agent: str, at: datetime) -> str:
    return f"squad: work of {agent} at {format_time(at)}"


@dataclass(frozen=True)
class Committed:
    """A commit of an agent's leftover work: its sha, and why the hooks were skipped if they were."""

    sha: str
    unguarded: str | None = None  # the refusal of the pre-commit hook, when it was committed with --no-verify


def commit_all(worktree: Path, agent: str, at: datetime, exclude: tuple[str, ...] = ()) -> str | None:
    """Commit every change in ``worktree`` (new files too) to its branch; the new sha, or None.

    ``exclude`` names files set-up copied in (``.env``): they stay out of the branch. The commit
    runs the pre-commit hooks (squad's guard among them); see ``commit_work`` for what happens
    when they refuse.
    """
    done = commit_work(worktree, agent, at, exclude)
    return done.sha if done is not None else None


def commit_work(worktree: Path, agent: str, at: datetime, exclude: tuple[str, ...] = ()) -> Committed | None:
    """Commit every change in ``worktree``, hooks first; None when there was nothing to commit.

    Work is never lost: when a pre-commit hook refuses (squad's guard: a path outside the agent's
    rights), the work is committed with ``--no-verify`` all the same and the refusal is returned
    in ``unguarded``, for the caller to record.
    """
    if not worktree.is_dir():
        return None
    pathspec = ["--", ".", *(f":(exclude){p}" for p in exclude)]
    git(worktree, "add", "-A", *pathspec)
    if ok(worktree, "diff", "--cached", "--quiet"):
        return None
    message = commit_message(agent, at)
    result = run_git(worktree, "commit", "-q", "-m", message, check=False)
    if result.returncode == 0:
        return Committed(head(worktree))
    refusal = " ".join((result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}").split())
    git(worktree, "add", "-A", *pathspec)  # a hook may have changed the index
    git(worktree, "commit", "-q", "--no-verify", "-m", f"{message} (unguarded: pre-commit refused)")
    return Committed(head(worktree), refusal[:500])


def commits_ahead(repo: Path, base: str, branch: str) -> list[str]:
    """One line per commit on ``branch`` and not on ``base``: ``<short sha> <subject>``."""
    out = git(repo, "log", "--format=%h %s", f"{base}..{branch}")
    return [line for line in out.splitlines() if line]


def diffstat(repo: Path, base: str, branch: str) -> str:
    return git(repo, "diff", "--stat", f"{base}...{branch}").rstrip()


def changed_paths(repo: Path, base: str, branch: str) -> list[str]:
    out = git(repo, "diff", "--name-only", "--no-renames", f"{base}...{branch}")
    return [line for line in out.splitlines() if line]


def is_merged(repo: Path, branch: str, into: str = "HEAD") -> bool:
    return ok(repo, "merge-base", "--is-ancestor", branch, into)


@dataclass(frozen=True)
class MergeOutcome:
    commit: str
    squash: bool


def merge_branch(repo: Path, branch: str, *, squash: bool, message: str) -> MergeOutcome:
    """Merge ``branch`` into the checked-out branch of ``repo``; on conflict abort and refuse."""
    # squad's own files (.squad/, when tracked) change all the time while agents work: not the user's edits
    pending = [
        status_path(line)
        for line in git(repo, "status", "--porcelain", "--untracked-files=no").splitlines()
        if line.strip() and not _under(status_path(line), (".squad/",))
    ]
    if pending:
        first = pending[0]
        raise Refused(
            f"the current checkout has uncommitted changes ({first}, ...): commit or stash them before merging"
        )
    before = head(repo)
    args = ["merge", "--squash", branch] if squash else ["merge", "--no-ff", "--no-edit", "-m", message, branch]
    result = run_git(repo, *args, check=False)
    if result.returncode != 0:
        conflicted = [p for p in git(repo, "diff", "--name-only", "--diff-filter=U").splitlines() if p]
        if squash:
            # --squash leaves no MERGE_HEAD to abort: put back exactly the files the merge touched.
            run_git(repo, "reset", "--merge", check=False)
        else:
            run_git(repo, "merge", "--abort", check=False)
        if conflicted:
            raise Refused(
                f"merging {branch} conflicts in {', '.join(conflicted)}: merge aborted, nothing changed; "
                f"resolve by hand (git merge {branch}) or ask the agent to rebase"
            )
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise Refused(f"git refused to merge {branch}: {detail[0] if detail else 'unknown reason'}")
    if squash:
        if ok(repo, "diff", "--cached", "--quiet"):
            raise Refused(f"{branch} has nothing to merge")
        git(repo, "commit", "-q", "--no-verify", "-m", message)
    after = head(repo)
    if after == before:
        raise Refused(f"{branch} is already merged: nothing to do")
    return MergeOutcome(after, squash)


def folder_size(folder: Path) -> int:
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += (Path(base) / name).lstat().st_size
            except OSError:
                continue
    return total


def remove_worktree(repo: Path, folder: Path, setup: tuple[str, ...] = ()) -> None:
    """``git worktree remove`` (never ``--force``): refused while it holds uncommitted changes.

    Untracked set-up copies (``setup``, e.g. ``.env``) are deleted first, but only when they are
    still identical to the main checkout's file; a changed copy keeps the worktree.
    """
    if not folder.exists():
        run_git(repo, "worktree", "prune")
        return
    if is_dirty(folder, setup):
        raise Refused(f"{folder} has uncommitted changes: not removed (commit them or run `squad stop` first)")
    copies = sorted({status_path(line) for line in status_lines(folder) if line.startswith("??")})
    for name in copies:
        if not filecmp_same(repo / name, folder / name):
            raise Refused(f"{folder / name} differs from {repo / name}: worktree not removed (keep or copy it back)")
    for name in copies:
        (folder / name).unlink()
    git(repo, "worktree", "remove", str(folder))


def filecmp_same(a: Path, b: Path) -> bool:
    """True when both are regular files with the same bytes."""
    import filecmp

    if a.is_symlink() or b.is_symlink():
        return False
    return a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)


def delete_merged_branch(repo: Path, branch: str) -> bool:
    """``git branch -d``: git itself refuses a branch that is not merged."""
    return ok(repo, "branch", "-d", branch)


def untracked_only(repo: Path, names: tuple[str, ...]) -> tuple[str, ...]:
    """The set-up files git does not track: only those are kept out of agent commits."""
    if not names:
        return ()
    tracked = set(git(repo, "ls-files", "--", *names).splitlines())
    return tuple(
        n for n in names if n.rstrip("/") not in tracked and not any(t.startswith(n.rstrip("/") + "/") for t in tracked)
    )


def copy_untracked(source_root: Path, worktree: Path, names: tuple[str, ...]) -> list[str]:
    """Copy set-up files (``.env``) that git does not carry into a fresh worktree; never overwrite."""
    copied = []
    for name in names:
        src = source_root / name
        dst = worktree / name
        if not src.exists() or dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst)
        copied.append(name)
    return copied
