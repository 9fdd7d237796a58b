"""Installing squad's enforcement hooks, and taking them out again leaving things as they were.

Two layers: a git pre-commit hook (every agent that commits: Codex CLI, Aider, humans' tools) and
Claude Code's PreToolUse hook (refuses the edit itself). Beside them, on request, ``squad mcp``
registered in the project's ``.mcp.json`` (Claude Code's project MCP servers): a way in, not a
layer of enforcement. Installing never destroys what was there:
an existing pre-commit hook is kept beside ours and run first; our entry is added to Claude's
settings next to the user's own. Uninstalling puts the original back byte for byte when nothing
was changed since, and otherwise removes exactly our entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from squad.atomic import write_atomic
from squad.errors import SquadError
from squad.paths import work_root

HOOK_MARKER = "# squad-managed-hook"
CHAINED_SUFFIX = ".squad-chained"  # an existing hook, kept and run before squad's
CLAUDE_MATCHER = "Edit|Write|MultiEdit|NotebookEdit|Bash"
BACKUP_SUFFIX = ".squad-backup"  # beside a Claude settings file: what was there before install


@dataclass(frozen=True)
class Change:
    layer: str  # "git" | "claude" | "mcp"
    path: Path
    action: str  # "installed", "updated", "unchanged", "removed", "restored", "absent"
    note: str = ""


def squad_command() -> list[str]:
    """How a hook runs this squad: the absolute console script, else ``python -m squad``.

    Hooks run with whatever PATH git or Claude Code has, often not this virtualenv's.
    """
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "squad" and argv0.is_file():
        return [str(argv0.absolute())]
    sibling = Path(sys.executable).with_name("squad")
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return [str(sibling)]
    return [sys.executable, "-m", "squad"]


def guard_argv(extra: list[str], command: list[str] | None = None) -> list[str]:
    return [*(command or squad_command()), "guard", *extra]


# -- git -----------------------------------------------------------------------------------------


def git_hooks_dir(cwd: Path) -> Path:
    """Where git looks for hooks from ``cwd``: honours ``core.hooksPath`` and linked worktrees."""
    top = work_root(cwd)
    result = subprocess.run(
        ["git", "rev-parse", "--git-path", "hooks"], cwd=top, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SquadError(f"not a git repository: {top} ({result.stderr.strip() or 'git rev-parse failed'})")
    folder = Path(result.stdout.strip())
    return folder if folder.is_absolute() else (top / folder).resolve()


def relative_hooks_path(cwd: Path) -> str | None:
    """``core.hooksPath`` when it is set to a relative path, which git reads against each worktree's top."""
    result = subprocess.run(
        ["git", "config", "--get", "core.hooksPath"], cwd=work_root(cwd), capture_output=True, text=True, check=False
    )
    value = result.stdout.strip()
    return value if result.returncode == 0 and value and not value.startswith(("/", "~")) else None


def pre_commit_script(check: list[str]) -> str:
    """Our pre-commit hook: run the hook that was there first, then squad's check."""
    chained = f"pre-commit{CHAINED_SUFFIX}"
    program = shlex.quote(check[0])
    return f"""#!/bin/sh
{HOOK_MARKER}: installed by `squad hooks install --git`; `squad hooks uninstall` restores what was here.
# Refuses a commit that touches paths this agent may not write (ownership matrix and leases).
here=$(dirname "$0")
if [ -x "$here/{chained}" ]; then
    "$here/{chained}" "$@" || exit $?
fi
if ! command -v {program} >/dev/null 2>&1; then
    echo "squad: {program} not found: the squad pre-commit check is skipped" >&2
    exit 0
fi
exec {shlex.join(check)}
"""


def install_git(cwd: Path, guard_args: list[str], command: list[str] | None = None) -> Change:
    hooks = git_hooks_dir(cwd)
    hook = hooks / "pre-commit"
    chained = hooks / f"pre-commit{CHAINED_SUFFIX}"
    script = pre_commit_script(guard_argv(["--git", *guard_args], command))
    existing = _read_text(hook)
    if existing is not None and HOOK_MARKER in existing:
        if existing == script:
            return Change("git", hook, "unchanged")
        _write_executable(hook, script)
        return Change("git", hook, "updated")
    note = ""
    if existing is not None or hook.is_symlink():
        if chained.exists() or chained.is_symlink():
            raise SquadError(f"{chained} already exists: move it away, then install again", path=chained)
        hook.rename(chained)  # keeps its mode, its bytes, and a symlink as a symlink
        note = f"existing hook kept as {chained.name}, run first"
    _write_executable(hook, script)
    relative = relative_hooks_path(cwd)
    if relative is not None:
        where = f"core.hooksPath {relative!r} is relative: every worktree reads its own copy (commit it)"
        note = f"{note}; {where}" if note else where
    return Change("git", hook, "installed", note)


def uninstall_git(cwd: Path) -> Change:
    hooks = git_hooks_dir(cwd)
    hook = hooks / "pre-commit"
    chained = hooks / f"pre-commit{CHAINED_SUFFIX}"
    existing = _read_text(hook)
    if existing is None or HOOK_MARKER not in existing:
        note = "pre-commit hook is not squad's: left alone" if existing is not None else ""
        return Change("git", hook, "absent", note)
    if chained.exists() or chained.is_symlink():
        chained.replace(hook)
        return Change("git", hook, "restored", "the hook that was there before is back")
    hook.unlink()
    return Change("git", hook, "removed")


def _write_executable(path: Path, text: str) -> None:
    write_atomic(path, text)
    path.chmod(0o755)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


# -- Claude Code ---------------------------------------------------------------------------------


def claude_settings(cwd: Path, *, local: bool) -> Path:
    return work_root(cwd) / ".claude" / ("settings.local.json" if local else "settings.json")


def is_guard_command(command: object) -> bool:
    """True for a hook command this module wrote: ``.../squad guard ...`` or ``python -m squad guard``."""
    if not isinstance(command, str):
        return False
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    for i, word in enumerate(words[:-1]):
        if words[i + 1] != "guard":
            continue
        if Path(word).name == "squad" and (i == 0 or words[i - 1] == "-m" or "=" in words[i - 1]):
            return True
    return False


def _load_settings(path: Path) -> tuple[str | None, dict[str, Any]]:
    text = _read_text(path)
    if text is None or not text.strip():
        return text, {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SquadError(f"bad JSON: {exc.msg}", path=path, line=exc.lineno) from None
    if not isinstance(data, dict):
        raise SquadError("settings must be a JSON object", path=path, line=1)
    return text, data


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def with_guard(settings: dict[str, Any], command: str) -> dict[str, Any]:
    """``settings`` with our PreToolUse entry (a group of its own), any older entry of ours replaced."""
    data: dict[str, Any] = json.loads(json.dumps(settings))  # a deep copy; the input stays untouched
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise SquadError("`hooks` in Claude settings is not an object")
    groups = hooks.setdefault("PreToolUse", [])
    if not isinstance(groups, list):
        raise SquadError("`hooks.PreToolUse` in Claude settings is not a list")
    groups[:] = _without_guard(groups)
    groups.append({"matcher": CLAUDE_MATCHER, "hooks": [{"type": "command", "command": command}]})
    return data


def without_guard(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` minus our entry; containers left empty by the removal go too."""
    data: dict[str, Any] = json.loads(json.dumps(settings))
    hooks = data.get("hooks")
    if not isinstance(hooks, dict) or not isinstance(hooks.get("PreToolUse"), list):
        return data
    groups = _without_guard(hooks["PreToolUse"])
    if groups:
        hooks["PreToolUse"] = groups
    else:
        del hooks["PreToolUse"]
        if not hooks:
            del data["hooks"]
    return data


def _without_guard(groups: list[Any]) -> list[Any]:
    out = []
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
            out.append(group)
            continue
        kept = [h for h in group["hooks"] if not (isinstance(h, dict) and is_guard_command(h.get("command")))]
        if len(kept) == len(group["hooks"]):
            out.append(group)
        elif kept:
            out.append({**group, "hooks": kept})
    return out


def install_claude(cwd: Path, guard_args: list[str], *, local: bool, command: list[str] | None = None) -> Change:
    path = claude_settings(cwd, local=local)
    text, data = _load_settings(path)
    try:
        new_data = with_guard(data, shlex.join(guard_argv(guard_args, command)))
    except SquadError as exc:  # a `hooks` of the wrong shape: point at it
        raise SquadError(exc.message, path=path, line=_line_of(text or "", '"hooks"')) from None
    if new_data == data:
        return Change("claude", path, "unchanged")
    new_text = _dump(new_data)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    action = "updated" if any(_has_guard(data)) else "installed"
    if not backup.exists():
        record = {"original": text, "installed": new_text, "created_dir": not path.parent.exists()}
        write_atomic(backup, _dump(record))
    else:
        record = json.loads(backup.read_text(encoding="utf-8"))
        record["installed"] = new_text
        write_atomic(backup, _dump(record))
    write_atomic(path, new_text)
    return Change("claude", path, action)


def _line_of(text: str, needle: str) -> int:
    """The first line holding ``needle`` (1 when none does)."""
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _has_guard(data: dict[str, Any]) -> list[bool]:
    hooks = data.get("hooks")
    groups = hooks.get("PreToolUse") if isinstance(hooks, dict) else None
    if not isinstance(groups, list):
        return []
    return [
        is_guard_command(h.get("command"))
        for g in groups
        if isinstance(g, dict) and isinstance(g.get("hooks"), list)
        for h in g["hooks"]
        if isinstance(h, dict)
    ]


def uninstall_claude(cwd: Path, *, local: bool) -> Change:
    path = claude_settings(cwd, local=local)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    text, data = _load_settings(path)
    record = _read_backup(backup)
    if record is not None and text == record.get("installed"):
        original = record.get("original")
        if isinstance(original, str):
            write_atomic(path, original)
            backup.unlink()
        else:
            path.unlink(missing_ok=True)
            backup.unlink()
            if record.get("created_dir"):
                _rmdir_if_empty(path.parent)
        return Change("claude", path, "restored", "settings are as they were before install")
    if not any(_has_guard(data)):
        backup.unlink(missing_ok=True)
        return Change("claude", path, "absent")
    # Edited since install: take out exactly our entry and keep everything else as it is now.
    write_atomic(path, _dump(without_guard(data)))
    backup.unlink(missing_ok=True)
    # "updated", not "removed": the file stays, with the user's later edits; only our entry is gone
    return Change("claude", path, "updated", "squad's hook entry taken out; your edits since install kept")


def _read_backup(path: Path) -> dict[str, Any] | None:
    text = _read_text(path)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _rmdir_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


# -- MCP server (Claude Code's project .mcp.json) --------------------------------------------------

MCP_SERVER = "squad"  # the key under mcpServers


def mcp_config(cwd: Path) -> Path:
    return work_root(cwd) / ".mcp.json"


def mcp_entry(agent: str | None, command: list[str] | None = None) -> dict[str, Any]:
    """Our ``mcpServers.squad`` entry: this squad's ``squad mcp`` over stdio, the agent baked in when given."""
    argv = [*(command or squad_command()), "mcp"]
    entry: dict[str, Any] = {"type": "stdio", "command": argv[0], "args": argv[1:]}
    if agent:
        entry["env"] = {"AGENT_ID": agent}
    return entry


def is_mcp_entry(entry: object) -> bool:
    """True for an ``mcpServers`` entry this module wrote: ``.../squad mcp`` or ``python -m squad mcp``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
        return False
    args = entry.get("args")
    if not isinstance(args, list) or not args or args[-1] != "mcp":
        return False
    words = [entry["command"], *(str(a) for a in args)]
    return Path(words[-2]).name == "squad"


def install_mcp(cwd: Path, *, agent: str | None, command: list[str] | None = None) -> Change:
    path = mcp_config(cwd)
    text, data = _load_settings(path)
    servers = data.get("mcpServers", {})
    if not isinstance(servers, dict):
        raise SquadError("`mcpServers` is not an object", path=path, line=_line_of(text or "", '"mcpServers"'))
    if MCP_SERVER in servers and not is_mcp_entry(servers[MCP_SERVER]):
        raise SquadError(
            f"mcpServers.{MCP_SERVER} is not squad's: rename it, then install again",
            path=path,
            line=_line_of(text or "", f'"{MCP_SERVER}"'),
        )
    entry = mcp_entry(agent, command)
    if servers.get(MCP_SERVER) == entry:
        return Change("mcp", path, "unchanged")
    action = "updated" if MCP_SERVER in servers else "installed"
    new_data: dict[str, Any] = json.loads(json.dumps(data))
    new_data.setdefault("mcpServers", {})[MCP_SERVER] = entry
    new_text = _dump(new_data)
    _remember(path, text, new_text)
    write_atomic(path, new_text)
    return Change("mcp", path, action)


def uninstall_mcp(cwd: Path) -> Change:
    path = mcp_config(cwd)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    text, data = _load_settings(path)
    record = _read_backup(backup)
    if record is not None and text == record.get("installed"):
        original = record.get("original")
        if isinstance(original, str):
            write_atomic(path, original)
        else:
            path.unlink(missing_ok=True)
        backup.unlink()
        return Change("mcp", path, "restored", ".mcp.json is as it was before install")
    servers = data.get("mcpServers")
    if not isinstance(servers, dict) or not is_mcp_entry(servers.get(MCP_SERVER)):
        backup.unlink(missing_ok=True)
        return Change("mcp", path, "absent")
    # Edited since install: take out exactly our entry and keep everything else as it is now.
    del servers[MCP_SERVER]
    if not servers:
        del data["mcpServers"]
    write_atomic(path, _dump(data))
    backup.unlink(missing_ok=True)
    return Change("mcp", path, "updated", "squad's server entry taken out; your edits since install kept")


def _remember(path: Path, text: str | None, new_text: str) -> None:
    """Keep what ``path`` held before the first install, and what we wrote, beside it."""
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    record = _read_backup(backup)
    if record is None:
        record = {"original": text, "installed": new_text}
    else:
        record["installed"] = new_text
    write_atomic(backup, _dump(record))


# -- all -----------------------------------------------------------------------------------------


def install(
    cwd: Path, *, git: bool, claude: bool, local: bool = False, agent: str | None = None, mcp: bool = False
) -> list[Change]:
    """Install the chosen layers (git and Claude when none is chosen); ``mcp`` registers ``squad mcp``."""
    if not git and not claude and not mcp:
        git = claude = True
    guard_args = ["--agent", agent] if agent else []
    changes = []
    if git:
        changes.append(install_git(cwd, guard_args))
    if claude:
        changes.append(install_claude(cwd, guard_args, local=local))
    if mcp:
        changes.append(install_mcp(cwd, agent=agent))
    return changes


def uninstall(cwd: Path, *, git: bool, claude: bool, local: bool | None = None, mcp: bool = False) -> list[Change]:
    """Remove the chosen layers (all when none is chosen); Claude: both settings files unless told.

    With nothing chosen, the MCP entry is named only when there was one to take out.
    """
    chosen = git or claude or mcp
    if not chosen:
        git = claude = True
    changes = []
    if git:
        changes.append(uninstall_git(cwd))
    if claude:
        found = [uninstall_claude(cwd, local=which) for which in ((False, True) if local is None else (local,))]
        done = [c for c in found if c.action != "absent"]
        changes.extend(done or found[:1])
    if mcp or not chosen:
        change = uninstall_mcp(cwd)
        if mcp or change.action != "absent":
            changes.append(change)
    return changes
