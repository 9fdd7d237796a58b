"""What the coordinator keeps in memory, and ``react``: a change in, rule findings out.

Everything here is rebuilt from the files: incremental comm readers (one per comm file), the plans,
the ownership matrix, the leases, and the keys of every event already in ``logs/events.jsonl``.
A restart after ``kill -9`` rebuilds the same state and, thanks to the keys, reports nothing twice.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from squad.agents.liveness import Fold
from squad.agents.roster import Member
from squad.config import Config, load_config
from squad.coordinator import rules
from squad.coordinator.state import (
    AgentState,
    EventTally,
    LockView,
    Snapshot,
    compute_metrics,
    find_agent,
    full_ids,
    moved_tasks,
    reopened,
    stale_reason,
)
from squad.coordinator.world import squad_own_file
from squad.errors import SquadError
from squad.paths import SQUAD_DIR_NAME, SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import CommFile, CommReader, HandoffRequest, StatusUpdate
from squad.protocol.lease import Lease
from squad.protocol.ownership import Matrix
from squad.protocol.plan import Plan, read_plan

log = logging.getLogger("squad.coordinator")


class ChangeKind(StrEnum):
    """What a changed path means to the coordinator (``classify``)."""

    COMM = "comm"
    PLAN = "plan"
    LOCKS = "locks"
    MATRIX = "matrix"
    CONFIG = "config"
    EVENTS = "events"
    CONTROL = "control"
    ALLOCATION = "allocation"
    LAUNCH = "launch"
    WORKTREE = "worktree"
    GITIGNORE = "gitignore"
    TICK = "tick"
    AGENT_TREE = "agent-tree"  # a file in a launched agent's own worktree (Change.agent names it)


COMM, PLAN, LOCKS, MATRIX, CONFIG = (
    ChangeKind.COMM,
    ChangeKind.PLAN,
    ChangeKind.LOCKS,
    ChangeKind.MATRIX,
    ChangeKind.CONFIG,
)
EVENTS, CONTROL, ALLOCATION, LAUNCH = ChangeKind.EVENTS, ChangeKind.CONTROL, ChangeKind.ALLOCATION, ChangeKind.LAUNCH
WORKTREE, GITIGNORE, TICK, AGENT_TREE = (
    ChangeKind.WORKTREE,
    ChangeKind.GITIGNORE,
    ChangeKind.TICK,
    ChangeKind.AGENT_TREE,
)


RELEASED_KEEP_S = 3600.0
_LEGACY_KEY = re.compile(r"((?:violation|handoff|evidence):.*:\d{4}-\d\d-\d\dT[\d:.]+Z?):\d+")


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    path: str | None = None  # repo-relative for WORKTREE; the agent number for COMM / PLAN
    number: int | None = None
    agent: str | None = None  # AGENT_TREE: whose worktree


def agent_trees(paths: SquadPaths) -> dict[Path, str]:
    """Linked worktrees on a ``squad/<agent>`` branch (what ``squad launch`` makes), by top folder."""
    from squad.enforce.targets import linked_worktrees

    return {top: agent for top, agent in linked_worktrees(paths) if agent is not None}


def _in_agent_tree(absolute: str, trees: dict[Path, str]) -> Change | None:
    path = Path(absolute)
    for top, agent in trees.items():
        if path == top or top in path.parents:
            rel = path.relative_to(top).as_posix()
            first = rel.split("/")[0]
            if first in (".git", SQUAD_DIR_NAME) or _scratch(path.name) or squad_own_file(rel):
                return None
            return Change(AGENT_TREE, rel, agent=agent)
    return None


def classify(
    paths: SquadPaths, absolute: str, ignored: Any = None, trees: dict[Path, str] | None = None
) -> Change | None:
    """What a path reported by the watcher means; None for paths the coordinator ignores.

    The one place that decides which names matter: inside ``.squad/`` only the protocol's own files
    (comm files, plans, leases, the matrix, config, the event log, the pause flag, allocation and
    launch reports) and, in ``locks/``, the folders of the mirrored tree. Scratch files of any tool
    or library (filelock's ``#<n>``, atomic writes' ``.*.tmp``, editors' ``~``) are never a change.
    A trailing ``/`` marks a folder (the watcher adds it).
    """
    folder = absolute.endswith("/")
    absolute = absolute.rstrip("/") or "/"
    if trees:  # first: a worktree may sit inside the repository (.worktrees/agent-2/...)
        inside = _in_agent_tree(absolute, trees)
        if inside is not None or any(Path(absolute) == t or t in Path(absolute).parents for t in trees):
            return None if folder else inside
    try:
        rel = Path(absolute).relative_to(paths.root).as_posix()
    except ValueError:
        return None
    parts = rel.split("/")
    if parts[0] == ".git":
        return None
    if parts[0] != SQUAD_DIR_NAME:
        if rel == ".gitignore":
            return Change(GITIGNORE)
        if folder or (ignored is not None and ignored.match_file(rel)) or _scratch(parts[-1]) or squad_own_file(rel):
            return None
        return Change(WORKTREE, rel)
    inner = "/".join(parts[1:])
    if inner.startswith("locks/"):
        return _lease_change(inner.removeprefix("locks/"), folder)
    # agent-1-comm.md, or a hand-named agent-01-comm.md / agent-1-frontend-comm.md (see squad.agents.roster)
    if m := re.fullmatch(r"comms/agent-0*(\d+)(?:-[a-z0-9][a-z0-9_-]*?)?-comm\.md", inner, re.IGNORECASE):
        return Change(COMM, number=int(m.group(1)))
    if m := re.fullmatch(r"parallel-plans/agent-0*(\d+)(?:-[a-z0-9][a-z0-9_-]*?)?-plan\.md", inner, re.IGNORECASE):
        return Change(PLAN, number=int(m.group(1)))
    kind = _SQUAD_FILES.get(inner)
    return Change(kind) if kind else None


_SQUAD_FILES = {
    "ownership.yaml": MATRIX,
    "config.yaml": CONFIG,
    "logs/events.jsonl": EVENTS,
    "control/pause.flag": CONTROL,
    "allocation.json": ALLOCATION,
    "reports/launch.json": LAUNCH,
}


def _lease_change(rel: str, folder: bool) -> Change | None:
    """A path under ``locks/``: a lease file, or a folder of the mirrored tree (created for a lease
    and pruned after it, maybe before the lease file itself was ever seen). Anything else there
    (squad's ``.broken/`` record, a README beside the leases, any library's scratch file) is not."""
    names = rel.split("/")
    if not rel or any(n.startswith(".") for n in names):
        return None
    if folder:
        return Change(LOCKS, rel + "/")
    if names[-1].endswith(".lock") and names[-1] != ".lock":
        return Change(LOCKS, rel.removesuffix(".lock"))
    return None


def _signature(update: StatusUpdate) -> str:
    """What a judged block looked like, as a string the daemon's checkpoint can keep across restarts."""
    return repr(
        (update.line, update.at, update.status, update.files_modified, update.files_created, update.evidence_exit)
    )


def _scratch(name: str) -> bool:
    """Editor and tool scratch files: never a change worth judging."""
    return name.startswith((".#", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp", ".part", ".lock"))


@dataclass
class Source:
    """One agent's files: an incremental comm reader and the parsed plan."""

    number: int
    comm_path: Path
    plan_path: Path
    reader: CommReader
    comm: CommFile | None = None
    plan: Plan | None = None
    checked: int = 0  # status blocks already checked by the ownership rules
    last_seen: str | None = None  # the last block as judged, in case it grows
    fold: Fold = field(default_factory=Fold)  # the settled blocks, folded as they settle
    fed: int = 0  # how many settled blocks ``fold`` has taken
    generation: int = -1  # the reader's generation ``fold`` belongs to (a rewrite starts it again)
    view: Fold = field(default_factory=Fold)  # ``fold`` plus the still-open last block
    plan_seen: int | None = None  # the plan's modification time (ns) when it was read
    plan_display: str = ""  # the plan's path as shown (repo-relative)

    def refold(self) -> None:
        """Bring the fold up to date with what the last read added: O(new blocks)."""
        comm = self.comm
        if comm is None:
            self.fold, self.fed, self.view = Fold(), 0, Fold()
            return
        if comm.generation != self.generation or comm.settled < self.fed:
            self.fold, self.fed, self.generation = Fold(), 0, comm.generation
        self.fold.feed_all(comm.blocks[self.fed : comm.settled])
        self.fed = comm.settled
        pending = comm.blocks[comm.settled :]
        self.view = self.fold.copy().feed_all(pending) if pending else self.fold

    def unjudged(self) -> tuple[StatusUpdate, ...]:
        """Blocks not judged yet. The last block judged is kept out of ``checked`` (it may still
        grow); it is judged again only if it changed, whether or not blocks came after it."""
        todo = self.updates[self.checked :]
        if todo and _signature(todo[0]) == self.last_seen:
            return todo[1:]
        return todo

    @property
    def name(self) -> str:
        if self.plan is not None:
            return self.plan.agent
        identity = self.comm.identity if self.comm else None
        if identity is not None and identity.number == self.number:
            return str(identity)
        return f"agent-{self.number}"

    @property
    def updates(self) -> tuple[StatusUpdate, ...]:
        return self.comm.updates if self.comm else ()


@dataclass
class Engine:
    paths: SquadPaths
    config: Config = field(default_factory=Config)
    watch_worktree: bool = True
    sources: dict[int, Source] = field(default_factory=dict)
    matrix: Matrix = field(default_factory=Matrix)
    leases: list[Lease] = field(default_factory=list)
    events: list[ev.Event] = field(default_factory=list)
    tally: EventTally = field(default_factory=EventTally)
    reported: set[str] = field(default_factory=set)
    changed: dict[str, str] = field(default_factory=dict)  # work-tree path -> mtime marker
    trees: dict[Path, str] = field(default_factory=dict)  # launched agents' worktrees -> agent
    agent_changed: dict[tuple[str, str], str] = field(default_factory=dict)  # (agent, path) -> mtime marker
    paused: bool = False
    problems_by: dict[str, list[SquadError]] = field(default_factory=dict)  # what each file says is wrong
    released: list[tuple[Lease, datetime]] = field(default_factory=list)  # (lease, when it was seen gone)
    ignored: Any = None
    started_at: datetime | None = None
    lock_touched: set[str] = field(default_factory=set)  # lease targets whose files changed since the last read
    moved: list[tuple[datetime, str, tuple[str, ...]]] = field(default_factory=list)  # tasks moved, from the log
    seen: dict[str, int | None] = field(default_factory=dict)  # matrix and config: modification times read
    _states: tuple[datetime, list[tuple[Source, AgentState]]] | None = None  # agent_states of one moment
    _read_since_judged: set[int] = field(default_factory=set)  # comm files read since the last judgement

    def __post_init__(self) -> None:
        self._event_reader = ev.EventLogReader(self.paths.events)

    # -- loading -----------------------------------------------------------------------------------
    def rebuild(self, now: datetime) -> None:
        """Read everything from the files, as after a restart."""
        self.started_at = self.started_at or now
        if self.paths.display(self.paths.config) not in self.seen:  # open() read them before watching
            self.load_settings()
        self._read_events()
        from squad.agents.roster import members

        for member in members(self.paths):  # the roster, listed once
            source = self._source(member.id.number, member)
            self._load_plan(source)
            self._read_comm(source)
        for number in _unreadable_comms(self.paths):  # e.g. a folder where a comm file should be
            if number not in self.sources:
                self._read_comm(self._source(number))
        self._load_matrix()
        self._load_leases()
        self._remember_released(now)
        self.paused = self.paths.pause_flag.exists()

    def load_settings(self) -> None:
        """``config.yaml`` and ``.gitignore``: what the watcher needs before it starts."""
        from squad.coordinator.cache import signature_of

        self.seen[self.paths.display(self.paths.config)] = signature_of(self.paths.config, size=False)
        self.config = load_config(self.paths.config)
        self.watch_worktree = bool(self.config.section("coordinator").get("watch_worktree", True))
        self._load_gitignore()

    def catch_up(self) -> bool:
        """The timer's safety net: read any comm file that grew without a file event (an
        overflowed inotify queue). One ``stat`` per agent; no walk over the tree."""
        grown = False
        for source in self.sources.values():
            try:
                size = source.comm_path.stat().st_size
            except OSError:
                continue
            if size != source.reader.offset and size > 0:
                before = len(source.updates)
                self._read_comm(source)
                grown = grown or len(source.updates) != before
        return grown

    def _source(self, number: int, member: Member | None = None) -> Source:
        if number not in self.sources:
            from squad.agents.roster import members

            # The roster knows hand-named files (agent-01-comm.md) as well as squad's own names.
            if member is None:
                member = next((m for m in members(self.paths) if m.id.number == number), None)
            comm = member.comm if member else self.paths.comm(number)
            plan = member.plan if member else self.paths.plan(number)
            self.sources[number] = Source(
                number, comm, plan, CommReader(comm, self.paths.display(comm)), plan_display=self.paths.display(plan)
            )
        return self.sources[number]

    def _load_plan(self, source: Source) -> None:
        from squad.coordinator.cache import signature_of

        self._states = None
        source.plan_seen = signature_of(source.plan_path, size=False)  # before the read: a later write shows
        self.problems_by.pop(f"plan:{source.number}", None)
        try:
            source.plan = read_plan(source.plan_path) if source.plan_path.exists() else None
        except SquadError as exc:  # the last good plan stays
            self._problem(exc, f"plan:{source.number}")
        except OSError:
            source.plan = None

    def _read_comm(self, source: Source) -> None:
        before = source.comm
        key = f"comm:{source.number}"
        try:
            source.comm = source.reader.read()
        except OSError as exc:  # a folder where the file should be, no permission...
            where = self.paths.display(source.comm_path)
            self.problems_by.pop(key, None)
            self._problem(SquadError(f"cannot read it: {exc.strerror or exc}", path=where), key)
            return
        except SquadError as exc:  # not a regular file, ...
            self.problems_by.pop(key, None)
            self._problem(SquadError(f"cannot read it: {exc.message}", path=exc.path, line=exc.line), key)
            return
        if before is not None and len(source.comm.updates) < source.checked:
            source.checked = 0  # the file was rewritten: judge it afresh (keys stop repeats)
        source.refold()
        self._states = None
        self._read_since_judged.add(source.number)
        self.problems_by[key] = list(source.comm.problems)

    def _load_matrix(self) -> None:
        from squad.coordinator.cache import signature_of
        from squad.enforce.access import load_rules

        self.seen[self.paths.display(self.paths.ownership)] = signature_of(self.paths.ownership, size=False)
        plans = None
        if not self.paths.ownership.exists():  # the rules come from the plans: the ones read already
            from squad.enforce.plan_rules import SourcedPlan

            plans = [
                SourcedPlan(self.paths.display(s.plan_path), s.plan)
                for _, s in sorted(self.sources.items())
                if s.plan is not None
            ]
        self.problems_by.pop("matrix", None)
        try:
            self.matrix = load_rules(self.paths, self.config, plans)
        except SquadError as exc:
            self._problem(exc, "matrix")

    def _load_leases(self, at: datetime | None = None) -> None:
        from squad.leases.locks import survey

        before = {str(p) for p in self.problems_by.pop("locks", [])}
        try:
            found = survey(self.paths, config=self.config)
        except SquadError as exc:
            self._problem(exc, "locks")
            return
        # An unreadable lease file is a problem (logged once), never a reason to stop judging the rest.
        for _, error in found.unreadable:
            if str(error) in before:
                self.problems_by.setdefault("locks", []).append(error)
            else:
                self._problem(error, "locks")
        leases = list(found.leases)
        if at is not None:
            # Remember leases that went away: an agent often unlocks before it reports the file.
            current = {(x.agent, x.path, x.acquired_at) for x in leases}
            for old in self.leases:
                if (old.agent, old.path, old.acquired_at) not in current:
                    self.released.append((old, at))
            # A lease file that came and went between two reads (lock, edit, unlock in one burst):
            # its holder is unknown, only its path.
            known = {x.path.rstrip("/") for x in (*leases, *self.leases)}
            for target in sorted(self.lock_touched):
                bare = target.rstrip("/")
                if bare in known or (target.endswith("/") and any(k.startswith(target) for k in known)):
                    continue
                self.released.append((_blip(target, at), at))
            self.released = [(x, t) for x, t in self.released if (at - t).total_seconds() < RELEASED_KEEP_S]
        self.leases = leases
        self.lock_touched.clear()

    def _remember_released(self, now: datetime) -> None:
        """Leases released before this start (``logs/leases.jsonl``): a report written while its
        agent held one is judged by it, though the daemon was down or restarted since."""
        from datetime import timedelta

        from squad.leases.locks import released_since

        known = {(x.agent, x.path, x.acquired_at) for x, _ in self.released}
        for lease, gone in released_since(self.paths, now - timedelta(seconds=RELEASED_KEEP_S)):
            if (lease.agent, lease.path, lease.acquired_at) not in known:
                self.released.append((lease, gone))

    def _load_gitignore(self) -> None:
        import pathspec

        try:
            lines = (self.paths.root / ".gitignore").read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
        self.ignored = pathspec.GitIgnoreSpec.from_lines(lines)

    def _read_events(self) -> bool:
        try:
            new = self._event_reader.read_new()
        except SquadError as exc:
            self._problem(exc, "events")
            return False
        self.events.extend(new)
        self.tally.add(new)
        moved = moved_tasks(new)
        if moved:  # only a move changes an agent's state (a DONE agent given tasks is WAITING)
            self.moved.extend(moved)
            self._states = None
        for e in new:
            if e.key:
                self.reported.add(e.key)
                if legacy := _LEGACY_KEY.fullmatch(e.key):
                    self.reported.add(legacy.group(1))  # written before keys dropped a timed block's line
        return bool(new)

    def _problem(self, exc: SquadError, about: str = "other") -> None:
        """Record what is wrong with a file; a later good read of that file (``about``) clears it."""
        found = self.problems_by.setdefault(about, [])
        if str(exc) not in {str(p) for p in found}:
            log.warning("%s", exc.render() if hasattr(exc, "render") else exc)
            found.append(exc)

    @property
    def problems(self) -> list[SquadError]:
        return [p for key in sorted(self.problems_by) for p in self.problems_by[key]]

    # -- changes -----------------------------------------------------------------------------------
    def observe(self, change: Change, at: datetime | None = None) -> bool:
        """Bring the part of the state that ``change`` touches up to date; False if it was news
        to nobody (the coordinator's own events, read back already)."""
        return self.observe_all([change], at)

    def observe_all(self, changes: list[Change], at: datetime | None = None) -> bool:
        """Take in one batch of changes. ``locks/`` is read once, after every lease change of the
        batch is known: a lease taken and released between two reads is then known as released
        whatever order its events arrived in."""
        news = False
        leases = False
        for change in changes:
            if change.kind == LOCKS:
                if change.path is not None:
                    self.lock_touched.add(change.path)
                leases = True
            else:
                news = self._observe_one(change, at) or news
        if leases:
            self._load_leases(at)
        return news or leases

    def _observe_one(self, change: Change, at: datetime | None) -> bool:
        if change.kind == COMM and change.number is not None:
            self._read_comm(self._source(change.number))
        elif change.kind == PLAN and change.number is not None:
            self._load_plan(self._source(change.number))
            if not self.paths.ownership.exists():
                self._load_matrix()  # without ownership.yaml, the matrix comes from the plans
        elif change.kind == MATRIX:
            self._load_matrix()
        elif change.kind == CONFIG:
            self.problems_by.pop("config", None)
            try:
                self.config = load_config(self.paths.config)
            except SquadError as exc:
                self._problem(exc, "config")
        elif change.kind == EVENTS:
            return self._read_events()
        elif change.kind == CONTROL:
            self.paused = self.paths.pause_flag.exists()
        elif change.kind == TICK:
            return self.catch_up()  # news only if a comm file grew unseen; time-based rules run anyway
        elif change.kind == GITIGNORE:
            self._load_gitignore()
        elif change.kind == WORKTREE and change.path and self.watch_worktree:
            file = self.paths.root / change.path
            try:
                stat = file.stat()
            except OSError:
                return False
            if not file.is_file():
                return False
            self.changed[change.path] = str(stat.st_mtime_ns)
        elif change.kind == AGENT_TREE and change.path and change.agent:
            top = next((t for t, a in self.trees.items() if a == change.agent), None)
            if top is None:
                return False
            try:
                mark = (top / change.path).stat()
                if not (top / change.path).is_file():
                    return False
                self.agent_changed[(change.agent, change.path)] = str(mark.st_mtime_ns)
            except OSError:
                return False
        return True

    # -- views -------------------------------------------------------------------------------------
    def agent_states(self, now: datetime) -> list[tuple[Source, AgentState]]:
        """Each agent's state at ``now``, from its fold: O(agents), whatever the length of the files."""
        if self._states is not None and self._states[0] == now:
            return self._states[1]
        out = []
        for number in sorted(self.sources):
            source = self.sources[number]
            if source.comm is None:
                continue
            if source.plan is None and not source.comm_path.exists():
                continue
            state = source.view.state(source.name, source.plan, source.comm.mtime, now)
            out.append((source, reopened(state, source.plan, (), self.moved)))
        self._states = (now, out)
        return out

    def lock_views(self, agents: tuple[AgentState, ...], now: datetime) -> list[LockView]:
        views = []
        for lease in self.leases:
            reason = stale_reason(lease, find_agent(agents, lease.agent), now, self.config)
            held_s = max(0.0, (now - lease.acquired_at).total_seconds())
            views.append(LockView(lease, reason is not None, reason, held_s, held_s >= self.config.lock_warn_s))
        return views

    def world(self, now: datetime) -> rules.World:
        states = self.agent_states(now)
        agents = tuple(s for _, s in states)
        moved = self.moved
        views = []
        fresh: list[tuple[str, StatusUpdate]] = []
        for source, state in states:
            updates = source.updates
            if source.number in self._read_since_judged:  # the others have nothing new to judge
                fresh.extend((state.id, u) for u in source.unjudged())
            assigned = tuple(
                t for at, agent, tasks in moved if state.last_update is None or at >= state.last_update
                if _same(agent, state.id) for t in tasks
            )  # fmt: skip
            views.append(
                rules.AgentView(
                    state=state,
                    plan=source.plan,
                    updates=updates,
                    handoffs=source.comm.handoffs if source.comm else (),
                    blocked_since=source.view.blocked_since,
                    assigned=assigned,
                    failures=tuple(source.view.failures.items()),
                )
            )
        extra: dict[str, object] = {f"mtime:{p}": m for p, m in self.changed.items()}
        extra.update({f"mtime:{a}:{p}": m for (a, p), m in self.agent_changed.items()})
        return rules.World(
            paths=self.paths,
            agents=tuple(views),
            matrix=self.matrix,
            locks=tuple(self.lock_views(agents, now)),
            fresh=tuple(fresh),
            changed_files=tuple(sorted(self.changed)),
            agent_changed=tuple(sorted(self.agent_changed)),
            paused=self.paused,
            extra=extra,
            released=tuple(self.released),
        )

    def mark_checked(self) -> None:
        """Every status block but the last is judged for good. The last one may still grow (agents
        that ``echo >>`` a block line by line): it is judged again if it changes. Only the comm
        files read since the last call can have anything new."""
        for number in self._read_since_judged:
            source = self.sources.get(number)
            if source is None:
                continue
            source.checked = max(source.checked, len(source.updates) - 1)
            source.last_seen = _signature(source.updates[-1]) if source.updates else None
        self._read_since_judged.clear()
        self.changed.clear()
        self.agent_changed.clear()

    def signatures(self) -> dict[str, int | None]:
        """What the current state was built from, file by file (``coordinator.cache``): a comm file's
        and the event log's bytes read, the plans', matrix's and config's modification times."""
        out: dict[str, int | None] = dict(self.seen)
        for source in self.sources.values():
            offset = source.reader.offset
            out[source.reader.display] = offset if offset or source.comm_path.is_file() else None
            out[source.plan_display] = source.plan_seen
        out[self.paths.display(self.paths.events)] = self._event_reader.offset if self.paths.events.exists() else None
        return out

    def snapshot(self, now: datetime) -> Snapshot:
        from squad.coordinator.metrics import more_metrics

        states = self.agent_states(now)
        agents = tuple(s for _, s in states)
        handoffs: list[tuple[str, HandoffRequest]] = []
        for source, state in states:
            if source.comm is not None:  # a handoff with no time of its own takes the file's
                handoffs.extend((state.id, replace(h, at=h.at or source.comm.mtime)) for h in source.comm.handoffs)
        handoffs = full_ids(handoffs, [a.id for a in agents])
        metrics = compute_metrics(agents, self.tally)
        timelines = [(s.view.timeline, st) for s, st in states]
        metrics.update(more_metrics(self.paths, timelines, len(self.tally.violations), now))
        return Snapshot(
            at=now,
            agents=agents,
            locks=tuple(self.lock_views(agents, now)),
            handoffs=tuple(handoffs),
            violations=tuple(self.tally.violations),
            events=tuple(self.events[-50:]),
            problems=tuple(self.problems),
            metrics=metrics,
            stale_s=self.config.agent_stale_s,
        )


def _unreadable_comms(paths: SquadPaths) -> list[int]:
    """Agent numbers whose canonical comm file exists but is no file (the roster skips those)."""
    try:
        entries = list(paths.comms.iterdir())
    except OSError:
        return []
    return sorted(
        int(m.group(1)) for e in entries if (m := re.fullmatch(r"agent-(\d+)-comm\.md", e.name)) and not e.is_file()
    )


def _blip(target: str, at: datetime) -> Lease:
    return Lease(agent="", path=target, acquired_at=at, expires_at=at, ttl_s=0.0)


def _same(a: str | None, b: str | None) -> bool:
    from squad.protocol.ids import same_agent

    return same_agent(a, b)


def react(engine: Engine, changes: list[Change], now: datetime, *, enforce: bool = True) -> list[rules.Item]:
    """Apply ``changes`` to the state and run the rules; only findings not reported before come out.

    Time-based rules run on every call: a ``tick`` change is simply a call with nothing else new.
    """
    engine.observe_all(changes, now)
    return judge(engine, now, enforce=enforce)


def judge(engine: Engine, now: datetime, *, enforce: bool = True) -> list[rules.Item]:
    """Run the rules on the current state; only findings not reported before come out, each once
    (two reports in one second naming one file share a key: the key is checked within the batch
    as well as against the log)."""
    if not enforce:
        engine.mark_checked()
        return []
    items = rules.run_rules(engine.world(now), now, engine.config)
    engine.mark_checked()
    out: list[rules.Item] = []
    seen: set[tuple[str, str, str]] = set()
    for item in items:
        if isinstance(item, rules.BreakStale):
            out.append(item)
            continue
        if item.key is None:
            out.append(item)
            continue
        if item.key in engine.reported:
            continue
        # An event and the notices and actions it comes with share its key: one of each kind.
        identity = (type(item).__name__, item.key, str(getattr(item, "to", "")))
        if identity in seen:
            continue
        seen.add(identity)
        out.append(item)
    return out


def clean_scratch(paths: SquadPaths, *, older_than_s: float = 60.0) -> list[Path]:
    """Remove temp files a killed writer left (``.status.md.<random>.tmp`` beside the file it was
    replacing) under ``.squad/``; a fresh one may belong to a writer still at work and stays."""
    import time

    cutoff = time.time() - older_than_s
    removed = []
    for tmp in paths.squad.rglob(".*.tmp"):
        try:
            if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue
    return removed
