"""``squad lock``, ``squad unlock``, ``squad locks`` and ``squad check``: thin over squad.leases.locks / squad.enforce.access.

``lock`` and ``unlock`` sit on an agent's hot path: stdlib, click and squad's protocol only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from squad.agents.roster import agent_from_env
from squad.cli.common import agent_option, complete_path, json_option, print_json, warn
from squad.errors import Refused, SquadError
from squad.paths import SquadPaths, checked_path, require_paths
from squad.protocol.times import format_time

if TYPE_CHECKING:
    from squad.leases.locks import Broken, Survey
    from squad.protocol.lease import Lease


def _target(paths: SquadPaths, raw: str) -> str:
    """``raw`` as a repository path, through ``squad.paths.checked_path`` (the one door for CLI paths)."""
    return checked_path(raw, paths)


def _agent(paths: SquadPaths, agent: str | None) -> str:
    from squad.agents.roster import resolve

    return resolve(paths, agent).name


@click.command("lock")
@agent_option
@click.option("--wait", "wait_s", type=float, default=0.0, metavar="S", help="Wait up to S seconds for the holder.")
@click.option(
    "--ttl", "ttl_s", type=float, default=None, metavar="S", help="Lease lifetime in seconds (config lock_ttl_s)."
)
@click.option("--reason", "-r", default=None, metavar="R", help="Why you lock it (shown to whoever waits).")
@click.option("--renew", is_flag=True, help="Only renew a lease you already hold.")
@click.option(
    "--export",
    "export",
    is_flag=True,
    help='Print a shell line keeping the fencing token in $SQUAD_FENCE: eval "$(squad lock --export PATH)".',
)
@json_option
@click.argument("target", metavar="PATH|@RES", shell_complete=complete_path)
def lock_cmd(
    agent: str | None,
    wait_s: float,
    ttl_s: float | None,
    reason: str | None,
    renew: bool,
    export: bool,
    as_json: bool,
    target: str,
) -> None:
    """Take a lease on a file, a folder or a named resource (@git, @db-migrations, ...).

    Exit 1 when another agent holds it, naming who, since and until when, and why.
    Locking a path you already hold renews it.

    \b
    Example:
      squad lock shared/types/metrics.ts --reason "add UserMetric" --wait 120
      squad lock @db-migrations
      eval "$(squad lock --export shared/types/metrics.ts)"   # the token in $SQUAD_FENCE
    """
    from squad.leases import locks

    if export and as_json:
        raise SquadError("--export and --json cannot go together: --export prints a shell line")
    paths = require_paths()
    name = _agent(paths, agent)
    path = _target(paths, target)
    if ttl_s is not None and ttl_s <= 0:
        raise SquadError(f"--ttl must be a positive number of seconds, not {ttl_s:g}")
    if wait_s < 0:
        raise SquadError(f"--wait must not be negative, not {wait_s:g}")
    if renew:
        lease = locks.renew(paths, name, path, ttl_s=ttl_s)
        verb = "renewed"
    else:
        lease = _acquire(paths, name, path, ttl_s=ttl_s, wait_s=wait_s, reason=reason)
        verb = "locked"
    if as_json:
        print_json({"action": verb, **lease.as_json()})
        return
    from squad.protocol.lease import grant_line

    if export:  # the line for eval on stdout, the news on stderr
        _export(lease.path, lease.token)
        click.echo(grant_line(verb, lease), err=True)
        return
    click.echo(grant_line(verb, lease))


def _export(path: str, token: int | None) -> None:
    """Print the ``export SQUAD_FENCE=...`` line: the shell's tokens with ``path`` set (or dropped)."""
    from squad.protocol.lease import fence_export, fence_tokens

    tokens = fence_tokens()
    tokens.pop(path, None)
    if token is not None:
        tokens[path] = token
    click.echo(fence_export(tokens))


def _acquire(
    paths: SquadPaths, agent: str, path: str, *, ttl_s: float | None, wait_s: float, reason: str | None
) -> Lease:
    """``locks.acquire``; a wait says once, on stderr, what it waits for, and a wait that runs out
    names only what is left to say (who still holds it)."""
    from squad.leases import locks

    announced: list[Lease] = []

    def waiting(held: Lease) -> None:
        announced.append(held)
        what = path if held.path == path else f"{path} ({held.path} is locked)"
        why = " ".join((held.reason or "").split())
        click.echo(
            f"waiting up to {wait_s:g}s for {what}: held by {held.agent} since {format_time(held.acquired_at)}"
            + (f" ({why})" if why else ""),
            err=True,
        )

    try:
        return locks.acquire(paths, agent, path, ttl_s=ttl_s, wait_s=wait_s, reason=reason, on_wait=waiting)
    except locks.LockHeld as exc:
        held = announced[0] if announced else None
        if held is None or (exc.lease.agent, exc.lease.path, exc.lease.acquired_at) != (
            held.agent,
            held.path,
            held.acquired_at,
        ):
            raise  # no wait, or someone else holds it now: the full story is news
        raise Refused(f"gave up after {wait_s:g}s: {held.agent} still holds {held.path}") from None


@click.command("unlock")
@agent_option
@click.option("--force", is_flag=True, help="Break another agent's lease (logged as lock_broken).")
@click.option(
    "--export", "export", is_flag=True, help="Print a shell line dropping its token from $SQUAD_FENCE (for eval)."
)
@json_option
@click.argument("target", metavar="PATH|@RES", shell_complete=complete_path)
def unlock_cmd(agent: str | None, force: bool, export: bool, as_json: bool, target: str) -> None:
    """Release your lease (or, with --force, anyone's).

    \b
    Example:
      squad unlock shared/types/metrics.ts
      eval "$(squad unlock --export shared/types/metrics.ts)"
    """
    from squad.leases import locks

    if export and as_json:
        raise SquadError("--export and --json cannot go together: --export prints a shell line")
    paths = require_paths()

    # A human breaking a lease by hand may have no agent id; the break is logged as "human".
    name = "human" if force and not agent and not agent_from_env() else _agent(paths, agent)
    path = _target(paths, target)
    lease = locks.release(paths, name, path, force=force)
    broke = force and not _same(lease.agent, name)
    if as_json:
        print_json(
            {
                "action": "broken" if broke else "unlocked",
                "path": lease.path,
                "agent": lease.agent,
                "by": name,
                "handoff_to": lease.handoff_to,
            }
        )
        return
    if export:
        _export(lease.path, None)
    if broke:
        click.echo(f"broke {lease.path} held by {lease.agent} (moved to .squad/locks/.broken/)", err=export)
    else:
        click.echo(f"unlocked {lease.path}", err=export)
        if lease.handoff_to:
            click.echo(f"told {lease.handoff_to} (handoff)", err=export)


def _same(a: str, b: str) -> bool:
    from squad.protocol.ids import same_agent

    return same_agent(a, b) or a == b


@click.command("locks")
@json_option
@click.option("--break-stale", is_flag=True, help="Break stale leases first (moved to locks/.broken/, logged).")
def locks_cmd(as_json: bool, break_stale: bool) -> None:
    """List every lease, hand-written ones included, flagging stale ones.

    \b
    Example:
      squad locks
      squad locks --break-stale --json
    """
    from squad.config import load_config
    from squad.leases import locks
    from squad.protocol.times import now as utcnow

    paths = require_paths()
    config = load_config(paths.config)
    now = utcnow()
    broken = locks.break_stale(paths, now, config=config) if break_stale else []
    found = locks.survey(paths, config=config)
    cache: dict[str, object] = {}
    rows = [(lease, locks.lease_stale_reason(paths, lease, now, config, cache)) for lease in found.leases]
    if as_json:
        print_json([_lease_json(lease, why) for lease, why in rows])
    else:
        _print_rows(rows, broken, found)
    # A lease file nobody can read is listed (UNREADABLE) and named on stderr with its file and line;
    # it never stops the listing, nor the exit code of a command that only shows.
    warn(error for _, error in found.unreadable)


def _print_rows(rows: list[tuple[Lease, str | None]], broken: list[Broken], found: Survey) -> None:
    for b in broken:
        click.echo(f"broke {b.lease.path} held by {b.lease.agent}: {b.reason}")
    if not rows and not found.unreadable:
        if not broken:
            click.echo("no leases")
        return
    width = max([len(lease.path) for lease, _ in rows] + [len(target) for target, _ in found.unreadable])
    for lease, why in rows:
        line = (
            f"{lease.path.ljust(width)}  {lease.agent}  since {format_time(lease.acquired_at)}"
            f"  until {format_time(lease.expires_at)}"
        )
        if lease.reason:
            line += f"  ({' '.join(lease.reason.split())})"
        if why:
            line += f"  STALE: {why}"
        click.echo(line)
    for target, error in found.unreadable:
        click.echo(f"{target.ljust(width)}  UNREADABLE: {error.render()}")


def _lease_json(lease: Lease, why: str | None) -> dict[str, object]:
    return {**lease.as_json(), "stale": why is not None, "stale_reason": why}


@click.command("check")
@agent_option
@click.option("--staged", is_flag=True, help="Check the files staged for commit (git diff --cached).")
@json_option
@click.argument("targets", nargs=-1, metavar="[PATHS]...")
def check_cmd(agent: str | None, staged: bool, as_json: bool, targets: tuple[str, ...]) -> None:
    """May this agent write these paths now? Exit 1 with one line per refusal.

    EXCLUSIVE paths need to be yours, SEQUENTIAL ones need your lease (and the
    @resource lease when ownership.yaml names one), READONLY ones are refused.

    \b
    Example:
      squad check shared/types/metrics.ts frontend/App.tsx
      squad check --staged --agent agent-1-frontend
    """
    from squad.enforce.access import check_paths

    paths = require_paths()
    name = _agent(paths, agent)
    if not targets and not staged:
        raise SquadError("give PATHS or --staged")
    wanted = [_target(paths, t) for t in targets]
    if staged:
        # git names staged files relative to the top of this checkout (a worktree's own top, even
        # one inside the main checkout): they are repository paths already.
        from squad import git

        top = git.top(Path.cwd())
        wanted.extend(f for f in git.staged_paths(top) if f.split("/")[0] != ".squad")
    if not paths.ownership.exists():  # the rules come from the plans: name any plan left out
        from squad.enforce.access import load_rules

        warn(load_rules(paths).problems)
    decisions = check_paths(paths, name, list(dict.fromkeys(wanted)))
    refused = [d for d in decisions if not d.allowed]
    if as_json:
        print_json([d.as_json() for d in decisions])
    else:
        for d in refused:
            fix = f" (fix: {d.fix})" if d.fix else ""
            click.echo(f"{d.path}: refused by {d.rule}: {d.reason}{fix}")
        if not refused:
            click.echo(f"ok: {name} may write {len(decisions)} path(s)")
    if refused:
        raise click.exceptions.Exit(1)


@click.command("fence")
@agent_option
@click.argument("message_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.argument("hook_args", nargs=-1, required=False)
def fence_cmd(agent: str | None, message_file: Path | None, hook_args: tuple[str, ...]) -> None:
    """The fencing tokens a commit relies on, as Squad-Fence: trailers.

    For each of the agent's live leases that covers a staged path, one
    `Squad-Fence: PATH=TOKEN` trailer. With MESSAGE_FILE (git's
    prepare-commit-msg hook, installed by `squad hooks install --git`) they are
    added to the commit message; without it they are printed. `squad merge`
    refuses a commit that changed a SEQUENTIAL path without a token that was
    current when it was made. A commit by no agent (no --agent, no AGENT_ID)
    gets none.

    \b
    Example:
      squad fence --agent agent-1-frontend
    """
    from squad import git
    from squad.enforce.fence import TRAILER, add_trailers, staged_fences
    from squad.protocol.times import now

    if not agent and not agent_from_env():
        return  # a person's commit: nothing to fence
    paths = require_paths()
    name = _agent(paths, agent)
    top = git.top(Path.cwd())
    values = staged_fences(paths, top, name, now())
    if message_file is None:
        for value in values:
            click.echo(f"{TRAILER}: {value}")
        return
    add_trailers(top, message_file, values)
