"""The agents: who is in the squad (``roster``), what state each is in and when it is stale
(``liveness``), and the blocks they post (``updates``: ``squad update`` and ``squad handoff``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from squad._lazy import exports

if TYPE_CHECKING:
    from squad.agents.liveness import AgentState, Fold, agent_state, is_stale_agent, shown_state, stale_reason
    from squad.agents.roster import Member, agent_from_env, members, read_member_plan, resolve
    from squad.agents.updates import post_handoff, post_update

_WHERE = {
    "Member": "squad.agents.roster",
    "agent_from_env": "squad.agents.roster",
    "members": "squad.agents.roster",
    "read_member_plan": "squad.agents.roster",
    "resolve": "squad.agents.roster",
    "AgentState": "squad.agents.liveness",
    "Fold": "squad.agents.liveness",
    "agent_state": "squad.agents.liveness",
    "is_stale_agent": "squad.agents.liveness",
    "shown_state": "squad.agents.liveness",
    "stale_reason": "squad.agents.liveness",
    "post_handoff": "squad.agents.updates",
    "post_update": "squad.agents.updates",
}
__all__ = [
    "AgentState",
    "Fold",
    "Member",
    "agent_from_env",
    "agent_state",
    "is_stale_agent",
    "members",
    "post_handoff",
    "post_update",
    "read_member_plan",
    "resolve",
    "shown_state",
    "stale_reason",
]


__getattr__ = exports(__name__, _WHERE)
