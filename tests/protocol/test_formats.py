"""Round trips and errors for plans, the ownership matrix, leases, events and config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from squad.config import Config, load_config, parse_config
from squad.errors import SquadError
from squad.protocol.events import Event, EventLogReader, append_event, read_events
from squad.protocol.ids import AgentId, parse_agent_id, resolve_agent, same_agent
from squad.protocol.lease import lease_files, new_lease, parse_lease, read_lease
from squad.protocol.ownership import Entry, Matrix, load_matrix, parse_matrix, render_matrix
from squad.protocol.plan import Handoff, Plan, PlanTask, estimate_hours, parse_plan, read_plan, render_plan, write_plan
from squad.protocol.times import find_time, format_time, parse_time

T = datetime(2026, 11, 22, 14, 5, tzinfo=UTC)


# -- ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("agent-1-frontend", AgentId(1, "frontend")),
        ("agent-1", AgentId(1)),
        ("1", AgentId(1)),
        ("Agent 1", AgentId(1)),
        ("AGENT-12-Frontend-UI-Developer", AgentId(12, "frontend-ui-developer")),
        ("agent-3-comm", AgentId(3)),
        ("frontend", None),
    ],
)
def test_agent_ids(text: str, expected: AgentId | None) -> None:
    assert parse_agent_id(text) == expected


def test_resolve_by_number_keeps_the_known_role() -> None:
    known = [AgentId(1, "frontend"), AgentId(2, "backend")]
    assert resolve_agent("agent-2", known) == AgentId(2, "backend")
    assert resolve_agent("2", known) == AgentId(2, "backend")
    assert resolve_agent("agent-7-ml", known) == AgentId(7, "ml")
    assert same_agent("agent-1-frontend", "1") and not same_agent("agent-1", "agent-2")
    with pytest.raises(SquadError):
        resolve_agent("frontend", known)


# -- times ----------------------------------------------------------------------------------------


def test_times() -> None:
    assert parse_time("2026-11-22T14:05:00Z") == T
    assert parse_time("2026-11-22 14:05 UTC") == T
    assert find_time("Status Update [2026-11-22T15:05:00+01:00] extra") == T
    assert format_time(T) == "2026-11-22T14:05:00Z"
    assert parse_time("soon") is None


# -- plans ----------------------------------------------------------------------------------------

PLAN = Plan(
    agent="agent-1-frontend",
    role="frontend",
    owns=("frontend/",),
    shared=("shared/types/",),
    read_only=("config/",),
    tasks=(
        PlanTask("T1", "Create dashboard component", files=("frontend/Dashboard.tsx",), estimate="2h"),
        PlanTask("T4", "Add WebSocket updates", depends_on=("T2",), estimate="30m"),
    ),
    handoffs_in=(Handoff("T2", "agent-2-backend"),),
    handoffs_out=(Handoff("T1", "agent-3-ml", "shared/types/metrics.ts"),),
    body="# Agent Identity\n\nYou are agent-1-frontend.\n",
)


def test_plan_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "agent-1-plan.md"
    write_plan(path, PLAN)
    assert read_plan(path) == PLAN
    assert render_plan(read_plan(path)) == path.read_text()


def test_plan_reads_the_design_example(tmp_path: Path) -> None:
    text = """---
agent: agent-1-frontend
role: frontend
owns: [frontend/]                 # EXCLUSIVE paths
shared: [shared/types/]           # SEQUENTIAL paths: lock before editing
tasks:
  - id: T1
    title: Create dashboard component
    files: [frontend/Dashboard.tsx]
    depends_on: []
    estimate: 2h
  - id: T4
    title: Add WebSocket updates
    depends_on: [T2]
handoffs_in: [{task: T2, from: agent-2-backend}]
---
Do the work.
"""
    plan = parse_plan(text, tmp_path / "agent-1-plan.md")
    assert plan.agent_id == AgentId(1, "frontend")
    assert [t.id for t in plan.tasks] == ["T1", "T4"]
    assert plan.tasks[0].estimate_h == 2.0
    assert plan.handoffs_in == (Handoff("T2", "agent-2-backend"),)


def test_plan_bad_front_matter_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(SquadError) as info:
        parse_plan("---\nagent: agent-1\ntasks: [\n---\nbody\n", tmp_path / "agent-1-plan.md")
    assert "agent-1-plan.md:" in str(info.value)


def test_estimates() -> None:
    assert estimate_hours("2h") == 2.0
    assert estimate_hours("30m") == 0.5
    assert estimate_hours("3d") == 24.0
    assert estimate_hours("1.5 hours") == 1.5
    assert estimate_hours("soon") is None


# -- ownership ------------------------------------------------------------------------------------

MATRIX_TEXT = """
frontend/:      {owner: agent-1-frontend, access: EXCLUSIVE}
backend/:       {owner: agent-2-backend,  access: EXCLUSIVE}
shared/:        {owner: null,             access: SEQUENTIAL}   # anyone, holding the lock
package.json:   {owner: null,             access: SEQUENTIAL}
migrations/:    {owner: null,             access: SEQUENTIAL, resource: "@db-migrations"}
docs/adr/:      {owner: null,             access: READONLY}
/config/*.config.js: {owner: null, access: READ-ONLY}
frontend/legacy/: {owner: null, access: PARTITIONED}
"""


def test_matrix_last_match_wins(tmp_path: Path) -> None:
    m = parse_matrix(MATRIX_TEXT, tmp_path / "ownership.yaml")
    assert m.rule("frontend/App.tsx").owner == "agent-1-frontend"
    assert m.rule("frontend/legacy/old.js").access == "SEQUENTIAL"
    assert m.rule("migrations/001.sql").resource == "@db-migrations"
    assert m.rule("docs/adr/0001.md").access == "READONLY"
    assert m.rule("config/app.config.js").access == "READONLY"
    assert m.rule("package.json").access == "SEQUENTIAL"
    assert m.rule("sub/package.json").pattern is None  # keys are anchored at the root
    unmatched = m.rule("README.md")
    assert unmatched.access == "SEQUENTIAL" and unmatched.pattern is None


def test_matrix_round_trips(tmp_path: Path) -> None:
    m = parse_matrix(MATRIX_TEXT, tmp_path / "ownership.yaml")
    again = parse_matrix(render_matrix(m), tmp_path / "ownership.yaml")
    assert [(e.pattern, e.owner, e.access, e.resource) for e in again.entries] == [
        (e.pattern, e.owner, e.access, e.resource) for e in m.entries
    ]


def test_matrix_errors_name_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(SquadError, match=r"ownership.yaml:3: unknown access mode 'SOMETIMES'"):
        parse_matrix(
            "a/: {owner: agent-1, access: EXCLUSIVE}\n\nb/: {access: SOMETIMES}\n", tmp_path / "ownership.yaml"
        )
    with pytest.raises(SquadError, match=r"ownership.yaml:2: owner 'bob' of 'b/' is not an agent id"):
        parse_matrix("a/: {owner: agent-1, access: EXCLUSIVE}\nb/: {owner: bob}\n", tmp_path / "ownership.yaml")
    with pytest.raises(SquadError, match=r"ownership.yaml:1: 'api/' is EXCLUSIVE but names no owner"):
        parse_matrix("api/: EXCLUSIVE\n", tmp_path / "ownership.yaml")
    with pytest.raises(SquadError, match=r"ownership.yaml:2: bad YAML"):
        parse_matrix("a/: {owner: x\nb/: [\n", tmp_path / "ownership.yaml")
    assert load_matrix(tmp_path / "missing.yaml") == Matrix()


def test_matrix_owned_by() -> None:
    m = Matrix((Entry("frontend/", "agent-1-frontend", "EXCLUSIVE"), Entry("backend/", "agent-2", "EXCLUSIVE")))
    assert [e.pattern for e in m.owned_by("1")] == ["frontend/"]


# -- leases ---------------------------------------------------------------------------------------


def test_json_lease_round_trips(tmp_path: Path) -> None:
    lease = new_lease(
        agent="agent-2-backend", path="shared/types/metrics.ts", now=T, ttl_s=1800, reason="types", pid=42
    )
    parsed = parse_lease(lease.to_json(), tmp_path / "x.lock", "shared/types/metrics.ts", 1800)
    assert parsed == lease
    assert parsed.expires_at == T + timedelta(minutes=30)
    assert not parsed.expired(T) and parsed.expired(T + timedelta(minutes=30))


def test_hand_written_lease(tmp_path: Path) -> None:
    text = "LOCKED_BY: agent-2\nLOCKED_AT: 2026-11-22 14:05 UTC\nPURPOSE: Adding user types\nESTIMATED_DURATION: 20 minutes\nHANDOFF_TO: agent-3\n"
    lease = parse_lease(text, tmp_path / "user.ts.lock", "user.ts", 600)
    assert (lease.agent, lease.acquired_at, lease.reason, lease.handoff_to) == (
        "agent-2",
        T,
        "Adding user types",
        "agent-3",
    )
    assert lease.expires_at == T + timedelta(seconds=600)
    assert lease.hand_written and lease.flat


def test_yaml_style_lease_and_bad_leases(tmp_path: Path) -> None:
    lease = parse_lease(
        "locked_by: agent-1\nexpires_at: 2026-11-22T15:00:00Z\n", tmp_path / "a.lock", "a/b.ts", 60, mtime=T
    )
    assert lease.acquired_at == T and lease.expires_at == datetime(2026, 11, 22, 15, tzinfo=UTC)
    with pytest.raises(SquadError, match="names no holder"):
        parse_lease("PURPOSE: x\n", tmp_path / "a.lock", "a", 60, mtime=T)
    with pytest.raises(SquadError, match=r"a.lock:1: bad lease JSON"):
        parse_lease("{not json", tmp_path / "a.lock", "a", 60)


def test_lease_files_walk_nested_and_skip_broken(tmp_path: Path) -> None:
    locks = tmp_path / "locks"
    (locks / "shared" / "types").mkdir(parents=True)
    (locks / ".broken").mkdir()
    (locks / "shared" / "types" / "metrics.ts.lock").write_text("LOCKED_BY: agent-1\nLOCKED_AT: 2026-11-22T14:05:00Z\n")
    (locks / "@git.lock").write_text(new_lease(agent="agent-1", path="@git", now=T, ttl_s=60).to_json())
    (locks / ".broken" / "old.lock").write_text("x")
    (locks / "README.md").write_text("not a lock")
    (locks / ".mutex").write_text("")
    found = [f.relative_to(locks).as_posix() for f in lease_files(locks)]
    assert found == ["@git.lock", "shared/types/metrics.ts.lock"]
    nested = read_lease(locks / "shared" / "types" / "metrics.ts.lock", locks, 60)
    assert nested is not None and nested.path == "shared/types/metrics.ts" and not nested.flat


# -- events ---------------------------------------------------------------------------------------


def test_events_round_trip_and_incremental(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    e1 = Event("violation", T, agent="agent-1", path="backend/x.py", data={"rule": "exclusive"}, key="v1")
    append_event(log, e1)
    reader = EventLogReader(log)
    assert reader.read_new() == [e1]
    e2 = Event("lock_broken", T, path="shared/a.ts", detail="expired")
    append_event(log, e2)
    with log.open("a") as handle:
        handle.write('{"kind": "half')  # a crash mid-line: left for later
    assert reader.read_new() == [e2]
    assert read_events(log) == [e1, e2]


def test_bad_event_line_names_file_and_line(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text('{"kind": "x", "at": "2026-11-22T14:05:00Z"}\nnot json\n')
    with pytest.raises(SquadError, match=r"events.jsonl:2: bad event JSON"):
        read_events(log)


# -- config ---------------------------------------------------------------------------------------


def test_default_config_text_parses_to_defaults(squad_dir_config: Path) -> None:
    assert load_config(squad_dir_config) == Config()


@pytest.fixture
def squad_dir_config(tmp_path: Path) -> Path:
    from squad.config import DEFAULT_CONFIG_TEXT

    path = tmp_path / "config.yaml"
    path.write_text(DEFAULT_CONFIG_TEXT)
    return path


def test_config_overrides_and_extra_sections(tmp_path: Path) -> None:
    text = (
        "lock_ttl_s: 60\ndefault_access: read-only\nlaunch:\n  retries: 5\nstreams:\n  mobile: {folders: [mobile/]}\n"
    )
    config = parse_config(text, tmp_path / "config.yaml")
    assert config.lock_ttl_s == 60.0 and config.default_access == "READONLY"
    assert config.section("launch") == {"retries": 5}
    assert config.section("nothing") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lock_ttl_s: soon\n", r"config.yaml:1: lock_ttl_s must be a positive number"),
        ("lock_ttl_s: 1\ndefault_access: MAYBE\n", r"config.yaml:2: unknown access mode 'MAYBE'"),
        ("lock_ttl_s: 1\nlock_tt_s: 2\n", r"config.yaml:2: unknown setting lock_tt_s: did you mean lock_ttl_s\?"),
        ("lock_ttl_s: [\n", r"config.yaml:2: bad YAML"),
        ("- a\n- b\n", r"config.yaml:1: expected a mapping"),
    ],
)
def test_config_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SquadError, match=message):
        parse_config(text, tmp_path / "config.yaml")
