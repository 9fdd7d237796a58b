"""Benchmark `squad launch`: worktree + run + commit throughput, and the supervisor's own CPU cost.

1. N trivial agents (each writes one file and exits) with --max-parallel P: wall time, and time
   per agent (worktree creation, set-up, start, watch, checkpoint commit).
2. M agents that sleep for W seconds: the CPU seconds the supervisor itself spends watching them
   (sampling logs, comm files, `git status` and psutil), as a percentage of one core.

Targets: per-agent overhead < 0.5 s; supervising 10 agents < 5% of a core at sample_s = 2.

    python bench/launch.py                       # 20 agents, 10 watched for 10 s
    python bench/launch.py --agents 50 --watch-seconds 20
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from squad.launch.config import LaunchSettings
from squad.launch.launcher import launch
from squad.protocol.plan import Plan, write_plan
from squad.protocol.workspace import init_squad


def make_repo(root: Path, agents: int) -> None:
    root.mkdir()
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith("GIT_")})
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    (root / "README.md").write_text("bench\n")
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=root, check=True)
    paths, _ = init_squad(root)
    for n in range(1, agents + 1):
        write_plan(paths.plan(n), Plan(agent=f"agent-{n}-r{n % 7}", role=f"r{n % 7}"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--max-parallel", type=int, default=5)
    parser.add_argument("--watched", type=int, default=10)
    parser.add_argument("--watch-seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = base / "repo"
        make_repo(root, args.agents)
        from squad.paths import SquadPaths

        paths = SquadPaths(root)
        settings = LaunchSettings(
            cmd='echo "$AGENT_ID" > out.txt',
            max_parallel=args.max_parallel,
            per_role=args.max_parallel,
            retries=0,
            sample_s=0.5,
            worktree_dir=str(base / "wt"),
        )
        start = time.perf_counter()
        results = launch(paths, settings)
        wall = time.perf_counter() - start
        done = sum(1 for s in results.values() if s == "done")
        print(f"{args.agents} trivial agents, max-parallel {args.max_parallel}: {wall:.2f} s wall, {done} done")
        print(
            f"  per agent (serial equivalent): {wall / args.agents * args.max_parallel:.3f} s; throughput {args.agents / wall:.1f} agents/s"
        )

        root2 = base / "repo2"
        make_repo(root2, args.watched)
        watch = settings.with_overrides(
            cmd=f"sleep {args.watch_seconds}",
            max_parallel=args.watched,
            per_role=args.watched,
            sample_s=2.0,
            worktree_dir=str(base / "wt2"),
        )
        cpu0 = time.process_time()
        start = time.perf_counter()
        launch(SquadPaths(root2), watch)
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        print(
            f"supervising {args.watched} sleeping agents for {wall:.1f} s: {cpu:.2f} CPU s in the launcher = {100 * cpu / wall:.1f}% of a core (git children not counted)"
        )
        child = os.times()
        print(f"  children (git, agents) CPU so far: {child.children_user + child.children_system:.2f} s")


if __name__ == "__main__":
    main()
