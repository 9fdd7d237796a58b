"""``squad init``."""

from __future__ import annotations

import click

from squad.protocol.workspace import init_squad


@click.command("init")
def init_cmd() -> None:
    """Create .squad/ and its config at the repository root (idempotent, never overwrites).

    \b
    Example:
      squad init
    """
    paths, created = init_squad()
    if created:
        for path in created:
            click.echo(f"created {paths.display(path)}")
    else:
        click.echo(f"{paths.display(paths.squad)}/ already set up at {paths.root}")
