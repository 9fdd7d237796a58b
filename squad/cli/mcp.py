"""``squad mcp``: this agent's squad tools over MCP (stdio), thin over ``squad.mcp``."""

from __future__ import annotations

import click

from squad.cli.common import agent_option
from squad.errors import SquadError
from squad.paths import require_paths

MIN_SDK_MAJOR = 2  # the low-level Server with on_* handlers came with mcp 2


@click.command("mcp")
@agent_option
def mcp_cmd(agent: str | None) -> None:
    """Serve this agent's squad tools to an MCP client over stdin/stdout.

    Tools: status, check, lock, renew, unlock, update, handoff, next (each the twin of a
    command); resources: squad://plan, squad://matrix, squad://events, squad://leases. A lease the
    agent loses is told in its next tool result, or at once to a client subscribed to
    squad://leases. Needs the MCP SDK: pip install 'squad-agents[mcp]'. See docs/mcp.md.

    \b
    Example:
      AGENT_ID=agent-1-frontend squad mcp
      squad hooks install --claude --mcp --agent agent-1-frontend
    """
    _require_sdk()
    from squad.agents.roster import resolve

    paths = require_paths()
    name = resolve(paths, agent).name  # refused before serving: a client shows the line it printed
    from squad.mcp import serve

    serve(paths, name)


def _require_sdk() -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("mcp")
    except PackageNotFoundError:
        raise SquadError("squad mcp needs the MCP SDK: pip install 'squad-agents[mcp]'") from None
    major = found.split(".")[0]
    if not major.isdigit() or int(major) < MIN_SDK_MAJOR:
        raise SquadError(
            f"squad mcp needs mcp {MIN_SDK_MAJOR} or newer, found {found}: pip install 'squad-agents[mcp]'"
        )
