"""``squad init``."""

from __future__ import annotations

from pathlib import Path

import click

from squad.cli.common import json_option, print_json
from squad.protocol.workspace import init_squad, write_starter_prd


@click.command("init")
@click.option(
    "--prd",
    "starter_prd",
    is_flag=True,
    help="Also write a starter ./feature-prd.md from the template to fill in (never over an existing file).",
)
@json_option
def init_cmd(starter_prd: bool, as_json: bool) -> None:
    """Create .squad/ and its config at the repository root (idempotent, never overwrites).

    With --prd, also write ./feature-prd.md, a feature PRD in squad's format with placeholders:
    fill it in, then `squad allocate`. Templates come from .squad/templates/ when a file there has
    the shipped name (plan.md, feature-prd.md, comm-example.md, agent-instructions.md).

    \b
    Example:
      squad init --prd
    """
    paths, created = init_squad()
    prd: Path | None = None
    prd_written = False
    if starter_prd:
        prd, prd_written = write_starter_prd(paths, Path.cwd())
    if as_json:
        print_json(
            {
                "root": str(paths.root),
                "squad": str(paths.squad),
                "created": [paths.display(p) for p in created],
                "prd": str(prd) if prd else None,
                "prd_written": prd_written,
            }
        )
        return
    if created:
        for path in created:
            click.echo(f"created {paths.display(path)}")
    else:
        click.echo(f"{paths.display(paths.squad)}/ already set up at {paths.root}")
    if prd is not None:
        shown = _shown(prd)
        if prd_written:
            click.echo(f"wrote {shown}: replace its <placeholders>, then `squad allocate {shown} --dry-run`")
        else:
            click.echo(f"{shown} already exists (left as is): `squad allocate {shown} --dry-run` to check it")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
