"""Every git command squad runs goes through here: one environment, one error, one reading of output.

git is run with no terminal prompt and without an inherited ``GIT_DIR`` / ``GIT_WORK_TREE`` (a hook
runs with them set for the repository being committed, and squad may act on another worktree). Its
output is read as UTF-8, bad bytes replaced, so an odd file name never raises here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from squad.errors import SquadError


class GitError(SquadError):
    """A git command failed; the message carries git's own first line."""


def run(cwd: Path, *args: str, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """``git ARGS`` in ``cwd``; with ``check``, a failure raises GitError naming git's reason."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if check and result.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])} failed in {cwd}: {reason(result)}")
    return result


def output(cwd: Path, *args: str) -> str:
    return run(cwd, *args).stdout


def succeeds(cwd: Path, *args: str) -> bool:
    return run(cwd, *args, check=False).returncode == 0


def reason(result: subprocess.CompletedProcess[str]) -> str:
    """git's own reason: its ``fatal:`` / ``error:`` line when there is one (not "Preparing worktree")."""
    lines = [line.strip() for line in (result.stderr.strip() or result.stdout.strip()).splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[0] if lines else f"exit code {result.returncode}"


def top(cwd: Path) -> Path:
    """The top folder of the checkout (or linked worktree) holding ``cwd``."""
    return Path(output(cwd, "rev-parse", "--show-toplevel").strip())


def staged_paths(cwd: Path) -> list[str]:
    """Paths in the index that differ from HEAD, relative to the checkout's top. A rename counts as
    both its sides (``--no-renames``): the old path's rule must allow the deletion too."""
    out = output(cwd, "-c", "core.quotepath=off", "diff", "--cached", "--name-only", "--no-renames", "-z")
    return [p for p in out.split("\0") if p]


def config_get(cwd: Path, key: str) -> str | None:
    """A git setting as git reads it from ``cwd``; None when unset."""
    result = run(cwd, "config", "--get", key, check=False)
    value = result.stdout.strip()
    return value if result.returncode == 0 and value else None


def listed_files(root: Path, *, timeout: float = 30) -> list[str] | None:
    """Tracked and untracked files that are not ignored; None where git cannot tell (no repository)."""
    try:
        result = run(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", check=False, timeout=timeout)
    except GitError:
        return None
    return [n for n in result.stdout.split("\0") if n] if result.returncode == 0 else None
