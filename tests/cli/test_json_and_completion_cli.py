"""--json on the commands that change state, and shell completion of agent ids."""

from __future__ import annotations

import json
from pathlib import Path

from squad.paths import SquadPaths
from tests.conftest import run_squad

PRD = Path(__file__).resolve().parents[2] / "examples" / "parallel-test" / "feature-prd.md"


def test_state_changing_commands_print_json(squad: SquadPaths) -> None:
    root = squad.root
    run_squad("allocate", str(PRD), cwd=root, check=True)
    env = {"AGENT_ID": "agent-1-frontend"}
    lock = json.loads(
        run_squad("lock", "shared/types/metrics.ts", "--json", "-r", "types", cwd=root, env=env, check=True).stdout
    )
    assert lock["action"] == "locked" and lock["path"] == "shared/types/metrics.ts" and lock["reason"] == "types"
    assert {"agent", "acquired_at", "expires_at", "ttl_s"} <= set(lock)
    unlock = json.loads(run_squad("unlock", "shared/types/metrics.ts", "--json", cwd=root, env=env, check=True).stdout)
    assert unlock["action"] == "unlocked" and unlock["agent"] == "agent-1-frontend"
    update = json.loads(
        run_squad(
            "update", "-s", "ACTIVE", "-p", "1/5", "--json", "frontend/a.tsx", cwd=root, env=env, check=True
        ).stdout
    )
    assert update == {
        "agent": "agent-1-frontend",
        "status": "ACTIVE",
        "task": None,
        "progress": {"done": 1, "total": 5},
        "files": ["frontend/a.tsx"],
        "evidence": None,
        "lost_leases": [],  # released, not lost
    }
    handoff = json.loads(
        run_squad(
            "handoff", "--to", "2", "--file", "shared/types/metrics.ts", "--json", cwd=root, env=env, check=True
        ).stdout
    )
    assert handoff["from"] == "agent-1-frontend" and handoff["to"] == "agent-2-backend"
    init = json.loads(run_squad("init", "--json", cwd=root, check=True).stdout)
    assert init["created"] == [] and init["prd"] is None


def test_agent_ids_complete_from_the_roster(squad: SquadPaths) -> None:
    run_squad("allocate", str(PRD), cwd=squad.root, check=True)
    env = {"_SQUAD_COMPLETE": "bash_complete", "COMP_WORDS": "squad handoff --to agent-", "COMP_CWORD": "3"}
    result = run_squad(cwd=squad.root, env=env)
    assert "agent-1-frontend" in result.stdout and "agent-3-ml" in result.stdout
    env = {"_SQUAD_COMPLETE": "bash_complete", "COMP_WORDS": "squad lock sha", "COMP_CWORD": "2"}
    assert "file" in run_squad(cwd=squad.root, env=env).stdout
    assert "_squad_completion" in run_squad(cwd=squad.root, env={"_SQUAD_COMPLETE": "bash_source"}).stdout
