"""Kiro ``tasks.md``: ``- [ ] 1. Group`` with numbered sub-tasks ``- [ ] 1.1 Title`` (nested or not).

- The work is the leaves: a numbered item with sub-tasks is a group (it names their unit of work),
  one without is a task. Ids are the numbers as written (``1.1``, ``3``).
- Detail bullets under a task are its steps; the files they name are its files.
  ``_Requirements: 1.2, 3.4_`` is traceability to requirements.md, never a dependency.
- ``[x]`` is done and ``- [ ]*`` optional: both skipped with a note. ``[-]`` (in progress) is work.
- A "Checkpoint" item is a sync point, not work: everything after it waits for everything before.
- "depends on 2.1", "after task 1.2" in a task or its details are dependencies.
"""

from __future__ import annotations

import itertools
import re

from squad.allocate.formats._common import Reading, Work, finish, plain_paths, split_refs
from squad.allocate.formats._outline import Outline, parse_outline
from squad.allocate.prd import PRD

_NUMBERED_RE = re.compile(r"^(?:\*\*)?(\d+(?:\.\d+)*)\.?(?:\*\*)?\s+(.*)$", re.DOTALL)
_TRACE_RE = re.compile(r"_?\s*(?:requirements?|reqs?|refs?|validates)\s*:\s*[^_\n]*_?", re.IGNORECASE)
_DEP_RE = re.compile(
    r"\b(?:depends\s+on|after|requires|blocked\s+by|builds\s+on)\s*:?\s*(?:tasks?\s*)?"
    r"(\d+(?:\.\d+)*(?:\s*(?:,|and|&)\s*\d+(?:\.\d+)*)*)",
    re.IGNORECASE,
)
_CHECKPOINT_RE = re.compile(r"^\W*checkpoint\b", re.IGNORECASE)


def _clean(text: str) -> str:
    text = _TRACE_RE.sub("", text)
    return re.sub(r"\s+", " ", text.replace("`", "").replace("**", "")).strip(" -—–:;,.")


def read(text: str, path: str) -> PRD:
    outline = parse_outline(text)
    reading = Reading(path, "kiro")
    reading.title = next((h.text for h in outline.headings if h.level == 1), "")
    numbered: dict[int, tuple[str, str]] = {}  # item index -> (number, rest)
    for index, item in enumerate(outline.items):
        match = _NUMBERED_RE.match(item.text)
        if match and (item.check is not None or item.depth == 1):
            numbered[index] = (match.group(1), match.group(2))
    numbers = {number for number, _ in numbered.values()}
    groups = {n for n in numbers if any(m.startswith(n + ".") for m in numbers)}
    group_titles = {number: _clean(rest) for number, rest in numbered.values() if number in groups}
    for number, title in group_titles.items():
        if "." not in number:
            reading.groups[f"group:{number}"] = [f"Task {number}", title]
    works: dict[int, Work] = {}
    segments: list[list[Work]] = [[]]  # tasks between checkpoints
    owner: dict[int, int] = {}  # detail item index -> the numbered item it belongs to
    for index, item in enumerate(outline.items):
        if index not in numbered:
            parent = item.parent
            while parent is not None and parent not in numbered:
                parent = outline.items[parent].parent
            if parent is not None:
                owner[index] = parent
                work = works.get(parent)
                if work is not None:
                    _detail(work, item.text, list(item.paths))
            continue
        number, rest = numbered[index]
        if number in groups:
            continue
        if _CHECKPOINT_RE.match(rest):
            reading.skip("checkpoint item(s) (a sync point: later tasks wait for earlier ones)", item.line)
            segments.append([])
            continue
        if item.check == "x":
            reading.skip("done (`[x]`)", item.line)
            continue
        if item.optional:
            reading.skip("optional (`[ ]*`)", item.line)
            continue
        top = number.split(".")[0]
        work = Work(
            id=number,
            title=_clean(rest) or number,
            line=item.line,
            paths=[*item.paths, *plain_paths(rest)],
            label=group_titles.get(top) if top in groups else None,
            unit=f"group:{top}",
            group=f"group:{top}",
        )
        work.refs += [r for m in _DEP_RE.finditer(rest) for r in split_refs(m.group(1))]
        works[index] = work
        reading.tasks.append(work)
        segments[-1].append(work)
    _paragraph_details(outline, works, owner)
    for earlier, later in itertools.pairwise(segments):
        for work in later:
            reading.implied.extend((work.id, e.id, "after a checkpoint") for e in earlier)
    return finish(reading)


def _detail(work: Work, text: str, paths: list[str]) -> None:
    work.refs += [r for m in _DEP_RE.finditer(text) for r in split_refs(m.group(1))]
    cleaned = _clean(text)
    if cleaned:
        work.steps.append(cleaned)
    work.paths.extend([*paths, *plain_paths(_TRACE_RE.sub("", text))])


def _paragraph_details(outline: Outline, works: dict[int, Work], owner: dict[int, int]) -> None:
    """A paragraph continuing a task's item (or one of its detail items) details it too."""
    for para in outline.paras:
        if para.item is None:
            continue
        target = works.get(para.item) or works.get(owner.get(para.item, -1))
        if target is not None:
            _detail(target, para.text, list(para.paths))
