"""``squad update`` and ``squad handoff``: what an agent posts to its comm file."""

from __future__ import annotations

import click

from squad.agents.updates import (
    post_handoff,
    post_update,
    progress_from_text,
    run_evidence,
    status_from_text,
)
from squad.cli.common import agent_option, complete_agent, complete_path, json_option, print_json
from squad.paths import require_paths


@click.command("update")
@agent_option
@click.option(
    "--status",
    "-s",
    "status_text",
    required=True,
    metavar="S",
    help="STARTING, ACTIVE, WAITING, BLOCKED, DONE or FAILED (COMPLETE, IDLE, ... accepted).",
)
@click.option("--task", "-t", default=None, help="Current task, e.g. 'T1 Create dashboard'.")
@click.option(
    "--progress",
    "-p",
    "progress_text",
    default=None,
    metavar="N/M",
    help="Tasks done of total, e.g. 3/5.",
)
@click.option("--files", "-f", multiple=True, metavar="F", help="A file modified (repeat, or give several).")
@click.option("--next", "next_step", default=None, help="What comes next.")
@click.option(
    "--waiting-for",
    default=None,
    metavar="W",
    help="What blocks you (a path, an agent, a handoff).",
)
@click.option("--alternative", default=None, help="What you work on while blocked.")
@click.option(
    "--evidence",
    default=None,
    metavar="CMD",
    help="Run CMD (e.g. 'pytest -q') and record its exit code.",
)
@json_option
@click.argument("more_files", nargs=-1, metavar="[FILES]...", shell_complete=complete_path)
def update_cmd(
    agent: str | None,
    status_text: str,
    task: str | None,
    progress_text: str | None,
    files: tuple[str, ...],
    next_step: str | None,
    waiting_for: str | None,
    alternative: str | None,
    evidence: str | None,
    as_json: bool,
    more_files: tuple[str, ...],
) -> None:
    """Append a status update to your comm file.

    \b
    Example:
      squad update --status ACTIVE --task "T1 Create dashboard" --progress 1/4 --files frontend/App.tsx
    """
    paths = require_paths()
    status = status_from_text(status_text)
    progress = progress_from_text(progress_text) if progress_text else None
    proof = run_evidence(evidence, cwd=None) if evidence else None
    member = post_update(
        paths,
        agent,
        status=status,
        task=task,
        progress=progress,
        files=files + more_files,
        next_step=next_step,
        waiting_for=waiting_for,
        alternative=alternative,
        evidence=proof,
    )
    from squad.leases.lost import tell_lost
    from squad.protocol.times import now

    lost = tell_lost(paths, member.name, now())  # expiry is never silent: said once, here and in a notice
    for item in lost:
        click.echo(f"squad: {item.notice()}", err=True)
    if as_json:
        print_json(
            {
                "agent": member.name,
                "status": status.value,
                "lost_leases": [{"path": x.lease.path, "token": x.lease.token, "why": x.why} for x in lost],
                "task": task,
                "progress": {"done": progress.done, "total": progress.total} if progress else None,
                "files": list(files + more_files),
                "evidence": {"command": proof.command, "exit_code": proof.exit_code} if proof else None,
            }
        )
        return
    line = f"{member.name}: {status.value}"
    if proof is not None:
        line += f" (evidence `{proof.command}` exited {proof.exit_code})"
    click.echo(line)


@click.command("handoff")
@agent_option
@click.option(
    "--to", "to", required=True, metavar="AGENT", help="The agent that takes over.", shell_complete=complete_agent
)
@click.option("--file", "file", required=True, metavar="F", help="The file handed over.", shell_complete=complete_path)
@click.option("--status", "status_text", default=None, metavar="TEXT", help="What state it is in.")
@click.option("--reason", default=None, help="Why.")
@json_option
def handoff_cmd(
    agent: str | None, to: str, file: str, status_text: str | None, reason: str | None, as_json: bool
) -> None:
    """Append a handoff request to your comm file.

    \b
    Example:
      squad handoff --to agent-2-backend --file shared/types/metrics.ts --status "Ready for backend"
    """
    sender, receiver = post_handoff(require_paths(), agent, to=to, file=file, status=status_text, reason=reason)
    if as_json:
        print_json({"from": sender.name, "to": receiver.name, "file": file, "status": status_text, "reason": reason})
        return
    click.echo(f"{sender.name} -> {receiver.name}: {file}")
