"""BMAD epics and stories: ``## Epic 2: Title`` over ``### Story 2.3: Title`` (any heading level, or
a bold ``**Story 2.3: Title**`` line).

- A story is a task; its id is its number as written (``2.3``). Its acceptance criteria, tasks and
  Given/When/Then lines are its steps, never tasks of their own.
- ``[DONE]`` / ``✅`` in its heading, or ``Status: Done``, skips it with a note.
- Dependencies: "Prerequisites: Story 1.1", "Depends on: 2.1, 2.2" in a story, and epic-level
  statements anywhere ("Epic 0 must be completed before Epics 1-4", "Epic 3 depends on Epic 2").
- The epic is a story's unit: a story naming no path follows the files of its epic's other stories.
"""

from __future__ import annotations

import re

from squad.allocate.formats._common import Reading, Work, finish, plain_paths
from squad.allocate.formats._outline import parse_outline
from squad.allocate.prd import PRD

_EPIC_RE = re.compile(r"^\W*epic\s+(\d+)\s*[:.—–-]?\s*(.*)$", re.IGNORECASE)
_STORY_RE = re.compile(r"^\W*(?:user\s+)?story\s+(\d+\.\d+)\s*[:.—–-]?\s*(.*)$", re.IGNORECASE)
_DONE_RE = re.compile(r"\[(?:done|complete|completed|x)\]|✅|\((?:done|complete|completed)\)", re.IGNORECASE)
_CANCEL_RE = re.compile(r"\[(?:cancell?ed|dropped|won'?t do)\]|~~", re.IGNORECASE)
_STATUS_RE = re.compile(r"^\W*status\W*\s*(done|complete|completed|cancell?ed|dropped)\b", re.IGNORECASE)
_PREREQ_RE = re.compile(
    r"^\W*(?:prerequisites?|depends\s+on|dependencies|requires|blocked\s+by)\W*\s*(.+)$", re.IGNORECASE | re.DOTALL
)
_STORY_REF_RE = re.compile(r"\b(\d+\.\d+)\b|\bepic\s+(\d+)\b", re.IGNORECASE)
_EPICS = r"epics?\s+(\d+(?:\s*(?:-|–|to|through|,|and|&)\s*\d+)*)"
_EPIC_BEFORE_RE = re.compile(rf"{_EPICS}[^.;\n]*?\b(?:before|blocks?)\b[^.;\n]*?{_EPICS}", re.IGNORECASE)
_EPIC_AFTER_RE = re.compile(
    rf"{_EPICS}[^.;\n]*?\b(?:depends?\s+on|requires?|after|builds?\s+on)\b[^.;\n]*?{_EPICS}", re.IGNORECASE
)
_HOURS_RE = re.compile(r"\b(?:estimate|effort)\W*\s*(\d+(?:\.\d+)?)\s*(h|hours?|d|days?)\b", re.IGNORECASE)


def _numbers(text: str) -> list[str]:
    """``1-4`` -> 1, 2, 3, 4; ``2, 3 and 5`` -> 2, 3, 5."""
    out: list[str] = []
    for part in re.split(r",|\band\b|&", text):
        span = re.match(r"^\s*(\d+)\s*(?:-|–|to|through)\s*(\d+)\s*$", part)
        if span:
            out += [str(n) for n in range(int(span.group(1)), int(span.group(2)) + 1)]
        elif part.strip().isdigit():
            out.append(part.strip())
    return out


def read(text: str, path: str) -> PRD:
    outline = parse_outline(text)
    reading = Reading(path, "bmad")
    reading.title = next((h.text for h in outline.headings if h.level == 1), "")
    # Story starts: headings, or bold paragraphs "**Story 1.2: Title**"; each block runs to the next start.
    starts: list[tuple[int, str, str, bool]] = []  # (line, kind, text, is_heading)
    for heading in outline.headings:
        starts.append((heading.line, "heading", heading.text, True))
    for para in outline.paras:
        first = para.text.split("\n", 1)[0]
        # A bold story line reaches here without its ``**`` (markdown-it makes them tokens): a
        # paragraph opening with "Story 1.2:" (a separator after the number) starts a story.
        if para.item is None and re.match(r"^\W*(?:user\s+)?story\s+\d+\.\d+\s*[:.—–-]", first, re.IGNORECASE):
            starts.append((para.line, "para", first.replace("**", ""), False))
    starts.sort()
    epic: tuple[str, str] | None = None
    current: Work | None = None
    boundaries: list[tuple[int, Work | None]] = []
    for line, _, heading_text, _ in starts:
        epic_match = _EPIC_RE.match(heading_text.replace("**", ""))
        story_match = _STORY_RE.match(heading_text.replace("**", ""))
        if epic_match and not story_match:
            epic = (epic_match.group(1), epic_match.group(2).strip())
            reading.groups[f"epic:{epic[0]}"] = [f"Epic {epic[0]}", re.sub(_DONE_RE, "", epic[1]).strip()]
            current = None
        elif story_match:
            story_id, title = story_match.group(1), story_match.group(2)
            if _DONE_RE.search(title) or _CANCEL_RE.search(title):
                reading.skip("done or cancelled stor(y/ies) (marked in the heading)", line)
                current = None
            else:
                epic_key = f"epic:{story_id.split('.')[0]}"
                current = Work(
                    id=story_id,
                    title=re.sub(r"\s+", " ", _DONE_RE.sub("", title).replace("`", "")).strip(" -—–:"),
                    line=line,
                    label=(reading.groups.get(epic_key) or ["", ""])[1] or (epic[1] if epic else None),
                    unit=epic_key,
                    group=epic_key,
                )
                current.paths += plain_paths(title)
                reading.tasks.append(current)
        else:
            current = None  # another section ends the story
        boundaries.append((line, current))

    def owner(line: int) -> Work | None:
        found = None
        for start, work in boundaries:
            if start <= line:
                found = work
            else:
                break
        return found

    lines: list[tuple[int, str, tuple[str, ...], bool]] = [(p.line, p.text, p.paths, False) for p in outline.paras]
    lines += [(i.line, i.text, i.paths, True) for i in outline.items]
    for line, body, paths, is_item in sorted(lines):
        for sentence in re.split(r"(?<=[.;])\s+|\n", body):
            for match in _EPIC_BEFORE_RE.finditer(sentence):
                for later in _numbers(match.group(2)):
                    reading.group_refs += [(f"epic:{later}", f"Epic {e}", line) for e in _numbers(match.group(1))]
            for match in _EPIC_AFTER_RE.finditer(sentence):
                for later in _numbers(match.group(1)):
                    reading.group_refs += [(f"epic:{later}", f"Epic {e}", line) for e in _numbers(match.group(2))]
        work = owner(line)
        if work is None:
            continue
        plain = body.replace("**", "")
        if _STATUS_RE.match(plain):
            reading.tasks.remove(work)
            reading.skip("done or cancelled stor(y/ies) (`Status: Done`)", work.line)
            boundaries = [(s, None if w is work else w) for s, w in boundaries]
            continue
        for sentence in re.split(r"(?<=\.)\s+|\n", plain):
            prereq = _PREREQ_RE.match(sentence)
            if prereq:
                for m in _STORY_REF_RE.finditer(prereq.group(1)):
                    work.refs.append(m.group(1) or f"Epic {m.group(2)}")
        estimate = _HOURS_RE.search(plain)
        if estimate and work.estimate is None:
            work.estimate = f"{estimate.group(1)}{estimate.group(2)[0].lower()}"
        work.paths += [*paths, *plain_paths(body)]
        if is_item:
            work.steps.append(re.sub(r"\s+", " ", plain.replace("`", "")).strip())
        else:
            work.text.append(plain)
    return finish(reading)
