"""May this agent write this path now? The ownership matrix plus the leases, as one Decision.

EXCLUSIVE: only the owner. SEQUENTIAL: whoever holds a live lease on the path or a folder holding
it (and the ``@resource`` lease when the matrix entry names one); a path several plans write is
SEQUENTIAL between their agents only. READONLY: nobody. A path no pattern matches follows
``config.default_access``. Each reason names the pattern and where it is written (matrix or plan line).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from squad.config import Access
from squad.errors import SquadError
from squad.leases.locks import conflicts, same_holder
from squad.paths import SquadPaths
from squad.protocol.ids import same_agent
from squad.protocol.ownership import Matrix, Rule, load_matrix
from squad.protocol.times import now as utcnow

if TYPE_CHECKING:
    from squad.config import Config
    from squad.enforce.plan_rules import SourcedPlan
    from squad.leases.locks import Survey
    from squad.protocol.lease import Lease

__all__ = ["Decision", "check_paths", "load_rules", "may_write", "plan_conflicts", "read_plans"]


@dataclass(frozen=True)
class Decision:
    path: str
    allowed: bool
    rule: str  # "exclusive" | "sequential" | "readonly" | "resource" | "default"
    reason: str  # one line, names the owner or lease holder
    owner: str | None = None
    holder: str | None = None
    fix: str | None = None  # e.g. "squad lock shared/types/metrics.ts"

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "allowed": self.allowed,
            "rule": self.rule,
            "reason": self.reason,
            "owner": self.owner,
            "holder": self.holder,
            "fix": self.fix,
        }


def _config(paths: SquadPaths, config: Config | None) -> Config:
    if config is not None:
        return config
    from squad.config import load_config

    return load_config(paths.config)


def load_rules(paths: SquadPaths, config: Config | None = None, plans: list[SourcedPlan] | None = None) -> Matrix:
    """``ownership.yaml``; when absent, what the plans imply (``squad.enforce.plan_rules``).

    Every entry names its ``source``: the matrix line, or the plan lines it was derived from.
    A malformed ``ownership.yaml`` or ``config.yaml`` raises SquadError (no rules would mean no
    enforcement). A malformed plan is its agent's problem: it is left out, its paths fall to
    ``default_access``, and the error is kept in ``Matrix.problems`` for the caller to report.
    """
    config = _config(paths, config)
    if paths.ownership.exists():
        matrix = load_matrix(paths.ownership, config.default_access)
        where = paths.display(paths.ownership)
        return matrix.with_entries(replace(e, source=f"{where}:{e.line}" if e.line else where) for e in matrix.entries)
    from squad.enforce.plan_rules import derive_entries

    problems: list[SquadError] = []
    if plans is None:  # the coordinator passes the plans it has read already
        plans = read_plans(paths, problems)
    return Matrix(derive_entries(plans), config.default_access, tuple(problems))


def read_plans(paths: SquadPaths, problems: list[SquadError]) -> list[SourcedPlan]:
    """Every member's readable plan with the name it is shown by; malformed ones go to ``problems``."""
    from squad.agents.roster import members, read_member_plan
    from squad.enforce.plan_rules import SourcedPlan

    out = []
    for member in members(paths):
        plan = read_member_plan(member, problems)
        if plan is not None:
            out.append(SourcedPlan(paths.display(member.plan), plan))
    return out


def plan_conflicts(paths: SquadPaths, matrix: Matrix, plans: list[SourcedPlan]) -> list[SquadError]:
    """Where ``ownership.yaml`` refuses an agent a path its plan writes (none without a matrix)."""
    if not paths.ownership.exists():
        return []
    from squad.enforce.plan_rules import conflicts

    return conflicts(matrix, plans)


def _where(rule: Rule) -> str:
    """`` (backend/ from .squad/ownership.yaml:3)``: the pattern that decided, and where it is written."""
    if not rule.pattern:
        return " (default_access)"
    return f" ({rule.pattern} from {rule.source})" if rule.source else f" ({rule.pattern})"


def _covers(lease_path: str, path: str) -> bool:
    if lease_path.startswith("@") or path.startswith("@"):
        return lease_path.lower() == path.lower()
    held = [p for p in lease_path.strip("/").split("/") if p]
    want = [p for p in path.strip("/").split("/") if p]
    return bool(held) and want[: len(held)] == held


def may_write(
    paths: SquadPaths,
    agent: str,
    path: str,
    *,
    now: datetime | None = None,
    config: Config | None = None,
    matrix: Matrix | None = None,
    leases: list[Lease] | None = None,
) -> Decision:
    """Decide whether ``agent`` may write ``path`` (repo-relative) now."""
    now = now or utcnow()
    if matrix is None:
        matrix = load_rules(paths, config)
    rule = matrix.rule(path)
    where = _where(rule)
    if rule.access == Access.READONLY:
        name = "readonly" if rule.pattern else "default"
        return Decision(path, False, name, f"{path} is READONLY{where}: nobody may write it")
    if rule.access == Access.EXCLUSIVE:
        name = "exclusive" if rule.pattern else "default"
        if rule.owner and same_agent(rule.owner, agent):
            return Decision(path, True, name, f"{path} is owned by {rule.owner}{where}", owner=rule.owner)
        owner = rule.owner or "nobody"
        return Decision(
            path,
            False,
            name,
            f"{path} is EXCLUSIVE to {owner}{where}",
            owner=rule.owner,
            fix=f"ask {rule.owner} for a handoff" if rule.owner else None,
        )
    name = "sequential" if rule.pattern else "default"
    between = f" between {' and '.join(rule.owners)}" if rule.owners else ""
    if rule.owners and not any(same_agent(o, agent) for o in rule.owners):
        return Decision(
            path,
            False,
            name,
            f"{path} is SEQUENTIAL{between}{where}: {agent} writes it in no plan",
            fix=f"ask {rule.owners[0]} for a handoff",
        )
    if leases is None:
        leases = _leases_for(paths, config, path)
    live = [lease for lease in leases if not lease.expired(now)]
    mine = next((x for x in live if same_holder(x.agent, agent) and _covers(x.path, path)), None)
    resource = None
    if rule.resource:
        resource = rule.resource if rule.resource.startswith("@") else "@" + rule.resource
    if mine is None:
        # Name every lease the write needs in one answer: the path's and the named resource's.
        also = f" && squad lock {resource}" if resource else ""
        needs = f" (and the {resource} lease)" if resource else ""
        other = next((x for x in live if not same_holder(x.agent, agent) and conflicts(x.path, path)), None)
        if other is not None:
            return Decision(
                path,
                False,
                name,
                f"{path} is SEQUENTIAL{between}{where} and {other.agent} holds the lease on {other.path}",
                holder=other.agent,
                fix=f"squad lock {shlex.quote(path)} --wait 600{also}",
            )
        return Decision(
            path,
            False,
            name,
            f"{path} is SEQUENTIAL{between}{where}: lock it first{needs}",
            fix=f"squad lock {shlex.quote(path)}{also}",
        )
    # squad never grants two conflicting leases, but ai-agent-hub's lock library cannot see squad's
    # (it looks only for its own hashed file name): when both exist, the older one holds the path.
    first = min(
        (x for x in live if not same_holder(x.agent, agent) and conflicts(x.path, path)),
        key=lambda x: x.acquired_at,
        default=None,
    )
    if first is not None and first.acquired_at <= mine.acquired_at:
        return Decision(
            path,
            False,
            name,
            f"{path} is SEQUENTIAL{between}{where} and {first.agent} holds the lease on {first.path} "
            f"(taken before yours on {mine.path})",
            holder=first.agent,
            fix=f"squad unlock {shlex.quote(mine.path)} && squad lock {shlex.quote(path)} --wait 600",
        )
    if resource and not any(same_holder(x.agent, agent) and _covers(x.path, resource) for x in live):
        holder = next((x.agent for x in live if _covers(x.path, resource)), None)
        by = f"; {holder} holds it" if holder else ""
        return Decision(
            path,
            False,
            "resource",
            f"{path} needs the {resource} lease{where}{by}",
            holder=holder,
            fix=f"squad lock {resource}",
        )
    return Decision(path, True, name, f"{agent} holds the lease on {mine.path}", holder=mine.agent)


def check_paths(
    paths: SquadPaths,
    agent: str,
    targets: list[str],
    *,
    now: datetime | None = None,
    config: Config | None = None,
) -> list[Decision]:
    """``may_write`` for each of ``targets`` (repo-relative), reading the matrix and leases once."""
    config = _config(paths, config)
    now = now or utcnow()
    matrix = load_rules(paths, config)
    found: Survey | None = None
    out = []
    for target in targets:
        leases: list[Lease] = []
        if matrix.rule(target).access == Access.SEQUENTIAL:
            if found is None:
                from squad.leases.locks import survey

                found = survey(paths, config=config)
            _raise_unreadable(found, target)
            leases = list(found.leases)
        out.append(may_write(paths, agent, target, now=now, config=config, matrix=matrix, leases=leases))
    if found is not None:
        out = _with_fence_tokens(agent, out, found.leases)
    return _with_lost_leases(paths, agent, out, now)


def _with_fence_tokens(agent: str, decisions: list[Decision], leases: tuple[Lease, ...]) -> list[Decision]:
    """A writer that says which token it holds (``$SQUAD_FENCE``, kept by ``squad lock --export``)
    may write a SEQUENTIAL path only with the token the lease carries now: an older one means the
    lease ended and was granted again since, and what it is about to write rests on a lease gone."""
    from squad.leases.locks import same_holder
    from squad.protocol.lease import fence_tokens

    held = fence_tokens()
    if not held:
        return decisions
    out = []
    for decision in decisions:
        claimed = [(p, t) for p, t in held.items() if decision.allowed and decision.rule == "sequential"
                   and (decision.path == p.strip("/") or decision.path.startswith(p.strip("/") + "/"))]  # fmt: skip
        current = {lease.path: lease.token for lease in leases if same_holder(lease.agent, agent)}
        stale = next(((p, t) for p, t in claimed if current.get(p) is not None and current[p] != t), None)
        if stale is None:
            out.append(decision)
            continue
        path, token = stale
        out.append(
            replace(
                decision,
                allowed=False,
                reason=f"your fencing token {token} for {path} is stale: the lease carries token {current[path]} "
                "now (it ended and was granted again since you took it)",
                fix=f'check your work on {path}, then eval "$(squad lock --export {path})"',
            )
        )
    return out


def _with_lost_leases(paths: SquadPaths, agent: str, decisions: list[Decision], now: datetime) -> list[Decision]:
    """A write refused for want of a lease the agent had: say what became of it (expired at T,
    broken, taken by X), so a holder that was paused learns it at its next write."""
    wanting = [d for d in decisions if not d.allowed and d.rule in ("sequential", "default", "resource")]
    if not wanting:
        return decisions
    from squad.leases.lost import lost_by

    lost = lost_by(paths, agent, now)
    if not lost:
        return decisions
    out = []
    for decision in decisions:
        gone = next((x for x in lost if decision in wanting and conflicts(x.lease.path, decision.path)), None)
        if gone is None:
            out.append(decision)
            continue
        token = f", token {gone.lease.token}," if gone.lease.token is not None else ""
        note = f" (your lease on {gone.lease.path}{token} is gone: {gone.why})"
        out.append(replace(decision, reason=decision.reason + note))
    return out


def _leases_for(paths: SquadPaths, config: Config | None, path: str) -> list[Lease]:
    """Every lease, refusing to decide (exit 2) when an unreadable lease file may cover ``path``."""
    from squad.leases.locks import survey

    found = survey(paths, config=config)
    _raise_unreadable(found, path)
    return list(found.leases)


def _raise_unreadable(found: Survey, path: str) -> None:
    err = found.error_for(path)
    if err is not None:
        raise SquadError(
            f"{err.message}; {path} cannot be checked until the file is fixed or removed",
            path=err.path,
            line=err.line,
        )
