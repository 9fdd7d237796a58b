"""Comm files shared through etcd, for a squad on several hosts (``store: etcd://...``).

Each host's coordinator publishes what its own agents append to their comm files (the bytes, in
chunks keyed by agent and offset), and writes what the other hosts publish into its own
``.squad/comms/``, byte for byte: so every host's coordinator, ``squad status`` and monitor read
every agent's comm file with the code that reads a local one. An agent's comm file is written on
one host only (agents are numbered squad-wide); a number posting from two hosts is reported and its
file left as it is.

The watch resumes from the last revision it saw, so a reconnect loses nothing; at start, or after
etcd compacted past that revision, every mirrored file is checked against etcd and rewritten when
it differs.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

from squad.atomic import write_atomic
from squad.leases._stale import hostname
from squad.leases.etcd import EtcdLeases, KeyFollower, _b64, _unb64
from squad.paths import SquadPaths

log = logging.getLogger("squad")

CHUNK = 256 * 1024  # bytes a key holds at most (etcd refuses requests over 1.5 MB)
_KEY_RE = re.compile(r"^agent-(\d+)/(\d{16})$")


class CommMirror:
    def __init__(self, paths: SquadPaths, leases: EtcdLeases) -> None:
        self.paths = paths
        self.leases = leases
        self.prefix = leases.prefix.removesuffix("locks/") + "comms/"
        self.origin = f"{hostname()}:{hashlib.sha256(str(paths.root).encode()).hexdigest()[:10]}"
        self.published: dict[int, int] = {}  # this host's agents: bytes of their comm file published
        self.mirrored: set[int] = set()  # agents whose comm file another host writes
        self.conflicts: set[int] = set()  # agents posting from two hosts: left alone, reported
        self._lock = threading.Lock()
        self._follower: KeyFollower | None = None
        self._flags: KeyFollower | None = None
        self._synced_revision = 0

    # -- life ------------------------------------------------------------------------------------

    def start(self, local: list[int]) -> None:
        """Mirror what etcd holds, publish what ``local`` agents wrote meanwhile, then follow."""
        self._sync_all()
        for number in local:
            self.publish(number)
        self._follower = KeyFollower(self.leases, self.prefix, self._on_key)
        self._follower.revision = self._synced_revision + 1
        self._follower.start()
        from squad.coordinator.control import control_prefix

        self._flags = KeyFollower(self.leases, control_prefix(self.leases.prefix), self._on_flag)
        self._flags.start()  # from the current revision: "read everything again" comes first

    def stop(self) -> None:
        for follower in (self._follower, self._flags):
            if follower is not None:
                follower.stop()
        self._follower = self._flags = None

    # -- the squad's flags -----------------------------------------------------------------------

    def _on_flag(self, key: str | None, kv: dict[str, Any] | None) -> None:
        """``control/pause`` in etcd, copied to this host's ``control/pause.flag`` (and removed)."""
        from squad.coordinator.control import control_prefix

        name = control_prefix(self.leases.prefix) + "pause"
        if key is None:  # (re)started: take the flag as etcd has it now
            reply = self.leases._range("read the squad's flags", name)
            found = reply.get("kvs", [])
            self._set_pause(_unb64(found[0].get("value", "")) if found else None, initial=True)
        elif key == name:
            self._set_pause(_unb64(kv["value"]) if kv and "value" in kv else None, initial=False)

    def _set_pause(self, text: str | None, *, initial: bool) -> None:
        flag = self.paths.pause_flag
        if text is not None and not flag.exists():
            write_atomic(flag, text, fsync=False)
        elif text is None and not initial:
            with contextlib.suppress(FileNotFoundError):
                flag.unlink()  # a pause made here while etcd was away stays until resumed

    # -- this host's agents ----------------------------------------------------------------------

    def publish(self, number: int) -> None:
        """Put the whole lines agent ``number`` appended since the last call into etcd."""
        with self._lock:
            if number in self.mirrored or number in self.conflicts:
                return
            path = self.paths.comm(number)
            start = self.published.get(number, 0)
            try:
                with path.open("rb") as handle:
                    handle.seek(start)
                    data = handle.read()
            except OSError:
                return
            data = data[: data.rfind(b"\n") + 1]  # whole lines: the rest is still being written
            offset = start
            while data:
                piece, data = data[:CHUNK], data[CHUNK:]
                value = json.dumps({"origin": self.origin, "data": base64.b64encode(piece).decode("ascii")})
                key = f"{self.prefix}agent-{number}/{offset:016d}"
                self.leases._post("share a comm file", "/kv/put", {"key": _b64(key), "value": _b64(value)})
                offset += len(piece)
            self.published[number] = offset

    # -- the other hosts' agents -----------------------------------------------------------------

    def _on_key(self, key: str | None, kv: dict[str, Any] | None) -> None:
        if key is None or kv is None:
            self._sync_all()
            return
        match = _KEY_RE.match(key[len(self.prefix) :]) if key.startswith(self.prefix) else None
        if match is None or "value" not in kv:
            return
        number, offset = int(match.group(1)), int(match.group(2))
        record = json.loads(_unb64(kv["value"]))
        if record.get("origin") == self.origin:
            return
        with self._lock:
            if self.published.get(number) and number not in self.conflicts:
                self.conflicts.add(number)
                log.warning("agent-%s posts on this host and on %s: its comm file is not mirrored",
                            number, record.get("origin"))  # fmt: skip
            if number in self.conflicts:
                return
            self.mirrored.add(number)
            self._apply(number, offset, base64.b64decode(record.get("data", "")))

    def _apply(self, number: int, offset: int, data: bytes) -> None:
        path = self.paths.comm(number)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size > offset:
            return  # had it already (a resumed watch repeats nothing, a full sync may)
        if size < offset:
            self._rebuild(number)  # a gap: take the whole file from etcd
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def _chunks(self, number: int | None = None) -> tuple[int, dict[int, list[tuple[int, str, bytes]]]]:
        """(revision, agent -> [(offset, origin, bytes)] in offset order) as etcd holds them."""
        prefix = self.prefix if number is None else f"{self.prefix}agent-{number}/"
        reply = self.leases._range("read the shared comm files", prefix)
        out: dict[int, list[tuple[int, str, bytes]]] = {}
        for kv in reply.get("kvs", []):
            match = _KEY_RE.match(_unb64(kv["key"])[len(self.prefix) :])
            if match is None:
                continue
            record = json.loads(_unb64(kv.get("value", "")))
            data = base64.b64decode(record.get("data", ""))
            out.setdefault(int(match.group(1)), []).append((int(match.group(2)), str(record.get("origin")), data))
        for chunks in out.values():
            chunks.sort()
        return int(reply.get("header", {}).get("revision", 0)), out

    def _rebuild(self, number: int) -> None:
        _, found = self._chunks(number)
        self._write_whole(number, found.get(number, []))

    def _write_whole(self, number: int, chunks: list[tuple[int, str, bytes]]) -> None:
        whole = b"".join(data for _, _, data in chunks)
        path: Path = self.paths.comm(number)
        try:
            if path.read_bytes() == whole:
                return
        except OSError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(whole)
            Path(tmp).replace(path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(tmp).unlink()
            raise

    def _sync_all(self) -> None:
        revision, found = self._chunks()
        with self._lock:
            for number, chunks in found.items():
                origins = {origin for _, origin, _ in chunks}
                if origins == {self.origin}:
                    self.published[number] = max(offset + len(data) for offset, _, data in chunks)
                elif self.origin in origins or len(origins) > 1:
                    self.conflicts.add(number)
                else:
                    self.mirrored.add(number)
                    self._write_whole(number, chunks)
        self._synced_revision = revision
