"""The properties every allocation must have, whatever the PRD looked like."""

from __future__ import annotations

from pathlib import Path

from squad.allocate import Allocation
from squad.paths import SquadPaths
from squad.protocol.plan import Handoff

try:  # the access rules module (another issue); check with it when it is there
    from squad.enforce.access import may_write
except ImportError:  # pragma: no cover
    may_write = None  # type: ignore[assignment]


def _sample(pattern: str) -> str:
    return pattern + "sample.txt" if pattern.endswith("/") else pattern


def check_invariants(allocation: Allocation, *, balanced: bool = True) -> None:
    agents = allocation.agents
    matrix = allocation.matrix
    # Each task assigned exactly once.
    ids = [t.id for a in agents for t in a.tasks]
    assert len(ids) == len(set(ids)) == len(allocation.prd.tasks), ids
    # No path EXCLUSIVE to two agents; each owned path is its owner's in the matrix.
    exclusive: dict[str, str] = {}
    for entry in matrix.entries:
        if entry.access == "EXCLUSIVE":
            assert exclusive.setdefault(entry.pattern, entry.owner or "") == entry.owner, entry
    paths = SquadPaths(Path("/nonexistent-root"))
    for agent in agents:
        for pattern in agent.owns:
            rule = matrix.rule(pattern)
            assert (rule.access, rule.owner) == ("EXCLUSIVE", agent.id), (pattern, rule)
            if may_write is not None:
                assert may_write(paths, agent.id, _sample(pattern), matrix=matrix, leases=[]).allowed
                for other in agents:
                    if other.id != agent.id:
                        assert not may_write(paths, other.id, _sample(pattern), matrix=matrix, leases=[]).allowed
        # A task never needs a file EXCLUSIVE to another agent.
        for task in agent.tasks:
            for path in task.raw.paths:
                rule = matrix.rule(path)
                assert rule.access != "EXCLUSIVE" or rule.owner == agent.id, (task.id, path, rule)
    # The matrix has each pattern once, and no plan both owns and shares a path.
    patterns = [entry.pattern for entry in matrix.entries]
    assert len(patterns) == len(set(patterns)), patterns
    for agent in agents:
        assert not set(agent.owns) & set(agent.shared), (agent.id, agent.owns, agent.shared)
        # Every file a task names is its agent's (EXCLUSIVE), shared (SEQUENTIAL) or read-only:
        # never left to the matrix default, never another agent's.
        for task in agent.tasks:
            for path in task.raw.paths:
                rule = matrix.rule(path)
                assert rule.pattern is not None, (task.id, path, "no entry covers it")
                assert rule.access in ("SEQUENTIAL", "READONLY") or rule.owner == agent.id, (task.id, path, rule)
    # Each dependency is earlier in the same plan, or a handoff in both plans.
    where = {t.id: (a, i) for a in agents for i, t in enumerate(a.tasks)}
    for agent in agents:
        for index, task in enumerate(agent.tasks):
            for dep in task.depends_on:
                owner, position = where[dep]
                if owner.id == agent.id:
                    assert position < index, (task.id, dep)
                else:
                    assert any(h.task == dep and h.agent == owner.id for h in agent.handoffs_in), (task.id, dep)
                    assert any(h.task == dep and h.agent == agent.id for h in owner.handoffs_out), (task.id, dep)
    for agent in agents:
        for h in agent.handoffs_in:
            assert isinstance(h, Handoff)
    # Balance: the largest load within 1.5x the mean where the tasks allow.
    if balanced and len(agents) > 1:
        efforts = [a.effort_h for a in agents]
        mean = sum(efforts) / len(efforts)
        assert max(efforts) <= 1.5 * mean, efforts
    # The prediction is coherent.
    p = allocation.prediction
    assert p.sequential_h == round(sum(a.effort_h for a in agents), 2)
    assert max(a.effort_h for a in agents) - 0.01 <= p.makespan_h <= p.sequential_h + 0.01
