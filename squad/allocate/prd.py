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
# Sections of rules and relations, not work: "Implementation Constraints" holds numbered rules and a
# "Dependencies" sub-heading, neither of which is a task or a stream.
_RULES_WORDS = ("constraints", "constraint", "rules", "assumptions", "dependencies", "execution order", "timeline")
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
# "Task 1: Welcome carousel", "T1: Welcome carousel", "Step 2 — Permissions" as a heading under a task heading.
_HEADING_TASK_RE = re.compile(
    r"^\s*(?:(task|step|item|story|ticket)\s*#?\s*(\d+)|([A-Za-z]{1,4}-?\d+))\s*(?:[:.)—–-]|\s-)\s*(\S.*)$",
    re.IGNORECASE,
)
_WORD_REF_RE = re.compile(r"^(task|step|item|story|ticket)\s*#?\s*(\d+)$", re.IGNORECASE)
_DONE_RE = re.compile(r"^\s*\[[xX]\]\s+")
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
    # Set by the format readers: what names the task's unit of work where it names no path (a story,
    # an epic, a stream of an ai-agent-hub PRD), and the unit whose files a path-less task follows.
    label: str | None = None
    unit: str | None = None


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
    done: tuple[int, ...] = ()  # lines of checked items (``- [x] ...``) under task headings: not allocated
    cancelled: tuple[int, ...] = ()  # lines of struck-through items (``~~...~~``): not allocated
    format: str = "markdown"  # the family of document it was read as (squad.allocate.formats)
    # What the reader skipped and why, and references it could not resolve: printed before writing.
    notes: tuple[str, ...] = ()
    # Where a unit's work lands when its tasks name no path (an ai-agent-hub stream and the "Files to
    # Create" of its feature section): unit -> paths.
    unit_files: tuple[tuple[str, tuple[str, ...]], ...] = ()


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
    if _has_phrase(text, _RULES_WORDS) and not _has_phrase(text, ("task", "tasks")):
        return EXCLUDE
    if _has_phrase(text, task_headings) or _has_phrase(text, _INTL_TASK_WORDS):
        return TASKS
    if _has_phrase(text, _REQUIREMENT_WORDS):
        return REQUIREMENTS
    return None


def looks_like_path(text: str, backticked: bool = False) -> bool:
    """``frontend/App.tsx``, ``shared/types/``, ``package.json``, ``config/*.config.js`` are paths;
    ``npm install``, ``/api/metrics``, ``useSocket()``, ``React.FC`` are not. In backticks, any
    ``folder/name`` without spaces is a path too (``docs/csvq.1``, ``bin/run``)."""
    if not text or any(c in text for c in " \t()=<>,;'\"") or "://" in text or ".." in text.split("/"):
        return False
    if text.startswith(("/", "~", "-", "$", "@")):
        return False
    last = text.rstrip("/").rsplit("/", 1)[-1]
    if not last:
        return False
    if text.endswith("/") or "*" in text or (backticked and "/" in text and ":" not in text):
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
            if looks_like_path(child.content.strip(), backticked=True):
                paths.append(strip_path(child.content))
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "text" or (kind == "html_inline" and not child.content.startswith("<!--")):
            parts.append(child.content)  # an HTML comment is never part of a task
    return re.sub(r"<!--.*?-->", "", "".join(parts), flags=re.DOTALL), paths


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
        if (
            not tail
            or not looks_like_path(tail.group(1).strip(), backticked=True)
            or len(text[: tail.start()].split()) < 2
        ):
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
        word_ref = _WORD_REF_RE.match(target)
        if word_ref:  # "Task 1" is the task of the heading "Task 1: ...", whose id is T1
            target = word_ref.group(1)[0] + word_ref.group(2)
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
    elsewhere: dict[str | None, list[int]] = {}  # items under excluded / file-list headings: [first line, count]
    heading_task: dict[str, Any] | None = None  # the task a "### Task 1: title" heading opened
    done: list[int] = []
    cancelled: list[int] = []

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
            heading_task = None
            task_match = _HEADING_TASK_RE.match(heading_text)
            if task_match and any(k == TASKS for lvl, k, _ in headings if lvl < level):
                while headings and headings[-1][0] >= level:
                    headings.pop()
                _, stream_here = section()
                word, number, explicit, rest = task_match.groups()
                task_id = (word[0] + number) if word else explicit
                line = (token.map[0] if token.map else 0) + 1
                _task_item(tasks, [_Item(None, 1)], f"{task_id}: {rest}", _inline_text(token)[1], line, stream_here)
                heading_task = tasks[-1]
                heading_task["children"] = 0
                headings.append((level, None, heading_text))
                seen.append(heading_text)
                continue
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
            if where in (EXCLUDE, FILES, SHARED, READONLY) and len(items) == 1 and heading_task is None:
                elsewhere.setdefault(last_heading, [line, 0])[1] += 1
            if heading_task is not None and len(items) == 1 and (paths or _annotated(raw)):
                # "### M1: MVP" over "- Login page (2h)": a heading grouping tasks, not a task with steps.
                heading_task["children"] += 1
                _task_item(tasks, items, raw, paths, line, stream, done, cancelled)
            elif heading_task is not None:  # a list under a "### Task 1: ..." heading: its steps
                _task_item(tasks, [_Item(heading_task, 0), *items], raw, paths, line, stream, done, cancelled)
            elif where == TASKS:
                _task_item(tasks, items, raw, paths, line, stream, done, cancelled)
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
                    paths = [strip_path(c) for c in re.findall(r"`([^`]*)`", raw) if looks_like_path(c.strip(), True)]
                    _task_item(tasks, [_Item(None, 1)], raw, paths, row_line, stream)
            elif where in (FILES, SHARED, READONLY):
                sink = {FILES: files, SHARED: shared, READONLY: read_only}[where]
                sink.extend(p for cell, ps in row for p in (ps or _plain_paths(cell)))
        elif kind == "table_close":
            header = []
        elif kind == "inline" and not items and heading_task is not None:
            # The paragraphs of a "### Task 1: ..." heading: its files, estimate and dependencies.
            raw, paths = _inline_text(token)
            _, _, tag, estimate, depends = parse_annotations(raw)
            heading_task["paths"].extend(paths)
            heading_task["depends"].extend(depends)
            heading_task["body"].append(raw.replace("`", ""))
            heading_task["tag"] = heading_task["tag"] or tag
            heading_task["estimate"] = heading_task["estimate"] or estimate
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
    # A task heading over tasks of its own, with no files or estimate of its own, only grouped them.
    tasks = [t for t in tasks if not (t.get("children") and not t["paths"] and t["estimate"] is None)]
    skipped_lists = tuple(SkippedList(h, line, n, a) for h, (line, n, a) in skipped.items())
    if not tasks:
        others = [SkippedList(h, line, n, 0) for h, (line, n) in elsewhere.items()]
        message = _no_tasks_message(task_headings, skipped_lists, others, len(done) + len(cancelled))
        raise SquadError(message, path=path)
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
        done=tuple(done),
        cancelled=tuple(cancelled),
    )


def _no_tasks_message(
    task_headings: Sequence[str], skipped: Sequence[SkippedList], others: Sequence[SkippedList] = (), finished: int = 0
) -> str:
    """Names the headings looked for and where the list items that were found are."""
    looked = ", ".join(f'"{h}"' for h in task_headings) or "(none: `task_headings` is empty)"
    if not skipped and not others and not finished:
        # A prose PRD: one line that says so and what to do, not the list of headings looked for.
        return (
            "no tasks found: this reads as a prose PRD with no task list (found no list items at all); write a "
            "task list (a `## Tasks` heading with one `- ` item a task), or run an agent on the PRD to write one "
            "in a format squad reads (spec-kit or Kiro tasks.md, a ccpm epic, Task Master tasks.json, BMAD "
            "epics, an ai-agent-hub Task Breakdown)"
        )
    message = f"no tasks found: looked for list items and table rows under headings named {looked}"

    def where(groups: Sequence[SkippedList]) -> str:
        return "; ".join(
            f"{s.count} under {_heading_name(s.heading)} (line {s.line})"
            for s in sorted(groups, key=lambda s: s.line)[:3]
        ) + ("; ..." if len(groups) > 3 else "")

    def count(groups: Sequence[SkippedList]) -> str:
        total = sum(s.count for s in groups)
        return f"{total} list item{'s' if total > 1 else ''}"

    if finished:
        message += (
            f"; {finished} item{'s' if finished > 1 else ''} under them {'are' if finished > 1 else 'is'} "
            "checked (`- [x]`, done) or struck through (`~~...~~`, cancelled), which is not work"
        )
    if skipped:
        message += f"; found {count(skipped)} under other headings ({where(skipped)})"
        if others:
            message += f" and {count(others)} under headings never read as tasks ({where(others)})"
        message += (
            ": put a `## Tasks` heading above the ones to allocate, or add their heading to `task_headings` "
            "in .squad/config.yaml"
        )
    elif others:
        message += (
            f"; found {count(others)} only under headings never read as tasks ({where(others)}; notes, criteria "
            "and file lists are not work): put the tasks under a `## Tasks` heading"
        )
    elif not finished:
        message += "; found no list items at all (set `task_headings` in .squad/config.yaml to add yours)"
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


def _lines(lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:5])
    return f"line{'s' if len(lines) > 1 else ''} {shown}" + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")


def done_notes(prd: PRD) -> list[str]:
    """Notes for checked (done) and struck-through (cancelled) items: not allocated."""
    notes = []
    if prd.done:
        n = len(prd.done)
        notes.append(
            f"{_lines(prd.done)}: {n} checked item{'s' if n > 1 else ''} (`- [x]`) already done, not allocated"
        )
    if prd.cancelled:
        n = len(prd.cancelled)
        notes.append(
            f"{_lines(prd.cancelled)}: {n} struck-through item{'s' if n > 1 else ''} (`~~...~~`) cancelled, not allocated"
        )
    return notes


def _annotated(raw: str) -> int:
    _, explicit_id, tag, estimate, depends = parse_annotations(raw)
    return int(bool(explicit_id or estimate or any(d.strict for d in depends) or (tag and tag not in ("x", " "))))


def _task_item(
    tasks: list[dict[str, Any]],
    items: list[_Item],
    raw: str,
    paths: list[str],
    line: int,
    stream: str | None,
    done: list[int] | None = None,
    cancelled: list[int] | None = None,
) -> None:
    parent = next((item.task for item in reversed(items[:-1]) if item.task is not None), None)
    struck = _CHECKBOX_RE.sub("", raw, count=1).strip()
    if done is not None and cancelled is not None and (parent is None or not parent.get("skipped")):
        skip = done if _DONE_RE.match(raw) else cancelled if struck.startswith("~~") and struck.endswith("~~") else None
        if skip is not None:  # done or cancelled: not work, and neither are its nested items
            skip.append(line)
            items[-1].task = {"skipped": True, "subtasks": [], "paths": [], "depends": [], "tag": None}
            return
    title, explicit_id, tag, estimate, depends = parse_annotations(raw)
    if parent is not None and parent.get("skipped"):
        return
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
        "body": [],
    }
    items[-1].task = task
    tasks.append(task)


def _freeze(task: dict[str, Any]) -> RawTask:
    subtasks = tuple(task["subtasks"])
    return RawTask(
        line=task["line"],
        title=task["title"],
        text=" ".join((task["title"], *subtasks, *task.get("body", ()))),
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
