"""``squad doctor``: thin over squad.doctor."""

from __future__ import annotations

import click

from squad.cli.common import json_option, print_json


@click.command("doctor")
@json_option
def doctor_cmd(as_json: bool) -> None:
    """Check the set-up a squad needs and say what to fix, one line per check.

    Checks git and worktree support, that .squad/ is readable and writable, config.yaml and the
    ownership rules, the git and Claude Code hooks (installed, and pointing at a squad that
    exists), the coordinator (running, or a stale pidfile), leases (unreadable, stale, held by
    agents not in the squad), clock skew between file times and now, and the agent CLIs
    (claude, codex, gemini, aider) on PATH with their versions. OK and WARN lines leave the exit
    code 0; any FAIL makes it 1.

    \b
    Example:
      squad doctor
      squad doctor --json
    """
    from squad.doctor import diagnose

    report = diagnose()
    if as_json:
        print_json(report.as_json())
    else:
        for check in report.checks:
            click.echo(check.line())
        click.echo("healthy" if report.healthy else "not healthy: fix the FAIL lines above")
    if not report.healthy:
        raise click.exceptions.Exit(1)
