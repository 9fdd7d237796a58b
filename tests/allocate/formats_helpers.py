"""Allocating real files in a temporary repository, as `squad allocate FILE --dry-run` does."""

from __future__ import annotations

from pathlib import Path

from squad.allocate import Allocation, allocate
from squad.allocate.render import render_understanding
from tests.allocate.invariants import check_invariants


def allocate_file(
    root: Path, name: str, text: str, *, agents: int | None = 3, others: dict[str, str] | None = None
) -> Allocation:
    """Write ``name`` (and ``others`` beside it) under ``root``, allocate it twice (same bytes both
    times), check the invariants, and return the allocation."""
    (root / ".git").mkdir(exist_ok=True)
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    for other, body in (others or {}).items():
        (path.parent / other).write_text(body, encoding="utf-8")
    first = allocate(path, agents=agents, dry_run=True, start=root).allocation
    again = allocate(path, agents=agents, dry_run=True, start=root).allocation
    assert first == again  # deterministic
    check_invariants(first, balanced=False)
    if agents is not None:
        assert len(first.agents) <= agents
    assert render_understanding(first)  # says what it read
    return first


def tasks_of(allocation: Allocation) -> dict[str, tuple[str, ...]]:
    """Task id -> its dependencies."""
    return {t.id: t.depends_on for a in allocation.agents for t in a.tasks}


def agent_of(allocation: Allocation) -> dict[str, str]:
    return {t.id: a.id for a in allocation.agents for t in a.tasks}


def streams_of(allocation: Allocation) -> set[str]:
    return {t.stream or "" for a in allocation.agents for t in a.tasks}


JUNK = {"p", "id", "story", "summary", "dependencies", "setup", "polish", "foundational", "checkpoint", "tasks"}


def assert_no_junk_streams(allocation: Allocation) -> None:
    names = streams_of(allocation) | {s for a in allocation.agents for s in a.streams}
    assert not names & JUNK, names
