"""Agent ids: ``agent-<n>-<role>``. ``agent-1-frontend``, ``agent-1``, ``Agent 1`` and ``1`` name one agent."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from squad.errors import SquadError

_ID_RE = re.compile(r"^\s*agent[-_ ]?(\d+)(?:-([a-z0-9][a-z0-9_-]*?))?\s*$", re.IGNORECASE)
_NUMBER_RE = re.compile(r"^\s*#?(\d+)\s*$")
# An agent mentioned in prose: "agent-2", "Agent 2", "agent-2-backend".
MENTION_RE = re.compile(r"\bagent[-_ ]?(\d+)((?:-[a-z][a-z0-9_]*)+)?", re.IGNORECASE)
# Words that follow an agent number in file names, never part of a role.
_NOT_ROLES = {"comm", "plan", "lock", "log", "md"}


@dataclass(frozen=True, order=True)
class AgentId:
    number: int
    role: str | None = None

    def __str__(self) -> str:
        return f"agent-{self.number}-{self.role}" if self.role else f"agent-{self.number}"


@functools.lru_cache(maxsize=4096)  # a comm file names its agent in every block: parsed once
def parse_agent_id(text: str) -> AgentId | None:
    """Parse ``agent-1-frontend``, ``agent-1``, ``Agent 1`` or ``1``; None when it is none of them."""
    match = _NUMBER_RE.match(text)
    if match:
        return AgentId(int(match.group(1)))
    match = _ID_RE.match(text)
    if not match:
        return None
    role = match.group(2)
    if role:
        role = role.lower()
        parts = role.split("-")
        while parts and parts[-1] in _NOT_ROLES:
            parts.pop()
        role = "-".join(parts) or None
    return AgentId(int(match.group(1)), role)


@functools.lru_cache(maxsize=4096)
def mentioned_agent(text: str) -> AgentId | None:
    """The first agent named anywhere in ``text`` (prose such as ``locked by agent-2``)."""
    match = MENTION_RE.search(text)
    if not match:
        return None
    return parse_agent_id(match.group(0).replace(" ", "-").replace("_", "-"))


def resolve_agent(name: str, known: Iterable[AgentId]) -> AgentId:
    """The known agent ``name`` refers to, by number; an unknown number keeps the name's role."""
    parsed = parse_agent_id(name)
    if parsed is None:
        raise SquadError(f"bad agent id {name!r}: use agent-<n>-<role>, agent-<n> or <n>")
    for agent in known:
        if agent.number == parsed.number:
            return agent if agent.role or not parsed.role else parsed
    return parsed


@functools.lru_cache(maxsize=4096)
def agent_number(text: str) -> int | None:
    """The agent number ``text`` names (``agent-3-api``, ``Agent 3``, ``3``); None when none."""
    parsed = parse_agent_id(text)
    return parsed.number if parsed is not None else None


def same_agent(a: str | AgentId | None, b: str | AgentId | None) -> bool:
    """True when both name the same agent number."""
    if a is None or b is None:
        return False
    pa = a.number if isinstance(a, AgentId) else agent_number(a)
    pb = b.number if isinstance(b, AgentId) else agent_number(b)
    return pa is not None and pa == pb
