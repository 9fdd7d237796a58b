"""Leases: who may edit a shared file or folder now, under ``.squad/locks/``.

``locks`` acquires, renews, releases and breaks them under one mutex; ``_scan`` reads the lease files
as they are on disk, ``_stale`` judges and breaks stale ones, ``_wait`` wakes a ``squad lock --wait``,
``lost`` tells a holder which of its leases went away (expired, broken, taken).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from squad._lazy import exports

if TYPE_CHECKING:
    from squad.leases.locks import (
        Broken,
        LockHeld,
        Survey,
        acquire,
        break_lease,
        break_stale,
        conflicts,
        held,
        lease_stale_reason,
        mutex,
        release,
        released_since,
        renew,
        renew_all,
        same_holder,
        survey,
    )
    from squad.leases.lost import Lost, Reckoning, lost_leases

_WHERE = {
    "Broken": "squad.leases.locks",
    "LockHeld": "squad.leases.locks",
    "Survey": "squad.leases.locks",
    "acquire": "squad.leases.locks",
    "break_lease": "squad.leases.locks",
    "break_stale": "squad.leases.locks",
    "conflicts": "squad.leases.locks",
    "held": "squad.leases.locks",
    "lease_stale_reason": "squad.leases.locks",
    "mutex": "squad.leases.locks",
    "release": "squad.leases.locks",
    "released_since": "squad.leases.locks",
    "renew": "squad.leases.locks",
    "renew_all": "squad.leases.locks",
    "same_holder": "squad.leases.locks",
    "survey": "squad.leases.locks",
    "Lost": "squad.leases.lost",
    "Reckoning": "squad.leases.lost",
    "lost_leases": "squad.leases.lost",
}
__all__ = [
    "Broken",
    "LockHeld",
    "Lost",
    "Reckoning",
    "Survey",
    "acquire",
    "break_lease",
    "break_stale",
    "conflicts",
    "held",
    "lease_stale_reason",
    "lost_leases",
    "mutex",
    "release",
    "released_since",
    "renew",
    "renew_all",
    "same_holder",
    "survey",
]


__getattr__ = exports(__name__, _WHERE)
