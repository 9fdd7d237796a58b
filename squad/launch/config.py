"""The ``launch:`` section of ``config.yaml``, read into one typed record with defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from squad.config import Config, key_line, unknown_setting
from squad.errors import SquadError


@dataclass(frozen=True)
class LaunchSettings:
    cmd: str | None = None
    agent: str | None = None  # claude | codex | gemini | aider | cmd (squad/launch/agents.py)
    args: str | None = None  # extra options for the agent CLI, shell text appended to its command
    mcp: bool = False  # also give the agent `squad mcp` (Claude Code: --mcp-config)
    max_parallel: int = 20
    per_role: int = 3
    idle_timeout_s: float = 600.0
    retries: int = 3
    backoff_s: float = 10.0  # first retry waits this long, then doubles
    backoff_max_s: float = 300.0
    grace_s: float = 10.0  # SIGTERM, then SIGKILL after this long
    sample_s: float = 2.0  # how often the worktree and process figures are sampled
    worktree_dir: str = "../{repo}-squad"  # relative to the repository root; {repo} is its name
    setup_copy: tuple[str, ...] = (".env",)
    setup_run: tuple[str, ...] = ()
    test_cmd: str | None = None
    remote: str | None = None  # where the agents' branches are pushed (several hosts): review and merge fetch them
    tmux_socket: str | None = None
    tmux_session: str | None = None
    monitor_cmd: str = "squad monitor"  # what the tmux monitor window runs

    def with_overrides(self, **values: Any) -> LaunchSettings:
        """These settings with every non-None keyword applied (command-line options)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    def kind(self) -> str:
        """The agent kind to launch: ``agent``, else ``cmd`` when a template is set."""
        from squad.launch.agents import KINDS

        kind = self.agent or ("cmd" if self.cmd else None)
        if kind is None:
            raise SquadError(
                "no agent command: pass --agent claude|codex|gemini|aider, or --cmd TEMPLATE "
                "(or set launch.agent / launch.cmd in .squad/config.yaml)"
            )
        if kind not in KINDS:
            raise SquadError(f"unknown agent kind {kind!r}: choose one of {', '.join(KINDS)}")
        if kind == "cmd" and not self.cmd:
            raise SquadError("--agent cmd needs a command: pass --cmd TEMPLATE or set launch.cmd")
        return kind

    def worktree_base(self, root: Path) -> Path:
        folder = Path(self.worktree_dir.replace("{repo}", root.name)).expanduser()
        return (folder if folder.is_absolute() else root / folder).resolve()

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1)."""
        return float(min(self.backoff_max_s, self.backoff_s * 2 ** max(0, attempt - 1)))


_KINDS = ("claude", "codex", "gemini", "aider", "cmd")  # squad.launch.agents.KINDS, without importing it
_INTS = {"max_parallel", "per_role", "retries"}
_FLOATS = {"idle_timeout_s", "backoff_s", "backoff_max_s", "grace_s", "sample_s"}
_STRS = {"cmd", "agent", "args", "worktree_dir", "test_cmd", "remote", "tmux_socket", "tmux_session", "monitor_cmd"}
_ALIASES = {"idle_timeout": "idle_timeout_s", "backoff": "backoff_s", "grace": "grace_s", "test": "test_cmd"}
_LISTS = {"copy": "setup_copy", "setup_copy": "setup_copy", "run": "setup_run", "install": "setup_run"}
_LISTS["setup_run"] = "setup_run"
_BOOLS = {"mcp"}
KNOWN_KEYS = frozenset(_INTS | _FLOATS | _STRS | _BOOLS | set(_ALIASES) | set(_LISTS) | {"setup"})


def _strings(value: Any, key: str, fail: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise fail(f"launch.{key} must be a string or a list of strings, not {value!r}", key.rsplit(".", maxsplit=1)[-1])


def launch_settings(config: Config, where: Path | None = None) -> LaunchSettings:
    """Read ``config.section("launch")``; a bad value is a one-line error naming the file, line and key."""
    try:
        text = where.read_text(encoding="utf-8") if where is not None else ""
    except (OSError, ValueError):  # unreadable: the error names the file without a line
        text = ""

    def fail(message: str, key: str) -> SquadError:
        return SquadError(message, path=where, line=key_line(text, "launch", key) if text else None)

    raw_section = config.extra.get("launch")
    if raw_section is not None and not isinstance(raw_section, Mapping):
        raise fail(f"launch must be a mapping of settings (cmd: ..., max_parallel: ...), not {raw_section!r}", "launch")
    section: Mapping[str, Any] = config.section("launch")
    values: dict[str, Any] = {}
    for raw_key, value in section.items():
        name = str(raw_key)
        key = _ALIASES.get(name, name)
        if name not in KNOWN_KEYS:
            shown = KNOWN_KEYS - set(_ALIASES) - {"copy", "run", "install", "setup_copy", "setup_run"}
            raise fail(unknown_setting(name, shown, prefix="launch."), name)
        if value is None:
            continue
        if key in _INTS:
            least = 0 if key == "retries" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise fail(f"launch.{name} must be a whole number of at least {least}, not {value!r}", name)
            values[key] = value
        elif key in _FLOATS:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise fail(f"launch.{name} must be a positive number of seconds, not {value!r}", name)
            values[key] = float(value)
        elif key in _STRS:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise fail(f"launch.{name} must be a string, not {value!r}", name)
            values[key] = str(value)
            if key == "agent" and values[key] not in _KINDS:
                raise fail(f"launch.agent must be one of {', '.join(_KINDS)}, not {value!r}", name)
        elif key in _BOOLS:
            if not isinstance(value, bool):
                raise fail(f"launch.{name} must be true or false, not {value!r}", name)
            values[key] = value
        elif key == "setup":
            if not isinstance(value, Mapping):
                raise fail("launch.setup must be a mapping {copy: [...], run: [...]}", name)
            extra = sorted(set(map(str, value)) - {"copy", "run"})
            if extra:
                raise fail(unknown_setting(extra[0], ("copy", "run"), prefix="launch.setup."), extra[0])
            values["setup_copy"] = _strings(value.get("copy"), "setup.copy", fail)
            values["setup_run"] = _strings(value.get("run"), "setup.run", fail)
        else:
            values[_LISTS[key]] = _strings(value, name, fail)
    return LaunchSettings(**values)
