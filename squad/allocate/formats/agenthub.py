"""ai-agent-hub PRDs (the parallel-test PRD squad grew out of): ``## Task Breakdown`` over
``### Stream 2: Backend (4 tasks)`` headings with numbered lists.

- The tasks are the items under the stream headings of the task breakdown, nothing else: numbered
  rules under "Implementation Constraints", feature bullets and success criteria are not work.
  A task's id is its stream's number and its own (``2.3``), or the id it is written with (``B3:``).
- The stream heading names the unit of work; "(4 tasks)" is a summary count, never trusted over
  the list (a mismatch is a note).
- "Files to Create" lists under the feature sections tell where each stream's work lands; "Shared
  Dependencies" paths are SEQUENTIAL, those marked read-only READONLY.
- Stream-level lines ("ML depends on: Backend API structure") make every task of the stream wait
  for what they name: a task, a stream, or the task of a stream the rest of the words describe.
"""

from __future__ import annotations

import re

from squad.allocate.formats._common import Reading, Work, finish, plain_paths, split_refs, words
from squad.allocate.formats._outline import Outline, parse_outline
from squad.allocate.prd import PRD, parse_annotations

_STREAM_RE = re.compile(r"^\W*stream\s+(\w+)\s*[:.—–-]\s*(.*?)\s*(?:\((\d+)\s+tasks?\))?\s*$", re.IGNORECASE)
_DEPENDS_LINE_RE = re.compile(
    r"^\W*(?P<subject>[\w][\w /&+.-]{0,40}?)\W*\s+depends\s+on\s*:\s*(?P<object>.+)$", re.IGNORECASE
)
_READONLY = ("read-only", "readonly", "read only", "do not modify")


def _sections(outline: Outline, heading: int) -> str:
    return " / ".join(outline.under(heading)).lower() if heading >= 0 else ""


def read(text: str, path: str) -> PRD:
    outline = parse_outline(text)
    reading = Reading(path, "ai-agent-hub")
    title = next((h.text for h in outline.headings if h.level == 1), "")
    reading.title = re.sub(r"^\s*(?:product\s+requirements?|prd)\s*[:—–-]\s*", "", title, flags=re.IGNORECASE)
    streams: dict[int, tuple[str, str, int | None]] = {}  # heading index -> (number, name, stated count)
    for index, heading in enumerate(outline.headings):
        match = _STREAM_RE.match(heading.text)
        if match:
            number, name, count = match.group(1), match.group(2).strip(" *"), match.group(3)
            streams[index] = (number, name, int(count) if count else None)
            reading.groups[f"stream:{number}"] = [name, f"Stream {number}"]
    works: dict[int, Work] = {}
    per_stream: dict[int, int] = {}
    feature_files: dict[int, list[str]] = {}  # feature heading index -> its "Files to Create"
    for index, item in enumerate(outline.items):
        sections = _sections(outline, item.heading)
        stream_heading = next((h for h in _heading_chain(outline, item.heading) if h in streams), None)
        parent = item.parent
        if stream_heading is not None and parent is None:
            number, name, _ = streams[stream_heading]
            if item.check == "x" or item.text.startswith("~~"):
                reading.skip("done or cancelled (`[x]`, `~~...~~`)", item.line)
                continue
            per_stream[stream_heading] = per_stream.get(stream_heading, 0) + 1
            title, explicit_id, _, estimate, depends = parse_annotations(item.text)
            work = Work(
                id=explicit_id or f"{number}.{item.number or per_stream[stream_heading]}",
                title=title or item.text,
                line=item.line,
                paths=[*item.paths, *plain_paths(item.text)],
                refs=[d.target for d in depends],
                label=name,
                unit=f"stream:{number}",
                group=f"stream:{number}",
                estimate=estimate,
            )
            works[index] = work
            reading.tasks.append(work)
            continue
        if parent is not None and parent in works:
            works[parent].steps.append(item.text.replace("`", ""))
            works[parent].paths += [*item.paths, *plain_paths(item.text)]
            continue
        paths = list(item.paths) or plain_paths(item.text)
        owner_text = outline.items[parent].text.lower() if parent is not None else ""
        if "shared dependenc" in sections:
            if any(w in sections or w in item.text.lower() for w in _READONLY):
                reading.read_only += paths
            else:
                reading.shared += paths
        elif "files to create" in sections or "files to create" in owner_text or "files to modify" in owner_text:
            reading.files += paths
            feature = next(
                (
                    h
                    for h in _heading_chain(outline, item.heading)
                    if "files to" not in outline.headings[h].text.lower()
                ),
                None,
            )
            if feature is not None:
                feature_files.setdefault(feature, []).extend(paths)
        elif any(w in item.text.lower() for w in _READONLY):
            reading.read_only += paths
        _depends_line(reading, item.text, item.line)
    for para in outline.paras:
        if para.item is None:
            for line_text in para.text.split("\n"):
                _depends_line(reading, line_text, para.line)
            if any(w in para.text.lower() for w in _READONLY):
                reading.read_only += [*para.paths]
    _stream_files(outline, reading, streams, feature_files)
    for heading_index, (number, name, count) in streams.items():
        found = per_stream.get(heading_index, 0)
        if count is not None and count != found:
            reading.notes.append(
                f"line {outline.headings[heading_index].line}: Stream {number}: {name} says {count} tasks and "
                f"lists {found}: allocated the {found} listed"
            )
    return finish(reading)


def _stream_files(
    outline: Outline,
    reading: Reading,
    streams: dict[int, tuple[str, str, int | None]],
    feature_files: dict[int, list[str]],
) -> None:
    """Each feature section's files go to the stream it describes: the stream whose name its heading
    holds ("2. Backend API Endpoints" -> Backend), else the stream of its number ("3." -> Stream 3)."""
    for feature, paths in feature_files.items():
        text = outline.headings[feature].text
        feature_words = set(words(text))
        by_name = [n for n, name, _ in streams.values() if words(name) and set(words(name)) <= feature_words]
        number = re.match(r"^\W*(?:feature\s+)?(\d+)\b", text, re.IGNORECASE)
        by_number = [n for n, _, _ in streams.values() if number and n == number.group(1)]
        target = next(iter(by_name or by_number), None)
        if target is not None:
            reading.unit_files.setdefault(f"stream:{target}", []).extend(paths)


def _heading_chain(outline: Outline, heading: int) -> list[int]:
    out: list[int] = []
    level = 99
    for index in range(heading, -1, -1):
        if outline.headings[index].level < level:
            out.append(index)
            level = outline.headings[index].level
    return out


def _depends_line(reading: Reading, text: str, line: int) -> None:
    """``ML depends on: Backend API structure``: the stream (or task) waits for what it names."""
    match = _DEPENDS_LINE_RE.match(text.replace("**", ""))
    if not match:
        return
    subject = match.group("subject").strip().lower()
    for key, names in reading.groups.items():
        if any(n.lower() == subject for n in names):
            reading.group_refs += [(key, ref, line) for ref in split_refs(match.group("object"))]
            return
    for work in reading.tasks:
        if work.title.lower() == subject or work.id.lower() == subject:
            work.refs += split_refs(match.group("object"))
            return
    reading.notes.append(
        f"unresolved: line {line}: {match.group('subject').strip()!r} depends on something, but names no stream or task"
    )
