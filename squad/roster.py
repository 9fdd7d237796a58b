"""Which agents exist, and what a name given on the command line refers to.

The id comes from a plan's front matter when there is a plan, else from the comm file. Plans are
scanned with a regex on the ``agent:`` line rather than a YAML parser: ``squad update`` and
``squad lock`` call this on every run, and must start fast.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from squad.errors import SquadError
from squad.paths import SquadPaths
from squad.protocol.ids import AgentId, mentioned_agent, parse_agent_id

_FILE_RE = re.compile(r"^agent-(\d+)-(plan|comm)\.md$")
_AGENT_LINE_RE = re.compile(r"^agent(?:_id)?:\s*['\"]?([^'\"\s#]+)", re.MULTILINE)


@dataclass(frozen=True)
class Member:
    id: AgentId
    plan: Path
    comm: Path

    @property
    def name(self) -> str:
        return str(self.id)


def _id_in_plan(path: Path) -> AgentId | None:
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    match = _AGENT_LINE_RE.search(head)
    return parse_agent_id(match.group(1)) if match else None


def _id_in_comm(path: Path, number: int) -> AgentId | None:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(8192)
    except OSError:
        return None
    for match in re.finditer(rf"\bagent-{number}-[a-z][a-z0-9_-]*", head, re.IGNORECASE):
        agent = mentioned_agent(match.group(0))
        if agent and agent.role:
            return agent
    return None


def members(paths: SquadPaths) -> list[Member]:
    """Every agent with a plan or a comm file, ordered by number."""
    numbers: set[int] = set()
    for folder in (paths.plans, paths.comms):
        try:
            names = [entry.name for entry in folder.iterdir()]
        except FileNotFoundError:
            continue
        for name in names:
            match = _FILE_RE.match(name)
            if match:
                numbers.add(int(match.group(1)))
    out = []
    for number in sorted(numbers):
        plan, comm = paths.plan(number), paths.comm(number)
        agent = _id_in_plan(plan) if plan.exists() else None
        if agent is None or agent.number != number:
            agent = _id_in_comm(comm, number) or AgentId(number)
        out.append(Member(agent, plan, comm))
    return out


def resolve(paths: SquadPaths, name: str | None) -> Member:
    """The member ``name`` (or ``$AGENT_ID``) names; a new number is a new member."""
    name = name or os.environ.get("AGENT_ID")
    if not name:
        raise SquadError("no agent given: pass --agent or set AGENT_ID (e.g. export AGENT_ID=agent-1-frontend)")
    parsed = parse_agent_id(name)
    if parsed is None:
        raise SquadError(f"bad agent id {name!r}: use agent-<n>-<role>, agent-<n> or <n>")
    for member in members(paths):
        if member.id.number == parsed.number:
            if parsed.role and not member.id.role:
                return Member(parsed, member.plan, member.comm)
            return member
    if parsed.role is None:
        env_type = os.environ.get("AGENT_TYPE")
        if env_type and os.environ.get("AGENT_ID") == name:
            parsed = AgentId(parsed.number, env_type.lower())
    return Member(parsed, paths.plan(parsed.number), paths.comm(parsed.number))
