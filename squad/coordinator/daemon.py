"""The coordinator process: one per repository, event-driven, restartable.

``Coordinator`` is the loop (engine + watcher + one slow timer); the daemon and the in-process monitor
both run one. The rest manages the process: a pidfile beside a filelock that refuses a second
coordinator, a detached start in a new session logging to ``logs/coordinator.log``, a stop by
SIGTERM, and a status with pid and uptime.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from squad.atomic import write_atomic
from squad.coordinator import actions, cache
from squad.coordinator.engine import (
    ALLOCATION,
    COMM,
    EVENTS,
    MATRIX,
    PLAN,
    TICK,
    Change,
    Engine,
    agent_trees,
    classify,
    clean_scratch,
    judge,
)
from squad.coordinator.state import Snapshot
from squad.coordinator.watcher import Watcher
from squad.errors import Refused, SquadError
from squad.paths import LOCK_SUFFIX, SQUAD_DIR_NAME, SquadPaths
from squad.protocol import events as ev
from squad.protocol.times import format_time, now, parse_time

if TYPE_CHECKING:
    from squad.coordinator.claim import CoordinatorClaim
    from squad.coordinator.mirror import SquadMirror
    from squad.leases.etcd import KeyFollower

log = logging.getLogger("squad.coordinator")
DEFAULT_TICK_S = 5.0
SLOW_CYCLE_S = 0.2
REPORT_EVERY_S = 30.0  # reports/ are rewritten on every change, and at least this often when idle
GC_THRESHOLD = (10_000, 10, 10)  # allocations before a young collection (700 by default), and the rest as default
REPORT_GAP_S = 0.25  # ...but not more often than this while changes stream in


def write_reports(paths: SquadPaths, snap: Snapshot, files: cache.Signatures | None) -> None:
    """``reports/status.md``, and the snapshot ``squad status`` reuses unless ``files`` is None."""
    actions.write_report(paths, snap)
    if files is not None:
        cache.write(paths, snap, files)


class _ReportWriter:
    """Writes the reports on a thread of its own; the newest snapshot wins (an older one not yet
    written is dropped: it would be stale the moment it landed)."""

    def __init__(self, paths: SquadPaths) -> None:
        self.paths = paths
        self._cond = threading.Condition()
        self._pending: tuple[Snapshot, cache.Signatures | None] | None = None
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="squad-reports", daemon=True)
        self._thread.start()

    def submit(self, snap: Snapshot, files: cache.Signatures | None) -> None:
        with self._cond:
            self._pending = (snap, files)  # the newest wins: a snapshot owed is written again later
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closing:
                    self._cond.wait()
                job, self._pending = self._pending, None
                if job is None:
                    return  # closing, and nothing left to write
            try:
                write_reports(self.paths, *job)
            except (OSError, SquadError) as exc:
                log.warning("could not write the reports: %s", exc)


class Coordinator:
    """Watch the files, react to each batch of changes, apply what the rules find, keep the report fresh.

    ``enforce=False`` only follows the files (a monitor beside a running daemon): no rule runs and
    nothing is written.
    """

    def __init__(
        self,
        paths: SquadPaths,
        *,
        enforce: bool = True,
        tick_s: float | None = None,
        on_update: Callable[[Snapshot], None] | None = None,
        clock: Callable[[], datetime] = now,
        background_reports: bool = False,
    ) -> None:
        self.paths = paths
        self.enforce = enforce
        self.engine = Engine(paths)
        self.on_update = on_update
        self.clock = clock
        self._tick_s = tick_s
        self.watcher: Watcher | None = None
        self.stopping = threading.Event()
        self.cycles = 0
        self._reported_at: datetime | None = None
        self._report_owed = False  # changes came faster than REPORT_GAP_S: a report is still to write
        self._snapshot_owed = False  # status.md was written, the snapshot not yet (see _write_reports)
        self._follower: KeyFollower | None = None  # the etcd watch, when the leases live in etcd
        self._mirror: SquadMirror | None = None  # comm files, plans, the feed: shared through etcd
        self._claim: CoordinatorClaim | None = None  # on etcd: whether this host's coordinator acts
        self._role_changed = threading.Event()
        self._on_etcd = False  # the store is etcd (sharing may have to wait for it to answer)
        self._ticked_at = time.monotonic()  # the slow timer's chores last ran (worktrees, lease folders)
        # The daemon writes its reports on a thread of their own: with long comm files a snapshot
        # is megabytes, and writing it must not hold up the reaction to the next change.
        self._reporter = _ReportWriter(paths) if background_reports else None

    @property
    def tick_s(self) -> float:
        if self._tick_s is not None:
            return self._tick_s
        value = self.engine.config.section("coordinator").get("tick_s", DEFAULT_TICK_S)
        return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_TICK_S

    def open(self) -> Coordinator:
        # Watch first, then read: a change made while reading is queued, never lost.
        self.engine.load_settings()
        if self.engine.watch_worktree:
            self.watcher = Watcher([self.paths.root], prune=self._prune).start()
            self._watch_agent_trees()
        else:
            self.watcher = Watcher([self.paths.squad]).start()
        self._follow_etcd_leases()
        self._mirror_comm_files()
        self.engine.rebuild(self.clock())
        if self.enforce:
            for left in clean_scratch(self.paths):
                log.info("removed %s, left by a writer that was killed", self.paths.display(left))
            self._restore_checkpoint()
        self.cycle([Change(TICK)])
        # Everything read at start and judged in the first cycle (megabytes of comm blocks:
        # hundreds of thousands of objects) lives as long as the coordinator: out of the
        # collector's sight, or each full collection walks it again. And what each change adds
        # (a comm file's blocks as a tuple, rebuilt on each read) is walked by every full
        # collection: with 1 MB comm files a pause of ~50 ms in the middle of a reaction. At the
        # default thresholds (and nothing left in the old generation after the freeze) one came
        # every ~130 changes, more than the 1% that sets the p99; GC_THRESHOLD makes it one in
        # thousands. Reference counting frees the rest at once, as always.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLD)
        return self

    def _follow_etcd_leases(self) -> None:
        """With the leases in etcd, a watch stands in for the file events of ``locks/``: each lease
        change arrives as the path of its would-be lease file, and is read like one."""
        from squad.store import store_of

        store = store_of(self.paths)
        if store.kind == "files" or self.watcher is None:
            return
        from squad.leases.etcd import follow_leases, leases_for

        inbox = self.watcher.queue
        locks = self.paths.locks

        def changed(target: str | None) -> None:
            inbox.put(str(locks / f"{target or '@any'}{LOCK_SUFFIX}"))

        self._follower = follow_leases(leases_for(self.paths, store), changed)

    def _mirror_comm_files(self) -> None:
        """With an etcd store, what the squad shares goes through etcd (``squad.coordinator.mirror``),
        and only the coordinator holding the squad's claim acts (``squad.coordinator.claim``)."""
        from squad.store import store_of

        if store_of(self.paths).kind == "files" or not self.enforce:
            return
        self._on_etcd = True
        self._start_sharing()

    def _start_sharing(self) -> None:
        """Share through etcd, then claim the squad's coordinator. When etcd does not answer this
        host follows (acts for nobody: fails closed) and the timer tries again."""
        from squad.agents.roster import members
        from squad.coordinator.claim import DEFAULT_CLAIM_TTL_S, CoordinatorClaim
        from squad.coordinator.mirror import SquadMirror
        from squad.leases.etcd import leases_for
        from squad.store import store_of

        leases = leases_for(self.paths, store_of(self.paths))
        mirror = SquadMirror(self.paths, leases)
        try:
            mirror.start([m.id.number for m in members(self.paths)])
        except SquadError as exc:
            log.warning("nothing is shared and this coordinator does not act until etcd answers: %s", exc)
            mirror.stop()
            return
        self._mirror = mirror
        ttl = self.engine.config.section("coordinator").get("claim_ttl_s", DEFAULT_CLAIM_TTL_S)
        claim = CoordinatorClaim(
            leases, mirror.origin, ttl_s=float(ttl) if isinstance(ttl, int | float) else DEFAULT_CLAIM_TTL_S
        )
        try:
            claim.keep()  # the first cycle knows its role
        except SquadError as exc:
            log.warning("cannot claim the squad's coordinator (%s): following until etcd answers", exc)
        log.info("%s for the squad", "acting" if claim.acting() else f"following {claim.holder or 'nobody'}")
        claim.on_change = self._on_role_change
        claim.start()
        self._claim = claim
        self._role_changed.set()  # (again) sharing: the next cycle judges with the role it has now

    def _on_role_change(self) -> None:
        self._role_changed.set()
        if self.watcher is not None:
            self.watcher.wake()

    def acting(self) -> bool:
        """Whether this coordinator acts (judges, logs, tells, moves): always on the files; on
        etcd, only while it shares through etcd and holds the squad's claim."""
        if not self.enforce:
            return False
        return not self._on_etcd or (self._claim is not None and self._claim.acting())

    def _prune(self, folder: Path) -> bool:
        if folder.name == SQUAD_DIR_NAME:
            return False  # even when .gitignore lists .squad/: it is what the coordinator watches
        if folder.name == ".git":
            return True
        ignored = self.engine.ignored
        base = next((r for r in (self.paths.root, *self.engine.trees) if folder.is_relative_to(r)), None)
        if base is None:
            return False
        rel = folder.relative_to(base).as_posix() + "/"
        return ignored is not None and bool(ignored.match_file(rel))

    def _watch_agent_trees(self) -> None:
        """Follow the worktrees ``squad launch`` made (branch ``squad/<agent>``): a file an agent may
        not write that changes in its own worktree is a violation too (design section 3)."""
        if self.watcher is None or not self.enforce:
            return
        trees = agent_trees(self.paths)
        root = self.paths.root
        for top in trees.keys() - self.engine.trees.keys():
            if not top.is_relative_to(root):  # one inside the repository is watched already
                self.watcher.add_root(top)
        self.engine.trees = trees

    def close(self) -> None:
        if self._report_owed or self._snapshot_owed:  # a stop mid-stream: the last report still lands
            moment = self.clock()
            try:
                self._write_reports(self.engine.snapshot(moment), moment)
            except (OSError, SquadError) as exc:
                log.warning("could not write the last report: %s", exc)
        if self._reporter is not None:
            self._reporter.close()  # the last report lands before the coordinator is gone
        if self._follower is not None:
            self._follower.stop()
            self._follower = None
        if self._claim is not None:
            self._claim.stop()  # another host acts at once
            self._claim = None
        if self._mirror is not None:
            with contextlib.suppress(SquadError):
                self._mirror.publish_feed()  # what this host logged last reaches the others
            self._mirror.stop()
            self._mirror = None
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        if self.enforce and self.cycles:
            self._save_checkpoint()

    def __enter__(self) -> Coordinator:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stop(self) -> None:
        self.stopping.set()
        if self.watcher is not None:
            self.watcher.wake()

    def changes(self, raw: set[str]) -> list[Change]:
        out = []
        for path in sorted(raw):
            change = classify(self.paths, path, self.engine.ignored, self.engine.trees)
            if change is not None and change not in out:
                out.append(change)
        return out

    def step(self, timeout: float | None = None) -> bool:
        """Wait for one batch of changes (or the timer) and react; False once stopping."""
        assert self.watcher is not None, "open() first"
        wait = self.tick_s if timeout is None else timeout
        owed = self._report_owed or self._snapshot_owed
        raw = self.watcher.batch(min(wait, REPORT_GAP_S) if owed else wait)
        if self.stopping.is_set():
            return False
        if raw is None and owed and time.monotonic() - self._ticked_at < wait:
            # The stream of changes paused: write the report it owes, nothing more (not a tick).
            moment = self.clock()
            self._write_reports(self.engine.snapshot(moment), moment)
            return True
        if raw is None:
            self._ticked_at = time.monotonic()
            self._watch_agent_trees()  # on the slow timer: worktrees launched since
            if self._on_etcd and self._mirror is None:
                self._start_sharing()  # etcd did not answer at start
            if self.enforce:
                self._prune_lease_folders()
        changes = [Change(TICK)] if raw is None else self.changes(raw)
        if self._role_changed.is_set():  # started or stopped acting for the squad: judge afresh
            self._role_changed.clear()
            changes = [Change(TICK), *changes]
        if changes:
            try:
                self.cycle(changes)
            except Exception:  # one bad file or rule must not end the coordinator
                log.exception("coordinator cycle failed; going on")
        return True

    def run(self) -> None:
        while self.step():
            pass

    def _write_reports(self, snap: Snapshot, moment: datetime, *, snapshot: bool = True) -> None:
        """``reports/status.md`` and, with ``snapshot``, the snapshot ``squad status`` reuses.

        While changes stream in, only ``status.md`` is written: the snapshot would be out of date
        before anyone read it (status checks it against the files), and with long comm files it is
        megabytes. It is owed, and written when the stream pauses."""
        files = self.engine.signatures() if snapshot else None
        if self._reporter is not None:
            self._reporter.submit(snap, files)
        else:
            write_reports(self.paths, snap, files)
        self._reported_at, self._report_owed = moment, False
        self._snapshot_owed = not snapshot

    def _share(self, changes: list[Change]) -> None:
        """Through etcd: this host's agents' comm appends and the shared files changed here."""
        mirror = self._mirror
        assert mirror is not None
        try:
            for change in changes:
                if change.kind == COMM and change.number is not None:
                    mirror.publish(change.number)
            if any(c.kind in (PLAN, MATRIX, ALLOCATION, TICK) for c in changes):
                mirror.share_files()
        except SquadError as exc:  # etcd down: published on a later change, from where it stopped
            log.warning("could not share through etcd: %s", exc)

    def _publish_feed(self) -> None:
        """What this host's event log and coordinator comm gained: this coordinator's judgments
        when it acts, and what commands run here logged."""
        if self._mirror is None:
            return
        try:
            self._mirror.publish_feed()
        except SquadError as exc:
            log.warning("could not publish this host's records: %s", exc)

    def _prune_lease_folders(self) -> None:
        from squad.leases.locks import prune_empty

        try:
            prune_empty(self.paths)
        except (OSError, SquadError) as exc:  # tidying only: never a reason to stop
            log.warning("could not prune empty lease folders: %s", exc)

    def cycle(self, changes: list[Change]) -> list[ev.Event]:
        started = time.perf_counter()
        moment = self.clock()
        acting = self.acting()
        news = self.engine.observe_all(changes, moment)
        if self._mirror is not None:
            self._share(changes)
        if not news and all(c.kind != TICK for c in changes):
            self._publish_feed()
            return []  # only our own writes coming back: nothing to judge or redraw
        # A follower leaves what it read unjudged: when it takes over, it judges what nobody did,
        # and the keys of what the acting host logged (fed to it) keep it from judging twice.
        items = judge(self.engine, moment, enforce=acting) if acting or not self.enforce else []
        logged: list[ev.Event] = []
        if items:
            logged = actions.apply(self.paths, self.engine.config, items, moment)
            self.engine.observe(Change(EVENTS))  # read our own events back: the snapshot shows them
            self.engine.reported.update(e.key for e in logged if e.key)
            for e in logged:
                log.info("%s %s %s %s", e.kind, e.agent or "-", e.path or "-", e.detail)
        self._publish_feed()  # what this cycle logged, and what commands on this host logged meanwhile
        self.cycles += 1
        snap: Snapshot | None = None  # built only for a report or a view that asks: O(agents)
        if self.enforce:
            # An idle tick changes only how long ago things were: the reports follow every change,
            # and idle time at least every REPORT_EVERY_S (idle CPU stays near zero at 200 agents).
            # Under a stream of changes they are written at most every REPORT_GAP_S (the last one
            # is owed and written when the stream pauses): at 200 agents a report costs a few ms.
            quiet = not news and not logged
            since = (moment - self._reported_at).total_seconds() if self._reported_at else None
            due = not quiet or self._report_owed or self._snapshot_owed or since is None or since >= REPORT_EVERY_S
            if due and since is not None and since < REPORT_GAP_S and not quiet:
                self._report_owed = True
            elif due:
                snap = self.engine.snapshot(moment)
                self._write_reports(snap, moment, snapshot=quiet)
            if any(c.kind == TICK for c in changes):
                self._save_checkpoint()  # on the timer, not per change: a crash re-judges a few seconds, keys stop repeats
        if self.on_update is not None:
            self.on_update(snap or self.engine.snapshot(moment))
        spent = time.perf_counter() - started
        if spent > SLOW_CYCLE_S:
            log.warning("slow cycle: %.0f ms for %d change(s)", spent * 1000, len(changes))
        return logged

    # Which status blocks were judged already, so a restart does not judge them against new leases.
    def _restore_checkpoint(self) -> None:
        try:
            data = json.loads(self.paths.coordinator_state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        checked = data.get("checked", {}) if isinstance(data, dict) else {}
        last = data.get("last", {}) if isinstance(data, dict) else {}
        for number, source in self.engine.sources.items():
            count = checked.get(str(number))
            if isinstance(count, int) and count <= len(source.updates):
                source.checked = max(source.checked, count)
                seen = last.get(str(number)) if isinstance(last, dict) else None
                if isinstance(seen, str):
                    # The last block was judged as it stood then (against that day's ownership): a
                    # restart must not judge it again against a matrix that has moved on since.
                    source.last_seen = seen

    def _save_checkpoint(self) -> None:
        sources = sorted(self.engine.sources.items())
        data: dict[str, dict[str, object]] = {
            "checked": {str(n): s.checked for n, s in sources},
            "last": {str(n): s.last_seen for n, s in sources if s.last_seen is not None},
        }
        text = json.dumps(data, sort_keys=True) + "\n"
        if text != getattr(self, "_last_checkpoint", None):
            write_atomic(self.paths.coordinator_state, text)
            self._last_checkpoint = text


# -- the process ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DaemonInfo:
    pid: int
    started_at: datetime | None
    root: str
    ready: bool = True
    role: str = "daemon"  # or "monitor": a `squad monitor` that runs the coordinator in-process

    def uptime_s(self, at: datetime) -> float | None:
        return (at - self.started_at).total_seconds() if self.started_at else None

    def as_json(self, at: datetime) -> dict[str, Any]:
        up = self.uptime_s(at)
        return {
            "running": True,
            "pid": self.pid,
            "started_at": format_time(self.started_at) if self.started_at else None,
            "uptime_s": round(up, 1) if up is not None else None,
            "root": self.root,
            "role": self.role,
        }


def _lock(paths: SquadPaths) -> Any:
    from filelock import FileLock

    paths.control.mkdir(parents=True, exist_ok=True)
    return FileLock(str(paths.coordinator_lock), timeout=0)


def _read_pid(paths: SquadPaths) -> DaemonInfo | None:
    try:
        data = json.loads(paths.coordinator_pid.read_text(encoding="utf-8"))
        return DaemonInfo(
            int(data["pid"]),
            parse_time(str(data.get("started_at", ""))),
            str(data.get("root", "")),
            bool(data.get("ready", True)),
            str(data.get("role", "daemon")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running(paths: SquadPaths) -> DaemonInfo | None:
    """The running coordinator, or None. The filelock, not the pidfile, is the truth: a killed
    coordinator leaves a pidfile but releases its lock."""
    from filelock import Timeout

    lock = _lock(paths)
    try:
        lock.acquire()
    except Timeout:
        for _ in range(100):  # the holder writes its pidfile right after taking the lock
            info = _read_pid(paths)
            if info is not None:
                return info
            time.sleep(0.02)
        return DaemonInfo(0, None, str(paths.root))
    lock.release()
    return None


@contextlib.contextmanager
def claim(paths: SquadPaths, *, role: str = "daemon") -> Iterator[DaemonInfo]:
    """Be the one coordinator of this repository while the block runs: the filelock plus a pidfile."""
    from filelock import Timeout

    lock = _lock(paths)
    try:
        lock.acquire()
    except Timeout:
        info = _read_pid(paths)
        raise Refused(f"a coordinator already runs for {paths.root}" + (f" (pid {info.pid})" if info else "")) from None
    me = DaemonInfo(os.getpid(), now(), str(paths.root), role=role)
    try:
        started = format_time(me.started_at) if me.started_at else None
        record = {"pid": me.pid, "started_at": started, "root": me.root, "ready": False, "role": role}
        write_atomic(paths.coordinator_pid, json.dumps(record) + "\n")
        yield me
    finally:
        info = _read_pid(paths)
        if info is not None and info.pid == me.pid:
            with contextlib.suppress(OSError):
                paths.coordinator_pid.unlink()
        lock.release()


def mark_ready(paths: SquadPaths) -> None:
    """Say in the pidfile that the coordinator watches and has read the files."""
    try:
        record = json.loads(paths.coordinator_pid.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(record, dict) and record.get("pid") == os.getpid():
        record["ready"] = True
        write_atomic(paths.coordinator_pid, json.dumps(record) + "\n")


def serve(paths: SquadPaths, *, tick_s: float | None = None, foreground: bool = False) -> int:
    """Run the coordinator in this process until SIGTERM / SIGINT; refuse if one already runs."""
    with claim(paths):
        setup_logging(paths, foreground)
        coordinator = Coordinator(paths, tick_s=tick_s, background_reports=True)
        signals: list[int] = []

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: stopping", signum)
            signals.append(signum)
            coordinator.stop()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        with coordinator:
            mark_ready(paths)
            log.info("coordinator started (pid %s) for %s", os.getpid(), paths.root)
            coordinator.run()
        log.info("coordinator stopped")
    return 130 if signal.SIGINT in signals else 0  # Ctrl-C exits 130, as docs/cli.md says


def setup_logging(paths: SquadPaths, foreground: bool) -> None:
    logger = logging.getLogger("squad")
    logger.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    if not any(isinstance(h, logging.FileHandler) for h in logger.handlers):
        paths.logs.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(paths.coordinator_log, encoding="utf-8")
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    if foreground and not any(type(h) is logging.StreamHandler for h in logger.handlers):
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(fmt)
        logger.addHandler(stream)


def start(paths: SquadPaths, *, tick_s: float | None = None, wait_s: float = 180.0) -> DaemonInfo:
    """Start a detached coordinator (new session, output to ``logs/coordinator.log``) and wait until
    it has read the files (megabytes of comm files take a while on a first start)."""
    info = running(paths)
    if info is not None:
        raise Refused(_already(paths, info))
    paths.logs.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "squad.coordinator.daemon", str(paths.root)]
    if tick_s is not None:
        args += ["--tick", str(tick_s)]
    env = {**os.environ, "SQUAD_ROOT": str(paths.root)}
    with paths.coordinator_log.open("ab") as out:
        proc = subprocess.Popen(  # a detached daemon outlives this command on purpose
            args, cwd=paths.root, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        info = _read_pid(paths)
        if info is not None and info.pid == proc.pid and info.ready:
            return info
        if proc.poll() is not None:
            other = running(paths)
            if other is not None and other.pid != proc.pid:  # another start won the race
                raise Refused(_already(paths, other))
            raise SquadError(
                f"the coordinator exited at once ({proc.returncode}): see {paths.display(paths.coordinator_log)}\n"
                + _tail(paths)
            )
        time.sleep(0.01)  # a read of the pid file: cheap, and every wait here adds to the start
    raise SquadError(f"the coordinator did not start within {wait_s:g}s: see {paths.display(paths.coordinator_log)}")


def _already(paths: SquadPaths, info: DaemonInfo) -> str:
    who = f" ({'squad monitor, ' if info.role == 'monitor' else ''}pid {info.pid})" if info.pid > 0 else ""
    return f"a coordinator already runs for {paths.root}{who}"


def _tail(paths: SquadPaths, lines: int = 5) -> str:
    try:
        return "\n".join(paths.coordinator_log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop(paths: SquadPaths, *, wait_s: float = 20.0) -> DaemonInfo:
    """SIGTERM the running coordinator and wait for it to end (SIGKILL after ``wait_s``)."""
    info = running(paths)
    if info is None or info.pid <= 0:
        raise Refused(f"no coordinator runs for {paths.root}")
    try:
        os.kill(info.pid, signal.SIGTERM)
    except ProcessLookupError:
        return info
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if running(paths) is None:
            return info
        time.sleep(0.05)
    os.kill(info.pid, signal.SIGKILL)
    return info


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m squad.coordinator.daemon")
    parser.add_argument("root")
    parser.add_argument("--tick", type=float, default=None)
    args = parser.parse_args(argv)
    try:
        return serve(SquadPaths(Path(args.root)), tick_s=args.tick)
    except SquadError as exc:
        print(f"squad: error: {exc.render()}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":  # pragma: no cover - the detached process
    sys.exit(main())
