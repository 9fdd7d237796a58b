"""Waking a waiting ``squad lock --wait`` when the locks folder changes (internal to ``squad.locks``).

A waiter sleeps on a watchdog observer of ``locks/`` instead of retrying on a timer: a release
(a lease file deleted or moved to ``.broken/``) wakes it at once. watchdog is imported only once a
wait has begun, so an uncontended ``squad lock`` never pays for it. Where no observer can start
(no watchdog, inotify watches exhausted), the waiter falls back to sleeping with backoff.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

# Reading a lease opens and closes it, and every attempt takes the mutex: neither is a change a
# waiter must react to (reacting to them would be a busy loop).
_CHANGES = frozenset({"created", "deleted", "modified", "moved"})


class LocksWatch:
    """``wait(timeout)`` returns True when something under ``locks/`` changed meanwhile."""

    def __init__(self, folder: Path, mutex_file: str) -> None:
        self._changed = threading.Event()
        self._ignored = {mutex_file}
        self._observer: Any = None
        try:
            self._observer = self._start(folder)
        except Exception:  # any failure to watch falls back to timed retries
            self._observer = None

    @property
    def watching(self) -> bool:
        return self._observer is not None

    def _start(self, folder: Path) -> Any:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        watch = self

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type not in _CHANGES or (event.is_directory and event.event_type == "modified"):
                    return  # a folder's "modified" is its metadata (a listing, a lock taken in it)
                touched = {os.fsdecode(event.src_path), os.fsdecode(event.dest_path or b"")}
                if touched - watch._ignored - {""}:
                    watch._changed.set()

        observer = Observer()
        observer.daemon = True
        observer.schedule(_Handler(), os.fspath(folder), recursive=True)
        observer.start()
        return observer

    def wait(self, timeout: float) -> bool:
        fired = self._changed.wait(max(0.0, timeout))
        self._changed.clear()
        return fired

    def close(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
            self._observer = None
