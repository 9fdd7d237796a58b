"""What the ``status`` tool and the resources say, as short plain text: every line costs the agent
context, so one line per thing, no tables, no decoration."""

from __future__ import annotations

from datetime import datetime

from squad.agents.liveness import AgentState, shown_state
from squad.coordinator.brief import Brief
from squad.coordinator.state import LockView
from squad.protocol.times import format_time
from squad.views.report import age, doing, progress_text


def agent_line(a: AgentState, stale_s: float | None) -> str:
    last = f"last update {age(a.idle_s)} ago" if a.idle_s is not None else "no update yet"
    return f"{a.id}: {shown_state(a, stale_s)}, {progress_text(a)}, {doing(a)}, {last}"


def lease_line(view: LockView, now: datetime) -> str:
    lease = view.lease
    left = (lease.expires_at - now).total_seconds()
    when = f"until {format_time(lease.expires_at)} ({age(left)} left)" if left > 0 else "EXPIRED"
    line = f"{lease.path} {when}"
    if view.stale and left > 0:
        line += f", STALE: {view.stale_reason}"
    return line


def brief_text(brief: Brief, now: datetime) -> str:
    lines = [f"me: {agent_line(brief.me, brief.stale_s)}"]
    plan = brief.plan
    if plan is None:
        lines.append(f"plan: none ({brief.plan_file} does not exist)")
    else:
        parts = [f"owns {', '.join(plan.owns) or '-'}", f"shared {', '.join(plan.shared) or '-'}"]
        if plan.read_only:
            parts.append(f"read-only {', '.join(plan.read_only)}")
        lines.append(f"plan: {brief.plan_file}: {len(plan.tasks)} tasks; {'; '.join(parts)}")
    lines.append(f"next: {brief.next.line()}")
    lines.extend(f"lease: {lease_line(view, now)}" for view in brief.leases)
    if not brief.leases:
        lines.append("leases: none")
    lines.extend(f"peer: {agent_line(a, brief.stale_s)}" for a in brief.peers)
    if brief.problems:
        lines.append(f"problems: {len(brief.problems)} file(s) could not be read, e.g. {brief.problems[0].render()}")
    return "\n".join(lines)
