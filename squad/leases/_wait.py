"""Waking a waiting ``squad lock --wait`` when the locks folder changes (internal to ``squad.leases.locks``).

A waiter does not retry in full (mutex, scan, parse) on a fast timer: it watches ``locks/`` and
retries when the folder changed, else on the caller's backoff timer. The watch is a cheap look at
the folders of ``locks/`` (their entries and mtimes: creating, removing or renaming a lease changes
its folder) every ``POLL_S``, without taking the mutex or reading a lease.

Why not a watchdog observer: lease folders are created and pruned at a high rate under
contention, and watchdog's recursive inotify watch races with that (warnings and a dying emitter
thread on stderr of a command that must print one line); an observer thread per waiting process
was also the one thing a short-lived CLI would leave to clean up. Stat calls on a handful of
folders cost microseconds and cannot fail that way.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POLL_S = 0.05

_Signature = frozenset[tuple[str, int, frozenset[str]]]


class LocksWatch:
    """``wait(timeout)`` returns True as soon as something under ``locks/`` changed."""

    def __init__(self, folder: Path) -> None:
        self._top = os.fspath(folder)
        self._last = self._signature()

    def _signature(self) -> _Signature:
        seen = []
        stack = [self._top]
        while stack:
            folder = stack.pop()
            try:
                mtime = os.stat(folder).st_mtime_ns  # noqa: PTH116 - str paths: this runs every 50 ms
                with os.scandir(folder) as entries:
                    names = []
                    for entry in entries:
                        if folder == self._top and entry.name in (".broken", ".mutex"):
                            continue  # squad's own: the record of breaks, and the mutex every attempt opens
                        names.append(entry.name)
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
            except OSError:  # pruned while we looked: its parent's entries show the change
                continue
            seen.append((folder, mtime, frozenset(names)))
        return frozenset(seen)

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + max(0.0, timeout)
        while True:
            now = self._signature()
            if now != self._last:
                self._last = now
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(POLL_S, left))

    def close(self) -> None:
        """Nothing to stop: the watch holds no thread or descriptor (kept for a ``finally``)."""
