"""The coordinator folds comm files as they grow: whatever the chunks the bytes arrive in (whole
blocks, single lines, a rewrite from the top), its view equals a full read's."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from squad.agents.liveness import Fold, agent_state
from squad.coordinator.engine import Change, Engine
from squad.paths import SquadPaths
from squad.protocol.comm import Progress, Status, format_handoff, format_status_update, read_comm
from tests.conftest import T0, plan

_block = st.fixed_dictionaries(
    {
        "status": st.sampled_from(list(Status)),
        "seconds": st.integers(min_value=0, max_value=5000),
        "task": st.sampled_from([None, "T1 first", "T2 second", "T3"]),
        "files": st.lists(st.sampled_from(["frontend/a.tsx", "shared/t.ts", "backend/x.py", "docs/r.md"]), max_size=3),
        "waiting": st.sampled_from([None, "shared/t.ts locked by agent-2", "the API"]),
        "progress": st.sampled_from([None, (1, 3), (2, 3), (3, 3)]),
        "handoff": st.booleans(),
    }
)


def _text(block: dict[str, object]) -> str:
    at = T0 + timedelta(seconds=int(block["seconds"]))  # type: ignore[call-overload]
    if block["handoff"]:
        return format_handoff(from_agent="agent-1-frontend", to_agent="agent-2-backend", file="shared/t.ts", at=at)
    progress = block["progress"]
    return format_status_update(
        agent="agent-1-frontend",
        status=block["status"],  # type: ignore[arg-type]
        at=at,
        task=block["task"],  # type: ignore[arg-type]
        files=tuple(block["files"]),  # type: ignore[arg-type]
        waiting_for=block["waiting"],  # type: ignore[arg-type]
        progress=Progress(*progress) if progress else None,  # type: ignore[misc]
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    blocks=st.lists(_block, min_size=1, max_size=12),
    cuts=st.lists(st.integers(0, 2000), max_size=6),
    rewrite=st.booleans(),
)
def test_the_fold_of_a_growing_file_equals_a_full_read(
    squad: SquadPaths, blocks: list[dict[str, object]], cuts: list[int], rewrite: bool
) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], []), ("T2", [], []), ("T3", [], [])])
    comm = squad.comm(1)
    text = "".join(_text(b) for b in blocks)
    engine = Engine(squad)
    comm.write_text("")
    engine.rebuild(T0)
    written = 0
    for cut in sorted(min(c, len(text)) for c in cuts):
        with comm.open("a") as handle:
            handle.write(text[written:cut])
        written = max(written, cut)
        engine.observe(Change("comm", number=1), T0)
    if rewrite:  # an edit tool rewrites the file whole: same text, new inode
        comm.unlink()
        comm.write_text(text[:written])
        engine.observe(Change("comm", number=1), T0)
    with comm.open("a") as handle:
        handle.write(text[written:])
    engine.observe(Change("comm", number=1), T0)

    now = T0 + timedelta(hours=3)
    full = read_comm(comm)
    [(source, state)] = engine.agent_states(now)
    assert state == agent_state("agent-1-frontend", full, source.plan, now)
    whole = Fold().feed_all(full.blocks)
    assert source.view.blocked_since == whole.blocked_since
    assert source.view.failures == whole.failures
    assert source.view.timeline == whole.timeline
    assert source.comm is not None and source.comm.updates == full.updates and source.comm.handoffs == full.handoffs
    assert source.comm.identity == full.identity
