"""Plain-text and markdown views of a snapshot: ``squad status`` without a terminal, and
``reports/status.md`` which the coordinator rewrites atomically."""

from __future__ import annotations

from squad.agents.liveness import is_stale_agent
from squad.coordinator.state import AgentState, Snapshot
from squad.protocol.comm import Status
from squad.protocol.times import format_time


def age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def progress_text(agent: AgentState) -> str:
    return str(agent.progress) if agent.progress else "-"


def doing(agent: AgentState) -> str:
    if agent.waiting_for and agent.status in (Status.BLOCKED, Status.WAITING):
        text = f"waiting: {agent.waiting_path or agent.waiting_for}"
        if agent.waiting_holder:
            text += f" (held by {agent.waiting_holder})"
        return text
    return agent.task or "-"


def plain_status(snap: Snapshot) -> str:
    lines = [f"squad status at {format_time(snap.at)}", ""]
    if not snap.agents:
        lines.append("no agents yet: run `squad allocate PRD`, or post with `squad update --agent 1 --status ACTIVE`")
    else:
        width = max(24, *(len(a.id) for a in snap.agents))
        lines.append(f"{'AGENT':<{width}} {'STATUS':<9} {'PROGRESS':<9} {'LAST':>8}  DOING")
        for a in snap.agents:
            status = a.status.value + ("*" if is_stale_agent(a, snap.stale_s) else "")
            lines.append(f"{a.id:<{width}} {status:<9} {progress_text(a):<9} {age(a.idle_s):>8}  {doing(a)}")
    if snap.locks:
        lines += ["", "LOCKS"]
        for lock in snap.locks:
            mark = f"  STALE ({lock.stale_reason})" if lock.stale else ("  long-held" if lock.long_held else "")
            lines.append(f"  {lock.lease.path}  held by {lock.lease.agent} for {age(lock.held_s)}{mark}")
    if snap.handoffs:
        lines += ["", "HANDOFFS"]
        for owner, h in snap.handoffs:
            lines.append(f"  {h.from_agent or owner} -> {h.to_agent}: {h.file or '?'}  {h.status or ''}".rstrip())
    if snap.violations:
        lines += ["", "VIOLATIONS"]
        for v in snap.violations[-10:]:
            lines.append(f"  {format_time(v.at)}  {v.agent or '?'}  {v.path or ''}  {v.data.get('rule', v.detail)}")
    if any(is_stale_agent(a, snap.stale_s) for a in snap.agents):
        lines.append(
            f"* stale: silent for over {age(snap.stale_s)}; its leases are stale and its tasks may be reassigned"
        )
    for problem in snap.problems:
        lines.append(f"problem: {problem}")
    m = snap.metrics
    lines += [
        "",
        f"tasks {m.get('tasks_done', 0)}/{m.get('tasks_total', 0)}  conflicts {m.get('conflicts', 0)}  "
        f"lock waits {m.get('lock_waits', 0)}",
    ]
    return "\n".join(lines) + "\n"


def markdown_status(snap: Snapshot) -> str:
    text = "# Squad status\n\n```\n" + plain_status(snap) + "```\n"
    if "wall_s" in snap.metrics:  # the coordinator's measured metrics, each labelled
        from squad.coordinator.metrics import labelled

        text += "\n## Metrics\n\n| metric | value |\n| --- | --- |\n"
        text += "".join(f"| {label} | {value} |\n" for label, value in labelled(snap.metrics))
    if snap.events:
        text += "\n## Recent events\n\n"
        for e in snap.events[-10:]:
            who = " ".join(x for x in (e.agent, e.path) if x)
            text += f"- {format_time(e.at)} `{e.kind}` {who} {e.detail}".rstrip() + "\n"
    return text
