"""Run every benchmark and print one table: figure, measured, target, pass or miss.

    python bench/run_all.py            # full sizes (a few minutes)
    python bench/run_all.py --quick    # smaller runs, for a first look

Each benchmark is a standalone script (bench/locks.py, allocate.py, latency.py, launch.py) that
prints its own figures; this runner runs them as subprocesses and reads those lines. Figures are
measurements on a shared, noisy machine: read them as such, not as a test.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Figure:
    name: str
    pattern: str  # a regex with one group: the number
    target: str
    ok: Callable[[float], bool]
    unit: str


@dataclass(frozen=True)
class Bench:
    script: str
    full: list[str]
    quick: list[str]
    figures: list[Figure]


BENCHES = [
    Bench(
        "locks.py",
        [],
        ["--pairs", "500", "--cli-pairs", "8"],
        [
            Figure(
                "locks: API lock+unlock (median)",
                r"top-level file:\s+[\d.]+ pairs/s best, ([\d.]+) median",
                ">= 2000 pairs/s",
                lambda v: v >= 2000,
                "pairs/s",
            ),
            Figure(
                "locks: nested lock+unlock (median)",
                r"nested file:\s+[\d.]+ pairs/s best, ([\d.]+) median",
                ">= 2000 pairs/s",
                lambda v: v >= 2000,
                "pairs/s",
            ),
            Figure("locks: CLI pair vs bare python", r"CLI / bare ratio:\s+([\d.]+)x", "<= 3x", lambda v: v <= 3, "x"),
        ],
    ),
    Bench(
        "allocate.py",
        ["100", "1000", "10000"],
        ["100", "1000"],
        [
            Figure("allocate: 1,000 tasks", r"^\s*1000\s+([\d.]+)", "< 1 s", lambda v: v < 1, "s"),
            Figure("allocate: 10,000 tasks", r"^\s*10000\s+([\d.]+)", "< 10 s", lambda v: v < 10, "s"),
        ],
    ),
    Bench(
        "latency.py",
        ["--agents", "200", "--updates", "10", "--idle-seconds", "30"],
        ["--agents", "20", "--updates", "5", "--idle-seconds", "15", "--rounds", "1"],
        [
            Figure(
                "coordinator: p99 at 200 agents",
                r"median of \d+ rounds: p50 [\d.]+ ms, p99 ([\d.]+) ms",
                "< 100 ms",
                lambda v: v < 100,
                "ms",
            ),
            Figure("coordinator: idle CPU", r"= ([\d.]+)% of a core", "< 1% of a core", lambda v: v < 1, "%"),
        ],
    ),
    Bench(
        "latency.py",
        ["--agents", "50", "--updates", "10", "--comm-bytes", "1000000", "--compare", "--idle-seconds", "30"],
        [
            "--agents",
            "10",
            "--updates",
            "5",
            "--comm-bytes",
            "1000000",
            "--compare",
            "--idle-seconds",
            "10",
            "--rounds",
            "1",
        ],
        [
            Figure(
                "1 MB comm files: p99 vs short",
                r"p99 ratio \(\d+ B / short\): ([\d.]+)x",
                "<= 2x",
                lambda v: v <= 2,
                "x",
            ),
            Figure("1 MB comm files: idle CPU", r"= ([\d.]+)% of a core", "< 1% of a core", lambda v: v < 1, "%"),
            Figure(
                "1 MB comm files: daemon start",
                r"B comm files; started in ([\d.]+) s",
                "(no target)",
                lambda v: True,
                "s",
            ),
            Figure(
                "1 MB comm files: daemon RSS",
                r"(?s).*RSS after the load: ([\d.]+) MB",
                "(no target)",
                lambda v: True,
                "MB",
            ),
        ],
    ),
    Bench(
        "status.py",
        [],
        ["--runs", "3"],
        [Figure("status: 10 MB vs 1 KB", r"status 10 MB / 1 KB: ([\d.]+)x", "<= 3x", lambda v: v <= 3, "x")],
    ),
    Bench(
        "start.py",
        [],
        ["--agents", "200", "--rounds", "1"],
        [Figure("daemon start: 500 agents", r"daemon start, 500 agents: ([\d.]+) s", "< 1 s", lambda v: v < 1, "s")],
    ),
    Bench(
        "launch.py",
        [],
        [],
        [
            Figure(
                "launch: 20 trivial agents wall time",
                r"max-parallel \d+: ([\d.]+) s wall",
                "(no target)",
                lambda v: True,
                "s",
            ),
        ],
    ),
    Bench(
        "etcd.py",
        [],
        ["--pairs", "100", "--grants", "50", "--rounds", "2", "--updates", "20"],
        [
            Figure(
                "etcd: lease pairs/s (median)",
                r"lease pairs/s, etcd:\s+([\d.]+) median",
                "(no target)",
                lambda v: True,
                "pairs/s",
            ),
            Figure(
                "etcd: files-store pairs/s beside it",
                r"lease pairs/s, files:\s+([\d.]+) median",
                "(no target)",
                lambda v: True,
                "pairs/s",
            ),
            Figure(
                "etcd: cross-host visibility p99",
                r"seen on the other host: p50 [\d.]+ ms, p99 ([\d.]+) ms",
                "< 100 ms",
                lambda v: v < 100,
                "ms",
            ),
            Figure(
                "etcd: update judged on the other host p99",
                r"judged by the acting coordinator on the other: p50 [\d.]+ ms, p99 ([\d.]+) ms",
                "< 100 ms",
                lambda v: v < 100,
                "ms",
            ),
        ],
    ),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument("only", nargs="*", help="run only these scripts (e.g. locks.py)")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    for bench in BENCHES:
        if args.only and bench.script not in args.only:
            continue
        argv = bench.quick if args.quick else bench.full
        print(f"running bench/{bench.script} {' '.join(argv)}", flush=True)
        result = subprocess.run(
            [sys.executable, str(HERE / bench.script), *argv], capture_output=True, text=True, check=False
        )
        print(result.stdout, end="", flush=True)
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
        for figure in bench.figures:
            match = re.search(figure.pattern, result.stdout, re.MULTILINE)
            if match is None:
                skipped = args.quick and result.returncode == 0
                rows.append(
                    (
                        figure.name,
                        "not run" if skipped else "not measured",
                        figure.target,
                        "skipped" if skipped else "MISS",
                    )
                )
                continue
            value = float(match.group(1))
            rows.append(
                (figure.name, f"{value:g} {figure.unit}", figure.target, "pass" if figure.ok(value) else "MISS")
            )
    width = max(len(r[0]) for r in rows) if rows else 10
    print()
    print(f"{'figure':<{width}}  {'measured':>16}  {'target':<16}  result")
    for name, measured, target, verdict in rows:
        print(f"{name:<{width}}  {measured:>16}  {target:<16}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
