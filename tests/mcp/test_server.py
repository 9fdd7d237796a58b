"""``squad mcp`` driven by the MCP SDK's own client, the server a real ``squad mcp`` subprocess over stdio.

Every scenario runs under ``anyio.fail_after`` with a generous limit (a slow shared machine), and
waits on events, never on sleeps; leaving ``stdio_client`` stops the server, so no process outlives
a test (the conftest leak guard checks).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from squad.atomic import write_atomic
from squad.paths import SquadPaths
from tests.conftest import SQUAD_BIN, plan, run_squad

LIMIT_S = 120  # one scenario, start to finish: servers start in a second or two, but the machine is shared
EXPECTED_TOOLS = {"status", "check", "lock", "renew", "unlock", "update", "handoff", "next"}


@pytest.fixture
def team(squad: SquadPaths) -> SquadPaths:
    """Two agents with plans: agent-1 owns frontend/, agent-2 backend/, shared/ is SEQUENTIAL.
    agent-1's T2 waits on agent-2's B1."""
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/App.tsx"], []), ("T2", [], ["B1"])])
    plan(squad, 2, "backend", ["backend/"], [("B1", ["backend/api.py"], [])])
    for folder in ("frontend", "backend", "shared"):
        (squad.root / folder).mkdir()
    return squad


Handler = Callable[[Any], Awaitable[None]]


@asynccontextmanager
async def connect(root: Path, agent: str, log: Path, on_message: Handler | None = None) -> AsyncIterator[ClientSession]:
    """A client session with ``squad mcp`` for ``agent``, started as Claude Code would start it."""
    params = StdioServerParameters(command=SQUAD_BIN, args=["mcp"], env={"AGENT_ID": agent}, cwd=str(root))
    with log.open("a") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, read_timeout_seconds=LIMIT_S, message_handler=on_message) as session,
        ):
            await session.initialize()
            yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> tuple[str, bool]:
    result = await session.call_tool(tool, arguments)
    [content] = result.content
    assert isinstance(content, types.TextContent)
    return content.text, bool(result.is_error)


async def read(session: ClientSession, uri: str) -> str:
    result = await session.read_resource(uri)
    [content] = result.contents
    assert isinstance(content, types.TextResourceContents)
    return content.text


def lease_json(paths: SquadPaths, target: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paths.lease_file(target).read_text())
    return data


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        with anyio.fail_after(LIMIT_S):
            await scenario()

    anyio.run(bounded)


# -- the tool list ---------------------------------------------------------------------------------


def test_tool_list_is_small(team: SquadPaths, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with connect(team.root, "agent-1", tmp_path / "server.log") as session:
            tools = (await session.list_tools()).tools
            resources = (await session.list_resources()).resources
        assert {t.name for t in tools} == EXPECTED_TOOLS
        # What a client puts in its model's context: the whole list as sent, about 4 characters a token.
        sent = json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools])
        assert len(sent) / 4 < 2000, f"the tool list costs {len(sent) / 4:.0f} tokens"
        assert all(len(t.description or "") <= 80 for t in tools)
        assert {str(r.uri) for r in resources} == {"squad://plan", "squad://matrix", "squad://events", "squad://leases"}

    run(scenario)


# -- every tool on real files ------------------------------------------------------------------------


def test_the_whole_protocol_without_a_shell(team: SquadPaths, tmp_path: Path) -> None:
    """status, check, lock, renew, update, handoff, next, unlock: what a Claude Code agent given only
    the MCP server does, each landing in the same files the CLI writes."""
    root = team.root

    async def scenario() -> None:
        async with connect(root, "agent-1", tmp_path / "server.log") as me:
            text, error = await call(me, "status")
            assert not error
            assert text.splitlines()[0].startswith("me: agent-1-frontend: STARTING")
            assert "next: T1 task T1" in text
            assert "plan: .squad/parallel-plans/agent-1-plan.md: 2 tasks; owns frontend/; shared shared/" in text
            assert "peer: agent-2-backend: STARTING" in text
            assert "leases: none" in text

            text, error = await call(me, "check", paths=["frontend/App.tsx", "shared/types.ts", "backend/api.py"])
            assert not error  # a refusal is the answer asked for
            lines = text.splitlines()
            assert lines[0].startswith("shared/types.ts: refused by sequential:")
            assert "(fix: squad lock shared/types.ts)" in lines[0]
            assert lines[1].startswith(
                "backend/api.py: refused by exclusive: backend/api.py is EXCLUSIVE to agent-2-backend"
            )

            text, error = await call(me, "lock", path="shared/types.ts", reason="add UserMetric", ttl=600)
            assert (text, error) == (text, False) and text.startswith(
                "locked shared/types.ts for agent-1-frontend until "
            )
            lease = lease_json(team, "shared/types.ts")
            assert (lease["agent"], lease["reason"], lease["ttl_s"]) == ("agent-1-frontend", "add UserMetric", 600)
            assert await call(me, "check", paths=["shared/types.ts"]) == (
                "ok: agent-1-frontend may write 1 path(s)",
                False,
            )

            text, error = await call(me, "renew", path="shared/types.ts", ttl=900)
            assert not error and text.startswith("renewed shared/types.ts for agent-1-frontend until ")

            text, error = await call(
                me, "update", status="ACTIVE", task="T1 task T1", progress="0/2", files=["frontend/App.tsx"]
            )
            assert (text, error) == ("agent-1-frontend: ACTIVE", False)
            comm = team.comm(1).read_text()
            assert (
                "\nStatus: ACTIVE\n" in comm and "\nCurrent Task: T1 task T1\n" in comm and "frontend/App.tsx" in comm
            )

            # T1 is started; T2 waits on agent-2's B1.
            assert await call(me, "next") == ("none: T2 waits on B1 (agent-2-backend)", False)

            text, error = await call(me, "handoff", to="agent-2", file="shared/types.ts", note="types ready")
            assert (text, error) == ("agent-1-frontend -> agent-2-backend: shared/types.ts", False)
            comm = team.comm(1).read_text()
            assert "TO: agent-2-backend" in comm and "FILE: shared/types.ts" in comm and "types ready" in comm

            text, _ = await call(me, "status")
            assert "me: agent-1-frontend: ACTIVE, 0/2, T1 task T1" in text
            assert "lease: shared/types.ts until " in text and "left)" in text

            assert "shared/types.ts until " in await read(me, "squad://leases")
            assert "agent: agent-1-frontend" in await read(me, "squad://plan")
            matrix = await read(me, "squad://matrix")
            assert "frontend/: EXCLUSIVE owner agent-1-frontend" in matrix
            assert "shared/: SEQUENTIAL" in matrix

            assert await call(me, "unlock", path="shared/types.ts") == ("unlocked shared/types.ts", False)
            assert not team.lease_file("shared/types.ts").exists()
            assert "no leases" in await read(me, "squad://leases")

            # agent-2 posts B1 done: T2 is agent-1's next task.
            done = run_squad("update", "--agent", "2", "--status", "DONE", "--progress", "1/1", cwd=root)
            assert done.returncode == 0, done.stderr
            assert await call(me, "next") == ("T2 task T2", False)

    run(scenario)


def test_bad_arguments_are_one_line_errors(team: SquadPaths, tmp_path: Path) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("lock", {}, "squad: error: lock: missing argument 'path'"),
        ("lock", {"path": 3}, "squad: error: lock: path must be a string, not a number"),
        (
            "lock",
            {"path": "shared/a", "ttl": -5},
            "squad: error: lock: ttl must be a positive number of seconds, not -5",
        ),
        (
            "lock",
            {"path": "shared/a", "ttl": "soon"},
            "squad: error: lock: ttl must be a number of seconds, not a string",
        ),
        (
            "lock",
            {"path": "shared/a", "wait": 5},
            "squad: error: lock: unknown argument 'wait' (arguments: path, reason, ttl)",
        ),
        ("check", {"paths": []}, "squad: error: check: missing argument 'paths'"),
        ("check", {"paths": "shared/a"}, "squad: error: check: paths must be a list of strings, not a string"),
        ("update", {"status": "ACTIV"}, "squad: error: unknown status 'ACTIV'"),
        ("update", {"status": "ACTIVE", "progress": "7/5"}, "squad: error: bad progress '7/5'"),
        ("handoff", {"to": "agent-9", "file": "shared/a"}, "squad: error: unknown agent 'agent-9'"),
        ("handoff", {"to": "agent-1", "file": "shared/a"}, "squad: error: agent-1-frontend cannot hand off to itself"),
        ("unlock", {"path": "shared/a"}, "squad: error: no lease on shared/a"),
        ("renew", {"path": "shared/a"}, "squad: error: agent-1-frontend holds no lease on shared/a"),
        ("lock", {"path": "../outside"}, "squad: error: "),
        ("frobnicate", {}, "squad: error: unknown tool 'frobnicate'"),
    ]

    async def scenario() -> None:
        async with connect(team.root, "agent-1", tmp_path / "server.log") as me:
            for tool, arguments, expected in cases:
                text, error = await call(me, tool, **arguments)
                assert error, (tool, arguments, text)
                assert text.startswith(expected), (tool, arguments, text)
                assert "\n" not in text and "Traceback" not in text, text

    run(scenario)
    assert not list(team.locks.rglob("*.lock"))


def test_a_refusal_reads_as_the_cli_prints_it(team: SquadPaths, tmp_path: Path) -> None:
    """The same lease held: the tool's error is the very line ``squad lock`` prints on stderr."""
    assert run_squad("lock", "shared/types.ts", "--agent", "1", "--reason", "mine", cwd=team.root).returncode == 0
    cli = run_squad("lock", "shared/types.ts", "--agent", "2", cwd=team.root)
    assert cli.returncode == 1

    async def scenario() -> None:
        async with connect(team.root, "agent-2", tmp_path / "server.log") as other:
            text, error = await call(other, "lock", path="shared/types.ts")
        assert error
        assert text == cli.stderr.strip()

    run(scenario)


# -- the concurrency guarantee -------------------------------------------------------------------------


def test_two_servers_one_lease_one_grant(team: SquadPaths, tmp_path: Path) -> None:
    """Two agents' servers ask for one lease at the same moment, round after round: exactly one is
    granted each time, and the lease file names it."""
    rounds = 5

    async def scenario() -> None:
        async with (
            connect(team.root, "agent-1", tmp_path / "server-1.log") as one,
            connect(team.root, "agent-2", tmp_path / "server-2.log") as two,
        ):
            for round_no in range(rounds):
                replies: dict[str, tuple[str, bool]] = {}
                ready = anyio.Event()

                async def ask(name: str, session: ClientSession, replies: dict[str, tuple[str, bool]] = replies,
                              ready: anyio.Event = ready) -> None:  # fmt: skip
                    await ready.wait()
                    replies[name] = await call(session, "lock", path="shared/", reason=f"round {round_no}")

                async with anyio.create_task_group() as group:
                    group.start_soon(ask, "agent-1-frontend", one)
                    group.start_soon(ask, "agent-2-backend", two)
                    ready.set()
                granted = [name for name, (_, error) in replies.items() if not error]
                assert len(granted) == 1, replies
                [winner] = granted
                [loser] = [name for name in replies if name != winner]
                assert replies[loser][0].startswith(f"squad: error: shared/ is locked by {winner}")
                assert lease_json(team, "shared/")["agent"] == winner
                session = one if winner == "agent-1-frontend" else two
                assert await call(session, "unlock", path="shared/") == ("unlocked shared/", False)

    run(scenario)


# -- a lost lease is told --------------------------------------------------------------------------------


def test_a_broken_lease_is_told_in_the_next_result_once(team: SquadPaths, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with connect(team.root, "agent-1", tmp_path / "server.log") as me:
            assert not (await call(me, "lock", path="shared/types.ts"))[1]
            broke = run_squad("unlock", "--force", "shared/types.ts", "--agent", "2", cwd=team.root)
            assert broke.returncode == 0, broke.stderr
            text, error = await call(me, "next")
            assert not error
            first, answer = text.splitlines()
            assert first == (
                "notice: your lease on shared/types.ts is gone (broken by agent-2-backend: forced release by "
                "agent-2-backend): lock it again before editing it"
            )
            assert answer == "T1 task T1"
            assert await call(me, "next") == ("T1 task T1", False)  # told once
            assert first in await read(me, "squad://leases")

    run(scenario)


def test_an_expired_lease_is_told(team: SquadPaths, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with connect(team.root, "agent-1", tmp_path / "server.log") as me:
            assert not (await call(me, "lock", path="shared/types.ts", ttl=600))[1]
            # Time passes: the same lease, its expiry now behind us (no sleeping through a TTL).
            file = team.lease_file("shared/types.ts")
            data = json.loads(file.read_text())
            data["expires_at"] = "2000-01-01T00:00:00.000Z"
            write_atomic(file, json.dumps(data))
            text, _ = await call(me, "status")
            assert text.splitlines()[0] == (
                "notice: your lease on shared/types.ts is gone (it expired at 2000-01-01T00:00:00Z): "
                "lock it again before editing it"
            )
            # Locking again takes it afresh, and nothing more is told.
            assert not (await call(me, "lock", path="shared/types.ts"))[1]
            assert not (await call(me, "status"))[0].startswith("notice:")

    run(scenario)


# resources/subscribe is the handshake-era way (what clients such as Claude Code speak); the SDK's
# client warns that the 2026-07-28 protocol replaces it with subscriptions/listen.
@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
def test_a_subscribed_client_is_notified_at_once(team: SquadPaths, tmp_path: Path) -> None:
    """A client that subscribed to squad://leases hears of the loss as it happens, with no tool call;
    the resource names it, and the next tool result does not repeat it."""
    updated = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification) and str(message.params.uri) == "squad://leases":
            updated.set()

    async def scenario() -> None:
        async with connect(team.root, "agent-1", tmp_path / "server.log", on_message) as me:
            await me.subscribe_resource("squad://leases")
            assert not (await call(me, "lock", path="shared/types.ts"))[1]
            broke = run_squad("unlock", "--force", "shared/types.ts", "--agent", "2", cwd=team.root)
            assert broke.returncode == 0, broke.stderr
            await updated.wait()  # the watcher looks every 2 s; fail_after bounds the wait
            leases = await read(me, "squad://leases")
            assert "notice: your lease on shared/types.ts is gone (broken by agent-2-backend" in leases
            text, _ = await call(me, "status")
            assert not text.startswith("notice:")

    run(scenario)


# -- starting it ------------------------------------------------------------------------------------------


def test_an_unknown_agent_is_refused_before_serving(team: SquadPaths) -> None:
    result = run_squad("mcp", "--agent", "agent-9", cwd=team.root, input="")
    assert result.returncode == 2
    assert result.stderr.startswith("squad: error: unknown agent 'agent-9'")
    result = run_squad("mcp", cwd=team.root, input="")
    assert result.returncode == 2
    assert result.stderr.startswith("squad: error: no agent given")


def test_hot_paths_never_import_the_sdk(team: SquadPaths) -> None:
    probe = (
        "import sys\n"
        "from squad.cli.main import main\n"
        "codes = [main(['lock', 'shared/x', '--agent', '1']), main(['update', '--agent', '1', '--status', 'ACTIVE'])]\n"
        "assert codes == [0, 0], codes\n"
        "loaded = sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'squad.mcp')))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=team.root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
