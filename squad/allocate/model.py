"""The records of an allocation: tasks, agents, handoffs and the prediction (frozen, no logic beyond sums)."""

from __future__ import annotations

from dataclasses import dataclass

from squad.allocate.prd import PRD, RawTask
from squad.protocol.ownership import Matrix
from squad.protocol.plan import Handoff, PlanTask, estimate_hours


def hours_text(hours: float) -> str:
    """``2.8h``, ``45m``: at most one decimal, never ``2.83333h``."""
    if 0 < hours < 1:
        return f"{max(round(hours * 60), 1)}m"
    return f"{round(hours, 1):g}h"


@dataclass(frozen=True)
class Task:
    id: str
    raw: RawTask
    stream: str | None
    depends_on: tuple[str, ...]
    resource: str | None

    @property
    def hours(self) -> float:
        return estimate_hours(self.raw.estimate) or 1.0

    def plan_task(self) -> PlanTask:
        return PlanTask(
            id=self.id,
            title=self.raw.title,
            files=self.raw.paths,
            depends_on=self.depends_on,
            estimate=self.raw.estimate,
            resource=self.resource,
            unclassified=self.stream is None,
            subtasks=self.raw.subtasks,
        )


@dataclass(frozen=True)
class HandoffRecord:
    task: str  # the task whose result is handed over
    from_agent: str
    to_agent: str
    file: str | None
    for_task: str  # the task waiting for it


@dataclass(frozen=True)
class Prediction:
    sequential_h: float
    makespan_h: float
    speedup: float


@dataclass(frozen=True)
class AgentAllocation:
    number: int
    role: str
    streams: tuple[str, ...]
    tasks: tuple[Task, ...]
    owns: tuple[str, ...]
    shared: tuple[str, ...]
    read_only: tuple[str, ...]
    handoffs_in: tuple[Handoff, ...]
    handoffs_out: tuple[Handoff, ...]

    @property
    def id(self) -> str:
        return f"agent-{self.number}-{self.role}"

    @property
    def effort_h(self) -> float:
        return sum(t.hours for t in self.tasks)


@dataclass(frozen=True)
class Allocation:
    prd: PRD
    agents: tuple[AgentAllocation, ...]
    matrix: Matrix
    handoffs: tuple[HandoffRecord, ...]
    prediction: Prediction
    notes: tuple[str, ...] = ()  # everything worth saying, read_notes first
    read_notes: tuple[str, ...] = ()  # what reading the document skipped or could not resolve
