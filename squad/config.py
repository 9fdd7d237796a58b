"""``.squad/config.yaml``: settings with defaults. The sections other modules own (``SECTIONS``) are kept
for them; any other unknown key is a typo, refused with the closest known key."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from squad.errors import SquadError


class Access(StrEnum):
    """How a path may be written: by its owner only, by whoever holds its lease, or by nobody."""

    EXCLUSIVE = "EXCLUSIVE"
    SEQUENTIAL = "SEQUENTIAL"
    READONLY = "READONLY"


ACCESS_MODES = tuple(a.value for a in Access)
DEADLOCK_POLICIES = ("youngest", "oldest", "none")

DEFAULT_CONFIG_TEXT = """\
# squad settings. Every key is optional: a missing key takes the default shown here.
# Times are in seconds.

# Leases (`squad lock`): how long a lease lives unless renewed.
lock_ttl_s: 1800
# A lease held longer than this is flagged in `squad status` and the monitor (never broken for it).
lock_warn_s: 600

# An agent with no status update for this long is idle (an event, a notice).
agent_idle_s: 600
# ...and for this long stale: its leases go stale and its tasks are reassigned.
agent_stale_s: 1800

# Blocked work older than this is reassigned, and tasks depending on it are marked blocked.
reassign_after_s: 900

# Access for a path that no pattern in ownership.yaml matches: EXCLUSIVE, SEQUENTIAL or READONLY.
default_access: SEQUENTIAL

# Which lease a deadlock gives up: youngest (default), oldest, or none (report only).
deadlock_policy: youngest

# Flag (event `unproven_done`) a DONE without a passing `squad update --evidence CMD`.
require_evidence: false

# Headings whose list items are tasks in a PRD (matched case-insensitively, as words).
task_headings: [tasks, task breakdown, work items, implementation, milestones, deliverables]

# `squad allocate` without --agents: one agent per stream, at most this many.
max_agents: 5

# Where the leases live: files (.squad/locks/, nothing to start), or an etcd cluster shared by
# agents on several machines: etcd://HOST:PORT[,HOST:PORT...][/NAME] (docs/distributed.md).
# $SQUAD_STORE overrides it.
store: files

# Extra or overriding stream rules for `squad allocate`: name -> folders and keywords.
# streams:
#   mobile: {folders: [mobile/], keywords: [ios, android, swift, kotlin]}

# `squad launch`: which agent CLI (claude, codex, gemini, aider; or cmd, any command with {plan},
# {agent}, {worktree} and {prompt} filled in), its extra options, squad's MCP server for Claude Code.
# launch:
#   agent: claude
#   args: --model sonnet
#   mcp: false
#   cmd: ./agent.sh {agent} {prompt}
#   max_parallel: 20
#   per_role: 3
#   idle_timeout_s: 600
#   retries: 3
#   worktree_dir: ../{repo}-squad
#   remote: origin          # agents on several hosts push squad/* there; review and merge fetch it
#   setup: {copy: [.env], run: []}

# The coordinator daemon: watch the work tree too (changes to files an agent may not write are
# violations; false in a checkout shared with people), and the slow timer for time-based rules.
# With an etcd store, one coordinator acts for the squad; another takes over within claim_ttl_s
# of it dying (docs/distributed.md).
# coordinator:
#   watch_worktree: true
#   tick_s: 5
#   claim_ttl_s: 10
"""


@dataclass(frozen=True)
class Config:
    lock_ttl_s: float = 1800.0
    lock_warn_s: float = 600.0
    agent_idle_s: float = 600.0
    agent_stale_s: float = 1800.0
    reassign_after_s: float = 900.0
    default_access: str = Access.SEQUENTIAL
    deadlock_policy: str = "youngest"
    require_evidence: bool = False
    max_agents: int = 5  # `squad allocate` without --agents: one agent a stream, at most this many
    store: str = "files"  # files, or etcd://HOST:PORT[,...][/NAME] (squad.store parses it)
    task_headings: tuple[str, ...] = (
        "tasks",
        "task breakdown",
        "work items",
        "implementation",
        "milestones",
        "deliverables",
    )
    # Sections owned by other modules (streams, launch, ...), kept as read.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.extra.get(name)
        return value if isinstance(value, Mapping) else {}


_NUMBERS = {"lock_ttl_s", "lock_warn_s", "agent_idle_s", "agent_stale_s", "reassign_after_s"}
# Top-level sections read by the modules that own them (allocate, launch, coordinator), kept in extra.
SECTIONS = ("streams", "launch", "coordinator")
KNOWN_KEYS = frozenset({f.name for f in fields(Config)} - {"extra"} | set(SECTIONS))


def key_line(text: str, section: str | None, key: str) -> int | None:
    """The line (1-based) of ``key:`` at the top level (``section`` None) or inside the top-level
    ``section:`` of a YAML text; inside a section missing the key, the section's own line."""
    inside = False
    first = None
    for number, line in enumerate(text.splitlines(), start=1):
        bare = line.split("#", 1)[0].rstrip()
        if not bare:
            continue
        if not line[0].isspace():
            if section is None:
                if bare.startswith(f"{key}:"):
                    return number
                continue
            if inside:
                break
            inside = bare.startswith(f"{section}:")
            first = number if inside else first
            if inside and key == section:
                return number
            continue
        if inside and bare.lstrip().startswith(f"{key}:"):
            return number
    return first


def unknown_setting(name: str, known: Iterable[str], *, prefix: str = "") -> str:
    """``unknown setting launch.max_paralel: did you mean launch.max_parallel? (known: ...)``."""
    import difflib

    choices = sorted(known)
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f": did you mean {prefix}{close[0]}?" if close else ""
    return f"unknown setting {prefix}{name}{hint} (known: {', '.join(choices)})"


def load_config(path: Path) -> Config:
    """Read ``config.yaml``; a missing file gives the defaults, a malformed one is a SquadError
    naming the file and line (never the defaults: those would silently change the rules)."""
    from squad.protocol.textfile import read_text

    try:
        text = read_text(path)
    except FileNotFoundError:
        return Config()
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SquadError(f"bad YAML: {problem}", path=path, line=line) from None
    except RecursionError:
        raise SquadError("bad YAML: nested too deeply", path=path) from None
    if data is None:
        return Config()
    seen: dict[str, int] = {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        top = re.match(r"^([A-Za-z_][\w-]*)\s*:", raw_line)
        if top:
            if top.group(1) in seen:
                first = seen[top.group(1)]
                raise SquadError(f"{top.group(1)} is set twice (first at line {first})", path=path, line=number)
            seen[top.group(1)] = number
    if not isinstance(data, dict):
        raise SquadError("expected a mapping of settings", path=path, line=1)
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key)
        line = key_line(text, None, key)
        if key not in KNOWN_KEYS:
            raise SquadError(unknown_setting(key, KNOWN_KEYS), path=path, line=line)
        if key in SECTIONS:
            extra[key] = value
            continue
        if key in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
                raise SquadError(
                    f"{key} must be a positive number of seconds, not {value!r}",
                    path=path,
                    line=line,
                )
            values[key] = float(value)
        elif key == "default_access":
            from squad.protocol.ownership import parse_access

            access = parse_access(str(value), path=path, line=line)
            if access == Access.EXCLUSIVE:  # an unmatched path has no owner: nobody could ever write it
                raise SquadError("default_access must be SEQUENTIAL or READONLY", path=path, line=line)
            values[key] = access
        elif key == "deadlock_policy":
            if str(value).lower() not in DEADLOCK_POLICIES:
                raise SquadError(
                    f"deadlock_policy must be one of {', '.join(DEADLOCK_POLICIES)}, not {value!r}",
                    path=path,
                    line=line,
                )
            values[key] = str(value).lower()
        elif key == "require_evidence":
            if not isinstance(value, bool):
                raise SquadError(f"require_evidence must be true or false, not {value!r}", path=path, line=line)
            values[key] = value
        elif key == "max_agents":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SquadError(
                    f"max_agents must be a whole number of at least 1, not {value!r}", path=path, line=line
                )
            values[key] = value
        elif key == "store":
            from squad.store import parse_store

            values[key] = parse_store(str(value), where="store", path=path, line=line).url
        elif key == "task_headings":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SquadError("task_headings must be a list of strings", path=path, line=line)
            values[key] = tuple(v.lower() for v in value)
    return Config(**values, extra=extra)
