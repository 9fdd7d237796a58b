"""The read-only views ``squad mcp`` offers as MCP resources (not tools: reading them costs the
tool list nothing): my plan, the ownership rules, recent events, my leases. No MCP SDK here."""

from __future__ import annotations

from dataclasses import dataclass

from squad.errors import SquadError
from squad.mcp._tools import AgentSession
from squad.protocol.times import now as utcnow

RECENT_EVENTS = 30
LEASES_URI = "squad://leases"  # the one a client subscribes to, to hear of a lost lease


@dataclass(frozen=True)
class View:
    uri: str
    name: str
    description: str
    mime_type: str = "text/plain"


VIEWS: tuple[View, ...] = (
    View("squad://plan", "plan", "My plan: front matter and instructions.", "text/markdown"),
    View("squad://matrix", "matrix", "Who may write what: one rule a line, last match wins."),
    View("squad://events", "events", f"The last {RECENT_EVENTS} coordinator events, one JSON object a line."),
    View(LEASES_URI, "leases", "My leases, and the ones I lost lately (subscribe to hear of a loss)."),
)


def read_view(session: AgentSession, uri: str) -> str:
    """The text of view ``uri``; SquadError for an unknown one or a file that cannot be read."""
    readers = {"squad://plan": _plan, "squad://matrix": _matrix, "squad://events": _events, LEASES_URI: _leases}
    reader = readers.get(uri)
    if reader is None:
        raise SquadError(f"unknown resource {uri!r}: the resources are {', '.join(v.uri for v in VIEWS)}")
    return reader(session)


def _plan(session: AgentSession) -> str:
    from squad.agents.roster import resolve
    from squad.protocol.textfile import read_text

    plan = resolve(session.paths, session.agent).plan
    if not plan.exists():
        return f"{session.agent} has no plan ({session.paths.display(plan)} does not exist)\n"
    return read_text(plan)


def _matrix(session: AgentSession) -> str:
    from squad.enforce.access import load_rules

    rules = load_rules(session.paths)
    lines = []
    for e in rules.entries:
        line = f"{e.pattern}: {e.access}"
        if e.owner:
            line += f" owner {e.owner}"
        if e.resource:
            line += f" needs {e.resource}"
        lines.append(line)
    lines.append(f"anything else: {rules.default_access}")
    return "\n".join(lines) + "\n"


def _events(session: AgentSession) -> str:
    from squad.protocol.events import read_events

    recent = read_events(session.paths.events)[-RECENT_EVENTS:]
    return "".join(e.to_json() + "\n" for e in recent) or "no events yet\n"


def _leases(session: AgentSession) -> str:
    from squad.leases.locks import same_holder, survey
    from squad.protocol.times import format_time

    now = utcnow()
    mine = [lease for lease in survey(session.paths).leases if same_holder(lease.agent, session.agent)]
    lines = [
        f"{lease.path} until {format_time(lease.expires_at)}" + (" (EXPIRED)" if lease.expired(now) else "")
        for lease in mine
    ] or ["no leases"]
    lines.extend(session.recent_notices())
    return "\n".join(lines) + "\n"
