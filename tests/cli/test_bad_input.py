"""Bad input anywhere gives one line naming the file (and line) and exit 2: never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from squad.paths import SquadPaths
from tests.conftest import run_squad

COMMANDS_NEEDING_A_SQUAD = [
    ["status"],
    ["status", "--json"],
    ["update", "--agent", "1", "--status", "ACTIVE"],
    ["handoff", "--agent", "1", "--to", "2", "--file", "a.ts"],
    ["lock", "--agent", "1", "a.ts"],
    ["unlock", "--agent", "1", "a.ts"],
    ["locks"],
    ["check", "--agent", "1", "a.ts"],
    ["monitor", "--once"],
    ["daemon", "status"],
    ["pause"],
    ["review"],
]


@pytest.mark.parametrize("args", COMMANDS_NEEDING_A_SQUAD, ids=" ".join)
def test_outside_a_squad_every_command_says_run_init(tmp_path: Path, args: list[str]) -> None:
    result = run_squad(*args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("squad: error:") and "squad init" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def one_line_error(result: object, needle: str) -> None:
    import subprocess

    assert isinstance(result, subprocess.CompletedProcess)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("squad: error: "), result.stderr
    assert needle in lines[0], lines[0]


def test_bad_config_yaml(squad: SquadPaths) -> None:
    squad.config.write_text("lock_ttl_s: 60\nagent_idle_s: [\n")
    one_line_error(run_squad("status", cwd=squad.root), ".squad/config.yaml:")
    squad.config.write_text("agent_idle_s: never\n")
    one_line_error(run_squad("status", cwd=squad.root), ".squad/config.yaml:1: agent_idle_s must be")


def test_bad_ownership_matrix(squad: SquadPaths) -> None:
    squad.ownership.write_text(
        "frontend/: {owner: agent-1, access: EXCLUSIVE}\nbackend/: {owner: agent-2, access: MINE}\n"
    )
    one_line_error(
        run_squad("check", "--agent", "1", "backend/x.py", cwd=squad.root),
        "ownership.yaml:2: unknown access mode 'MINE'",
    )


def test_bad_plan_front_matter(squad: SquadPaths) -> None:
    squad.plan(1).write_text("---\nagent: agent-1-frontend\nowns: [frontend/\n---\nbody\n")
    one_line_error(run_squad("status", cwd=squad.root), "agent-1-plan.md:")


def test_bad_lease_file(squad: SquadPaths) -> None:
    (squad.locks / "a.ts.lock").write_text("{not json")
    one_line_error(run_squad("lock", "--agent", "1", "a.ts", cwd=squad.root), ".squad/locks/a.ts.lock:1")
    # Listing never stops on it (issue 15): it is shown as UNREADABLE and named once on stderr.
    listed = run_squad("locks", cwd=squad.root)
    assert listed.returncode == 0 and "a.ts  UNREADABLE: .squad/locks/a.ts.lock:1" in listed.stdout
    assert listed.stderr.startswith("squad: warning: .squad/locks/a.ts.lock:1") and "Traceback" not in listed.stderr


def test_bad_event_log_line(squad: SquadPaths) -> None:
    squad.events.write_text('{"kind": "violation", "at": "2026-11-22T14:05:00Z"}\n{oops\n')
    one_line_error(run_squad("status", cwd=squad.root), "events.jsonl:2")


def test_bad_arguments(squad: SquadPaths) -> None:
    one_line_error(run_squad("lock", "--agent", "1", "../outside", cwd=squad.root), "outside the repository")
    one_line_error(run_squad("update", "--agent", "x", "--status", "ACTIVE", cwd=squad.root), "bad agent id 'x'")
    one_line_error(run_squad("allocate", "no-such-prd.md", cwd=squad.root), "no-such-prd.md")
