"""``squad coordinate``, ``squad daemon start|stop|status``, ``squad monitor``, ``squad pause|resume``."""

from __future__ import annotations

import click

from squad.cli.common import json_option, print_json
from squad.paths import require_paths
from squad.protocol.times import now

tick_option = click.option(
    "--tick", "tick_s", type=float, default=None, metavar="S",
    help="Seconds between time-based checks (idle agents, lease expiry). Default: config coordinator.tick_s or 5.",
)  # fmt: skip


@click.command("coordinate")
@tick_option
def coordinate_cmd(tick_s: float | None) -> None:
    """Run the coordinator in the foreground until Ctrl-C or SIGTERM.

    Watches .squad/ (and the work tree) and enforces the rules; see docs/coordinator.md.

    \b
    Example:
      squad coordinate --tick 5
    """
    from squad.coordinator.daemon import serve

    code = serve(require_paths(), tick_s=tick_s, foreground=True)
    if code:
        raise click.exceptions.Exit(code)  # 130 after Ctrl-C


@click.group("daemon")
def daemon_group() -> None:
    """Start, stop or inspect the background coordinator (one per repository).

    \b
    Example:
      squad daemon start && squad daemon status
    """


@daemon_group.command("start")
@tick_option
@json_option
def daemon_start(tick_s: float | None, as_json: bool) -> None:
    """Start the coordinator detached; it logs to .squad/logs/coordinator.log. Exit 1 if one runs.

    \b
    Example:
      squad daemon start
    """
    from squad.coordinator.daemon import start

    paths = require_paths()
    info = start(paths, tick_s=tick_s)
    if as_json:
        print_json(info.as_json(now()))
    else:
        click.echo(f"coordinator started (pid {info.pid}); log: {paths.display(paths.coordinator_log)}")


@daemon_group.command("stop")
@json_option
def daemon_stop(as_json: bool) -> None:
    """Stop the coordinator (SIGTERM, then wait). Exit 1 if none runs.

    \b
    Example:
      squad daemon stop
    """
    from squad.coordinator.daemon import stop

    info = stop(require_paths())
    if as_json:
        print_json({"stopped": True, "pid": info.pid})
    else:
        click.echo(f"coordinator stopped (pid {info.pid})")


@daemon_group.command("status")
@json_option
def daemon_status(as_json: bool) -> None:
    """Print the coordinator's pid and uptime. Exit 1 when none runs.

    \b
    Example:
      squad daemon status --json
    """
    from squad.coordinator.daemon import running
    from squad.views.report import age

    info = running(require_paths())
    at = now()
    if as_json:
        print_json(info.as_json(at) if info else {"running": False})
    elif info:
        click.echo(f"coordinator running: pid {info.pid}, up {age(info.uptime_s(at))}")
    else:
        click.echo("no coordinator running")
    if info is None:
        raise click.exceptions.Exit(1)


@click.command("monitor")
@click.option("--once", is_flag=True, help="Print one frame and exit.")
@click.option("--width", type=int, default=None, help="Columns to draw for (default: the terminal's).")
def monitor_cmd(once: bool, width: int | None) -> None:
    """Live dashboard: agents, leases, handoffs, events, metrics. Redraws on changes.

    Runs the coordinator in-process when no daemon runs; beside a daemon it only watches.

    \b
    Example:
      squad monitor --once
    """
    from squad.views.monitor import run_monitor

    run_monitor(require_paths(), once=once, width=width)


@click.command("pause")
@click.option("--reason", default=None, help="Why (shown to agents and in the event log).")
def pause_cmd(reason: str | None) -> None:
    """Ask every agent to stop at its next step (writes .squad/control/pause.flag).

    \b
    Example:
      squad pause --reason "rebasing main"
    """
    from squad.coordinator.control import pause

    click.echo("paused" if pause(require_paths(), reason) else "already paused")


@click.command("resume")
def resume_cmd() -> None:
    """Let agents go on (removes .squad/control/pause.flag).

    \b
    Example:
      squad resume
    """
    from squad.coordinator.control import resume

    click.echo("resumed" if resume(require_paths()) else "not paused")
