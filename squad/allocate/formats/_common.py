"""What every format reader shares: the task being read, path spotting in prose, resolving loose
references, and turning a reading into the one task model (``PRD`` of ``RawTask``) allocate plans with.

A reader fills a ``Reading``: tasks with the ids the document gives them, the references each makes
(ids, titles, stream or phase names), group-level statements ("ML depends on: Backend API") and
implicit order (a phase that blocks the next). ``finish`` resolves all of it to task ids: a
reference that names nothing becomes a note, never an error; implied order never overrides what
the document states (an implied edge that would close a cycle is dropped, with a note).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from squad.allocate.classify import is_shared_path
from squad.allocate.formats._outline import code_path
from squad.allocate.prd import PRD, Dependency, RawTask, looks_like_path
from squad.errors import SquadError
from squad.paths import strip_path

_STOP = {
    "the", "a", "an", "of", "for", "and", "to", "in", "on", "with", "by", "from", "at", "its", "all", "be",
    "is", "are", "task", "tasks", "work", "must", "completed", "complete", "completion", "being",
}  # fmt: skip
# Labels that name a section or a marker, never a unit of work (a stream is never named after them).
_JUNK_LABELS = {
    "p", "id", "story", "stories", "summary", "dependencies", "setup", "foundational", "foundation", "polish",
    "tasks", "task", "checkpoint", "notes", "overview", "misc", "other", "general", "phase", "cross-cutting",
    "cross cutting concerns", "polish cross cutting concerns", "implementation", "format",
}  # fmt: skip
_ID_RANGE_RE = re.compile(r"^([A-Za-z]*)(\d+)\s*(?:-|–|—|\.\.|to|through)\s*\1?(\d+)$")


@dataclass
class Work:
    """A task as a reader finds it (mutable while reading, frozen by ``finish``)."""

    id: str
    title: str
    line: int
    paths: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)  # ids the document gives exactly (front matter, JSON)
    refs: list[str] = field(default_factory=list)  # loose references: ids, titles, stream or phase names
    label: str | None = None  # the unit it belongs to, named (story, epic, stream): where paths are missing
    unit: str | None = None  # key of that unit: a path-less task follows the files of its unit's others
    group: str | None = None  # key of the phase / stream / epic it sits in, for group-level statements
    estimate: str | None = None
    steps: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


@dataclass
class Reading:
    path: str
    format: str
    title: str = ""
    tasks: list[Work] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # group key -> names it is known by
    group_refs: list[tuple[str, str, int]] = field(default_factory=list)  # (group key, reference, line)
    implied: list[tuple[str, str, str]] = field(default_factory=list)  # (task id, dependency id, why)
    skipped: dict[str, list[int]] = field(default_factory=dict)  # why -> lines
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    read_only: list[str] = field(default_factory=list)
    unit_files: dict[str, list[str]] = field(default_factory=dict)  # unit -> where its work lands

    def skip(self, why: str, line: int) -> None:
        self.skipped.setdefault(why, []).append(line)


def words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP]


def stem(word: str) -> str:
    """Crude, but enough to match "events" with "event" when scoring titles."""
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def norm_id(text: str) -> str:
    """``T001`` = ``t1``, ``#007`` = ``7``, ``1.01`` = ``1.1``: ids compare without zero padding."""
    return re.sub(r"\d+", lambda m: str(int(m.group())), text.strip().lstrip("#").lower())


def clean_label(text: str | None) -> str | None:
    """A unit's name without numbering and markers; None when it only names a section."""
    if not text:
        return None
    text = re.sub(r"\(.*?\)|\[.*?\]|[*_`#🎯✅⚙️🔧]", " ", text)
    text = re.sub(
        r"^\s*(?:phase|stream|epic|story|user story|us|milestone|group|part)?\s*[\d.]*\s*[:.)—–-]*\s*",
        "",
        text,
        flags=re.IGNORECASE,
    )
    text = re.sub(r"\s+", " ", text).strip(" -—–:.")
    if not text or text.lower() in _JUNK_LABELS or not re.search(r"[A-Za-z]{2}", text):
        return None
    return text


def plain_paths(text: str) -> list[str]:
    """Paths written in prose: ``src/models/user.py``, ``backend/`` (a route like ``/api/users`` is
    not one); bare names only when they are shared manifests (``package.json``, ``Cargo.toml``)."""
    out: list[str] = []
    for match in re.finditer(r"`([^`]+)`", text):
        path = code_path(match.group(1))
        if path:
            out.append(path)
    for raw in re.sub(r"`[^`]*`", " ", text).split():
        word = raw.strip("*_,;:()[]{}<>\"'").rstrip(".")
        if not word or word.startswith(("/", "http", "~")) or "://" in word:
            continue
        if "/" in word:
            if looks_like_path(word):
                out.append(strip_path(word))
        elif "." in word and is_shared_path(word) and looks_like_path(word):
            out.append(word)
    return list(dict.fromkeys(out))


def task_paths(paths: Iterable[str]) -> list[str]:
    """A task's paths, minus the folders of a scaffolding task ("create backend/, frontend/ and
    shared/"): naming several top folders is not a claim to own them all."""
    paths = list(dict.fromkeys(paths))
    folders = [p for p in paths if p.endswith("/")]
    if len({f.split("/")[0] for f in folders}) > 1:
        return [p for p in paths if not p.endswith("/")]
    return paths


def split_refs(text: str) -> list[str]:
    """``T012, T013 and US1`` -> ``["T012", "T013", "US1"]``."""
    parts = re.split(r",|;|\band\b|&|\+", text)
    return [p.strip().strip("`'\".*()").strip() for p in parts if p.strip().strip("`'\".*()").strip()]


class Resolver:
    """Finds the tasks a reference names: an id (or a range ``T010-T012``), a whole title, a group
    (stream, phase, story, epic) by name, a group name plus words of one of its tasks' titles
    ("Backend API structure" -> the backend task about the API), or a part of exactly one title."""

    def __init__(self, tasks: Sequence[Work], groups: dict[str, list[str]]):
        self.tasks = tasks
        self.by_id = {norm_id(t.id): t.id for t in tasks}
        self.by_title: dict[str, list[str]] = defaultdict(list)
        for t in tasks:
            self.by_title[t.title.lower()].append(t.id)
        self.members: dict[str, list[Work]] = defaultdict(list)
        for t in tasks:
            if t.group is not None:
                self.members[t.group].append(t)
        self.group_names = [(key, words(name)) for key, names in groups.items() for name in names if words(name)]

    def ids(self, ref: str) -> list[str] | None:
        ref = ref.strip()
        if not ref:
            return None
        exact = self.by_id.get(norm_id(ref))
        if exact:
            return [exact]
        span = _ID_RANGE_RE.match(ref)
        if span:
            prefix, low, high = span.group(1), int(span.group(2)), int(span.group(3))
            found = [self.by_id[k] for n in range(low, high + 1) if (k := norm_id(f"{prefix}{n}")) in self.by_id]
            if found:
                return found
        title = self.by_title.get(ref.lower())
        if title:
            return list(title)
        group = self.group(ref)
        if group is not None:
            return group
        lowered = ref.lower()
        parts = [t.id for t in self.tasks if lowered in t.title.lower()]
        if len(parts) == 1:
            return parts
        return None

    def group(self, ref: str) -> list[str] | None:
        ref_words = words(ref)
        best: tuple[int, str] | None = None
        for key, name_words in self.group_names:
            wanted = name_words and all(w in ref_words for w in name_words) and self.members.get(key)
            if wanted and (best is None or len(name_words) > best[0]):
                best = (len(name_words), key)
        if best is None:
            return None
        key = best[1]
        rest = [w for w in ref_words if w not in next(n for k, n in self.group_names if k == key)]
        members = self.members[key]
        if rest:
            stems = [stem(w) for w in rest]
            scored = [(sum(w in {stem(x) for x in words(t.title)} for w in stems), t) for t in members]
            top = max(score for score, _ in scored)
            if top:
                return [t.id for score, t in scored if score == top]
        return [t.id for t in members]


def _lines(lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:6])
    more = f" and {len(lines) - 6} more" if len(lines) > 6 else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _acyclic(ids: list[str], deps: dict[str, list[str]]) -> bool:
    waiting = {t: len(deps[t]) for t in ids}
    dependants: dict[str, list[str]] = defaultdict(list)
    for t in ids:
        for d in deps[t]:
            dependants[d].append(t)
    ready = [t for t in ids if waiting[t] == 0]
    seen = 0
    while ready:
        t = ready.pop()
        seen += 1
        for later in dependants[t]:
            waiting[later] -= 1
            if waiting[later] == 0:
                ready.append(later)
    return seen == len(ids)


def _reaches(deps: dict[str, list[str]], start: str, goal: str) -> bool:
    stack, seen = [start], {start}
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for d in deps[node]:
            if d not in seen:
                seen.add(d)
                stack.append(d)
    return False


def _unique_ids(reading: Reading) -> None:
    """A document that uses one id twice keeps both tasks: the later one is renamed, with a note."""
    seen: dict[str, int] = {}
    for work in reading.tasks:
        key = norm_id(work.id)
        if key in seen:
            new = f"{work.id}#{work.line}"
            reading.notes.append(
                f"line {work.line}: id {work.id} is used twice (also line {seen[key]}): this one is {new}"
            )
            work.id = new
        else:
            seen[key] = work.line


def finish(reading: Reading) -> PRD:
    """The reading as the task model allocate plans with; references resolved, notes written."""
    if not reading.tasks:
        raise SquadError(no_tasks_message(reading), path=reading.path)
    _unique_ids(reading)
    resolver = Resolver(reading.tasks, reading.groups)
    known = {t.id for t in reading.tasks}
    deps: dict[str, list[str]] = {t.id: [] for t in reading.tasks}
    unresolved: list[str] = []

    def add(task: str, targets: Iterable[str]) -> None:
        for target in targets:
            if target != task and target not in deps[task]:
                deps[task].append(target)

    for work in reading.tasks:
        for dep in work.after:
            found = resolver.ids(dep)
            if found:
                add(work.id, found)
            else:
                unresolved.append(f"line {work.line}: {work.id} depends on {dep!r}, which is no task here")
        for ref in work.refs:
            found = resolver.ids(ref)
            if found:
                add(work.id, found)
            else:
                unresolved.append(
                    f"line {work.line}: {work.id} refers to {ref!r}, which names no task, stream or phase"
                )
    for group, ref, line in reading.group_refs:
        found = resolver.ids(ref)
        members = resolver.members.get(group, [])
        name = (reading.groups.get(group) or [group])[0]
        if not found:
            unresolved.append(f"line {line}: {name} depends on {ref!r}, which names no task, stream or phase")
            continue
        for member in members:
            add(member.id, [f for f in found if f not in {m.id for m in members}])
    ids = [t.id for t in reading.tasks]
    implied = [(t, d, why) for t, d, why in reading.implied if t in known and d in known and t != d]
    trial = {t: list(v) for t, v in deps.items()}
    for task, dep, _ in implied:
        if dep not in trial[task]:
            trial[task].append(dep)
    if _acyclic(ids, trial):
        deps = trial
    else:  # an implied order that contradicts a stated dependency gives way to it
        dropped = []
        for task, dep, why in implied:
            if dep in deps[task]:
                continue
            if _reaches(deps, dep, task):
                dropped.append(f"{task} after {dep} ({why})")
            else:
                deps[task].append(dep)
        if dropped:
            reading.notes.append(
                f"{len(dropped)} implied order(s) dropped because the document states the opposite: "
                + "; ".join(dropped[:3])
                + (" ..." if len(dropped) > 3 else "")
            )
    notes = [
        (f"{_lines(sorted(n for n in lines if n))}: " if any(lines) else "") + f"skipped {len(lines)} {why}"
        for why, lines in reading.skipped.items()
    ]
    notes += reading.notes + [f"unresolved: {u}" for u in unresolved]
    tasks = tuple(
        RawTask(
            line=w.line,
            title=w.title,
            text=" ".join([w.title, *w.steps, *w.text]),
            explicit_id=w.id,
            paths=tuple(task_paths(w.paths)),
            depends=tuple(Dependency(d, True) for d in deps[w.id]),
            estimate=w.estimate,
            subtasks=tuple(w.steps),
            label=clean_label(w.label),
            unit=w.unit,
        )
        for w in reading.tasks
    )
    return PRD(
        path=reading.path,
        title=reading.title or Path(reading.path).stem,
        requirements=(),
        tasks=tasks,
        files_to_create=tuple(dict.fromkeys(reading.files)),
        shared=tuple(dict.fromkeys(reading.shared)),
        read_only=tuple(dict.fromkeys(reading.read_only)),
        format=reading.format,
        notes=tuple(notes),
        unit_files=tuple((unit, tuple(dict.fromkeys(paths))) for unit, paths in reading.unit_files.items()),
    )


FORMAT_NAMES = {
    "markdown": "a markdown PRD",
    "spec-kit": "a spec-kit tasks.md",
    "kiro": "a Kiro tasks.md",
    "ccpm": "a ccpm epic",
    "taskmaster": "a Task Master tasks.json",
    "bmad": "BMAD epics and stories",
    "ai-agent-hub": "an ai-agent-hub PRD",
}
WHAT_TO_DO = (
    "write a task list (a `## Tasks` heading with one `- ` item a task), or run an agent on the PRD to write "
    "one in a format squad reads (spec-kit or Kiro tasks.md, a ccpm epic, Task Master tasks.json, BMAD epics, "
    "an ai-agent-hub Task Breakdown)"
)


def no_tasks_message(reading: Reading) -> str:
    finished = sum(len(v) for v in reading.skipped.values())
    if finished:
        reasons = ", ".join(f"{len(v)} {why}" for why, v in reading.skipped.items())
        return f"no work left to allocate: read as {FORMAT_NAMES[reading.format]}, every task is skipped ({reasons})"
    return f"no task list found: read as {FORMAT_NAMES[reading.format]}, it holds no tasks; {WHAT_TO_DO}"
