"""Coordinator latency and idle cost.

50 agents (threads) append status updates to their comm files; each update reports a file nobody
owns and nobody has locked, so the coordinator answers it with a `violation` event. The latency of
one update is from the end of its append to the moment its event is in `logs/events.jsonl`
(seen by a reader polling the log every millisecond). Then the daemon is left idle and its CPU
seconds are measured.

Targets: p99 < 100 ms; idle CPU < 1% of a core.

    python bench/latency.py                      # 50 agents x 10 updates, idle minute
    python bench/latency.py --idle-seconds 10    # a shorter idle window
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from squad.atomic import append_lines
from squad.coordinator import daemon
from squad.protocol.comm import Status, format_status_update
from squad.protocol.plan import Plan, PlanTask, write_plan
from squad.protocol.times import now
from squad.protocol.workspace import init_squad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--updates", type=int, default=10, help="updates per agent")
    parser.add_argument("--interval", type=float, default=1.0, help="mean seconds between one agent's updates")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="squad-bench-") as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        paths, _ = init_squad(root)
        for n in range(1, args.agents + 1):
            tasks = tuple(PlanTask(f"T{n}-{i}", f"task {i}", (f"area{n}/f{i}.py",)) for i in range(3))
            write_plan(
                paths.plan(n), Plan(agent=f"agent-{n}-role{n}", role=f"role{n}", owns=(f"area{n}/",), tasks=tasks)
            )
        info = daemon.start(paths)
        proc = psutil.Process(info.pid)
        print(f"daemon pid {info.pid}; {args.agents} agents x {args.updates} updates")
        try:
            latencies = run_load(paths, args)
            idle_cpu(proc, args.idle_seconds)
        finally:
            daemon.stop(paths)
        report(latencies, args.agents * args.updates)
        slow = [line for line in paths.coordinator_log.read_text().splitlines() if "slow cycle" in line]
        print(
            f"coordinator cycles over 200 ms: {len(slow)}"
            + (f" (latest: {slow[-1].split('slow cycle: ')[1]})" if slow else "")
        )
    return 0


def run_load(paths, args) -> list[float]:  # type: ignore[no-untyped-def]
    appended: dict[str, float] = {}
    seen: dict[str, float] = {}
    lock = threading.Lock()
    done = threading.Event()

    def agent(n: int) -> None:
        rng = random.Random(n)
        time.sleep(rng.uniform(0, args.interval))
        for i in range(args.updates):
            file = f"unowned/agent{n}/u{i}.txt"
            block = format_status_update(
                agent=f"agent-{n}-role{n}", status=Status.ACTIVE, at=now(), task=f"T{n}-0", files=(file,)
            )
            append_lines(paths.comm(n), block)
            with lock:
                appended[file] = time.perf_counter()
            time.sleep(rng.uniform(0.5, 1.5) * args.interval)

    def reader() -> None:
        offset = 0
        while not done.is_set() or len(seen) < len(appended):
            try:
                with paths.events.open("rb") as handle:
                    handle.seek(offset)
                    data = handle.read()
            except FileNotFoundError:
                data = b""
            end = data.rfind(b"\n")
            if end >= 0:
                stamp = time.perf_counter()
                offset += end + 1
                for line in data[: end + 1].splitlines():
                    event = json.loads(line)
                    if event.get("kind") == "violation" and event.get("path"):
                        seen.setdefault(event["path"], stamp)
            if done.is_set() and time.perf_counter() > deadline[0]:
                return
            time.sleep(0.001)

    deadline = [float("inf")]
    threads = [threading.Thread(target=agent, args=(n,)) for n in range(1, args.agents + 1)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deadline[0] = time.perf_counter() + 10
    done.set()
    watcher.join()
    missing = set(appended) - set(seen)
    if missing:
        print(f"WARNING: {len(missing)} updates never produced an event within 10 s", file=sys.stderr)
    return [seen[f] - appended[f] for f in appended if f in seen]


def idle_cpu(proc: psutil.Process, seconds: float) -> None:
    time.sleep(2)  # let the last reactions settle
    before = proc.cpu_times()
    time.sleep(seconds)
    after = proc.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    print(f"idle CPU: {used:.3f} s over {seconds:g} s = {100 * used / seconds:.2f}% of a core (target < 1%)")


def report(latencies: list[float], expected: int) -> None:
    if not latencies:
        print("no latencies measured")
        return
    ms = sorted(x * 1000 for x in latencies)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(f"updates applied: {len(ms)}/{expected}")
    print(f"append -> applied latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms (target p99 < 100 ms)")


if __name__ == "__main__":
    sys.exit(main())
