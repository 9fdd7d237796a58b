"""Shared fixtures: a squad in a real git repository, the CLI as a real subprocess, a leak guard."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner, Result

from squad.cli.main import cli
from squad.paths import SquadPaths
from squad.workspace import init_squad

SQUAD_BIN = str(Path(sys.executable).with_name("squad"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENT_ID", "AGENT_TYPE", "AGENT_PLAN", "AGENT_COMM", "PARALLEL_MODE", "SQUAD_ROOT", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "squad-test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "squad-test@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "squad-test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "squad-test@example.invalid")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)


@pytest.fixture(autouse=True)
def _leak_guard() -> Iterator[None]:
    """Fail a test that leaves a thread or a child process behind (daemons and observers leak first)."""
    threads_before = set(threading.enumerate())
    me = psutil.Process()
    children_before = {p.pid for p in me.children(recursive=True)}
    yield
    deadline = time.monotonic() + 5
    while True:
        threads = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        children = [p for p in me.children(recursive=True) if p.pid not in children_before and _alive(p)]
        if not threads and not children:
            return
        if time.monotonic() > deadline:
            for p in children:
                p.kill()
            pytest.fail(f"test leaked threads {[t.name for t in threads]} or processes {[p.pid for p in children]}")
        time.sleep(0.05)


def _alive(p: psutil.Process) -> bool:
    """A live child that is not multiprocessing's own long-lived helper (resource tracker, forkserver)."""
    try:
        if p.status() == psutil.STATUS_ZOMBIE:
            return False
        cmdline = " ".join(p.cmdline())
    except psutil.NoSuchProcess:
        return False
    return "multiprocessing.resource_tracker" not in cmdline and "multiprocessing.forkserver" not in cmdline


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with one commit."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# sample\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture
def squad(repo: Path, monkeypatch: pytest.MonkeyPatch) -> SquadPaths:
    """``squad init`` done in ``repo``; the working directory is the repository."""
    monkeypatch.chdir(repo)
    paths, _ = init_squad(repo)
    return paths


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process with click's CliRunner."""
    return runner.invoke(cli, list(args), env=env)


def run_squad(
    *args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = False, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The ``squad`` console script as a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [SQUAD_BIN, *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=check, input=input, timeout=120
    )
