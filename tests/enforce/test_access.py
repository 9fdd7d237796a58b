"""squad.enforce.access: the ownership matrix and leases decide who may write what."""

from __future__ import annotations

from datetime import timedelta

import pytest

from squad.config import Config
from squad.enforce.access import check_paths, load_rules, may_write
from squad.errors import SquadError
from squad.leases import locks
from squad.paths import SquadPaths
from squad.protocol.ownership import Entry, Matrix
from squad.protocol.times import now

MATRIX = Matrix(
    (
        Entry("frontend/", "agent-1-frontend", "EXCLUSIVE"),
        Entry("frontend/shared.ts", None, "SEQUENTIAL"),  # later entries win
        Entry("migrations/", None, "SEQUENTIAL", "db-migrations"),
        Entry("config/*.config.js", None, "READONLY"),
    )
)


def test_exclusive_only_owner(squad: SquadPaths) -> None:
    yes = may_write(squad, "agent-1", "frontend/App.tsx", matrix=MATRIX, leases=[])
    assert (yes.allowed, yes.rule, yes.owner) == (True, "exclusive", "agent-1-frontend")
    no = may_write(squad, "agent-2-backend", "frontend/App.tsx", matrix=MATRIX, leases=[])
    assert (no.allowed, no.rule) == (False, "exclusive")
    assert "agent-1-frontend" in no.reason
    assert no.fix is not None


def test_last_match_wins(squad: SquadPaths) -> None:
    d = may_write(squad, "agent-1", "frontend/shared.ts", matrix=MATRIX, leases=[])
    assert (d.allowed, d.rule) == (False, "sequential")
    assert d.fix == "squad lock frontend/shared.ts"


def test_readonly_refuses_everyone(squad: SquadPaths) -> None:
    d = may_write(squad, "agent-1", "config/app.config.js", matrix=MATRIX, leases=[])
    assert (d.allowed, d.rule) == (False, "readonly")


def test_sequential_needs_live_lease_on_path_or_folder(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-2", "lib/")
    assert may_write(squad, "agent-2-backend", "lib/x/y.py", matrix=MATRIX).allowed
    other = may_write(squad, "agent-3", "lib/x/y.py", matrix=MATRIX)
    assert (other.allowed, other.rule, other.holder) == (False, "default", "agent-2")
    later = now() + timedelta(hours=2)  # the lease has expired by then
    assert not may_write(squad, "agent-2", "lib/x/y.py", matrix=MATRIX, now=later).allowed


def test_resource_lease_required(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-1", "migrations/001.sql")
    d = may_write(squad, "agent-1", "migrations/001.sql", matrix=MATRIX)
    assert (d.allowed, d.rule, d.fix) == (False, "resource", "squad lock @db-migrations")
    locks.acquire(squad, "agent-2", "@db-migrations")
    d = may_write(squad, "agent-1", "migrations/001.sql", matrix=MATRIX)
    assert d.holder == "agent-2"
    locks.release(squad, "agent-2", "@db-migrations")
    locks.acquire(squad, "agent-1", "@db-migrations")
    assert may_write(squad, "agent-1", "migrations/001.sql", matrix=MATRIX).allowed


@pytest.mark.parametrize(("access", "allowed"), [("SEQUENTIAL", False), ("READONLY", False)])
def test_default_access_from_config(squad: SquadPaths, access: str, allowed: bool) -> None:
    squad.config.write_text(f"default_access: {access}\n")
    [d] = check_paths(squad, "agent-1", ["anything.txt"])
    assert d.allowed is allowed
    assert d.rule == "default"
    if access == "SEQUENTIAL":
        locks.acquire(squad, "agent-1", "anything.txt")
        assert check_paths(squad, "agent-1", ["anything.txt"])[0].allowed


def test_rules_from_plans_when_no_ownership_yaml(squad: SquadPaths) -> None:
    squad.plan(1).write_text(
        "---\nagent: agent-1-frontend\nowns: [frontend/]\nshared: [shared/types/]\nread_only: [config/]\n"
        "tasks: []\n---\nbody\n"
    )
    squad.plan(2).write_text("---\nagent: agent-2-backend\nowns: [backend/]\nshared: []\ntasks: []\n---\n")
    matrix = load_rules(squad, Config())
    assert matrix.rule("frontend/App.tsx").owner == "agent-1-frontend"
    assert matrix.rule("backend/x.py").owner == "agent-2-backend"
    assert matrix.rule("shared/types/m.ts").access == "SEQUENTIAL"
    assert matrix.rule("config/a.js").access == "READONLY"
    decisions = check_paths(squad, "agent-2", ["backend/x.py", "frontend/App.tsx"])
    assert [d.allowed for d in decisions] == [True, False]


def test_bad_ownership_yaml_names_file_and_line(squad: SquadPaths) -> None:
    squad.ownership.write_text("a/: {owner: agent-1, access: EXCLUSIVE}\nb/: {access: MAYBE}\n")
    with pytest.raises(SquadError) as info:
        check_paths(squad, "agent-1", ["a/x"])
    assert "ownership.yaml:2" in info.value.render()


def test_unreadable_lease_only_stops_checks_of_paths_it_may_cover(squad: SquadPaths) -> None:
    locks.acquire(squad, "agent-1", "lib/a.py")
    (squad.locks / "shared.lock").write_text("{broken")
    assert [d.allowed for d in check_paths(squad, "agent-1", ["lib/a.py", "frontend/App.tsx"])] == [True, False]
    with pytest.raises(SquadError) as info:
        check_paths(squad, "agent-1", ["lib/a.py", "shared/types.ts"])
    assert info.value.render().startswith(".squad/locks/shared.lock:1: unreadable lease: bad lease JSON")
    with pytest.raises(SquadError):
        may_write(squad, "agent-1", "shared/types.ts", matrix=MATRIX)
    assert may_write(squad, "agent-1", "frontend/x.ts", matrix=MATRIX).allowed


def test_a_resource_locked_path_names_both_leases_in_one_fix(squad: SquadPaths) -> None:
    from squad.enforce.access import may_write

    squad.ownership.write_text('migrations/: {owner: null, access: SEQUENTIAL, resource: "@db-migrations"}\n')
    decision = may_write(squad, "agent-2", "migrations/0007.sql")
    assert not decision.allowed
    assert decision.fix == "squad lock migrations/0007.sql && squad lock @db-migrations"
    assert "@db-migrations" in decision.reason


def test_default_access_exclusive_is_refused_naming_the_line(squad: SquadPaths) -> None:
    squad.config.write_text("lock_ttl_s: 60\ndefault_access: EXCLUSIVE\n")  # no owner: nobody could write
    with pytest.raises(SquadError, match=r"config.yaml:2: default_access must be SEQUENTIAL or READONLY"):
        check_paths(squad, "agent-1", ["anything.txt"])


def test_config_key_set_twice_is_an_error(squad: SquadPaths) -> None:
    squad.config.write_text("lock_ttl_s: 1800\nagent_idle_s: 60\nlock_ttl_s: 60\n")
    with pytest.raises(SquadError, match=r"config.yaml:3: lock_ttl_s is set twice \(first at line 1\)"):
        check_paths(squad, "agent-1", ["anything.txt"])
