"""How long ``squad guard`` takes to decide: in-process per call, and as the hook process Claude Code runs.

A corpus of realistic agent tool calls (Writes, Edits and Bash lines of the kinds agents type) is
judged against a squad in a temporary git repository. Printed: the median decision time over
several rounds for each group, the slowest single command, and the cold ``squad guard`` process
(median of a few spawns) beside a bare ``python -c pass``. Agent CLIs give a hook 60 s (Claude Code)
or less; squad's own budget is 5 s per decision, so these figures should sit far below both.

    python bench/bench_guard.py [--rounds N] [--spawns N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MATRIX = """\
frontend/:   {owner: agent-1-frontend, access: EXCLUSIVE}
backend/:    {owner: agent-2-backend,  access: EXCLUSIVE}
shared/:     {owner: null,             access: SEQUENTIAL}
docs/adr/:   {owner: null,             access: READONLY}
"""

BASH = [
    "ls -la",
    "git status && git diff --stat",
    "pytest -q tests/ > /tmp/out.txt 2>&1",
    "echo 'export const x = 1' > frontend/hack.ts",
    "cat > backend/new.py <<'EOF'\nimport os\n\ndef main() -> None:\n    print(os.getcwd())\nEOF",
    "sed -i 's/foo/bar/g' backend/api.py && python -m pytest -q",
    "cd backend && mkdir -p api/v2 && touch api/v2/__init__.py",
    "mv backend/old.py backend/new.py; rm -f backend/tmp.txt",
    "find backend -name '*.pyc' -delete",
    "npm run build 2>&1 | tee build.log | tail -20",
    "for f in a b c; do echo $f >> backend/list.txt; done",
    'x=$(git rev-parse HEAD) && echo "$x" > backend/VERSION',
    "bash -c 'cd frontend && echo x > App.tsx'",
    "cp -r backend/templates backend/templates.bak && chmod +x backend/run.sh",
    "git apply <<'EOF'\n--- a/backend/api.py\n+++ b/backend/api.py\n@@ -1 +1 @@\n-a\n+b\nEOF",
    "curl -sSLo backend/data.json https://example.com/data.json",
    "if [ -f backend/api.py ]; then sed -i.bak -e 's/a/b/' backend/api.py; fi",
    "touch backend/{a,b,c}/{x,y,z}.py",
    "echo $(echo $(echo $(echo hi))) > backend/deep.txt",
    "ln -s ../shared/types backend/types && cat backend/types/x.ts",
]


def make_squad(base: Path) -> Path:
    root = base / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    squad = root / ".squad"
    for folder in ("parallel-plans", "comms", "locks", "logs", "reports", "control"):
        (squad / folder).mkdir(parents=True)
    (squad / "config.yaml").write_text("lock_ttl_s: 1800\n")
    (squad / "ownership.yaml").write_text(MATRIX)
    for folder in ("frontend", "backend/templates", "shared/types", "docs/adr"):
        (root / folder).mkdir(parents=True)
    (root / "frontend" / "App.tsx").write_text("app\n")
    (root / "backend" / "api.py").write_text("api\n")
    (root / "shared" / "types" / "x.ts").write_text("x\n")
    return root


def payloads(root: Path) -> dict[str, list[str]]:
    def call(tool: str, **tool_input: str) -> str:
        return json.dumps({"tool_name": tool, "cwd": str(root), "tool_input": tool_input})

    files = [
        call("Write", file_path=str(root / "backend" / "api.py"), content="x"),
        call("Edit", file_path=str(root / "frontend" / "App.tsx"), old_string="a", new_string="b"),
        call("Write", file_path=str(root / "shared" / "types" / "x.ts"), content="x"),
        call("Read", file_path=str(root / "backend" / "api.py")),
    ]
    return {"file tools": files, "bash": [call("Bash", command=c) for c in BASH]}


def median_us(fn: object, text: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn(text)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--spawns", type=int, default=7)
    args = parser.parse_args()

    from squad.enforce.guard import claude_hook
    from squad.protocol.times import now

    with tempfile.TemporaryDirectory() as tmp:
        root = make_squad(Path(tmp))
        environ = {"AGENT_ID": "agent-2-backend"}

        def decide(text: str) -> None:
            claude_hook(text, environ=environ, cwd=root, now=now())

        print(f"squad guard decision time, median of {args.rounds} rounds (in process)")
        slowest = (0.0, "")
        for group, texts in payloads(root).items():
            per = [median_us(decide, t, args.rounds) for t in texts]
            for t, us in zip(texts, per, strict=True):
                if us > slowest[0]:
                    slowest = (us, json.loads(t)["tool_input"].get("command") or json.loads(t)["tool_name"])
            print(f"  {group:<11} median {statistics.median(per):8.0f} us   max {max(per):8.0f} us  ({len(per)} calls)")
        print(f"  slowest: {slowest[0]:.0f} us for {slowest[1][:60]!r}")

        write = payloads(root)["bash"][3]
        env = {**os.environ, "AGENT_ID": "agent-2-backend"}

        def spawn(cmd: list[str], stdin: str) -> float:
            start = time.perf_counter()
            subprocess.run(cmd, input=stdin, cwd=root, env=env, capture_output=True, text=True, check=False)
            return time.perf_counter() - start

        bare = statistics.median(spawn([sys.executable, "-c", "pass"], "") for _ in range(args.spawns))
        hook = statistics.median(spawn([sys.executable, "-m", "squad", "guard"], write) for _ in range(args.spawns))
        print(
            f"cold process, median of {args.spawns}: squad guard (Bash) {hook * 1000:.0f} ms, bare python {bare * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
