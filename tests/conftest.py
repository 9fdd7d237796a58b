"""Shared fixtures and helpers: a squad in a real git repository, the CLI as a real subprocess, plans
and comm blocks on real files, polling, and leak guards (threads, child processes, detached coordinators)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from click.testing import CliRunner, Result

from squad.atomic import append_lines, write_atomic
from squad.cli.main import cli
from squad.paths import SquadPaths
from squad.protocol.comm import Progress, Status, format_handoff, format_status_update
from squad.protocol.plan import Plan, PlanTask, write_plan
from squad.protocol.workspace import init_squad

SQUAD_BIN = str(Path(sys.executable).with_name("squad"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AGENT_ID", "AGENT_TYPE", "AGENT_PLAN", "AGENT_COMM", "PARALLEL_MODE", "SQUAD_ROOT", "SQUAD_STORE", "NO_COLOR"
    ):  # fmt: skip
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


# -- a real etcd ------------------------------------------------------------------------------------


def _etcd_cluster(root: Path, size: int) -> Iterator[Any]:
    from tests.etcd_server import ETCD, Cluster

    if ETCD is None:
        if os.environ.get("CI"):
            pytest.fail("etcd is not installed (.ci/run installs Debian's etcd-server)")
        pytest.skip("etcd is not installed (apt-get install etcd-server)")
    cluster = Cluster(root, size)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[Any]:
    """One etcd member on 127.0.0.1 (free ports, a temporary data folder): ``etcd.url``."""
    yield from _etcd_cluster(tmp_path / "etcd", 1)


@pytest.fixture
def etcd3(tmp_path: Path) -> Iterator[Any]:
    """A three-member etcd cluster on 127.0.0.1, for fault tests: ``etcd3.members[i].stop()``."""
    yield from _etcd_cluster(tmp_path / "etcd3", 3)


# -- plans, comm blocks and leases on real files; polling; the daemon leak guard --------------------

T0 = datetime(2026, 11, 22, 14, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def plan(paths: SquadPaths, number: int, role: str, owns: list[str], tasks: list[tuple[str, list[str], list[str]]],
         **extra: Any) -> None:  # fmt: skip
    """A plan for ``agent-<number>-<role>``; tasks are (id, files, depends_on)."""
    write_plan(
        paths.plan(number),
        Plan(
            agent=f"agent-{number}-{role}",
            role=role,
            owns=tuple(owns),
            shared=("shared/",),
            tasks=tuple(PlanTask(i, f"task {i}", tuple(f), tuple(d)) for i, f, d in tasks),
            body="Do the tasks.\n",
            extra=extra,
        ),
    )


def post(paths: SquadPaths, number: int, role: str, status: Status, when: datetime, *, task: str | None = None,
         files: tuple[str, ...] = (), waiting_for: str | None = None, progress: tuple[int, int] | None = None,
         evidence: str | None = None, evidence_exit: int | None = None) -> None:  # fmt: skip
    append_lines(
        paths.comm(number),
        format_status_update(
            agent=f"agent-{number}-{role}",
            status=status,
            at=when,
            task=task,
            files=files,
            waiting_for=waiting_for,
            progress=Progress(*progress) if progress else None,
            evidence=evidence,
            evidence_exit=evidence_exit,
        ),
    )


def handoff(paths: SquadPaths, number: int, sender: str, to: str, file: str, when: datetime) -> None:
    append_lines(paths.comm(number), format_handoff(from_agent=sender, to_agent=to, file=file, at=when))


def lease(paths: SquadPaths, agent: str, target: str, acquired: datetime, ttl_s: float = 1800) -> None:
    from squad.protocol.lease import new_lease

    write_atomic(paths.lease_file(target), new_lease(agent=agent, path=target, now=acquired, ttl_s=ttl_s).to_json())


def ownership(paths: SquadPaths, text: str) -> None:
    write_atomic(paths.ownership, text)


def poll_until(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05, what: str = "condition") -> Any:
    """Wait until ``check()`` is truthy; fail with ``what`` after ``timeout`` (generous: the machine is noisy)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def events(paths: SquadPaths, kind: str | None = None) -> list[Any]:
    from squad.protocol.events import read_events

    return [e for e in read_events(paths.events) if kind is None or e.kind == kind]


@pytest.fixture(autouse=True)
def _daemon_guard(tmp_path: Path) -> Iterator[None]:
    """Fail a test that leaves a detached coordinator running (the generic guard cannot see it:
    a detached daemon is no child of pytest)."""
    yield
    leaked = []
    for pidfile in tmp_path.rglob(".squad/control/coordinator.pid"):
        try:
            pid = int(__import__("json").loads(pidfile.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            continue
        if pid != os.getpid() and psutil.pid_exists(pid):
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    continue
            except psutil.NoSuchProcess:
                continue
            os.kill(pid, signal.SIGKILL)
            leaked.append(pid)
    if leaked:
        pytest.fail(f"test leaked coordinator processes {leaked}")
