"""Options and helpers shared by command modules."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click
import click.shell_completion

if TYPE_CHECKING:
    from squad.errors import SquadError

F = TypeVar("F", bound=Callable[..., Any])


def complete_agent(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion: the agent ids of the squad's roster (plans and comm files)."""
    try:
        from squad.agents.roster import members
        from squad.paths import require_paths

        names = [m.name for m in members(require_paths())]
    except Exception:
        return []
    return [click.shell_completion.CompletionItem(n) for n in names if n.startswith(incomplete)]


def complete_path(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion: files and folders, completed by the shell itself."""
    return [click.shell_completion.CompletionItem(incomplete, type="file")]


agent_option = click.option(
    "--agent",
    "-a",
    metavar="AGENT",
    default=None,
    help="Agent id (agent-1-frontend, agent-1 or 1). Default: $AGENT_ID.",
    shell_complete=complete_agent,
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (stable keys, see docs/cli.md).")


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def plain_output() -> bool:
    """Plain text when stdout is no terminal or NO_COLOR is set."""
    return bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()


def warn(problems: Iterable[SquadError]) -> None:
    """One ``squad: warning: FILE:LINE: ...`` line on stderr per malformed file a command skipped."""
    for problem in problems:
        click.echo(f"squad: warning: {problem.render()}", err=True)
