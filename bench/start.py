"""How long the coordinator takes to start for a large squad: N agents, each with a plan and a short
comm file, from `squad daemon start` until it has read them all and is ready. Median of rounds.

Target: 500 agents < 1 s.

    python bench/start.py
    python bench/start.py --agents 1000 --rounds 3
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="squad-bench-") as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        paths, _ = init_squad(root)
        for n in range(1, args.agents + 1):
            tasks = tuple(PlanTask(f"T{n}-{i}", f"task {i}", (f"area{n}/f{i}.py",)) for i in range(3))
            write_plan(paths.plan(n), Plan(agent=f"agent-{n}-r{n}", role=f"r{n}", owns=(f"area{n}/",), tasks=tasks))
            block = format_status_update(agent=f"agent-{n}-r{n}", status=Status.ACTIVE, at=now(), task=f"T{n}-0")
            paths.comm(n).write_text(block)
        compile_children_once(Path(tmp) / ".pycache")
        samples = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            daemon.start(paths)
            samples.append(time.perf_counter() - started)
            daemon.stop(paths)
    print(
        f"daemon start, {args.agents} agents: {statistics.median(samples):.2f} s (median of {args.rounds}; target < 1 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
