"""Allocation -> text: plan files, the stdout table and paste lines, and the ``--json`` document."""

from __future__ import annotations

import json
from functools import cache
from string import Template
from typing import Any

from squad.allocate.assign import AgentAllocation, Allocation, Task
from squad.allocate.model import hours_text
from squad.errors import SquadError
from squad.protocol.plan import Handoff, Plan


@cache
def _template(text: str | None) -> Template:
    """The plan template: ``text`` (a repository's override) or the shipped one."""
    if text is None:
        from squad.protocol.templates import PLAN, load_template

        text = load_template(PLAN)
    return Template(text)


# The plan body stays short enough to read at a glance (design section 2: under ~40 lines).
# The template's fixed lines take the rest; a longer plan lists its first tasks and points to
# the front matter, which always holds every task, subtask, file and handoff in the same order.
TASK_LINES = 12
LIST_ITEMS = 8  # owned / shared paths and handoffs named in the body before "and N more"
TITLE_CHARS = 100


def short(text: str, limit: int = TITLE_CHARS) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def _code_list(items: tuple[str, ...] | list[str], empty: str = "none", key: str = "") -> str:
    if not items:
        return empty
    shown = ", ".join(f"`{i}`" for i in items[:LIST_ITEMS])
    more = len(items) - LIST_ITEMS
    if more <= 0:
        return shown
    return shown + f" and {more} more" + (f" (`{key}:` in the front matter)" if key else "")


def _hours(hours: float) -> str:
    return hours_text(hours)


def _task_line(number: int, task: Task, agent: AgentAllocation, owner: dict[str, str]) -> str:
    notes = [_hours(task.hours)]
    if task.raw.paths:
        notes.append("files " + _code_list(task.raw.paths))
    mine = [dep for dep in task.depends_on if owner[dep] == agent.id]
    if mine:
        notes.append("after " + ", ".join(mine))
    notes += [f"after {d} from {owner[d]} (handoff)" for d in task.depends_on if owner[d] != agent.id]
    if task.resource:
        notes.append(f"lock `{task.resource}`")
    if task.stream is None:
        notes.append("unclassified: matched no stream, check where it belongs")
    return f"{number}. **{task.id}** {short(task.raw.title)} ({'; '.join(notes)})"


def _task_lines(agent: AgentAllocation, allocation: Allocation) -> str:
    """Every task with its subtasks when that fits in ``TASK_LINES``; else the tasks alone and a line
    saying where their steps are; else the first tasks and one line for the rest. The front matter
    always holds every task in the same order."""
    owner = {t.id: a.id for a in allocation.agents for t in a.tasks}
    tasks = agent.tasks
    has_steps = any(t.raw.subtasks for t in tasks)
    if len(tasks) + sum(len(t.raw.subtasks) for t in tasks) <= TASK_LINES:
        lines = []
        for number, task in enumerate(tasks, start=1):
            lines.append(_task_line(number, task, agent, owner))
            lines.extend(f"   - {short(sub)}" for sub in task.raw.subtasks)
        return "\n".join(lines)
    budget = TASK_LINES - has_steps
    shown = len(tasks) if len(tasks) <= budget else budget - 1
    lines = [_task_line(n, t, agent, owner) for n, t in enumerate(tasks[:shown], start=1)]
    rest = tasks[shown:]
    if rest:
        lines.append(
            f"{shown + 1}. Then {len(rest)} more tasks ({_hours(sum(t.hours for t in rest))}), {rest[0].id} first and "
            f"{rest[-1].id} last: the `tasks:` list in the front matter, in this order, with files and dependencies."
        )
    if has_steps:
        lines.append("The steps of each task are its `subtasks:` in the front matter.")
    return "\n".join(lines)


def _handoff_text(handoffs: tuple[Handoff, ...], word: str, key: str) -> str:
    """``F1 (`shared/types/metrics.ts`), F3 from agent-1-frontend; B2 from agent-2-backend``."""
    by_agent: dict[str, dict[str, list[str]]] = {}
    for h in handoffs:
        files = by_agent.setdefault(h.agent, {}).setdefault(h.task, [])
        if h.file:
            files.append(h.file)
    parts = []
    for agent, tasks in by_agent.items():
        items = [task + (f" ({_code_list(files)})" if files else "") for task, files in tasks.items()]
        more = len(items) - LIST_ITEMS
        text = ", ".join(items[:LIST_ITEMS]) + (f" and {more} more" if more > 0 else "")
        parts.append(f"{text} {word} {agent}")
    if len(parts) > LIST_ITEMS:
        parts = [*parts[:LIST_ITEMS], f"and {len(parts) - LIST_ITEMS} more agents (`{key}:` in the front matter)"]
    return "; ".join(parts) or "nothing"


def render_body(
    agent: AgentAllocation, allocation: Allocation, plan_path: str, comm_path: str, template: str | None = None
) -> str:
    handoffs_in = _handoff_text(agent.handoffs_in, "from", "handoffs_in")
    handoffs_out = _handoff_text(agent.handoffs_out, "to", "handoffs_out")
    try:
        return _render(_template(template), agent, allocation, plan_path, comm_path, handoffs_in, handoffs_out)
    except (KeyError, ValueError) as exc:  # a repository's own plan template with a placeholder squad lacks
        raise SquadError(
            f"plan template: unknown or malformed placeholder {exc} (see the shipped templates/plan.md)"
        ) from None


def _render(
    template: Template,
    agent: AgentAllocation,
    allocation: Allocation,
    plan_path: str,
    comm_path: str,
    handoffs_in: str,
    handoffs_out: str,
) -> str:
    return template.substitute(
        agent=agent.id,
        role=agent.role,
        team=len(allocation.agents),
        title=short(allocation.prd.title, 80),
        plan=plan_path,
        comm=comm_path,
        tasks=_task_lines(agent, allocation),
        owns=_code_list(agent.owns, key="owns"),
        shared=_code_list(agent.shared, key="shared"),
        read_only=_code_list(agent.read_only, key="read_only"),
        count=len(agent.tasks),
        first=f"{agent.tasks[0].id} {short(agent.tasks[0].raw.title, 60)}".replace('"', "'") if agent.tasks else "T1",
        handoffs_in=handoffs_in,
        handoffs_out=handoffs_out,
    )


def build_plan(
    agent: AgentAllocation, allocation: Allocation, plan_path: str, comm_path: str, template: str | None = None
) -> Plan:
    """The plan of ``agent``; its body from ``template`` (the text of a plan template, default the shipped one)."""
    return Plan(
        agent=agent.id,
        role=agent.role,
        owns=agent.owns,
        shared=agent.shared,
        read_only=agent.read_only,
        tasks=tuple(t.plan_task() for t in agent.tasks),
        handoffs_in=agent.handoffs_in,
        handoffs_out=agent.handoffs_out,
        body=render_body(agent, allocation, plan_path, comm_path, template),
    )


def env_lines(agent: AgentAllocation, plan_path: str, comm_path: str) -> list[str]:
    return [
        f"export AGENT_ID={agent.id} AGENT_TYPE={agent.role} AGENT_PLAN={plan_path} "
        f"AGENT_COMM={comm_path} PARALLEL_MODE=true",
    ]


def instruction(agent: AgentAllocation, plan_path: str, comm_path: str) -> str:
    return (
        f"You are {agent.id}. Read {plan_path} and do its tasks in order, writing only the files it says "
        f"you own; post status to {comm_path} with `squad update` and lock shared files with `squad lock` first."
    )


def streams_read(allocation: Allocation) -> dict[str, int]:
    """Tasks per stream, streams in the order their first task appears in the document."""
    tasks = sorted((t for a in allocation.agents for t in a.tasks), key=lambda t: t.raw.line)
    counts: dict[str, int] = {}
    for task in tasks:
        name = task.stream or "unclassified"
        counts[name] = counts.get(name, 0) + 1
    return counts


def render_understanding(allocation: Allocation) -> str:
    """What was read, before anything is written: the format, tasks per stream, what was skipped
    and why, and the references that resolve to nothing."""
    from squad.allocate.formats._common import FORMAT_NAMES

    counts = streams_read(allocation)
    total = sum(counts.values())
    per = ", ".join(f"{name} {n}" for name, n in counts.items())
    out = [
        f"Read {allocation.prd.path} as {FORMAT_NAMES.get(allocation.prd.format, allocation.prd.format)}: "
        f"{total} task{'s' if total != 1 else ''} in {len(counts)} stream{'s' if len(counts) != 1 else ''} ({per})."
    ]
    for note in allocation.read_notes:
        if note.startswith("unresolved: "):
            out.append(f"Unresolved: {note.removeprefix('unresolved: ')}")
        else:
            out.append(f"Read: {note}")
    return "\n".join(out)


def render_text(allocation: Allocation, locations: list[tuple[str, str]], written: bool) -> str:
    rows = [("AGENT", "ROLE", "TASKS", "EFFORT", "OWNS")]
    for agent in allocation.agents:
        rows.append((agent.id, agent.role, str(len(agent.tasks)), _hours(agent.effort_h), ", ".join(agent.owns) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    tasks, agents = sum(len(a.tasks) for a in allocation.agents), len(allocation.agents)
    out = [
        f"{short(allocation.prd.title, 80)}: {tasks} task{'s' if tasks != 1 else ''} for "
        f"{agents} agent{'s' if agents != 1 else ''}",
        "",
    ]
    out += ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(r)).rstrip() for r in rows]
    p = allocation.prediction
    out += [
        "",
        f"Predicted: {_hours(p.sequential_h)} for one agent, {_hours(p.makespan_h)} with {len(allocation.agents)} "
        f"(speedup {p.speedup:g}x).",
    ]
    if allocation.handoffs:
        out.append(
            f"Handoffs: {len(allocation.handoffs)} ("
            + ", ".join(sorted({f"{h.from_agent} -> {h.to_agent}" for h in allocation.handoffs}))
            + ")"
        )
    unclassified = sum(1 for a in allocation.agents for t in a.tasks if t.stream is None)
    if unclassified:
        out.append(f"Unclassified: {unclassified} task(s) matched no stream; each went to the least-loaded agent.")
    out += [f"Note: {note}" for note in allocation.notes if note not in allocation.read_notes]
    out.append("")
    out.append(
        "Wrote .squad/ plans, ownership.yaml, comm files and allocation.json."
        if written
        else "Dry run: nothing written."
    )
    for agent, (plan_path, comm_path) in zip(allocation.agents, locations, strict=True):
        out += ["", f"# Terminal {agent.number}: {agent.id}", *env_lines(agent, plan_path, comm_path)]
        out.append(f'Tell the agent: "{instruction(agent, plan_path, comm_path)}"')
    return "\n".join(out)


def to_json(allocation: Allocation, locations: list[tuple[str, str]], written: bool) -> dict[str, Any]:
    return {
        "prd": allocation.prd.path,
        "title": allocation.prd.title,
        "written": written,
        "agents": [
            {
                "id": agent.id,
                "role": agent.role,
                "streams": list(agent.streams),
                "owns": list(agent.owns),
                "shared": list(agent.shared),
                "read_only": list(agent.read_only),
                "plan": plan_path,
                "comm": comm_path,
                "tasks": [
                    {
                        "id": t.id,
                        "title": t.raw.title,
                        "depends_on": list(t.depends_on),
                        "estimate_h": round(t.hours, 2),
                        "files": list(t.raw.paths),
                        "stream": t.stream,
                        "resource": t.resource,
                        "unclassified": t.stream is None,
                        "line": t.raw.line,
                    }
                    for t in agent.tasks
                ],
                "effort_h": round(agent.effort_h, 2),
                "handoffs_in": [{"task": h.task, "from": h.agent, "file": h.file} for h in agent.handoffs_in],
                "handoffs_out": [{"task": h.task, "to": h.agent, "file": h.file} for h in agent.handoffs_out],
            }
            for agent, (plan_path, comm_path) in zip(allocation.agents, locations, strict=True)
        ],
        "ownership": [
            {"pattern": e.pattern, "owner": e.owner, "access": e.access, "resource": e.resource}
            for e in allocation.matrix.entries
        ],
        "handoffs": [
            {"task": h.task, "from": h.from_agent, "to": h.to_agent, "file": h.file, "for_task": h.for_task}
            for h in allocation.handoffs
        ],
        "prediction": {
            "sequential_h": allocation.prediction.sequential_h,
            "makespan_h": allocation.prediction.makespan_h,
            "speedup": allocation.prediction.speedup,
        },
        "notes": list(allocation.notes),
        "source": {
            "format": allocation.prd.format,
            "streams": streams_read(allocation),
            "read_notes": list(allocation.read_notes),
        },
    }


def json_text(document: dict[str, Any]) -> str:
    """The ``--json`` document as printed and as saved in ``.squad/allocation.json`` (same bytes)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
