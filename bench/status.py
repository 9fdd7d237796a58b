"""`squad status --json` against the length of the comm files, with the coordinator running.

One agent's comm file holds 1 KB, 1 MB or 10 MB of status blocks; a running coordinator has read
it, so `squad status` reuses its snapshot instead of parsing the file again. Each size is timed as
the median of several runs of the real command; the figure is the 10 MB time over the 1 KB time.
``--no-daemon`` times the same without a coordinator (status parses every file itself).

Target: status at 10 MB within 3x of 1 KB.

    python bench/status.py
    python bench/status.py --runs 5 --no-daemon
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _compiled import compile_children_once

from squad.coordinator import daemon
from squad.protocol.comm import Status, format_status_update
from squad.protocol.plan import Plan, PlanTask, write_plan
from squad.protocol.times import now
from squad.protocol.workspace import init_squad

SQUAD = str(Path(sys.executable).with_name("squad"))
SIZES = {"1 KB": 1_000, "1 MB": 1_000_000, "10 MB": 10_000_000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-daemon", action="store_true")
    args = parser.parse_args()
    times = {label: time_status(size, args.runs, daemon_running=not args.no_daemon) for label, size in SIZES.items()}
    for label, seconds in times.items():
        print(f"squad status --json, {label} comm file: {seconds:.3f} s (median of {args.runs})")
    print(f"status 10 MB / 1 KB: {times['10 MB'] / times['1 KB']:.2f}x (target <= 3x)")
    return 0


def time_status(size: int, runs: int, *, daemon_running: bool) -> float:
    with tempfile.TemporaryDirectory(prefix="squad-bench-") as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        paths, _ = init_squad(root)
        write_plan(paths.plan(1), Plan(agent="agent-1-web", role="web", owns=("web/",), tasks=(PlanTask("T1", "t"),)))
        parts, total, i = [], 0, 0
        while total < size:
            block = format_status_update(
                agent="agent-1-web", status=Status.ACTIVE, at=now(), task="T1", files=(f"web/f{i}.ts",)
            )
            parts.append(block)
            total += len(block)
            i += 1
        paths.comm(1).write_text("".join(parts))
        compile_children_once(Path(tmp) / ".pycache")
        if daemon_running:
            daemon.start(paths)
        try:
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                subprocess.run([SQUAD, "status", "--json"], cwd=root, capture_output=True, check=True)
                samples.append(time.perf_counter() - started)
        finally:
            if daemon_running:
                daemon.stop(paths)
        return statistics.median(samples)


if __name__ == "__main__":
    sys.exit(main())
