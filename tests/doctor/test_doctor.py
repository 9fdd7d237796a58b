"""squad doctor on real repositories: healthy, broken config, unreadable and orphaned leases, stale
pidfiles and hooks, clock skew; the real CLI for exit codes and --json."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from squad.doctor import diagnose
from squad.paths import SquadPaths
from tests.conftest import run_squad


def _levels(root: Path, name: str) -> list[str]:
    return [c.level for c in diagnose(root, clis=()).checks if c.name == name]


def test_fresh_squad_is_healthy_with_warnings(squad: SquadPaths) -> None:
    report = diagnose(squad.root, clis=())
    assert report.healthy
    names = {c.name for c in report.checks}
    assert {
        "git",
        "worktrees",
        "squad-dir",
        "config",
        "matrix",
        "hooks-git",
        "hooks-claude",
        "daemon",
        "leases",
        "clock",
    } <= names
    assert _levels(squad.root, "daemon") == ["warn"]


def test_no_git_and_no_squad_fail(tmp_path: Path) -> None:
    result = run_squad("doctor", cwd=tmp_path)
    assert result.returncode == 1
    assert "FAIL  git:" in result.stdout and "squad init" in result.stdout
    assert "Traceback" not in result.stderr


def test_bad_config_fails_naming_the_file(squad: SquadPaths) -> None:
    squad.config.write_text("lock_ttl_s: [not a number\n")
    checks = [c for c in diagnose(squad.root, clis=()).checks if c.name == "config"]
    assert checks[0].level == "fail" and "config.yaml" in checks[0].message


def test_bad_matrix_fails(squad: SquadPaths) -> None:
    squad.ownership.write_text("frontend/: {owner: agent-1, access: SOMETIMES}\n")
    assert _levels(squad.root, "matrix") == ["fail"]


def test_unreadable_and_orphaned_leases(squad: SquadPaths) -> None:
    (squad.locks / "x.ts.lock").write_text("{not json")
    assert "fail" in _levels(squad.root, "leases")


def test_stale_pidfile_is_a_warning(squad: SquadPaths) -> None:
    squad.control.mkdir(parents=True, exist_ok=True)
    squad.coordinator_pid.write_text(json.dumps({"pid": 999999, "root": str(squad.root)}))
    checks = [c for c in diagnose(squad.root, clis=()).checks if c.name == "daemon"]
    assert checks[0].level == "warn" and "stale pidfile" in checks[0].message


def test_hook_pointing_at_a_gone_squad_fails(squad: SquadPaths) -> None:
    hooks = squad.root / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    hook = hooks / "pre-commit"
    hook.write_text("#!/bin/sh\n# squad-managed-hook\nexec /nowhere/bin/squad guard --git\n")
    hook.chmod(0o755)
    checks = [c for c in diagnose(squad.root, clis=()).checks if c.name == "hooks-git"]
    assert checks[0].level == "fail" and "/nowhere/bin/squad" in checks[0].message
    settings = squad.root / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(
        json.dumps(
            {
                "hooks": {
                    "PreToolUse": [
                        {"matcher": "Edit", "hooks": [{"type": "command", "command": "/gone/squad guard --claude"}]}
                    ]
                }
            }
        )
    )
    assert _levels(squad.root, "hooks-claude") == ["fail"]


def test_installed_hooks_are_current(squad: SquadPaths) -> None:
    result = run_squad("hooks", "install", "--git", "--claude", cwd=squad.root)
    assert result.returncode == 0, result.stderr
    assert _levels(squad.root, "hooks-git") == ["ok"]
    assert _levels(squad.root, "hooks-claude") == ["ok"]


def test_a_file_from_the_future_is_clock_skew(squad: SquadPaths) -> None:
    comm = squad.comms / "agent-1-comm.md"
    comm.write_text("# comm\n")
    ahead = time.time() + 3600
    os.utime(comm, (ahead, ahead))
    assert _levels(squad.root, "clock") == ["fail"]


def test_agent_clis_found_with_versions(squad: SquadPaths, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "codex"
    fake.write_text("#!/bin/sh\necho 'codex-cli 9.9.9'\n")
    fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{Path(os.__file__).parent}{os.pathsep}/usr/bin:/bin"}
    result = run_squad("doctor", "--json", cwd=squad.root, env=env)
    data = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout
    assert data["healthy"] is True
    codex = next(c for c in data["checks"] if c["name"] == "agent-codex")
    assert codex["level"] == "ok" and "codex-cli 9.9.9" in codex["message"]
    assert {"name", "level", "message", "fix"} == set(codex)
