"""Every write squad makes goes through here: an atomic replace, or an append of whole lines."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: Path, text: str | Iterable[str], *, fsync: bool = True) -> None:
    """Replace ``path`` with ``text``: temp file in the same folder, fsync, rename.

    Readers see the old content or the new one, never a half-written file. ``fsync=False`` for
    files rebuilt from others every few seconds (reports): only a power cut could lose them.
    ``text`` may come in pieces: a file of megabytes is then never one string in memory, and a
    writer thread gives the interpreter up between pieces instead of holding it for one long copy.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            if isinstance(text, str):
                handle.write(text)
            else:
                for piece in text:
                    handle.write(piece)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise


def create_exclusive(path: Path, text: str, *, fsync: bool = True) -> bool:
    """Create ``path`` holding ``text`` only if it does not exist (O_EXCL); False if it did.

    ``fsync=False`` skips the flush to disk for short-lived files (leases): other processes see
    the data at once either way; only a power cut could lose it.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        try:
            fd = os.open(path, flags, 0o644)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, flags, 0o644)
    except FileExistsError:
        return False
    try:
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    return True


def append_lines(path: Path, text: str, *, fsync: bool = True) -> None:
    """Append ``text`` (whole lines) to ``path`` in one ``write`` on an O_APPEND descriptor.

    POSIX makes each O_APPEND write land at the end of the file; writing the whole block in one
    call (looping only on a short write) keeps blocks from different processes whole.
    An advisory ``flock`` serialises writers that race on the same file, so even a short write
    cannot interleave with another process's block. ``fsync=False`` for the coordinator's own
    records (events, notices): readers see them at once either way, a power cut could lose the
    last few, and a flush to disk on each would hold up its reaction to the next change.
    """
    if not text.endswith("\n"):
        text += "\n"
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        _lock(fd)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the flock


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: O_APPEND alone
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
