"""Fencing tokens on the files backend: a counter kept under the lease mutex."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def _shell(squad: SquadPaths, script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a real bash with ``squad`` on PATH, as an agent's shell runs it."""
    from tests.conftest import SQUAD_BIN

    env = {**os.environ, "PATH": f"{Path(SQUAD_BIN).parent}:{os.environ['PATH']}"}
    env.pop("SQUAD_FENCE", None)
    return subprocess.run(["bash", "-c", script], cwd=squad.root, env=env, capture_output=True, text=True, timeout=60)


def test_lock_export_keeps_the_shells_tokens(squad: SquadPaths) -> None:
    script = (
        "set -e\n"
        'eval "$(squad lock --agent agent-1 --export shared/a.ts)"\n'
        'eval "$(squad lock --agent agent-1 --export shared/b.ts)"\n'
        'echo "$SQUAD_FENCE"\n'
        'eval "$(squad unlock --agent agent-1 --export shared/a.ts)"\n'
        'echo "$SQUAD_FENCE"\n'
        'eval "$(squad unlock --agent agent-1 --export shared/b.ts)"\n'
        'echo "${SQUAD_FENCE-unset}"\n'
    )
    result = _shell(squad, script)
    assert result.returncode == 0, result.stderr
    both, one, none = result.stdout.splitlines()
    assert json.loads(both) == {"shared/a.ts": 1, "shared/b.ts": 2}
    assert json.loads(one) == {"shared/b.ts": 2}
    assert none == "unset"
    assert "locked shared/a.ts for agent-1" in result.stderr  # the news goes to stderr, not into eval
    refused = run_squad("lock", "x.ts", "--agent", "agent-1", "--export", "--json", cwd=squad.root)
    assert refused.returncode == 2 and "cannot go together" in refused.stderr


def test_the_guard_refuses_a_write_on_a_stale_token(squad: SquadPaths) -> None:
    """The shell still holds the token of a lease that ended and was granted again since: its
    write rests on a lease gone, even though the agent holds the path again now."""
    from tests.conftest import ownership
    from tests.enforce.test_guard import hook_json

    ownership(squad, "shared/: {owner: null, access: SEQUENTIAL}\n")
    first = locks.acquire(squad, "agent-1", "shared/types.ts")
    locks.release(squad, "agent-1", "shared/types.ts")
    again = locks.acquire(squad, "agent-1", "shared/types.ts")
    payload = hook_json("Write", squad.root, file_path=str(squad.root / "shared/types.ts"), content="x")

    def guard(token: int) -> subprocess.CompletedProcess[str]:
        env = {"SQUAD_FENCE": json.dumps({"shared/types.ts": token})}
        return run_squad("guard", "--agent", "agent-1", cwd=squad.root, input=payload, env=env)

    stale = guard(first.token or 0)
    assert stale.returncode == 2, stale.stdout + stale.stderr
    assert f"your fencing token {first.token} for shared/types.ts is stale" in stale.stdout + stale.stderr
    assert f"token {again.token} now" in stale.stdout + stale.stderr
    assert guard(again.token or 0).returncode == 0
    # No token in the shell: the live lease is what counts.
    assert run_squad("guard", "--agent", "agent-1", cwd=squad.root, input=payload).returncode == 0


def test_trailers_name_the_token_the_shell_relied_on(squad: SquadPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    from squad.enforce.fence import trailers_for
    from squad.protocol.times import now

    lease = locks.acquire(squad, "agent-1", "shared/types.ts")
    assert trailers_for(squad, "agent-1", ["shared/types.ts"], now()) == [f"shared/types.ts={lease.token}"]
    monkeypatch.setenv("SQUAD_FENCE", json.dumps({"shared/types.ts": 99}))
    assert trailers_for(squad, "agent-1", ["shared/types.ts"], now()) == ["shared/types.ts=99"]
    monkeypatch.setenv("SQUAD_FENCE", "not json")  # unreadable: as if unset
    assert trailers_for(squad, "agent-1", ["shared/types.ts"], now()) == [f"shared/types.ts={lease.token}"]
