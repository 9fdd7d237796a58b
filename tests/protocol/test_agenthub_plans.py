"""Plans written the way ai-agent-hub's squad-mode template writes them mean what their writers mean
(issue 15): CREATE and MODIFY are the agent's writes, READ-ONLY is what it reads and constrains
nobody, a file two plans write is SEQUENTIAL between those agents, and every rule names its source.

The fixtures follow the template of ai-agent-hub's ``allocate-tasks-parallel`` command (Agent
Identity / Tasks / File Ownership with CREATE, MODIFY, READ-ONLY / Communication Points), written
the three ways agents fill it in: ``- CREATE: a, b`` lines, sub-headings with bullets, labelled bullets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from squad.paths import SquadPaths
from tests.conftest import run_squad

PLAN_1 = """# Parallel Execution Plan - Agent 1

## Agent Identity
- Agent Type: frontend-ui-developer
- Work Stream: dashboard components
- Assigned Files: frontend/src/components/Dashboard.tsx, frontend/src/components/MetricCard.tsx

## Tasks
1. Create the dashboard layout
   - Files: frontend/src/components/Dashboard.tsx
   - Dependencies: none
   - Output: Dashboard component
2. Define the metric interfaces
   - Files: shared/types/metrics.ts
   - Dependencies: none
   - Output: MetricPoint, MetricSeries

## File Ownership
- CREATE: frontend/src/components/Dashboard.tsx, frontend/src/components/MetricCard.tsx
- MODIFY: shared/types/metrics.ts
- READ-ONLY: backend/api/metrics.py, package.json

## Communication Points
- Handoff to: agent-2 (shared/types/metrics.ts once the interfaces exist)
- Receives from: none
- Sync points: after task 2
"""

PLAN_2 = """# Parallel Execution Plan - Agent 2

## Agent Identity
- Agent Type: backend-system-architect
- Work Stream: metrics API

## Tasks
1. Serve metrics over REST
   - Files: backend/api/metrics.py
2. Add fields the API returns to the shared types
   - Files: shared/types/metrics.ts

## File Ownership
### CREATE
- `backend/api/routes.py`
### MODIFY
- `backend/api/metrics.py`
- `/shared/types/metrics.ts`
### READ-ONLY
- `frontend/src/components/Dashboard.tsx`

## Communication Points
- Handoff to: agent-3 (the API is ready)
- Receives from: agent-1 (shared/types/metrics.ts)
"""

PLAN_3 = """# Parallel Execution Plan - Agent 3

## Agent Identity
- Agent Type: ai-ml-engineer
- Work Stream: anomaly detection

## Tasks
1. Detect anomalies in the metric stream

## File Ownership
- **CREATE**: `ml/anomaly.py`
- **MODIFY**: none
- **READ-ONLY**: `shared/types/metrics.ts`, `backend/api/metrics.py`, `frontend/src/components/Dashboard.tsx`

## Communication Points
- Receives from: agent-2 (metrics API)
"""

DASHBOARD = "frontend/src/components/Dashboard.tsx"
API = "backend/api/metrics.py"
TYPES = "shared/types/metrics.ts"


def three_plans(squad: SquadPaths) -> None:
    for number, text in ((1, PLAN_1), (2, PLAN_2), (3, PLAN_3)):
        squad.plan(number).write_text(text)


def line_of(text: str, needle: str, after: str = "## File Ownership") -> int:
    """The 1-based line of the first ``needle`` below ``after`` in a fixture."""
    rows = text.splitlines()
    start = next(i for i, row in enumerate(rows) if after in row)
    return next(i for i, row in enumerate(rows) if i > start and needle in row) + 1


def check(squad: SquadPaths, agent: str, *paths: str) -> tuple[int, str]:
    result = run_squad("check", "--agent", agent, *paths, cwd=squad.root)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout + result.stderr


def status_json(squad: SquadPaths) -> tuple[int, dict[str, Any]]:
    result = run_squad("status", "--json", cwd=squad.root)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def rule_for(status: dict[str, Any], pattern: str) -> dict[str, Any]:
    return next(r for r in status["rules"] if r["pattern"] == pattern)


def test_read_only_constrains_nobody_and_owners_write_their_files(squad: SquadPaths) -> None:
    three_plans(squad)
    # agent-2 MODIFIES the API file that agent-1 and agent-3 only read
    assert check(squad, "2", API)[0] == 0
    # agent-1 CREATES the dashboard that agent-2 and agent-3 only read
    assert check(squad, "1", DASHBOARD, "frontend/src/components/MetricCard.tsx")[0] == 0
    assert check(squad, "3", "ml/anomaly.py")[0] == 0
    # a reader may not write it: the file is its writer's, and the refusal says which plan line says so
    code, out = check(squad, "1", API)
    source = f".squad/parallel-plans/agent-2-plan.md:{line_of(PLAN_2, API)}"
    assert code == 1 and f"{API} is EXCLUSIVE to agent-2 ({API} from {source})" in out
    # a READ-ONLY file no plan writes has no rule: it follows default_access (SEQUENTIAL)
    code, out = check(squad, "1", "package.json")
    assert code == 1 and "READONLY" not in out and "(default_access): lock it first" in out


def test_a_file_two_plans_modify_is_sequential_between_them(squad: SquadPaths) -> None:
    three_plans(squad)
    code, out = check(squad, "1", TYPES)
    assert code == 1 and f"{TYPES} is SEQUENTIAL between agent-1 and agent-2 (" in out and "lock it first" in out
    # agent-3 only reads it: it may not write it even with the lease
    assert run_squad("lock", TYPES, "--agent", "3", cwd=squad.root).returncode == 0
    code, out = check(squad, "3", TYPES)
    assert code == 1 and "agent-3 writes it in no plan" in out
    assert run_squad("unlock", TYPES, "--agent", "3", cwd=squad.root).returncode == 0
    # the lease holder may write it; the other writer waits for it
    assert run_squad("lock", TYPES, "--agent", "2", cwd=squad.root).returncode == 0
    assert check(squad, "2", TYPES)[0] == 0
    code, out = check(squad, "1", TYPES)
    assert code == 1 and "agent-2 holds the lease" in out
    # squad status says so too, naming both plan lines
    code, status = status_json(squad)
    assert code == 0, status["problems"]
    rule = rule_for(status, TYPES)
    assert (rule["access"], rule["owners"], rule["owner"]) == ("SEQUENTIAL", ["agent-1", "agent-2"], None)
    assert rule["source"] == (
        f".squad/parallel-plans/agent-1-plan.md:{line_of(PLAN_1, TYPES)}, "
        f".squad/parallel-plans/agent-2-plan.md:{line_of(PLAN_2, TYPES)}"
    )


def test_status_names_the_plan_line_of_every_rule_it_derived(squad: SquadPaths) -> None:
    three_plans(squad)
    code, status = status_json(squad)
    assert code == 0, status["problems"]
    by_pattern = {r["pattern"]: r for r in status["rules"]}
    # READ-ONLY entries make no rule at all
    assert "package.json" not in by_pattern
    assert set(by_pattern) == {
        DASHBOARD,
        "frontend/src/components/MetricCard.tsx",
        "backend/api/routes.py",
        API,
        "ml/anomaly.py",
        TYPES,
    }
    assert by_pattern[API] == {
        "pattern": API,
        "access": "EXCLUSIVE",
        "owner": "agent-2",
        "owners": [],
        "resource": None,
        "source": f".squad/parallel-plans/agent-2-plan.md:{line_of(PLAN_2, API)}",
    }
    # Assigned Files and CREATE name the same file: the first line that says it is the source
    assert (
        by_pattern[DASHBOARD]["source"]
        == f".squad/parallel-plans/agent-1-plan.md:{line_of(PLAN_1, DASHBOARD, '## Agent Identity')}"
    )
    assert by_pattern["ml/anomaly.py"]["owner"] == "agent-3"


def test_a_folder_one_plan_writes_and_a_file_in_it_another_plan_writes(squad: SquadPaths) -> None:
    squad.plan(1).write_text("## Agent Identity\n- Agent Type: frontend\n\n## File Ownership\n- MODIFY: frontend/\n")
    squad.plan(2).write_text(
        "## Agent Identity\n- Agent Type: design\n\n## File Ownership\n- CREATE: frontend/theme.css\n"
    )
    assert check(squad, "1", "frontend/app.tsx")[0] == 0
    assert check(squad, "2", "frontend/app.tsx")[0] == 1
    # both plans write frontend/theme.css (one through its folder): SEQUENTIAL between the two
    code, out = check(squad, "1", "frontend/theme.css")
    assert code == 1 and "SEQUENTIAL between agent-2 and agent-1" in out
    assert run_squad("lock", "frontend/theme.css", "--agent", "1", cwd=squad.root).returncode == 0
    assert check(squad, "1", "frontend/theme.css")[0] == 0


def test_front_matter_read_only_keeps_squads_meaning(squad: SquadPaths) -> None:
    """squad's own key ``read_only:`` (what allocate writes for config/*.config.js) is READONLY for
    everyone during the run; only the body's READ-ONLY section is ai-agent-hub's reading list."""
    squad.plan(1).write_text(
        "---\nagent: agent-1-frontend\nowns: [frontend/]\nshared: [shared/]\n"
        "read_only:\n  - config/*.config.js\ntasks: []\n---\n"
        "## File Ownership\n- READ-ONLY (never write): `config/*.config.js`\n"
    )
    code, out = check(squad, "1", "config/webpack.config.js")
    assert code == 1
    assert (
        "config/webpack.config.js is READONLY (config/*.config.js from .squad/parallel-plans/agent-1-plan.md:6)" in out
    )
    assert check(squad, "1", "frontend/app.tsx")[0] == 0


def test_the_matrix_wins_and_a_conflict_with_a_plan_is_reported(squad: SquadPaths) -> None:
    three_plans(squad)
    squad.ownership.write_text("backend/: {owner: agent-1, access: EXCLUSIVE}\nshared/: {access: SEQUENTIAL}\n")
    code, out = check(squad, "2", API)
    assert code == 1 and f"{API} is EXCLUSIVE to agent-1 (backend/ from .squad/ownership.yaml:1)" in out
    code, status = status_json(squad)
    assert code == 2
    plan_line = f".squad/parallel-plans/agent-2-plan.md:{line_of(PLAN_2, API)}"
    conflicts = [p for p in status["problems"] if API in p]
    assert len(conflicts) == 1
    assert conflicts[0].startswith(plan_line) and ".squad/ownership.yaml:1" in conflicts[0]
    # what is in force is the matrix, each rule naming its line
    assert [(r["pattern"], r["source"]) for r in status["rules"]] == [
        ("backend/", ".squad/ownership.yaml:1"),
        ("shared/", ".squad/ownership.yaml:2"),
    ]


def test_an_allocated_squad_has_no_conflicts_and_names_matrix_lines(squad: SquadPaths) -> None:
    """squad's own allocate writes plans and a matrix that agree: no false conflicts."""
    prd = Path(__file__).resolve().parents[2] / "examples" / "parallel-test" / "feature-prd.md"
    result = run_squad("allocate", str(prd), cwd=squad.root)
    assert result.returncode == 0, result.stderr
    code, status = status_json(squad)
    assert code == 0, status["problems"]
    assert status["rules"] and all(r["source"].startswith(".squad/ownership.yaml:") for r in status["rules"])
    readonly = [r for r in status["rules"] if r["access"] == "READONLY"]
    assert readonly, "allocate keeps config/*.config.js READONLY"
