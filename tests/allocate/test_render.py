"""Plan bodies: upstream's section names, and under 40 lines however big the plan."""

from __future__ import annotations

import pytest

from squad.allocate import plan_allocation
from squad.allocate.render import TASK_LINES, build_plan, short
from squad.protocol.plan import parse_plan, render_plan
from tests.allocate.invariants import check_invariants
from tests.allocate.prds import EXAMPLE

SECTIONS = (
    "# Agent Identity",
    "## Tasks",
    "## File Ownership",
    "CREATE / MODIFY",
    "READ-ONLY",
    "## Communication Points",
)


def _big(tasks: int, subtasks: int = 1) -> str:
    lines = ["# Big", "", "## Tasks"]
    for i in range(1, tasks + 1):
        stream = ("frontend", "backend", "ml")[i % 3]
        dep = f", depends on: K{i - 1}" if i > 1 and i % 2 == 0 else ""
        lines.append(f"- K{i}: [{stream}] thing number {i} `{stream}/m{i}/f.ts` (1h{dep})")
        lines += [f"  - step {s}" for s in range(subtasks)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("tasks", "subtasks", "agents"), [(3, 0, 1), (12, 0, 1), (6, 3, 1), (60, 1, 2), (300, 0, 1)])
def test_plan_bodies_keep_upstream_sections_and_stay_under_40_lines(tasks: int, subtasks: int, agents: int) -> None:
    from pathlib import Path

    allocation = plan_allocation(_big(tasks, subtasks), "big.md", agents=agents)
    check_invariants(allocation, balanced=False)
    for agent in allocation.agents:
        plan = build_plan(agent, allocation, "p.md", "c.md")
        lines = plan.body.splitlines()
        assert len(lines) < 40, "\n".join(lines)
        for section in SECTIONS:
            assert section in plan.body
        # Every task is in the front matter, in the body's order, whatever the body shows.
        again = parse_plan(render_plan(plan), Path("p.md"))
        assert [t.id for t in again.tasks] == [t.id for t in agent.tasks]
        numbered = [line for line in lines if line[:1].isdigit()]
        ids = [t.id for t in agent.tasks]
        if len(agent.tasks) + sum(len(t.raw.subtasks) for t in agent.tasks) <= TASK_LINES:
            assert len(numbered) == len(ids) and "front matter" not in plan.body.split("## File Ownership")[0]
        else:
            shown = [line.split("**")[1] for line in numbered if "**" in line]
            assert shown == ids[: len(shown)]
            if len(shown) < len(ids):
                rest = len(ids) - len(shown)
                assert f"Then {rest} more tasks" in plan.body and f"{ids[len(shown)]} first" in plan.body
            if subtasks:
                assert "`subtasks:` in the front matter" in plan.body


def test_long_lists_of_owned_paths_and_handoffs_are_summarised() -> None:
    allocation = plan_allocation(_big(60), "big.md", agents=2)
    agent = allocation.agents[1]
    assert len(agent.handoffs_in) > 8
    body = build_plan(agent, allocation, "p.md", "c.md").body
    waiting = next(line for line in body.splitlines() if line.startswith("- Waiting for:"))
    assert f"and {len(agent.handoffs_in) - 8} more from agent-1-" in waiting


def test_the_example_plans_list_every_task_with_its_steps() -> None:
    allocation = plan_allocation(EXAMPLE.read_text(), EXAMPLE)
    body = build_plan(allocation.agents[0], allocation, "p.md", "c.md").body
    assert "1. **F1** Dashboard layout and shared types" in body
    assert "   - Grid layout with header, filters and a content area" in body
    assert "Waiting for: B3 from agent-2-backend" in body


def test_short_cuts_at_a_word() -> None:
    assert short("a" * 10, 20) == "a" * 10
    text = "word " * 40
    cut = short(text, 50)
    assert len(cut) <= 50 and cut.endswith("word…")


def test_effort_is_printed_with_at_most_one_decimal() -> None:
    from squad.allocate.model import hours_text
    from squad.allocate.render import render_text

    assert (hours_text(2.833333), hours_text(2.0), hours_text(0.5), hours_text(1.25)) == ("2.8h", "2h", "30m", "1.2h")
    text = (
        "# X\n## Tasks\n- [backend] a `api/a.py` (10m)\n- [backend] b `api/b.py` (40m)\n- [backend] c `api/c.py` (2h)\n"
    )
    out = render_text(plan_allocation(text, "x.md"), [("p", "c")], False)
    assert "2.83333" not in out and "2.8h" in out
