"""``squad guard`` (the hook itself) and ``squad hooks install|uninstall``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from squad.cli.common import agent_option

if TYPE_CHECKING:
    from squad.enforce.hooks import Change


@click.command("guard")
@agent_option
@click.option("--git", "git_mode", is_flag=True, help="Pre-commit mode: check the staged paths instead of stdin.")
def guard_cmd(agent: str | None, git_mode: bool) -> None:
    """Refuse a write the agent may not make: Claude Code PreToolUse hook, or git pre-commit check.

    Reads the hook's JSON on stdin. Allowed: exit 0, silent. Refused: the reason on stderr,
    Claude Code's deny JSON on stdout, exit 2 (with --git: exit 1). It fails closed: input it
    cannot read, a path it cannot resolve, a command too complex to check in 5 s, or an error of
    its own refuses the write; a person can start an agent with SQUAD_GUARD=off to let its calls
    through (logged). Tools that write nothing and paths outside the repository pass.
    `squad hooks install` sets it up.

    \b
    Example:
      echo '{"tool_name": "Write", "tool_input": {"file_path": "'$PWD'/backend/api.py"}}' \\
        | AGENT_ID=agent-1-frontend squad guard
    """
    from squad.enforce.guard import claude_hook_bytes, git_hook, record
    from squad.protocol.times import now

    environ = dict(os.environ)
    if agent:
        environ["AGENT_ID"] = agent
    cwd = Path.cwd()
    if git_mode:
        verdict = git_hook(environ=environ, cwd=cwd, now=now())
    else:
        if sys.stdin.isatty():
            raise click.UsageError("squad guard reads a Claude Code hook's JSON on stdin (see --help)")
        verdict = claude_hook_bytes(sys.stdin.buffer.read(), environ=environ, cwd=cwd, now=now())
    record(verdict)
    if verdict.stdout:
        click.echo(verdict.stdout, nl=False)
    if verdict.stderr:
        click.echo(verdict.stderr, nl=False, err=True)
    click.get_current_context().exit(verdict.exit_code)


@click.group("hooks")
def hooks_group() -> None:
    """Install or remove squad's enforcement hooks (git pre-commit, Claude Code PreToolUse).

    \b
    Example:
      squad hooks install && squad hooks uninstall
    """


@hooks_group.command("install")
@click.option("--git", "git", is_flag=True, help="The git pre-commit hook (honours core.hooksPath).")
@click.option("--claude", "claude", is_flag=True, help="The Claude Code PreToolUse hook in .claude/settings.json.")
@click.option("--local", is_flag=True, help="Claude: use .claude/settings.local.json (not committed).")
@click.option(
    "--mcp", "mcp", is_flag=True, help="Also register `squad mcp` in .mcp.json (Claude Code's project servers)."
)
@click.option(
    "--fence", "fence", is_flag=True, help="The git prepare-commit-msg hook: Squad-Fence trailers (squad fence)."
)
@click.option("--agent", "-a", metavar="AGENT", default=None, help="Bake this agent id into the hooks.")
def install_cmd(git: bool, claude: bool, local: bool, mcp: bool, fence: bool, agent: str | None) -> None:
    """Install the git pre-commit hook, the fence hook and the Claude Code hook (all unless one is chosen).

    The fence hook (git's prepare-commit-msg) adds a `Squad-Fence: PATH=TOKEN` trailer for each
    lease a commit relies on; `squad merge` refuses a SEQUENTIAL change without a current token.

    An existing pre-commit hook is kept and run first; Claude settings keep every other key and
    hook. With --mcp, `squad mcp` is also added to the project's .mcp.json (with AGENT_ID when
    --agent is given) beside the user's own servers. `squad hooks uninstall` puts back what was there.

    \b
    Example:
      squad hooks install --claude --local --agent agent-1-frontend
      squad hooks install --claude --mcp --agent agent-1-frontend
    """
    from squad.enforce.hooks import install

    if agent:
        _check_agent(agent)
    _print(install(Path.cwd(), git=git, claude=claude, local=local, agent=agent, mcp=mcp, fence=fence))


@hooks_group.command("uninstall")
@click.option("--git", "git", is_flag=True, help="Only the git pre-commit hook.")
@click.option("--claude", "claude", is_flag=True, help="Only the Claude Code hook.")
@click.option("--local", is_flag=True, default=None, help="Claude: only .claude/settings.local.json.")
@click.option("--mcp", "mcp", is_flag=True, help="Only the `squad mcp` entry in .mcp.json.")
@click.option("--fence", "fence", is_flag=True, help="Only the git prepare-commit-msg (fence) hook.")
def uninstall_cmd(git: bool, claude: bool, local: bool | None, mcp: bool, fence: bool) -> None:
    """Remove squad's hooks (and its .mcp.json entry), restoring what was there before.

    \b
    Example:
      squad hooks uninstall --git
    """
    from squad.enforce.hooks import uninstall

    _print(uninstall(Path.cwd(), git=git, claude=claude, local=local or None, mcp=mcp, fence=fence))


def _check_agent(agent: str) -> None:
    from squad.errors import SquadError
    from squad.protocol.ids import parse_agent_id

    if parse_agent_id(agent) is None:
        raise SquadError(f"bad agent id {agent!r}: use agent-<n>-<role>, agent-<n> or <n>")


def _print(changes: list[Change]) -> None:
    for change in changes:
        line = f"{change.layer}: {change.action} {change.path}"
        if change.note:
            line += f" ({change.note})"
        click.echo(line)
