"""The launch adapters: what each agent CLI is started with."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from squad.launch.agents import AgentFiles, agent_folder, invocation
from squad.paths import SquadPaths
from tests.conftest import plan


def _files(squad: SquadPaths) -> AgentFiles:
    plan(squad, 1, "frontend", ["frontend/"], [("T1", ["frontend/a.tsx"], [])])
    return AgentFiles(
        "agent-1-frontend", squad.plan(1), squad.comm(1), squad.root, agent_folder(squad, "agent-1-frontend")
    )


def test_claude_with_mcp_gets_squads_server_and_may_call_its_tools(squad: SquadPaths) -> None:
    start = invocation("claude", squad, _files(squad), mcp=True, squad=["/opt/bin/squad"])
    words = shlex.split(start.command)
    config = words[words.index("--mcp-config") + 1]
    server = json.loads(Path(config).read_text())["mcpServers"]["squad"]
    assert server["command"] == "/opt/bin/squad" and server["args"] == ["mcp"]
    assert server["env"] == {"AGENT_ID": "agent-1-frontend", "SQUAD_ROOT": str(squad.root)}
    assert "mcp__squad" in words[words.index("--allowedTools") + 1].split(",")


def test_claude_without_mcp_gets_no_server(squad: SquadPaths) -> None:
    start = invocation("claude", squad, _files(squad), squad=["/opt/bin/squad"])
    assert "--mcp-config" not in start.command
    assert start.stdin is not None
    prompt = start.stdin.read_text()
    assert not prompt.startswith("---")  # the plan's body, never its front matter
