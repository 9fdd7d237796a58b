"""A malformed file of one agent is that agent's problem; a malformed config or matrix is a one-line
error naming the file, never a traceback and never "no rules" (issues 19 and 21)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from squad.agents.roster import members, read_member_plan, resolve
from squad.config import load_config, parse_config
from squad.coordinator.state import build_snapshot
from squad.enforce.access import load_rules
from squad.errors import SquadError
from squad.paths import SquadPaths
from squad.protocol.ownership import Entry, Matrix, load_matrix, parse_matrix, write_matrix
from squad.protocol.plan import Plan, parse_plan, read_plan, write_plan
from squad.protocol.times import now
from tests.conftest import run_squad

ROLES = {1: "frontend", 2: "backend", 3: "qa"}


def _squad(paths: SquadPaths, *, matrix: bool = True) -> None:
    for number, role in ROLES.items():
        write_plan(paths.plan(number), Plan(agent=f"agent-{number}-{role}", role=role, owns=(f"{role}/",)))
        paths.comm(number).write_text(
            f"## Status Update [2026-11-22T14:05:00Z]\nStatus: ACTIVE\nCurrent Task: {role}\n"
        )
    if matrix:
        entries = [Entry(f"{role}/", f"agent-{n}-{role}", "EXCLUSIVE") for n, role in ROLES.items()]
        write_matrix(paths.ownership, Matrix((*entries, Entry("shared/", None, "SEQUENTIAL"))))


BAD_PLANS = {
    "not utf-8": b"\xff",
    "not utf-8 inside": b"---\nagent: agent-1-frontend\nowns: [frontend/]\n---\n" + b"caf\xe9\n",
    "unclosed list": b"---\nagent: agent-1-frontend\nowns: [frontend/\n---\nbody\n",
    "tasks not a list": b"---\nagent: agent-1-frontend\ntasks: 5\n---\n",
    "handoffs not a list": b"---\nagent: agent-1-frontend\nowns: [a/]\ntasks: []\nhandoffs_in: 3\n---\n",
    "subtasks not a list": b"---\nagent: agent-1-frontend\nowns: []\ntasks: [{id: T1, subtasks: 3}]\n---\n",
    "a python tag": b"---\nagent: !!python/object:os.system x\n---\n",
    "keys not strings": b"---\n  null: x\n---\n",
    "json that is not": b"\t{\n---\nk: 1\n{\n",
    "nested too deep": b"---\nagent: " + b"[" * 1000 + b"\n---\n",
    "agent not an id": b"---\nagent: [1, 2]\nowns: []\ntasks: []\n---\n",
}


@pytest.mark.parametrize("data", BAD_PLANS.values(), ids=BAD_PLANS.keys())
def test_a_bad_plan_is_a_squad_error_and_the_roster_skips_and_reports_it(squad: SquadPaths, data: bytes) -> None:
    _squad(squad, matrix=False)
    squad.plan(1).write_bytes(data)
    with pytest.raises(SquadError) as caught:
        read_plan(squad.plan(1))
    assert caught.value.path == squad.plan(1)
    roster = members(squad)  # never raises
    assert [m.id.number for m in roster] == [1, 2, 3]
    assert resolve(squad, "2").name == "agent-2-backend"
    problems: list[SquadError] = []
    assert read_member_plan(roster[0], problems) is None
    assert read_member_plan(roster[1], problems) is not None
    assert len(problems) == 1 and "agent-1-plan.md" in str(problems[0])
    # Rules built from the plans: agent 1's are left out (and reported), the others' stand.
    rules = load_rules(squad)
    assert [str(p) for p in rules.problems] == [str(problems[0])]
    assert rules.rule("backend/api.py").owner == "agent-2-backend"
    assert rules.rule("qa/t.py").owner == "agent-3-qa"
    snap = build_snapshot(squad, now(), strict=False)
    assert len(snap.agents) == 3 and {"agent-2-backend", "agent-3-qa"} <= {a.id for a in snap.agents}
    assert any("agent-1-plan.md" in str(p) for p in snap.problems)


def test_a_non_utf8_plan_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    plan = tmp_path / "agent-1-plan.md"
    plan.write_bytes(b"---\nagent: agent-1-x\n---\nline four \xff\n")
    with pytest.raises(SquadError) as caught:
        read_plan(plan)
    assert caught.value.line == 4 and "not UTF-8" in caught.value.message


BAD_MATRICES = [
    b"frontend/: {owner: agent-1, access: EXCLUSIVE}\n\xff\n",
    b"a/: !!python/object:os.system {}\n",
    b"? [a, b]\n: {owner: agent-1}\n",
    b"a/: " + b"[" * 1000 + b"\n",
    b"- just\n- a list\n",
]


@pytest.mark.parametrize("data", BAD_MATRICES)
def test_a_bad_matrix_is_an_error_never_an_empty_matrix(squad: SquadPaths, data: bytes) -> None:
    _squad(squad)
    squad.ownership.write_bytes(data)
    with pytest.raises(SquadError) as caught:
        load_matrix(squad.ownership)
    assert caught.value.path == squad.ownership
    with pytest.raises(SquadError):
        load_rules(squad)


BAD_CONFIGS = [b"lock_ttl_s: 60\n\xfe\xff\n", b"lock_ttl_s: " + b"[" * 1000 + b"\n", b"lock_ttl_s: .inf\n"]


@pytest.mark.parametrize("data", BAD_CONFIGS)
def test_a_bad_config_is_an_error_never_the_defaults(tmp_path: Path, data: bytes) -> None:
    config = tmp_path / "config.yaml"
    config.write_bytes(data)
    with pytest.raises(SquadError) as caught:
        load_config(config)
    assert caught.value.path == config


def test_readers_raise_only_squad_errors_on_fuzzed_input() -> None:
    """Random mixes of plausible and hostile lines: every failure is a SquadError, nothing else."""
    pieces = [
        "---\n", "agent: agent-1-x\n", "agent: {a: 1}\n", "tasks:\n", "  - id: T1\n", "    subtasks: 3\n",
        "    files: 3\n", "    depends_on: {a: 1}\n", "    resource: [1]\n", "tasks: [[1]]\n", "tasks: [{id: [1]}]\n",
        "handoffs_in: 3\n", "handoffs_in: [{task: [1], from: {a: 1}}]\n", "owns: {a: 1}\n", "role: [x]\n",
        "a: &x [*x]\n", "x: !!python/object:os.system\n", "? [a]\n: b\n", "'\n", "{\n", "- a\n",
        "frontend/: {owner: agent-1, access: EXCLUSIVE}\n", "b/: 5\n", "c/: {owner: [1]}\n", "d/: {access: [1]}\n",
        "f/: {owner: agent-2, resource: 5}\n", "1: {owner: agent-1}\n", "null: x\n", "lock_ttl_s: 5\n",
        "lock_ttl_s: .nan\n", "default_access: [1]\n", "deadlock_policy: [x]\n", "task_headings: [[1]]\n",
        "launch: 5\n", "\x00", "\t", "  ", "body\n", "k: !!set {a, b}\n", "[[[[[[[[\n",
    ]  # fmt: skip
    rng = random.Random(21)
    for _ in range(1000):
        text = rng.choice(["", "---\n"]) + "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        for read in (
            lambda t: parse_plan(t, Path("p.md")),
            lambda t: parse_matrix(t, Path("o.yaml")),
            lambda t: parse_config(t, Path("c.yaml")),
        ):
            try:
                read(text)
            except SquadError:
                pass


# -- the commands of the other agents keep working -------------------------------------------------


def _others_keep_working(paths: SquadPaths) -> None:
    """Agent 2's commands succeed; only the file's own problem is reported."""
    root = paths.root
    for args in (
        ["update", "--agent", "2", "--status", "ACTIVE", "--task", "B1"],
        ["lock", "--agent", "2", "shared/a.ts"],
        ["check", "--agent", "2", "backend/api.py", "shared/a.ts"],
        ["handoff", "--agent", "2", "--to", "3", "--file", "shared/a.ts"],
        ["unlock", "--agent", "2", "shared/a.ts"],
        ["locks"],
    ):
        result = run_squad(*args, cwd=root)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr


def _status_reports(paths: SquadPaths, file: str) -> None:
    result = run_squad("status", "--json", cwd=paths.root)
    assert result.returncode == 2, result.stderr  # the exit code says there was a problem
    data = json.loads(result.stdout)
    assert {"agent-2-backend", "agent-3-qa"} <= {a["id"] for a in data["agents"]}
    assert any(file in problem for problem in data["problems"]), data["problems"]
    assert all(line.startswith("squad: error: ") and file in line for line in result.stderr.strip().splitlines())
    plain = run_squad("status", cwd=paths.root)
    assert plain.returncode == 2 and "agent-2-backend" in plain.stdout and "agent-3-qa" in plain.stdout


@pytest.mark.parametrize(
    "data", [b"\xff", b"---\nagent: agent-1-frontend\nowns: [frontend/\n---\n"], ids=["bytes", "yaml"]
)
@pytest.mark.parametrize("matrix", [True, False], ids=["matrix", "rules-from-plans"])
def test_a_bad_plan_of_one_agent_leaves_the_others_working(squad: SquadPaths, data: bytes, matrix: bool) -> None:
    _squad(squad, matrix=matrix)
    squad.plan(1).write_bytes(data)
    _others_keep_working(squad)
    _status_reports(squad, "agent-1-plan.md")
    if not matrix:  # the rules come from the plans: `check` says which plan it left out
        check = run_squad("check", "--agent", "2", "backend/api.py", cwd=squad.root)
        assert check.returncode == 0
        assert check.stderr.startswith("squad: warning: ") and "agent-1-plan.md:" in check.stderr


@pytest.mark.parametrize(
    "data",
    [
        b"## Status Update [2026-11-22T14:05:00Z]\nStatus: \xff\xfe garbage\n",
        b"## Status Update [2026-11-22T14:05:00Z]\nCurrent Task: x\nStatus: ACTIV\nProgress: 9/2\n",
        b"\x00\x01\x02" * 100,
    ],
    ids=["non-utf-8", "garbage status", "binary"],
)
def test_a_bad_comm_file_of_one_agent_leaves_the_others_working(squad: SquadPaths, data: bytes) -> None:
    _squad(squad)
    squad.comm(1).write_bytes(data)
    _others_keep_working(squad)
    result = run_squad("status", "--json", cwd=squad.root)
    data_out = json.loads(result.stdout)
    assert {"agent-1-frontend", "agent-2-backend", "agent-3-qa"} <= {a["id"] for a in data_out["agents"]}
    if data_out["problems"]:
        assert result.returncode == 2 and all("agent-1-comm.md" in p for p in data_out["problems"])


@pytest.mark.parametrize("name", ["config", "ownership"])
@pytest.mark.parametrize("data", [b"\xff\xfe", b"a: [\n"], ids=["bytes", "yaml"])
def test_a_bad_config_or_matrix_is_one_line_naming_the_file(squad: SquadPaths, name: str, data: bytes) -> None:
    _squad(squad)
    file = squad.config if name == "config" else squad.ownership
    file.write_bytes(data)
    needing_it = [["check", "--agent", "2", "backend/api.py"], ["check", "--agent", "2", "shared/a.ts"]]
    if name == "config":
        needing_it += [["status"], ["locks"]]
    for args in needing_it:
        result = run_squad(*args, cwd=squad.root)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("squad: error: "), result.stderr
        assert f".squad/{file.name}:" in lines[0]


def test_a_garbage_status_block_does_not_hide_the_others_from_status(squad: SquadPaths) -> None:
    """Issue 19: one unreadable comm block makes only that agent's row show a problem."""
    _squad(squad)
    with squad.comm(2).open("a") as handle:
        handle.write("\n## Status Update [2026-11-22T15:00:00Z]\nStatus: ???\n")
    result = run_squad("status", cwd=squad.root)
    assert result.returncode == 2
    for agent in ("agent-1-frontend", "agent-2-backend", "agent-3-qa"):
        assert agent in result.stdout
    assert result.stderr.startswith("squad: error: ") and "agent-2-comm.md" in result.stderr
