"""Plans written as plain markdown (ai-agent-hub's squad mode, no front matter) are read untouched."""

from __future__ import annotations

from pathlib import Path

from squad.paths import SquadPaths
from squad.protocol.plan import parse_plan, read_plan
from tests.conftest import run_squad

UPSTREAM = """# Agent 1 Plan: Frontend UI Developer

## Agent Identity
- **Agent ID**: agent-1-frontend-ui-developer
- **Role**: frontend
- **Mode**: Parallel execution

## Tasks
1. **T1**: Create dashboard layout (2h)
2. **T2**: Build metric cards (1h)
3. **T3**: Add charts with recharts (3h, depends on: B2)

## File Ownership
### CREATE (exclusive to you)
- `frontend/src/components/Dashboard.tsx`
- /frontend/src/components/Charts.tsx
### MODIFY (shared, lock first)
- `shared/types/metrics.ts`
### READ-ONLY
- config/webpack.config.js

## Communication Points
- Post status to .squad/comms/agent-1-comm.md
"""


def test_upstream_plan_sections_give_identity_tasks_and_ownership(tmp_path: Path) -> None:
    plan = parse_plan(UPSTREAM, tmp_path / "agent-1-plan.md")
    assert (plan.agent, plan.role) == ("agent-1-frontend-ui-developer", "frontend")
    assert plan.owns == ("frontend/src/components/Dashboard.tsx", "frontend/src/components/Charts.tsx")
    assert plan.shared == ("shared/types/metrics.ts",)
    # READ-ONLY is what this agent reads: no rule for anyone (issue 15), unlike front matter read_only
    assert (plan.reads, plan.read_only) == (("config/webpack.config.js",), ())
    assert plan.line_of("owns", "frontend/src/components/Dashboard.tsx") == 15
    assert [(t.id, t.title, t.estimate, t.depends_on) for t in plan.tasks] == [
        ("T1", "Create dashboard layout", "2h", ()),
        ("T2", "Build metric cards", "1h", ()),
        ("T3", "Add charts with recharts", "3h", ("B2",)),
    ]
    assert plan.body.startswith("# Agent 1 Plan")  # the body itself is kept as written


def test_inline_ownership_keys_and_tasks_without_ids(tmp_path: Path) -> None:
    text = """## Agent Identity
Agent ID: agent-2-backend-system-architect

## Task List
- Design the metrics schema
- Write REST endpoints (after: T1)

## File Ownership
- CREATE: `backend/`, `migrations/001.sql`
- MODIFY: backend/app.py
- READ-ONLY: `docs/adr/`
"""
    plan = parse_plan(text, tmp_path / "agent-2-plan.md")
    assert plan.agent == "agent-2-backend-system-architect"
    assert plan.owns == ("backend/", "migrations/001.sql", "backend/app.py")
    assert (plan.reads, plan.read_only) == (("docs/adr/",), ())
    assert [(t.id, t.title, t.depends_on) for t in plan.tasks] == [
        ("T1", "Design the metrics schema", ()),
        ("T2", "Write REST endpoints", ("T1",)),
    ]


def test_front_matter_wins_over_the_body(tmp_path: Path) -> None:
    text = "---\nagent: agent-1-web\nowns: [web/]\ntasks: [{id: W1, title: x}]\n---\n" + UPSTREAM
    plan = parse_plan(text, tmp_path / "agent-1-plan.md")
    assert plan.agent == "agent-1-web" and plan.owns == ("web/",) and [t.id for t in plan.tasks] == ["W1"]


def test_check_and_status_use_an_upstream_plan(squad: SquadPaths) -> None:
    squad.plan(1).write_text(UPSTREAM)
    assert read_plan(squad.plan(1)).agent == "agent-1-frontend-ui-developer"
    update = run_squad("update", "--agent", "1", "--status", "ACTIVE", "--task", "T1", cwd=squad.root)
    assert update.stdout.startswith("agent-1-frontend-ui-developer: ACTIVE")
    status = run_squad("status", cwd=squad.root, env={"NO_COLOR": "1"})
    assert "agent-1-frontend-ui-developer" in status.stdout and "0/3" in status.stdout
    ok = run_squad("check", "--agent", "1", "frontend/src/components/Dashboard.tsx", cwd=squad.root)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # READ-ONLY constrains nobody: the file follows default_access (SEQUENTIAL: lock it first)
    refused = run_squad("check", "--agent", "1", "config/webpack.config.js", cwd=squad.root)
    assert refused.returncode == 1 and "READONLY" not in refused.stdout and "lock it first" in refused.stdout
