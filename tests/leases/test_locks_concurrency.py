"""Real processes racing for leases: never two holders, and a live lease is never broken."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.times import parse_time

WORKER = textwrap.dedent(
    """
    import random, sys, time
    from pathlib import Path
    from squad.leases import locks
    from squad.config import Config
    from squad.paths import SquadPaths

    root, agent, cycles, counter = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    paths, config = SquadPaths(root), Config()
    grants = 0
    while grants < cycles:
        try:
            locks.acquire(paths, agent, "shared/counter.txt", config=config)
        except locks.LockHeld:
            time.sleep(random.uniform(0.002, 0.02))
            continue
        # the critical section: a non-atomic read-modify-write that loses counts if two hold it
        value = int(counter.read_text())
        counter.write_text(str(value + 1))
        grants += 1
        locks.release(paths, agent, "shared/counter.txt")
    print(grants)
    """
)


@pytest.mark.slow
def test_sixteen_processes_never_double_grant(squad: SquadPaths, tmp_path: Path) -> None:
    counter = tmp_path / "counter.txt"
    counter.write_text("0")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(squad.root), f"agent-{n}", "40", str(counter)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(1, 17)
    ]
    grants = 0
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        grants += int(out)
    assert grants == 16 * 40
    assert int(counter.read_text()) == grants
    assert not list((squad.locks).glob("**/*.lock"))


RENEWER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from squad.leases import locks
    from squad.errors import Refused
    from squad.paths import SquadPaths

    paths, seconds = SquadPaths(Path(sys.argv[1])), float(sys.argv[2])
    locks.acquire(paths, "agent-1", "shared/", ttl_s=1, wait_s=30)  # a breaker may hold shared/x.ts
    end, renewals, lost = time.monotonic() + seconds, 0, 0
    while time.monotonic() < end:
        try:
            locks.renew(paths, "agent-1", "shared/", ttl_s=1)
            renewals += 1
        except Refused:  # broken while expired (we were too slow): take it again
            lost += 1
            try:
                locks.acquire(paths, "agent-1", "shared/", ttl_s=1)
            except locks.LockHeld:
                pass
        time.sleep(0.02)
    print(renewals, lost)
    """
)

BREAKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from squad.leases import locks
    from squad.errors import Refused
    from squad.paths import SquadPaths
    from squad.protocol.times import now

    paths, seconds, agent = SquadPaths(Path(sys.argv[1])), float(sys.argv[2]), sys.argv[3]
    end, broken = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        broken += len(locks.break_stale(paths, now()))
        try:
            locks.acquire(paths, agent, "shared/x.ts", ttl_s=1)
            locks.release(paths, agent, "shared/x.ts")
        except locks.LockHeld:
            pass
        except Refused:  # our own lease expired under load and the other breaker broke it: fair
            pass
    print(broken)
    """
)


@pytest.mark.slow
def test_renew_versus_break_never_breaks_a_live_lease(squad: SquadPaths, tmp_path: Path) -> None:
    renewer, breaker = tmp_path / "renewer.py", tmp_path / "breaker.py"
    renewer.write_text(RENEWER)
    breaker.write_text(BREAKER)
    root = str(squad.root)
    procs = [
        subprocess.Popen([sys.executable, str(renewer), root, "3"], stdout=subprocess.PIPE, text=True),
        subprocess.Popen([sys.executable, str(breaker), root, "3", "agent-2"], stdout=subprocess.PIPE, text=True),
        subprocess.Popen([sys.executable, str(breaker), root, "3", "agent-3"], stdout=subprocess.PIPE, text=True),
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    renewals = int(outputs[0].split()[0])
    assert renewals > 0
    # every lease that was broken had expired before the break: none was live
    for moved in squad.broken_locks.glob("*.lock"):
        data = json.loads(moved.read_text())
        expires, broken_at = parse_time(data["expires_at"]), parse_time(data["broken"]["at"])
        assert expires is not None
        assert broken_at is not None
        assert broken_at >= expires, data
    for event in ev.read_events(squad.events):
        if event.kind == ev.LOCK_BROKEN:
            assert "expired" in event.detail or "gone" in event.detail, event
