"""A thin pipe from watchdog to the coordinator: changed paths in, debounced batches out.

The watcher knows nothing of rules or of the ``.squad/`` layout; the engine's ``classify`` decides
what a path means. Reads (``opened``, ``closed_no_write``) are dropped here, or the coordinator's own
reads would wake it up again.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer


class _ShutdownNoise(logging.Filter):
    """watchdog logs an error when inotify delivers events to an emitter that is stopping: harmless
    at shutdown (we no longer want them), alarming on a user's terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_ShutdownNoise())

_WRITES = frozenset(("created", "modified", "deleted", "moved", "closed"))
_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]
WAKE = "\0wake"  # put by ``wake()``: returns a batch at once (a stop request, a timer)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _WRITES:
            return
        if event.is_directory:
            if event.event_type == "modified":
                return
            if event.event_type in ("created", "moved"):
                self.watcher.new_folder(Path(str(getattr(event, "dest_path", "") or event.src_path)))
        mark = "/" if event.is_directory else ""  # a folder: the path alone cannot tell once it is gone
        self.watcher.queue.put(str(event.src_path) + mark)
        dest = getattr(event, "dest_path", "")
        if dest:
            self.watcher.queue.put(str(dest) + mark)


class Watcher:
    """Watch ``roots`` recursively; ``batch(timeout)`` gives the set of paths changed since last time.

    With ``prune``, a root's top-level folders for which ``prune(folder)`` is true (``.git``,
    gitignored ``node_modules/``) get no watch at all: inotify watches cost one per folder.
    """

    def __init__(
        self, roots: Iterable[Path], *, debounce_s: float = 0.01, prune: Callable[[Path], bool] | None = None
    ) -> None:
        self.roots = [r for r in roots if r.is_dir()]
        self.debounce_s = debounce_s
        self.prune = prune
        self.queue: queue.Queue[str] = queue.Queue()
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._handler = _Handler(self)

    def start(self) -> Watcher:
        observer = Observer()
        self._observer = observer
        for root in self.roots:
            self._schedule(observer, root)
        observer.daemon = True
        observer.start()
        return self

    def _schedule(self, observer: Observer, root: Path) -> None:  # type: ignore[valid-type]
        if self.prune is None:
            observer.schedule(self._handler, str(root), recursive=True, event_filter=_FILTER)  # type: ignore[attr-defined]
            return
        observer.schedule(self._handler, str(root), recursive=False, event_filter=_FILTER)  # type: ignore[attr-defined]
        for child in sorted(root.iterdir()):
            if child.is_dir() and not child.is_symlink() and not self.prune(child):
                observer.schedule(self._handler, str(child), recursive=True, event_filter=_FILTER)  # type: ignore[attr-defined]

    def add_root(self, root: Path) -> None:
        """Watch one more tree while running (a worktree ``squad launch`` made after the start)."""
        if self._observer is None or root in self.roots or not root.is_dir():
            return
        self.roots.append(root)
        try:
            self._schedule(self._observer, root)
        except OSError:
            return

    def new_folder(self, folder: Path) -> None:
        """A folder created at the top of a pruned root needs a watch of its own."""
        if self.prune is None or self._observer is None or folder.parent not in self.roots or self.prune(folder):
            return
        try:
            self._observer.schedule(self._handler, str(folder), recursive=True, event_filter=_FILTER)
        except OSError:
            return
        # files written before the watch existed
        for path in folder.rglob("*"):
            self.queue.put(str(path) + ("/" if path.is_dir() else ""))

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
            self._observer = None

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wake(self) -> None:
        self.queue.put(WAKE)

    def batch(self, timeout: float | None) -> set[str] | None:
        """Block until a path changes (or ``timeout``), then gather a burst; None on timeout.
        A folder's path ends in ``/``."""
        try:
            first = self.queue.get(timeout=timeout)
        except queue.Empty:
            return None
        out = {first}
        if first != WAKE:
            time.sleep(self.debounce_s)  # let a burst of writes (temp + rename, appends) land
        while True:
            try:
                out.add(self.queue.get_nowait())
            except queue.Empty:
                return out
