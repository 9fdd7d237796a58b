"""Property tests: any sequence of acquires and releases leaves no two conflicting holders."""

from __future__ import annotations

import tempfile
from itertools import combinations
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from squad.errors import Refused
from squad.leases import locks
from squad.paths import SquadPaths
from squad.protocol.workspace import init_squad

TARGETS = ["a/", "a/b/", "a/b/c.txt", "a/b/d.txt", "a/e.txt", "ab/c.txt", "@git", "top.txt"]
AGENTS = ["agent-1", "agent-2", "agent-3"]

operations = st.lists(
    st.tuples(st.sampled_from(["acquire", "release"]), st.sampled_from(AGENTS), st.sampled_from(TARGETS)),
    max_size=25,
)


@st.composite
def paths_strategy(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(["a", "b", "ab", "c.txt"]), min_size=1, max_size=4))
    return "/".join(parts) + draw(st.sampled_from(["", "/"]))


@given(paths_strategy(), paths_strategy())
def test_conflicts_is_symmetric_and_prefix_based(a: str, b: str) -> None:
    assert locks.conflicts(a, b) == locks.conflicts(b, a)
    pa, pb = a.strip("/").split("/"), b.strip("/").split("/")
    assert locks.conflicts(a, b) == (pa[: len(pb)] == pb or pb[: len(pa)] == pa)


@settings(max_examples=40, deadline=None)
@given(operations)
def test_no_two_agents_hold_conflicting_leases(ops: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths, _ = init_squad(Path(tmp))
        model: dict[str, str] = {}  # target -> agent, what the library granted
        for op, agent, target in ops:
            if op == "acquire":
                blockers = [t for t, a in model.items() if a != agent and locks.conflicts(t, target)]
                try:
                    locks.acquire(paths, agent, target)
                except locks.LockHeld:
                    assert blockers, (agent, target, model)
                else:
                    assert not blockers, (agent, target, model)
                    model[target] = agent
            else:
                try:
                    locks.release(paths, agent, target)
                except Refused:
                    assert model.get(target) != agent
                else:
                    assert model.pop(target) == agent
            held = locks.held(paths)
            assert sorted((x.path, x.agent) for x in held) == sorted(model.items())
            for x, y in combinations(held, 2):
                assert x.agent == y.agent or not locks.conflicts(x.path, y.path)
        _assert_pruned(paths)


def _assert_pruned(paths: SquadPaths) -> None:
    locks.prune_empty(paths)  # releases leave their folders; the coordinator prunes them later
    for folder in paths.locks.rglob("*"):
        if folder.is_dir() and folder.name != ".broken":
            assert any(folder.iterdir()), f"empty lease folder left behind: {folder}"
