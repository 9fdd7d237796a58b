"""``squad``: the click group, lazy command loading, and the one place errors become exit codes.

Commands are imported only when run, so ``squad lock`` and ``squad update`` never pay for rich,
markdown-it or watchdog.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from squad.errors import EXIT_INTERRUPTED, EXIT_USAGE, SquadError

# command name -> "module:attribute"; a module per command group (see squad/cli/).
COMMANDS: dict[str, str] = {
    "init": "squad.cli.setup:init_cmd",
    "doctor": "squad.cli.doctor:doctor_cmd",
    "status": "squad.cli.status:status_cmd",
    "update": "squad.cli.agent:update_cmd",
    "handoff": "squad.cli.agent:handoff_cmd",
    "allocate": "squad.cli.allocate:allocate_cmd",
    "launch": "squad.cli.launch:launch_cmd",
    "stop": "squad.cli.launch:stop_cmd",
    "review": "squad.cli.launch:review_cmd",
    "merge": "squad.cli.launch:merge_cmd",
    "clean": "squad.cli.launch:clean_cmd",
    "lock": "squad.cli.locks:lock_cmd",
    "unlock": "squad.cli.locks:unlock_cmd",
    "locks": "squad.cli.locks:locks_cmd",
    "check": "squad.cli.locks:check_cmd",
    "fence": "squad.cli.locks:fence_cmd",
    "guard": "squad.cli.hooks:guard_cmd",
    "hooks": "squad.cli.hooks:hooks_group",
    "coordinate": "squad.cli.coordinator:coordinate_cmd",
    "daemon": "squad.cli.coordinator:daemon_group",
    "monitor": "squad.cli.coordinator:monitor_cmd",
    "pause": "squad.cli.coordinator:pause_cmd",
    "resume": "squad.cli.coordinator:resume_cmd",
    "mcp": "squad.cli.mcp:mcp_cmd",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """The one place a SquadError becomes ``squad: error: ...`` and its exit code."""
        try:
            return super().invoke(ctx)
        except SquadError as exc:
            click.echo(f"squad: error: {exc.render()}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # the environment said no: a missing folder, a permission, a full disk
            where = f": {exc.filename}" if isinstance(exc.filename, str) and exc.filename else ""
            click.echo(f"squad: error: {exc.strerror or exc}{where}", err=True)
            ctx.exit(2)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: one line for the user, the traceback on request
            if os.environ.get("SQUAD_DEBUG"):
                raise
            click.echo(
                f"squad: error: internal error ({type(exc).__name__}: {exc}); rerun with SQUAD_DEBUG=1 for details",
                err=True,
            )
            ctx.exit(2)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="squad-agents")
def cli() -> None:
    """Run several AI coding agents on one repository without them trampling each other.

    \b
    Example:
      squad init && squad allocate feature-prd.md
    """


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; Ctrl-C is a quiet 130."""
    try:
        result = cli.main(args=argv, prog_name="squad", standalone_mode=False)
    except SquadError as exc:  # raised while parsing, before a command runs
        click.echo(f"squad: error: {exc.render()}", err=True)
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if exc.exit_code == 2 else exc.exit_code
    except BrokenPipeError:
        return 0
    # click returns the code of a ctx.exit() (how LazyGroup.invoke reports a SquadError).
    return result if isinstance(result, int) else 0


def run() -> None:  # pragma: no cover - console entry point
    sys.exit(main())
