"""An agent's liveness: its state folded from its comm blocks, and when its leases go stale.

Below the coordinator and the lock manager, so both use one definition: ``squad lock`` breaks a
lease for exactly the reasons the coordinator reports it stale.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from squad.config import Config
from squad.protocol import events as ev
from squad.protocol.comm import Block, CommFile, Progress, Status, StatusUpdate
from squad.protocol.ids import same_agent
from squad.protocol.lease import Lease
from squad.protocol.plan import Plan
from squad.protocol.times import format_time


@dataclass(frozen=True)
class AgentState:
    id: str
    status: Status
    task: str | None
    progress: Progress | None
    last_update: datetime | None
    idle_s: float | None
    files_modified: tuple[str, ...]
    waiting_for: str | None
    waiting_path: str | None = None
    waiting_holder: str | None = None
    alternative: str | None = None
    tasks_total: int | None = None
    evidence_exit: int | None = None

    @property
    def tasks_done(self) -> int:
        total = self.tasks_planned
        if self.status is Status.DONE:
            return total
        return min(self.progress.done, total) if self.progress and not self.progress.percent else 0

    @property
    def tasks_planned(self) -> int:
        """Tasks in its plan (which the coordinator may have changed), else what it reported."""
        if self.tasks_total is not None:
            return self.tasks_total
        return self.progress.total if self.progress and not self.progress.percent else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "task": self.task,
            "progress": _progress_json(self.progress),
            "last_update": format_time(self.last_update) if self.last_update else None,
            "idle_s": round(self.idle_s, 1) if self.idle_s is not None else None,
            "files_modified": list(self.files_modified),
            "waiting_for": self.waiting_for,
        }


def _progress_json(progress: Progress | None) -> dict[str, Any] | None:
    if progress is None:
        return None
    out: dict[str, Any] = {"done": progress.done, "total": progress.total}
    if progress.percent:
        out["percent"] = True  # "60%" with no plan to count it against: done is the percentage
    return out


@dataclass(frozen=True)
class Timeline:
    """What the metrics need of one agent's timed status blocks (see ``coordinator.metrics``)."""

    busy_s: float = 0.0  # ACTIVE, between blocks
    idle_s: float = 0.0  # WAITING or BLOCKED, between blocks
    status: Status | None = None  # the last timed status, and since when
    since: datetime | None = None
    first: datetime | None = None
    last: datetime | None = None
    reported_files: int = 0


class Fold:
    """An agent's blocks folded in file order, one at a time: the latest block wins field by field.

    The coordinator keeps one per comm file and feeds it only the blocks each read settles, so a new
    block costs the same whatever the length of the file. ``copy`` and ``feed`` the still-open last
    block for a view that includes it.
    """

    __slots__ = (
        "_files_tuple",
        "_own",
        "alternative",
        "blocked_since",
        "evidence_exit",
        "failures",
        "files",
        "last",
        "latest_untimed",
        "progress",
        "status",
        "task",
        "timeline",
        "waiting",
    )

    def __init__(self) -> None:
        self.status = Status.STARTING
        self.task: str | None = None
        self.progress: Progress | None = None
        self.files: dict[str, None] = {}  # an ordered set: long comm files list thousands of paths
        self._files_tuple: tuple[str, ...] | None = ()
        self.waiting: StatusUpdate | None = None
        self.alternative: str | None = None
        self.evidence_exit: int | None = None
        self.last: datetime | None = None
        self.latest_untimed = False
        self.blocked_since: datetime | None = None  # the start of the current BLOCKED stretch
        self.failures: dict[str, int] = {}  # FAILED reports by task text
        self.timeline = Timeline()
        self._own = True  # files and failures are this fold's own (a copy shares them until it adds)

    def copy(self) -> Fold:
        """A fold to feed the still-open last block into, sharing this one's containers until it
        changes them: cheap however many files the agent has reported."""
        twin = Fold.__new__(Fold)
        for name in Fold.__slots__:
            setattr(twin, name, getattr(self, name))
        twin._own = False
        return twin

    def _owned(self) -> None:
        if not self._own:
            self.files, self.failures, self._own = dict(self.files), dict(self.failures), True

    def feed_all(self, blocks: Iterable[Block]) -> Fold:
        for block in blocks:
            self.feed(block)
        return self

    def feed(self, block: Block) -> None:
        if block.at is not None:
            self.last = block.at if self.last is None else max(self.last, block.at)
        if not isinstance(block, StatusUpdate):
            return
        self.latest_untimed = block.at is None
        if block.status is not None:
            self.status = block.status
            if block.status not in (Status.BLOCKED, Status.WAITING):
                self.waiting, self.alternative = None, None
            if block.status is Status.BLOCKED:
                self.blocked_since = self.blocked_since or block.at
            else:
                self.blocked_since = None
            if block.status is Status.FAILED:
                self._owned()
                text = block.task or "?"
                self.failures[text] = self.failures.get(text, 0) + 1
        self.task = block.task or self.task
        self.progress = block.progress or self.progress
        named = (*block.files_modified, *block.files_created)
        if named and any(f not in self.files for f in named):
            self._owned()
            self.files.update(dict.fromkeys(named))
            self._files_tuple = None
        if block.waiting_for is not None:
            self.waiting = block
        if block.alternative:
            self.alternative = block.alternative
        if block.evidence_exit is not None:
            self.evidence_exit = block.evidence_exit
        self.timeline = _advance(self.timeline, block)

    def files_tuple(self) -> tuple[str, ...]:
        if self._files_tuple is None:
            self._files_tuple = tuple(self.files)
        return self._files_tuple

    def state(self, name: str, plan: Plan | None, mtime: datetime | None, now: datetime) -> AgentState:
        status, progress, last = self.status, self.progress, self.last
        if (self.latest_untimed or last is None) and mtime is not None:
            last = mtime if last is None else max(last, mtime)
        total = len(plan.tasks) if plan is not None else None
        if progress is None and total:
            progress = Progress(total if status is Status.DONE else 0, total)
        elif progress is not None and progress.percent and total:
            progress = progress.of(total)  # "60%" of a 5-task plan is 3/5
        wf = self.waiting.waiting_for if self.waiting is not None else None
        return AgentState(
            id=name,
            status=status,
            task=self.task,
            progress=progress,
            last_update=last,
            idle_s=max(0.0, (now - last).total_seconds()) if last else None,
            files_modified=self.files_tuple(),
            waiting_for=wf.text if wf else None,
            waiting_path=wf.path if wf else None,
            waiting_holder=wf.holder if wf else None,
            alternative=self.alternative,
            tasks_total=total,
            evidence_exit=self.evidence_exit,
        )


def _advance(t: Timeline, update: StatusUpdate) -> Timeline:
    files = t.reported_files + len(update.files_modified) + len(update.files_created)
    if update.at is None:
        return replace(t, reported_files=files) if files != t.reported_files else t
    at = update.at
    first = at if t.first is None else min(t.first, at)
    last = at if t.last is None else max(t.last, at)
    busy, idle, status, since = t.busy_s, t.idle_s, t.status, t.since
    if update.status is not None:
        if since is not None and status is not None and at > since:
            span = (at - since).total_seconds()
            if status is Status.ACTIVE:
                busy += span
            elif status in (Status.WAITING, Status.BLOCKED):
                idle += span
        status, since = update.status, at
    return Timeline(busy, idle, status, since, first, last, files)


def agent_state(name: str, comm: CommFile, plan: Plan | None, now: datetime) -> AgentState:
    """Fold an agent's status blocks in file order: the latest block wins field by field."""
    return Fold().feed_all(comm.blocks).state(name, plan, comm.mtime, now)


def moved_tasks(events: list[ev.Event] | tuple[ev.Event, ...]) -> list[tuple[datetime, str, tuple[str, ...]]]:
    """``(when, to agent, task ids)`` for every reassignment and steal in the event log."""
    out = []
    for e in events:
        if e.kind in (ev.REASSIGN, ev.STEAL) and e.data.get("target"):
            out.append((e.at, str(e.data["target"]), tuple(str(t) for t in e.data.get("tasks", []))))
    return out


def reopened(
    state: AgentState,
    plan: Plan | None,
    events: list[ev.Event] | tuple[ev.Event, ...],
    moved: list[tuple[datetime, str, tuple[str, ...]]] | None = None,
) -> AgentState:
    """An agent that reported DONE and was then given tasks (stealing, reassignment) is not done:
    it is WAITING to pick them up, with those tasks still to do."""
    if state.status is not Status.DONE or plan is None:
        return state
    given = {
        task
        for at, agent, tasks in (moved if moved is not None else moved_tasks(events))
        if same_agent(agent, state.id) and (state.last_update is None or at >= state.last_update)
        for task in tasks
    }
    todo = [t for t in plan.tasks if t.id in given]
    if not todo:
        return state
    total = len(plan.tasks)
    return replace(state, status=Status.WAITING, progress=Progress(total - len(todo), total))


def is_stale_agent(a: AgentState, stale_s: float | None) -> bool:
    """Silent past ``agent_stale_s`` while it claims to work: its leases are stale too."""
    return (
        stale_s is not None and a.idle_s is not None and a.idle_s >= stale_s
        and a.status not in (Status.DONE, Status.FAILED)
    )  # fmt: skip


def reported_after(report: datetime, moment: datetime) -> bool:
    """Was a report written after ``moment``? Comm blocks usually carry whole seconds: a report
    stamped with the very second of ``moment`` may be from just before it, so it does not count
    (a lease taken right after its holder's own DONE stays live; docs/locks.md)."""
    if report.microsecond:
        return report >= moment
    return report > moment.replace(microsecond=0)


def shown_state(a: AgentState, stale_s: float | None) -> str:
    """What an agent's state reads as everywhere a person looks (monitor header and rows, reports):
    ``STALE`` when ``is_stale_agent``, else its status."""
    return "STALE" if is_stale_agent(a, stale_s) else a.status.value


def stale_reason(lease: Lease, holder: AgentState | None, now: datetime, config: Config) -> str | None:
    """Why ``lease`` is stale, or None while it is live (design section 2)."""
    if lease.expired(now):
        return f"expired at {format_time(lease.expires_at)}"
    if holder is not None:
        # Taking or renewing the lease is a sign of life too: a report older than that says nothing
        # about the lease (a DONE agent that took on stolen work, an agent that locks before posting).
        renewed = max(lease.acquired_at, min(now, lease.expires_at - timedelta(seconds=lease.ttl_s)))
        seen = max(holder.last_update, renewed) if holder.last_update else renewed
        reported_since = holder.last_update is not None and reported_after(holder.last_update, renewed)
        if reported_since and holder.status in (Status.DONE, Status.FAILED):
            return f"holder {holder.id} reported {holder.status.value}"
        silent = (now - seen).total_seconds()
        if holder.idle_s is not None and silent >= config.agent_stale_s:
            return f"holder {holder.id} has been silent for {int(silent)}s"
    if lease.pid is not None and not pid_alive(lease.pid):
        return f"holder process {lease.pid} is gone"
    return None


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` runs on this machine (a zombie is not running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    import psutil  # lazy: only a lease or a launcher that records a pid pays for it

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True


def find_agent(agents: tuple[AgentState, ...] | list[AgentState], name: str) -> AgentState | None:
    return next((a for a in agents if same_agent(a.id, name)), None)
