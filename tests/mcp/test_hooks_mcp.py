"""``squad hooks install --mcp``: ``squad mcp`` registered in the project's ``.mcp.json`` (Claude Code's
project servers), and ``squad hooks uninstall`` taking out exactly that."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from click.testing import CliRunner
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from squad.enforce.hooks import install, uninstall
from squad.paths import SquadPaths
from tests.conftest import SQUAD_BIN, invoke, plan

THEIRS = {"mcpServers": {"docs": {"command": "npx", "args": ["-y", "docs-mcp"]}}, "other": True}


def _team(squad: SquadPaths) -> SquadPaths:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", [], [])])
    plan(squad, 2, "backend", ["backend/"], [("B1", [], [])])
    return squad


def _config(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / ".mcp.json").read_text())
    return data


def test_install_registers_the_server_and_uninstall_removes_the_file(squad: SquadPaths, runner: CliRunner) -> None:
    _team(squad)
    result = invoke(runner, "hooks", "install", "--claude", "--mcp", "--agent", "agent-1-frontend")
    assert result.exit_code == 0, result.output
    assert f"mcp: installed {squad.root / '.mcp.json'}" in result.output
    assert "claude: installed" in result.output
    entry = _config(squad.root)["mcpServers"]["squad"]
    assert entry == {"type": "stdio", "command": SQUAD_BIN, "args": ["mcp"], "env": {"AGENT_ID": "agent-1-frontend"}}
    assert invoke(runner, "hooks", "install", "--mcp", "--agent", "agent-1-frontend").output.startswith(
        "mcp: unchanged"
    )

    result = invoke(runner, "hooks", "uninstall")
    assert result.exit_code == 0, result.output
    assert "mcp: restored" in result.output
    assert not (squad.root / ".mcp.json").exists()
    assert not (squad.root / ".mcp.json.squad-backup").exists()


def test_the_users_servers_are_kept_byte_for_byte(squad: SquadPaths) -> None:
    _team(squad)
    original = json.dumps(THEIRS, indent=4) + "\n"
    (squad.root / ".mcp.json").write_text(original)
    [change] = install(squad.root, git=False, claude=False, mcp=True)
    assert change.action == "installed"
    data = _config(squad.root)
    assert data["mcpServers"]["docs"] == THEIRS["mcpServers"]["docs"] and data["other"] is True
    assert "env" not in data["mcpServers"]["squad"]  # no agent given: the agent's own AGENT_ID is used
    [undone] = uninstall(squad.root, git=False, claude=False, mcp=True)
    assert undone.action == "restored"
    assert (squad.root / ".mcp.json").read_text() == original


def test_edits_after_install_are_kept(squad: SquadPaths) -> None:
    _team(squad)
    (squad.root / ".mcp.json").write_text(json.dumps(THEIRS))
    install(squad.root, git=False, claude=False, mcp=True, agent="agent-2")
    data = _config(squad.root)
    data["mcpServers"]["later"] = {"command": "later-mcp"}
    (squad.root / ".mcp.json").write_text(json.dumps(data))
    [undone] = uninstall(squad.root, git=False, claude=False, mcp=True)
    assert undone.action == "updated"
    assert _config(squad.root)["mcpServers"] == {**THEIRS["mcpServers"], "later": {"command": "later-mcp"}}
    assert uninstall(squad.root, git=False, claude=False, mcp=True)[0].action == "absent"


def test_a_squad_entry_that_is_not_ours_is_refused(squad: SquadPaths, runner: CliRunner) -> None:
    _team(squad)
    theirs = '{"mcpServers": {\n  "squad": {"command": "their-squad-server"}\n}}\n'
    (squad.root / ".mcp.json").write_text(theirs)
    result = invoke(runner, "hooks", "install", "--mcp")
    assert result.exit_code == 2
    assert ".mcp.json:2: mcpServers.squad is not squad's" in result.output
    assert (squad.root / ".mcp.json").read_text() == theirs
    # A plain uninstall leaves it alone and says nothing of it.
    assert [c.layer for c in uninstall(squad.root, git=False, claude=False)] == ["git", "claude"]
    assert (squad.root / ".mcp.json").read_text() == theirs


def test_the_registered_command_starts_the_server(squad: SquadPaths, tmp_path: Path) -> None:
    """What Claude Code runs, from .mcp.json as written: a server that answers for the baked-in agent."""
    _team(squad)
    install(squad.root, git=False, claude=False, mcp=True, agent="agent-2")
    entry = _config(squad.root)["mcpServers"]["squad"]
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=entry["env"], cwd=squad.root)

    async def scenario() -> str:
        with anyio.fail_after(120), (tmp_path / "server.log").open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("status", {})
                return str(getattr(result.content[0], "text", ""))

    assert anyio.run(scenario).startswith("me: agent-2-backend: STARTING")
