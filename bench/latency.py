"""Coordinator latency and idle cost, at the sizes users reach.

N agents (threads) append status updates to their comm files; each update reports a file nobody
owns and nobody has locked, so the coordinator answers it with a `violation` event. The latency of
one update is from the end of its append to the moment its event is in `logs/events.jsonl`
(seen by a reader polling the log every millisecond). Then the daemon is left idle and its CPU
seconds are measured. With ``--comm-bytes`` every comm file first holds that many bytes of earlier
status blocks (long-running agents), and the daemon's start time and memory are reported too;
``--compare`` measures the same load on short files first and prints the ratio of the two p99s.
Each figure is the median over ``--rounds`` rounds.

Targets: p99 < 100 ms (200 agents); with 1 MB comm files, p99 within 2x of short files and idle
CPU < 1% of a core.

    python bench/latency.py                                   # 50 agents x 10 updates
    python bench/latency.py --agents 200 --idle-seconds 10
    python bench/latency.py --comm-bytes 1000000 --compare    # 50 agents with 1 MB comm files
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
from _compiled import compile_children_once

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
    parser.add_argument("--comm-bytes", type=int, default=0, help="prefill each comm file with this many bytes")
    parser.add_argument("--compare", action="store_true", help="also measure short comm files; print the ratio")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    if args.compare and args.comm_bytes:
        short = measure(args, 0, idle=False)
        long = measure(args, args.comm_bytes, idle=True)
        print(f"p99 with short comm files: {short['p99']:.1f} ms")
        print(f"p99 ratio ({args.comm_bytes} B / short): {long['p99'] / max(short['p99'], 0.1):.2f}x (target <= 2x)")
    else:
        measure(args, args.comm_bytes, idle=True)
    return 0


def measure(args: argparse.Namespace, comm_bytes: int, *, idle: bool) -> dict[str, float]:
    """One squad of ``args.agents`` agents, ``args.rounds`` rounds of load: the median figures."""
    with tempfile.TemporaryDirectory(prefix="squad-bench-") as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        paths, _ = init_squad(root)
        for n in range(1, args.agents + 1):
            tasks = tuple(PlanTask(f"T{n}-{i}", f"task {i}", (f"area{n}/f{i}.py",)) for i in range(3))
            write_plan(
                paths.plan(n), Plan(agent=f"agent-{n}-role{n}", role=f"role{n}", owns=(f"area{n}/",), tasks=tasks)
            )
            if comm_bytes:
                prefill(paths.comm(n), n, comm_bytes)
        compile_children_once(Path(tmp) / ".pycache")
        started = time.perf_counter()
        info = daemon.start(paths)
        start_s = time.perf_counter() - started
        proc = psutil.Process(info.pid)
        label = f"{args.agents} agents x {args.updates} updates" + (
            f", {comm_bytes} B comm files" if comm_bytes else ""
        )
        print(f"daemon pid {info.pid}; {label}; started in {start_s:.2f} s")
        p50s, p99s = [], []
        try:
            for round_no in range(args.rounds):
                latencies = run_load(paths, args, round_no)
                p50, p99 = report(latencies, args.agents * args.updates)
                p50s.append(p50)
                p99s.append(p99)
            rss_mb = proc.memory_info().rss / 1e6
            cpu = idle_cpu(proc, args.idle_seconds) if idle else 0.0
        finally:
            daemon.stop(paths)
        p50, p99 = statistics.median(p50s), statistics.median(p99s)
        print(f"median of {args.rounds} rounds: p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 100 ms)")
        print(f"daemon start: {start_s:.2f} s; RSS after the load: {rss_mb:.0f} MB")
        slow = [line for line in paths.coordinator_log.read_text().splitlines() if "slow cycle" in line]
        print(
            f"coordinator cycles over 200 ms: {len(slow)}"
            + (f" (latest: {slow[-1].split('slow cycle: ')[1]})" if slow else "")
        )
        return {"p50": p50, "p99": p99, "start_s": start_s, "rss_mb": rss_mb, "idle_cpu": cpu}


def prefill(comm: Path, n: int, size: int) -> None:
    """A comm file that already holds ``size`` bytes of an agent's earlier status blocks."""
    parts, total, i = [], 0, 0
    while total < size:
        block = format_status_update(
            agent=f"agent-{n}-role{n}", status=Status.ACTIVE, at=now(), task=f"T{n}-0", files=(f"area{n}/old{i}.py",)
        )
        parts.append(block)
        total += len(block)
        i += 1
    comm.write_text("".join(parts))


def run_load(paths, args, round_no: int = 0) -> list[float]:  # type: ignore[no-untyped-def]
    appended: dict[str, float] = {}
    seen: dict[str, float] = {}
    lock = threading.Lock()
    done = threading.Event()

    def agent(n: int) -> None:
        rng = random.Random(n)
        time.sleep(rng.uniform(0, args.interval))
        for i in range(args.updates):
            file = f"unowned/agent{n}/r{round_no}u{i}.txt"
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


def idle_cpu(proc: psutil.Process, seconds: float) -> float:
    time.sleep(2)  # let the last reactions settle
    before = proc.cpu_times()
    time.sleep(seconds)
    after = proc.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    print(f"idle CPU: {used:.3f} s over {seconds:g} s = {100 * used / seconds:.2f}% of a core (target < 1%)")
    return 100 * used / seconds


def report(latencies: list[float], expected: int) -> tuple[float, float]:
    if not latencies:
        print("no latencies measured")
        return float("inf"), float("inf")
    ms = sorted(x * 1000 for x in latencies)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(f"updates applied: {len(ms)}/{expected}")
    print(f"append -> applied latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms")
    return p50, p99


if __name__ == "__main__":
    sys.exit(main())
