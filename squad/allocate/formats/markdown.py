"""The generic markdown PRD: list items and tables under task-like headings (``squad.allocate.prd``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from squad.allocate.prd import PRD, done_notes, parse_prd, skipped_notes


def read(text: str, path: str, task_headings: Sequence[str]) -> PRD:
    prd = parse_prd(text, path, task_headings)
    return replace(prd, notes=tuple(skipped_notes(prd) + done_notes(prd)))
