"""Helpers for coordinator tests: plans and comm blocks on real files, polling, a daemon leak guard."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest

from squad.atomic import append_lines, write_atomic
from squad.paths import SquadPaths
from squad.protocol.comm import Progress, Status, format_handoff, format_status_update
from squad.protocol.plan import Plan, PlanTask, write_plan

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
