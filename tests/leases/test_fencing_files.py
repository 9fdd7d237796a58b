"""Fencing tokens on the files backend: a counter kept under the lease mutex."""

from __future__ import annotations

import json
import subprocess
import sys

from squad.leases import locks
from squad.paths import SquadPaths
from tests.conftest import run_squad


def test_every_grant_gets_a_larger_token_and_a_renewal_keeps_it(squad: SquadPaths) -> None:
    first = locks.acquire(squad, "agent-1", "a.ts")
    second = locks.acquire(squad, "agent-2", "b.ts")
    assert first.token is not None and second.token is not None and second.token > first.token
    assert locks.acquire(squad, "agent-1", "a.ts").token == first.token  # the same grant, renewed
    assert locks.renew(squad, "agent-1", "a.ts").token == first.token
    locks.release(squad, "agent-1", "a.ts")
    again = locks.acquire(squad, "agent-1", "a.ts")
    assert again.token is not None and again.token > second.token
    assert {x.path: x.token for x in locks.held(squad)} == {"a.ts": again.token, "b.ts": second.token}


def test_squad_lock_prints_the_token(squad: SquadPaths) -> None:
    shown = run_squad("lock", "a.ts", "--agent", "agent-1", cwd=squad.root)
    assert shown.returncode == 0 and shown.stdout.rstrip().endswith("(fencing token 1)"), shown.stdout
    data = json.loads(run_squad("lock", "b.ts", "--agent", "agent-1", "--json", cwd=squad.root).stdout)
    assert data["token"] == 2


def test_a_spoiled_counter_carries_on_above_every_lease(squad: SquadPaths) -> None:
    for n in range(3):
        locks.acquire(squad, "agent-1", f"f{n}.ts")
    squad.fence_counter.write_text("garbage\n")
    assert locks.acquire(squad, "agent-2", "g.ts").token == 4
    squad.fence_counter.unlink()
    assert locks.acquire(squad, "agent-2", "h.ts").token == 5


GRANTS = """
import json, sys
from pathlib import Path
from squad.leases import locks
from squad.paths import SquadPaths
paths, n = SquadPaths(Path(sys.argv[1])), sys.argv[2]
print(json.dumps([locks.acquire(paths, f"agent-{n}", f"w{n}/f{i}.ts").token for i in range(25)]))
"""


def test_racing_processes_never_get_the_same_token(squad: SquadPaths) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", GRANTS, str(squad.root), str(n)], stdout=subprocess.PIPE, text=True)
        for n in range(1, 7)
    ]
    tokens = [t for p in procs for t in json.loads(p.communicate(timeout=120)[0])]
    assert sorted(tokens) == list(range(1, 151))
