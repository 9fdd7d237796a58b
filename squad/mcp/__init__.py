"""``squad mcp``: the squad's tools over the Model Context Protocol, beside the CLI, never instead of it.

At most eight tools (``TOOLS``), each a thin call into what the CLI calls, and read-only views as
resources (``VIEWS``). ``AgentSession`` runs the tools for one agent without any MCP SDK (tests and
other programs may call it); ``serve`` puts it on stdio with the official ``mcp`` SDK (the ``mcp``
extra), which only ``serve`` imports, so nothing else in squad pays for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from squad.mcp._resources import VIEWS, View, read_view
    from squad.mcp._server import serve
    from squad.mcp._tools import TOOLS, AgentSession, Reply, Tool

_WHERE = {
    "AgentSession": "squad.mcp._tools",
    "Reply": "squad.mcp._tools",
    "TOOLS": "squad.mcp._tools",
    "Tool": "squad.mcp._tools",
    "VIEWS": "squad.mcp._resources",
    "View": "squad.mcp._resources",
    "read_view": "squad.mcp._resources",
    "serve": "squad.mcp._server",
}
__all__ = ["TOOLS", "VIEWS", "AgentSession", "Reply", "Tool", "View", "read_view", "serve"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: only `serve` imports the MCP SDK.
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
