"""What the plans imply when there is no ``ownership.yaml``, and where a matrix contradicts them.

A plan says which files its agent writes: front matter ``owns`` (squad's), or the body's CREATE and
MODIFY lists (ai-agent-hub's squad mode). A path one plan writes is that agent's (EXCLUSIVE); a path
several plans write, by name or through a folder or glob, is SEQUENTIAL between those agents (each
may write it while holding the lease, nobody else may). ``shared`` is SEQUENTIAL for anyone holding
the lease; squad's front-matter ``read_only`` is READONLY for everyone. The body's READ-ONLY list is
what an agent reads: it makes no rule at all.

Every rule names the plan lines it came from (``source``), so a refusal can say why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from squad.config import Access
from squad.errors import SquadError
from squad.protocol.ids import same_agent
from squad.protocol.ownership import Entry, Matrix, Rule
from squad.protocol.plan import Plan

__all__ = ["SourcedPlan", "conflicts", "derive_entries"]

_GLOB = set("*?[")


@dataclass(frozen=True)
class SourcedPlan:
    """A plan and the name it is shown by (``.squad/parallel-plans/agent-2-plan.md``)."""

    file: str
    plan: Plan

    def where(self, kind: str, path: str) -> str:
        line = self.plan.line_of(kind, path)
        return f"{self.file}:{line}" if line is not None else self.file


def _key(pattern: str) -> str:
    return pattern.strip().lstrip("/").rstrip("/")


def _broad(pattern: str) -> bool:
    return pattern.endswith("/") or bool(_GLOB & set(pattern))


class _Merged:
    """Entries keyed by pattern, in first-seen order, their sources joined."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.pattern: dict[str, str] = {}
        self.sources: dict[str, list[str]] = {}

    def add(self, pattern: str, source: str) -> None:
        key = _key(pattern)
        if key not in self.pattern:
            self.order.append(key)
            self.pattern[key] = pattern
            self.sources[key] = []
        if source not in self.sources[key]:
            self.sources[key].append(source)

    def entries(self, access: str) -> list[Entry]:
        return [Entry(self.pattern[k], None, access, source=", ".join(self.sources[k])) for k in self.order]


def derive_entries(plans: Iterable[SourcedPlan]) -> tuple[Entry, ...]:
    """The matrix entries the plans imply, in last-match-wins order: one writer's paths, then
    ``shared`` paths, then paths several plans write, then squad's ``read_only`` (which beats all)."""
    writers: dict[str, dict[str, str]] = {}  # path key -> {agent: source}
    spelled: dict[str, str] = {}
    order: list[str] = []
    shared, readonly = _Merged(), _Merged()
    for sp in plans:
        agent = sp.plan.agent
        for path in sp.plan.owns:
            key = _key(path)
            if not key:
                continue
            if key not in writers:
                writers[key], spelled[key] = {}, path
                order.append(key)
            writers[key].setdefault(agent, sp.where("owns", path))
        for path in sp.plan.shared:
            shared.add(path, sp.where("shared", path))
        for path in sp.plan.read_only:
            readonly.add(path, sp.where("read_only", path))
    # A folder or glob one agent writes covers the paths inside it that another plan names. Each is
    # compared only with paths under its first folder (or with all, if that folder is a glob): a
    # squad of hundreds of agents each owning a folder stays linear.
    broad: dict[str, list[tuple[str, str, str, Matrix]]] = {}
    for key in order:
        if _broad(spelled[key]):
            top = key.split("/", 1)[0]
            bucket = "*" if _GLOB & set(top) else top
            for agent, source in writers[key].items():
                broad.setdefault(bucket, []).append(
                    (key, agent, source, Matrix((Entry(spelled[key], agent, Access.EXCLUSIVE),)))
                )
    single: list[Entry] = []
    several: list[Entry] = []
    for key in order:
        found = dict(writers[key])
        for other, agent, source, spec in (*broad.get(key.split("/", 1)[0], ()), *broad.get("*", ())):
            if other != key and agent not in found and spec.rule(spelled[key]).pattern is not None:
                found[agent] = source
        source = ", ".join(dict.fromkeys(found.values()))
        if len(found) == 1:
            single.append(Entry(spelled[key], next(iter(found)), Access.EXCLUSIVE, source=source))
        else:
            several.append(Entry(spelled[key], None, Access.SEQUENTIAL, owners=tuple(found), source=source))
    return (*single, *shared.entries(Access.SEQUENTIAL), *several, *readonly.entries(Access.READONLY))


def describe(rule: Rule | Entry) -> str:
    """``EXCLUSIVE to agent-1``, ``SEQUENTIAL between agent-1 and agent-2``, ``READONLY``."""
    if rule.access == Access.EXCLUSIVE:
        return f"EXCLUSIVE to {rule.owner or 'nobody'}"
    if rule.access == Access.SEQUENTIAL and rule.owners:
        return f"SEQUENTIAL between {' and '.join(rule.owners)}"
    return rule.access


def conflicts(matrix: Matrix, plans: Iterable[SourcedPlan]) -> list[SquadError]:
    """Where ``ownership.yaml`` refuses an agent a path its own plan says it writes.

    The matrix wins; each conflict is reported once, naming the plan line and the matrix line. Only
    the paths a plan names are compared with the rule for that very path, so a matrix that refines
    a plan's folder (a file handed off or reassigned out of it) is no conflict.
    """
    out: list[SquadError] = []
    for sp in plans:
        agent = sp.plan.agent
        for kind in ("owns", "shared"):
            for path in getattr(sp.plan, kind):
                rule = matrix.rule(path)
                if rule.pattern is None:
                    continue
                refused = rule.access == Access.READONLY or (
                    rule.access == Access.EXCLUSIVE and not same_agent(rule.owner, agent)
                )
                if not refused:
                    continue
                line = sp.plan.line_of(kind, path)
                out.append(
                    SquadError(
                        f"{sp.plan.agent}'s plan writes {path}, but {rule.source or 'ownership.yaml'} makes it "
                        f"{describe(rule)} ({rule.pattern}); the matrix wins",
                        path=sp.file,
                        line=line,
                    )
                )
    return out
