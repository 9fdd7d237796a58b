"""Benchmark `squad allocate`: generated PRDs of 100, 1,000 and 10,000 tasks.

Run: python bench/allocate.py [SIZES...]
Targets: 1,000 tasks < 1 s, 10,000 tasks < 10 s (parse, classify, assign, render every plan).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from squad.allocate import allocate, plan_allocation
from squad.allocate.render import build_plan

STREAMS = ("frontend", "backend", "ml", "database", "tests", "docs")
WORDS = ("chart", "endpoint", "model", "table", "suite", "guide")


def generate(n: int) -> str:
    lines = [
        f"# Generated feature with {n} tasks",
        "",
        "## Requirements",
        "- Frontend: a big dashboard",
        "",
        "## Task Breakdown",
    ]
    per_stream = {s: [] for s in STREAMS}
    for i in range(n):
        per_stream[STREAMS[i % len(STREAMS)]].append(i)
    for s_index, stream in enumerate(STREAMS):
        lines += ["", f"### {stream.title()}"]
        for k, i in enumerate(per_stream[stream]):
            deps = []
            if k:
                deps.append(f"X{per_stream[stream][k - 1]}")
            if i % 7 == 3 and s_index:
                other = per_stream[STREAMS[s_index - 1]]
                if other and other[0] < i:
                    deps.append(f"X{other[min(k, len(other) - 1) // 2]}")
            dep = f", depends on: {', '.join(deps)}" if deps else ""
            lines.append(
                f"- X{i}: {WORDS[s_index]} work item {i} `{stream}/part{k % 5}/file{i}.txt` ({1 + i % 4}h{dep})"
            )
            if i % 10 == 0:
                lines.append(f"  - detail for item {i}")
    lines += ["", "## Success Criteria", "- [ ] everything works", ""]
    return "\n".join(lines)


def run(n: int) -> tuple[float, float]:
    text = generate(n)
    start = time.perf_counter()
    allocation = plan_allocation(text, f"gen-{n}.md")
    for agent in allocation.agents:
        build_plan(agent, allocation, f"p{agent.number}", f"c{agent.number}")
    in_memory = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        (root / "prd.md").write_text(text)
        start = time.perf_counter()
        allocate(root / "prd.md", start=root)
        written = time.perf_counter() - start
    return in_memory, written


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100, 1_000, 10_000]
    print(f"{'tasks':>7}  {'allocate (s)':>12}  {'+ write .squad/ (s)':>19}")
    for n in sizes:
        in_memory, written = run(n)
        print(f"{n:>7}  {in_memory:>12.3f}  {written:>19.3f}")


if __name__ == "__main__":
    main()
