"""Comm files: the append-only markdown each agent writes, read tolerantly and incrementally.

A block is known by its keys, not its heading (design section 2, "Compatibility"). The reader is a
line-level state machine, so feeding a file in any number of appended chunks gives exactly the
blocks a single full read gives; ``CommReader`` feeds it only the bytes appended since last time.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from squad.errors import SquadError
from squad.paths import strip_path
from squad.protocol.ids import AgentId, mentioned_agent
from squad.protocol.times import find_time, format_time


class Status(StrEnum):
    STARTING = "STARTING"
    ACTIVE = "ACTIVE"
    WAITING = "WAITING"
    BLOCKED = "BLOCKED"
    DONE = "DONE"
    FAILED = "FAILED"

    @property
    def symbol(self) -> str:
        """How the monitor, ``squad status`` and ``reports/status.md`` mark it."""
        return _SYMBOLS[self]


_SYMBOLS = {
    Status.STARTING: "🔄",
    Status.ACTIVE: "⚡",
    Status.WAITING: "⏸",
    Status.BLOCKED: "⏸",
    Status.DONE: "✅",
    Status.FAILED: "❌",
}


STATUS_WORDS: dict[str, Status] = {
    **{s.value.lower(): s for s in Status},
    "ready": Status.STARTING,
    "pending": Status.STARTING,
    "initialized": Status.STARTING,
    "initialised": Status.STARTING,
    "initializing": Status.STARTING,
    "not_started": Status.STARTING,
    "started": Status.ACTIVE,
    "in_progress": Status.ACTIVE,
    "inprogress": Status.ACTIVE,
    "working": Status.ACTIVE,
    "running": Status.ACTIVE,
    "busy": Status.ACTIVE,
    "idle": Status.WAITING,
    "paused": Status.WAITING,
    "on_hold": Status.WAITING,
    "complete": Status.DONE,
    "completed": Status.DONE,
    "finished": Status.DONE,
    "error": Status.FAILED,
    "errored": Status.FAILED,
    "failure": Status.FAILED,
    "crashed": Status.FAILED,
}


def parse_status(text: str) -> Status | None:
    """A status word as agents write it (``✅ COMPLETE``, ``in progress``, ``BLOCKED (types)``).

    None for a placeholder such as ``[ACTIVE|BLOCKED]``; ValueError naming the word if unknown.
    """
    value = text.strip()
    if not value or _is_placeholder(value):
        return None
    words = re.findall(r"[A-Za-z]+", value)
    if not words:
        raise ValueError(value)
    lowered = [w.lower() for w in words]
    for candidate in ("_".join(lowered[:2]), "".join(lowered[:2]), lowered[0]):
        if candidate in STATUS_WORDS:
            return STATUS_WORDS[candidate]
    raise ValueError(words[0])


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    percent: bool = False  # written as "60%": a share of the agent's own tasks, not a count

    def __str__(self) -> str:
        return f"{self.done}%" if self.percent else f"{self.done}/{self.total}"

    def of(self, tasks: int) -> Progress:
        """A percentage as a count of ``tasks``; a count as it is."""
        if not self.percent:
            return self
        return Progress(round(self.done * tasks / 100), tasks)


@dataclass(frozen=True)
class WaitingFor:
    text: str
    path: str | None = None
    holder: str | None = None


@dataclass(frozen=True)
class StatusUpdate:
    line: int
    at: datetime | None
    status: Status | None
    task: str | None = None
    progress: Progress | None = None
    files_modified: tuple[str, ...] = ()
    files_created: tuple[str, ...] = ()
    files_needed: tuple[str, ...] = ()
    next: str | None = None
    waiting_for: WaitingFor | None = None
    alternative: str | None = None
    evidence: str | None = None
    evidence_exit: int | None = None
    agent: str | None = None


@dataclass(frozen=True)
class HandoffRequest:
    line: int
    at: datetime | None
    from_agent: str | None
    to_agent: str | None
    file: str | None
    status: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Notice:
    """A block from the coordinator (``FROM: Coordinator``): neither status nor handoff."""

    line: int
    at: datetime | None
    to_agent: str | None
    text: str


Block = StatusUpdate | HandoffRequest | Notice

_HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE_RE = re.compile(r"^\s{0,3}([-*_=])(?:\s*\1){2,}\s*$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_BOLD_TITLE_RE = re.compile(r"^\s*(\*\*|__)([^*]+?)\1\s*$")
_TITLE_WORDS_RE = re.compile(r"\b(update|report|request|handoff|notice)\b", re.IGNORECASE)
_BULLET_RE = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9 _/-]{0,40}$")
_PROGRESS_RE = re.compile(r"(\d+)\s*(?:/|of|out of)\s*(\d+)", re.IGNORECASE)
_PERCENT_RE = re.compile(r"(\d{1,3})(?:\.\d+)?\s*%")
_PATH_TOKEN_RE = re.compile(r"`([^`]+)`|((?:/|\./)?[\w@.-]+(?:/[\w@.-]*)+|[\w-]+\.[A-Za-z0-9]{1,8}\b)")
_EXIT_RE = re.compile(r"\(exit (-?\d+)\)\s*$")
_NONE_WORDS = {"none", "n/a", "na", "-", "nothing", "no", "null", "tbd"}

_TIME_KEYS = (
    "timestamp",
    "time",
    "updated",
    "last_update",
    "date",
    "at",
    "waiting_since",
    "initialized",
)
_TASK_KEYS = ("current_task", "task", "working_on", "current")
_PROGRESS_KEYS = ("progress", "tasks_completed", "completed", "tasks_done")
_MODIFIED_KEYS = (
    "files_modified",
    "modified",
    "files_changed",
    "changed_files",
    "files",
    "modified_files",
)
_CREATED_KEYS = ("files_created", "created", "created_files", "new_files")
_NEEDED_KEYS = ("files_needed", "needs", "needed")
_WAIT_KEYS = (
    "waiting_for",
    "waiting_on",
    "blocked_on",
    "blocked_by",
    "blocker",
    "blockers",
    "reason",
    "depends_on",
)
_ALT_KEYS = ("alternative", "alternative_task", "fallback", "working_on_instead", "meanwhile")
_NEXT_KEYS = ("next", "next_steps", "next_step", "next_task")
_STATUS_KEYS = ("status", "state", "agent_status")
_LIST_KEYS = frozenset((*_MODIFIED_KEYS, *_CREATED_KEYS, *_NEEDED_KEYS, "blockers", "tasks_completed"))
_SPLIT_KEYS = frozenset(("status", "state", "timestamp"))
_HINT_KEYS = frozenset(
    (
        *_STATUS_KEYS,
        *_TASK_KEYS,
        *_PROGRESS_KEYS,
        *_MODIFIED_KEYS,
        *_CREATED_KEYS,
        *_WAIT_KEYS,
        *_NEXT_KEYS,
    )
)


def _is_placeholder(value: str) -> bool:
    v = value.strip()
    if len(v) >= 2 and v[0] + v[-1] in ("[]", "<>", "{}"):
        return True
    return "|" in v and " " not in v.replace(" | ", "|")


def _is_bold_title(inner: str) -> bool:
    """``**Status Update [2026-11-22 14:05]**`` opens a block; ``**Status: ACTIVE**`` and
    ``**Files Modified:**`` are keys."""
    inner = inner.strip()
    if inner.endswith(":"):
        return False
    if ":" not in inner:
        return True
    return bool(_TITLE_WORDS_RE.search(inner) and find_time(inner))


@functools.lru_cache(maxsize=8192)  # most lines of a long comm file repeat (Agent:, Status:, Task:)
def _key_of(text: str) -> tuple[str, str] | None:
    """``(normalised key, value)`` for a ``Key: value`` line, bold or emoji-prefixed; else None."""
    body = text.strip()
    while body and not body[0].isalnum():
        body = body[1:]
    if ":" not in body:
        return None
    raw_key, value = body.split(":", 1)
    key = raw_key.replace("*", "").replace("`", "").strip()
    if not _KEY_RE.match(key) or value.startswith("//"):  # "http://x" is no key
        return None
    value = value.strip().removeprefix("**").removeprefix("__").removesuffix("**").strip()
    return re.sub(r"[\s/_-]+", "_", key.lower()), value


@dataclass
class _Draft:
    line: int
    heading: str = ""
    heading_level: int = 0
    keys: dict[str, str] = field(default_factory=dict)
    items: dict[str, list[str]] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    list_key: str | None = None


class CommParser:
    """Feed it lines in order (in any chunks); ``blocks()`` gives what a full read would."""

    def __init__(self, path: Path | str = "<comm>") -> None:
        self.path = path
        self.line_no = 0
        self.done: list[Block] = []
        self._problems: list[SquadError] = []
        self._identity: AgentId | None = None  # the agent mentions so far, folded (see identity)
        self._draft = _Draft(line=1)
        self._in_fence = False
        # The open last block as classified, until the next line: ``problems``, ``identity`` and
        # ``pending`` all ask for it after each read.
        self._open: tuple[Block | None, list[SquadError], list[str]] | None = None

    def feed(self, text: str) -> None:
        for line in text.splitlines():
            self.feed_line(line)

    def feed_line(self, raw: str) -> None:
        self.line_no += 1
        self._open = None
        line = raw.rstrip("\r\n")
        if _FENCE_RE.match(line):
            self._in_fence = not self._in_fence
            return
        heading = _HEADING_RE.match(line)
        bold = _BOLD_TITLE_RE.match(line)
        if bold and not _is_bold_title(bold.group(2)):
            bold = None
        if heading or (bold and not self._in_fence):
            self._close()
            level = len(heading.group(1)) if heading else 2
            title = heading.group(2) if heading else (bold.group(2) if bold else "")
            self._draft = _Draft(line=self.line_no, heading=title, heading_level=level)
            if level == 1:
                self._identity = _better_identity(self._identity, title)
            return
        if _RULE_RE.match(line):
            self._close()
            self._draft = _Draft(line=self.line_no + 1)
            return
        if not line.strip():
            return
        self._key_line(line)

    def _key_line(self, line: str) -> None:
        draft = self._draft
        bullet = _BULLET_RE.match(line)
        indent = len(line) - len(line.lstrip())
        pair = _key_of(bullet.group(2) if bullet else line)
        if draft.list_key is not None and (bullet or indent > 0) and (pair is None or pair[0] not in _HINT_KEYS):
            draft.items.setdefault(draft.list_key, []).append((bullet.group(2) if bullet else line).strip())
            return
        if pair is None:
            draft.list_key = None
            draft.text.append(line.strip())
            return
        key, value = pair
        if key in draft.keys and key in _SPLIT_KEYS:
            self._close()
            self._draft = draft = _Draft(line=self.line_no)
        if key not in draft.keys:
            draft.keys[key] = value
            draft.key_lines[key] = self.line_no
        draft.list_key = key if value == "" or key in _LIST_KEYS else None
        if value and key in _LIST_KEYS:
            draft.items.setdefault(key, []).extend(v for v in re.split(r",\s*", value))

    @property
    def problems(self) -> list[SquadError]:
        """Problems found so far, the open last block's included."""
        return [*self._problems, *self._classified_open()[1]]

    @property
    def identity(self) -> AgentId | None:
        """The agent this file belongs to, as its content names it (a role wins over a bare number)."""
        found = self._identity
        for hint in self._classified_open()[2]:
            found = _better_identity(found, hint)
        return found

    def _close(self) -> None:
        draft = self._draft
        self._draft = _Draft(line=self.line_no + 1)
        block, problems, hints = self._classify(draft)
        self._problems.extend(problems)
        for hint in hints:  # folded as they come: a long file costs nothing more per read
            self._identity = _better_identity(self._identity, hint)
        if block is not None:
            self.done.append(block)

    def blocks(self) -> list[Block]:
        """All blocks so far, the still-open last one included (it may grow with the next append)."""
        pending = self.pending()
        return [*self.done, pending] if pending is not None else list(self.done)

    def pending(self) -> Block | None:
        """The still-open last block, as it reads so far."""
        return self._classified_open()[0]

    def _classified_open(self) -> tuple[Block | None, list[SquadError], list[str]]:
        if self._open is None:
            self._open = self._classify(self._draft)
        return self._open

    # -- classification -------------------------------------------------------------------
    def _classify(self, d: _Draft) -> tuple[Block | None, list[SquadError], list[str]]:
        """A draft as a block, with the problems it has and the agent mentions it carries. Pure."""
        keys = {k: v for k, v in d.keys.items() if not _is_placeholder(v)}
        if not keys and not d.items:
            return None, [], []
        at = find_time(d.heading) if d.heading else None
        if at is None:
            at = next((t for k in _TIME_KEYS if k in keys and (t := find_time(keys[k]))), None)
        heading = d.heading.lower()
        sender = keys.get("from", "")
        if "coordinator" in sender.lower():
            text = "\n".join(f"{k}: {v}" for k, v in d.keys.items())
            return Notice(d.line, at, keys.get("to"), "\n".join([text, *d.text]).strip()), [], []
        if "handoff" in heading or ("to" in keys and ({"file", "files", "request"} & keys.keys())):
            # FROM in an agent's own file names that agent: a hint to its id (role included).
            handoff = self._handoff(d, keys, at)
            return handoff, [], [handoff.from_agent] if handoff.from_agent else []
        if not (_HINT_KEYS & (keys.keys() | d.items.keys())):
            hints = [
                f"agent-{keys[k]}" if keys[k].isdigit() else keys[k] for k in ("agent", "agent_id", "id") if k in keys
            ]
            return None, [], hints
        return self._status(d, keys, heading, at)

    def _handoff(self, d: _Draft, keys: dict[str, str], at: datetime | None) -> HandoffRequest:
        file = keys.get("file") or keys.get("files") or (d.items.get("files") or [""])[0]
        request = keys.get("request", "")
        if not file and request:
            file = _first_path(request) or ""
        return HandoffRequest(
            line=d.line,
            at=at,
            from_agent=_agent_text(keys.get("from")),
            to_agent=_agent_text(keys.get("to")),
            file=_first_path(file) if file else None,
            status=keys.get("status") or None,
            reason=keys.get("reason") or None,
        )

    def _status(
        self, d: _Draft, keys: dict[str, str], heading: str, at: datetime | None
    ) -> tuple[StatusUpdate, list[SquadError], list[str]]:
        status: Status | None = None
        problems: list[SquadError] = []
        for k in _STATUS_KEYS:
            if k in keys:
                try:
                    status = parse_status(keys[k])
                except ValueError as exc:
                    problems.append(
                        SquadError(
                            f"unknown status {exc.args[0]!r}",
                            path=self.path,
                            line=d.key_lines[k],
                        )
                    )
                break
        wait_text = next((keys[k] for k in _WAIT_KEYS if keys.get(k)), None)
        if wait_text is None:
            wait_items = next((d.items[k] for k in _WAIT_KEYS if d.items.get(k)), None)
            wait_text = "; ".join(wait_items) if wait_items else None
        if status is None:
            if "blocker" in heading or "blocked" in heading:
                status = Status.BLOCKED
            elif "completion" in heading:
                status = Status.DONE
        progress = next((p for k in _PROGRESS_KEYS if k in keys and (p := parse_progress(keys[k]))), None)
        evidence = keys.get("evidence") or None
        evidence_exit = None
        if evidence and (m := _EXIT_RE.search(evidence)):
            evidence_exit = int(m.group(1))
            evidence = evidence[: m.start()].strip()
        agent = _agent_text(keys.get("agent") or keys.get("agent_id") or keys.get("from"))
        update = StatusUpdate(
            line=d.line,
            at=at,
            status=status,
            task=next((keys[k] for k in _TASK_KEYS if keys.get(k)), None),
            progress=progress,
            files_modified=_files(d, keys, _MODIFIED_KEYS),
            files_created=_files(d, keys, _CREATED_KEYS),
            files_needed=_files(d, keys, _NEEDED_KEYS),
            next=next((keys[k] for k in _NEXT_KEYS if keys.get(k)), None),
            waiting_for=_waiting(wait_text) if wait_text and wait_text.lower() not in _NONE_WORDS else None,
            alternative=next((keys[k] for k in _ALT_KEYS if keys.get(k)), None),
            evidence=evidence,
            evidence_exit=evidence_exit,
            agent=agent,
        )
        return update, problems, [agent] if agent else []


def _better_identity(found: AgentId | None, hint: str) -> AgentId | None:
    """Fold one more agent mention into what a comm file says of its agent: the first one, unless a
    later one adds the role to the same number."""
    agent = mentioned_agent(hint)
    if agent is not None and (found is None or (agent.role and not found.role and agent.number == found.number)):
        return agent
    return found


def parse_progress(text: str) -> Progress | None:
    match = _PROGRESS_RE.search(text)
    if match:
        return Progress(int(match.group(1)), int(match.group(2)))
    match = _PERCENT_RE.search(text)
    if match:
        return Progress(min(int(match.group(1)), 100), 100, percent=True)
    return None


def _agent_text(value: str | None) -> str | None:
    if not value or _is_placeholder(value):
        return None
    agent = mentioned_agent(value)
    return str(agent) if agent else value.strip()


def _first_path(text: str) -> str | None:
    for match in _PATH_TOKEN_RE.finditer(text):
        token = match.group(1) or match.group(2)
        if token and not token.lower().startswith("agent-"):
            return strip_path(token)
    return None


_FILE_NOTE_RE = re.compile(r"\s+\(.*\)\s*$|\s+[-—–]\s+.*$")  # "a.py (new)", "a.py - the chart"


def _files(d: _Draft, keys: dict[str, str], names: tuple[str, ...]) -> tuple[str, ...]:
    """File names under a list key; a bare count (``Files Created: 8``) names no file."""
    out: list[str] = []
    for name in names:
        for item in d.items.get(name, []):
            cleaned = _FILE_NOTE_RE.sub("", item.strip())
            if not cleaned or cleaned.lower() in _NONE_WORDS or cleaned.isdigit():
                continue
            path = _first_path(cleaned)
            if path and path not in out:
                out.append(path)
        if out or keys.get(name):
            break
    return tuple(out)


def _waiting(text: str) -> WaitingFor:
    holder = None
    match = re.search(r"\b(?:locked|held|owned|claimed)\s+by\s+(.+)", text, re.IGNORECASE)
    agent = mentioned_agent(match.group(1) if match else text)
    if agent is not None:
        holder = str(agent)
    return WaitingFor(text=text.strip(), path=_first_path(text), holder=holder)


@dataclass(frozen=True)
class CommFile:
    """A comm file as read: every block, the last one possibly still open (``blocks[settled:]``:
    an agent writing line by line may still grow it). ``generation`` changes when the reader had to
    start again from the top (the file was rewritten): folds kept over ``blocks`` start again too."""

    path: Path
    blocks: tuple[Block, ...]
    problems: tuple[SquadError, ...]
    identity: AgentId | None
    mtime: datetime | None
    updates: tuple[StatusUpdate, ...] = ()
    handoffs: tuple[HandoffRequest, ...] = ()
    settled: int = 0
    generation: int = 0

    @classmethod
    def of(
        cls,
        path: Path,
        blocks: tuple[Block, ...],
        problems: tuple[SquadError, ...] = (),
        identity: AgentId | None = None,
        mtime: datetime | None = None,
    ) -> CommFile:
        """A CommFile from its blocks, all settled."""
        return cls(
            path,
            blocks,
            problems,
            identity,
            mtime,
            tuple(b for b in blocks if isinstance(b, StatusUpdate)),
            tuple(b for b in blocks if isinstance(b, HandoffRequest)),
            len(blocks),
        )


class CommReader:
    """Reads one comm file incrementally: only bytes appended since the last read are parsed.

    A shrink, a replaced file (new inode) or a changed prefix means an agent rewrote the file
    with an edit tool: the reader then starts again from the top.
    """

    _CHECK = 256

    def __init__(self, path: Path, display: str | None = None) -> None:
        self.path = path
        self.display = display or str(path)
        self._reset()

    def _reset(self) -> None:
        self.offset = 0
        self._inode: int | None = None
        self._head = b""
        self._tail = b""
        self.parser = CommParser(self.display)
        self.mtime: datetime | None = None
        self.generation = getattr(self, "generation", -1) + 1
        # The settled blocks' updates and handoffs, kept as they settle: a read costs what it appends.
        self._updates: list[StatusUpdate] = []
        self._handoffs: list[HandoffRequest] = []
        self._sorted = 0

    def read(self) -> CommFile:
        from squad.protocol.times import from_timestamp

        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            if self.offset:
                self._reset()
            return self._result()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise SquadError("is not a regular file (a comm file must be one)", path=self.display)
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            self.mtime = from_timestamp(st.st_mtime)
            if self.offset and (st.st_ino != self._inode or st.st_size < self.offset or not self._unchanged(handle)):
                self._reset()
                self.mtime = from_timestamp(st.st_mtime)
            self._inode = st.st_ino
            handle.seek(self.offset)
            data = handle.read()
        end = data.rfind(b"\n")
        if end < 0:
            return self._result()  # a half-written last line waits for its newline
        chunk = data[: end + 1]
        if self.offset < self._CHECK:
            self._head = (self._head + chunk)[: self._CHECK]
        self._tail = (self._tail + chunk)[-self._CHECK :]
        self.offset += len(chunk)
        self.parser.feed(chunk.decode("utf-8", errors="replace"))
        return self._result()

    def _unchanged(self, handle: object) -> bool:
        import io

        assert isinstance(handle, io.BufferedReader)
        handle.seek(0)
        if handle.read(len(self._head)) != self._head:
            return False
        handle.seek(self.offset - len(self._tail))
        return handle.read(len(self._tail)) == self._tail

    def _result(self) -> CommFile:
        done = self.parser.done
        for block in done[self._sorted :]:
            if isinstance(block, StatusUpdate):
                self._updates.append(block)
            elif isinstance(block, HandoffRequest):
                self._handoffs.append(block)
        self._sorted = len(done)
        pending = self.parser.pending()
        updates, handoffs = tuple(self._updates), tuple(self._handoffs)
        if isinstance(pending, StatusUpdate):
            updates += (pending,)
        elif isinstance(pending, HandoffRequest):
            handoffs += (pending,)
        return CommFile(
            path=self.path,
            blocks=(*done, pending) if pending is not None else tuple(done),
            problems=tuple(self.parser.problems),
            identity=self.parser.identity,
            mtime=self.mtime,
            updates=updates,
            handoffs=handoffs,
            settled=len(done),
            generation=self.generation,
        )


def read_comm(path: Path, display: str | None = None) -> CommFile:
    """Read a whole comm file (ignoring a last line with no newline yet)."""
    return CommReader(path, display).read()


def parse_comm_text(text: str, path: Path | str = "<comm>") -> list[Block]:
    parser = CommParser(path)
    complete = text[: text.rfind("\n") + 1] if "\n" in text else ""
    parser.feed(complete)
    return parser.blocks()


# -- writers ---------------------------------------------------------------------------------


def format_status_update(
    *,
    agent: str,
    status: Status,
    at: datetime,
    task: str | None = None,
    progress: Progress | None = None,
    files: tuple[str, ...] = (),
    next_step: str | None = None,
    waiting_for: str | None = None,
    alternative: str | None = None,
    evidence: str | None = None,
    evidence_exit: int | None = None,
) -> str:
    """A well-formed status block. ``Status:`` and ``Current Task:`` sit at column 0 (scripts grep them)."""
    lines = [f"## Status Update [{format_time(at)}]", f"Agent: {agent}", f"Status: {status.value}"]
    if task:
        lines.append(f"Current Task: {_one_line(task)}")
    if progress:
        lines.append(f"Progress: {progress}")
    if files:
        lines.append("Files Modified:")
        lines.extend(f"  - {f}" for f in files)
    if waiting_for:
        lines.append(f"Waiting for: {_one_line(waiting_for)}")
    if alternative:
        lines.append(f"Alternative: {_one_line(alternative)}")
    if next_step:
        lines.append(f"Next: {_one_line(next_step)}")
    if evidence:
        suffix = f" (exit {evidence_exit})" if evidence_exit is not None else ""
        lines.append(f"Evidence: {_one_line(evidence)}{suffix}")
    return "\n" + "\n".join(lines) + "\n"


def format_handoff(
    *,
    from_agent: str,
    to_agent: str,
    file: str,
    at: datetime,
    status: str | None = None,
    reason: str | None = None,
) -> str:
    lines = [
        f"## Handoff Request [{format_time(at)}]",
        f"FROM: {from_agent}",
        f"TO: {to_agent}",
        f"FILE: {file}",
        f"STATUS: {_one_line(status or 'Ready')}",
    ]
    if reason:
        lines.append(f"REASON: {_one_line(reason)}")
    return "\n" + "\n".join(lines) + "\n"


def format_notice(*, to_agent: str | None, at: datetime, kind: str, text: str) -> str:
    lines = [f"## Coordinator Notice [{format_time(at)}]", "FROM: Coordinator"]
    if to_agent:
        lines.append(f"TO: {to_agent}")
    lines.append(f"EVENT: {kind}")
    lines.append(f"MESSAGE: {_one_line(text)}")
    return "\n" + "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())
