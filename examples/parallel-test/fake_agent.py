"""A scripted stand-in for an AI coding agent, following the squad file protocol.

It does what a real agent is told by its plan: posts status with `squad update`, takes leases with
`squad lock`, hands files over with `squad handoff`, and asks `squad guard` (the hook Claude Code
would call) before writing outside its own folder. Each role plays one part of the demo's story.

    python fake_agent.py frontend|backend|ml     (run inside the squad's repository)
    python fake_agent.py ml-again                 (the ML agent started again after it died)

A live agent that finished its own plan stays on a while, as a real one would between prompts: it
says it is still there, and when the coordinator moves tasks to it (a silent agent's work) it does
them and reports DONE again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

SQUAD = os.environ.get("SQUAD_BIN", "squad")
STEP = float(os.environ.get("DEMO_STEP_S", "0.6"))
ROOT = Path.cwd()


def squad(*args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([SQUAD, *args], capture_output=True, text=True, input=stdin, check=False)
    if check and result.returncode != 0:
        sys.exit(f"{os.environ['AGENT_ID']}: squad {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def say(text: str) -> None:
    print(f"[{os.environ['AGENT_ID']}] {text}", flush=True)


def write(path: str, text: str) -> None:
    target = ROOT / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def update(status: str, task: str, progress: str, *files: str, **extra: str) -> None:
    args = ["update", "--status", status, "--task", task, "--progress", progress]
    for name, value in extra.items():
        args += [f"--{name.replace('_', '-')}", value]
    squad(*args, *files)


def wait_for_handoff(file: str, timeout: float = 30.0) -> None:
    """Poll the comm files until someone hands ``file`` to this agent (a real agent re-reads them)."""
    me = os.environ["AGENT_ID"].split("-")[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for comm in (ROOT / ".squad" / "comms").glob("agent-*-comm.md"):
            text = comm.read_text()
            if f"FILE: {file}" in text and f"TO: agent-{me}" in text:
                return
        time.sleep(0.3)
    sys.exit(f"no handoff of {file} arrived")


def number() -> str:
    return os.environ["AGENT_ID"].split("-")[1]


def plan_tasks() -> list[tuple[str, str]]:
    """The tasks in this agent's plan now (the coordinator rewrites it when it moves work): (id title, file)."""
    from squad.protocol.plan import read_plan

    plan = read_plan(ROOT / ".squad" / "parallel-plans" / f"agent-{number()}-plan.md")
    return [(f"{t.id} {t.title}", t.files[0] if t.files else f"notes/{t.id}.md") for t in plan.tasks]


def logged(kind: str, source: str) -> bool:
    log = ROOT / ".squad" / "logs" / "events.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return any(json.loads(line).get("kind") == kind and json.loads(line).get("agent") == source for line in lines if line)


def stay_for_more_work(done: set[str], *, until_moved_from: str, timeout: float = 60.0) -> None:
    """After DONE: say so every few seconds (a silent agent is not given work), take up any task the
    coordinator moves here, and leave once the silent agent's tasks have been handed out and done."""
    deadline = time.monotonic() + timeout
    beat = time.monotonic()
    while time.monotonic() < deadline:
        tasks = plan_tasks()
        todo = [(task, path) for task, path in tasks if task.split()[0] not in done]
        if todo:
            say(f"the coordinator moved {', '.join(t.split()[0] for t, _ in todo)} here: on it")
            work_through(todo, done_before=len(tasks) - len(todo), total=len(tasks))
            done.update(task.split()[0] for task, _ in todo)
            beat = time.monotonic()
            continue
        if logged("reassign", until_moved_from):
            return
        if time.monotonic() - beat >= 2.0:
            update("DONE", "waiting for more work", f"{len(tasks)}/{len(tasks)}")
            beat = time.monotonic()
        time.sleep(0.3)


def work_through(tasks: list[tuple[str, str]], *, done_before: int, total: int) -> None:
    """Do each task in order: write its file, post progress, take a moment; then report DONE with evidence."""
    for done, (task, path) in enumerate(tasks, start=done_before):
        write(path, f"// {task}\n")
        update("ACTIVE", task, f"{done}/{total}", path)
        time.sleep(STEP)
    update("DONE", tasks[-1][0], f"{total}/{total}", evidence="true")


def frontend() -> None:
    update("ACTIVE", "F1 Dashboard layout and shared types", "0/5")
    for types in ("shared/types/metrics.ts", "shared/types/analytics.ts"):
        squad("lock", types, "--reason", "create the shared types first")
    # package.json is SEQUENTIAL and the backend wants it too: the lease makes them take turns.
    squad("lock", "package.json", "--reason", "add recharts")
    write("shared/types/metrics.ts", "export interface MetricPoint { name: string; at: number; value: number }\n")
    write("shared/types/analytics.ts", "export interface Anomaly { metric: string; score: number }\n")
    write("frontend/src/components/Dashboard.tsx", "export const Dashboard = () => null\n")
    time.sleep(STEP)
    for types in ("shared/types/metrics.ts", "shared/types/analytics.ts"):
        squad("unlock", types)
    squad("handoff", "--to", "agent-2-backend", "--file", "shared/types/metrics.ts", "--status", "Types ready")
    squad("handoff", "--to", "agent-3-ml", "--file", "shared/types/analytics.ts", "--status", "Types ready")
    say("created the shared types and handed them over")
    update("ACTIVE", "F2 Metric cards", "1/5", "frontend/src/components/Dashboard.tsx", "shared/types/metrics.ts")
    write("package.json", '{"name": "analytics-dashboard", "dependencies": {"recharts": "^2"}}\n')
    time.sleep(STEP * 4)  # the backend asks for package.json meanwhile, and waits
    squad("unlock", "package.json")
    work_through(
        [
            ("F2 Metric cards", "frontend/src/components/MetricCard.tsx"),
            ("F3 Time-series charts", "frontend/src/components/Charts.tsx"),
            ("F4 WebSocket hook", "frontend/src/hooks/useMetricsSocket.ts"),
            ("F5 Responsive CSS", "frontend/src/styles/dashboard.css"),
        ],
        done_before=1,
        total=5,
    )
    say("done")
    stay_for_more_work({"F1", "F2", "F3", "F4", "F5"}, until_moved_from="agent-3-ml")


def backend() -> None:
    update(
        "BLOCKED",
        "B1 Metrics database schema",
        "0/4",
        waiting_for="shared/types/metrics.ts (handoff from agent-1-frontend)",
        alternative="writing backend tests first",
    )
    write("backend/tests/test_schema.py", "def test_schema():\n    assert True\n")
    wait_for_handoff("shared/types/metrics.ts")
    update("ACTIVE", "B1 Metrics database schema", "0/4", "backend/tests/test_schema.py")
    say("types arrived; back to B1")
    # A write outside its area, asked of the guard as Claude Code's PreToolUse hook would.
    hook = {"tool_name": "Write", "tool_input": {"file_path": str(ROOT / "frontend/src/App.tsx")}, "cwd": str(ROOT)}
    refused = squad("guard", stdin=json.dumps(hook), check=False)
    say(f"guard said no to frontend/src/App.tsx (exit {refused.returncode}): {refused.stderr.strip()}")
    squad("lock", "package.json", "--wait", "30", "--reason", "add express")
    write("package.json", '{"name": "analytics-dashboard", "dependencies": {"recharts": "^2", "express": "^4"}}\n')
    squad("unlock", "package.json")
    work_through(
        [
            ("B1 Metrics database schema", "backend/src/db/schema.sql"),
            ("B2 REST endpoints", "backend/src/api/metrics.ts"),
            ("B3 WebSocket server", "backend/src/ws/server.ts"),
            ("B4 CSV export", "backend/src/api/export.ts"),
        ],
        done_before=0,
        total=4,
    )
    say("done")
    stay_for_more_work({"B1", "B2", "B3", "B4"}, until_moved_from="agent-3-ml")


def ml() -> None:
    update("BLOCKED", "M1 Anomaly detection", "0/3", waiting_for="shared/types/analytics.ts from agent-1-frontend")
    wait_for_handoff("shared/types/analytics.ts")
    squad("lock", "shared/types/analytics.ts", "--ttl", "3", "--reason", "add the Trend type")
    write("ml/anomaly/detector.py", "def detect(points):\n    return []\n")
    update("ACTIVE", "M1 Anomaly detection", "0/3", "ml/anomaly/detector.py")
    say("goes silent holding shared/types/analytics.ts (the process died)")
    # No unlock, no more updates: the lease expires and the agent goes stale.


def ml_again() -> None:
    """Started again after it died: its plan is empty (the others did its tasks), so it says DONE."""
    left = plan_tasks()
    if left:
        sys.exit(f"agent-3-ml still has {', '.join(t for t, _ in left)}")
    squad("update", "--status", "DONE", "--task", "nothing left: the others did M1-M3")
    say("back; its tasks were done by the others")


if __name__ == "__main__":
    {"frontend": frontend, "backend": backend, "ml": ml, "ml-again": ml_again}[sys.argv[1]]()
