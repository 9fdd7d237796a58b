"""Leases in etcd, for a squad whose agents run on several machines (``store: etcd://...``).

One key per lease, ``/squad/<name>/locks/<target>``, holding squad's lease JSON and tied to an etcd
lease with the lease's TTL: a holder that dies loses its lease when the TTL runs out, with no
coordinator needed. A grant is one transaction, taken optimistically: read every lease at revision
R, refuse if a live conflicting one exists (the path itself, a folder lease above it, a lease below
it), else put the key *only if* none of those keys changed after R (etcd compares a whole key range
in one transaction). Two hosts racing for conflicting targets cannot both pass that compare: the
second put sees the first key's newer revision and reads again. The fencing token of a grant is the
revision that created its key, a number etcd never gives twice and only ever raises.

Every call that cannot reach etcd fails closed: no grant, no local fallback, one line naming the
endpoints (``StoreDown``, exit 2). Endpoints are tried in the order given; a cluster member that
is down or has lost its quorum is passed over for the next.

Imported only when the store is etcd: the files backend never pays for ``requests``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from squad.errors import Refused, SquadError
from squad.paths import SquadPaths
from squad.protocol.lease import Lease, parse_lease
from squad.protocol.times import format_time
from squad.protocol.times import now as utcnow
from squad.store import Store, squad_name

if TYPE_CHECKING:
    from etcd3gw.client import Etcd3Client

    from squad.leases.locks import Broken, Survey

T = TypeVar("T")
log = logging.getLogger("squad")
TIMEOUT_S = 3.0  # per request; a member that does not answer in this is passed over
_ATTEMPTS = 200  # optimistic grants retried while other grants land between the read and the put


class StoreDown(SquadError):
    """etcd cannot be reached or has no quorum: nothing was granted or changed (exit 2)."""


@dataclass(frozen=True)
class Held:
    """One lease key as etcd holds it."""

    key: str
    lease: Lease
    mod_revision: int
    etcd_lease: int


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _unb64(text: str) -> str:
    return base64.b64decode(text).decode("utf-8")


def _parts(target: str) -> list[str]:
    return [p for p in target.strip("/").split("/") if p]


class EtcdLeases:
    """``acquire``, ``release``, ``renew``, ``survey`` and ``break_lease`` against an etcd cluster,
    with the semantics of ``squad.leases.locks`` (which calls in here when the store is etcd)."""

    def __init__(self, paths: SquadPaths, store: Store) -> None:
        try:
            from etcd3gw.client import Etcd3Client
        except ImportError:  # pragma: no cover - the etcd extra not installed
            raise SquadError(
                f"the store is {store.url}, which needs the etcd client: pip install 'squad-agents[etcd]'"
            ) from None
        self.paths = paths
        self.store = store
        squad = f"/squad/{store.name or squad_name(paths.root)}/"
        self.prefix = squad + "locks/"
        self.grants_prefix = squad + "grants/"  # one record per grant, kept: its create revision is its token
        self._clients = [Etcd3Client(host, port, timeout=TIMEOUT_S, api_path="/v3/") for host, port in store.endpoints]
        self._first = 0  # the endpoint that answered last: asked first next time

    # -- talking to etcd ------------------------------------------------------------------------

    def _call(self, what: str, request: Callable[[Etcd3Client], T]) -> T:
        from etcd3gw import exceptions

        errors = []
        count = len(self._clients)
        for i in range(count):
            index = (self._first + i) % count
            client = self._clients[index]
            try:
                result = request(client)
            except (exceptions.Etcd3Exception, OSError, ValueError, TypeError) as exc:
                errors.append(f"{client.host}:{client.port}: {_short(exc)}")
                continue
            self._first = index
            return result
        raise StoreDown(f"cannot {what}: etcd does not answer ({'; '.join(errors)}); nothing was granted or changed")

    def _post(self, what: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        def request(client: Etcd3Client) -> dict[str, Any]:
            reply = client.post(client.get_url(path), json=body)
            if not isinstance(reply, dict):
                raise TypeError(f"unexpected reply {reply!r}")
            return reply

        return self._call(what, request)

    def _key(self, target: str) -> str:
        if target.startswith("@"):
            return self.prefix + target.lower()
        return self.prefix + "/".join(_parts(target))

    def _read(self, what: str) -> tuple[int, list[Held], list[tuple[str, SquadError]]]:
        """Every lease key at one revision: (revision, readable leases, unreadable ones)."""
        reply = self._range(what, self.prefix)
        revision = int(reply.get("header", {}).get("revision", 0))
        held, unreadable = [], []
        for kv in reply.get("kvs", []):
            key = _unb64(kv["key"])
            target = key[len(self.prefix) :]
            where = Path(f"etcd:{key}")
            try:
                data = json.loads(_unb64(kv.get("value", "")))
                lease = parse_lease(json.dumps(data), where, target, float(data.get("ttl_s", 0) or 1), None)
            except (ValueError, TypeError, AttributeError, SquadError) as exc:
                err = exc if isinstance(exc, SquadError) else SquadError(f"unreadable lease: {exc}", path=where)
                unreadable.append((target, err))
                continue
            lease = replace(lease, token=int(kv.get("create_revision", 0)) or None)
            held.append(Held(key, lease, int(kv.get("mod_revision", 0)), int(data.get("etcd_lease", 0) or 0)))
        return revision, held, unreadable

    def _range(self, what: str, prefix: str, *, last: int | None = None) -> dict[str, Any]:
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        body: dict[str, Any] = {"key": _b64(prefix), "range_end": _b64(end)}
        if last is not None:  # the keys sort by time: the newest ``last`` of them
            body.update({"limit": str(last), "sort_order": "DESCEND", "sort_target": "KEY"})
        return self._post(what, "/kv/range", body)

    def grants(self, *, recent: int | None = None) -> list[Lease]:
        """Every grant recorded (or the ``recent`` newest), oldest token first (``locks.grants``)."""
        from squad.protocol.times import parse_time

        out = []
        for kv in self._range("read the grants", self.grants_prefix, last=recent).get("kvs", []):
            try:
                data = json.loads(_unb64(kv.get("value", "")))
                at = parse_time(str(data["acquired_at"]))
            except (ValueError, KeyError, TypeError):
                continue
            if at is None:
                continue
            token = int(kv.get("create_revision", 0))
            out.append(Lease(agent=str(data["agent"]), path=str(data["path"]), acquired_at=at, expires_at=at,
                             ttl_s=0.0, host=data.get("host"), token=token))  # fmt: skip
        return sorted(out, key=lambda g: g.token or 0)

    def _txn(self, what: str, compare: list[dict[str, Any]], success: list[dict[str, Any]]) -> tuple[bool, int]:
        reply = self._post(what, "/kv/txn", {"compare": compare, "success": success, "failure": []})
        return bool(reply.get("succeeded", False)), int(reply.get("header", {}).get("revision", 0))

    def _grant(self, ttl: float) -> int:
        reply = self._post("grant a lease", "/lease/grant", {"TTL": max(1, math.ceil(ttl)), "ID": 0})
        return int(reply["ID"])

    def _keep_alive(self, etcd_lease: int) -> bool:
        """Reset an etcd lease's TTL; False when it has run out already."""
        reply = self._post("renew a lease", "/lease/keepalive", {"ID": etcd_lease})
        return int((reply.get("result") or {}).get("TTL", 0) or 0) > 0

    def _revoke(self, etcd_lease: int) -> None:
        if etcd_lease:
            with contextlib.suppress(StoreDown):  # its TTL ends it anyway
                self._post("revoke a lease", "/kv/lease/revoke", {"ID": etcd_lease})

    @staticmethod
    def _value(lease: Lease, etcd_lease: int) -> str:
        data = json.loads(lease.to_json())
        data.pop("token", None)  # the key's create revision is the token; never a stale copy in the value
        data["etcd_lease"] = etcd_lease
        return json.dumps(data)

    # -- the API --------------------------------------------------------------------------------

    def survey(self) -> Survey:
        from squad.leases.locks import Survey

        _, held, unreadable = self._read("read the leases")
        return Survey(tuple(sorted((h.lease for h in held), key=lambda x: x.path)), tuple(unreadable))

    def acquire(
        self,
        agent: str,
        target: str,
        *,
        ttl: float,
        wait_s: float,
        reason: str | None,
        pid: int | None,
        host: str,
        on_wait: Callable[[Lease], None] | None,
    ) -> Lease:
        from squad.leases.locks import LockHeld

        deadline = time.monotonic() + max(0.0, wait_s)
        delay = 0.05
        told = False
        while True:
            try:
                return self._try_acquire(agent, target, ttl, reason, pid, host)
            except LockHeld as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                if not told and on_wait is not None:
                    on_wait(exc.lease)
                told = True
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 1.0)

    def _try_acquire(
        self, agent: str, target: str, ttl: float, reason: str | None, pid: int | None, host: str
    ) -> Lease:
        from squad.leases.locks import LockHeld, conflicts, same_holder

        key = self._key(target)
        granted = 0
        try:
            for _ in range(_ATTEMPTS):
                revision, held, unreadable = self._read(f"lock {target}")
                for claimed, err in unreadable:
                    if conflicts(claimed, target):
                        raise SquadError(f"{err.message}; {target} cannot be judged: remove it with "
                                         f"`squad unlock --force {claimed}`", path=err.path)  # fmt: skip
                now = utcnow()
                own = None
                expired = None
                for h in held:
                    if not conflicts(h.lease.path, target):
                        continue
                    if same_holder(h.lease.agent, agent):
                        own = h if h.key == key else own
                        continue  # an agent's own leases never block it
                    if not h.lease.expired(now):
                        raise LockHeld(target, h.lease)
                    expired = h
                if expired is not None:
                    # Past its time but not yet ended by its TTL (the holder's clock ran ahead of
                    # etcd's): removed first, so the next grant on its key gets a new token.
                    if self._delete(expired, f"lock {target}"):
                        self.record_break(expired.lease, "expired", now, agent, forced=False)
                    continue
                if own is not None:
                    if own.etcd_lease == granted:
                        # Our own grant landed though its reply was lost (a member died and the
                        # request was retried on another, whose compare then failed): the key holds
                        # that etcd lease now, and it must not be revoked on the way out.
                        granted = 0
                    renewed = self._renew_held(own, ttl, reason=reason, pid=pid)
                    if renewed is not None:
                        return renewed
                    continue
                if not granted:
                    granted = self._grant(ttl)
                lease = Lease(agent=agent, path=target, acquired_at=now, expires_at=now + timedelta(seconds=ttl),
                              ttl_s=ttl, reason=reason, host=host, pid=pid)  # fmt: skip
                record = json.dumps({"agent": agent, "path": target, "host": host,
                                     "acquired_at": format_time(now, precise=True)})  # fmt: skip
                ok, at = self._txn(f"lock {target}", self._unchanged_since(key, target, revision), [
                    {"request_put": {"key": _b64(key), "value": _b64(self._value(lease, granted)), "lease": str(granted)}},
                    {"request_put": {"key": _b64(self._grant_key()), "value": _b64(record)}},
                ])  # fmt: skip
                if ok:
                    granted = 0  # the key holds it now
                    return replace(lease, token=at)
                time.sleep(random.uniform(0, 0.01))  # another grant landed meanwhile: read again
            raise SquadError(f"could not lock {target}: the leases kept changing ({_ATTEMPTS} tries)")
        finally:
            if granted:
                self._revoke(granted)  # a grant that never got its key

    def _grant_key(self) -> str:
        """Sorted by time (the newest are read first), unique whatever the clocks say."""
        return f"{self.grants_prefix}{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"

    def _unchanged_since(self, key: str, target: str, revision: int) -> list[dict[str, Any]]:
        """Compares that hold only if no key that could conflict with ``target`` changed after
        ``revision``: the key itself, every folder lease above it, every lease below it."""
        below = str(revision + 1)  # etcd's JSON gateway takes 64-bit numbers as strings
        out = [{"key": _b64(key), "target": "MOD", "result": "LESS", "mod_revision": below}]
        if target.startswith("@"):
            return out
        inside = key + "/"
        out.append(
            {
                "key": _b64(inside),
                "range_end": _b64(inside[:-1] + "0"),  # '0' follows '/': every key under the folder
                "target": "MOD",
                "result": "LESS",
                "mod_revision": below,
            }
        )
        parts = _parts(target)
        for i in range(1, len(parts)):
            above = self.prefix + "/".join(parts[:i])
            out.append({"key": _b64(above), "target": "MOD", "result": "LESS", "mod_revision": below})
        return out

    def _renew_held(
        self, held: Held, ttl: float | None, *, reason: str | None = None, pid: int | None = None
    ) -> Lease | None:
        """Push out a held lease's expiry; None when it changed since it was read. With the same
        TTL, a keep-alive of its etcd lease; with another, a new etcd lease. Either way the value
        (its ``expires_at``) is put only if the key did not change meanwhile, and the key's create
        revision, and so the token, stays: a renewal is the same grant."""
        now = utcnow()
        lease = held.lease.renewed(now, ttl)
        if reason:
            lease = replace(lease, reason=reason)
        if pid is not None:
            lease = replace(lease, pid=pid)
        compare = [{"key": _b64(held.key), "target": "MOD", "result": "EQUAL", "mod_revision": str(held.mod_revision)}]
        if held.etcd_lease and lease.ttl_s == held.lease.ttl_s and self._keep_alive(held.etcd_lease):
            put = {"request_put": {"key": _b64(held.key), "value": _b64(self._value(lease, held.etcd_lease)),
                                   "lease": str(held.etcd_lease)}}  # fmt: skip
            ok, _ = self._txn(f"renew {lease.path}", compare, [put])
            return lease if ok else None
        fresh = self._grant(lease.ttl_s)
        put = {"request_put": {"key": _b64(held.key), "value": _b64(self._value(lease, fresh)), "lease": str(fresh)}}
        ok, _ = self._txn(f"renew {lease.path}", compare, [put])
        if not ok and not self._on_lease(held.key, fresh):  # (a put that landed, its reply lost, is ok)
            self._revoke(fresh)
            return None
        self._revoke(held.etcd_lease)
        return lease

    def _on_lease(self, key: str, etcd_lease: int) -> bool:
        """Whether ``key`` is held on ``etcd_lease`` now: a put that landed though its reply was
        lost (a member died and the request was retried on another, whose compare failed)."""
        found = self._range(f"read {key}", key).get("kvs", [])
        return any(_unb64(kv["key"]) == key and int(kv.get("lease", 0) or 0) == etcd_lease for kv in found)

    def _find(self, target: str, what: str) -> Held | None:
        from squad.leases.locks import _same_target

        key = self._key(target)
        _, held, _ = self._read(what)
        return next((h for h in held if h.key == key or _same_target(h.lease.path, target)), None)

    def renew(self, agent: str, target: str, *, ttl_s: float | None) -> Lease:
        from squad.leases.locks import LockHeld, same_holder

        for _ in range(_ATTEMPTS):
            held = self._find(target, f"renew {target}")
            if held is None or held.lease.expired(utcnow()):
                raise Refused(f"{agent} holds no lease on {target}")
            if not same_holder(held.lease.agent, agent):
                raise LockHeld(target, held.lease)
            renewed = self._renew_held(held, ttl_s)
            if renewed is not None:
                return renewed
        raise SquadError(f"could not renew {target}: its lease kept changing")

    def renew_all(self, agent: str) -> list[Lease]:
        from squad.leases.locks import same_holder

        _, held, _ = self._read("renew leases")
        out = []
        for h in held:
            if same_holder(h.lease.agent, agent) and not h.lease.expired(utcnow()):
                renewed = self._renew_held(h, None)
                if renewed is not None:
                    out.append(renewed)
        return out

    def release(self, agent: str, target: str, *, force: bool) -> tuple[Lease, bool]:
        """Drop the lease on ``target``: (the lease, whether it was another agent's, broken by force)."""
        from squad.leases.locks import LockHeld, same_holder

        tried: tuple[Lease, bool] | None = None
        for _ in range(_ATTEMPTS):
            held = self._find(target, f"unlock {target}")
            if held is None:
                if tried is not None:
                    return tried  # our delete landed though its reply was lost: gone, as asked
                raise Refused(f"no lease on {target}")
            theirs = not same_holder(held.lease.agent, agent)
            if theirs and not force:
                raise LockHeld(target, held.lease)
            if self._delete(held, f"unlock {target}"):
                return held.lease, theirs
            tried = (held.lease, theirs)
        raise SquadError(f"could not unlock {target}: its lease kept changing")

    def _delete(self, held: Held, what: str) -> bool:
        compare = [{"key": _b64(held.key), "target": "MOD", "result": "EQUAL", "mod_revision": str(held.mod_revision)}]
        ok, _ = self._txn(what, compare, [{"request_delete_range": {"key": _b64(held.key)}}])
        if ok:
            self._revoke(held.etcd_lease)
        return ok

    def break_lease(self, target: str, *, holder: str | None, acquired_at: datetime | None) -> Lease | None:
        """Delete the lease on exactly ``target`` (that very one, when holder and time are given)."""
        from squad.leases.locks import same_holder

        for _ in range(_ATTEMPTS):
            held = self._find(target, f"break the lease on {target}")
            if held is None:
                return None
            lease = held.lease
            if holder is not None and not same_holder(lease.agent, holder):
                return None
            if acquired_at is not None and abs((lease.acquired_at - acquired_at).total_seconds()) > 0.001:
                return None
            if self._delete(held, f"break the lease on {target}"):
                return lease
        return None

    def record_break(self, lease: Lease, reason: str, now: datetime, by: str | None, *, forced: bool) -> Broken:
        """Keep the broken lease on this host, as the files backend does, and log ``lock_broken``."""
        from squad.atomic import write_atomic
        from squad.leases._stale import Broken, _annotate, _broken_name, log_break

        moved = _broken_name(self.paths, lease.path, now)
        write_atomic(moved, _annotate(lease.to_json(), reason, now, by), fsync=False)
        log_break(self.paths, lease, reason, now, by, forced=forced, moved=moved, store=self.store.url)
        return Broken(lease, reason, moved)


def _short(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "detail_text", None) or exc or type(exc).__name__).split())
    if "Connection refused" in text or "Failed to establish" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text[:160] or type(exc).__name__


class KeyFollower(threading.Thread):
    """Follow every change under ``prefix`` by an etcd watch, telling ``changed(key, kv)`` of each
    (``kv`` as etcd gives it: base64 ``value``, ``mod_revision``; none for a deletion's value), from
    the revision last seen, across reconnects and member failures: a reconnect resumes where the
    last event left off, so nothing is missed. When there is no revision to resume from (the start,
    or etcd compacted past it), ``changed(None, None)`` says "read everything again"."""

    def __init__(
        self, leases: EtcdLeases, prefix: str, changed: Callable[[str | None, dict[str, Any] | None], None]
    ) -> None:
        super().__init__(name="squad-etcd-watch", daemon=True)
        self.leases = leases
        self.prefix = prefix
        self.changed = changed
        self.revision: int | None = None  # the next revision to hear of
        self._stopping = threading.Event()
        self._response: Any = None

    def stop(self) -> None:
        self._stopping.set()
        response = self._response
        if response is not None:  # a streaming read blocks: shut its socket to end it now
            with contextlib.suppress(Exception), socket.socket(fileno=os.dup(response.raw.fileno())) as sock:
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                response.close()
        self.join(timeout=10)

    def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                if self.revision is None:
                    reply = self.leases._range("follow the squad", self.prefix, last=1)
                    self.revision = int(reply.get("header", {}).get("revision", 0)) + 1
                    self.changed(None, None)  # whatever happened before the watch began
                self._watch_once()
                failures = 0
            except Exception as exc:  # any failure: say so once, back off, reconnect
                if self._stopping.is_set():
                    return
                failures += 1
                if failures == 1:
                    log.warning("etcd watch interrupted (%s); resuming from revision %s", _short(exc), self.revision)
                self.leases._first = (self.leases._first + 1) % len(self.leases._clients)
            self._stopping.wait(min(5.0, 0.1 * 2**failures))

    def _watch_once(self) -> None:
        prefix = self.prefix
        client = self.leases._clients[self.leases._first]
        body = {
            "create_request": {
                "key": _b64(prefix),
                "range_end": _b64(prefix[:-1] + chr(ord(prefix[-1]) + 1)),
                "start_revision": str(self.revision),
            }
        }
        self._response = client.session.post(
            client.get_url("/watch"), json=body, stream=True, timeout=(TIMEOUT_S, None)
        )
        try:
            if self._response.status_code != 200:
                raise OSError(f"watch refused: HTTP {self._response.status_code}")
            for line in self._response.iter_lines():
                if self._stopping.is_set():
                    return
                if not line:
                    continue
                result = json.loads(line).get("result", {})
                if int(result.get("compact_revision", 0) or 0):
                    self.revision = None  # compacted past what we saw: read everything again
                    return
                for event in result.get("events", []):
                    kv = event.get("kv", {})
                    self.changed(_unb64(kv.get("key", "")), kv)
                    self.revision = max(self.revision or 0, int(kv.get("mod_revision", 0)) + 1)
                if result.get("canceled"):
                    return
        finally:
            self._response.close()
            self._response = None


def follow_leases(leases: EtcdLeases, changed: Callable[[str | None], None]) -> KeyFollower:
    """A started ``KeyFollower`` on the lease keys, telling ``changed`` the target of each change
    (None: read them all again)."""
    prefix = leases.prefix

    def on_key(key: str | None, kv: dict[str, Any] | None) -> None:
        changed(key[len(prefix) :] if key is not None and key.startswith(prefix) else None)

    follower = KeyFollower(leases, prefix, on_key)
    follower.start()
    return follower


_CLIENTS: dict[tuple[str, str], EtcdLeases] = {}


def leases_for(paths: SquadPaths, store: Store) -> EtcdLeases:
    """One client per squad and store in a process (the coordinator asks on every cycle)."""
    key = (str(paths.root), store.url)
    found = _CLIENTS.get(key)
    if found is None:
        found = _CLIENTS[key] = EtcdLeases(paths, store)
    return found
