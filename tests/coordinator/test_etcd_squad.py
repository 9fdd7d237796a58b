"""A squad on two hosts sharing one etcd (two clones of one repository, each with its own files):
one coordinator acts for the whole squad, the other follows and takes over when it goes; the
acting coordinator's judgments and notices, the plans and the ownership matrix reach every host."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.store import store_of
from tests.conftest import events, poll_until, run_squad
from tests.leases.test_etcd_store import two_clones

pytestmark = pytest.mark.slow


def claim_holder(host: SquadPaths) -> str | None:
    """Which host's coordinator holds the squad's claim, as etcd says (None: nobody)."""
    from squad.coordinator.control import control_prefix
    from squad.leases.etcd import _unb64, leases_for

    leases = leases_for(host, store_of(host))
    found = leases._range("read the claim", control_prefix(leases.prefix) + "coordinator").get("kvs", [])
    return str(json.loads(_unb64(found[0]["value"]))["origin"]) if found else None


def origin_of(host: SquadPaths) -> str:
    from squad.coordinator.mirror import SquadMirror
    from squad.leases.etcd import leases_for

    return SquadMirror(host, leases_for(host, store_of(host))).origin


def start(host: SquadPaths) -> None:
    text = host.config.read_text()
    if "claim_ttl_s" not in text:
        host.config.write_text(text + "coordinator:\n  claim_ttl_s: 3\n")
    result = run_squad("daemon", "start", cwd=host.root)
    assert result.returncode == 0, result.stderr


def stop(host: SquadPaths) -> None:
    run_squad("daemon", "stop", cwd=host.root)


def violations(host: SquadPaths, path: str) -> list[ev.Event]:
    return [e for e in events(host, ev.VIOLATION) if e.path == path]


def raw_lines(host: SquadPaths, text: str) -> list[str]:
    try:
        log = host.events.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [line for line in log.splitlines() if text in line]


def test_one_coordinator_acts_for_the_squad_and_another_takes_over(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    start(a)
    try:
        poll_until(lambda: claim_holder(a) == origin_of(a), timeout=10, what="host a to claim the squad")
        start(b)
        posted = run_squad("update", "--agent", "agent-2-web", "--status", "ACTIVE", "outside/b.ts", cwd=b.root)
        assert posted.returncode == 0, posted.stderr
        # Judged once, by host a (it acts), and its record reaches host b through the feed.
        poll_until(lambda: violations(a, "outside/b.ts"), timeout=20, what="host a to judge b's update")
        poll_until(lambda: violations(b, "outside/b.ts"), timeout=20, what="a's judgment to reach host b")
        assert len(violations(a, "outside/b.ts")) == 1
        assert len(violations(b, "outside/b.ts")) == 1  # b followed: it did not judge it again
        assert raw_lines(b, "outside/b.ts") == raw_lines(a, "outside/b.ts")  # a's record, byte for byte
        assert claim_holder(a) == origin_of(a)
        poll_until(
            lambda: "outside/b.ts" in b.coordinator_comm.read_text(encoding="utf-8"),
            timeout=20,
            what="a's notice to reach agent-2 on host b",
        )

        stop(a)  # gives the claim up at once: b acts
        poll_until(lambda: claim_holder(b) == origin_of(b), timeout=15, what="host b to take the claim over")
        posted = run_squad("update", "--agent", "agent-2-web", "--status", "ACTIVE", "outside/c.ts", cwd=b.root)
        assert posted.returncode == 0, posted.stderr
        poll_until(lambda: violations(b, "outside/c.ts"), timeout=20, what="host b, acting now, to judge")
        start(a)  # back, as a follower: it takes what b logged while it was away
        poll_until(lambda: violations(a, "outside/c.ts"), timeout=20, what="host a to take b's records")
        assert claim_holder(a) == origin_of(b)
        assert len(violations(a, "outside/b.ts")) == 1  # its own records are not fed back to it
        assert len(violations(b, "outside/b.ts")) == 1  # what a judged, b did not judge again on taking over
        time.sleep(1)
        for host in (a, b):  # a restart neither publishes again what it took nor takes it twice
            lines = host.events.read_text(encoding="utf-8").splitlines()
            assert len(lines) == len(set(lines)), f"a record twice in {host.root.name}'s log"
    finally:
        stop(a)
        stop(b)


def test_a_coordinator_that_dies_loses_the_claim_when_its_ttl_runs_out(tmp_path: Path, etcd: Any) -> None:
    import os
    import signal

    from squad.coordinator.daemon import running

    a, b = two_clones(tmp_path, etcd.url)
    start(a)
    try:
        poll_until(lambda: claim_holder(a) == origin_of(a), timeout=10, what="host a to claim the squad")
        start(b)
        info = running(a)
        assert info is not None
        os.kill(info.pid, signal.SIGKILL)  # no goodbye: only the etcd lease's TTL ends the claim
        poll_until(lambda: claim_holder(b) == origin_of(b), timeout=20, what="the claim to pass to host b")
    finally:
        stop(a)
        stop(b)


def test_plans_and_the_matrix_reach_every_host_and_the_last_write_wins(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    start(a)
    start(b)
    try:
        plan = a.plans / "agent-1-api-plan.md"
        plan.parent.mkdir(parents=True, exist_ok=True)
        plan.write_bytes(
            "---\nagent: agent-1-api\nrole: api\nowns: [api/]\ntasks: []\n---\n# Plan \u2014 API\n".encode()
        )
        a.ownership.write_text("api/: {owner: agent-1-api, access: EXCLUSIVE}\n")
        there = b.plans / plan.name

        def same(path_a: Path, path_b: Path) -> bool:
            try:
                return path_a.read_bytes() == path_b.read_bytes()
            except OSError:
                return False

        poll_until(lambda: same(plan, there), timeout=20, what="a's plan on host b")
        poll_until(lambda: same(a.ownership, b.ownership), timeout=20, what="a's matrix on host b")
        b.ownership.write_text("api/: {owner: agent-1-api, access: EXCLUSIVE}\nweb/: {owner: agent-2-web}\n")
        poll_until(lambda: "web/" in a.ownership.read_text(), timeout=20, what="b's edit on host a")
        assert a.ownership.read_bytes() == b.ownership.read_bytes()
        plan.unlink()
        poll_until(lambda: not there.exists(), timeout=20, what="a's removal on host b")
    finally:
        stop(a)
        stop(b)


def test_a_host_that_starts_later_gets_the_squads_plans(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    plan = a.plans / "agent-3-ml-plan.md"
    plan.parent.mkdir(parents=True, exist_ok=True)
    plan.write_text("---\nagent: agent-3-ml\nrole: ml\nowns: [ml/]\ntasks: []\n---\n")
    start(a)
    try:
        start(b)  # its first read of etcd brings the plan
        poll_until((b.plans / plan.name).exists, timeout=20, what="the plan on host b at its start")
        assert (b.plans / plan.name).read_bytes() == plan.read_bytes()
    finally:
        stop(a)
        stop(b)


def test_without_etcd_no_coordinator_acts_until_it_answers_again(tmp_path: Path, etcd: Any) -> None:
    """Fails closed: a coordinator that cannot renew its claim might be acting beside the one that
    took over, so it stops acting (it still reads and reports) until etcd answers."""
    import time
    from datetime import UTC, datetime

    from squad.protocol.comm import Status
    from tests.conftest import post

    a, _ = two_clones(tmp_path, etcd.url)
    start(a)
    try:
        poll_until(lambda: claim_holder(a) == origin_of(a), timeout=10, what="host a to claim the squad")
        etcd.stop()
        time.sleep(3)  # past half the claim's TTL: no longer acting
        post(a, 1, "api", Status.ACTIVE, datetime.now(UTC), files=("outside/d.ts",))
        time.sleep(3)
        assert violations(a, "outside/d.ts") == []
        for member in etcd.members:
            member.start()
        etcd.wait_healthy()
        poll_until(lambda: violations(a, "outside/d.ts"), timeout=30, what="the judgment once etcd is back")
    finally:
        stop(a)


def test_a_coordinator_started_while_etcd_is_down_acts_once_it_answers(tmp_path: Path, etcd: Any) -> None:
    from datetime import UTC, datetime

    from squad.protocol.comm import Status
    from tests.conftest import post

    a, _ = two_clones(tmp_path, etcd.url)
    a.config.write_text(a.config.read_text() + "coordinator:\n  claim_ttl_s: 3\n  tick_s: 1\n")
    etcd.stop()
    start(a)
    try:
        post(a, 1, "api", Status.ACTIVE, datetime.now(UTC), files=("outside/e.ts",))
        import time

        time.sleep(3)
        assert violations(a, "outside/e.ts") == []  # nothing shared, nobody acts: fails closed
        for member in etcd.members:
            member.start()
        etcd.wait_healthy()
        poll_until(lambda: claim_holder(a) == origin_of(a), timeout=30, what="the claim once etcd answers")
        poll_until(lambda: violations(a, "outside/e.ts"), timeout=30, what="the judgment once it acts")
    finally:
        stop(a)


def test_what_commands_log_on_either_host_reaches_the_other_once(tmp_path: Path, etcd: Any) -> None:
    """A lock wait that ran out on the following host is in the acting host's log, and neither
    host gets any record twice (a record taken from another host is never published again)."""
    a, b = two_clones(tmp_path, etcd.url)
    start(a)
    start(b)
    try:
        held = run_squad("lock", "shared/x.ts", "--agent", "agent-1-api", cwd=a.root)
        assert held.returncode == 0, held.stderr
        waited = run_squad("lock", "shared/x.ts", "--agent", "agent-2-web", "--wait", "0.5", cwd=b.root)
        assert waited.returncode == 1
        poll_until(lambda: raw_lines(a, '"lock_wait"'), timeout=20, what="b's lock wait in a's log")
        posted = run_squad("update", "--agent", "agent-2-web", "--status", "ACTIVE", "outside/f.ts", cwd=b.root)
        assert posted.returncode == 0, posted.stderr
        poll_until(lambda: violations(b, "outside/f.ts"), timeout=20, what="a's judgment back on b")
        time.sleep(1)  # anything echoed back would have landed by now
        for host in (a, b):
            lines = host.events.read_text(encoding="utf-8").splitlines()
            assert len(lines) == len(set(lines)), f"a record twice in {host.root.name}'s log"
            assert len(raw_lines(host, '"lock_wait"')) == 1
        assert raw_lines(a, '"lock_wait"') == raw_lines(b, '"lock_wait"')
    finally:
        stop(a)
        stop(b)
