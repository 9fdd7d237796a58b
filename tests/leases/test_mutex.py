"""The lease mutex (``control/locks.mutex``): exclusive between threads, processes and a fork's
two sides, reentrant within a thread, and the same lock as a plain ``filelock.FileLock``."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import filelock
import pytest

from squad.leases import locks
from squad.leases._scan import mutex_file
from squad.paths import SquadPaths


def _bump(counter: Path) -> None:
    """A read-modify-write that loses counts unless the mutex excludes every other writer."""
    value = int(counter.read_text() or "0")
    time.sleep(0.0005)
    counter.write_text(str(value + 1))


def _bump_many(root: str, counter: str, times: int) -> None:
    paths = SquadPaths(Path(root))
    for _ in range(times):
        with locks.mutex(paths):
            _bump(Path(counter))


def test_threads_and_processes_never_hold_it_together(squad: SquadPaths, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_bump_many, args=(str(squad.root), str(counter), 40)) for _ in range(3)]
    threads = [threading.Thread(target=_bump_many, args=(str(squad.root), str(counter), 40)) for _ in range(3)]
    for worker in [*procs, *threads]:
        worker.start()
    for thread in threads:
        thread.join(60)
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    assert counter.read_text() == str(6 * 40)


def test_reentrant_within_a_thread(squad: SquadPaths) -> None:
    with locks.mutex(squad), locks.mutex(squad):
        assert _held_elsewhere(squad)
    assert not _held_elsewhere(squad)


def _held_elsewhere(paths: SquadPaths) -> bool:
    """Whether another process finds the mutex taken (asked with filelock's own FileLock)."""
    import subprocess
    import sys

    probe = (
        "import filelock, sys\n"
        f"lock = filelock.FileLock({mutex_file(paths)!r}, timeout=0)\n"
        "try:\n    lock.acquire()\nexcept filelock.Timeout:\n    sys.exit(3)\n"
        "lock.release()\n"
    )
    return subprocess.run([sys.executable, "-c", probe], check=False).returncode == 3


def test_a_plain_filelock_on_the_file_excludes_it(squad: SquadPaths) -> None:
    """Another tool (or an older squad) holding the file through FileLock holds the mutex."""
    other = filelock.FileLock(mutex_file(squad), is_singleton=False, thread_local=False)
    other.acquire()
    entered = threading.Event()

    def take() -> None:
        with locks.mutex(squad):
            entered.set()

    thread = threading.Thread(target=take)
    thread.start()
    assert not entered.wait(0.3)
    other.release()
    assert entered.wait(10)
    thread.join(10)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_does_not_inherit_the_parents_hold(squad: SquadPaths, tmp_path: Path) -> None:
    marker = tmp_path / "child-entered"
    with locks.mutex(squad):
        pid = os.fork()
        if pid == 0:  # the child: must wait for the parent, not share its lock
            code = 1
            try:
                with locks.mutex(squad):
                    marker.write_text(str(time.monotonic()))
                code = 0
            finally:
                os._exit(code)
        time.sleep(0.3)
        assert not marker.exists()
        released = time.monotonic()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert float(marker.read_text()) >= released


def test_control_removed_by_hand_is_made_again_and_still_excludes(squad: SquadPaths) -> None:
    """A long-lived process (the coordinator) keeps its descriptor open: once the file is
    removed, it must lock the new file, or it would exclude nobody."""
    import shutil

    with locks.mutex(squad):
        pass
    shutil.rmtree(squad.control)
    with locks.mutex(squad):
        assert Path(mutex_file(squad)).exists()
        assert _held_elsewhere(squad)
    squad.control.mkdir(exist_ok=True)
    Path(mutex_file(squad)).unlink()
    Path(mutex_file(squad)).write_text("")  # replaced by another file of the same name
    with locks.mutex(squad):
        assert _held_elsewhere(squad)
