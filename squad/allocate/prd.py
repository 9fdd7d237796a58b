"""Reading a feature PRD: markdown-it-py tokens -> title, requirements, tasks and path hints.

Structure (headings, lists, nesting, code spans) comes from the token stream; only the inline
annotations of one list item (``[frontend]``, ``B7:``, ``(2h)``, ``depends on: B3``) are read
with small patterns over that item's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from squad.allocate.tables import column_roles, row_text
from squad.errors import SquadError
from squad.paths import strip_path

# Section kinds a heading can give the list items beneath it.
TASKS, EXCLUDE, FILES, SHARED, READONLY, REQUIREMENTS = (
    "tasks",
    "exclude",
    "files",
    "shared",
    "readonly",
    "requirements",
)

_EXCLUDE_WORDS = (
    "success criteria",
    "acceptance criteria",
    "definition of done",
    "non goals",
    "non-goals",
    "out of scope",
    "risks",
    "open questions",
    "testing strategy",
    "metrics for success",
    "success metrics",
    "notes",
)
_FILES_WORDS = ("files to create", "new files", "files to add", "file structure")
_SHARED_WORDS = ("shared dependencies", "shared files", "shared dependency", "shared resources", "shared code")
_READONLY_WORDS = ("read-only", "readonly", "read only", "do not modify", "must not be modified", "frozen")
_REQUIREMENT_WORDS = ("requirements", "requirement", "overview", "goals", "scope", "features")
# Task headings of PRDs written in other languages, read whatever `task_headings` says.
_INTL_TASK_WORDS = (
    "aufgaben", "arbeitspakete", "meilensteine", "umsetzung",  # de
    "tâches", "taches", "jalons",  # fr
    "tareas", "hitos",  # es
    "tarefas", "attività", "compiti",  # pt, it
)  # fmt: skip
_INTL_EXCLUDE_WORDS = ("erfolgskriterien", "akzeptanzkriterien", "nicht-ziele", "critères de succès")

_CHECKBOX_RE = re.compile(r"^\s*\[[ xX]\]\s+")
_ID_RE = re.compile(r"^\s*(?:\*\*)?([A-Za-z]{1,4}-?\d+)(?:\*\*)?\s*[:.)\]]\s*(?:\*\*)?\s*")
_TAG_RE = re.compile(r"\[([A-Za-z][\w-]*)\]")
_PAREN_RE = re.compile(r"\(([^()]*)\)")
_ESTIMATE_PART_RE = re.compile(
    r"^\s*(?:~|est(?:imate)?\.?:?\s*)?(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?)\s*$", re.IGNORECASE
)
_ESTIMATE_KEY_RE = re.compile(
    # "estimate: 3h" anywhere, or "~3h" ending the line ("cache ~2 days of data" is prose)
    r"(?:\bestimate[sd]?\s*:\s*(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?)\b"
    r"|(?<!\S)~\s*(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?)\W*$)",
    re.IGNORECASE,
)
_DEPENDS_RE = re.compile(
    r"\b(?:depends\s+on\s*:?|depends\s*:|requires\s*:|blocked\s+by\s*:?|after\s*:)\s*([^()\[\];]+)", re.IGNORECASE
)
_ID_REF_RE = re.compile(r"^[A-Za-z]{1,4}-?\d+$")
_EXT_RE = re.compile(r"\.[a-z][a-z0-9]{0,5}$")
_KNOWN_FILES = {"Dockerfile", "Makefile", "Procfile", "Gemfile", "Rakefile", "Justfile", "LICENSE", "CODEOWNERS"}
_REQUIREMENT_LINE_RE = re.compile(r"^\s*(?:\*\*)?([A-Za-z][\w /&+-]{0,30}?)(?:\*\*)?\s*:\s*(?:\*\*)?\s*\S")


@dataclass(frozen=True)
class Dependency:
    target: str
    by_id: bool  # an id (``B3``) rather than a title (``after: Create schema``)
    # Written as an annotation (``depends on: X``, ``after: X``, or an id): an unknown target is an error.
    # Prose ("an export that depends on the schema") that names no task is just prose.
    strict: bool = True


@dataclass(frozen=True)
class RawTask:
    """A task as written in the PRD, before classification."""

    line: int
    title: str
    text: str  # title plus subtasks: what classification reads
    explicit_id: str | None = None
    tag: str | None = None  # ``[frontend]``
    heading_stream: str | None = None  # the sub-heading under a task heading
    paths: tuple[str, ...] = ()
    depends: tuple[Dependency, ...] = ()
    estimate: str | None = None
    subtasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Requirement:
    line: int
    text: str
    stream: str | None = None  # "Frontend: React dashboard" names a stream


@dataclass(frozen=True)
class SkippedList:
    """Top-level list items under a heading that is not task-like: not allocated."""

    heading: str | None  # None: before any heading
    line: int  # of the first such item
    count: int
    annotated: int  # how many carry task annotations (an id, a [tag], an estimate, depends on)


@dataclass(frozen=True)
class PRD:
    path: str
    title: str
    requirements: tuple[Requirement, ...]
    tasks: tuple[RawTask, ...]
    files_to_create: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()
    headings_seen: tuple[str, ...] = field(default_factory=tuple)
    skipped: tuple[SkippedList, ...] = ()


def _has_phrase(text: str, phrases: Iterable[str]) -> bool:
    lowered = " " + re.sub(r"[^\w-]+", " ", text.lower()).replace("_", " ") + " "
    return any(f" {p} " in lowered for p in phrases)


def heading_kind(text: str, task_headings: Sequence[str]) -> str | None:
    if _has_phrase(text, _EXCLUDE_WORDS) or _has_phrase(text, _INTL_EXCLUDE_WORDS):
        return EXCLUDE
    if _has_phrase(text, _FILES_WORDS):
        return FILES
    if _has_phrase(text, _SHARED_WORDS):
        return SHARED
    if _has_phrase(text, _READONLY_WORDS):
        return READONLY
    if _has_phrase(text, task_headings) or _has_phrase(text, _INTL_TASK_WORDS):
        return TASKS
    if _has_phrase(text, _REQUIREMENT_WORDS):
        return REQUIREMENTS
    return None


def looks_like_path(text: str) -> bool:
    """``frontend/App.tsx``, ``shared/types/``, ``package.json``, ``config/*.config.js`` are paths;
    ``npm install``, ``/api/metrics``, ``useSocket()``, ``React.FC`` are not."""
    if not text or any(c in text for c in " \t()=<>,;'\"") or "://" in text or ".." in text.split("/"):
        return False
    if text.startswith(("/", "~", "-", "$", "@")):
        return False
    last = text.rstrip("/").rsplit("/", 1)[-1]
    if not last:
        return False
    if text.endswith("/") or "*" in text:
        return True
    return bool(_EXT_RE.search(last)) or last in _KNOWN_FILES or (last.startswith(".") and len(last) > 1)


def _inline_text(token: Any) -> tuple[str, list[str]]:
    """The item's text with code spans kept in backticks, and the code spans that are paths."""
    parts: list[str] = []
    paths: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind == "code_inline":
            parts.append(f"`{child.content}`")
            if looks_like_path(child.content.strip()):
                paths.append(strip_path(child.content))
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind in ("text", "html_inline"):
            parts.append(child.content)
    return "".join(parts), paths


def parse_annotations(text: str) -> tuple[str, str | None, str | None, str | None, tuple[Dependency, ...]]:
    """(title, explicit id, stream tag, estimate, dependencies) of one task line."""
    text = _CHECKBOX_RE.sub("", text, count=1)
    explicit_id = None
    match = _ID_RE.match(text)
    if match:
        explicit_id = match.group(1).upper()
        text = text[match.end() :]
    tag = None
    tag_match = _TAG_RE.search(text)
    if tag_match:
        tag = tag_match.group(1).lower()
        text = text[: tag_match.start()] + text[tag_match.end() :]
    estimate = None
    depends: list[Dependency] = []

    def take_estimate(part: str) -> bool:
        nonlocal estimate
        est = _ESTIMATE_PART_RE.match(part)
        if est and estimate is None:
            estimate = f"{est.group(1)}{est.group(2)[0].lower()}"
        return est is not None

    def paren(m: re.Match[str]) -> str:
        content = m.group(1)
        clause = _DEPENDS_RE.search(content)
        if clause:
            content = content[: clause.start()] + content[clause.end() :]
            depends.extend(d for d in _dependencies(clause) if not take_estimate(d.target))
        kept = [part.strip() for part in re.split(r"[,;]", content) if part.strip() and not take_estimate(part)]
        return f"({', '.join(kept)})" if kept else ""

    text = _PAREN_RE.sub(paren, text)
    key = _ESTIMATE_KEY_RE.search(text)
    if key:
        amount, unit = (key.group(1), key.group(2)) if key.group(1) else (key.group(3), key.group(4))
        if estimate is None:
            estimate = f"{amount}{unit[0].lower()}"
        text = text[: key.start()] + text[key.end() :]
    for dep in list(_DEPENDS_RE.finditer(text))[::-1]:
        found = _dependencies(dep)
        depends[:0] = found
        if all(d.strict for d in found):  # prose stays part of the title
            text = text[: dep.start()] + text[dep.end() :]
    while True:  # paths trailing the title are files, not words of it: "Charts `frontend/Charts.tsx`"
        tail = re.search(r"`([^`]*)`[\s,]*$", text)
        if not tail or not looks_like_path(tail.group(1).strip()) or len(text[: tail.start()].split()) < 2:
            break
        text = re.sub(
            r"(?:\s+(?:in|at|to|into|under|on|for|of|from|with|as|and|or)|\s*&)\s*$", "", text[: tail.start()]
        )
    title = re.sub(r"\s+", " ", text.replace("`", "").replace("**", "")).strip(" \t-—–:,.;|")
    return title, explicit_id, tag, estimate, tuple(depends)


def _dependencies(clause: re.Match[str]) -> list[Dependency]:
    annotated = ":" in clause.group(0)[: clause.start(1) - clause.start(0)]
    out = []
    for raw in re.split(r",|\band\b|&", clause.group(1)):
        target = raw.strip().strip("`'\".*").strip()
        if target:
            by_id = bool(_ID_REF_RE.match(target))
            out.append(Dependency(target.upper() if by_id else target, by_id, annotated or by_id))
    return out


@dataclass
class _Item:
    task: dict[str, Any] | None  # the task this list item opened, if any
    depth: int


def parse_prd(text: str, path: Path | str, task_headings: Sequence[str]) -> PRD:
    """Read a PRD. Raises SquadError (with the line) when it holds no tasks."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text.removeprefix("\ufeff"))
    title = ""
    headings: list[tuple[int, str | None, str]] = []  # (level, kind, text)
    requirements: list[Requirement] = []
    tasks: list[dict[str, Any]] = []
    files: list[str] = []
    shared: list[str] = []
    read_only: list[str] = []
    seen: list[str] = []
    items: list[_Item] = []
    pending_heading: int | None = None
    paragraph_in_item = False
    last_heading: str | None = None  # the nearest heading of any kind, the title included
    skipped: dict[str | None, list[int]] = {}  # heading -> [first line, items, annotated items]
    header: list[str] = []  # of the table being read
    row: list[tuple[str, list[str]]] = []  # its current row's cells: (text, paths)
    row_line = 0

    def section() -> tuple[str | None, str | None]:
        """The nearest heading kind, and the stream named by a sub-heading of a task heading."""
        stream = None
        for index in range(len(headings) - 1, -1, -1):
            kind = headings[index][1]
            if kind is not None:
                if kind == TASKS and index < len(headings) - 1:
                    stream = headings[index + 1][2]
                return kind, stream
        return None, None

    for i, token in enumerate(tokens):
        kind = token.type
        if kind == "heading_open":
            pending_heading = int(token.tag[1:])
        elif kind == "inline" and pending_heading is not None:
            heading_text, _ = _inline_text(token)
            heading_text = heading_text.replace("`", "").strip()
            level = pending_heading
            pending_heading = None
            kind_here = heading_kind(heading_text, task_headings)
            last_heading = heading_text
            if level == 1 and not title:
                title = heading_text
                if kind_here is None:  # "# Tasks" as the first heading is a section too
                    continue
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, kind_here, heading_text))
            seen.append(heading_text)
        elif kind == "list_item_open":
            items.append(_Item(None, len(items) + 1))
            paragraph_in_item = True
        elif kind == "list_item_close":
            items.pop()
        elif kind == "inline" and items and paragraph_in_item and tokens[i - 1].type == "paragraph_open":
            paragraph_in_item = False
            line = (token.map[0] if token.map else 0) + 1
            raw, paths = _inline_text(token)
            where, stream = section()
            if where == TASKS:
                _task_item(tasks, items, raw, paths, line, stream)
            elif where == FILES:
                files.extend(paths or _plain_paths(raw))
            elif where == SHARED:
                shared.extend(paths or _plain_paths(raw))
            elif where == READONLY or _has_phrase(raw, _READONLY_WORDS):
                read_only.extend(paths)
            elif where in (REQUIREMENTS, None):
                if not _CHECKBOX_RE.match(raw):
                    requirements.append(_requirement(raw, line))
                if len(items) == 1:
                    group = skipped.setdefault(last_heading, [line, 0, 0])
                    group[1] += 1
                    group[2] += _annotated(raw)
        elif kind == "tr_open":
            row, row_line = [], (token.map[0] if token.map else 0) + 1
        elif kind == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            row.append(_inline_text(token))
        elif kind == "tr_close":
            where, stream = section()
            if not header or tokens[i - 1].type == "th_close":
                header = [cell for cell, _ in row]
            elif where == TASKS:
                roles = column_roles(header)
                raw = row_text(roles, header, [cell for cell, _ in row])
                if raw:
                    paths = [strip_path(c) for c in re.findall(r"`([^`]*)`", raw) if looks_like_path(c.strip())]
                    _task_item(tasks, [_Item(None, 1)], raw, paths, row_line, stream)
            elif where in (FILES, SHARED, READONLY):
                sink = {FILES: files, SHARED: shared, READONLY: read_only}[where]
                sink.extend(p for cell, ps in row for p in (ps or _plain_paths(cell)))
        elif kind == "table_close":
            header = []
        elif kind == "inline" and not items:
            raw, paths = _inline_text(token)
            where, _ = section()
            if where == READONLY or _has_phrase(raw, _READONLY_WORDS):
                read_only.extend(paths)
            elif where == SHARED:
                shared.extend(paths)
            elif where == FILES:
                files.extend(paths)
        elif kind == "fence":
            # A file list or tree in a code block under "Files to Create" / "Shared Dependencies".
            where, _ = section()
            target = {FILES: files, SHARED: shared, READONLY: read_only}.get(where or "")
            if target is not None:
                target.extend(_fence_paths(token.content))
    skipped_lists = tuple(SkippedList(h, line, n, a) for h, (line, n, a) in skipped.items())
    if not tasks:
        raise SquadError(_no_tasks_message(task_headings, skipped_lists), path=path)
    return PRD(
        path=str(path),
        title=title or Path(str(path)).stem,
        requirements=tuple(requirements),
        tasks=tuple(_freeze(t) for t in tasks),
        files_to_create=tuple(dict.fromkeys(files)),
        shared=tuple(dict.fromkeys(shared)),
        read_only=tuple(dict.fromkeys(read_only)),
        headings_seen=tuple(seen),
        skipped=skipped_lists,
    )


def _no_tasks_message(task_headings: Sequence[str], skipped: Sequence[SkippedList]) -> str:
    looked = ", ".join(f'"{h}"' for h in task_headings) or "(none: `task_headings` is empty)"
    message = f"no tasks found: looked for list items and table rows under headings named {looked}"
    if skipped:
        where = "; ".join(
            f"{s.count} under {_heading_name(s.heading)} (line {s.line})"
            for s in sorted(skipped, key=lambda s: s.line)[:3]
        )
        total = sum(s.count for s in skipped)
        message += (
            f"; found {total} list item{'s' if total > 1 else ''} under other headings ({where}): "
            "put a `## Tasks` heading above the ones to allocate, or add their heading to `task_headings` "
            "in .squad/config.yaml"
        )
    else:
        message += " and found no list items outside them (set `task_headings` in .squad/config.yaml to add yours)"
    return message


def _heading_name(heading: str | None) -> str:
    return f'"{heading}"' if heading else "no heading"


def skipped_notes(prd: PRD) -> list[str]:
    """Notes for list items that look like tasks (ids, tags, estimates) under a heading that is not task-like."""
    return [
        f"line {s.line}: {s.annotated} list item(s) under {_heading_name(s.heading)} look like tasks but were not "
        "allocated: that heading is not task-like (add it to `task_headings` in .squad/config.yaml)"
        for s in prd.skipped
        if s.annotated
    ]


def _annotated(raw: str) -> int:
    _, explicit_id, tag, estimate, depends = parse_annotations(raw)
    return int(bool(explicit_id or estimate or any(d.strict for d in depends) or (tag and tag not in ("x", " "))))


def _task_item(
    tasks: list[dict[str, Any]], items: list[_Item], raw: str, paths: list[str], line: int, stream: str | None
) -> None:
    title, explicit_id, tag, estimate, depends = parse_annotations(raw)
    parent = next((item.task for item in reversed(items[:-1]) if item.task is not None), None)
    if parent is not None and explicit_id is None:
        # A nested item without its own id is part of its parent task.
        parent["subtasks"].append(title or raw.strip())
        parent["paths"].extend(paths)
        parent["depends"].extend(depends)
        if parent["tag"] is None:
            parent["tag"] = tag
        return
    task = {
        "line": line,
        "title": title or (paths[0] if paths else f"task on line {line}"),
        "explicit_id": explicit_id,
        "tag": tag,
        "heading_stream": stream,
        "paths": list(paths),
        "depends": list(depends),
        "estimate": estimate,
        "subtasks": [],
    }
    items[-1].task = task
    tasks.append(task)


def _freeze(task: dict[str, Any]) -> RawTask:
    subtasks = tuple(task["subtasks"])
    return RawTask(
        line=task["line"],
        title=task["title"],
        text=" ".join((task["title"], *subtasks)),
        explicit_id=task["explicit_id"],
        tag=task["tag"],
        heading_stream=task["heading_stream"],
        paths=tuple(dict.fromkeys(task["paths"])),
        depends=tuple(dict.fromkeys(task["depends"])),
        estimate=task["estimate"],
        subtasks=subtasks,
    )


def _plain_paths(text: str) -> list[str]:
    """Paths written without backticks in a file list: ``- frontend/src/App.tsx (new)``."""
    words = (w.strip("`*_,;:()[]") for w in text.split())
    return [strip_path(w) for w in words if "/" in w and looks_like_path(w.lstrip("/"))]


def _fence_paths(content: str) -> list[str]:
    """Paths in a code block: one a line, or a tree (``├── src/``) whose indentation gives the folders."""
    out: list[str] = []
    stack: list[tuple[int, str]] = []  # (indent, folder) of the tree so far
    for line in content.splitlines():
        match = re.match(r"^([\s│├└─|`+-]*)(\S+)", line)
        if not match:
            continue
        indent, word = len(match.group(1)), match.group(2).strip("`*,;:")
        if not looks_like_path(word.lstrip("/")):
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        full = strip_path("".join(folder for _, folder in stack) + word)
        if word.endswith("/"):
            stack.append((indent, word))
        out.append(full)
    return out


def _requirement(raw: str, line: int) -> Requirement:
    text = re.sub(r"\s+", " ", raw.replace("`", "")).strip()
    match = _REQUIREMENT_LINE_RE.match(text)
    stream = match.group(1).strip().lower() if match else None
    return Requirement(line, text, stream)
