"""What a squad spread over hosts shares through etcd (``store: etcd://...``), besides the leases.

- **Comm files.** Each host's coordinator publishes what its own agents append to their comm files
  (the bytes, in chunks keyed by agent and offset), and writes what the other hosts publish into
  its own ``.squad/comms/``, byte for byte: so every host's coordinator, ``squad status`` and
  monitor read every agent's comm file with the code that reads a local one. An agent's comm file
  is written on one host only (agents are numbered squad-wide); a number posting from two hosts is
  reported and its file left as it is.
- **The event log and the coordinator comm.** Each host publishes the whole lines its
  ``logs/events.jsonl`` and ``comms/coordinator-comm.md`` gain (the acting coordinator's judgments
  and notices, ``squad.coordinator.claim``; what commands run there logged), and appends the other
  hosts' to its own. What it took is never published again: ``control/feed.json`` keeps where it
  landed, how far this host's own files are published, and how much of each other host's was taken.
- **Plans, the ownership matrix, the allocation and the PRD**, as whole files: a change on any
  host (``squad allocate``, a move by the acting coordinator, an edit by hand) is published and
  written on the others; the last write wins.
- **The pause flag** (``control/pause``), copied to each host's ``control/pause.flag``.

The watches resume from the last revision they saw, so a reconnect loses nothing; at start, or
after etcd compacted past that revision, everything is read again and compared.
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
_FEED_KEY_RE = re.compile(r"^(events|coordinator)/(.+)/(\d{16})$")
_FEEDS = ("events", "coordinator")
# The files shared whole, relative to .squad/: never a path outside these (etcd is written by
# every host; a key naming ../ must not reach a file).
_SHARED_FILE_RE = re.compile(
    r"^(?:parallel-plans/[A-Za-z0-9][A-Za-z0-9._-]*\.md|ownership\.yaml|allocation\.json|feature-prd\.md)$"
)


class SquadMirror:
    def __init__(self, paths: SquadPaths, leases: EtcdLeases) -> None:
        self.paths = paths
        self.leases = leases
        squad = leases.prefix.removesuffix("locks/")
        self.prefix = squad + "comms/"
        self.feed_prefix = squad + "feed/"
        self.files_prefix = squad + "files/"
        self.origin = f"{hostname()}:{hashlib.sha256(str(paths.root).encode()).hexdigest()[:10]}"
        self.published: dict[int, int] = {}  # this host's agents: bytes of their comm file published
        self.mirrored: set[int] = set()  # agents whose comm file another host writes
        self.conflicts: set[int] = set()  # agents posting from two hosts: left alone, reported
        self._lock = threading.Lock()
        self._follower: KeyFollower | None = None
        self._flags: KeyFollower | None = None
        self._synced_revision = 0
        # The feed (control/feed.json): how far this host's own files are published, where the
        # records taken from the other hosts landed in them (not published again), and how much of
        # each other host's feed was taken.
        self.cursor: dict[str, int] = {}  # feed -> bytes of this host's file published
        self.skip: dict[str, list[list[int]]] = {}  # feed -> [start, end) byte ranges taken, not yet passed
        self.taken: dict[str, dict[str, int]] = {}  # origin -> feed -> bytes of its feed taken
        self._load_state()
        # Whole files: what each holds as last published or written here, so a write of ours coming
        # back through the watcher (or an unchanged file) is not published again.
        self.shared: dict[str, str] = {}  # .squad/-relative path -> sha256 of its bytes
        self._seen: dict[str, tuple[int, int]] = {}  # path -> (mtime_ns, size) when last looked at
        self._feed: KeyFollower | None = None
        self._files: KeyFollower | None = None

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
        self._files = KeyFollower(self.leases, self.files_prefix, self._on_file)
        self._files.start()  # "read everything again" first: files both here and in etcd are compared
        self._feed = KeyFollower(self.leases, self.feed_prefix, self._on_feed)
        self._feed.start()

    def stop(self) -> None:
        for follower in (self._follower, self._flags, self._files, self._feed):
            if follower is not None:
                follower.stop()
        self._follower = self._flags = self._files = self._feed = None

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
        _replace_bytes(path, whole)

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

    # -- the feed: every host's event log and coordinator comm ---------------------------------------

    def _feed_file(self, name: str) -> Path:
        return self.paths.events if name == "events" else self.paths.coordinator_comm

    def publish_feed(self) -> None:
        """Publish the whole lines this host's event log and coordinator comm gained, but for what
        was taken from the other hosts: what this host's coordinator judged, and what commands run
        here logged (guard refusals, lock waits)."""
        with self._lock:
            changed = False
            for name in _FEEDS:
                changed = self._publish_one(name) or changed
            if changed:
                self._save_state()

    def _publish_one(self, name: str) -> bool:
        file = self._feed_file(name)
        size = _size(file)
        start = self.cursor.get(name)
        if start is None or size < start:  # first run (publish from now on), or the file was cut
            self.cursor[name], self.skip[name] = size, []
            return True
        if size == start:
            return False
        try:
            with file.open("rb") as handle:
                handle.seek(start)
                data = handle.read(size - start)
        except OSError:
            return False
        data = data[: data.rfind(b"\n") + 1]
        end = start + len(data)
        for a, b in _without(start, end, self.skip.get(name, [])):
            offset = a
            while offset < b:
                piece = data[offset - start : min(b, offset + CHUNK) - start]
                key = f"{self.feed_prefix}{name}/{self.origin}/{offset:016d}"
                value = json.dumps({"data": base64.b64encode(piece).decode("ascii")})
                self.leases._post("publish this host's records", "/kv/put", {"key": _b64(key), "value": _b64(value)})
                offset += len(piece)
        self.cursor[name] = end
        self.skip[name] = [r for r in self.skip.get(name, []) if r[1] > end]
        return True

    def _on_feed(self, key: str | None, kv: dict[str, Any] | None) -> None:
        if key is None or kv is None:
            self._sync_feed()
            return
        match = _FEED_KEY_RE.match(key[len(self.feed_prefix) :]) if key.startswith(self.feed_prefix) else None
        if match is None or "value" not in kv:
            return
        name, origin, offset = match.group(1), match.group(2), int(match.group(3))
        if origin == self.origin:
            return
        with self._lock:
            data = base64.b64decode(json.loads(_unb64(kv["value"])).get("data", ""))
            if self._take(name, origin, offset, data):
                self._save_state()

    def _sync_feed(self) -> None:
        """Take every record of the other hosts not taken yet, in the order they were published."""
        reply = self.leases._range("read the other hosts' records", self.feed_prefix)
        records = sorted(reply.get("kvs", []), key=lambda kv: int(kv.get("create_revision", 0)))
        with self._lock:
            took = False
            for kv in records:
                match = _FEED_KEY_RE.match(_unb64(kv["key"])[len(self.feed_prefix) :])
                if match is None or match.group(2) == self.origin:
                    continue
                data = base64.b64decode(json.loads(_unb64(kv.get("value", ""))).get("data", ""))
                took = self._take(match.group(1), match.group(2), int(match.group(3)), data) or took
            if took:
                self._save_state()

    def _take(self, name: str, origin: str, offset: int, data: bytes) -> bool:
        """Append another host's record, remembering where it landed: never published again."""
        marks = self.taken.setdefault(origin, {})
        if offset < marks.get(name, 0) or not data:
            return False  # taken already (a resumed watch repeats nothing; a full read may)
        file = self._feed_file(name)
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            written = os.write(fd, data)
            landed = os.lseek(fd, 0, os.SEEK_CUR)  # after an O_APPEND write: the end of ours
        finally:
            os.close(fd)
        self.skip.setdefault(name, []).append([landed - written, landed])
        marks[name] = offset + len(data)
        return True

    def _load_state(self) -> None:
        try:
            data = json.loads(self._state_file().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        data = data if isinstance(data, dict) else {}

        def ints(value: object) -> dict[str, int]:
            return {str(k): v for k, v in value.items() if isinstance(v, int)} if isinstance(value, dict) else {}

        taken = data.get("taken")
        self.taken = {str(o): ints(m) for o, m in taken.items()} if isinstance(taken, dict) else {}
        self.cursor = ints(data.get("published"))
        skip = data.get("skip")
        self.skip = {
            str(n): [[int(a), int(b)] for a, b in ranges if isinstance(a, int) and isinstance(b, int)]
            for n, ranges in (skip.items() if isinstance(skip, dict) else ())
            if isinstance(ranges, list) and all(isinstance(r, list) and len(r) == 2 for r in ranges)
        }

    def _save_state(self) -> None:
        state = {"published": self.cursor, "skip": self.skip, "taken": self.taken}
        write_atomic(self._state_file(), json.dumps(state, sort_keys=True) + "\n", fsync=False)

    def _state_file(self) -> Path:
        return self.paths.control / "feed.json"

    # -- whole files: plans, the matrix, the allocation, the PRD -------------------------------------

    def _local_shared(self) -> list[str]:
        """The shared files this host has, ``.squad/``-relative."""
        out = [
            name
            for name in ("ownership.yaml", "allocation.json", "feature-prd.md")
            if (self.paths.squad / name).is_file()
        ]
        with contextlib.suppress(OSError):
            out.extend(f"parallel-plans/{e.name}" for e in os.scandir(self.paths.plans)
                       if e.is_file() and _SHARED_FILE_RE.match(f"parallel-plans/{e.name}"))  # fmt: skip
        return out

    def share_files(self) -> None:
        """Publish the shared files changed here since they were last published or written."""
        with self._lock:
            present = set(self._local_shared())
            for rel in sorted(present):
                file = self.paths.squad / rel
                try:
                    st = file.stat()
                except OSError:
                    continue
                if self._seen.get(rel) == (st.st_mtime_ns, st.st_size):
                    continue
                try:
                    data = file.read_bytes()
                except OSError:
                    continue
                self._seen[rel] = (st.st_mtime_ns, st.st_size)
                digest = hashlib.sha256(data).hexdigest()
                if self.shared.get(rel) == digest:
                    continue
                self._put_file(rel, data, st.st_mtime)
                self.shared[rel] = digest
            for rel in [r for r in self.shared if r not in present]:  # removed here: removed everywhere
                self.leases._post("share a removed file", "/kv/deleterange", {"key": _b64(self.files_prefix + rel)})
                del self.shared[rel]
                self._seen.pop(rel, None)

    def _put_file(self, rel: str, data: bytes, mtime: float) -> None:
        value = json.dumps({"origin": self.origin, "mtime": mtime, "data": base64.b64encode(data).decode("ascii")})
        self.leases._post("share a file", "/kv/put", {"key": _b64(self.files_prefix + rel), "value": _b64(value)})

    def _on_file(self, key: str | None, kv: dict[str, Any] | None) -> None:
        if key is None or kv is None:
            self._sync_files()
            return
        rel = key[len(self.files_prefix) :] if key.startswith(self.files_prefix) else ""
        if not _SHARED_FILE_RE.match(rel):
            return
        with self._lock:
            if "value" not in kv:  # removed on another host
                self._remove(rel)
                return
            record = json.loads(_unb64(kv["value"]))
            if record.get("origin") != self.origin:
                self._write_file(rel, base64.b64decode(record.get("data", "")))

    def _sync_files(self) -> None:
        """At start (or after a compaction): each file the newer of here and etcd, both sides."""
        reply = self.leases._range("read the shared files", self.files_prefix)
        with self._lock:
            remote: set[str] = set()
            for kv in reply.get("kvs", []):
                rel = _unb64(kv["key"])[len(self.files_prefix) :]
                if not _SHARED_FILE_RE.match(rel):
                    continue
                remote.add(rel)
                record = json.loads(_unb64(kv.get("value", "")))
                data = base64.b64decode(record.get("data", ""))
                file = self.paths.squad / rel
                try:
                    here = file.read_bytes()
                    newer_here = file.stat().st_mtime > float(record.get("mtime", 0))
                except OSError:
                    here, newer_here = None, False
                if here == data:
                    self.shared[rel] = hashlib.sha256(data).hexdigest()
                elif here is not None and newer_here:
                    self.shared.pop(rel, None)  # published below
                else:
                    self._write_file(rel, data)
        for rel in self._local_shared():
            if rel not in remote:
                self.shared.pop(rel, None)
        self.share_files()

    def _write_file(self, rel: str, data: bytes) -> None:
        file = self.paths.squad / rel
        digest = hashlib.sha256(data).hexdigest()
        try:
            if file.read_bytes() == data:
                self.shared[rel] = digest
                return
        except OSError:
            pass
        _replace_bytes(file, data)
        self.shared[rel] = digest
        with contextlib.suppress(OSError):
            st = file.stat()
            self._seen[rel] = (st.st_mtime_ns, st.st_size)

    def _remove(self, rel: str) -> None:
        file = self.paths.squad / rel
        try:
            here = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError:
            here = None
        if here is not None and here == self.shared.get(rel):  # unchanged here since: it goes
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
        self.shared.pop(rel, None)
        self._seen.pop(rel, None)


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:
        return 0


def _replace_bytes(path: Path, data: bytes) -> None:
    """``path`` holding ``data`` byte for byte: a temp file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise


def _without(start: int, end: int, skip: list[list[int]]) -> list[tuple[int, int]]:
    """``[start, end)`` less the ranges in ``skip``, as the ranges left, in order."""
    out, at = [], start
    for a, b in sorted(skip):
        if b <= at or a >= end:
            continue
        if a > at:
            out.append((at, a))
        at = max(at, b)
    if at < end:
        out.append((at, end))
    return out
