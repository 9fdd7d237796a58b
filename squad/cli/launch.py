"""``squad launch``, ``squad stop``, ``squad review``, ``squad merge``, ``squad clean``."""

from __future__ import annotations

import click

from squad.cli.common import complete_agent, json_option, print_json
from squad.config import load_config
from squad.errors import EXIT_INTERRUPTED
from squad.launch.config import LaunchSettings, launch_settings
from squad.paths import SquadPaths, require_paths


def _settings(paths: SquadPaths) -> LaunchSettings:
    return launch_settings(load_config(paths.config), paths.config)


def _echo(agent: str, text: str) -> None:
    click.echo(f"{agent}: {text}", err=True)


@click.command("launch")
@click.option(
    "--agent",
    "kind",
    type=click.Choice(["claude", "codex", "gemini", "aider", "cmd"]),
    default=None,
    help="Which agent CLI to start, with its headless, permission and hook flags (config: launch.agent).",
)
@click.option(
    "--args",
    "agent_args",
    default=None,
    metavar="OPTIONS",
    help="Extra options for the agent CLI, e.g. '--model sonnet' (config: launch.args).",
)
@click.option(
    "--mcp",
    "mcp",
    is_flag=True,
    default=None,
    help="Also give each Claude Code agent squad's MCP server (config: launch.mcp).",
)
@click.option(
    "--cmd",
    "cmd",
    default=None,
    metavar="TEMPLATE",
    help="Agent command for --agent cmd; {prompt} {plan} {agent} {worktree} are filled in (config: launch.cmd).",
)
@click.option(
    "--max-parallel",
    type=click.IntRange(min=1),
    default=None,
    help="Agents running at once (config: launch.max_parallel, default 20).",
)
@click.option(
    "--per-role",
    type=click.IntRange(min=1),
    default=None,
    help="Agents of one role at once (config: launch.per_role, default 3).",
)
@click.option(
    "--idle-timeout",
    "idle_timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="S",
    help="Stop an agent silent this long (config: launch.idle_timeout_s, default 600).",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=None,
    help="Retries of a stopped or crashed agent (config: launch.retries, default 3).",
)
@click.option(
    "--tmux",
    "use_tmux",
    is_flag=True,
    help="Interactive: one tmux window per agent plus one for the monitor; not supervised "
    "(no queueing, idle stop or retries).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the final state of each agent as JSON.")
@click.argument("agents", nargs=-1, metavar="[AGENT]...")
def launch_cmd(
    kind: str | None,
    agent_args: str | None,
    mcp: bool | None,
    cmd: str | None,
    max_parallel: int | None,
    per_role: int | None,
    idle_timeout_s: float | None,
    retries: int | None,
    use_tmux: bool,
    as_json: bool,
    agents: tuple[str, ...],
) -> None:
    """Start the agents in git worktrees and watch them until all have ended.

    Each plan gets a worktree on branch squad/<agent-id> beside the repository; set-up steps
    run first, then the agent, which reads its plan's body and squad's instructions on stdin
    (aider: --message-file). --agent picks the CLI and its flags, and gives it squad's guard
    hook; --cmd runs any command instead. Idle or crashed agents are stopped, their work
    committed, and retried with backoff; after the last retry they are marked FAILED. Work a
    pre-commit hook refuses is committed with --no-verify and reported as UNGUARDED. Run it
    again after `squad stop` to resume.

    \b
    Example:
      squad launch --agent claude --max-parallel 4
      squad launch --agent aider --args '--model sonnet' agent-2
      squad launch --cmd './agent.sh {agent} {prompt}'
    """
    from squad.launch.launcher import Interrupted, launch, launch_tmux

    paths = require_paths()
    if cmd is not None and kind is None:
        kind = "cmd"  # --cmd alone: the template, whatever launch.agent says
    settings = _settings(paths).with_overrides(
        agent=kind,
        args=agent_args,
        mcp=mcp or None,
        cmd=cmd,
        max_parallel=max_parallel,
        per_role=per_role,
        idle_timeout_s=idle_timeout_s,
        retries=retries,
    )
    if use_tmux:
        opened = launch_tmux(paths, settings, agents, echo=_echo)
        if as_json:
            print_json({"session": opened.session, "windows": list(opened.windows), "attach": opened.attach})
        else:
            click.echo(f"tmux session {opened.session}: {', '.join(opened.windows)}\nattach with: {opened.attach}")
        return
    interrupted = False
    try:
        results = launch(paths, settings, agents, echo=_echo)
    except Interrupted as stop:  # Ctrl-C: the agents were stopped gracefully; report them, then exit 130
        results, interrupted = stop.results, True
    if not results and not as_json and not interrupted:
        click.echo("nothing to launch: every agent is done, failed or merged (name agents to run them again)")
    if as_json:
        print_json({"agents": results})
    else:
        from squad.launch.state import read_report

        report = read_report(paths)
        for agent, state in results.items():
            click.echo(f"{agent}: {state}")
            for line in report[agent].unguarded if agent in report else ():
                click.echo(f"{agent}: UNGUARDED {line}")
    if interrupted:
        click.get_current_context().exit(EXIT_INTERRUPTED)
    if any(state == "failed" for state in results.values()):
        click.get_current_context().exit(1)


@click.command("stop")
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0),
    default=None,
    metavar="S",
    help="How long to wait for the launcher.",
)
def stop_cmd(timeout_s: float | None) -> None:
    """End every launched agent gracefully and commit each worktree; `squad launch` resumes.

    \b
    Example:
      squad stop
    """
    from squad.launch.launcher import stop

    paths = require_paths()
    stopped = stop(paths, _settings(paths), timeout_s=timeout_s)
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "no launched agent was running")


@click.command("review")
@click.option("--no-tests", is_flag=True, help="Skip the test command (launch.test_cmd).")
@click.option(
    "--test",
    "test_cmd",
    default=None,
    metavar="CMD",
    help="Test command to run in each worktree (config: launch.test_cmd).",
)
@json_option
@click.argument("agents", nargs=-1, metavar="[AGENT]...")
def review_cmd(no_tests: bool, test_cmd: str | None, as_json: bool, agents: tuple[str, ...]) -> None:
    """Each agent branch: state, commits, diffstat against the current branch, ownership, tests.

    \b
    Example:
      squad review agent-1 --test 'pytest -q'
    """
    from squad.launch.review import review

    paths = require_paths()
    results = review(paths, _settings(paths).with_overrides(test_cmd=test_cmd), agents, tests=not no_tests)
    if as_json:
        print_json({"branches": [r.as_json() for r in results]})
        return
    if not results:
        click.echo("no agent branches (squad/<agent>): nothing launched yet")
    for r in results:
        verdict = "ready to merge" if r.passes else "; ".join(r.problems)
        click.echo(f"== {r.branch}  [{r.state}]  {len(r.commits)} commits  {verdict}")
        for line in r.commits:
            click.echo(f"   {line}")
        if r.diffstat:
            click.echo("\n".join(f"  {line}" for line in r.diffstat.splitlines()))
        if r.test is not None:
            click.echo(f"   tests: `{r.test.command}` exited {r.test.exit_code}")
            if not r.test.passed and r.test.tail:
                click.echo("\n".join(f"     | {line}" for line in r.test.tail.splitlines()))


@click.command("merge")
@click.option("--squash", is_flag=True, help="One squashed commit instead of a merge commit.")
@json_option
@click.argument("agent", shell_complete=complete_agent)
def merge_cmd(squash: bool, as_json: bool, agent: str) -> None:
    """Merge an agent's branch into the current branch if its review passes; never auto-resolves.

    \b
    Example:
      squad merge agent-1 --squash
    """
    from squad.launch.review import merge

    paths = require_paths()
    done = merge(paths, _settings(paths), agent, squash=squash)
    if as_json:
        print_json(
            {
                "agent": agent,
                "branch": done.branch,
                "commit": done.commit,
                "squash": done.squash,
                "worktree_removed": done.worktree_removed,
            }
        )
        return
    removed = "; worktree removed" if done.worktree_removed else ""
    click.echo(f"merged {done.branch} as {done.commit[:10]}{' (squash)' if done.squash else ''}{removed}")


@click.command("clean")
@json_option
def clean_cmd(as_json: bool) -> None:
    """Remove the worktrees and branches of merged agents; report the disk freed.

    \b
    Example:
      squad clean
    """
    from squad.launch.review import clean

    paths = require_paths()
    results = clean(paths, _settings(paths))
    freed = sum(c.freed_bytes for c in results)
    if as_json:
        print_json(
            {
                "freed_bytes": freed,
                "cleaned": [
                    {
                        "agent": c.agent,
                        "branch": c.branch,
                        "worktree": str(c.worktree) if c.worktree else None,
                        "freed_bytes": c.freed_bytes,
                        "branch_deleted": c.branch_deleted,
                        "skipped": c.skipped,
                    }
                    for c in results
                ],
            }
        )
        return
    if not results:
        click.echo("nothing to clean: no agent branch is merged into the current branch")
        return
    for c in results:
        click.echo(f"{c.agent}: {c.skipped or 'removed'}")
    click.echo(f"freed {_human(freed)}")


def _human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
