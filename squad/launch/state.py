"""The launcher's files under ``.squad/``: ``reports/launch.json`` (what the monitor shows and what a
resumed launch reads), the launcher's pid file and the stop flag ``squad stop`` raises."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from squad.agents.liveness import pid_alive
from squad.atomic import create_exclusive, write_atomic
from squad.errors import Refused
from squad.paths import SquadPaths
from squad.protocol import events as ev

UNGUARDED_COMMIT = ev.UNGUARDED_COMMIT  # an agent's work committed past a refusing pre-commit hook

# Agent states in launch.json.
QUEUED, RUNNING, BACKOFF, DONE, FAILED, STOPPED, MERGED = (
    "queued",
    "running",
    "backoff",
    "done",
    "failed",
    "stopped",
    "merged",
)
FINISHED = frozenset({DONE, FAILED, STOPPED, MERGED})


@dataclass(frozen=True)
class AgentReport:
    state: str
    attempt: int = 0
    score: int = 0
    idle_s: float = 0.0
    cpu_percent: float = 0.0
    rss_mb: float = 0.0
    output_rate: float = 0.0
    files_changed: int = 0
    pid: int | None = None
    worktree: str = ""
    branch: str = ""
    log: str = ""
    role: str | None = None
    reason: str | None = None
    exit_code: int | None = None
    updated_at: str | None = None
    kind: str | None = None  # the agent kind launched (claude, codex, gemini, aider, cmd)
    guard: str | None = None  # how squad's guard reached it
    unguarded: tuple[str, ...] = ()  # commits of its work made with --no-verify: the hook's refusal


def write_report(paths: SquadPaths, agents: dict[str, AgentReport], launcher: dict[str, Any]) -> None:
    data = {"launcher": launcher, "agents": {name: asdict(r) for name, r in agents.items()}}
    write_atomic(paths.launch_report, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_report(paths: SquadPaths) -> dict[str, AgentReport]:
    """The agents of the last launch.json; a missing or unreadable file is an empty launch."""
    try:
        data = json.loads(paths.launch_report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    agents = data.get("agents") if isinstance(data, dict) else None
    if not isinstance(agents, dict):
        return {}
    known = set(AgentReport.__dataclass_fields__)
    out = {}
    for name, raw in agents.items():
        if isinstance(raw, dict) and isinstance(raw.get("state"), str):
            fields = {k: v for k, v in raw.items() if k in known}
            if isinstance(fields.get("unguarded"), list):
                fields["unguarded"] = tuple(str(u) for u in fields["unguarded"])
            out[str(name)] = AgentReport(**fields)
    return out


def update_agent(paths: SquadPaths, agent: str, **changes: Any) -> None:
    """Change one agent's entry (``squad merge`` marks it merged); other entries are kept."""
    try:
        data = json.loads(paths.launch_report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {"launcher": {}, "agents": {}}
    entry = data.setdefault("agents", {}).setdefault(agent, {"state": STOPPED})
    entry.update(changes)
    write_atomic(paths.launch_report, json.dumps(data, indent=2, sort_keys=True) + "\n")


def update_launcher(paths: SquadPaths, **changes: Any) -> None:
    """Change the launcher entry of launch.json (``squad stop`` after a launcher died)."""
    try:
        data = json.loads(paths.launch_report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and isinstance(data.get("launcher"), dict):
        data["launcher"].update(changes)
        write_atomic(paths.launch_report, json.dumps(data, indent=2, sort_keys=True) + "\n")


def launcher_pid(paths: SquadPaths) -> int | None:
    try:
        pid = int(paths.launch_pid.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


@contextlib.contextmanager
def launcher_claim(paths: SquadPaths) -> Any:
    """Hold the launcher pid file for the life of a launch; a second live launcher is refused."""
    path = paths.launch_pid
    text = f"{os.getpid()}\n"
    if not create_exclusive(path, text):
        other = launcher_pid(paths)
        if other is not None and other != os.getpid():
            raise Refused(f"squad launch is already running (pid {other}): run `squad stop` first")
        write_atomic(path, text)  # left behind by a launcher that died
    with contextlib.suppress(FileNotFoundError):
        paths.launch_stop.unlink()
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with contextlib.suppress(FileNotFoundError):
            paths.launch_stop.unlink()


def record_unguarded(paths: SquadPaths, agent: str, sha: str, refusal: str) -> str:
    """An agent's work went in with ``--no-verify`` past a refusing hook: an event, and the line
    ``launch.json`` keeps for the launch report. Returns that line."""
    from squad.protocol import events as ev
    from squad.protocol.times import now

    line = f"{sha[:10]} committed with --no-verify: {refusal}"
    with contextlib.suppress(OSError):
        ev.append_event(
            paths.events,
            ev.Event(UNGUARDED_COMMIT, now(), agent=agent, detail=refusal, data={"commit": sha}),
        )
    return line
