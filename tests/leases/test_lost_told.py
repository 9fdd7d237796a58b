"""Expiry is never silent: a holder that lost a lease hears of it at its next update (once, with a
coordinator notice) and at its next write the guard refuses."""

from __future__ import annotations

import json

from squad.leases import locks
from squad.paths import SquadPaths
from squad.protocol.times import now
from tests.conftest import run_squad


def test_an_update_tells_the_holder_once_that_its_lease_was_taken(squad: SquadPaths) -> None:
    mine = locks.acquire(squad, "agent-1-api", "shared/a.ts", ttl_s=0.2)
    run_squad("update", "--agent", "agent-2-web", "--status", "ACTIVE", cwd=squad.root)
    theirs = run_squad("lock", "shared/a.ts", "--agent", "agent-2-web", "--wait", "5", cwd=squad.root)
    assert theirs.returncode == 0, theirs.stderr  # agent 1's lease expired: broken and taken
    told = run_squad("update", "--agent", "agent-1-api", "--status", "ACTIVE", "--json", cwd=squad.root)
    assert told.returncode == 0, told.stderr
    assert "notice: your lease on shared/a.ts is gone (broken" in told.stderr
    assert "agent-2-web holds it now" in told.stderr
    data = json.loads(told.stdout)
    assert [(x["path"], x["token"]) for x in data["lost_leases"]] == [("shared/a.ts", mine.token)]
    notices = squad.coordinator_comm.read_text()
    assert "TO: agent-1-api" in notices and "EVENT: lease_lost" in notices
    again = run_squad("update", "--agent", "agent-1-api", "--status", "ACTIVE", cwd=squad.root)
    assert "notice:" not in again.stderr  # told once


def test_the_next_write_names_the_lost_lease(squad: SquadPaths) -> None:
    mine = locks.acquire(squad, "agent-1-api", "shared/a.ts", ttl_s=60)
    locks.break_lease(squad, "shared/a.ts", "holder stopped", now=now(), by="agent-2-web")
    refused = run_squad("check", "shared/a.ts", "--agent", "agent-1-api", cwd=squad.root)
    assert refused.returncode == 1
    assert f"(your lease on shared/a.ts, token {mine.token}, is gone: broken by agent-2-web" in refused.stdout


def test_a_released_lease_is_not_lost(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-1-api", "shared/a.ts")
    locks.release(squad, "agent-1-api", "shared/a.ts")
    told = run_squad("update", "--agent", "agent-1-api", "--status", "ACTIVE", cwd=squad.root)
    assert "notice:" not in told.stderr
    refused = run_squad("check", "shared/a.ts", "--agent", "agent-1-api", cwd=squad.root)
    assert "is gone" not in refused.stdout
