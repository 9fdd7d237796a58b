"""Helpers for launch tests: plans, fast settings, fake agent scripts, polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from squad.launch.config import LaunchSettings
from squad.paths import SquadPaths
from squad.protocol.plan import Plan, write_plan
from tests.conftest import SQUAD_BIN


def add_plan(paths: SquadPaths, number: int, role: str, owns: tuple[str, ...] = ()) -> str:
    agent = f"agent-{number}-{role}"
    write_plan(paths.plan(number), Plan(agent=agent, role=role, owns=owns, body=f"Work as {agent}.\n"))
    return agent


def script(folder: Path, name: str, body: str) -> Path:
    """A fake agent: a small sh script (``$SQUAD`` is the squad binary)."""
    path = folder / f"{name}.sh"
    path.write_text(f"#!/bin/sh\nSQUAD={SQUAD_BIN}\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def wait_for(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def fast(tmp_path: Path) -> Callable[..., LaunchSettings]:
    """Settings with small timeouts; worktrees under tmp_path."""

    def make(cmd: str, **values: object) -> LaunchSettings:
        base = LaunchSettings(
            cmd=cmd,
            idle_timeout_s=30.0,
            retries=0,
            backoff_s=0.2,
            backoff_max_s=1.0,
            grace_s=2.0,
            sample_s=0.2,
            worktree_dir=str(tmp_path / "worktrees"),
            setup_copy=(".env",),
        )
        return base.with_overrides(**values)

    return make
