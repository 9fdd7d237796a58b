"""Task Master ``.taskmaster/tasks/tasks.json``: structured, so it is read exactly.

``{"master": {"tasks": [...]}}`` (tagged lists; the ``master`` tag, or the only one) or the older
``{"tasks": [...]}``. Each task has ``id``, ``title``, ``description``, ``details``,
``dependencies`` (ids), ``status`` and ``subtasks`` (its steps here: the unit allocated is the task).
Tasks ``done``, ``cancelled`` or ``deferred`` are skipped with a note. Files are the paths the
title, description, details and subtasks name. Task Master's ``prd.txt`` is prose for an LLM, not
this format.
"""

from __future__ import annotations

import json
import re
from typing import Any

from squad.allocate.formats._common import Reading, Work, finish, plain_paths
from squad.allocate.prd import PRD
from squad.errors import SquadError

_SKIP = {"done", "completed", "complete", "cancelled", "canceled", "deferred"}


def _task_list(data: Any, reading: Reading) -> list[Any]:
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        raise SquadError("expected a JSON object with a `tasks` list (Task Master tasks.json)", path=reading.path)
    if isinstance(data.get("tasks"), list):
        return list(data["tasks"])
    tags = sorted(k for k, v in data.items() if isinstance(v, dict) and isinstance(v.get("tasks"), list))
    if not tags:
        raise SquadError(
            'no `tasks` list in this JSON (Task Master keeps `{"master": {"tasks": [...]}}`)', path=reading.path
        )
    tag = "master" if "master" in tags else tags[0]
    others = [t for t in tags if t != tag]
    if others:
        reading.notes.append(f"read the `{tag}` tag; tag(s) {', '.join(others)} not read")
    return list(data[tag]["tasks"])


def _line_of(text: str, task: dict[str, Any]) -> int:
    title = task.get("title")
    at = text.find(json.dumps(title, ensure_ascii=False)) if isinstance(title, str) else -1
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def read(text: str, path: str) -> PRD:
    reading = Reading(path, "taskmaster")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SquadError(f"is not valid JSON: {exc.msg}", path=path, line=exc.lineno) from None
    reading.title = path.replace("\\", "/").rsplit("/", 1)[-1]
    for raw in _task_list(data, reading):
        if not isinstance(raw, dict) or "id" not in raw:
            continue
        line = _line_of(text, raw)
        status = _text(raw.get("status")).lower()
        if status in _SKIP:
            reading.skip(status, line)
            continue
        task_id = str(raw["id"])
        work = Work(id=task_id, title=_text(raw.get("title")) or f"task {task_id}", line=line)
        for dep in raw.get("dependencies") or []:
            # "3.2" is a subtask of task 3: here the task is the unit, so it waits for task 3.
            work.after.append(str(dep).split(".")[0] if "." in str(dep) else str(dep))
        prose = " ".join(_text(raw.get(k)) for k in ("title", "description", "details"))
        work.text.append(" ".join(_text(raw.get(k)) for k in ("description", "details")))
        work.paths += plain_paths(prose)
        for sub in raw.get("subtasks") or []:
            if not isinstance(sub, dict):
                continue
            done = _text(sub.get("status")).lower() in _SKIP
            title = _text(sub.get("title"))
            work.steps.append(title + (" (done)" if done else ""))
            work.paths += plain_paths(" ".join(_text(sub.get(k)) for k in ("title", "description", "details")))
        estimate = raw.get("estimate") or raw.get("effort")
        if isinstance(estimate, int | float) and not isinstance(estimate, bool):
            work.estimate = f"{estimate:g}h"
        elif isinstance(estimate, str) and re.fullmatch(r"\d+(?:\.\d+)?\s*[hmd]", estimate.strip()):
            work.estimate = estimate.replace(" ", "")
        reading.tasks.append(work)
    return finish(reading)
