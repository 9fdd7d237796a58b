"""Tasks written as a markdown table under a task heading, as product managers often do::

    | ID | Task            | Stream   | Estimate | Depends on | Files            |
    |----|-----------------|----------|----------|------------|------------------|
    | B1 | Metrics schema  | backend  | 2h       |            | `backend/db.sql` |
    | B2 | REST endpoints  | backend  | 3        | B1         |                  |

Columns are known by their header (any order, any case); the first column no header names is the
title. Each row becomes the task line a list would have held (``B1: [backend] Metrics schema
`backend/db.sql` (2h)``), so it is read by the same annotation rules as any list item.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "#", "key", "ticket", "ref", "no", "nr"),
    "stream": ("stream", "team", "area", "track", "component", "role", "workstream", "owner"),
    "estimate": ("estimate", "effort", "hours", "time", "size", "est", "days", "duration", "aufwand"),
    "depends": ("depends on", "dependencies", "depends", "after", "blocked by", "prerequisites", "deps", "needs"),
    "files": ("files", "file", "paths", "path"),
    "title": ("task", "tasks", "title", "name", "description", "work item", "item", "what", "summary", "aufgabe"),
}
_EMPTY = {"", "-", "—", "–", "none", "n/a", "na", "/"}


def column_roles(header: Sequence[str]) -> list[str | None]:
    """What each column holds (``id``, ``title``, ``stream``, ``estimate``, ``depends``, ``files``) or None."""
    roles: list[str | None] = []
    for cell in header:
        key = re.sub(r"[^\w# ]+", " ", cell.lower()).strip()
        key = re.sub(r"\s+", " ", key)
        role = next((r for r, names in _COLUMNS.items() if key in names), None)
        if role is None:
            role = next((r for r, names in _COLUMNS.items() if any(n in key.split() for n in names)), None)
        roles.append(role if role not in roles else None)
    if "title" not in roles:
        free = [k for k, role in enumerate(roles) if role is None]
        if free:
            roles[free[0]] = "title"
    return roles


def row_text(roles: Sequence[str | None], header: Sequence[str], cells: Sequence[str]) -> str:
    """One table row as the annotated task line a list item would be."""
    by_role: dict[str, str] = {}
    for role, cell in zip(roles, cells, strict=False):
        if role is not None and cell.strip().lower() not in _EMPTY:
            by_role[role] = cell.strip()
    title = by_role.get("title", "")
    if not title:
        return ""
    parts = []
    if "id" in by_role:
        parts.append(f"{by_role['id'].strip('#')}:")
    if "stream" in by_role:
        slug = re.sub(r"[^a-z0-9]+", "-", by_role["stream"].lower()).strip("-")
        if slug:
            parts.append(f"[{slug}]")
    parts.append(title)
    if "files" in by_role:
        files = by_role["files"]
        parts.append(files if "`" in files else " ".join(f"`{f}`" for f in re.split(r"[\s,;]+", files) if f))
    notes = []
    if "estimate" in by_role:
        estimate = by_role["estimate"]
        if re.fullmatch(r"\d+(?:\.\d+)?", estimate):  # a bare number: the header says the unit
            header_text = " ".join(h.lower() for h, r in zip(header, roles, strict=False) if r == "estimate")
            estimate += "d" if re.search(r"\b(days?|tage?)\b", header_text) else "h"
        notes.append(estimate)
    if "depends" in by_role:
        notes.append(f"depends on: {by_role['depends'].replace('`', '')}")
    if notes:
        parts.append(f"({', '.join(notes)})")
    return " ".join(parts)
