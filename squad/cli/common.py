"""Options and helpers shared by command modules."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

agent_option = click.option(
    "--agent",
    "-a",
    metavar="AGENT",
    default=None,
    help="Agent id (agent-1-frontend, agent-1 or 1). Default: $AGENT_ID.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (stable keys, see docs/cli.md).")


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def plain_output() -> bool:
    """Plain text when stdout is no terminal or NO_COLOR is set."""
    return bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()
