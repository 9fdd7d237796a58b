"""Streams from where the work lands: format readers' tasks grouped by the folders their files are in.

A task's area is the folder its files share: a configured stream's folder (``frontend/``,
``backend/``, ``tests/``, or one set in config), else the first folder that says something about the
project's layout (``src/models/``, ``apps/web/``, ``packages/billing/``: roots such as ``src/``,
``apps/`` or ``packages/`` are looked through). The stream is named after that folder, never after
a marker or a section of the document. Where a task names no path, it follows the area of the other
tasks of its unit (its story, epic or group); then the unit's name (a stream heading of an
ai-agent-hub PRD, a story or epic title); then, as for any PRD, keywords.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from squad.allocate.classify import Classifier, Stream, is_shared_path
from squad.allocate.prd import PRD
from squad.config import Access
from squad.protocol.ownership import Entry, Matrix

# Folders that hold a project's parts rather than being one: look through them to the next level.
_ROOTS = {
    "src", "lib", "libs", "app", "apps", "packages", "pkg", "internal", "cmd", "source", "sources", "modules",
    "crates", "projects", "services", "components", "code", "main", "java", "python", "go",
}  # fmt: skip


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:30].strip("-")


def area_of(path: str, classifier: Classifier) -> tuple[str, str] | None:
    """(stream name, folder) for a path a task writes; None for shared files and loose top-level files."""
    if is_shared_path(path):
        return None
    stream = classifier.by_path([path])
    if stream is not None:
        return stream, ""
    is_dir = path.endswith("/")
    parts = [p for p in path.rstrip("/").split("/") if p]
    if not parts or (len(parts) == 1 and not is_dir):
        return None
    k = 0
    # Look through a root while what follows is still a folder (``src/main.rs`` stays ``src/``).
    while parts[k].lower() in _ROOTS and len(parts) - k > (1 if is_dir else 2):
        k += 1
    folder = "/".join(parts[: k + 1]) + "/"
    name = _slug(parts[k]) or _slug(folder)
    return (classifier.named(name) or name), folder


def group_by_area(prd: PRD, classifier: Classifier) -> PRD:
    """Each task's stream (as its tag) from its files, its unit, or its unit's name; the streams
    found outside the configured ones are added to ``classifier`` with the folders they live in."""
    read_only = Matrix(tuple(Entry(p, None, Access.READONLY) for p in prd.read_only))
    found: dict[str, list[str]] = {}  # new stream -> its folders
    chosen: list[str | None] = []
    unit_files = dict(prd.unit_files)
    for raw in prd.tasks:
        # A task's own files; where it names none, the files its unit is said to create.
        paths = raw.paths or unit_files.get(raw.unit or "", ())
        areas = [
            a
            for p in paths
            if not (prd.read_only and read_only.rule(p).access == Access.READONLY)
            and (a := area_of(p, classifier)) is not None
        ]
        if not areas:
            chosen.append(None)
            continue
        counts = Counter(name for name, _ in areas)
        top = max(counts.values())
        name = next(n for n, _ in areas if counts[n] == top)  # ties: the first named
        for area_name, folder in areas:
            if area_name == name and folder:
                found.setdefault(name, [])
                if folder not in found[name]:
                    found[name].append(folder)
        chosen.append(name)
    mentioned = [p for raw in prd.tasks for p in raw.paths] + [p for _, ps in prd.unit_files for p in ps]
    mentioned += list(prd.files_to_create)
    for name, folders in found.items():
        known = classifier.streams.get(name)
        if known is None:
            classifier.add(Stream(name, tuple(folders), ()))
        else:  # a configured stream whose work lands elsewhere (``web/`` for frontend): keep the
            # configured folders the document uses, drop the ones it never names.
            used = tuple(f for f in known.folders if any(p.startswith(f) for p in mentioned))
            extra = tuple(f for f in folders if f not in used)
            classifier.add(Stream(name, used + extra, known.keywords, known.aliases))
    by_unit: dict[str, Counter[str]] = {}
    for raw, picked in zip(prd.tasks, chosen, strict=True):
        if picked is not None and raw.unit is not None:
            by_unit.setdefault(raw.unit, Counter())[picked] += 1
    tasks = []
    for raw, choice in zip(prd.tasks, chosen, strict=True):
        stream: str | None = choice
        if stream is None and raw.unit is not None and raw.unit in by_unit:
            counts = by_unit[raw.unit]
            # Among the areas its unit works in, the one its words name; else where most of it lands.
            worded = classifier.by_keywords(raw.text)
            stream = worded if worded in counts else max(counts, key=lambda n: (counts[n], -list(counts).index(n)))
        if stream is None and raw.label:
            stream = classifier.named(raw.label) or classifier.by_keywords(raw.label)
            if stream is None:
                stream = _slug(raw.label)
                if stream and stream not in classifier.streams:
                    classifier.add(Stream(stream, (), ()))
        tasks.append(replace(raw, tag=stream or None, heading_stream=None))
    return replace(prd, tasks=tuple(tasks))
