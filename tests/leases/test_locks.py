"""squad.leases.locks: leases on real files, hierarchy conflicts, stale breaking, hand-written leases."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from squad.agents.updates import post_update
from squad.config import Config
from squad.errors import Refused, SquadError
from squad.leases import locks
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import Status
from squad.protocol.times import format_time, now


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("shared/types/metrics.ts", "shared/types/metrics.ts", True),
        ("shared/", "shared/types/metrics.ts", True),
        ("shared/types/metrics.ts", "shared/", True),
        ("shared/types/", "shared/types/metrics.ts", True),
        ("shared", "shared/x.ts", True),
        ("src/", "src2/x.py", False),
        ("src/a.py", "src/b.py", False),
        ("shared/types/metrics.ts", "shared/types/metrics.tsx", False),
        ("@git", "@git", True),
        ("@git", "@GIT", True),
        ("@git", "@deploy", False),
        ("@git", "git/", False),
    ],
)
def test_conflicts(a: str, b: str, expected: bool) -> None:
    assert locks.conflicts(a, b) is expected


def test_acquire_writes_mirrored_json_lease(squad: SquadPaths) -> None:
    lease = locks.acquire(squad, "agent-1-frontend", "shared/types/metrics.ts", reason="add UserMetric", ttl_s=60)
    file = squad.locks / "shared" / "types" / "metrics.ts.lock"
    data = json.loads(file.read_text())
    assert data["agent"] == "agent-1-frontend"
    assert data["path"] == "shared/types/metrics.ts"
    assert data["ttl_s"] == 60
    assert data["reason"] == "add UserMetric"
    assert {"acquired_at", "expires_at", "host", "pid"} <= data.keys()
    assert lease.expires_at - lease.acquired_at == timedelta(seconds=60)


def test_resource_lease_file(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-1", "@db-migrations")
    assert (squad.locks / "@db-migrations.lock").is_file()
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-2", "@db-migrations")
    locks.acquire(squad, "agent-2", "@git")


def test_own_lease_is_renewed_not_refused(squad: SquadPaths) -> None:
    first = locks.acquire(squad, "agent-1-frontend", "package.json", ttl_s=10)
    again = locks.acquire(squad, "agent-1", "package.json", ttl_s=100, reason="still on it")
    assert abs((again.acquired_at - first.acquired_at).total_seconds()) < 0.001  # stored to the millisecond
    assert again.ttl_s == 100
    assert again.reason == "still on it"
    assert len(locks.held(squad)) == 1


def test_lock_held_names_holder_since_until_why(squad: SquadPaths) -> None:
    lease = locks.acquire(squad, "agent-2-backend", "shared/types/user.ts", reason="new fields")
    with pytest.raises(locks.LockHeld) as info:
        locks.acquire(squad, "agent-1-frontend", "shared/types/user.ts")
    message = str(info.value)
    assert "agent-2-backend" in message
    assert format_time(lease.acquired_at) in message
    assert format_time(lease.expires_at) in message
    assert "new fields" in message
    assert info.value.exit_code == 1
    assert info.value.lease.agent == "agent-2-backend"


def test_folder_and_file_conflict_both_ways(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-1", "shared/types/metrics.ts")
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-2", "shared/")
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-2", "shared/types/")
    locks.acquire(squad, "agent-2", "shared/types/user.ts")  # a sibling is fine
    locks.acquire(squad, "agent-3", "shared2/")  # a name sharing a prefix is fine
    locks.release(squad, "agent-1", "shared/types/metrics.ts")
    locks.release(squad, "agent-2", "shared/types/user.ts")
    locks.acquire(squad, "agent-2", "shared/")
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-1", "shared/types/metrics.ts")
    # the folder's holder may take leases inside its own folder
    locks.acquire(squad, "agent-2", "shared/types/metrics.ts")


def test_emptied_lease_folders_are_pruned_later_and_only_those(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-1", "a/b/c.txt")
    locks.acquire(squad, "agent-2", "a/d.txt")
    locks.release(squad, "agent-1", "a/b/c.txt")
    assert (squad.locks / "a" / "b").is_dir()  # a release leaves its folders (pruning is lazy)
    locks.acquire(squad, "agent-3", "a/b/e.txt")  # ...which the next lease there reuses
    locks.release(squad, "agent-3", "a/b/e.txt")
    (squad.broken_locks / "old").mkdir(parents=True)
    assert locks.prune_empty(squad) == 1
    assert not (squad.locks / "a" / "b").exists()
    assert (squad.locks / "a" / "d.txt.lock").is_file()
    assert (squad.broken_locks / "old").is_dir()  # the record of breaks is never pruned
    locks.release(squad, "agent-2", "a/d.txt")
    assert locks.prune_empty(squad) == 1
    assert not (squad.locks / "a").exists()
    assert squad.locks.is_dir()
    assert locks.prune_empty(squad) == 0


def test_release_refuses_others_and_missing(squad: SquadPaths) -> None:
    with pytest.raises(Refused):
        locks.release(squad, "agent-1", "nothing.txt")
    locks.acquire(squad, "agent-2", "x.txt")
    with pytest.raises(locks.LockHeld):
        locks.release(squad, "agent-1", "x.txt")
    forced = locks.release(squad, "agent-1", "x.txt", force=True)
    assert forced.agent == "agent-2"
    assert not squad.lease_file("x.txt").exists()
    [event] = [e for e in ev.read_events(squad.events) if e.kind == ev.LOCK_BROKEN]
    assert event.data["forced"] is True
    assert event.data["by"] == "agent-1"
    assert list(squad.broken_locks.iterdir())


def test_renew_and_renew_all(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-1", "a.txt", ttl_s=5)
    locks.acquire(squad, "agent-1", "@git", ttl_s=5)
    locks.acquire(squad, "agent-2", "b.txt", ttl_s=5)
    renewed = locks.renew(squad, "agent-1", "a.txt", ttl_s=50)
    assert renewed.ttl_s == 50
    with pytest.raises(Refused):
        locks.renew(squad, "agent-1", "b.txt")
    with pytest.raises(Refused):
        locks.renew(squad, "agent-1", "c.txt")
    later = now() + timedelta(seconds=30)
    out = locks.renew_all(squad, "agent-1-frontend", later)
    assert sorted(x.path for x in out) == ["@git", "a.txt"]
    by_path = {x.path: x for x in locks.held(squad)}
    assert by_path["@git"].expires_at >= later + timedelta(seconds=4) - timedelta(milliseconds=1)
    assert by_path["b.txt"].expires_at < later
    assert locks.renew_all(squad, "agent-9", later) == []


def test_status_update_renews_holder_leases(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-1-frontend", "a.txt", ttl_s=5)
    before = locks.held(squad)[0].expires_at
    post_update(squad, "agent-1-frontend", status=Status.ACTIVE, at=now() + timedelta(seconds=60))
    assert locks.held(squad)[0].expires_at > before + timedelta(seconds=50)


def _write_lease(squad: SquadPaths, target: str, agent: str, *, expires_in: float, pid: int | None = None) -> Path:
    at = now()
    file = squad.lease_file(target)
    file.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "agent": agent,
        "path": target,
        "acquired_at": format_time(at - timedelta(seconds=60)),
        "expires_at": format_time(at + timedelta(seconds=expires_in)),
        "ttl_s": 60 + expires_in,  # taken a minute ago, never renewed
        "reason": None,
        "host": "h",
        "pid": pid,
    }
    file.write_text(json.dumps(data))
    return file


def _broken_events(squad: SquadPaths) -> list[ev.Event]:
    return [e for e in ev.read_events(squad.events) if e.kind == ev.LOCK_BROKEN]


def test_expired_lease_is_broken_by_acquire(squad: SquadPaths) -> None:
    _write_lease(squad, "shared/types/metrics.ts", "agent-2", expires_in=-5)
    lease = locks.acquire(squad, "agent-1", "shared/")
    assert lease.agent == "agent-1"
    [moved] = list(squad.broken_locks.iterdir())
    data = json.loads(moved.read_text())
    assert data["agent"] == "agent-2"
    assert "expired" in data["broken"]["reason"]
    [event] = _broken_events(squad)
    assert event.path == "shared/types/metrics.ts"
    assert event.agent == "agent-2"
    assert event.data["forced"] is False


def test_holder_done_makes_lease_stale(squad: SquadPaths) -> None:
    _write_lease(squad, "api.py", "agent-2-backend", expires_in=600)
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-1", "api.py")
    post_update(squad, "agent-2-backend", status=Status.DONE)
    locks.acquire(squad, "agent-1", "api.py")
    [event] = _broken_events(squad)
    assert "DONE" in event.detail


def test_holder_pid_gone_makes_lease_stale(squad: SquadPaths) -> None:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(proc.stdout)
    locks.acquire(squad, "agent-2", "x.py", pid=dead)
    locks.acquire(squad, "agent-3", "y.py", pid=__import__("os").getpid())
    broken = locks.break_stale(squad, now())
    assert [b.lease.path for b in broken] == ["x.py"]
    assert "process" in broken[0].reason
    assert [x.path for x in locks.held(squad)] == ["y.py"]


def test_break_stale_never_touches_live_leases(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-1", "a.txt")
    _write_lease(squad, "b.txt", "agent-2", expires_in=-1)
    assert [b.lease.path for b in locks.break_stale(squad, now())] == ["b.txt"]
    assert [x.path for x in locks.held(squad)] == ["a.txt"]
    assert locks.break_stale(squad, now()) == []


def test_break_lease_is_unconditional_and_logged(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-1", "shared/")
    broken = locks.break_lease(squad, "shared/", "deadlock: youngest lease", now=now(), by="coordinator")
    assert broken is not None
    assert broken.moved_to.parent == squad.broken_locks
    assert locks.held(squad) == []
    assert locks.break_lease(squad, "shared/", "again", now=now()) is None
    [event] = _broken_events(squad)
    assert event.data["by"] == "coordinator"


def test_empty_lease_file_is_a_crash_leftover(squad: SquadPaths) -> None:
    squad.lease_file("a.txt").write_text("")
    assert locks.held(squad) == []
    locks.acquire(squad, "agent-1", "a.txt")
    assert locks.held(squad)[0].agent == "agent-1"


def test_malformed_lease_is_a_one_line_error(squad: SquadPaths) -> None:
    squad.lease_file("a.txt").write_text("{not json")
    with pytest.raises(SquadError) as info:
        locks.acquire(squad, "agent-1", "a.txt")
    assert "a.txt.lock:1" in info.value.render()


# -- leases written by hand (ai-agent-hub squad mode) -------------------------------------------


def test_hand_written_nested_lease_conflicts(squad: SquadPaths) -> None:
    file = squad.locks / "shared" / "types" / "metrics.ts.lock"
    file.parent.mkdir(parents=True)
    file.write_text(
        f"LOCKED_BY: agent-2-backend\nLOCKED_AT: {format_time(now())}\nPURPOSE: Adding API types\n"
        "ESTIMATED_DURATION: 15 minutes\n"
    )
    with pytest.raises(locks.LockHeld) as info:
        locks.acquire(squad, "agent-1", "shared/types/metrics.ts")
    assert "agent-2-backend" in str(info.value)
    assert "Adding API types" in str(info.value)
    [lease] = locks.held(squad)
    assert lease.hand_written
    assert lease.path == "shared/types/metrics.ts"


def test_hand_written_lease_expires_at_locked_at_plus_ttl(squad: SquadPaths) -> None:
    (squad.locks / "notes.md.lock").write_text("LOCKED_BY: agent-2\nLOCKED_AT: 2020-01-01 10:00\n")
    locks.acquire(squad, "agent-1", "notes.md")
    assert "expired" in _broken_events(squad)[0].detail


def test_flat_hand_written_lease_applies_to_unique_basename(squad: SquadPaths, repo: Path) -> None:
    (repo / "shared" / "types").mkdir(parents=True)
    (repo / "shared" / "types" / "metrics.ts").write_text("export {}\n")
    (squad.locks / "metrics.ts.lock").write_text(f"LOCKED_BY: agent-3-ml\nLOCKED_AT: {format_time(now())}\n")
    [lease] = locks.held(squad)
    assert lease.path == "shared/types/metrics.ts"
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-1", "shared/types/")
    locks.release(squad, "agent-3", "shared/types/metrics.ts")
    assert not (squad.locks / "metrics.ts.lock").exists()


def test_flat_lease_with_ambiguous_basename_stays_at_root(squad: SquadPaths, repo: Path) -> None:
    for folder in ("a", "b"):
        (repo / folder).mkdir()
        (repo / folder / "index.ts").write_text("")
    (squad.locks / "index.ts.lock").write_text(f"LOCKED_BY: agent-3\nLOCKED_AT: {format_time(now())}\n")
    assert [x.path for x in locks.held(squad)] == ["index.ts"]
    locks.acquire(squad, "agent-1", "a/index.ts")


def test_yaml_hand_written_lease_and_non_lock_files_ignored(squad: SquadPaths) -> None:
    deep = squad.locks / "deep" / "er"
    deep.mkdir(parents=True)
    expires = format_time(now() + timedelta(hours=1))
    (deep / "x.py.lock").write_text(f"locked_by: agent-4\nexpires_at: {expires}\n")
    (squad.locks / "README.md").write_text("not a lease\n")
    (squad.locks / "y.py.lock.bak").write_text("LOCKED_BY: agent-5\n")
    assert [(x.path, x.agent) for x in locks.held(squad)] == [("deep/er/x.py", "agent-4")]
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-1", "deep/")


def test_handoff_to_is_told_on_release(squad: SquadPaths) -> None:
    (squad.locks / "api.ts.lock").write_text(
        f"LOCKED_BY: agent-1-frontend\nLOCKED_AT: {format_time(now())}\nHANDOFF_TO: agent-2-backend\n"
    )
    lease = locks.release(squad, "agent-1", "api.ts")
    assert lease.handoff_to == "agent-2-backend"
    notice = squad.coordinator_comm.read_text()
    assert "TO: agent-2-backend" in notice
    assert "api.ts" in notice
    [event] = [e for e in ev.read_events(squad.events) if e.kind == ev.LOCK_RELEASED]
    assert event.data["handoff_to"] == "agent-2-backend"


# -- waiting ----------------------------------------------------------------------------------


def test_wait_until_released_logs_lock_wait(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-2", "a.txt")
    releaser = threading.Timer(0.3, locks.release, args=(squad, "agent-2", "a.txt"))
    releaser.start()
    try:
        lease = locks.acquire(squad, "agent-1", "a.txt", wait_s=30)
    finally:
        releaser.join()
    assert lease.agent == "agent-1"
    [wait] = [e for e in ev.read_events(squad.events) if e.kind == ev.LOCK_WAIT]
    assert wait.data["waited_s"] > 0
    assert wait.data["granted"] is True


def test_wait_times_out_with_lock_held(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-2", "a.txt")
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-1", "a.txt", wait_s=0.2)
    [wait] = [e for e in ev.read_events(squad.events) if e.kind == ev.LOCK_WAIT]
    assert wait.data["granted"] is False
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-1", "a.txt")  # no wait, no event
    assert len([e for e in ev.read_events(squad.events) if e.kind == ev.LOCK_WAIT]) == 1


def test_config_ttl_is_read_without_full_config(squad: SquadPaths) -> None:
    squad.config.write_text("lock_ttl_s: 90  # short\nagent_idle_s: 60\n")
    lease = locks.acquire(squad, "agent-1", "a.txt")
    assert lease.ttl_s == 90
    squad.config.write_text("lock_ttl_s: soon\n")
    with pytest.raises(SquadError) as info:
        locks.acquire(squad, "agent-2", "b.txt")
    assert "config.yaml:1" in info.value.render()
    lease = locks.acquire(squad, "agent-2", "b.txt", config=Config(lock_ttl_s=42))
    assert lease.ttl_s == 42


def test_hand_written_holder_in_prose_can_release(squad: SquadPaths) -> None:
    (squad.locks / "db.py.lock").write_text(f"LOCKED_BY: Agent 2 (backend)\nLOCKED_AT: {format_time(now())}\n")
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-1", "db.py")
    assert locks.same_holder("Agent 2 (backend)", "agent-2-backend")
    assert not locks.same_holder("Agent 2 (backend)", "agent-1")
    locks.release(squad, "agent-2", "db.py")
    assert locks.held(squad) == []


def test_hand_written_yaml_lease_with_lists_and_document_marker(squad: SquadPaths) -> None:
    expires = format_time(now() + timedelta(hours=1))
    (squad.locks / "api.py.lock").write_text(
        f"---\nlocked_by: agent-2-backend\nexpires_at: {expires}\npurpose: endpoints\nfiles:\n  - api.py\n  - db.py\n"
    )
    [lease] = locks.held(squad)
    assert (lease.agent, lease.reason, lease.hand_written) == ("agent-2-backend", "endpoints", True)
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-1", "api.py")


def test_hand_written_lease_with_decorated_keys(squad: SquadPaths) -> None:
    (squad.locks / "db.py.lock").write_text(
        f"# Lock\n**LOCKED_BY:** agent-2\n- **LOCKED_AT**: {format_time(now())}\n- PURPOSE: schema\n"
    )
    [lease] = locks.held(squad)
    assert (lease.agent, lease.reason) == ("agent-2", "schema")


def test_leases_of_dot_paths_are_seen(squad: SquadPaths) -> None:
    # Regression: lease_files skipped every dot folder and dot file, so .github/ could be granted
    # over a live lease on .github/workflows/ci.yml, and .env could not be renewed.
    locks.acquire(squad, "agent-1", ".github/workflows/ci.yml")
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-2", ".github/")
    locks.acquire(squad, "agent-1", ".env")
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-2", ".env")
    locks.acquire(squad, "agent-1", ".env", ttl_s=99)  # the holder renews it
    assert [(x.path, x.ttl_s) for x in locks.held(squad)] == [(".env", 99), (".github/workflows/ci.yml", 1800)]
    with pytest.raises(SquadError, match="broken"):
        locks.acquire(squad, "agent-1", ".broken/x.txt")


def test_unreadable_lease_blocks_only_the_path_it_stands_for(squad: SquadPaths) -> None:
    # Regression: one malformed lease made every acquire, renew_all and status update fail.
    (squad.locks / "y.py.lock").write_text("LOCKED_BY: agent-2\nLOCKED_AT: 2026-11-22 14:05\nsee the plan\n")
    locks.acquire(squad, "agent-1", "other.py")
    post_update(squad, "agent-1", status=Status.ACTIVE)  # renews agent-1's leases, passing the bad file over
    with pytest.raises(SquadError) as info:
        locks.acquire(squad, "agent-3", "y.py")
    message = info.value.render()
    assert message.startswith(".squad/locks/y.py.lock:3: unreadable lease: cannot read lease line 'see the plan'")
    assert "squad unlock --force y.py" in message
    assert "\n" not in message
    assert not isinstance(info.value, Refused)  # bad input: exit 2, not "held"
    with pytest.raises(SquadError):
        locks.held(squad)
    survey = locks.survey(squad)
    assert [x.path for x in survey.leases] == ["other.py"]
    assert [target for target, _ in survey.unreadable] == ["y.py"]
    assert [b.lease.path for b in locks.break_stale(squad, now() + timedelta(days=1))] == ["other.py"]
    assert (squad.locks / "y.py.lock").exists()  # never broken as stale: it may be live
    with pytest.raises(SquadError):
        locks.release(squad, "agent-3", "y.py")
    broken = locks.release(squad, "agent-3", "y.py", force=True)
    assert broken.path == "y.py"
    assert not (squad.locks / "y.py.lock").exists()
    event = _broken_events(squad)[-1]
    assert (event.path, event.data["forced"]) == ("y.py", True)
    assert "unreadable" in event.detail
    locks.acquire(squad, "agent-3", "y.py")


def test_unreadable_flat_lease_blocks_the_file_of_its_basename(squad: SquadPaths, repo: Path) -> None:
    (repo / "src").mkdir()
    (repo / "src" / "metrics.ts").write_text("")
    (squad.locks / "metrics.ts.lock").write_bytes(b"LOCKED_BY: \xff agent-2\n")
    with pytest.raises(SquadError, match=r"metrics.ts.lock:1: unreadable lease: not UTF-8"):
        locks.acquire(squad, "agent-1", "src/")
    locks.acquire(squad, "agent-1", "lib/")


def test_ttl_must_be_finite_positive_and_bounded(squad: SquadPaths) -> None:
    for bad in (0.0, -1.0, float("nan"), float("inf"), 1e300):
        with pytest.raises(SquadError, match="ttl must be"):
            locks.acquire(squad, "agent-1", "a.txt", ttl_s=bad)
    locks.acquire(squad, "agent-1", "a.txt")
    with pytest.raises(SquadError, match="ttl must be"):
        locks.renew(squad, "agent-1", "a.txt", ttl_s=float("nan"))
    with pytest.raises(SquadError, match="wait"):
        locks.acquire(squad, "agent-2", "a.txt", wait_s=float("nan"))


def test_pid_of_a_lease_from_another_host_is_not_judged(squad: SquadPaths) -> None:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    file = _write_lease(squad, "x.py", "agent-2", expires_in=600, pid=int(proc.stdout))
    data = json.loads(file.read_text())
    data["host"] = "some-other-machine"
    file.write_text(json.dumps(data))
    assert locks.break_stale(squad, now()) == []
    with pytest.raises(locks.LockHeld):
        locks.acquire(squad, "agent-1", "x.py")


def test_wait_sleeps_until_the_locks_folder_changes(squad: SquadPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--wait`` never busy-spins: full attempts happen on a change under locks/ or a backoff timer."""
    attempts = []
    real = locks._try_acquire

    def counting(*args: object, **kwargs: object) -> object:
        attempts.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(locks, "_try_acquire", counting)
    locks.acquire(squad, "agent-2", "a.txt")
    attempts.clear()
    releaser = threading.Timer(1.5, locks.release, args=(squad, "agent-2", "a.txt"))
    releaser.start()
    try:
        lease = locks.acquire(squad, "agent-1", "a.txt", wait_s=60)
    finally:
        releaser.join()
    assert lease.agent == "agent-1"
    # 1.5 s of waiting: a handful of timed retries with backoff (and one on the release), not a spin.
    assert len(attempts) <= 20, len(attempts)


def test_handoff_to_is_told_when_the_lease_is_broken_too(squad: SquadPaths) -> None:
    (squad.locks / "api.ts.lock").write_text("LOCKED_BY: agent-1\nLOCKED_AT: 2020-01-01 10:00\nHANDOFF_TO: agent-2\n")
    [broken] = locks.break_stale(squad, now())
    assert broken.lease.handoff_to == "agent-2"
    notice = squad.coordinator_comm.read_text()
    assert "TO: agent-2" in notice
    assert "api.ts was freed (expired at 2020-01-01T10:30:00Z)" in notice


def test_locks_watch_sees_lease_changes_at_any_depth_but_not_the_mutex(squad: SquadPaths) -> None:
    from squad.leases._wait import LocksWatch

    locks.acquire(squad, "agent-2", "x/y/b.txt")
    watch = LocksWatch(squad.locks)
    assert not watch.wait(0.1)
    with locks.mutex(squad):  # every attempt of every waiter takes it: not a change
        pass
    assert not watch.wait(0.1)
    locks.acquire(squad, "agent-2", "x/y/a.txt")
    assert watch.wait(30)
    locks.renew(squad, "agent-2", "x/y/a.txt")
    assert watch.wait(30)
    locks.release(squad, "agent-2", "x/y/a.txt")
    assert watch.wait(30)
    locks.release(squad, "agent-2", "x/y/b.txt")  # the lease and its pruned folders
    assert watch.wait(30)
    assert not watch.wait(0.1)


def test_api_refuses_targets_that_would_leave_the_locks_folder(squad: SquadPaths) -> None:
    for bad in ("../x.txt", "a/../../x", "/etc/passwd", ""):
        with pytest.raises(SquadError, match="bad lease target"):
            locks.acquire(squad, "agent-1", bad)
    assert not list(squad.squad.glob("*.lock"))
