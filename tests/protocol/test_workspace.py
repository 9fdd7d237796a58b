"""``squad init``'s tree: what goes into git and what stays out."""

from __future__ import annotations

from squad.leases import locks
from squad.paths import SquadPaths
from squad.protocol.comm import Status
from squad.protocol.times import now
from tests.conftest import git, plan, post


def test_the_plans_and_matrix_can_be_committed_the_live_state_stays_out(squad: SquadPaths) -> None:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    squad.ownership.write_text("frontend/: {owner: agent-1-frontend, access: EXCLUSIVE}\n")
    post(squad, 1, "frontend", Status.ACTIVE, now(), task="T1")
    locks.acquire(squad, "agent-1-frontend", "shared/t.ts")
    squad.logs.mkdir(parents=True, exist_ok=True)
    squad.events.write_text("")
    git(squad.root, "add", "-A", ".squad")
    staged = set(git(squad.root, "diff", "--cached", "--name-only").split())
    assert {".squad/.gitignore", ".squad/config.yaml", ".squad/ownership.yaml"} <= staged
    assert ".squad/parallel-plans/agent-1-plan.md" in staged
    assert not [
        f for f in staged if f.startswith((".squad/comms/", ".squad/locks/", ".squad/logs/", ".squad/control/"))
    ]
