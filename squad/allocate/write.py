"""Writing an allocation into ``.squad/``: the PRD copy, the matrix, plans, comm files and
``allocation.json`` (the ``--json`` document, read by the coordinator for the predicted speedup)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from squad.allocate.assign import Allocation
from squad.allocate.render import build_plan, json_text, short, to_json
from squad.atomic import append_lines, write_atomic
from squad.errors import SquadError
from squad.paths import SquadPaths
from squad.protocol.comm import Progress, Status, format_status_update
from squad.protocol.ownership import write_matrix
from squad.protocol.plan import write_plan
from squad.protocol.templates import PLAN, load_template
from squad.protocol.times import now as utc_now


def write_allocation(
    allocation: Allocation,
    prd_text: str,
    paths: SquadPaths,
    start: Path,
    *,
    force: bool,
    now: datetime | None,
    locations: list[tuple[str, str]],
) -> SquadPaths:
    if not paths.squad.is_dir():
        from squad.protocol.workspace import init_squad

        paths, _ = init_squad(start)
    with _one_at_a_time(paths):
        _write(allocation, prd_text, paths, force=force, now=now, locations=locations)
    return paths


@contextmanager
def _one_at_a_time(paths: SquadPaths) -> Iterator[None]:
    """Two allocations at once would interleave plans and matrices of different PRDs."""
    from filelock import FileLock, Timeout

    paths.control.mkdir(parents=True, exist_ok=True)
    mutex = FileLock(str(paths.allocate_mutex), timeout=60)
    try:
        mutex.acquire()
    except Timeout:
        raise SquadError(
            "another `squad allocate` has held .squad/ for 60 s; try again", path=paths.display(paths.allocate_mutex)
        ) from None
    try:
        yield
    finally:
        mutex.release()


def _write(
    allocation: Allocation,
    prd_text: str,
    paths: SquadPaths,
    *,
    force: bool,
    now: datetime | None,
    locations: list[tuple[str, str]],
) -> None:
    existing = sorted(paths.plans.glob("agent-*-plan.md")) if paths.plans.is_dir() else []
    if existing and not force:
        names = ", ".join(p.name for p in existing[:3]) + (", ..." if len(existing) > 3 else "")
        raise SquadError(
            f"plans already exist ({names}): pass --force to replace them",
            path=paths.display(paths.plans) + "/",
        )
    moment = now or utc_now()
    write_atomic(paths.prd, prd_text)
    write_matrix(paths.ownership, allocation.matrix)
    keep = {paths.plan(a.number) for a in allocation.agents}
    for old in existing:
        if old not in keep:  # --force: a plan of an agent this allocation no longer has
            old.unlink(missing_ok=True)
    template = load_template(PLAN, paths)  # .squad/templates/plan.md when the repository has one
    for agent in allocation.agents:
        plan_path, comm_path = paths.plan(agent.number), paths.comm(agent.number)
        write_plan(
            plan_path, build_plan(agent, allocation, paths.display(plan_path), paths.display(comm_path), template)
        )
        first = agent.tasks[0] if agent.tasks else None
        block = format_status_update(
            agent=agent.id,
            status=Status.STARTING,
            at=moment,
            task=f"{first.id} {short(first.raw.title)}" if first else None,
            progress=Progress(0, len(agent.tasks)),
            next_step=f"read {paths.display(plan_path)}",
        )
        if comm_path.exists():
            append_lines(comm_path, block)
        else:
            write_atomic(comm_path, f"# {agent.id} communication log\n{block}")
    # Last, so a watcher that reacts to it finds the plans in place. No time in it: byte-identical per PRD.
    write_atomic(paths.allocation, json_text(to_json(allocation, locations, written=True)))
