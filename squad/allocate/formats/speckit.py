"""spec-kit ``tasks.md``: ``- [ ] T001 [P] [US1] Description naming path/to/file.py`` under phase headings.

- A task is a list item starting with its id (``T001``); the id is kept as written.
- ``[P]`` says "may run in parallel" and ``[US1]`` names the user story: neither is a stream. The
  story is the unit a task belongs to: a task naming no path follows the files of its story.
- Phases (``## Phase 2: Foundational``) give the order the template states: Setup, then
  Foundational, which blocks every user story; stories are independent of each other; Polish comes
  after all of them. A run of other phases is sequential, in document order.
- Dependencies also come from the task text ("depends on T012, T013") and from the "Dependencies &
  Execution Order" section ("T014 depends on T012", "US2 after US1", "Tests before T008").
- Checked items are done, struck-through ones cancelled: skipped with a note. Summary counts,
  examples in fenced code and HTML comments are not read.
"""

from __future__ import annotations

import itertools
import re

from squad.allocate.formats._common import Reading, Work, finish, plain_paths, split_refs
from squad.allocate.formats._outline import Outline, parse_outline
from squad.allocate.prd import PRD

_TASK_RE = re.compile(r"^(?:\*\*)?(T\d+)(?:\*\*)?\b[:.]?\s*(.*)$", re.DOTALL)
_MARKER_RE = re.compile(r"\[(P|US\s?\d+|Story\s?\d+|S\d+)\]", re.IGNORECASE)
_REF = r"T\d+(?:\s*(?:-|–|—|\.\.)\s*T?\d+)?|US\s?\d+|User Stor(?:y|ies)\s*\d+|Phase\s*\d+|Setup|Foundational|Polish"
_REF_RE = re.compile(_REF, re.IGNORECASE)
_INLINE_DEP_RE = re.compile(
    r"\(?\s*\b(?:depends\s+on|after|requires|blocked\s+by|needs)\s*:?\s*((?:(?:T\d+(?:\s*[-–]\s*T?\d+)?)(?:\s*(?:,|and|&)\s*)?)+)\)?",
    re.IGNORECASE,
)
_STATEMENT_RE = re.compile(
    rf"(?P<subject>{_REF})[^.;\n]*?\b(?:depends?\s+on|requires|after|blocked\s+by|needs|waits?\s+for)\b(?P<object>[^.;\n]*)",
    re.IGNORECASE,
)
_BEFORE_RE = re.compile(rf"(?P<first>{_REF})\s*\)?\s+(?:before|blocks?|→|->)\s+(?P<then>[^.;\n]*)", re.IGNORECASE)
_STORY_RE = re.compile(r"user\s+story\s*(\d+)|\bUS\s?(\d+)\b", re.IGNORECASE)
_RULE_SECTION = ("dependenc", "execution order", "parallel example", "implementation strategy", "notes", "format")


def _phase_kind(text: str) -> str:
    lowered = text.lower()
    if _STORY_RE.search(text):
        return "story"
    if "foundation" in lowered or "blocking prerequisite" in lowered:
        return "foundational"
    if "setup" in lowered:
        return "setup"
    if "polish" in lowered or "cross-cutting" in lowered:
        return "polish"
    return "other"


def _cut(text: str) -> str:
    """A statement's object ends where a remark begins ("after Foundational - may integrate with US1")."""
    return re.split(r"\s[-—–]\s|\bbut\b|\bmay\b|\bshould\b|\bcan\b|\bwhile\b", text, maxsplit=1, flags=re.IGNORECASE)[0]


def _refs(text: str) -> list[str]:
    return [m.group(0) for m in _REF_RE.finditer(_cut(text))]


def read(text: str, path: str) -> PRD:
    outline = parse_outline(text)
    reading = Reading(path, "spec-kit")
    title = next((h.text for h in outline.headings if h.level == 1), "")
    reading.title = re.sub(r"^\s*tasks?\s*:\s*", "", title, flags=re.IGNORECASE) or title
    # Phases: the top-level section headings (H2), each with its kind and the names it is known by.
    # A document with its phases one level deeper (``### Phase 1`` under ``## Tasks``) works the same.
    levels = [h.level for h in outline.headings if h.level >= 2 and re.match(r"\s*phase\b", h.text, re.IGNORECASE)]
    phase_level = min(levels, default=2)
    phase_of: dict[int, int] = {}  # heading index -> the phase heading index it sits under
    phases: list[int] = []
    current = -1
    for index, heading in enumerate(outline.headings):
        if heading.level <= phase_level:
            current = -1
            if heading.level == phase_level and not any(w in heading.text.lower() for w in _RULE_SECTION):
                phases.append(index)
                current = index
        phase_of[index] = current
    kinds = {index: _phase_kind(outline.headings[index].text) for index in phases}
    for index in phases:
        heading_text = outline.headings[index].text
        names = [heading_text]
        number = re.match(r"^\s*phase\s*([\d.]+)", heading_text, re.IGNORECASE)
        if number:
            names.append(f"Phase {number.group(1)}")
        story = _STORY_RE.search(heading_text)
        if story:
            n = story.group(1) or story.group(2)
            names += [f"User Story {n}", f"US{n}"]
        if kinds[index] in ("setup", "foundational", "polish"):
            names.append(kinds[index].title())
        reading.groups[f"phase:{index}"] = names
    story_of_phase: dict[int, str] = {}  # phase heading index -> "US1"
    story_titles: dict[str, str] = {}  # "US1" -> "Browse the catalog"
    for i in phases:
        m = _STORY_RE.search(outline.headings[i].text)
        if m:
            key = f"US{m.group(1) or m.group(2)}"
            story_of_phase[i] = key
            rest = re.sub(r"\(.*?\)|\[.*?\]", " ", outline.headings[i].text[m.end() :]).strip(" -—–:")
            story_titles[key] = re.split(r"\s[-—–:]\s|:", rest)[0]
    works: dict[int, Work] = {}  # item index -> task
    for index, item in enumerate(outline.items):
        phase = phase_of.get(item.heading, -1)
        in_rules = item.heading >= 0 and any(w in outline.headings[item.heading].text.lower() for w in _RULE_SECTION)
        parent_task = next((works[p] for p in _ancestors(outline, index) if p in works), None)
        struck = item.text.startswith("~~") and item.text.endswith("~~")
        match = _TASK_RE.match(item.text.strip("~ "))
        if match is None or (in_rules and item.check is None):
            if parent_task is not None:  # a detail line of a task: its steps and files
                parent_task.steps.append(item.text.replace("`", ""))
                parent_task.paths.extend([*item.paths, *plain_paths(item.text)])
            continue
        if _ancestors_skipped(outline, index):
            continue
        if item.check in {"x", "~"} or struck:
            reading.skip("done (`[x]`)" if item.check == "x" else "cancelled (struck through)", item.line)
            continue
        task_id, rest = match.group(1), match.group(2)
        marker = next((m.group(1) for m in _MARKER_RE.finditer(rest) if m.group(1).upper() != "P"), None)
        story_key = re.sub(r"\s", "", marker).upper().replace("STORY", "US") if marker else None
        refs: list[str] = []
        for dep in _INLINE_DEP_RE.finditer(rest):
            refs += split_refs(dep.group(1))
        title = _INLINE_DEP_RE.sub("", _MARKER_RE.sub("", rest))
        title = re.sub(r"\s+", " ", title.replace("`", "").replace("**", "")).strip(" -—–:;,")
        story_key = story_key or story_of_phase.get(phase)
        label = story_titles.get(story_key) if story_key else None
        work = Work(
            id=task_id,
            title=title or task_id,
            line=item.line,
            paths=[*item.paths, *plain_paths(rest)],
            refs=refs,
            label=label,
            unit=story_key or f"phase:{phase}",
            group=f"phase:{phase}" if phase >= 0 else None,
        )
        works[index] = work
        reading.tasks.append(work)
    _statements(outline, reading, works)
    _phase_order(reading, phases, kinds)
    return finish(reading)


def _ancestors(outline: Outline, index: int) -> list[int]:
    out = []
    parent = outline.items[index].parent
    while parent is not None:
        out.append(parent)
        parent = outline.items[parent].parent
    return out


def _ancestors_skipped(outline: Outline, index: int) -> bool:
    """A task nested in a done task is done too."""
    return any(
        outline.items[p].check == "x" and _TASK_RE.match(outline.items[p].text) for p in _ancestors(outline, index)
    )


def _statements(outline: Outline, reading: Reading, works: dict[int, Work]) -> None:
    """Dependencies stated in prose anywhere outside a task line: "T014 depends on T012, T013",
    "User Story 2 ... after US1", "T004-T007 before T008"."""
    by_id = {w.id.upper(): w for w in reading.tasks}
    lines: list[tuple[int, str]] = [(p.line, p.text) for p in outline.paras]
    lines += [(item.line, item.text) for k, item in enumerate(outline.items) if k not in works]
    for line, text in lines:
        for sentence in re.split(r"(?<=[.;])\s+|\n", text):
            for match in _STATEMENT_RE.finditer(sentence):
                _relate(reading, by_id, match.group("subject"), _refs(match.group("object")), line)
            for match in _BEFORE_RE.finditer(sentence):
                for later in _refs(match.group("then")):
                    _relate(reading, by_id, later, [match.group("first")], line)


def _relate(reading: Reading, by_id: dict[str, Work], subject: str, objects: list[str], line: int) -> None:
    if not objects:
        return
    subject = subject.strip()
    ids = _expand(subject)
    if ids and all(i.upper() in by_id for i in ids):
        for task_id in ids:
            by_id[task_id.upper()].refs.extend(objects)
        return
    group = _group_named(reading, subject)
    if group is not None:
        reading.group_refs.extend((group, obj, line) for obj in objects)


def _expand(ref: str) -> list[str]:
    span = re.match(r"^T(\d+)\s*(?:-|–|—|\.\.)\s*T?(\d+)$", ref, re.IGNORECASE)
    if span:
        width = len(span.group(1))
        return [f"T{n:0{width}d}" for n in range(int(span.group(1)), int(span.group(2)) + 1)]
    return [ref.upper()] if re.match(r"^T\d+$", ref, re.IGNORECASE) else []


def _group_named(reading: Reading, name: str) -> str | None:
    wanted = re.sub(r"\s+", "", name.lower()).replace("userstory", "us").replace("userstories", "us")
    for key, names in reading.groups.items():
        for known in names:
            if re.sub(r"\s+", "", known.lower()).replace("userstory", "us") == wanted:
                return key
    return None


def _phase_order(reading: Reading, phases: list[int], kinds: dict[int, str]) -> None:
    """Setup -> Foundational -> every user story (independent of each other) -> Polish; other phases
    in document order. Each phase waits for the block before it (a run of story phases is one block)."""
    members: dict[int, list[Work]] = {p: [w for w in reading.tasks if w.group == f"phase:{p}"] for p in phases}
    blocks: list[list[int]] = []
    for phase in phases:
        if not members[phase]:
            continue
        if kinds[phase] == "story" and blocks and all(kinds[p] == "story" for p in blocks[-1]):
            blocks[-1].append(phase)
        else:
            blocks.append([phase])
    for before, after in itertools.pairwise(blocks):
        why = f"{reading.groups[f'phase:{after[0]}'][0]} after {reading.groups[f'phase:{before[-1]}'][0]}"
        earlier = [w for p in before for w in members[p]]
        for phase in after:
            for work in members[phase]:
                reading.implied.extend((work.id, e.id, why) for e in earlier)
