"""The etcd store against a real etcd: two clones of one repository stand for two hosts (each has
its own files; they share only the etcd cluster and the git history)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from squad.errors import SquadError
from squad.leases import locks
from squad.paths import SquadPaths
from squad.store import FILES, Store, parse_store, store_of
from tests.conftest import git, poll_until, run_squad

SHARED = "shared/types.ts"


def two_clones(tmp_path: Path, url: str) -> tuple[SquadPaths, SquadPaths]:
    """``origin`` with one commit, cloned twice as host ``a`` and host ``b``, each with
    ``squad init --store URL``."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    (origin / "README.md").write_text("# shared\n")
    git(origin, "add", "README.md")
    git(origin, "commit", "-q", "-m", "initial")
    out = []
    for host in ("a", "b"):
        git(tmp_path, "clone", "-q", str(origin), host)
        result = run_squad("init", "--store", url, cwd=tmp_path / host)
        assert result.returncode == 0, result.stderr
        out.append(SquadPaths(tmp_path / host))
    return out[0], out[1]


def lock(paths: SquadPaths, agent: str, target: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_squad("lock", target, "--agent", agent, *args, cwd=paths.root)


def guard(paths: SquadPaths, agent: str, target: str) -> subprocess.CompletedProcess[str]:
    payload = {"tool_name": "Write", "tool_input": {"file_path": str(paths.root / target), "content": "x"}}
    return run_squad("guard", "--agent", agent, cwd=paths.root, input=json.dumps(payload))


# -- the setting -------------------------------------------------------------------------------


def test_store_urls_parse_and_bad_ones_say_why() -> None:
    assert parse_store("files") == FILES
    store = parse_store("etcd://10.0.0.1:2379,[::1]:2380,etcd.local:1/my-squad")
    assert store == Store("etcd", (("10.0.0.1", 2379), ("::1", 2380), ("etcd.local", 1)), "my-squad")
    assert parse_store(store.url) == store
    for bad, why in [
        ("redis://h:1", "unknown store"),
        ("etcd://", "is not HOST:PORT"),
        ("etcd://h", "is not HOST:PORT"),
        ("etcd://h:99999", "out of range"),
        ("etcd://h:1/a b", "may hold only"),
    ]:
        with pytest.raises(SquadError, match=why):
            parse_store(bad)


def test_squad_store_wins_over_config_and_a_bad_config_line_is_named(squad: SquadPaths) -> None:
    assert store_of(squad) == FILES
    text = squad.config.read_text().replace("store: files", "store: etcd://127.0.0.1:2379/x")
    squad.config.write_text(text)
    assert store_of(squad).url == "etcd://127.0.0.1:2379/x"
    assert store_of(squad, {"SQUAD_STORE": "files"}) == FILES
    squad.config.write_text(text.replace("etcd://127.0.0.1:2379/x", "etcd://nowhere"))
    line = text.splitlines().index("store: etcd://127.0.0.1:2379/x") + 1
    result = run_squad("lock", "a.ts", "--agent", "agent-1", cwd=squad.root)
    assert result.returncode == 2
    assert f"config.yaml:{line}" in result.stderr and "is not HOST:PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_refuses_an_etcd_that_does_not_answer_and_writes_nothing(squad: SquadPaths) -> None:
    before = squad.config.read_text()
    result = run_squad("init", "--store", "etcd://127.0.0.1:9", cwd=squad.root)
    assert result.returncode == 2, result.stdout
    assert result.stderr.count("\n") == 1 and "etcd does not answer" in result.stderr
    assert squad.config.read_text() == before


# -- two hosts, one squad ----------------------------------------------------------------------


def test_two_clones_share_the_leases_and_fencing_tokens_only_grow(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    assert store_of(a) == store_of(b) and store_of(a).name  # named by the shared first commit
    first = json.loads(lock(a, "agent-1-api", "src/", "--json").stdout)
    refused = lock(b, "agent-2-web", "src/app/main.ts")
    assert refused.returncode == 1
    assert "conflicts with src/, which is locked by agent-1-api" in refused.stderr
    second = json.loads(lock(b, "agent-2-web", "lib/util.ts", "--json").stdout)
    refused = lock(a, "agent-1-api", "lib/")
    assert refused.returncode == 1 and "lib/util.ts" in refused.stderr
    assert second["token"] > first["token"] > 0
    renewed = json.loads(lock(b, "agent-2-web", "lib/util.ts", "--json").stdout)
    assert renewed["token"] == second["token"]  # a renewal is the same grant
    listed = run_squad("locks", "--json", cwd=a.root)
    assert {x["path"] for x in json.loads(listed.stdout)} == {"src/", "lib/util.ts"}
    assert run_squad("unlock", "lib/util.ts", "--agent", "agent-2-web", cwd=b.root).returncode == 0
    third = json.loads(lock(a, "agent-1-api", "lib/", "--json").stdout)
    assert third["token"] > second["token"]
    assert not any((a.locks).rglob("*.lock")) and not any((b.locks).rglob("*.lock"))  # nothing local
    history = [(g.token, g.agent, g.path) for g in locks.grants(b)]  # what squad merge checks commits against
    assert history == [
        (first["token"], "agent-1-api", "src/"),
        (second["token"], "agent-2-web", "lib/util.ts"),
        (third["token"], "agent-1-api", "lib/"),
    ]


def test_a_renewal_with_the_same_ttl_keeps_the_etcd_lease_alive(tmp_path: Path, etcd: Any) -> None:
    """The key outlives the TTL it was granted with as long as it is renewed, on the same etcd
    lease (a keep-alive) and with the same token; a renewal with another TTL moves it to a new one."""
    import time

    from squad.leases.etcd import leases_for

    a, b = two_clones(tmp_path, etcd.url)
    remote = leases_for(a, store_of(a))

    def etcd_lease() -> int:
        [held] = remote._read("test")[1]
        return held.etcd_lease

    first = locks.acquire(a, "agent-1-api", "src/x.ts", ttl_s=2)
    granted = etcd_lease()
    for _ in range(4):  # 3.2 s in all: well past the 2 s granted
        time.sleep(0.8)
        assert locks.renew(a, "agent-1-api", "src/x.ts").token == first.token
    assert etcd_lease() == granted
    assert [x.path for x in locks.held(b)] == ["src/x.ts"]
    assert locks.renew(a, "agent-1-api", "src/x.ts", ttl_s=30).token == first.token
    assert etcd_lease() != granted


def test_a_grant_whose_reply_was_lost_is_kept(tmp_path: Path, etcd: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A member dies after committing a grant and before answering: the request is retried on
    another member, whose compare fails. The next read finds the agent's own key; it must stay
    held on the etcd lease it was granted with, not be revoked on the way out (the key with it)."""
    from squad.leases.etcd import EtcdLeases, leases_for

    a, b = two_clones(tmp_path, etcd.url)
    remote = leases_for(a, store_of(a))
    real = EtcdLeases._txn
    lost: list[bool] = []

    def reply_lost(self: EtcdLeases, what: str, compare: Any, success: Any) -> tuple[bool, int]:
        ok, revision = real(self, what, compare, success)
        if what.startswith("lock ") and not lost:
            lost.append(ok)
            return False, revision  # committed, but what the retry on another member says
        return ok, revision

    monkeypatch.setattr(EtcdLeases, "_txn", reply_lost)
    lease = locks.acquire(a, "agent-1-api", SHARED, ttl_s=30)
    monkeypatch.setattr(EtcdLeases, "_txn", real)
    assert lost == [True]
    assert [(x.path, x.token) for x in locks.held(b)] == [(SHARED, lease.token)]
    [held] = remote._read("test")[1]
    assert remote._keep_alive(held.etcd_lease)  # its etcd lease lives
    assert lock(b, "agent-2-web", SHARED).returncode == 1  # still held: nobody else is granted it
    locks.release(a, "agent-1-api", SHARED)


def test_a_renewal_and_an_unlock_whose_replies_were_lost_did_what_they_said(
    tmp_path: Path, etcd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same lost reply for a renewal onto a new etcd lease (another TTL) and for an unlock:
    the renewal holds (the key is on its new etcd lease, not revoked), the unlock reports success."""
    from squad.leases.etcd import EtcdLeases

    a, b = two_clones(tmp_path, etcd.url)
    real = EtcdLeases._txn

    def lose_first(prefix: str) -> list[bool]:
        lost: list[bool] = []

        def reply_lost(self: EtcdLeases, what: str, compare: Any, success: Any) -> tuple[bool, int]:
            ok, revision = real(self, what, compare, success)
            if what.startswith(prefix) and not lost:
                lost.append(ok)
                return False, revision
            return ok, revision

        monkeypatch.setattr(EtcdLeases, "_txn", reply_lost)
        return lost

    first = locks.acquire(a, "agent-1-api", SHARED, ttl_s=30)
    lost = lose_first("renew ")
    renewed = locks.renew(a, "agent-1-api", SHARED, ttl_s=60)
    assert lost == [True] and renewed.token == first.token
    monkeypatch.setattr(EtcdLeases, "_txn", real)
    assert [(x.path, x.token, x.ttl_s) for x in locks.held(b)] == [(SHARED, first.token, 60.0)]
    lost = lose_first("unlock ")
    assert locks.release(a, "agent-1-api", SHARED).path == SHARED
    monkeypatch.setattr(EtcdLeases, "_txn", real)
    assert lost == [True] and locks.held(b) == []


def test_the_guard_on_either_host_reads_the_shared_leases(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    assert lock(a, "agent-1-api", SHARED).returncode == 0
    assert guard(a, "agent-1-api", SHARED).returncode == 0
    refused = guard(b, "agent-2-web", SHARED)
    assert refused.returncode == 2 and "agent-1-api holds the lease" in refused.stderr


WORKER = """
import json, sys, time
from pathlib import Path
from squad.leases import locks
from squad.paths import SquadPaths
root, agent, rounds, target = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
paths, held = SquadPaths(root), []
for _ in range(rounds):
    lease = locks.acquire(paths, agent, target, wait_s=300, ttl_s=60)
    start = time.monotonic_ns()
    time.sleep(0.003)
    end = time.monotonic_ns()
    locks.release(paths, agent, target)
    held.append([lease.token, start, end])
print(json.dumps(held))
"""


def contend(hosts: list[SquadPaths], processes: int, rounds: int, target: str) -> list[tuple[int, int, int, str]]:
    """``processes`` agents spread over ``hosts``, each taking and releasing ``target`` ``rounds``
    times: every hold as (token, start, end, agent), in the order they began."""
    procs = []
    for n in range(processes):
        host = hosts[n % len(hosts)]
        agent = f"agent-{n + 1}-w{n + 1}"
        procs.append(
            (
                agent,
                subprocess.Popen(
                    [sys.executable, "-c", WORKER, str(host.root), agent, str(rounds), target],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    holds = []
    for agent, proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        holds.extend((token, start, end, agent) for token, start, end in json.loads(out))
    return sorted(holds, key=lambda h: h[1])


def assert_one_holder_at_a_time(holds: list[tuple[int, int, int, str]]) -> None:
    for before, after in itertools.pairwise(holds):
        assert before[2] <= after[1], f"two holders at once: {before} and {after}"
        assert after[0] > before[0], f"a token did not grow: {before} then {after}"


@pytest.mark.slow
def test_sixteen_processes_on_two_hosts_never_share_a_lease(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    holds = contend([a, b], processes=16, rounds=4, target=SHARED)
    assert len(holds) == 64
    assert_one_holder_at_a_time(holds)


PAUSED = """
import sys, time
from pathlib import Path
from squad.leases import locks
from squad.paths import SquadPaths
paths, target = SquadPaths(Path(sys.argv[1])), sys.argv[2]
lease = locks.acquire(paths, "agent-1-api", target, ttl_s=2)
print(lease.token, flush=True)
while True:  # a holder that renews, as an agent posting updates does
    time.sleep(0.3)
    try:
        locks.renew(paths, "agent-1-api", target)
    except Exception as exc:
        print("lost:", exc, flush=True)
        break
"""


@pytest.mark.slow
def test_a_holder_paused_past_its_ttl_loses_the_lease_and_its_write_is_refused(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    holder = subprocess.Popen([sys.executable, "-c", PAUSED, str(a.root), SHARED], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        token = int(holder.stdout.readline())
        assert guard(a, "agent-1-api", SHARED).returncode == 0
        holder.send_signal(signal.SIGSTOP)  # paused (a laptop lid, a stopped container) past its TTL
        poll_until(lambda: lock(b, "agent-2-web", SHARED).returncode == 0, timeout=20, what="the TTL to end the lease")
        newer = json.loads(lock(b, "agent-2-web", SHARED, "--json").stdout)["token"]
        assert newer > token
        holder.send_signal(signal.SIGCONT)
        assert "lost:" in holder.stdout.readline()  # its next renewal says so
        refused = guard(a, "agent-1-api", SHARED)
        assert refused.returncode == 2 and "agent-2-web holds the lease" in refused.stderr
        assert f"your lease on {SHARED}, token {token}, is gone: it expired" in refused.stderr
    finally:
        holder.kill()
        holder.wait()


def test_etcd_down_every_command_fails_closed_then_recovers(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    assert lock(a, "agent-1-api", "src/").returncode == 0
    etcd.stop()
    for result in (
        lock(b, "agent-2-web", "lib/x.ts"),
        run_squad("locks", cwd=b.root),
        run_squad("unlock", "src/", "--agent", "agent-1-api", cwd=a.root),
        run_squad("check", "lib/x.ts", "--agent", "agent-2-web", cwd=b.root),
    ):
        assert result.returncode == 2, result.stdout
        assert result.stderr.count("\n") == 1 and "etcd does not answer" in result.stderr, result.stderr
        assert "nothing was granted" in result.stderr
    refused = guard(b, "agent-2-web", "lib/x.ts")  # the write hook refuses rather than guess
    assert refused.returncode == 2 and "etcd does not answer" in refused.stderr
    assert not any(b.locks.rglob("*.lock"))  # no local fallback
    for member in etcd.members:
        member.start()
    etcd.wait_healthy()
    assert lock(b, "agent-2-web", "lib/x.ts").returncode == 0
    held = run_squad("lock", "src/a.ts", "--agent", "agent-2-web", cwd=b.root)
    assert held.returncode == 1 and "agent-1-api" in held.stderr  # the grant made before survived


@pytest.mark.slow
def test_one_member_of_three_killed_and_restarted_loses_no_grant(tmp_path: Path, etcd3: Any) -> None:
    a, b = two_clones(tmp_path, etcd3.url)
    assert lock(a, "agent-1-api", "src/").returncode == 0
    victim = etcd3.members[0]  # the endpoint every command asks first
    stopper = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, signal, sys, time; time.sleep(1.0); os.kill(int(sys.argv[1]), signal.SIGKILL)",
            str(victim.proc.pid),
        ]
    )
    holds = contend([a, b], processes=6, rounds=4, target=SHARED)  # the kill lands mid-contention
    stopper.wait()
    assert victim.proc.poll() is not None
    assert len(holds) == 24
    assert_one_holder_at_a_time(holds)
    held = lock(b, "agent-2-web", "src/x.ts")
    assert held.returncode == 1 and "agent-1-api" in held.stderr  # the earlier grant is still there
    victim.start()
    etcd3.wait_healthy(members=[victim])
    holds = contend([a, b], processes=4, rounds=2, target="shared/other.ts")
    assert_one_holder_at_a_time(holds)


def test_squad_store_env_selects_etcd_for_one_shell(
    squad: SquadPaths, etcd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"SQUAD_STORE": etcd.url + "/one-shell"}
    result = run_squad("lock", SHARED, "--agent", "agent-1", "--json", cwd=squad.root, env=env)
    assert result.returncode == 0, result.stderr
    assert not any(squad.locks.rglob("*.lock"))
    assert locks.survey(squad).leases == ()  # the files know nothing of it
    monkeypatch.setenv("SQUAD_STORE", env["SQUAD_STORE"])
    assert [x.path for x in locks.survey(squad).leases] == [SHARED]


def test_the_coordinator_on_the_other_host_follows_the_leases_by_watch(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    config = b.config.read_text() + "coordinator:\n  tick_s: 300\n"  # only the watch can tell it in time
    b.config.write_text(config)
    assert run_squad("daemon", "start", cwd=b.root).returncode == 0
    try:

        def shown(path: str) -> bool:
            try:
                return path in b.status_report.read_text()
            except OSError:
                return False

        assert lock(a, "agent-1-api", "src/one.ts").returncode == 0
        poll_until(lambda: shown("src/one.ts"), timeout=10, what="host b's coordinator to see host a's lease")
        etcd.stop()  # a cluster restart: the watch reconnects from the revision it last saw
        for member in etcd.members:
            member.start()
        etcd.wait_healthy()
        assert lock(a, "agent-1-api", "src/two.ts").returncode == 0
        poll_until(lambda: shown("src/two.ts"), timeout=20, what="the watch to resume after the restart")
    finally:
        run_squad("daemon", "stop", cwd=b.root)


def test_each_hosts_coordinator_judges_the_other_hosts_updates(tmp_path: Path, etcd: Any) -> None:
    from tests.conftest import events

    a, b = two_clones(tmp_path, etcd.url)
    for host in (a, b):
        assert run_squad("daemon", "start", cwd=host.root).returncode == 0
    try:
        posted = run_squad("update", "--agent", "agent-1-api", "--status", "ACTIVE", "outside/a.ts", cwd=a.root)
        assert posted.returncode == 0, posted.stderr

        def judged(host: SquadPaths, agent: str, path: str) -> bool:
            return any(e.agent == agent and e.path == path for e in events(host, "violation"))

        poll_until(lambda: judged(b, "agent-1-api", "outside/a.ts"), timeout=20, what="host b to judge a's update")
        assert b.comm(1).read_bytes() == a.comm(1).read_bytes()  # the same file, byte for byte
        posted = run_squad("update", "--agent", "agent-2-web", "--status", "BLOCKED", "outside/b.ts", cwd=b.root)
        assert posted.returncode == 0, posted.stderr
        poll_until(lambda: judged(a, "agent-2-web", "outside/b.ts"), timeout=20, what="host a to judge b's update")
        status = json.loads(run_squad("status", "--json", cwd=a.root).stdout)
        assert {x["id"] for x in status["agents"]} >= {"agent-1-api", "agent-2-web"}
    finally:
        for host in (a, b):
            run_squad("daemon", "stop", cwd=host.root)


def test_review_and_merge_work_from_the_branches_other_hosts_pushed(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    assert run_squad("hooks", "install", "--git", "--fence", cwd=a.root).returncode == 0
    env = {"AGENT_ID": "agent-1-api"}

    def agent_commit(branch: str, file: str, *extra: str) -> None:
        git(a.root, "checkout", "-q", "-b", branch, "main")
        (a.root / file).parent.mkdir(parents=True, exist_ok=True)
        (a.root / file).write_text(f"{branch}\n")
        git(a.root, "add", file)
        done = subprocess.run(["git", "commit", "-q", "-m", f"work on {file}", *extra], cwd=a.root,
                              env={**os.environ, **env}, capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        git(a.root, "push", "-q", "origin", branch)
        git(a.root, "checkout", "-q", "main")

    token = json.loads(lock(a, "agent-1-api", SHARED, "--json").stdout)["token"]
    agent_commit("squad/agent-1-api", SHARED)  # the fence hook names the lease it relies on
    assert run_squad("unlock", SHARED, "--agent", "agent-1-api", cwd=a.root).returncode == 0
    assert f"Squad-Fence: {SHARED}={token}" in git(a.root, "log", "-1", "--format=%B", "squad/agent-1-api")
    env["AGENT_ID"] = "agent-3-ops"
    agent_commit("squad/agent-3-ops", "shared/other.ts", "--no-verify")  # no lease: no token

    b.config.write_text(b.config.read_text() + "launch:\n  remote: origin\n")
    review = json.loads(run_squad("review", "--json", "--no-tests", cwd=b.root).stdout)["branches"]
    assert [(r["branch"], r["passes"]) for r in review] == [
        ("origin/squad/agent-1-api", True),
        ("origin/squad/agent-3-ops", False),
    ]
    assert any("with no Squad-Fence token" in p for p in review[1]["problems"])
    merged = run_squad("merge", "agent-1", cwd=b.root)
    assert merged.returncode == 0, merged.stderr
    assert (b.root / SHARED).read_text() == "squad/agent-1-api\n"
    refused = run_squad("merge", "agent-3", cwd=b.root)
    assert refused.returncode == 1 and "fencing:" in refused.stderr


def test_a_pause_on_one_host_pauses_the_others(tmp_path: Path, etcd: Any) -> None:
    a, b = two_clones(tmp_path, etcd.url)
    assert run_squad("daemon", "start", cwd=b.root).returncode == 0
    try:
        assert run_squad("pause", "--reason", "release freeze", cwd=a.root).returncode == 0
        assert a.pause_flag.exists()
        poll_until(b.pause_flag.exists, timeout=10, what="host b's coordinator to copy the pause flag")
        assert "release freeze" in b.pause_flag.read_text()
        assert run_squad("resume", cwd=a.root).returncode == 0
        poll_until(lambda: not b.pause_flag.exists(), timeout=10, what="host b to resume")
    finally:
        run_squad("daemon", "stop", cwd=b.root)
