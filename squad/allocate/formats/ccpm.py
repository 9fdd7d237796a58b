"""ccpm epics: ``epic.md`` (front matter, a "Tasks Created" list) beside one file a task (``001.md``).

- A task file's front matter gives its name, status, ``depends_on``, ``parallel`` and
  ``conflicts_with``; its body the files it touches and its effort. The file name is its id
  (``001``, or the issue number after a sync), as written.
- The epic's "Tasks Created" list (``- [ ] 001.md - Title (parallel: true)``, ``conflicts with 003``)
  stands for tasks whose files are not there. A "Task Breakdown Preview" is a preview, not more
  tasks: it is read only when the epic has not been decomposed yet, with a note saying so.
- ``parallel: true`` never makes tasks writing one file run at once; ``conflicts_with`` puts them in
  order (the lower id first). Closed, done and cancelled tasks are skipped with a note.
- Front matter is read as raw text, not YAML (``depends_on: [010]`` is the task 010, not 8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from squad.allocate.formats._common import Reading, Work, finish, norm_id, plain_paths, split_refs
from squad.allocate.formats._outline import front_matter, parse_outline, raw_list
from squad.allocate.prd import PRD

_TASK_FILE_RE = re.compile(r"^#?(\d+)\.md$")
_ENTRY_RE = re.compile(r"^(?:\*\*)?(#?\d+)(?:\.md)?(?:\*\*)?\s*(?:[-–—:]\s*)?(.*)$", re.DOTALL)
_DONE_STATUS = {"closed", "done", "completed", "complete", "cancelled", "canceled", "resolved", "merged"}
_SIZES = {"xs": "1h", "s": "2h", "m": "4h", "l": "8h", "xl": "16h"}
_HOURS_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:-|–|to)?\s*(\d+(?:\.\d+)?)?\s*(?:h|hrs?|hours?)\b", re.IGNORECASE)


def is_task_file(name: str) -> bool:
    return bool(_TASK_FILE_RE.match(name))


def _hours(text: str) -> str | None:
    """``8h``, ``8-12 hours`` (the middle), ``Size: M``."""
    keyed = re.search(r"\bhours?\s*:\s*\**\s*(\d+(?:\.\d+)?)", text, re.IGNORECASE)
    if keyed:
        return f"{float(keyed.group(1)):g}h"
    match = _HOURS_RE.search(text)
    if match:
        low = float(match.group(1))
        high = float(match.group(2) or low)
        return f"{(low + high) / 2:g}h"
    size = re.search(r"\bsize\s*:?\s*\**\s*(XS|S|M|L|XL)\b", text, re.IGNORECASE)
    return _SIZES[size.group(1).lower()] if size else None


def _section(text: str, name: str) -> str:
    match = re.search(rf"^#+\s*{name}.*?$(.*?)(?=^#+\s|\Z)", text, re.IGNORECASE | re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def _task_from_file(name: str, text: str, reading: Reading) -> Work | None:
    front, body = front_matter(text)
    task_id = _TASK_FILE_RE.match(name).group(1) if _TASK_FILE_RE.match(name) else name  # type: ignore[union-attr]
    status = front.get("status", "").strip().strip("'\"").lower()
    title = front.get("name", "").strip().strip("'\"")
    if not title:
        heading = re.search(r"^#\s*(?:task\s*:?\s*)?(.+)$", body, re.IGNORECASE | re.MULTILINE)
        title = heading.group(1).strip() if heading else task_id
    if status in _DONE_STATUS:
        reading.skip(f"{status} task file(s) ({name})", 0)
        return None
    work = Work(id=task_id, title=title, line=1)
    work.after += raw_list(front.get("depends_on", ""))
    for other in raw_list(front.get("conflicts_with", "")):
        work.text.append(f"conflicts with {other}")
        _conflict(reading, task_id, other)
    work.estimate = _hours(front.get("effort", "") + " " + front.get("estimate", "")) or _hours(
        _section(body, "effort") or ""
    )
    outline = parse_outline(body)
    for item in outline.items:
        work.paths += [*item.paths, *plain_paths(item.text)]
    for para in outline.paras:
        work.paths += [*para.paths, *plain_paths(para.text)]
    description = _section(body, "description").strip()
    if description:
        work.text.append(description)
    return work


def _conflict(reading: Reading, one: str, other: str) -> None:
    """Two tasks that conflict never run at once: the lower id goes first."""
    first, then = sorted((one, other), key=lambda i: (len(norm_id(i)), norm_id(i)))
    reading.implied.append((then, first, f"{then} conflicts with {first}"))


def read(text: str, path: str, siblings: Mapping[str, str] | None = None) -> PRD:
    siblings = siblings or {}
    reading = Reading(path, "ccpm")
    front, _ = front_matter(text)
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if is_task_file(name) and not siblings:  # one task file on its own
        work = _task_from_file(name, text, reading)
        if work is not None:
            reading.tasks.append(work)
        reading.title = work.title if work else name
        return finish(reading)
    outline = parse_outline(text)
    heading = next((h.text for h in outline.headings if h.level == 1), "")
    reading.title = front.get("name", "").strip("'\"") or re.sub(r"^\s*epic\s*:\s*", "", heading, flags=re.IGNORECASE)
    from_files: dict[str, Work] = {}
    for file_name in sorted(siblings):
        work = _task_from_file(file_name, siblings[file_name], reading)
        if work is not None:
            from_files[norm_id(work.id)] = work
    done_in_files = {norm_id(f.split(".")[0].lstrip("#")) for f in siblings} - set(from_files)
    listed: list[Work] = []
    preview: list[Work] = []
    for item in outline.items:
        under = outline.under(item.heading)
        where = " ".join(under[:1]).lower()
        if "tasks created" in where and item.depth == 1:
            entry = _ENTRY_RE.match(item.text.replace("**", ""))
            if entry is None:
                continue
            task_id, rest = entry.group(1).lstrip("#"), entry.group(2)
            key = norm_id(task_id)
            if key in done_in_files:
                continue
            if item.check == "x":
                reading.skip("done in the epic's list (`[x]`)", item.line)
                done_in_files.add(key)
                continue
            listed.append(_entry(task_id, rest, item.line, reading))
        elif "breakdown preview" in where and item.depth == 1:
            work = Work(id=f"P{len(preview) + 1}", title=re.sub(r"\*\*|`", "", item.text).strip(" -:"), line=item.line)
            work.paths += [*item.paths, *plain_paths(item.text)]
            preview.append(work)
    tasks: list[Work] = []
    for work in listed:
        file_work = from_files.pop(norm_id(work.id), None)
        if file_work is not None:
            file_work.line = work.line  # where the epic lists it: the line a note can point to
            file_work.estimate = file_work.estimate or work.estimate
            tasks.append(file_work)
        else:
            tasks.append(work)
    tasks += [from_files[k] for k in sorted(from_files, key=lambda k: (len(k), k))]
    if not tasks and preview:
        reading.notes.append(
            f'the epic is not decomposed yet (no task files, no "Tasks Created"): allocated its '
            f"{len(preview)} Task Breakdown Preview item(s) as tasks"
        )
        tasks = preview
    elif preview:
        reading.skip("Task Breakdown Preview item(s) (a preview of the tasks listed)", preview[0].line)
    reading.tasks = tasks
    return finish(reading)


def _entry(task_id: str, rest: str, line: int, reading: Reading) -> Work:
    """``Title (parallel: true, conflicts with 003)``, ``Title (M, 8-12h, sequential after 001, 005)``."""
    notes = " ".join(re.findall(r"\(([^()]*)\)", rest))
    title = re.sub(r"\([^()]*\)", "", rest).replace("`", "").strip(" -—–:")
    work = Work(id=task_id, title=title or task_id, line=line, estimate=_hours(notes))
    for match in re.finditer(r"conflicts?\s+with\s+([#\d,\s&and]+)", notes, re.IGNORECASE):
        for other in split_refs(match.group(1)):
            _conflict(reading, task_id, other.lstrip("#"))
    for match in re.finditer(r"(?:after|depends\s+on|requires)\s+([#\d,\s&and]+)", notes, re.IGNORECASE):
        work.after += [r.lstrip("#") for r in split_refs(match.group(1))]
    work.paths += plain_paths(rest)
    return work
