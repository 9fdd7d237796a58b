"""``squad allocate``: a feature PRD becomes conflict-free, balanced, dependency-ordered agent plans.

Library API::

    from squad.allocate import allocate, plan_allocation
    result = allocate("feature-prd.md", agents=3, dry_run=True)
    result.allocation.prediction.speedup
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from squad.allocate.assign import AgentAllocation, Allocation, HandoffRecord, Prediction, allocate_tasks
from squad.allocate.classify import Classifier, Stream, load_streams
from squad.allocate.prd import PRD
from squad.config import Config, load_config
from squad.errors import SquadError
from squad.paths import SquadPaths, find_project_root, find_root

__all__ = [
    "PRD",
    "AgentAllocation",
    "AllocateResult",
    "Allocation",
    "HandoffRecord",
    "Prediction",
    "Stream",
    "allocate",
    "plan_allocation",
]

DEFAULT_PRD = "feature-prd.md"


@dataclass(frozen=True)
class AllocateResult:
    allocation: Allocation
    paths: SquadPaths
    locations: list[tuple[str, str]]  # (plan, comm) per agent, repo-relative
    written: bool


def plan_allocation(
    text: str,
    prd_path: Path | str,
    config: Config | None = None,
    agents: int | None = None,
    *,
    fmt: str | None = None,
    siblings: Mapping[str, str] | None = None,
) -> Allocation:
    """Read and allocate a document's text: pure, nothing is read or written. ``fmt`` is one of
    ``squad.allocate.formats.FORMATS`` (detected when None); ``siblings`` the files beside it a
    format reads too (a ccpm epic's ``001.md`` ..., by name)."""
    from squad.allocate.areas import group_by_area
    from squad.allocate.formats import read_document

    config = config or Config()
    prd = read_document(text, str(prd_path), config.task_headings, fmt, siblings)
    streams = config.extra.get("streams")
    if streams is not None and not isinstance(streams, Mapping):
        raise SquadError(
            "streams: must map each stream name to its folders and keywords "
            "(`streams: {mobile: {folders: [apps/mobile/], keywords: [ios]}}`)",
            path=".squad/config.yaml",
        )
    classifier = Classifier(load_streams(streams or {}))
    if prd.format != "markdown":  # a format reader's tasks: streams from where their work lands
        prd = group_by_area(prd, classifier)
    return allocate_tasks(prd, classifier, agents, config.max_agents)


def read_prd(path: Path, shown: Path | str) -> str:
    """The PRD's text; a one-line error (exit 2) for a missing file, a folder, or a file that is not UTF-8 text."""
    if path.is_dir():
        raise SquadError("is a folder, not a PRD file: give the markdown file to allocate", path=shown)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if Path(shown).name == DEFAULT_PRD:  # the default, or named like it: a newcomer's first run
            raise SquadError(
                f"no such PRD file: `squad init --prd` writes a starter ./{DEFAULT_PRD} to fill in, "
                "or give yours: `squad allocate PRD`",
                path=shown,
            ) from None
        raise SquadError(
            f"no such PRD file (give its path: `squad allocate PRD`; the default is ./{DEFAULT_PRD})", path=shown
        ) from None
    except OSError as exc:
        raise SquadError(f"cannot read the PRD: {exc.strerror or exc}", path=shown) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # saved by some Windows editors
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    nul = data.find(b"\0")
    if nul >= 0:
        raise SquadError(f"is a binary file (NUL byte at offset {nul}), not a markdown PRD", path=shown)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SquadError(f"is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})", path=shown) from None


def allocate(
    prd: Path | str = DEFAULT_PRD,
    *,
    agents: int | None = None,
    dry_run: bool = False,
    force: bool = False,
    start: Path | None = None,
    now: datetime | None = None,
    fmt: str | None = None,
    on_plan: Callable[[Allocation, list[tuple[str, str]]], None] | None = None,
) -> AllocateResult:
    """Allocate ``prd`` and, unless ``dry_run``, write the plans, the matrix and the comm files.
    ``on_plan`` sees the allocation before anything is written (the CLI prints what it understood)."""
    from squad.allocate.formats import detect, wants_siblings

    base = (start or Path.cwd()).resolve()
    prd_path = Path(prd) if Path(prd).is_absolute() else base / prd
    text = read_prd(prd_path, prd)
    root = find_root(base) or find_project_root(base)
    paths = SquadPaths(root)
    config = load_config(paths.config)
    siblings = _siblings(prd_path) if wants_siblings(fmt or detect(text, str(prd))) else None
    allocation = plan_allocation(text, prd, config, agents, fmt=fmt, siblings=siblings)
    locations = [(paths.display(paths.plan(a.number)), paths.display(paths.comm(a.number))) for a in allocation.agents]
    if on_plan is not None:
        on_plan(allocation, locations)
    if not dry_run:
        from squad.allocate.write import write_allocation

        paths = write_allocation(allocation, text, paths, base, force=force, now=now, locations=locations)
    return AllocateResult(allocation, paths, locations, written=not dry_run)


def _siblings(path: Path) -> dict[str, str]:
    """The task files beside a ccpm epic (``001.md``, ``1234.md``), by name."""
    from squad.allocate.formats.ccpm import is_task_file

    found = {}
    for sibling in sorted(path.parent.iterdir()) if path.parent.is_dir() else []:
        if sibling != path and sibling.is_file() and is_task_file(sibling.name):
            found[sibling.name] = read_prd(sibling, sibling)
    return found
