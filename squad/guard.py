"""``squad guard``: refuse an agent's write before it happens (Claude Code PreToolUse hook, git pre-commit).

The decision itself is ``squad.access.check_paths`` (the ownership matrix plus the leases); this
module only turns a hook's input into repo-relative paths, asks, and turns the answer into the
hook's output. It errs towards letting work go on: input it cannot read, a tool it does not know,
a path outside the repository, an agent it cannot name — all allowed (and logged where useful).
Every refusal is logged as a ``violation_attempt`` event, so ``squad status`` and the monitor show it.

Hot path (runs before every edit): no rich, markdown-it or watchdog.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from squad.bash import Target, write_targets
from squad.errors import EXIT_REFUSED, SquadError
from squad.guard_paths import (
    DISCARDS,
    Refusal,
    agent_from_checkout,
    expand_root,
    linked_worktrees,
    own_worktree,
    relative_target,
    relative_targets,
    squad_file_refusal,
    worktree_refusal,
)
from squad.paths import SquadPaths, find_root, work_root
from squad.protocol import events as ev
from squad.protocol.ids import parse_agent_id

__all__ = [
    "ALLOW",
    "HookCall",
    "Refusal",
    "Skip",
    "Verdict",
    "agent_from_checkout",
    "claude_hook",
    "git_hook",
    "judge",
    "parse_hook_input",
    "record",
    "relative_target",
]

FILE_TOOLS: dict[str, tuple[str, ...]] = {
    "Write": ("file_path",),
    "Edit": ("file_path",),
    "MultiEdit": ("file_path",),
    "NotebookEdit": ("notebook_path", "file_path"),
}
BASH_TOOLS = {"Bash"}
# Tools that never write a file: not logged when a broad matcher sends them here.
QUIET_TOOLS = {
    "Read",
    "Glob",
    "Grep",
    "LS",
    "NotebookRead",
    "WebFetch",
    "WebSearch",
    "TodoWrite",
    "TodoRead",
    "Task",
    "Agent",
    "BashOutput",
    "KillShell",
    "KillBash",
    "ExitPlanMode",
    "AskUserQuestion",
    "Skill",
    "SlashCommand",
}
EXIT_BLOCK = 2  # what Claude Code reads as "blocked" on every version


class Skip(Exception):
    """Nothing for the guard to decide: the call is allowed, and ``reason`` logged."""

    def __init__(self, reason: str, tool: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tool = tool


@dataclass(frozen=True)
class HookCall:
    """One PreToolUse call, reduced to what the guard needs."""

    tool: str
    cwd: Path
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Verdict:
    """What the hook prints and returns, and the events it logs."""

    exit_code: int = 0
    stdout: str = ""
    stderr: str = ""
    events: tuple[ev.Event, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    events_file: Path | None = None  # where ``record`` appends ``events``


ALLOW = Verdict()


# -- input ---------------------------------------------------------------------------------------


def parse_hook_input(text: str, default_cwd: Path) -> HookCall:
    """The tool, working directory and written paths of a PreToolUse hook's stdin JSON.

    Raises ``Skip`` for input that is not such a call, or a tool that writes nothing squad can see.
    """
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Skip(f"unparsable hook input: {exc}") from None
    if not isinstance(data, dict):
        raise Skip("hook input is not a JSON object")
    tool = data.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise Skip("hook input has no tool_name")
    raw_cwd = data.get("cwd")
    cwd = Path(raw_cwd) if isinstance(raw_cwd, str) and raw_cwd else default_cwd
    tool_input = data.get("tool_input")
    if not isinstance(tool_input, dict):
        raise Skip("hook input has no tool_input object", tool)
    if tool in FILE_TOOLS:
        for key in FILE_TOOLS[tool]:
            value = tool_input.get(key)
            if isinstance(value, str) and value:
                return HookCall(tool, cwd, (Target(value, tool),))
        raise Skip(f"{tool} call names no {' or '.join(FILE_TOOLS[tool])}", tool)
    if tool in BASH_TOOLS:
        command = tool_input.get("command")
        if not isinstance(command, str):
            raise Skip("Bash call has no command", tool)
        return HookCall(tool, cwd, tuple(write_targets(command, cwd)))
    raise Skip(f"tool {tool} is not one squad guards", tool)


# -- who is asking -------------------------------------------------------------------------------


def current_agent(environ: Mapping[str, str], cwd: Path) -> str | None:
    """The agent the environment names (``$AGENT_ID``, ``$AGENT_COMM``, ...), else the agent of the
    squad worktree ``cwd`` is in; None when neither, or when ``PARALLEL_MODE=false`` says no squad."""
    from squad.roster import agent_from_env, parallel_mode_off

    if parallel_mode_off(environ):
        return None
    return agent_from_env(environ) or agent_from_checkout(cwd)


def agent_name(paths: SquadPaths, agent: str) -> str:
    """The full id (``agent-2-backend``) for ``agent-2`` or ``2`` when the roster knows it."""
    from squad.roster import resolve

    try:
        return resolve(paths, agent).name
    except SquadError:
        return agent


# -- decision ------------------------------------------------------------------------------------


def judge(paths: SquadPaths, agent: str, call: HookCall, now: datetime) -> Verdict:
    """Ask ``access.check_paths`` about every path ``call`` writes; a refusal blocks the call."""
    wanted: dict[str, str] = {}
    refused: list[Refusal] = []
    targets = list(call.targets)
    if own_worktree(paths, call.cwd):  # discarding uncommitted work there discards only the agent's own
        targets = [t for t in targets if t.via not in DISCARDS]
    worktrees = linked_worktrees(paths)
    for target in (t for each in targets for t in expand_root(paths, each, call.cwd)):
        refusal = squad_file_refusal(paths, agent, target, call.cwd) or worktree_refusal(
            paths, agent, target, call.cwd, worktrees
        )
        if refusal is not None:
            refused.append(refusal)
            continue
        for rel in relative_targets(paths, target, call.cwd):
            wanted.setdefault(rel, target.via)
    if not wanted and not refused:
        return ALLOW
    from squad.access import check_paths

    decisions = check_paths(paths, agent, list(wanted), now=now) if wanted else []
    refusals = tuple(
        refused
        + [
            Refusal(d.path, wanted.get(d.path, call.tool), d.rule, d.reason, d.owner, d.holder, d.fix)
            for d in decisions
            if not d.allowed
        ]
    )
    if not refusals:
        return ALLOW
    name = agent_name(paths, agent)
    return Verdict(
        exit_code=EXIT_BLOCK,
        stdout=json.dumps(deny_output(refusals, name)) + "\n",
        stderr=refusal_text(refusals, name) + "\n",
        events=tuple(violation_events(refusals, name, call.tool, now)),
        refusals=refusals,
    )


def deny_output(refusals: Sequence[Refusal], agent: str) -> dict[str, Any]:
    """The PreToolUse JSON that denies the call, with the reason Claude is shown."""
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": refusal_text(refusals, agent),
        }
    }


def refusal_text(refusals: Sequence[Refusal], agent: str) -> str:
    """One line per refused path: who owns or holds it, and what would make the write allowed."""
    lines = []
    for r in refusals:
        line = f"squad refused {agent}'s write ({r.via}): {r.reason}"
        if r.fix:
            line += f" — run `{r.fix}`, then retry" if r.fix.startswith("squad ") else f" — {r.fix}"
        lines.append(line)
    return "\n".join(lines)


def violation_events(refusals: Sequence[Refusal], agent: str, tool: str, now: datetime) -> list[ev.Event]:
    out = []
    for r in refusals:
        data: dict[str, Any] = {"rule": r.rule, "tool": tool, "via": r.via}
        if r.owner:
            data["owner"] = r.owner
        if r.holder:
            data["holder"] = r.holder
        out.append(ev.Event(ev.VIOLATION_ATTEMPT, now, agent=agent, path=r.path, detail=r.reason, data=data))
    return out


def skipped_event(reason: str, tool: str | None, agent: str | None, now: datetime) -> ev.Event:
    return ev.Event(ev.GUARD_SKIPPED, now, agent=agent, detail=reason, data={"tool": tool} if tool else {})


# -- the hooks -----------------------------------------------------------------------------------


def claude_hook(stdin_text: str, *, environ: Mapping[str, str], cwd: Path, now: datetime) -> Verdict:
    """The whole PreToolUse hook, minus the writing: decide, and say what to print and log.

    Never raises: a bug here must not stop every edit of every agent, nor print a traceback.
    """
    try:
        return _claude_hook(stdin_text, environ, cwd, now)
    except Exception as exc:  # the hook's last line of defence: logged, never raised
        paths = _paths_at(cwd)
        event = skipped_event(f"internal error: {type(exc).__name__}: {exc}", None, environ.get("AGENT_ID"), now)
        return Verdict(events=(event,), events_file=paths.events if paths else None)


def _claude_hook(stdin_text: str, environ: Mapping[str, str], cwd: Path, now: datetime) -> Verdict:
    try:
        call = parse_hook_input(stdin_text, cwd)
    except Skip as skip:
        paths = _paths_at(cwd)
        if paths is None or skip.tool in QUIET_TOOLS:
            return ALLOW
        event = skipped_event(skip.reason, skip.tool, current_agent(environ, cwd), now)
        return Verdict(events=(event,), events_file=paths.events)
    paths = _paths_at(call.cwd)
    if paths is None:
        return ALLOW  # not under squad
    agent = current_agent(environ, call.cwd)
    if agent is None:
        return ALLOW  # not an agent squad knows: a human, or an agent launched without AGENT_ID
    if parse_agent_id(agent) is None:
        # A typo must not switch enforcement off in silence: refuse the write and say how to fix it.
        if not call.targets:
            return ALLOW
        refusals = tuple(
            Refusal(
                t.path, t.via, "agent", f"AGENT_ID {agent!r} is not an agent id", fix="export AGENT_ID=agent-<n>-<role>"
            )
            for t in call.targets
        )
        event = skipped_event(f"bad AGENT_ID {agent!r}: write refused", call.tool, None, now)
        return Verdict(
            exit_code=EXIT_BLOCK,
            stdout=json.dumps(deny_output(refusals, agent)) + "\n",
            stderr=refusal_text(refusals, agent) + "\n",
            events=(event,),
            refusals=refusals,
            events_file=paths.events,
        )
    try:
        verdict = judge(paths, agent, call, now)
    except SquadError as exc:  # e.g. a broken ownership.yaml: say so, but do not stop every edit
        event = skipped_event(f"cannot decide: {exc.render()}", call.tool, agent, now)
        return Verdict(events=(event,), events_file=paths.events)
    return replace(verdict, events_file=paths.events)


def staged_paths(cwd: Path) -> list[str]:
    """Paths in the index that differ from HEAD (both sides of a rename), relative to the checkout top."""
    import subprocess

    result = subprocess.run(
        ["git", "diff", "--cached", "--name-only", "--no-renames", "-z"],
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        first = (result.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[0]
        raise SquadError(f"git diff --cached failed: {first}")
    return [p for p in result.stdout.decode("utf-8", errors="replace").split("\0") if p]


def git_hook(*, environ: Mapping[str, str], cwd: Path, now: datetime, staged: list[str] | None = None) -> Verdict:
    """The pre-commit check: may this agent commit every staged path? Refusals exit 1."""
    paths = _paths_at(cwd)
    if paths is None:
        return ALLOW
    agent = current_agent(environ, cwd)
    if agent is None or parse_agent_id(agent) is None:
        return ALLOW  # a human's commit: squad's rules bind agents
    top = work_root(cwd)
    if staged is None and not (top / ".git").exists():
        raise SquadError(f"squad guard --git checks a commit: {top} is not in a git repository")
    files = staged if staged is not None else staged_paths(top)
    call = HookCall("git commit", top, tuple(Target(str(top / f), "git commit") for f in files))
    verdict = judge(paths, agent, call, now)
    if not verdict.refusals:
        return verdict
    hint = "squad: commit refused: unstage those paths (git restore --staged PATH) or do what each line says\n"
    return Verdict(EXIT_REFUSED, "", verdict.stderr + hint, verdict.events, verdict.refusals, paths.events)


def record(verdict: Verdict) -> None:
    """Append the verdict's events to the squad's event log (the imperative shell)."""
    if verdict.events and verdict.events_file is not None:
        ev.append_events(verdict.events_file, list(verdict.events))


def _paths_at(cwd: Path) -> SquadPaths | None:
    try:
        root = find_root(cwd)
    except OSError:
        return None
    return SquadPaths(root) if root is not None else None
