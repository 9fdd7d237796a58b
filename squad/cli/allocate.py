"""``squad allocate``."""

from __future__ import annotations

import click

from squad.cli.common import json_option


@click.command("allocate")
@click.argument("prd", required=False, default="feature-prd.md", metavar="[PRD]")
@click.option(
    "--agents", "-n", type=click.IntRange(min=1), default=None, help="Number of agents (default: one per stream)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "markdown", "spec-kit", "kiro", "ccpm", "taskmaster", "bmad", "ai-agent-hub"]),
    default="auto",
    show_default=True,
    help="How to read PRD (auto: by what it looks like).",
)
@click.option("--dry-run", is_flag=True, help="Show the allocation; write nothing.")
@click.option("--force", is_flag=True, help="Replace existing plans (comm files are appended to, never truncated).")
@json_option
def allocate_cmd(prd: str, agents: int | None, fmt: str, dry_run: bool, force: bool, as_json: bool) -> None:
    """Split a PRD or task list into conflict-free, balanced agent plans (PRD defaults to ./feature-prd.md).

    Reads a markdown PRD, a spec-kit or Kiro tasks.md, a ccpm epic.md (with its task files), a
    Task Master tasks.json, BMAD epics or an ai-agent-hub PRD, and says what it understood before
    writing. Agents: --agents N at most, else one per stream up to max_agents in config (5).
    Writes .squad/feature-prd.md, ownership.yaml, parallel-plans/agent-<n>-plan.md, a comm file
    per agent and allocation.json (the --json document), then prints a table and, for each
    terminal, the lines to paste.

    \b
    Example:
      squad allocate examples/parallel-test/feature-prd.md --dry-run
      squad allocate specs/001-albums/tasks.md --agents 3
      squad allocate feature-prd.md --agents 4 --force
    """
    from squad.allocate import allocate
    from squad.allocate.render import json_text, render_text, render_understanding, to_json

    def understood(allocation: object, _: object) -> None:
        if not as_json:  # --json keeps stdout one document; it carries the same under "source"
            click.echo(render_understanding(allocation) + "\n")  # type: ignore[arg-type]

    result = allocate(
        prd, agents=agents, dry_run=dry_run, force=force, fmt=None if fmt == "auto" else fmt, on_plan=understood
    )
    if as_json:
        # The same bytes as .squad/allocation.json when something was written.
        click.echo(json_text(to_json(result.allocation, result.locations, result.written)), nl=False)
    else:
        click.echo(render_text(result.allocation, result.locations, result.written))
