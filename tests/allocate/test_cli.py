from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from squad.agents.roster import members
from squad.allocate import allocate
from squad.paths import SquadPaths
from squad.protocol.comm import Status, read_comm
from squad.protocol.ownership import load_matrix
from squad.protocol.plan import read_plan
from tests.allocate.prds import CYCLE, EXAMPLE
from tests.conftest import invoke, run_squad


def _snapshot(root: Path) -> dict[str, bytes]:
    squad = root / ".squad"
    skip = {"comms"}
    return {
        p.relative_to(squad).as_posix(): p.read_bytes()
        for p in sorted(squad.rglob("*"))
        if p.is_file() and p.relative_to(squad).parts[0] not in skip
    }


def test_allocate_writes_plans_matrix_and_comm_files(repo: Path, runner: CliRunner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(repo)
    shutil.copy(EXAMPLE, repo / "feature-prd.md")
    result = invoke(runner, "allocate")  # PRD defaults to ./feature-prd.md; .squad/ is created
    assert result.exit_code == 0, result.output
    paths = SquadPaths(repo)
    assert paths.prd.read_text() == EXAMPLE.read_text()
    matrix = load_matrix(paths.ownership)
    assert matrix.rule("frontend/src/App.tsx").owner == "agent-1-frontend"
    assert matrix.rule("shared/types/metrics.ts").access == "SEQUENTIAL"
    assert matrix.rule("config/jest.config.js").access == "READONLY"
    plans = [read_plan(paths.plan(n)) for n in (1, 2, 3)]
    assert [p.agent for p in plans] == ["agent-1-frontend", "agent-2-backend", "agent-3-ml"]
    assert [len(p.tasks) for p in plans] == [5, 4, 3]
    assert plans[1].handoffs_in[0].agent == "agent-1-frontend"
    body = plans[0].body
    for section in (
        "# Agent Identity",
        "## Tasks",
        "## File Ownership",
        "## Communication Points",
        "READ-ONLY",
        "squad update",
        "squad lock",
        "pause.flag",
        "## Status Update",
    ):
        assert section in body
    assert len(body.splitlines()) < 45
    for n in (1, 2, 3):
        comm = read_comm(paths.comm(n))
        assert comm.updates[-1].status is Status.STARTING and not comm.problems
    assert [str(m.id) for m in members(paths)] == ["agent-1-frontend", "agent-2-backend", "agent-3-ml"]
    assert "export AGENT_ID=agent-1-frontend AGENT_TYPE=frontend" in result.output
    assert "PARALLEL_MODE=true" in result.output and "speedup" in result.output


def test_existing_plans_need_force_and_comm_files_are_appended(squad: SquadPaths, runner: CliRunner) -> None:
    shutil.copy(EXAMPLE, squad.root / "prd.md")
    assert invoke(runner, "allocate", "prd.md").exit_code == 0
    first = _snapshot(squad.root)
    comm_before = squad.comm(1).read_text()
    again = invoke(runner, "allocate", "prd.md")
    assert again.exit_code == 2
    assert "plans already exist" in again.output and "--force" in again.output
    forced = invoke(runner, "allocate", "prd.md", "--force")
    assert forced.exit_code == 0, forced.output
    assert _snapshot(squad.root) == first  # byte-identical plans and matrix
    comm_after = squad.comm(1).read_text()
    assert comm_after.startswith(comm_before) and comm_after.count("Status: STARTING") == 2


def test_force_with_fewer_agents_removes_stale_plans(squad: SquadPaths) -> None:
    allocate(EXAMPLE, start=squad.root)
    allocate(EXAMPLE, agents=2, force=True, start=squad.root)
    assert sorted(p.name for p in squad.plans.iterdir()) == ["agent-1-plan.md", "agent-2-plan.md"]


def test_dry_run_writes_nothing(repo: Path, runner: CliRunner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(repo)
    result = invoke(runner, "allocate", str(EXAMPLE), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["written"] is False
    assert [a["id"] for a in data["agents"]] == ["agent-1-frontend", "agent-2-backend", "agent-3-ml"]
    assert data["prediction"]["speedup"] > 1
    assert not (repo / ".squad").exists()


def test_bad_input_exits_2_with_file_and_line(squad: SquadPaths, runner: CliRunner) -> None:
    (squad.root / "cyclic.md").write_text(CYCLE)
    result = invoke(runner, "allocate", "cyclic.md")
    assert result.exit_code == 2
    assert "squad: error: cyclic.md:4: dependency cycle" in result.output
    missing = invoke(runner, "allocate")
    assert missing.exit_code == 2 and "feature-prd.md" in missing.output
    (squad.root / "empty.md").write_text("# Nothing\n\nprose only\n")
    empty = invoke(runner, "allocate", "empty.md")
    assert empty.exit_code == 2 and "no tasks found" in empty.output
    assert not squad.plan(1).exists()


def test_real_subprocess_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for name in ("one", "two"):
        root = tmp_path / name
        root.mkdir()
        (root / ".git").mkdir()  # a repository top is enough for allocate to find its root
        shutil.copy(EXAMPLE, root / "feature-prd.md")
        done = run_squad("allocate", "--agents", "3", cwd=root)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        outputs.append((_snapshot(root), done.stdout))
    assert outputs[0] == outputs[1]


def test_squad_check_agrees_with_the_allocation(squad: SquadPaths, runner: CliRunner) -> None:
    result = allocate(EXAMPLE, start=squad.root)
    for agent in result.allocation.agents:
        for other in result.allocation.agents:
            for pattern in other.owns:
                target = pattern + "new-file.ts"
                checked = invoke(runner, "check", "--agent", agent.id, target)
                assert checked.exit_code == (0 if other is agent else 1), (agent.id, target, checked.output)
        readonly = invoke(runner, "check", "--agent", agent.id, "config/webpack.config.js")
        assert readonly.exit_code == 1
        shared = invoke(runner, "check", "--agent", agent.id, "shared/types/metrics.ts")
        assert shared.exit_code == 1 and "lock" in shared.output  # SEQUENTIAL: lock first


def test_allocation_json_is_the_json_document_and_the_coordinator_reads_it(repo: Path) -> None:
    from squad.coordinator.metrics import predicted

    shutil.copy(EXAMPLE, repo / "feature-prd.md")
    done = run_squad("allocate", "--json", cwd=repo)
    assert done.returncode == 0, done.stderr
    saved = (repo / ".squad" / "allocation.json").read_bytes()
    assert saved == done.stdout.encode()  # the same bytes --json printed
    data = json.loads(saved)
    assert data["written"] is True
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", saved.decode())  # no timestamps
    assert predicted(SquadPaths(repo)) == data["prediction"]["speedup"] > 1
    again = run_squad("allocate", "--json", "--force", cwd=repo)
    assert again.returncode == 0, again.stderr
    assert (repo / ".squad" / "allocation.json").read_bytes() == saved  # byte-identical across runs
    dry = run_squad("allocate", "--dry-run", "--agents", "1", "--json", "--force", cwd=repo)
    assert json.loads(dry.stdout)["written"] is False
    assert (repo / ".squad" / "allocation.json").read_bytes() == saved  # --dry-run writes nothing


def test_bad_prd_paths_and_agent_counts_exit_2_without_traceback(repo: Path) -> None:
    (repo / "folder.md").mkdir()
    (repo / "binary.md").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    (repo / "latin1.md").write_bytes("# Café\n\n## Tasks\n- caf\xe9\n".encode("latin-1"))
    cases = {
        "missing.md": "missing.md: no such PRD file",
        "folder.md": "folder.md: is a folder, not a PRD file",
        "binary.md": "binary.md: is a binary file (NUL byte at offset 7)",
        "latin1.md": "latin1.md: is not UTF-8 text (byte 0xe9",
    }
    for name, message in cases.items():
        done = run_squad("allocate", name, "--dry-run", cwd=repo)
        assert done.returncode == 2, (name, done.stderr)
        assert done.stderr.strip().startswith(f"squad: error: {message}"), done.stderr
    shutil.copy(EXAMPLE, repo / "feature-prd.md")
    for bad in ("0", "-2", "many"):
        done = run_squad("allocate", "--agents", bad, "--dry-run", cwd=repo)
        assert done.returncode == 2 and "--agents" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (repo / ".squad").exists()


def test_utf16_prd_with_a_bom_is_read(squad: SquadPaths) -> None:
    (squad.root / "win.md").write_bytes("# Fenster\n\n## Tasks\n- [backend] API `backend/a.py`\n".encode("utf-16"))
    result = allocate("win.md", start=squad.root, dry_run=True)
    assert result.allocation.prd.title == "Fenster"


def test_two_allocations_at_once_never_mix_prds(squad: SquadPaths) -> None:
    import subprocess
    import sys

    (squad.root / "b.md").write_text("# Other\n\n## Tasks\n- [backend] api `backend/x.py`\n- [docs] guide\n")
    shutil.copy(EXAMPLE, squad.root / "a.md")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "squad", "allocate", name],
            cwd=squad.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a.md", "b.md")
    ]
    codes = sorted(p.wait(timeout=120) for p in procs)
    for p in procs:
        assert p.stderr is not None
        p.stderr.close()
    assert codes == [0, 2]  # one wrote, the other found its plans and refused
    data = json.loads((squad.squad / "allocation.json").read_text())
    plans = sorted(squad.plans.iterdir())
    assert len(plans) == len(data["agents"])
    assert [read_plan(p).agent for p in plans] == [a["id"] for a in data["agents"]]
    assert load_matrix(squad.ownership).entries[0].owner == data["agents"][0]["id"]
