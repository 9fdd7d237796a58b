"""``squad status``: a one-shot snapshot."""

from __future__ import annotations

import click

from squad.cli.common import json_option, plain_output, print_json
from squad.coordinator.state import Snapshot, build_snapshot
from squad.errors import EXIT_USAGE
from squad.paths import require_paths
from squad.protocol.times import now


@click.command("status")
@json_option
def status_cmd(as_json: bool) -> None:
    """One-shot snapshot: agents, locks, handoffs, violations, metrics.

    A malformed plan, comm or lease file is that file's problem: everything else is shown, the
    problem is listed (JSON "problems") and printed on stderr, and the exit code is 2.

    \b
    Example:
      squad status --json
    """
    snap = build_snapshot(require_paths(), now(), strict=False)
    if as_json:
        print_json(snap.as_json())
    elif plain_output():
        from squad.views.report import plain_status

        click.echo(plain_status(snap), nl=False)
    else:
        _rich_status(snap)
    if snap.problems:
        for problem in snap.problems:
            click.echo(f"squad: error: {problem.render()}", err=True)
        raise click.exceptions.Exit(EXIT_USAGE)


def _rich_status(snap: Snapshot) -> None:
    from rich.console import Console
    from rich.table import Table

    from squad.agents.liveness import is_stale_agent
    from squad.views.report import age, doing, progress_text

    console = Console()
    table = Table(title="squad status", expand=False)
    for column in ("agent", "status", "progress", "last", "doing"):
        table.add_column(column)
    for a in snap.agents:
        state = f"{a.status.symbol} {a.status.value}"
        if is_stale_agent(a, snap.stale_s):
            state += " [red](stale)[/]"
        table.add_row(a.id, state, progress_text(a), age(a.idle_s), doing(a))
    console.print(table)
    if snap.locks:
        locks = Table(title="locks")
        for column in ("path", "holder", "held", "state"):
            locks.add_column(column)
        for lock in snap.locks:
            state = (
                f"[red]stale: {lock.stale_reason}[/]"
                if lock.stale
                else ("[yellow]long-held[/]" if lock.long_held else "live")
            )
            locks.add_row(lock.lease.path, lock.lease.agent, age(lock.held_s), state)
        console.print(locks)
    if snap.handoffs:
        console.print("[bold]handoffs[/]")
        for owner, h in snap.handoffs:
            console.print(f"  {h.from_agent or owner} → {h.to_agent}: {h.file or '?'} {h.status or ''}")
    if snap.violations:
        console.print("[bold red]violations[/]")
        for v in snap.violations[-10:]:
            console.print(f"  {v.agent or '?'} {v.path or ''} {v.data.get('rule', v.detail)}")
    m = snap.metrics
    console.print(
        f"tasks {m['tasks_done']}/{m['tasks_total']}  conflicts {m['conflicts']}  lock waits {m['lock_waits']}"
    )
