"""squad init --prd, template overrides, allocate's hint without a PRD, and init --json."""

from __future__ import annotations

import json
from pathlib import Path

from squad.protocol.templates import SHIPPED, load_template
from tests.conftest import run_squad


def test_init_prd_writes_a_starter_that_allocates_and_never_overwrites(repo: Path) -> None:
    result = run_squad("init", "--prd", cwd=repo)
    assert result.returncode == 0, result.stderr
    prd = repo / "feature-prd.md"
    assert prd.read_text() == load_template("feature-prd.md")
    assert "squad allocate" in result.stdout
    prd.write_text("# mine\n")
    again = run_squad("init", "--prd", "--json", cwd=repo)
    data = json.loads(again.stdout)
    assert data["prd_written"] is False and data["created"] == [] and data["prd"] == str(prd)
    assert prd.read_text() == "# mine\n"


def test_starter_prd_allocates(repo: Path) -> None:
    run_squad("init", "--prd", cwd=repo, check=True)
    result = run_squad("allocate", "--dry-run", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["agents"]) == 3


def test_allocate_without_a_prd_says_how_to_get_one(repo: Path) -> None:
    run_squad("init", cwd=repo, check=True)
    result = run_squad("allocate", cwd=repo)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "squad init --prd" in result.stderr


def test_squad_templates_override_the_shipped_ones(repo: Path) -> None:
    run_squad("init", cwd=repo, check=True)
    overrides = repo / ".squad" / "templates"
    overrides.mkdir()
    (overrides / "feature-prd.md").write_text("# Our house PRD\n")
    (overrides / "plan.md").write_text("# House plan for $agent\n$tasks\n")
    run_squad("init", "--prd", cwd=repo, check=True)
    assert (repo / "feature-prd.md").read_text() == "# Our house PRD\n"
    prd = Path(__file__).resolve().parents[2] / "examples" / "parallel-test" / "feature-prd.md"
    result = run_squad("allocate", str(prd), cwd=repo)
    assert result.returncode == 0, result.stderr
    plan = (repo / ".squad" / "parallel-plans" / "agent-1-plan.md").read_text()
    assert "# House plan for agent-1" in plan


def test_a_bad_override_placeholder_is_one_line(repo: Path) -> None:
    run_squad("init", cwd=repo, check=True)
    overrides = repo / ".squad" / "templates"
    overrides.mkdir()
    (overrides / "plan.md").write_text("# $nonsense\n")
    prd = Path(__file__).resolve().parents[2] / "examples" / "parallel-test" / "feature-prd.md"
    result = run_squad("allocate", str(prd), cwd=repo)
    assert result.returncode == 2
    assert "plan template" in result.stderr and "Traceback" not in result.stderr


def test_every_shipped_template_is_found() -> None:
    for name in SHIPPED:
        assert load_template(name).strip()
