"""The tools of ``squad mcp``: their schemas, and one agent's session calling the library with them.

No MCP SDK here: a tool is a name, a one-line description and a JSON schema, and a call is a
plain function from arguments to a ``Reply``. Each one is a thin call into what the CLI calls
(``leases.locks``, ``enforce.access``, ``agents.updates``, ``coordinator.brief``); its text is
what the CLI prints, and an error is the CLI's one line (``squad: error: ...``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from squad.errors import SquadError
from squad.paths import SquadPaths, checked_path
from squad.protocol.comm import Status
from squad.protocol.lease import Lease, grant_line
from squad.protocol.times import now as utcnow

_log = logging.getLogger("squad.mcp")

_STATUSES = [s.value for s in Status]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    text: str
    is_error: bool = False


def _schema(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


_PATH = {"type": "string", "description": "repo path or @resource"}
_TTL = {"type": "number", "description": "seconds"}

# Short on purpose: every client sends this list to its model on every turn (a test keeps it
# under 2,000 tokens).
TOOLS: tuple[Tool, ...] = (
    Tool("status", "My plan, next task, leases (with expiry) and peers, one line each.", _schema([])),
    Tool(
        "check",
        "May I write these paths now? One line per refusal, with the fix.",
        _schema(["paths"], paths={"type": "array", "items": {"type": "string"}, "minItems": 1}),
    ),
    Tool(
        "lock",
        "Take a lease on a shared file, folder or @resource before editing it.",
        _schema(["path"], path=_PATH, reason={"type": "string"}, ttl=_TTL),
    ),
    Tool("renew", "Extend a lease I hold.", _schema(["path"], path=_PATH, ttl=_TTL)),
    Tool("unlock", "Release a lease I hold.", _schema(["path"], path=_PATH)),
    Tool(
        "update",
        "Post a status update to my comm file (renews my leases).",
        _schema(
            ["status"],
            status={"type": "string", "enum": _STATUSES},
            task={"type": "string", "description": "e.g. T1 Create dashboard"},
            progress={"type": "string", "description": "tasks done/total, e.g. 3/5"},
            files={"type": "array", "items": {"type": "string"}, "description": "files modified"},
            blocker={"type": "string", "description": "what blocks me (path, agent, handoff)"},
        ),
    ),
    Tool(
        "handoff",
        "Hand a file over to another agent.",
        _schema(["to", "file"], to={"type": "string"}, file={"type": "string"}, note={"type": "string"}),
    ),
    Tool("next", "The next task I may start, or why none.", _schema([])),
)

# -- arguments ---------------------------------------------------------------------------------


class _Args:
    """A tool's arguments, read against its schema; every mistake is one SquadError line."""

    def __init__(self, tool: Tool, raw: Mapping[str, Any] | None) -> None:
        self.tool = tool
        self.raw = dict(raw or {})
        known = tool.schema["properties"]
        for name in self.raw:
            if name not in known:
                allowed = ", ".join(known) or "none"
                raise SquadError(f"{tool.name}: unknown argument {name!r} (arguments: {allowed})")
        for name in tool.schema["required"]:
            if self.raw.get(name) in (None, "", []):
                raise SquadError(f"{tool.name}: missing argument {name!r}")

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise SquadError(f"{self.tool.name}: {name} must be a string, not {_kind(value)}")
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name)
        assert value is not None  # checked in __init__
        return value

    def seconds(self, name: str) -> float | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SquadError(f"{self.tool.name}: {name} must be a number of seconds, not {_kind(value)}")
        if not value > 0:
            raise SquadError(f"{self.tool.name}: {name} must be a positive number of seconds, not {value:g}")
        return float(value)

    def texts(self, name: str) -> list[str]:
        value = self.raw.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SquadError(f"{self.tool.name}: {name} must be a list of strings, not {_kind(value)}")
        return value


def _kind(value: object) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "an object" if isinstance(value, dict) else "null"
    )


# -- the session -------------------------------------------------------------------------------


class AgentSession:
    """One agent's tools, and what it was granted: the leases it holds, to tell it when it loses one.

    Calls may come from several worker threads at once (the server runs each off its event loop),
    and the lease watcher runs beside them: what the session remembers is guarded by a lock.
    """

    def __init__(self, paths: SquadPaths, agent: str) -> None:
        self.paths = paths
        self.agent = agent
        self._guard = threading.Lock()
        self._known: dict[str, Lease] = {}
        self._pending: list[str] = []  # notices the agent has not been told yet
        self._recent: list[str] = []  # every notice, newest last (the leases resource shows them)
        try:
            self.reckon(utcnow())  # adopt the leases the agent already holds
        except SquadError as exc:  # an unreadable event log: the first tool call says it again
            _log.info("lease check failed: %s", exc.render())

    # -- lost leases ---------------------------------------------------------------------------

    def reckon(self, now: datetime) -> list[str]:
        """Look for leases the agent lost since the last look; their notices, each told once."""
        from squad.leases.locks import same_holder, survey
        from squad.leases.lost import lost_leases

        current = survey(self.paths).leases
        with self._guard:
            found = lost_leases(self.paths, list(self._known.values()), now, current=current)
            known = {lease.path: lease for lease in found.held}
            for lease in current:  # taken meanwhile outside this session (the CLI): watch them too
                if same_holder(lease.agent, self.agent) and not lease.expired(now):
                    known.setdefault(lease.path, lease)
            self._known = known
            notices = [lost.notice() for lost in found.lost]
            self._recent = (self._recent + notices)[-20:]
            return notices

    def tell_later(self, notices: list[str]) -> None:
        with self._guard:
            self._pending.extend(notices)

    def _take_pending(self) -> list[str]:
        with self._guard:
            pending, self._pending = self._pending, []
            return pending

    def _granted(self, lease: Lease) -> None:
        with self._guard:
            self._known[lease.path] = lease

    def _released(self, path: str) -> None:
        with self._guard:
            self._known.pop(path, None)

    def recent_notices(self) -> list[str]:
        with self._guard:
            return list(self._recent)

    # -- calls ---------------------------------------------------------------------------------

    def call(self, name: str, arguments: Mapping[str, Any] | None) -> Reply:
        """Run tool ``name``: its text, after any notice of a lost lease; errors as the CLI's line."""
        notices = self._take_pending()
        try:
            notices += self.reckon(utcnow())
        except SquadError as exc:  # an unreadable lease file: the tool itself says more
            _log.info("lease check failed: %s", exc.render())
        text, ok = self._run(name, arguments)
        return Reply("\n".join([*notices, text]), is_error=not ok)

    def _run(self, name: str, arguments: Mapping[str, Any] | None) -> tuple[str, bool]:
        tool = next((t for t in TOOLS if t.name == name), None)
        if tool is None:
            return f"squad: error: unknown tool {name!r}: the tools are {', '.join(t.name for t in TOOLS)}", False
        try:
            return self._handlers()[name](_Args(tool, arguments))
        except SquadError as exc:
            return f"squad: error: {exc.render()}", False
        except OSError as exc:  # as the CLI says it: the environment said no
            where = f": {exc.filename}" if isinstance(exc.filename, str) and exc.filename else ""
            return f"squad: error: {exc.strerror or exc}{where}", False
        except Exception as exc:  # a bug: one line for the agent, the traceback on the server's stderr
            _log.exception("tool %s failed", name)
            return f"squad: error: internal error ({type(exc).__name__}: {exc})", False

    def _handlers(self) -> dict[str, Callable[[_Args], tuple[str, bool]]]:
        return {
            "status": self._status,
            "check": self._check,
            "lock": self._lock,
            "renew": self._renew,
            "unlock": self._unlock,
            "update": self._update,
            "handoff": self._handoff,
            "next": self._next,
        }

    def _path(self, raw: str) -> str:
        return checked_path(raw, self.paths)  # the CLI's one door for paths

    def _status(self, args: _Args) -> tuple[str, bool]:
        from squad.coordinator.brief import agent_brief
        from squad.mcp._text import brief_text

        now = utcnow()
        return brief_text(agent_brief(self.paths, self.agent, now), now), True

    def _next(self, args: _Args) -> tuple[str, bool]:
        from squad.coordinator.brief import agent_brief

        return agent_brief(self.paths, self.agent, utcnow()).next.line(), True

    def _check(self, args: _Args) -> tuple[str, bool]:
        from squad.enforce.access import check_paths

        wanted = [self._path(p) for p in args.texts("paths")]
        decisions = check_paths(self.paths, self.agent, list(dict.fromkeys(wanted)))
        refused = [d for d in decisions if not d.allowed]
        if not refused:
            return f"ok: {self.agent} may write {len(decisions)} path(s)", True
        # A refusal is the answer asked for, not a failure of the tool.
        return "\n".join(f"{d.path}: refused by {d.rule}: {d.reason}" + (f" (fix: {d.fix})" if d.fix else "")
                         for d in refused), True  # fmt: skip

    def _lock(self, args: _Args) -> tuple[str, bool]:
        from squad.leases import locks

        path = self._path(args.required_text("path"))
        lease = locks.acquire(self.paths, self.agent, path, ttl_s=args.seconds("ttl"), reason=args.text("reason"))
        self._granted(lease)
        return grant_line("locked", lease), True

    def _renew(self, args: _Args) -> tuple[str, bool]:
        from squad.leases import locks

        path = self._path(args.required_text("path"))
        lease = locks.renew(self.paths, self.agent, path, ttl_s=args.seconds("ttl"))
        self._granted(lease)
        return grant_line("renewed", lease), True

    def _unlock(self, args: _Args) -> tuple[str, bool]:
        from squad.leases import locks

        path = self._path(args.required_text("path"))
        lease = locks.release(self.paths, self.agent, path)
        self._released(lease.path)
        told = f"\ntold {lease.handoff_to} (handoff)" if lease.handoff_to else ""
        return f"unlocked {lease.path}{told}", True

    def _update(self, args: _Args) -> tuple[str, bool]:
        from squad.agents.updates import post_update, progress_from_text, status_from_text

        status = status_from_text(args.required_text("status"))
        progress_text = args.text("progress")
        member = post_update(
            self.paths,
            self.agent,
            status=status,
            task=args.text("task"),
            progress=progress_from_text(progress_text) if progress_text else None,
            files=tuple(args.texts("files")),
            waiting_for=args.text("blocker"),
        )
        return f"{member.name}: {status.value}", True

    def _handoff(self, args: _Args) -> tuple[str, bool]:
        from squad.agents.updates import post_handoff

        file = args.required_text("file")
        sender, receiver = post_handoff(
            self.paths, self.agent, to=args.required_text("to"), file=file, status=args.text("note")
        )
        return f"{sender.name} -> {receiver.name}: {file}", True
