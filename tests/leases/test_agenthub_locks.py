"""Leases in every shape ai-agent-hub writes are read, honoured and shown (issue 15).

The fixtures are written the way ai-agent-hub writes them: its lock library (``lib/squad/lock-core.ts``)
creates ``{agentId, timestamp, operation, filepath}`` JSON at the top of ``.squad/locks/`` under a
hashed name (``<last 20 characters of the path, non-alphanumerics as _>_<md5 of the path>.lock``),
with the agent's number as ``agentId``; its protocol doc shows YAML with ``file:``, ``locked_by:``
(a role name, ``frontend-ui-developer[1]``) and times, in ``locks/[filename]-[agent]-[timestamp].lock``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from squad.config import Config
from squad.coordinator import rules
from squad.coordinator.engine import Engine
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import Status
from squad.protocol.times import now
from tests.conftest import post, run_squad

TYPES = "shared/types/metrics.ts"


def lock_core_name(filepath: str) -> str:
    """The file name ai-agent-hub's lock library gives the lease of ``filepath``."""
    digest = hashlib.md5(filepath.encode(), usedforsecurity=False).hexdigest()  # its name scheme, not security
    return f"{re.sub(r'[^a-zA-Z0-9]', '_', filepath)[-20:]}_{digest}.lock"


def lock_core(squad: SquadPaths, agent_id: int, filepath: str, when: datetime, **extra: Any) -> str:
    """A lease as lock-core writes it (``JSON.stringify(lockInfo, null, 2)``); its file name."""
    name = lock_core_name(filepath)
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    info = {"agentId": agent_id, "timestamp": stamp, "operation": "write", "filepath": filepath, **extra}
    (squad.locks / name).write_text(json.dumps(info, indent=2))
    return name


def two_writers(squad: SquadPaths) -> None:
    """Plans in ai-agent-hub's template: both MODIFY the shared types (SEQUENTIAL between them)."""
    for number, role, own in ((1, "frontend-ui-developer", "frontend/"), (2, "backend-system-architect", "backend/")):
        squad.plan(number).write_text(
            f"# Parallel Execution Plan - Agent {number}\n\n## Agent Identity\n- Agent ID: agent-{number}-{role}\n"
            f"- Agent Type: {role}\n\n## Tasks\n1. Work\n\n## File Ownership\n- CREATE: {own}\n- MODIFY: {TYPES}\n"
        )


def locks_json(squad: SquadPaths) -> list[dict[str, Any]]:
    result = run_squad("locks", "--json", cwd=squad.root)
    assert result.returncode == 0, result.stderr
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


def test_lock_core_json_under_a_hashed_name_is_a_lease(squad: SquadPaths) -> None:
    two_writers(squad)
    name = lock_core(squad, 2, TYPES, now())
    [listed] = locks_json(squad)
    assert (listed["path"], listed["agent"], listed["reason"], listed["hand_written"]) == (
        TYPES,
        "agent-2",
        "write",
        True,
    )
    # it conflicts with squad's own leases: the path, and a folder holding it
    for target in (TYPES, "shared/"):
        refused = run_squad("lock", target, "--agent", "1", cwd=squad.root)
        assert refused.returncode == 1 and "locked by agent-2" in refused.stderr, refused.stderr
    # the holder may write the file two plans MODIFY; the other writer may not
    assert run_squad("check", TYPES, "--agent", "2", cwd=squad.root).returncode == 0
    other = run_squad("check", TYPES, "--agent", "1", cwd=squad.root)
    assert other.returncode == 1 and "agent-2 holds the lease on shared/types/metrics.ts" in other.stdout
    # squad status shows it
    status = json.loads(run_squad("status", "--json", cwd=squad.root).stdout)
    assert [(x["path"], x["agent"]) for x in status["locks"]] == [(TYPES, "agent-2")]
    assert status["problems"] == []
    # the holder releases it with squad: the hashed file goes
    released = run_squad("unlock", TYPES, "--agent", "2", cwd=squad.root)
    assert released.returncode == 0, released.stderr
    assert not (squad.locks / name).exists()
    assert run_squad("lock", TYPES, "--agent", "1", cwd=squad.root).returncode == 0


def test_lock_core_absolute_filepath_inside_the_repository(squad: SquadPaths) -> None:
    lock_core(squad, 1, str(squad.root / "frontend" / "App.tsx"), now())
    assert [x["path"] for x in locks_json(squad)] == ["frontend/App.tsx"]
    assert run_squad("lock", "frontend/App.tsx", "--agent", "2", cwd=squad.root).returncode == 1


def test_squads_lease_and_a_lock_core_lease_on_one_path_the_older_holds_it(squad: SquadPaths) -> None:
    """lock-core looks only for its own hashed name, so it can write a lease beside squad's: mutual
    exclusion holds across formats because the older lease is the one that counts."""
    two_writers(squad)
    assert run_squad("lock", TYPES, "--agent", "1", cwd=squad.root).returncode == 0
    lock_core(squad, 2, TYPES, now() + timedelta(seconds=1))
    assert run_squad("check", TYPES, "--agent", "1", cwd=squad.root).returncode == 0
    late = run_squad("check", TYPES, "--agent", "2", cwd=squad.root)
    assert late.returncode == 1 and "taken before yours" in late.stdout and "agent-1" in late.stdout


def test_yaml_lease_with_file_key_and_a_role_named_holder(squad: SquadPaths, monkeypatch: Any) -> None:
    two_writers(squad)
    stamp = int(now().timestamp())
    when = now().astimezone(UTC)
    (squad.locks / f"metrics.ts-backend-system-architect[1]-{stamp}.lock").write_text(
        f"file: {TYPES}\nlocked_by: backend-system-architect[1]\n"
        f"locked_at: {when:%Y-%m-%dT%H:%M:%SZ}\nexpires_at: {when + timedelta(minutes=10):%Y-%m-%dT%H:%M:%SZ}\n"
        "task_id: task_001\noperation: modify\n"
    )
    [listed] = locks_json(squad)
    # the lease protects the file it names, not its own file name; the role names agent 2
    assert (listed["path"], listed["agent"], listed["reason"]) == (TYPES, "agent-2-backend-system-architect", "modify")
    assert listed["expires_at"] == f"{when + timedelta(minutes=10):%Y-%m-%dT%H:%M:%SZ}"
    assert run_squad("check", TYPES, "--agent", "2", cwd=squad.root).returncode == 0
    assert run_squad("lock", TYPES, "--agent", "1", cwd=squad.root).returncode == 1


def test_key_value_leases_with_path_or_filepath_and_times_without_a_zone_are_utc(squad: SquadPaths) -> None:
    (squad.locks / "api.lock").write_text(
        "LOCKED_BY: agent-2\nLOCKED_AT: 2099-01-02 10:30\nFILEPATH: /backend/api.py\nPURPOSE: endpoints\n"
    )
    (squad.locks / "schema.lock").write_text("- **path**: db/schema.sql\n- **locked_by**: agent-3\n")
    # a machine far from UTC reads the same instant: no zone written means UTC
    result = run_squad("locks", "--json", cwd=squad.root, env={"TZ": "America/New_York"})
    assert result.returncode == 0, result.stderr
    listed = {x["path"]: x for x in json.loads(result.stdout)}
    assert set(listed) == {"backend/api.py", "db/schema.sql"}
    assert listed["backend/api.py"]["acquired_at"] == "2099-01-02T10:30:00Z"
    assert listed["backend/api.py"]["expires_at"] == "2099-01-02T11:00:00Z"
    assert run_squad("lock", "backend/", "--agent", "1", cwd=squad.root).returncode == 1


def test_a_lease_whose_holder_or_path_cannot_be_found_is_a_problem_that_stops_nothing(squad: SquadPaths) -> None:
    two_writers(squad)
    no_holder = lock_core(squad, 2, TYPES, now())
    info = json.loads((squad.locks / no_holder).read_text())
    del info["agentId"]
    (squad.locks / no_holder).write_text(json.dumps(info, indent=2))
    no_path = lock_core_name("backend/api.py")
    (squad.locks / no_path).write_text(json.dumps({"agentId": 2, "timestamp": "2026-11-22T14:05:00.000Z"}))
    run_squad("lock", "frontend/App.tsx", "--agent", "1", cwd=squad.root, check=True)
    # squad locks lists what it can, names each file it cannot read, and exits 0
    listed = run_squad("locks", cwd=squad.root)
    assert listed.returncode == 0
    assert f"UNREADABLE: .squad/locks/{no_holder}:1: unreadable lease: lease names no holder" in listed.stdout
    assert f"UNREADABLE: .squad/locks/{no_path}:1: unreadable lease: lease names no path" in listed.stdout
    assert "frontend/App.tsx" in listed.stdout and "Traceback" not in listed.stderr
    # squad status shows everything else and reports both files under problems
    status_run = run_squad("status", "--json", cwd=squad.root)
    status = json.loads(status_run.stdout)
    assert [x["path"] for x in status["locks"]] == ["frontend/App.tsx"]
    assert any(no_holder in p and "names no holder" in p for p in status["problems"])
    assert any(no_path in p and "names no path" in p for p in status["problems"])
    # other paths go on; the path the holderless file names cannot be judged until it is cleared
    assert run_squad("lock", "backend/x.py", "--agent", "2", cwd=squad.root).returncode == 0
    blocked = run_squad("lock", TYPES, "--agent", "1", cwd=squad.root)
    assert blocked.returncode == 2 and no_holder in blocked.stderr and f"squad unlock --force {TYPES}" in blocked.stderr
    assert run_squad("unlock", TYPES, "--force", cwd=squad.root).returncode == 0
    assert run_squad("lock", TYPES, "--agent", "1", cwd=squad.root).returncode == 0


def test_the_coordinator_honours_lock_core_leases(squad: SquadPaths) -> None:
    """The same answer as squad check: the holder of a lock-core lease may change the shared file;
    an agent whose plan only reads it is a violation."""
    two_writers(squad)
    squad.plan(3).write_text(
        "## Agent Identity\n- Agent ID: agent-3-ai-ml-engineer\n\n## File Ownership\n"
        f"- CREATE: ml/anomaly.py\n- READ-ONLY: {TYPES}, backend/api.py\n"
    )
    moment = now()
    lock_core(squad, 2, TYPES, moment - timedelta(seconds=30))
    post(squad, 2, "backend-system-architect", Status.ACTIVE, moment, task="T1", files=(TYPES, "backend/api.py"))
    post(squad, 3, "ai-ml-engineer", Status.ACTIVE, moment, task="T1", files=("ml/anomaly.py", TYPES))
    engine = Engine(squad)
    engine.rebuild(moment)
    assert [lease.path for lease in engine.leases] == [TYPES]
    assert engine.problems == []
    found = rules.run_rules(engine.world(moment), moment, Config())
    violations = [(i.agent, i.path) for i in found if isinstance(i, ev.Event) and i.kind == ev.VIOLATION]
    assert violations == [("agent-3-ai-ml-engineer", TYPES)]


def test_renewing_a_lease_an_agent_wrote_keeps_its_shape(squad: SquadPaths) -> None:
    """A status update renews its poster's leases; lock-core must still read its own lock afterwards
    (``agentId``, ``timestamp``, ``filepath``) to release it, and scripts still grep ``LOCKED_BY:``."""
    two_writers(squad)
    taken = now() - timedelta(minutes=20)
    name = lock_core(squad, 2, TYPES, taken)
    (squad.locks / "package.json.lock").write_text(f"LOCKED_BY: agent-2\nLOCKED_AT: {taken:%Y-%m-%dT%H:%M:%SZ}\n")
    assert run_squad("update", "--agent", "2", "--status", "ACTIVE", cwd=squad.root).returncode == 0
    info = json.loads((squad.locks / name).read_text())
    assert {k: info[k] for k in ("agentId", "filepath", "operation")} == {
        "agentId": 2,
        "filepath": TYPES,
        "operation": "write",
    }
    assert info["timestamp"].startswith(f"{taken:%Y-%m-%dT%H:%M:%S}")
    renewed = datetime.fromisoformat(info["expires_at"].replace("Z", "+00:00"))
    assert renewed > now() + timedelta(minutes=25)
    text = (squad.locks / "package.json.lock").read_text()
    assert text.startswith("LOCKED_BY: agent-2\nLOCKED_AT: ") and "\nEXPIRES_AT: " in text
    listed = {x["path"]: x for x in locks_json(squad)}
    assert {listed[TYPES]["expires_at"][:16], listed["package.json"]["expires_at"][:16]} == {
        f"{renewed:%Y-%m-%dT%H:%M}"
    }
