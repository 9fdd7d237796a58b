"""Leases their holder no longer holds: expired, broken, or taken by someone else.

A holder that keeps working on a file after its lease went away is the one case the lease
protocol cannot stop by itself, so whoever remembers which leases an agent took (the MCP server,
a long-running wrapper) asks ``lost_leases`` and tells the agent. Released leases are not lost:
``logs/leases.jsonl`` says the holder let go itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from squad.leases.locks import released_since, same_holder, survey
from squad.paths import SquadPaths
from squad.protocol.lease import Lease
from squad.protocol.times import format_time

if TYPE_CHECKING:
    from squad.config import Config

__all__ = ["Lost", "Reckoning", "lost_by", "lost_leases", "tell_lost"]

RECENT_GRANTS = 500  # how far back in the grant log a holder's leases are looked for

_SAME_GRANT_S = 0.001  # lease files keep milliseconds: one grant read back equals itself to within this


@dataclass(frozen=True)
class Lost:
    """A lease its holder believed it held, and why it no longer does (one line)."""

    lease: Lease
    why: str

    def notice(self) -> str:
        return f"notice: your lease on {self.lease.path} is gone ({self.why}): lock it again before editing it"


@dataclass(frozen=True)
class Reckoning:
    """What became of the leases a holder believed it held."""

    held: tuple[Lease, ...]  # still held, as they are now (renewals seen)
    lost: tuple[Lost, ...]


def _same_grant(a: Lease, b: Lease) -> bool:
    return same_holder(a.agent, b.agent) and abs((a.acquired_at - b.acquired_at).total_seconds()) <= _SAME_GRANT_S


def lost_leases(
    paths: SquadPaths,
    known: Sequence[Lease],
    now: datetime,
    *,
    current: Sequence[Lease] | None = None,
    config: Config | None = None,
) -> Reckoning:
    """Split ``known`` (leases one holder was granted) into those it still holds and those it lost.

    Lost: the lease expired (even if nobody broke it yet: anyone may now), was broken (stale or
    ``--force``; the ``lock_broken`` event says why and by whom), or its file is gone or holds
    another agent's lease. A lease the holder released, or took again since, is neither.
    Unreadable lease files are passed over: whose they are cannot be told. ``current`` is every
    lease now (``survey(...).leases``), when the caller read them already.
    """
    if not known:
        return Reckoning((), ())
    if current is None:
        current = survey(paths, config=config).leases
    now_held = {lease.path: lease for lease in current}
    held: list[Lease] = []
    gone: list[Lease] = []
    for lease in known:
        now_there = now_held.get(lease.path)
        if now_there is not None and same_holder(now_there.agent, lease.agent):
            held.append(now_there)  # the same grant renewed, or taken again since: still the holder's
        else:
            gone.append(lease)
    lost = [Lost(lease, f"it expired at {format_time(lease.expires_at)}") for lease in held if lease.expired(now)]
    held = [lease for lease in held if not lease.expired(now)]
    if gone:
        oldest = min(lease.acquired_at for lease in gone)
        released = [r for r, _ in released_since(paths, oldest.replace(microsecond=0))]
        for lease in gone:
            if any(_same_grant(r, lease) and r.path == lease.path for r in released):
                continue  # let go by its holder (the CLI, another session): nothing was lost
            lost.append(Lost(lease, _why_gone(paths, lease, now_held.get(lease.path))))
    return Reckoning(tuple(held), tuple(lost))


def _why_gone(paths: SquadPaths, lease: Lease, now_there: Lease | None) -> str:
    from squad.protocol import events as ev

    since = lease.acquired_at.replace(microsecond=0)  # events keep whole seconds
    broken = [
        e
        for e in ev.read_events(paths.events)
        if e.kind == ev.LOCK_BROKEN and e.path == lease.path and e.agent and same_holder(e.agent, lease.agent)
        and e.at >= since
    ]  # fmt: skip
    if broken:
        last = broken[-1]
        by = last.data.get("by")
        who = f" by {by}" if by and not same_holder(str(by), lease.agent) else ""
        text = f"broken{who}: {last.detail}" if last.detail else f"broken{who}"
    else:
        # Nothing here says why: on the files someone removed it by hand; on etcd its TTL ran out
        # (or another host broke it).
        text = "it expired" if _remote_store(paths) else "its lease file was removed"
    if now_there is not None:
        text += f"; {now_there.agent} holds it now"
    return text


def lost_by(paths: SquadPaths, agent: str, now: datetime, *, untold: bool = False) -> list[Lost]:
    """The leases ``agent`` was granted lately (the newest grant of each path, from the grant log)
    and has lost: expired, broken, or taken by another agent. ``untold``: only those not yet told
    (``tell_lost`` records the ones it told)."""
    from squad.leases.locks import grants

    latest: dict[str, Lease] = {}
    for grant in grants(paths, recent=RECENT_GRANTS):
        if same_holder(grant.agent, agent):
            latest[grant.path.strip("/")] = grant
    known = list(latest.values())
    if untold and known:
        told = _told(paths)
        known = [g for g in known if g.token not in told]
    return list(lost_leases(paths, known, now).lost)


def tell_lost(paths: SquadPaths, agent: str, now: datetime) -> list[Lost]:
    """Tell ``agent`` of each lease it lost and was not told of yet: a coordinator notice addressed
    to it (``comms/coordinator-comm.md``) and a line in ``logs/lost.jsonl``, so it is told once.
    ``squad update`` calls this; the lines it returns are for the caller to show."""
    import json

    from squad.atomic import append_lines
    from squad.protocol.comm import format_notice

    lost = lost_by(paths, agent, now, untold=True)
    for item in lost:
        append_lines(
            paths.coordinator_comm, format_notice(to_agent=agent, at=now, kind="lease_lost", text=item.notice())
        )
        record = {"token": item.lease.token, "agent": agent, "path": item.lease.path, "why": item.why,
                  "told_at": format_time(now, precise=True)}  # fmt: skip
        append_lines(paths.lost_log, json.dumps(record))
    return lost


def _told(paths: SquadPaths) -> set[int]:
    import json

    try:
        lines = (paths.lost_log).read_bytes().splitlines()
    except OSError:
        return set()
    told = set()
    for raw in lines:
        try:
            token = json.loads(raw).get("token")
        except (ValueError, AttributeError):
            continue
        if isinstance(token, int):
            told.add(token)
    return told


def _remote_store(paths: SquadPaths) -> bool:
    from squad.store import store_of

    return store_of(paths).kind != "files"
