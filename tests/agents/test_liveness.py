"""When a lease goes stale because of its holder: reports older than the lease say nothing about it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from squad.atomic import append_lines
from squad.leases import locks
from squad.paths import SquadPaths
from squad.protocol.comm import Status, format_status_update
from squad.protocol.times import now


def _report(squad: SquadPaths, number: int, status: Status, seconds_ago: float) -> None:
    block = format_status_update(agent=f"agent-{number}-x", status=status, at=now() - timedelta(seconds=seconds_ago))
    append_lines(squad.comm(number), block)


def test_a_long_silent_agent_that_takes_a_lease_keeps_it(squad: SquadPaths) -> None:
    _report(squad, 1, Status.ACTIVE, seconds_ago=3 * 3600)  # silent for hours (agent_stale_s is 30 min)
    locks.acquire(squad, "agent-1-x", "shared/a.ts", ttl_s=7200)  # ...then takes a lease: it is alive
    assert locks.break_stale(squad, now()) == []
    # but once it stays silent past agent_stale_s after taking it, the lease is stale
    later = now() + timedelta(minutes=31)
    broken = locks.break_stale(squad, later)
    assert [b.lease.path for b in broken] == ["shared/a.ts"] and "silent" in broken[0].reason


def test_a_done_report_before_the_lease_does_not_break_it_one_after_does(squad: SquadPaths) -> None:
    _report(squad, 2, Status.DONE, seconds_ago=600)  # finished earlier, then given stolen work
    locks.acquire(squad, "agent-2-x", "shared/b.ts")
    assert locks.break_stale(squad, now()) == []
    _report(squad, 2, Status.DONE, seconds_ago=-1.5)  # clearly after the lease (blocks carry whole seconds)
    broken = locks.break_stale(squad, now() + timedelta(seconds=3))
    assert [b.lease.path for b in broken] == ["shared/b.ts"] and "DONE" in broken[0].reason


@pytest.mark.slow
def test_a_lease_taken_just_after_its_holders_own_done_stays_live(squad: SquadPaths) -> None:
    """DONE, then 0.2 s later a new lease (a DONE agent given more work): the report is stamped with
    the same second at most, so it is not 'after' the lease; another agent's lock is refused."""
    import os
    import time

    from tests.conftest import plan, run_squad

    plan(squad, 1, "frontend", ["frontend/"], [("F1", [], [])])
    plan(squad, 2, "backend", ["backend/"], [("B1", [], [])])
    one = {**os.environ, "AGENT_ID": "agent-1-frontend"}
    two = {**os.environ, "AGENT_ID": "agent-2-backend"}
    for _ in range(5):
        assert run_squad("update", "--status", "DONE", cwd=squad.root, env=one).returncode == 0
        time.sleep(0.2)
        assert run_squad("lock", "shared/a.ts", cwd=squad.root, env=one).returncode == 0
        other = run_squad("lock", "shared/a.ts", cwd=squad.root, env=two)
        assert other.returncode == 1 and "agent-1-frontend" in other.stderr, other.stderr
        assert run_squad("unlock", "shared/a.ts", cwd=squad.root, env=one).returncode == 0
