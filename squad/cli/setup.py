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
@click.option(
    "--store",
    "store_url",
    default=None,
    metavar="URL",
    help="Where the leases live: files (the default) or etcd://HOST:PORT[,HOST:PORT...][/NAME].",
)
@json_option
def init_cmd(starter_prd: bool, store_url: str | None, as_json: bool) -> None:
    """Create .squad/ and its config at the repository root (idempotent, never overwrites).

    With --store etcd://..., agents on several machines share one etcd cluster for their leases
    (docs/distributed.md); the cluster is asked once here, and the setting is written to
    config.yaml. NAME defaults to the repository's first commit, the same in every clone.

    With --prd, also write ./feature-prd.md, a feature PRD in squad's format with placeholders:
    fill it in, then `squad allocate`. Templates come from .squad/templates/ when a file there has
    the shipped name (plan.md, feature-prd.md, comm-example.md, agent-instructions.md).

    \b
    Example:
      squad init --prd
    """
    store = None
    if store_url is not None:
        from squad.store import parse_store

        store = parse_store(store_url, where="--store")
    paths, created = init_squad()
    if store is not None:
        from squad.protocol.workspace import set_store

        store = set_store(paths, store)
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
                "store": store.url if store is not None else None,
            }
        )
        return
    if created:
        for path in created:
            click.echo(f"created {paths.display(path)}")
    else:
        click.echo(f"{paths.display(paths.squad)}/ already set up at {paths.root}")
    if store is not None:
        click.echo(f"store: {store.url}")
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
