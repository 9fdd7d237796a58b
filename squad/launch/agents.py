"""How ``squad launch`` starts each kind of agent CLI: one small adapter per kind, in one place.

An adapter knows, for its CLI's current release: how the prompt gets in (on stdin, never as an
argument an option parser could read), the headless flags, the permission flags that let the
agent run ``squad *`` and nothing broader, and where its CLI reads the guard hook from. Every
adapter leaves the user's files alone: hook settings go in a file under ``.squad/control/`` (which
agents may not write) or on the command line, never into a tracked file of the worktree.

Kinds and what guards them (docs/launch.md and docs/enforcement.md say the same):

- ``claude``: Claude Code, ``claude -p`` reading the prompt on stdin; ``--settings FILE`` adds the
  PreToolUse hook (``squad guard``) and ``--allowedTools 'Bash(squad *)'``.
- ``codex``: Codex CLI, ``codex exec -`` (prompt on stdin) in ``--sandbox workspace-write`` with
  the squad folder added writable; a PreToolUse hook passed with ``-c hooks.PreToolUse=...``.
- ``gemini``: Gemini CLI, ``gemini`` reading the prompt on stdin; a BeforeTool hook in a system
  settings file named by ``GEMINI_CLI_SYSTEM_SETTINGS_PATH``.
- ``aider``: ``aider --message-file PROMPT --yes-always --git-commit-verify``: no tool hooks; the git
  pre-commit hook refuses its commits.
- ``cmd``: any command template (``--cmd``); guarded by the git pre-commit hook only.
"""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from squad.atomic import write_atomic
from squad.errors import SquadError
from squad.paths import SquadPaths

KINDS = ("claude", "codex", "gemini", "aider", "cmd")

# What each CLI's hook is matched on (regexes in all three CLIs).
CLAUDE_MATCHER = "Edit|Write|MultiEdit|NotebookEdit|Bash"
CODEX_MATCHER = "^(Bash|apply_patch|Edit|Write|shell|exec_command)$"
GEMINI_MATCHER = "^(write_file|replace|run_shell_command|edit)$"

INSTALL_HINTS = {
    "claude": "npm install -g @anthropic-ai/claude-code",
    "codex": "npm install -g @openai/codex",
    "gemini": "npm install -g @google/gemini-cli",
    "aider": "python -m pip install aider-chat (in a virtualenv of its own)",
}


@dataclass(frozen=True)
class Invocation:
    """One agent's start: a shell command run in its worktree, and what feeds its stdin."""

    kind: str
    command: str  # run with /bin/sh -c in the worktree
    stdin: Path | None  # the prompt file, fed on stdin; None: no stdin
    guard: str  # how squad's guard reaches this agent, one line for the launch report
    hooked: bool  # True when the CLI asks squad guard before each write (not only at commit)
    runs_squad: bool = True  # False: the agent cannot run `squad update` itself; launch posts for it


@dataclass(frozen=True)
class AgentFiles:
    """What ``invocation`` needs to know about one launched agent."""

    agent: str
    plan: Path
    comm: Path
    worktree: Path
    folder: Path  # squad's own files for this agent: .squad/control/launch-agents/<agent>/


def agent_folder(paths: SquadPaths, agent: str) -> Path:
    return paths.control / "launch-agents" / agent


# -- the prompt ----------------------------------------------------------------------------------


def protocol_text(paths: SquadPaths, agent: str, plan: Path, comm: Path, squad: list[str] | None = None) -> str:
    """The short protocol instructions every launched agent gets after its plan's body."""
    squad_dir = paths.squad
    where = ""
    if squad:  # a login shell (Codex's) may reset PATH: name the program the launch runs
        where = f"\n- `squad` is `{shlex.join(squad)}`: run that when `squad` is not found."
    return f"""
## How you work in this squad (squad launch)
You are {agent}. You work in your own git worktree (your current folder) on branch squad/{agent};
squad commits what you leave there. The squad's shared state is in {squad_dir} (the main checkout,
$SQUAD_ROOT), not in your worktree: never write `.squad/` files by a relative path.
- Your plan: {plan}. Your comm file: {comm}.
- Before editing a SEQUENTIAL (shared) file: run `squad lock PATH`; `squad unlock PATH` when done.
- Post status with `squad update --status ACTIVE --task "T1 ..."`; when all is done,
  `squad update --status DONE`. Blocked: `squad update --status BLOCKED --waiting-for PATH`.
- Unsure whether you may write a path: `squad check PATH` (exit 1 means no).{where}
- A write refused by squad's guard says why and what to run (usually `squad lock PATH`): do that,
  or leave the file alone and say so in a status update. Never work around the guard.
"""


def prompt_text(paths: SquadPaths, agent: str, plan: Path, comm: Path, squad: list[str] | None = None) -> str:
    """The plan's body (never its raw front matter), what it owns, and the protocol instructions."""
    from squad.protocol.plan import read_plan

    parsed = read_plan(plan)
    lines = [parsed.body.strip() or f"# Plan of {agent}", ""]
    facts = [
        ("Yours alone (EXCLUSIVE)", parsed.owns),
        ("Shared: lock before editing (SEQUENTIAL)", parsed.shared),
        ("Read-only: never write", parsed.read_only),
    ]
    listed = [f"- {label}: {', '.join(values)}" for label, values in facts if values]
    if listed:
        lines += ["## Paths", *listed]
    tasks = [f"- {t.id}: {t.title}" for t in parsed.tasks]
    if tasks and "## Tasks" not in parsed.body:
        lines += ["## Tasks", *tasks]
    return "\n".join(lines).rstrip() + "\n" + protocol_text(paths, agent, plan, comm, squad)


# -- the adapters --------------------------------------------------------------------------------


def _guard_command(squad: list[str]) -> str:
    return shlex.join([*squad, "guard"])


def claude_invocation(
    files: AgentFiles, squad: list[str], prompt: Path, extra: str, *, mcp: bool = False, root: Path | None = None
) -> Invocation:
    settings = files.folder / "claude-settings.json"
    hook = {"type": "command", "command": _guard_command(squad)}
    allowed = list(dict.fromkeys(["Bash(squad *)", f"Bash({shlex.join(squad)} *)"]))
    servers: list[str] = []
    if mcp:  # squad's MCP server beside the shell commands, for an agent that prefers tools
        config = files.folder / "mcp.json"
        env = {"AGENT_ID": files.agent, **({"SQUAD_ROOT": str(root)} if root is not None else {})}
        server = {"type": "stdio", "command": squad[0], "args": [*squad[1:], "mcp"], "env": env}
        write_atomic(config, json.dumps({"mcpServers": {"squad": server}}, indent=2) + "\n")
        allowed.append("mcp__squad")
        servers = ["--mcp-config", str(config)]
    data = {
        "hooks": {"PreToolUse": [{"matcher": CLAUDE_MATCHER, "hooks": [hook]}]},
        "permissions": {"allow": allowed},
    }
    write_atomic(settings, json.dumps(data, indent=2) + "\n")
    words = [
        "claude",
        "-p",
        "--permission-mode",
        "acceptEdits",
        "--allowedTools",
        ",".join(allowed),
        "--settings",
        str(settings),
        *servers,
    ]
    return Invocation(
        "claude",
        _join(words, extra),
        prompt,
        f"PreToolUse hook `squad guard` through --settings {settings}",
        hooked=True,
    )


def _toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def codex_invocation(files: AgentFiles, squad: list[str], prompt: Path, extra: str, squad_dir: Path) -> Invocation:
    hooks = (
        f"hooks.PreToolUse=[{{matcher={_toml_string(CODEX_MATCHER)}, "
        f'hooks=[{{type="command", command={_toml_string(_guard_command(squad))}}}]}}]'
    )
    words = [
        "codex",
        "exec",
        "--sandbox",
        "workspace-write",
        "--add-dir",
        str(squad_dir),
        "--skip-git-repo-check",
        "-c",
        hooks,
        "--dangerously-bypass-hook-trust",
    ]
    # "-" reads the prompt from stdin, after any extra options
    return Invocation(
        "codex",
        _join(words, extra, ["-"]),
        prompt,
        "PreToolUse hook `squad guard` through -c hooks.PreToolUse (apply_patch, shell)",
        hooked=True,
    )


def gemini_invocation(files: AgentFiles, squad: list[str], prompt: Path, extra: str) -> Invocation:
    settings = files.folder / "gemini-system-settings.json"
    policy = files.folder / "gemini-policy.toml"
    hook = {"type": "command", "command": _guard_command(squad)}
    data = {"hooks": {"BeforeTool": [{"matcher": GEMINI_MATCHER, "hooks": [hook]}]}}
    write_atomic(settings, json.dumps(data, indent=2) + "\n")
    # the policy engine (--allowed-tools is deprecated): `squad ...` shell commands run unasked
    write_atomic(
        policy,
        '[[rule]]\ntoolName = "run_shell_command"\ncommandPrefix = "squad "\ndecision = "allow"\npriority = 500\n',
    )
    # the prompt arrives on stdin; -p (appended to it) makes the run headless
    words = ["gemini", "--skip-trust", "--approval-mode", "auto_edit", "--policy", str(policy)]
    env = f"GEMINI_CLI_SYSTEM_SETTINGS_PATH={shlex.quote(str(settings))} "
    return Invocation(
        "gemini",
        env + _join(words, extra, ["-p", "Follow the plan and instructions above."]),
        prompt,
        f"BeforeTool hook `squad guard` through the system settings {settings}",
        hooked=True,
    )


def aider_invocation(files: AgentFiles, squad: list[str], prompt: Path, extra: str) -> Invocation:
    # --yes-always answers "no" to "Run shell command?" (aider asks for an explicit yes): aider
    # cannot run `squad lock` or `squad update`, so launch posts its status and its commits are judged.
    words = [
        "aider",
        "--yes-always",
        "--git-commit-verify",
        "--no-check-update",
        "--no-show-release-notes",
        "--no-gitignore",
        "--no-pretty",
        "--no-fancy-input",
        "--message-file",
        str(prompt),
    ]
    return Invocation(
        "aider",
        _join(words, extra),
        None,
        "git pre-commit hook `squad guard --git` (aider commits each edit with --git-commit-verify)",
        hooked=False,
        runs_squad=False,
    )


def cmd_invocation(files: AgentFiles, template: str, prompt: Path) -> Invocation:
    return Invocation(
        "cmd",
        fill_template(template, files, prompt),
        None,
        "git pre-commit hook `squad guard --git` only (a --cmd agent has no tool hook squad knows)",
        hooked=False,
    )


def fill_template(template: str, files: AgentFiles, prompt: Path) -> str:
    """``template`` with ``{plan}``, ``{prompt}``, ``{agent}`` and ``{worktree}`` filled in, shell-quoted."""
    values = {
        "{plan}": str(files.plan),
        "{prompt}": str(prompt),
        "{agent}": files.agent,
        "{worktree}": str(files.worktree),
    }
    out = template
    for key, value in values.items():
        out = out.replace(key, shlex.quote(value))
    return out


def _join(words: list[str], extra: str, tail: list[str] | None = None) -> str:
    """The command line: the adapter's words, the user's extra options (already shell text), a tail."""
    parts = [shlex.join(words)]
    if extra.strip():
        parts.append(extra.strip())
    if tail:
        parts.append(shlex.join(tail))
    return " ".join(parts)


def binary_of(kind: str) -> str | None:
    return None if kind == "cmd" else kind


def require_binary(kind: str, which: Callable[[str], str | None] = shutil.which) -> None:
    """A one-line error when the kind's CLI is not on PATH, naming how to install it."""
    binary = binary_of(kind)
    if binary is not None and which(binary) is None:
        raise SquadError(f"{binary} is not on PATH: install it ({INSTALL_HINTS[kind]}) or choose another --agent")


def invocation(
    kind: str,
    paths: SquadPaths,
    files: AgentFiles,
    *,
    template: str | None = None,
    extra: str = "",
    squad: list[str] | None = None,
    mcp: bool = False,
) -> Invocation:
    """Write the agent's prompt (and its CLI's hook settings) under ``files.folder``; its start."""
    if kind not in KINDS:
        raise SquadError(f"unknown agent kind {kind!r}: choose one of {', '.join(KINDS)}")
    from squad.enforce.hooks import squad_command

    command = squad or squad_command()
    files.folder.mkdir(parents=True, exist_ok=True)
    prompt = files.folder / "prompt.md"
    write_atomic(prompt, prompt_text(paths, files.agent, files.plan, files.comm, command))
    if kind == "cmd":
        if not template:
            raise SquadError("no agent command: pass --agent KIND, or --cmd TEMPLATE, or set launch.agent / launch.cmd")
        return cmd_invocation(files, template, prompt)
    if kind == "claude":
        return claude_invocation(files, command, prompt, extra, mcp=mcp, root=paths.root)
    if kind == "codex":
        return codex_invocation(files, command, prompt, extra, paths.squad)
    if kind == "gemini":
        return gemini_invocation(files, command, prompt, extra)
    return aider_invocation(files, command, prompt, extra)
