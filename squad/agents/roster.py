"""Which agents exist, and what a name given on the command line refers to.

The id comes from a plan's front matter when there is a plan, else from the comm file. Plans are
scanned with a regex on the ``agent:`` line rather than a YAML parser: ``squad update`` and
``squad lock`` call this on every run, and must start fast.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from squad.errors import SquadError
from squad.paths import SquadPaths
from squad.protocol.ids import AgentId, mentioned_agent, parse_agent_id

if TYPE_CHECKING:
    from squad.protocol.plan import Plan

# agent-1-comm.md as squad writes it; agent-01-comm.md or agent-1-frontend-comm.md as people may name it.
MEMBER_FILE_RE = re.compile(r"^agent-0*(\d+)(?:-([a-z0-9][a-z0-9_-]*?))?-(plan|comm)\.md$", re.IGNORECASE)
_FILE_RE = MEMBER_FILE_RE
# `agent: agent-1-frontend` in front matter, or `- **Agent ID**: agent-1-frontend` in a plain markdown plan.
_AGENT_LINE_RE = re.compile(
    r"^[\s*-]*\**agent(?:[ _]?id)?\**\s*:\s*\**\s*['\"`]?([^'\"`\s#*]+)", re.MULTILINE | re.IGNORECASE
)


@dataclass(frozen=True)
class Member:
    id: AgentId
    plan: Path
    comm: Path

    @property
    def name(self) -> str:
        return str(self.id)


def _id_in_plan(path: Path) -> AgentId | None:
    # Bytes decoded leniently: a plan that is not UTF-8 is its agent's problem (reported when the
    # plan is read), never a reason for the roster, and so every agent's command, to fail.
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
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
    """Every agent with a plan or a comm file, ordered by number.

    The canonical names (``agent-1-plan.md``, ``agent-1-comm.md``) win; a file named otherwise for
    that number (``agent-01-comm.md``, ``agent-1-frontend-comm.md``) is used when there is no
    canonical one, so a hand-named file is read, not ignored.
    """
    found: dict[tuple[int, str], Path] = {}
    roles: dict[int, str] = {}
    for folder in (paths.plans, paths.comms):
        try:
            names = sorted(entry.name for entry in folder.iterdir() if entry.is_file())
        except OSError:  # no such folder (yet), or not a folder
            continue
        for name in names:
            match = _FILE_RE.match(name)
            if not match:
                continue
            number, role, kind = int(match.group(1)), match.group(2), match.group(3).lower()
            if name == f"agent-{number}-{kind}.md" or (number, kind) not in found:  # the canonical name wins
                found[(number, kind)] = folder / name
            if role and role.lower() not in ("comm", "plan"):
                roles.setdefault(number, role.lower())
    out = []
    for number in sorted({n for n, _ in found}):
        plan = found.get((number, "plan"), paths.plan(number))
        comm = found.get((number, "comm"), paths.comm(number))
        agent = _id_in_plan(plan)  # None when there is no plan
        if agent is None or agent.number != number:
            agent = _id_in_comm(comm, number) or AgentId(number, roles.get(number))
        out.append(Member(agent, plan, comm))
    return out


def agent_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """Who the environment says this agent is: ``$AGENT_ID``, else the number in ``$AGENT_COMM`` or
    ``$AGENT_PLAN`` (``.squad/comms/agent-2-comm.md``); ``$AGENT_TYPE`` supplies a missing role."""
    env = os.environ if environ is None else environ
    name = env.get("AGENT_ID", "").strip()
    if not name:
        for var in ("AGENT_COMM", "AGENT_PLAN"):
            match = _FILE_RE.match(Path(env.get(var, "")).name)
            if match:
                name = f"agent-{match.group(1)}"
                break
    if not name:
        return None
    parsed = parse_agent_id(name)
    role = env.get("AGENT_TYPE", "").strip().lower()
    if parsed is not None and parsed.role is None and role and re.fullmatch(r"[a-z0-9][a-z0-9_-]*", role):
        return str(AgentId(parsed.number, role))
    return name


def parallel_mode_off(environ: Mapping[str, str] | None = None) -> bool:
    """``PARALLEL_MODE=false`` (or 0 / no / off): the agent says it is not working in a squad."""
    env = os.environ if environ is None else environ
    return env.get("PARALLEL_MODE", "").strip().lower() in ("false", "0", "no", "off")


def matrix_owners(paths: SquadPaths) -> list[AgentId]:
    """The agents ``ownership.yaml`` names as owners; a malformed matrix is a SquadError naming it."""
    if not paths.ownership.exists():
        return []
    from squad.protocol.ownership import load_matrix

    owners = (parse_agent_id(e.owner) for e in load_matrix(paths.ownership).entries if e.owner)
    return sorted({a.number: a for a in owners if a is not None}.values())


def resolve(paths: SquadPaths, name: str | None) -> Member:
    """The member ``name`` (or the agent the environment names) refers to.

    An agent is known by its plan, its comm file or an entry of the ownership matrix. Once plans or
    matrix owners say who the squad is, a name the roster does not know is refused, naming the
    agents it does know (a typo such as ``agent-9`` must not take leases or receive handoffs nobody
    will see). Before that any well-formed id is a new member: a squad run without ``allocate``
    grows by agents posting their first update, so comm files alone name agents but close no door.
    """
    name = name or agent_from_env()
    if not name:
        raise SquadError("no agent given: pass --agent or set AGENT_ID (e.g. export AGENT_ID=agent-1-frontend)")
    parsed = parse_agent_id(name)
    if parsed is None:
        raise SquadError(f"bad agent id {name!r}: use agent-<n>-<role>, agent-<n> or <n>")
    found = members(paths)
    for member in found:
        if member.id.number == parsed.number:
            if parsed.role and not member.id.role:
                return Member(parsed, member.plan, member.comm)
            return member
    # Not among the files: the matrix is read (yaml) only now, off the hot path of a known agent.
    owners = matrix_owners(paths)
    for owner in owners:
        if owner.number == parsed.number:
            agent = owner if owner.role or not parsed.role else parsed
            return Member(agent, paths.plan(owner.number), paths.comm(owner.number))
    if owners or any(m.plan.exists() for m in found):
        known = sorted({a.number: a for a in [*(m.id for m in found), *owners]}.values())
        names = ", ".join(str(a) for a in known)
        raise SquadError(f"unknown agent {name!r}: this squad's agents are {names}")
    return Member(parsed, paths.plan(parsed.number), paths.comm(parsed.number))


_INSTANCE_RE = re.compile(r"^\s*([a-z0-9][a-z0-9_-]*?)\s*(?:\[(\d+)\])?\s*$", re.IGNORECASE)


def by_role(found: list[Member], name: str) -> Member | None:
    """The member a role name stands for, as ai-agent-hub's protocol names a lock holder:
    ``frontend-ui-developer[1]`` is the first agent whose role is ``frontend-ui-developer``
    (by number), ``backend-system-architect`` the only one with that role. None when unclear."""
    match = _INSTANCE_RE.match(name)
    if match is None:
        return None
    role, instance = match.group(1).lower(), match.group(2)
    same = [m for m in found if m.id.role and m.id.role.lower() == role]
    if instance is not None and 1 <= int(instance) <= len(same):
        return same[int(instance) - 1]
    return same[0] if len(same) == 1 else None


def read_member_plan(member: Member, problems: list[SquadError]) -> Plan | None:
    """``member``'s plan, or None when it has none; a malformed plan is added to ``problems``, not
    raised: one agent's bad plan is that agent's problem, and everyone else's commands go on."""
    if not member.plan.exists():
        return None
    from squad.protocol.plan import read_plan

    try:
        return read_plan(member.plan)
    except SquadError as exc:
        problems.append(exc)
        return None
