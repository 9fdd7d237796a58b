"""The one place the coordinator writes: events, notices, plan and ownership rewrites, the status report.

Each write is atomic (plans, ``ownership.yaml``, ``reports/status.md``) or a whole-block append
(``events.jsonl``, ``coordinator-comm.md``). Actions run before their events are logged, so a crash
in between redoes an action (each is idempotent) rather than losing one.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime

from squad.atomic import append_lines, write_atomic
from squad.config import Access, Config
from squad.coordinator import rules
from squad.coordinator.state import Snapshot
from squad.errors import SquadError
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import format_notice
from squad.protocol.ids import same_agent
from squad.protocol.ownership import Entry, load_matrix, write_matrix
from squad.protocol.plan import Plan, read_plan, write_plan

log = logging.getLogger("squad.coordinator")


def apply(paths: SquadPaths, config: Config, items: list[rules.Item], now: datetime) -> list[ev.Event]:
    """Carry out ``items``; return the events logged (locks log their own ``lock_broken``)."""
    notices: list[str] = []
    events = [i for i in items if isinstance(i, ev.Event)]
    for item in items:
        if isinstance(item, ev.Event):
            continue
        try:
            notices.extend(_apply_one(paths, config, item, now))
        except (SquadError, OSError) as exc:
            log.warning("could not apply %s: %s", type(item).__name__, exc)
    # The coordinator's own records, not flushed to disk one by one (see append_lines): a restart
    # judges again from its checkpoint what a power cut lost.
    ev.append_events(paths.events, events, fsync=False)
    if notices:
        append_lines(paths.coordinator_comm, "".join(notices), fsync=False)
    return events


def _notice(to: str, kind: str, text: str, now: datetime) -> str:
    return format_notice(to_agent=to, at=now, kind=kind, text=text)


def _apply_one(paths: SquadPaths, config: Config, item: rules.Action, now: datetime) -> list[str]:
    from squad.leases import locks

    if isinstance(item, rules.Notify):
        return [_notice(item.to, item.kind, item.text, now)]
    if isinstance(item, rules.BreakStale):
        broken = locks.break_stale(paths, now, config=config)
        return [
            _notice(b.lease.agent, ev.LOCK_BROKEN, f"Your lease on {b.lease.path} was broken: {b.reason}.", now)
            for b in broken
        ]
    if isinstance(item, rules.BreakLease):
        locks.break_lease(
            paths, item.target, item.reason, now=now, by="coordinator", holder=item.holder, acquired_at=item.acquired_at
        )
        return []
    if isinstance(item, rules.MoveTasks):
        move_tasks(paths, item.source, item.target, item.task_ids, item.files, now=now)
        return []
    if isinstance(item, rules.TransferOwnership):
        transfer(paths, item)
        return []
    if isinstance(item, rules.MarkBlocked):
        mark_blocked(paths, item.agent, item.task, item.reason)
        return []
    if isinstance(item, rules.UnmarkBlocked):
        unmark_blocked(paths, item.agent, item.task, item.reason)
        return []
    raise AssertionError(item)


def _plan(paths: SquadPaths, agent: str) -> Plan | None:
    path = rules.plan_path(paths, agent)
    return read_plan(path) if path.exists() else None


def _give(paths: SquadPaths, files: tuple[str, ...], to: str) -> None:
    """Append ``file: {owner: to}`` entries to ``ownership.yaml`` (last match wins); no-op if it says so."""
    if not files or not paths.ownership.exists():
        return
    matrix = load_matrix(paths.ownership)
    entries = list(matrix.entries)
    for file in files:
        rule = matrix.rule(file)
        if rule.access == Access.EXCLUSIVE and same_agent(rule.owner, to):
            continue
        entries = [e for e in entries if e.pattern.lstrip("/") != file]
        entries.append(Entry(file, to, Access.EXCLUSIVE))
    if entries != list(matrix.entries):
        write_matrix(paths.ownership, matrix.with_entries(entries))


def move_tasks(paths: SquadPaths, source: str, target: str, task_ids: tuple[str, ...], files: tuple[str, ...],
               *, now: datetime | None = None) -> None:  # fmt: skip
    """Move tasks between plans. The target is written first: a crash leaves a task twice, never nowhere.

    Both plans' bodies (what the agents read) get a ``## Changes from the coordinator`` section at
    their end, regenerated on each move: the tasks received (and from whom), the tasks moved away.
    """
    src, dst = _plan(paths, source), _plan(paths, target)
    if src is None or dst is None:
        raise SquadError(f"cannot move {', '.join(task_ids)}: {source} or {target} has no plan")
    moving = [t for t in src.tasks if t.id in task_ids]
    have = {t.id for t in dst.tasks}
    owns = tuple(dict.fromkeys((*dst.owns, *files)))
    # The failure cascade's marks travel with their tasks.
    src_marks = _marks(src)
    dst_marks = _marks(dst)
    carried = {k: v for k, v in src_marks.items() if str(k) in task_ids}
    dst_extra = {**dst.extra, "blocked": {**dst_marks, **carried}} if carried else dst.extra
    when = stamp_text(now)
    got = {
        t.id: f"- Received **{t.id}** {t.title}" + (f" (files: {', '.join(t.files)})" if t.files else "")
        + f" from {src.agent}{when}: it is yours now."
        for t in moving
    }  # fmt: skip
    gone = {t.id: f"- Moved away **{t.id}** {t.title} to {dst.agent}{when}: skip it." for t in moving}
    _give(paths, files, target)
    write_plan(
        rules.plan_path(paths, target),
        replace(dst, tasks=(*dst.tasks, *(t for t in moving if t.id not in have)), owns=owns, extra=dst_extra,
                body=with_changes(dst.body, got)),
    )  # fmt: skip
    rest = src.with_tasks(tuple(t for t in src.tasks if t.id not in task_ids))
    rest = replace(rest, body=with_changes(rest.body, gone))
    if carried:
        left = {k: v for k, v in src_marks.items() if str(k) not in task_ids}
        extra = {**rest.extra, "blocked": left} if left else {k: v for k, v in rest.extra.items() if k != "blocked"}
        rest = replace(rest, extra=extra)
    write_plan(rules.plan_path(paths, source), rest)


CHANGES_HEADING = "## Changes from the coordinator"
_CHANGE_LINE = re.compile(r"- (?:Received|Moved away) \*\*(\S+)\*\*")


def stamp_text(now: datetime | None) -> str:
    from squad.protocol.times import format_time

    return f" at {format_time(now)}" if now is not None else ""


def with_changes(body: str, changes: dict[str, str]) -> str:
    """``body`` with its ``## Changes from the coordinator`` section (always last) regenerated:
    the lines already there plus ``changes`` (task id -> line), one line per task, the newest kept."""
    text = body.rstrip("\n")
    index = text.find(CHANGES_HEADING)
    kept: dict[str, str] = {}
    if index >= 0 and (index == 0 or text[index - 1] == "\n"):
        for line in text[index + len(CHANGES_HEADING) :].splitlines():
            if m := _CHANGE_LINE.match(line):
                kept[m.group(1)] = line
        text = text[:index].rstrip("\n")
    for task_id, line in changes.items():
        kept.pop(task_id, None)
        kept[task_id] = line
    if not kept:
        return text + "\n" if text else ""
    intro = "The coordinator moved tasks since this plan was written; this section wins over the text above."
    section = "\n".join([CHANGES_HEADING, "", intro, "", *kept.values()])
    return (text + "\n\n" if text else "") + section + "\n"


def _marks(plan: Plan) -> dict[str, object]:
    marks = plan.extra.get("blocked")
    return {str(k): v for k, v in marks.items()} if isinstance(marks, dict) else {}


def transfer(paths: SquadPaths, item: rules.TransferOwnership) -> None:
    """A handoff: the receiver owns the file (when EXCLUSIVE), and its wait for it ends."""
    if item.exclusive:
        _give(paths, (item.file,), item.to_agent)
    receiver = _plan(paths, item.to_agent)
    if receiver is not None:
        unblocked = {task for _, task in item.unblock}
        blocked = receiver.extra.get("blocked")
        extra = dict(receiver.extra)
        if isinstance(blocked, dict):
            rest = {k: v for k, v in blocked.items() if str(k) not in unblocked}
            if rest:
                extra["blocked"] = rest
            else:
                extra.pop("blocked", None)
        handoffs_in = tuple(
            h
            for h in receiver.handoffs_in
            if not (same_agent(h.agent, item.from_agent) and h.file in (None, item.file))
        )
        owns = (*receiver.owns, item.file) if item.exclusive and item.file not in receiver.owns else receiver.owns
        write_plan(
            rules.plan_path(paths, item.to_agent), replace(receiver, extra=extra, handoffs_in=handoffs_in, owns=owns)
        )
    sender = _plan(paths, item.from_agent)
    if sender is not None:
        out = tuple(
            h for h in sender.handoffs_out if not (same_agent(h.agent, item.to_agent) and h.file in (None, item.file))
        )
        owns = tuple(o for o in sender.owns if o != item.file) if item.exclusive else sender.owns
        if out != sender.handoffs_out or owns != sender.owns:
            write_plan(rules.plan_path(paths, item.from_agent), replace(sender, handoffs_out=out, owns=owns))


def mark_blocked(paths: SquadPaths, agent: str, task: str, reason: str) -> None:
    plan = _plan(paths, agent)
    if plan is None:
        return
    blocked = dict(plan.extra.get("blocked") or {})
    if blocked.get(task) == reason:
        return
    blocked[task] = reason
    write_plan(rules.plan_path(paths, agent), replace(plan, extra={**plan.extra, "blocked": blocked}))


def write_report(paths: SquadPaths, snap: Snapshot) -> None:
    from squad.views.report import markdown_status

    write_atomic(paths.status_report, markdown_status(snap), fsync=False)  # rebuilt every cycle


def unmark_blocked(paths: SquadPaths, agent: str, task: str, reason: str) -> None:
    plan = _plan(paths, agent)
    if plan is None:
        return
    blocked = dict(plan.extra.get("blocked") or {})
    if str(blocked.get(task)) != reason:
        return
    del blocked[task]
    extra = {**plan.extra, "blocked": blocked} if blocked else {k: v for k, v in plan.extra.items() if k != "blocked"}
    write_plan(rules.plan_path(paths, agent), replace(plan, extra=extra))
