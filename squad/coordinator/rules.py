"""The coordinator's rules: pure functions ``(world, now, config) -> list[Event | Action]``.

A rule reads a :class:`World` (what the daemon knows, rebuilt from the files) and says what should
happen; it writes nothing. ``actions.apply`` is the one place that acts. Every event and action
carries a stable ``key`` naming what it is about, so a restarted coordinator skips what its event
log already holds and never reports a thing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from squad.config import Access, Config
from squad.coordinator.state import LockView
from squad.coordinator.task_rules import done_tasks, rule_cascade, rule_reassign, rule_steal, rule_unblock
from squad.coordinator.world import (
    HANDOFF_REFUSED,
    PAUSED,
    RESUMED,
    STEAL,
    TASK_BLOCKED,
    TASK_UNBLOCKED,
    UNPROVEN_DONE,
    Action,
    AgentView,
    BreakLease,
    BreakStale,
    Item,
    MarkBlocked,
    MoveTasks,
    Notify,
    TransferOwnership,
    UnmarkBlocked,
    World,
    is_stale,
    live_lease,
    load,
    make_event,
    may_take,
    pick_target,
    plan_path,
    squad_own_file,
    stamp,
    task_of,
    unfinished,
    unstarted,
)
from squad.protocol import events as ev
from squad.protocol.comm import Status, StatusUpdate
from squad.protocol.ids import same_agent


# -- the rules ------------------------------------------------------------------------------------
def rule_ownership(world: World, now: datetime, config: Config) -> list[Item]:
    """A file an agent reports modifying that it may not write: outside what it owns, or a
    SEQUENTIAL file without its lease."""
    from squad.enforce.access import may_write

    out: list[Item] = []
    leases = [lv.lease for lv in world.locks if not lv.stale]
    for agent, update in world.fresh:
        for file in (*update.files_modified, *update.files_created):
            decision = may_write(world.paths, agent, file, now=now, config=config, matrix=world.matrix, leases=leases)
            if decision.allowed or _held_while_reporting(world, agent, update, file, decision.rule, config):
                continue
            key = f"violation:{agent}:{file}:{where(update.at, update.line)}"
            out.append(make_event(ev.VIOLATION, now, key, agent=agent, path=file, detail=decision.reason,
                              rule=decision.rule, owner=decision.owner, holder=decision.holder))  # fmt: skip
            fix = f" Fix: {decision.fix}." if decision.fix else ""
            out.append(Notify(key, agent, ev.VIOLATION, f"You modified {file}: {decision.reason}.{fix}"))
    return out


def _covers(lease_path: str, path: str) -> bool:
    if lease_path.endswith("/"):
        return path.startswith(lease_path) or path == lease_path.rstrip("/")
    return lease_path == path


def where(at: datetime | None, line: int) -> str:
    """A comm block's identity in an event key: its time; its line only when it has no time (an
    edit tool that rewrites the file shifts lines, and must not make old blocks news again)."""
    return stamp(at) if at is not None else f"-:{line}"


def _held_while_reporting(world: World, agent: str, update: StatusUpdate, file: str, rule: str, config: Config) -> bool:
    """A SEQUENTIAL file is fine if the agent held its lease since its previous report (it may
    have unlocked before posting the update that lists the file). A lease that was taken and
    released between two reads of ``locks/`` is known only by its path: it excuses any agent."""
    if rule not in ("sequential", "default", "resource"):
        return False
    at = update.at
    previous = _previous_report(world.agent(agent), update)
    since = previous if previous is not None else (at - timedelta(seconds=config.lock_ttl_s) if at else None)
    for lease, gone in world.released:
        if since is not None and gone < since:
            continue
        if lease.agent and same_agent(lease.agent, agent) and _covers(lease.path, file):
            return True
        if not lease.agent and _blip_covers(lease.path, file):  # seen only coming and going
            return True
    return False


def _previous_report(view: AgentView | None, update: StatusUpdate) -> datetime | None:
    """When ``view`` reported before ``update``: the nearest block above it in the comm file with
    an earlier time. The block asked about is among the file's last, so the walk from the end is
    short whatever the file's length."""
    if view is None or update.at is None:
        return None
    at = update.at
    updates = view.updates
    i = len(updates) - 1
    while i >= 0 and updates[i] is not update and updates[i].line != update.line:
        i -= 1
    if i < 0:  # not among the agent's blocks (never so from the coordinator): any earlier report
        return max((u.at for u in updates if u.at is not None and u.at < at), default=None)
    for j in range(i - 1, -1, -1):
        earlier = updates[j].at
        if earlier is not None and earlier < at:
            return earlier
    return None


def _blip_covers(target: str, file: str) -> bool:
    """A lease file's name covers ``file``: the file, a folder holding it, or (a flat hand-written
    lock) its basename."""
    return file == target or file.startswith(target.rstrip("/") + "/") or file.rsplit("/", 1)[-1] == target


def rule_worktree(world: World, now: datetime, config: Config) -> list[Item]:
    """In a shared checkout: a SEQUENTIAL file changed while nobody holds its lease, or a READONLY one."""
    out: list[Item] = []
    for file in world.changed_files:
        if squad_own_file(file):
            continue  # squad hooks install / uninstall
        rule = world.matrix.rule(file)
        if rule.access == Access.READONLY:
            why = f"{file} is read-only ({rule.pattern})"
        elif rule.access == Access.SEQUENTIAL and live_lease(world, file) is None:
            why = f"{file} is sequential and changed while nobody holds its lease"
        else:
            continue
        key = f"worktree:{file}:{world.extra.get('mtime:' + file, stamp(now))}"
        out.append(
            make_event(ev.VIOLATION, now, key, path=file, detail=why, rule=rule.access.lower(), source="worktree")
        )
    return out


def rule_agent_worktree(world: World, now: datetime, config: Config) -> list[Item]:
    """A file changed in a launched agent's own worktree (branch ``squad/<agent>``) that the agent may
    not write: another agent's EXCLUSIVE path, a READONLY one, or a SEQUENTIAL one without its lease."""
    out: list[Item] = []
    for agent, file in world.agent_changed:
        if squad_own_file(file):
            continue
        rule = world.matrix.rule(file)
        if rule.access == Access.READONLY:
            why = f"{file} is read-only ({rule.pattern})"
        elif rule.access == Access.EXCLUSIVE and not same_agent(rule.owner, agent):
            why = f"{file} is EXCLUSIVE to {rule.owner or 'nobody'} ({rule.pattern})"
        elif rule.access == Access.SEQUENTIAL:
            lease = live_lease(world, file)
            if lease is not None and same_agent(lease.lease.agent, agent):
                continue
            why = f"{file} is sequential and changed in {agent}'s worktree without its lease"
        else:
            continue
        key = f"agent-tree:{agent}:{file}:{world.extra.get(f'mtime:{agent}:{file}', stamp(now))}"
        out.append(make_event(ev.VIOLATION, now, key, agent=agent, path=file, detail=why, rule=rule.access.lower(),
                              source="agent worktree"))  # fmt: skip
        out.append(
            Notify(key, agent, ev.VIOLATION, f"{why}: undo it, or ask for the file (squad handoff / squad lock)")
        )
    return out


def rule_stale_leases(world: World, now: datetime, config: Config) -> list[Item]:
    stale = [lv for lv in world.locks if lv.stale]
    if not stale:
        return []
    return [BreakStale("break:" + ",".join(f"{lv.lease.path}@{stamp(lv.lease.acquired_at)}" for lv in stale))]


def rule_idle(world: World, now: datetime, config: Config) -> list[Item]:
    """No update for ``agent_idle_s``: ``agent_idle``; for ``agent_stale_s``: ``agent_stale``."""
    out: list[Item] = []
    for view in world.agents:
        s = view.state
        if s.idle_s is None or s.status in (Status.DONE, Status.FAILED):
            continue
        if s.idle_s >= config.agent_stale_s:
            key = f"stale:{s.id}:{stamp(s.last_update)}"
            out.append(make_event(ev.AGENT_STALE, now, key, agent=s.id, detail=f"no update for {int(s.idle_s)}s; its leases are stale",
                              idle_s=round(s.idle_s)))  # fmt: skip
        elif s.idle_s >= config.agent_idle_s:
            key = f"idle:{s.id}:{stamp(s.last_update)}"
            out.append(
                make_event(
                    ev.AGENT_IDLE,
                    now,
                    key,
                    agent=s.id,
                    detail=f"no update for {int(s.idle_s)}s",
                    idle_s=round(s.idle_s),
                )
            )
            out.append(
                Notify(
                    key,
                    s.id,
                    ev.AGENT_IDLE,
                    f"No status update from you for {int(s.idle_s)}s: post one (squad update).",
                )
            )
    return out


def rule_blocked(world: World, now: datetime, config: Config) -> list[Item]:
    """Each BLOCKED agent once per block and thing waited for, with what it waits for and who holds it."""
    out: list[Item] = []
    for view in world.agents:
        s = view.state
        if s.status is not Status.BLOCKED:
            continue
        holder = s.waiting_holder
        lease = live_lease(world, s.waiting_path) if s.waiting_path else None
        if lease is not None:
            holder = lease.lease.agent
        # What is waited for is part of the key: a later block (or the same block, grown) naming
        # another path or holder is news; the same wait reported again is not.
        key = f"blocked:{s.id}:{stamp(view.blocked_since or s.last_update)}"
        waited = s.waiting_path or s.waiting_for
        if waited or holder:
            key += f":{waited or '-'}" + (f":{holder}" if holder else "")
        detail = f"waiting for {s.waiting_for or 'something unnamed'}" + (f" (held by {holder})" if holder else "")
        out.append(make_event(ev.BLOCKED, now, key, agent=s.id, path=s.waiting_path, detail=detail, holder=holder))
        if holder and not same_agent(holder, s.id) and world.agent(holder) is not None:
            out.append(
                Notify(
                    key, holder, ev.BLOCKED, f"{s.id} is waiting for {s.waiting_path or s.waiting_for}, which you hold."
                )
            )
    return out


def wait_edges(world: World) -> dict[str, tuple[str, LockView]]:
    """The wait-for graph: a BLOCKED agent -> (the agent holding what it waits for, that lease)."""
    edges: dict[str, tuple[str, LockView]] = {}
    for view in world.agents:
        s = view.state
        if s.status is not Status.BLOCKED or not s.waiting_path:
            continue
        lease = live_lease(world, s.waiting_path)
        holder = world.agent(lease.lease.agent) if lease else None
        if lease is not None and holder is not None and not same_agent(holder.id, s.id):
            edges[s.id] = (holder.id, lease)
    return edges


def find_cycle(edges: dict[str, tuple[str, LockView]]) -> list[str] | None:
    """The first cycle in a graph where each node waits on at most one other (sorted start)."""
    for start in sorted(edges):
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in edges and node not in seen:
            seen.append(node)
            node = edges[node][0]
        if node is not None and node in seen:
            return seen[seen.index(node) :]
    return None


def rule_deadlock(world: World, now: datetime, config: Config) -> list[Item]:
    edges = wait_edges(world)
    cycle = find_cycle(edges)
    if not cycle:
        return []
    leases = [edges[a][1] for a in cycle]
    key = "deadlock:" + ",".join(sorted(f"{lv.lease.path}@{stamp(lv.lease.acquired_at)}" for lv in leases))
    ring = " -> ".join([*cycle, cycle[0]])
    out: list[Item] = []
    victim: LockView | None = None
    if config.deadlock_policy == "youngest":
        victim = max(leases, key=lambda lv: (lv.lease.acquired_at, lv.lease.path))
    elif config.deadlock_policy == "oldest":
        victim = min(leases, key=lambda lv: (lv.lease.acquired_at, lv.lease.path))
    detail = f"wait-for cycle {ring}"
    if victim is not None:
        detail += f"; released {victim.lease.path} held by {victim.lease.agent} ({config.deadlock_policy})"
        out.append(BreakLease(key, victim.lease.path, victim.lease.agent, f"deadlock {ring}", victim.lease.acquired_at))
        out.append(Notify(key, victim.lease.agent, ev.DEADLOCK,
                          f"Deadlock {ring}: your lease on {victim.lease.path} was released; lock it again when it is free."))  # fmt: skip
    out.append(make_event(ev.DEADLOCK, now, key, detail=detail, cycle=cycle, policy=config.deadlock_policy,
                      released=victim.lease.path if victim else None))  # fmt: skip
    return out


def rule_handoffs(world: World, now: datetime, config: Config) -> list[Item]:
    """A handoff request moves the file's ownership where the matrix allows, and unblocks tasks."""
    out: list[Item] = []
    for view in world.agents:
        for h in view.handoffs:
            sender = h.from_agent or view.id
            receiver = world.agent(h.to_agent)
            if not h.file or receiver is None:
                continue
            key = f"handoff:{sender}:{receiver.id}:{h.file}:{where(h.at, h.line)}"
            rule = world.matrix.rule(h.file)
            if rule.access == Access.READONLY or (rule.access == Access.EXCLUSIVE and rule.owner and not same_agent(rule.owner, sender)
                                             and not same_agent(rule.owner, receiver.id)):  # fmt: skip
                why = f"{h.file} is {rule.access}" + (f" owned by {rule.owner}" if rule.owner else "")
                out.append(make_event(HANDOFF_REFUSED, now, key, agent=sender, path=h.file, detail=why, to=receiver.id))
                out.append(
                    Notify(key, sender, HANDOFF_REFUSED, f"Handoff of {h.file} to {receiver.id} refused: {why}.")
                )
                continue
            unblock = _waiting_on_handoff(receiver, sender, h.file)
            out.append(TransferOwnership(key, h.file, sender, receiver.id, rule.access == Access.EXCLUSIVE, unblock))
            tasks = ", ".join(t for _, t in unblock)
            out.append(make_event(ev.HANDOFF, now, key, agent=sender, path=h.file, detail=f"{sender} -> {receiver.id}",
                              to=receiver.id, access=rule.access, unblocked=[t for _, t in unblock]))  # fmt: skip
            out.append(Notify(key, receiver.id, ev.HANDOFF, f"{sender} handed {h.file} to you ({h.status or 'ready'})."
                              + (f" Tasks {tasks} may start." if tasks else "")))  # fmt: skip
    return out


def _waiting_on_handoff(receiver: AgentView, sender: str, file: str) -> tuple[tuple[str, str], ...]:
    if receiver.plan is None:
        return ()
    waiting = {h.task for h in receiver.plan.handoffs_in if same_agent(h.agent, sender) and h.file in (None, file)}
    blocked = receiver.plan.extra.get("blocked") or {}
    if isinstance(blocked, dict):
        waiting |= {str(t) for t, why in blocked.items() if file in str(why) or sender in str(why)}
    ids = {t.id for t in receiver.plan.tasks}
    deps = {t.id for t in receiver.plan.tasks if any(d in waiting for d in t.depends_on)}
    return tuple((receiver.id, t) for t in sorted((waiting & ids) | deps | (waiting - ids)))


def rule_stuck(world: World, now: datetime, config: Config) -> list[Item]:
    """Three FAILED reports on one task escalate to the human."""
    out: list[Item] = []
    for view in world.agents:
        counts: dict[str, int] = {}
        for text, times in view.failures:  # kept as the blocks come: no walk over the comm file
            task = task_of(text, view.plan) if text != "?" else None
            name = task.id if task else text.split()[0] if text.split() else "?"
            counts[name] = counts.get(name, 0) + times
        for name, count in counts.items():
            if count >= 3:
                key = f"stuck:{view.id}:{name}"
                out.append(make_event(ev.STUCK, now, key, agent=view.id, detail=f"{name} failed {count} times: a human should look",
                                  task=name, failures=count))  # fmt: skip
    return out


def rule_evidence(world: World, now: datetime, config: Config) -> list[Item]:
    """With ``require_evidence``, a DONE without a passing evidence command is flagged."""
    if not config.require_evidence:
        return []
    out: list[Item] = []
    for agent, update in world.fresh:
        if update.status is Status.DONE and update.evidence_exit != 0:
            key = f"evidence:{agent}:{where(update.at, update.line)}"
            why = (
                "no evidence"
                if update.evidence_exit is None
                else f"evidence {update.evidence!r} exited {update.evidence_exit}"
            )
            out.append(make_event(UNPROVEN_DONE, now, key, agent=agent, detail=f"DONE with {why}"))
            out.append(
                Notify(
                    key,
                    agent,
                    UNPROVEN_DONE,
                    f"DONE needs passing evidence ({why}): squad update --status DONE --evidence CMD.",
                )
            )
    return out


Rule = Callable[[World, datetime, Config], list[Item]]
RULES: tuple[Rule, ...] = (
    rule_ownership,
    rule_worktree,
    rule_agent_worktree,
    rule_stale_leases,
    rule_idle,
    rule_blocked,
    rule_deadlock,
    rule_handoffs,
    rule_cascade,
    rule_unblock,
    rule_reassign,
    rule_steal,
    rule_stuck,
    rule_evidence,
)


def run_rules(world: World, now: datetime, config: Config, rules: tuple[Rule, ...] = RULES) -> list[Item]:
    out: list[Item] = []
    for rule in rules:
        out.extend(rule(world, now, config))
    return _one_move_per_task(out)


def _one_move_per_task(items: list[Item]) -> list[Item]:
    """A task moves at most once per decision: when two rules move the same task (a stale agent's
    task reassigned and stolen in one round), the first move stands and the later one is dropped
    with its event and notices (they share its key)."""
    moved: set[str] = set()
    dropped: set[str] = set()
    for item in items:
        if isinstance(item, MoveTasks):
            tasks = set(item.task_ids)
            if tasks & moved:
                dropped.add(item.key)
            else:
                moved.update(tasks)
    return [i for i in items if not (dropped and i.key in dropped)]


__all__ = [
    "HANDOFF_REFUSED",
    "PAUSED",
    "RESUMED",
    "RULES",
    "STEAL",
    "TASK_BLOCKED",
    "TASK_UNBLOCKED",
    "UNPROVEN_DONE",
    "Action",
    "AgentView",
    "BreakLease",
    "BreakStale",
    "Item",
    "MarkBlocked",
    "MoveTasks",
    "Notify",
    "Rule",
    "TransferOwnership",
    "UnmarkBlocked",
    "World",
    "done_tasks",
    "find_cycle",
    "is_stale",
    "load",
    "may_take",
    "pick_target",
    "plan_path",
    "run_rules",
    "task_of",
    "unfinished",
    "unstarted",
    "wait_edges",
]
