"""Format readers: the task lists people already have, each read into the one task model
(``squad.allocate.prd.PRD``) that allocate plans with.

One module per family; ``detect`` chooses by what the document looks like (outside fenced code),
``--format`` forces one:

==============  ===============================================================================
markdown        a PRD with ``## Tasks`` (or another task-like heading) over list items or a table
spec-kit        ``tasks.md``: ``- [ ] T001 [P] [US1] ...`` under Setup / Foundational / story phases
kiro            ``.kiro/specs/*/tasks.md``: ``- [ ] 1. Group`` / ``- [ ] 1.1 Task``
ccpm            ``.claude/epics/*/epic.md`` with its task files ``001.md``
taskmaster      ``.taskmaster/tasks/tasks.json``
bmad            epics and stories: ``## Epic 1`` / ``### Story 1.2: ...``
ai-agent-hub    ``## Task Breakdown`` / ``### Stream 2: Backend (4 tasks)``
==============  ===============================================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from squad.allocate.prd import PRD
from squad.errors import SquadError

FORMATS = ("markdown", "spec-kit", "kiro", "ccpm", "taskmaster", "bmad", "ai-agent-hub")

_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[^\S\n]*$", re.MULTILINE | re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_SPECKIT_RE = re.compile(r"^\s*[-*]\s+(?:\[[ xX]\]\s+)?(?:\*\*)?T\d{2,}\b", re.MULTILINE)
_KIRO_RE = re.compile(r"^\s*[-*]\s+\[[ xX-]\]\*?\s+(?:\*\*)?\d+(?:\.\d+)*\.?\s", re.MULTILINE)
_KIRO_TRACE_RE = re.compile(r"_Requirements?:\s*[\d.]", re.IGNORECASE)
_BMAD_RE = re.compile(r"^(?:#{2,6}\s+|\*\*)\W*(?:user\s+)?story\s+\d+\.\d+\b", re.IGNORECASE | re.MULTILINE)
_STREAM_RE = re.compile(r"^#{2,6}\s+\W*stream\s+\w+\s*[:.—–-]", re.IGNORECASE | re.MULTILINE)
_CCPM_LIST_RE = re.compile(r"^#{1,6}\s+tasks created\b", re.IGNORECASE | re.MULTILINE)
_CCPM_FRONT_RE = re.compile(
    r"\A(?:\ufeff)?---\s*\n(?:.*\n)*?(?:depends_on|conflicts_with|parallel|prd|epic)\s*:", re.IGNORECASE
)


def detect(text: str, path: str = "") -> str:
    """The family a document belongs to, by its shape (fenced code and HTML comments ignored)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")) or path.lower().endswith(".json"):
        return "taskmaster"
    body = _COMMENT_RE.sub("", _FENCE_RE.sub("", text))
    if _CCPM_LIST_RE.search(body) or _CCPM_FRONT_RE.match(text):
        return "ccpm"
    if len(_SPECKIT_RE.findall(body)) >= 2:
        return "spec-kit"
    if len(_KIRO_RE.findall(body)) >= 2 or (_KIRO_RE.search(body) and _KIRO_TRACE_RE.search(body)):
        return "kiro"
    if _BMAD_RE.search(body):
        return "bmad"
    if _STREAM_RE.search(body):
        return "ai-agent-hub"
    return "markdown"


def read_document(
    text: str,
    path: str,
    task_headings: Sequence[str],
    fmt: str | None = None,
    siblings: Mapping[str, str] | None = None,
) -> PRD:
    """Read ``text`` as ``fmt`` (detected when None). ``siblings`` are the files beside it that a
    format reads too (a ccpm epic's task files, by name)."""
    fmt = fmt or detect(text, path)
    if fmt == "markdown":
        from squad.allocate.formats import markdown

        return markdown.read(text, path, task_headings)
    if fmt == "spec-kit":
        from squad.allocate.formats import speckit

        return speckit.read(text, path)
    if fmt == "kiro":
        from squad.allocate.formats import kiro

        return kiro.read(text, path)
    if fmt == "ccpm":
        from squad.allocate.formats import ccpm

        return ccpm.read(text, path, siblings)
    if fmt == "taskmaster":
        from squad.allocate.formats import taskmaster

        return taskmaster.read(text, path)
    if fmt == "bmad":
        from squad.allocate.formats import bmad

        return bmad.read(text, path)
    if fmt == "ai-agent-hub":
        from squad.allocate.formats import agenthub

        return agenthub.read(text, path)
    raise SquadError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")


def wants_siblings(fmt: str) -> bool:
    """Whether the reader of ``fmt`` reads the files beside the document too."""
    return fmt == "ccpm"
