"""The README's main command: the parallel-test demo, end to end, as a newcomer runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SQUAD_BIN

DEMO = Path(__file__).resolve().parent.parent / "examples" / "parallel-test" / "run-demo.sh"


@pytest.mark.slow
def test_demo_plays_the_whole_story(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(SQUAD_BIN).parent}{os.pathsep}{os.environ['PATH']}", "TMPDIR": str(tmp_path)}
    picture = tmp_path.parent / f"{tmp_path.name}-monitor.svg"
    result = subprocess.run(
        ["bash", str(DEMO), "--svg", str(picture)], capture_output=True, text=True, env=env, timeout=180, check=False
    )
    out = result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert "12 tasks for 3 agents" in out
    # The story: types handed over, a refused write, a contended lease, a silent agent whose lease breaks
    # and whose tasks move on, two agents that finish.
    for expected in (
        "agent-1-frontend -> agent-2-backend: shared/types/metrics.ts",
        "violation_attempt    agent-2-backend    frontend/src/App.tsx",
        "lock_wait",
        "lock_broken          agent-3-ml         shared/types/analytics.ts",
        "agent_stale          agent-3-ml",
        "reassign",
    ):
        assert expected in out, expected
    assert "[agent-1-frontend] done" in out and "[agent-2-backend] done" in out
    # The live agents took the silent one's tasks and finished them; the ML agent, started again,
    # finds nothing left: every task done, every agent DONE.
    assert "the coordinator moved M" in out and "[agent-3-ml] back" in out
    assert "tasks 12/12" in out
    status = out.split("== squad status", 1)[1].split("HANDOFFS", 1)[0]
    rows = [line.split() for line in status.splitlines() if line.startswith("agent-")]
    assert len(rows) == 3 and {r[1] for r in rows} == {"DONE"}, status
    assert list(tmp_path.iterdir()) == []  # the temporary repository is cleaned up
    svg = picture.read_text()  # the monitor's last frame, as docs/monitor.svg is made
    assert svg.startswith("<svg") and "PARALLEL" in svg and "agent-3-ml" in svg
    assert "100%" in svg and "ACTIVE" not in svg and "STALE" not in svg
