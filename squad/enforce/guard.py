"""``squad guard``: refuse an agent's write before it happens (Claude Code PreToolUse hook, git pre-commit).

The decision itself is ``squad.enforce.access.check_paths`` (the ownership matrix plus the leases); this
module turns a hook's input into repo-relative paths, asks, and turns the answer into the hook's
output. It fails closed: input it cannot read, a path it cannot resolve, a command it cannot judge
in its time budget, or any error of its own refuses the write, in one line that says why and how
a person lets it through (``SQUAD_GUARD=off`` in the agent's environment, logged as an event).
Only a tool that writes nothing, and a human at the keyboard (no agent id), pass unjudged.
Every refusal is logged (``violation_attempt`` or ``guard_refused``), so ``squad status`` and the
monitor show it.

Hot path (runs before every edit): no rich, markdown-it or watchdog; tree-sitter only for Bash.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from squad.enforce.bash_commands import Target, Unjudgeable
from squad.enforce.targets import (
    DISCARDS,
    Refusal,
    agent_from_checkout,
    expand_root,
    forget,
    git_refusal,
    hardlink_refusal,
    landing,
    linked_worktrees,
    own_worktree,
    relative_target,
    relative_targets,
    squad_file_refusal,
    worktree_refusal,
)
from squad.errors import EXIT_REFUSED, SquadError
from squad.paths import SquadPaths, find_root, work_root
from squad.protocol import events as ev
from squad.protocol.ids import parse_agent_id

__all__ = [
    "ALLOW",
    "BUDGET_S",
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

BUDGET_S = 5.0  # a whole decision; Claude Code waits 60 s for a hook, other agent CLIs less
PARSE_BUDGET_S = 3.0  # of which reading a Bash line may take this much before it is "too complex"
OVERRIDE_VAR = "SQUAD_GUARD"  # SQUAD_GUARD=off, set by a person: the guard steps aside, logged
OVERRIDE_HINT = "a person can let it through by starting the agent with SQUAD_GUARD=off (logged)"

FILE_TOOLS: dict[str, tuple[str, ...]] = {
    "Write": ("file_path",),
    "Edit": ("file_path",),
    "MultiEdit": ("file_path",),
    "NotebookEdit": ("notebook_path", "file_path"),
    # Gemini CLI (BeforeTool hook): write_file and replace name file_path, like Claude's Write and Edit
    "write_file": ("file_path", "absolute_path", "path"),
    "replace": ("file_path", "absolute_path", "path"),
}
# Shell tools: Claude Code's and Codex CLI's Bash, Gemini CLI's run_shell_command (dir_path: its cwd).
BASH_TOOLS = {"Bash", "run_shell_command", "shell", "exec_command", "local_shell"}
# Codex CLI's file edits: tool_input.command holds the patch (*** Add File: / Update / Delete / Move to).
PATCH_TOOLS = {"apply_patch"}
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
    # Gemini CLI's tools that write no file
    "read_file",
    "read_many_files",
    "list_directory",
    "glob",
    "search_file_content",
    "grep_search",
    "web_fetch",
    "google_web_search",
    "save_memory",
    "write_todos",
    # Codex CLI's
    "update_plan",
    "view_image",
}
EXIT_BLOCK = 2  # what Claude Code reads as "blocked" on every version


# Keys an unknown tool (an MCP file tool, a new built-in) may name a written path with: judged as writes.
PATH_KEYS = ("file_path", "notebook_path", "path", "filePath", "filename", "target", "destination", "dest")


class Skip(Exception):  # (not an error: a call with nothing to judge)
    """Nothing for the guard to decide: a tool that writes nothing. Allowed, and ``reason`` logged."""

    def __init__(self, reason: str, tool: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tool = tool


class GuardTimeout(Exception):
    """The decision ran past ``BUDGET_S``: refused rather than left for the agent CLI to time out."""


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


def read_call(text: str, default_cwd: Path) -> tuple[str, Path, Any]:
    """The tool name, working directory and ``tool_input`` of a PreToolUse hook's stdin JSON.

    Raises ``Unjudgeable`` for input that is not such a call: it cannot be shown to write nothing.
    """
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise Unjudgeable(f"unreadable hook input ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise Unjudgeable("hook input is not a JSON object")
    tool = data.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise Unjudgeable("hook input names no tool_name")
    raw_cwd = data.get("cwd")
    cwd = default_cwd
    if isinstance(raw_cwd, str) and raw_cwd:
        if "\0" in raw_cwd:
            raise Unjudgeable("hook input's cwd holds a NUL byte")
        cwd = Path(os.path.normpath(default_cwd / raw_cwd))
    return tool, cwd, data.get("tool_input")


def call_targets(tool: str, cwd: Path, tool_input: Any, deadline: float | None = None) -> tuple[Target, ...]:
    """What the call writes. ``Skip`` for a tool that writes nothing; ``Unjudgeable`` when it cannot be told."""
    if tool in QUIET_TOOLS:
        raise Skip(f"tool {tool} writes no file", tool)
    if not isinstance(tool_input, dict):
        raise Unjudgeable(f"{tool} call has no tool_input object")
    if tool in FILE_TOOLS:
        for key in FILE_TOOLS[tool]:
            value = tool_input.get(key)
            if isinstance(value, str) and value:
                return (Target(_checked_text(value, tool), tool),)
        raise Unjudgeable(f"{tool} call names no {' or '.join(FILE_TOOLS[tool])}")
    if tool in PATCH_TOOLS:
        return patch_targets(tool, tool_input)
    if tool in BASH_TOOLS:
        command = tool_input.get("command", tool_input.get("cmd"))
        if isinstance(command, list) and all(isinstance(w, str) for w in command):
            import shlex

            command = shlex.join(command)  # an argv (Codex's shell tool)
        if not isinstance(command, str):
            raise Unjudgeable(f"{tool} call has no command string")
        where = tool_input.get("dir_path", tool_input.get("workdir"))
        if isinstance(where, str) and where:
            cwd = Path(os.path.normpath(cwd / _checked_text(where, tool)))
        from squad.enforce.bash import write_targets  # tree-sitter: only when a Bash line is judged

        return tuple(write_targets(command, cwd, deadline=deadline))
    named = [v for k in PATH_KEYS if isinstance(v := tool_input.get(k), str) and v]
    if not named:
        raise Skip(f"tool {tool} names no path squad knows ({', '.join(PATH_KEYS[:3])}, ...)", tool)
    return tuple(Target(_checked_text(v, tool), tool) for v in named)


PATCH_MARKERS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: ")


def patch_targets(tool: str, tool_input: dict[str, Any]) -> tuple[Target, ...]:
    """The files a Codex ``apply_patch`` call writes: each ``*** Add/Update/Delete File:`` and
    ``*** Move to:`` line of its patch (``command``, or ``input`` / ``patch``)."""
    patch = next((v for k in ("command", "input", "patch") if isinstance(v := tool_input.get(k), str)), None)
    if isinstance(tool_input.get("command"), list):  # ["apply_patch", PATCH]
        patch = "\n".join(w for w in tool_input["command"] if isinstance(w, str))
    if patch is None:
        raise Unjudgeable(f"{tool} call has no patch text")
    named = [
        line[len(marker) :].strip()
        for line in patch.splitlines()
        for marker in PATCH_MARKERS
        if line.startswith(marker)
    ]
    if not named:
        raise Unjudgeable(f"{tool} call names no file (*** Add File: / *** Update File: ...)")
    return tuple(Target(_checked_text(p, tool), tool) for p in dict.fromkeys(named))


def _checked_text(value: str, tool: str) -> str:
    if "\0" in value:
        raise Unjudgeable(f"{tool} call names a path holding a NUL byte")
    return value


def parse_hook_input(text: str, default_cwd: Path) -> HookCall:
    """The tool, working directory and written paths of a PreToolUse hook's stdin JSON.

    Raises ``Skip`` for a tool that writes nothing, ``Unjudgeable`` for input that cannot be judged.
    """
    tool, cwd, tool_input = read_call(text, default_cwd)
    return HookCall(tool, cwd, call_targets(tool, cwd, tool_input))


# -- who is asking -------------------------------------------------------------------------------


def current_agent(environ: Mapping[str, str], cwd: Path) -> str | None:
    """The agent the environment names (``$AGENT_ID``, ``$AGENT_COMM``, ...), else the agent of the
    squad worktree ``cwd`` is in; None when neither, or when ``PARALLEL_MODE=false`` says no squad."""
    from squad.agents.roster import agent_from_env, parallel_mode_off

    if parallel_mode_off(environ):
        return None
    return agent_from_env(environ) or agent_from_checkout(cwd)


def agent_name(paths: SquadPaths, agent: str) -> str:
    """The full id (``agent-2-backend``) for ``agent-2`` or ``2`` when the roster knows it."""
    from squad.agents.roster import resolve

    try:
        return resolve(paths, agent).name
    except Exception:  # (display only: a broken roster must not change the decision)
        return agent


# -- decision ------------------------------------------------------------------------------------


def judge(paths: SquadPaths, agent: str, call: HookCall, now: datetime) -> Verdict:
    """Ask ``access.check_paths`` about every path ``call`` writes; a refusal blocks the call.

    Raises (``SquadError``, ``OSError``, ...) when it cannot decide: the caller refuses then.
    """
    wanted: dict[str, str] = {}
    refused: list[Refusal] = []
    targets = list(call.targets)
    if own_worktree(paths, call.cwd):  # discarding uncommitted work there discards only the agent's own
        targets = [t for t in targets if t.via not in DISCARDS]
    worktrees = linked_worktrees(paths)
    for target in (t for each in targets for t in expand_root(paths, each, call.cwd)):
        refusal = (
            squad_file_refusal(paths, agent, target, call.cwd)
            or git_refusal(paths, target, call.cwd)
            or worktree_refusal(paths, agent, target, call.cwd, worktrees)
            or hardlink_refusal(paths, target, call.cwd)
        )
        if refusal is not None:
            refused.append(refusal)
            continue
        for rel in relative_targets(paths, target, call.cwd):
            wanted.setdefault(rel, target.via)
    if not wanted and not refused:
        return ALLOW
    from squad.enforce.access import check_paths

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
        events_file=paths.events,
    )


def squads_of(call: HookCall) -> dict[SquadPaths, list[Target]]:
    """The squads whose rules judge each target: found from the target's repository (as written and
    where its links lead), whatever the hook's cwd. A target in no squad is none of squad's business."""
    out: dict[SquadPaths, list[Target]] = {}
    for target in call.targets:
        absolute = Path(os.path.normpath(call.cwd / target.path))
        for place in dict.fromkeys((absolute, landing(target, call.cwd))):
            paths = _paths_at(place)
            if paths is not None and not _foreign_worktree(paths, place, call.cwd):
                out.setdefault(paths, [])
                if target not in out[paths]:
                    out[paths].append(target)
    return out


def _foreign_worktree(paths: SquadPaths, place: Path, cwd: Path) -> bool:
    """``place`` is in a linked worktree on no ``squad/`` branch, other than the one the agent works
    in: outside the squad (a person's experiment), as it always was."""
    top = work_root(place)
    if top == paths.root or top == work_root(cwd):
        return False
    return any(wt == top and agent is None for wt, agent in linked_worktrees(paths))


def judge_all(agent: str, call: HookCall, now: datetime) -> Verdict:
    """``judge`` under each squad the call's targets lie in; refusals of all of them together."""
    verdicts = [judge(paths, agent, replace(call, targets=tuple(ts)), now) for paths, ts in squads_of(call).items()]
    refusing = [v for v in verdicts if v.refusals]
    if not refusing:
        return ALLOW
    if len(refusing) == 1:
        return refusing[0]
    refusals = tuple(r for v in refusing for r in v.refusals)
    return replace(
        refusing[0],
        stdout=json.dumps(deny_output(refusals, agent)) + "\n",
        stderr="".join(v.stderr for v in refusing),
        events=tuple(e for v in refusing for e in v.events),
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


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Raise ``GuardTimeout`` in the main thread after ``seconds`` (the backstop to the parser's own
    deadline: a slow file system or a huge glob are not the parser's to notice)."""
    usable = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if not usable or signal.getitimer(signal.ITIMER_REAL)[0] > 0:  # someone else's timer: leave it be
        yield
        return

    def fire(signum: int, frame: object) -> None:
        raise GuardTimeout(f"no decision within {seconds:g} s: too complex to check")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def claude_hook(stdin_text: str, *, environ: Mapping[str, str], cwd: Path, now: datetime) -> Verdict:
    """The whole PreToolUse hook, minus the writing: decide, and say what to print and log.

    Never raises, and never turns an error into an allow: whatever goes wrong refuses the call in
    one line (no traceback), saying how a person lets it through.
    """
    if environ.get(OVERRIDE_VAR, "").strip().lower() == "off":
        return _overridden(stdin_text, environ, cwd, now)
    tool: str | None = None
    forget()
    try:
        with budget(BUDGET_S):
            tool, call_cwd, tool_input = read_call(stdin_text, cwd)
            return _claude_hook(tool, call_cwd, tool_input, environ, now)
    except Unjudgeable as exc:
        return fail_closed(exc.message, tool, environ, cwd, now)
    except GuardTimeout as exc:
        return fail_closed(str(exc), tool, environ, cwd, now)
    except SquadError as exc:  # a broken matrix, an unreadable lease: cannot decide, so no
        return fail_closed(f"cannot decide: {exc.render()}", tool, environ, cwd, now)
    except RecursionError:
        return fail_closed("nested too deeply to check: too complex to check", tool, environ, cwd, now)
    except Exception as exc:  # (the hook's last line: refuse, never raise, never allow)
        return fail_closed(f"internal error {type(exc).__name__}: {exc}", tool, environ, cwd, now)


def claude_hook_bytes(stdin: bytes, *, environ: Mapping[str, str], cwd: Path, now: datetime) -> Verdict:
    """``claude_hook`` on the raw bytes of stdin: input that is not UTF-8 is refused, not guessed at."""
    try:
        text = stdin.decode("utf-8")
    except UnicodeDecodeError as exc:
        if environ.get(OVERRIDE_VAR, "").strip().lower() == "off":
            return _overridden("", environ, cwd, now)
        return fail_closed(f"hook input is not UTF-8 (byte {exc.start})", None, environ, cwd, now)
    return claude_hook(text, environ=environ, cwd=cwd, now=now)


def _claude_hook(tool: str, cwd: Path, tool_input: Any, environ: Mapping[str, str], now: datetime) -> Verdict:
    agent = current_agent(environ, cwd)
    if agent is None:
        return ALLOW  # not an agent squad knows: a human, or an agent launched without AGENT_ID
    deadline = time.monotonic() + PARSE_BUDGET_S
    try:
        targets = call_targets(tool, cwd, tool_input, deadline)
    except Skip as skip:
        paths = _paths_at(cwd)
        if paths is None or skip.tool in QUIET_TOOLS:
            return ALLOW
        event = skipped_event(skip.reason, skip.tool, agent, now)
        return Verdict(events=(event,), events_file=paths.events)
    call = HookCall(tool, cwd, targets)
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
        paths = _paths_at(cwd)
        event = skipped_event(f"bad AGENT_ID {agent!r}: write refused", call.tool, None, now)
        return Verdict(
            exit_code=EXIT_BLOCK,
            stdout=json.dumps(deny_output(refusals, agent)) + "\n",
            stderr=refusal_text(refusals, agent) + "\n",
            events=(event,),
            refusals=refusals,
            events_file=paths.events if paths else None,
        )
    return judge_all(agent, call, now)


def fail_closed(why: str, tool: str | None, environ: Mapping[str, str], cwd: Path, now: datetime) -> Verdict:
    """The refusal of a call the guard could not judge: one line, the override named, an event logged."""
    why = " ".join(why.split())  # one line, whatever the error said
    line = f"squad refused this {tool or 'tool'} call: {why} — {OVERRIDE_HINT}"
    output = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                     "permissionDecisionReason": line}}  # fmt: skip
    paths = _safe_paths(cwd)
    agent = environ.get("AGENT_ID")
    event = ev.Event(ev.GUARD_REFUSED, now, agent=agent, detail=why, data={"tool": tool} if tool else {})
    return Verdict(EXIT_BLOCK, json.dumps(output) + "\n", line + "\n", (event,), (), paths.events if paths else None)


def _overridden(stdin_text: str, environ: Mapping[str, str], cwd: Path, now: datetime) -> Verdict:
    """``SQUAD_GUARD=off``: a person took responsibility; the call passes and the log says so."""
    tool = None
    try:
        data = json.loads(stdin_text)
        tool = data.get("tool_name") if isinstance(data, dict) and isinstance(data.get("tool_name"), str) else None
    except (ValueError, RecursionError):
        pass
    paths = _safe_paths(cwd)
    detail = f"{OVERRIDE_VAR}=off: call not judged"
    event = ev.Event(
        ev.GUARD_OVERRIDE, now, agent=environ.get("AGENT_ID"), detail=detail, data={"tool": tool} if tool else {}
    )
    return Verdict(events=(event,), events_file=paths.events if paths else None)


def _safe_paths(cwd: Path) -> SquadPaths | None:
    try:
        return _paths_at(cwd)
    except Exception:  # (only where to log; the decision is made already)
        return None


def git_hook(*, environ: Mapping[str, str], cwd: Path, now: datetime, staged: list[str] | None = None) -> Verdict:
    """The pre-commit check: may this agent commit every staged path? Refusals exit 1.

    Fails closed like the Claude hook: an error while judging refuses the commit in one line.
    """
    if environ.get(OVERRIDE_VAR, "").strip().lower() == "off":
        paths = _safe_paths(cwd)
        event = ev.Event(
            ev.GUARD_OVERRIDE, now, agent=environ.get("AGENT_ID"), detail=f"{OVERRIDE_VAR}=off: commit not judged"
        )
        return Verdict(events=(event,), events_file=paths.events if paths else None)
    forget()
    try:
        with budget(BUDGET_S):
            return _git_hook(environ, cwd, now, staged)
    except (SquadError, GuardTimeout) as exc:
        why = exc.render() if isinstance(exc, SquadError) else str(exc)
        code = exc.exit_code if isinstance(exc, SquadError) else EXIT_REFUSED
    except Exception as exc:  # (refuse the commit, never raise a traceback)
        why, code = f"internal error {type(exc).__name__}: {exc}", EXIT_REFUSED
    why = " ".join(why.split())
    line = f"squad: commit refused: {why} — {OVERRIDE_HINT}\n"
    paths = _safe_paths(cwd)
    event = ev.Event(ev.GUARD_REFUSED, now, agent=environ.get("AGENT_ID"), detail=why, data={"tool": "git commit"})
    return Verdict(code, "", line, (event,), (), paths.events if paths else None)


def _git_hook(environ: Mapping[str, str], cwd: Path, now: datetime, staged: list[str] | None) -> Verdict:
    paths = _paths_at(cwd)
    if paths is None:
        return ALLOW
    agent = current_agent(environ, cwd)
    if agent is None or parse_agent_id(agent) is None:
        return ALLOW  # a human's commit: squad's rules bind agents
    top = work_root(cwd)
    if staged is None and not (top / ".git").exists():
        raise SquadError(f"squad guard --git checks a commit: {top} is not in a git repository")
    from squad import git

    files = staged if staged is not None else git.staged_paths(top)
    call = HookCall("git commit", top, tuple(Target(str(top / f), "git commit") for f in files))
    verdict = judge(paths, agent, call, now)
    if not verdict.refusals:
        return verdict
    hint = "squad: commit refused: unstage those paths (git restore --staged PATH) or do what each line says\n"
    return Verdict(EXIT_REFUSED, "", verdict.stderr + hint, verdict.events, verdict.refusals, paths.events)


def record(verdict: Verdict) -> None:
    """Append the verdict's events to the squad's event log (the imperative shell).

    A log that cannot be written does not change the decision already made.
    """
    if verdict.events and verdict.events_file is not None:
        with contextlib.suppress(OSError):
            ev.append_events(verdict.events_file, list(verdict.events))


def _paths_at(cwd: Path) -> SquadPaths | None:
    try:
        root = find_root(cwd)
    except OSError:
        return None
    return SquadPaths(root) if root is not None else None
