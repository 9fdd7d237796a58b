"""Process groups of launched agents: signal them, wait for them to be gone, measure them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from typing import Any


def sample_tree_usage(pid: int, watched: dict[int, Any]) -> tuple[float, float]:
    """CPU percent and resident MB of ``pid`` and its descendants.

    ``watched`` keeps the psutil.Process objects between calls (CPU percent is a delta since the
    previous call on the same object); it is updated in place.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0, 0.0
    cpu = rss = 0.0
    seen: dict[int, Any] = {}
    for proc in procs:
        known = watched.get(proc.pid, proc)
        try:
            cpu += known.cpu_percent(None)
            rss += known.memory_info().rss
        except psutil.Error:
            continue
        seen[proc.pid] = known
    watched.clear()
    watched.update(seen)
    return cpu, rss / (1024 * 1024)


def signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def group_alive(pgid: int) -> bool:
    """True while a process of group ``pgid`` runs (zombies waiting for a busy init do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    import psutil

    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                return True
        except (OSError, psutil.Error):
            continue
    return False


def wait_group_gone(pgid: int, deadline: float) -> bool:
    """Wait until no process of group ``pgid`` is left, or ``deadline`` (monotonic) passes."""
    while group_alive(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
