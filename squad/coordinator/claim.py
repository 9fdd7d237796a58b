"""The one coordinator that acts for a squad spread over hosts (``store: etcd://...``).

Every host runs a coordinator: it shares its agents' comm files and keeps its own reports. Only
one of them *acts* (logs judgments, writes notices, moves tasks, changes the matrix): the one
holding the key ``/squad/<name>/control/coordinator``, tied to an etcd lease of ``claim_ttl_s``
(default 10 s) that it keeps alive. The others follow: their event log and coordinator comm are
fed from the acting host's (``squad.coordinator.mirror``). When the acting coordinator stops,
its key is deleted at once; when it dies or loses etcd, its lease runs out and another takes the
key within one TTL.

Fails closed: a coordinator that cannot reach etcd, or has not renewed its claim for half the
TTL, stops acting at once (an unreachable coordinator that still acted could act beside the one
that took over).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from squad.errors import SquadError

if TYPE_CHECKING:
    from squad.leases.etcd import EtcdLeases

log = logging.getLogger("squad.coordinator")

DEFAULT_CLAIM_TTL_S = 10.0


class CoordinatorClaim(threading.Thread):
    """Hold, or wait for, the squad's coordinator key; ``acting()`` says whether this host acts."""

    def __init__(self, leases: EtcdLeases, origin: str, *, ttl_s: float = DEFAULT_CLAIM_TTL_S) -> None:
        super().__init__(name="squad-coordinator-claim", daemon=True)
        from squad.coordinator.control import control_prefix

        self.leases = leases
        self.origin = origin
        self.ttl_s = max(2.0, ttl_s)
        self.key = control_prefix(leases.prefix) + "coordinator"
        self.holder: str | None = None  # who holds the key, as last read (this host's origin when it does)
        self._etcd_lease = 0
        self._renewed_at = 0.0  # monotonic: when the claim was last confirmed
        self._stopping = threading.Event()
        self.on_change: Callable[[], None] | None = None  # told (on this thread) of each change of role

    # -- the role ----------------------------------------------------------------------------------

    def acting(self) -> bool:
        """Whether this coordinator acts for the squad now: it holds the key, confirmed within
        half the TTL (the other half is the margin before another host may take it)."""
        return self.holder == self.origin and time.monotonic() - self._renewed_at < self.ttl_s / 2

    # -- the thread ----------------------------------------------------------------------------------

    def run(self) -> None:
        while not self._stopping.is_set():
            before = self.acting()
            try:
                self.keep()
            except SquadError as exc:
                if self.holder == self.origin:
                    log.warning("coordinator claim not renewed (%s): no longer acting for the squad", exc)
                self.holder = None
            if self.acting() != before:
                log.info("%s for the squad", "acting" if self.acting() else f"following {self.holder or 'nobody'}")
                if self.on_change is not None:
                    self.on_change()
            self._stopping.wait(self.ttl_s / 4)

    def stop(self) -> None:
        """Give the claim up at once (delete the key if it is ours), so another host acts now."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=10)
        if self.holder == self.origin:
            from squad.leases.etcd import _b64

            with contextlib.suppress(SquadError):
                self.leases._txn(
                    "give up the coordinator claim",
                    [self._is_ours()],
                    [{"request_delete_range": {"key": _b64(self.key)}}],
                )
        if self._etcd_lease:
            self.leases._revoke(self._etcd_lease)
        self.holder, self._etcd_lease = None, 0

    # -- one round -------------------------------------------------------------------------------

    def keep(self) -> None:
        """Renew the claim if this host holds it, else take it if nobody does."""
        if self.holder == self.origin and self._etcd_lease and self._refresh():
            return
        self._take()

    def _refresh(self) -> bool:
        reply = self.leases._post("renew the coordinator claim", "/lease/keepalive", {"ID": self._etcd_lease})
        ttl = int((reply.get("result") or {}).get("TTL", 0) or 0)
        if ttl <= 0:
            return False  # the lease ran out (this process was stopped, or etcd was away too long)
        self._renewed_at = time.monotonic()
        return True

    def _take(self) -> None:
        from squad.leases.etcd import _b64, _unb64

        lease = self.leases._grant(self.ttl_s)
        value = _b64(json.dumps({"origin": self.origin}))
        put = {"request_put": {"key": _b64(self.key), "value": value, "lease": str(lease)}}
        started = time.monotonic()
        # Free, or ours from before a restart of this coordinator: take it with the new lease.
        nobody = {"key": _b64(self.key), "target": "CREATE", "result": "EQUAL", "create_revision": "0"}
        took, _ = self.leases._txn("claim the coordinator", [nobody], [put])
        if not took:
            took, _ = self.leases._txn("claim the coordinator", [self._is_ours()], [put])
        if took:
            if self._etcd_lease:
                self.leases._revoke(self._etcd_lease)
            self._etcd_lease, self.holder, self._renewed_at = lease, self.origin, started
            return
        self.leases._revoke(lease)
        reply = self.leases._range("read the coordinator claim", self.key)
        found = reply.get("kvs", [])
        self.holder = _origin(_unb64(found[0].get("value", ""))) if found else None

    def _is_ours(self) -> dict[str, Any]:
        from squad.leases.etcd import _b64

        value = _b64(json.dumps({"origin": self.origin}))
        return {"key": _b64(self.key), "target": "VALUE", "result": "EQUAL", "value": value}


def _origin(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return str(data.get("origin")) if isinstance(data, dict) and data.get("origin") else None
