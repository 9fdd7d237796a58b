"""``squad launch`` driving the real agent CLIs against a stand-in model on 127.0.0.1.

Each test starts the real binary (Claude Code, Codex CLI, aider) through ``squad launch --agent``
with its model API pointed at ``fake_model.FakeModel``, which answers with scripted tool calls: take
a lease, write in the agent's own area, write outside it, post a status update. The checks: the
agent got its plan's body (not its front matter), the lease and the update landed in the main
checkout's ``.squad/``, the guard refused the foreign write inside the agent's worktree, and the
agent's work is committed on its branch. A test whose binary is not installed is skipped, naming
how to install it (``.ci/install-agents`` does it in CI). No network beyond 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from squad.paths import SquadPaths
from squad.protocol.comm import Status, read_comm
from squad.protocol.plan import Plan, PlanTask, write_plan
from tests.conftest import SQUAD_BIN, events, git
from tests.launch.fake_model import FakeModel, Say, Shell, WriteFile

pytestmark = pytest.mark.slow

AGENT = "agent-1-frontend"
BODY_MARKER = "BODY-MARKER-7f3a: build the dashboard page"
RUN_TIMEOUT_S = 240
AIDER_VENV = Path(__file__).resolve().parents[2] / ".venv-agents"


def _binary(name: str, hint: str) -> str:
    found = shutil.which(name)
    if found is None and name == "aider":
        for candidate in (AIDER_VENV / "bin" / "aider", Path("/tmp/aider-venv/bin/aider")):
            if candidate.is_file():
                return str(candidate)
    if found is None:
        pytest.skip(f"{name} is not installed: {hint} (or run .ci/install-agents)")
    return found


@pytest.fixture
def model() -> Iterator[FakeModel]:
    fake = FakeModel()
    yield fake
    fake.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def _squad_for_agents(squad: SquadPaths) -> Path:
    """Two agents: agent-1 owns frontend/ and may edit shared/ under a lease; agent-2 owns backend/."""
    task = PlanTask(id="T1", title="Dashboard page", files=("frontend/app.ts",))
    write_plan(
        squad.plan(1),
        Plan(agent=AGENT, role="frontend", owns=("frontend/",), shared=("shared/",), tasks=(task,), body=BODY_MARKER),
    )
    write_plan(squad.plan(2), Plan(agent="agent-2-backend", role="backend", owns=("backend/",), body="Backend.\n"))
    for folder in ("frontend", "backend", "shared"):  # the folders exist, as in a real project
        (squad.root / folder).mkdir()
        (squad.root / folder / ".gitkeep").write_text("")
        git(squad.root, "add", f"{folder}/.gitkeep")
    git(squad.root, "commit", "-q", "-m", "project folders")
    return squad.root.parent / f"{squad.root.name}-squad" / AGENT


def _script(worktree: Path, squad: str = "squad") -> list[Shell | WriteFile | Say]:
    """What a model following the prompt does; ``squad`` as the prompt names it."""
    return [
        Shell(f"{squad} lock shared/types.ts"),
        WriteFile(str(worktree / "shared" / "types.ts"), "export type Metric = number;"),
        WriteFile(str(worktree / "frontend" / "app.ts"), "export const app = 1;"),
        WriteFile(str(worktree / "backend" / "api.ts"), "export const stolen = 1;"),
        Shell(f"{squad} update --status DONE --task 'T1 Dashboard page' --progress 1/1"),
        Say("All done."),
    ]


def _launch(squad: SquadPaths, kind: str, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "PATH": f"{Path(SQUAD_BIN).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
        **env,
    }
    argv = [SQUAD_BIN, "launch", "--agent", kind, "--retries", "0", "--idle-timeout", "120", *extra, AGENT]
    return subprocess.run(
        argv, cwd=squad.root, env=full, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )


def _log(squad: SquadPaths) -> str:
    path = squad.agent_log(AGENT)
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else "(no log)"


def _check_run(squad: SquadPaths, model: FakeModel, result: subprocess.CompletedProcess[str]) -> None:
    why = f"\nstdout: {result.stdout}\nstderr: {result.stderr}\nlog:\n{_log(squad)[-4000:]}"
    asked = model.texts()
    # the agent read its plan: the body reached the model, the raw front matter did not
    assert BODY_MARKER in asked, why
    assert "---\\nagent: agent-1" not in asked, why
    # the lease and the update landed in the main checkout's .squad/
    lease = squad.locks / "shared" / "types.ts.lock"
    assert lease.exists(), f"no lease taken{why}"
    assert AGENT in lease.read_text(encoding="utf-8"), why
    blocks = read_comm(squad.comm(1))
    assert any(b.status is Status.DONE for b in blocks.updates), f"no DONE update{why}"
    # the guard refused the write outside its area, inside its worktree
    refused = [e for e in events(squad, "violation_attempt") if e.path == "backend/api.ts"]
    assert refused, f"no refusal of backend/api.ts{why}"
    assert "squad refused" in asked, f"the refusal did not reach the model{why}"
    worktree = squad.root.parent / f"{squad.root.name}-squad" / AGENT
    assert not (worktree / "backend" / "api.ts").exists(), why
    # its work is committed on its branch
    files = git(squad.root, "ls-tree", "-r", "--name-only", f"squad/{AGENT}").split()
    assert "frontend/app.ts" in files, why
    assert "shared/types.ts" in files, why
    assert "backend/api.ts" not in files, why
    assert result.returncode == 0, why


def test_claude_code_end_to_end(squad: SquadPaths, model: FakeModel, home: Path) -> None:
    _binary("claude", "npm install -g @anthropic-ai/claude-code")
    worktree = _squad_for_agents(squad)
    model.steps = _script(worktree)
    base = model.start()
    env = {
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base,
        "ANTHROPIC_API_KEY": "sk-ant-fake-key-for-tests",
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
    }
    result = _launch(squad, "claude", env, "--args", "--model claude-sonnet-4-5")
    _check_run(squad, model, result)


def test_codex_cli_end_to_end(squad: SquadPaths, model: FakeModel, home: Path) -> None:
    _binary("codex", "npm install -g @openai/codex")
    worktree = _squad_for_agents(squad)
    model.steps = _script(worktree, SQUAD_BIN)  # Codex's login shell resets PATH: the prompt names squad's path
    base = model.start()
    codex_home = home / ".codex"
    codex_home.mkdir()
    provider = (
        "-c model_provider=fake -c model=fake-model "
        f"-c model_providers.fake.name=fake -c model_providers.fake.base_url={base}/v1 "
        "-c model_providers.fake.env_key=FAKE_MODEL_KEY -c model_providers.fake.wire_api=responses "
        "-c model_providers.fake.request_max_retries=0 -c model_providers.fake.stream_max_retries=0"
    )
    env = {"HOME": str(home), "CODEX_HOME": str(codex_home), "FAKE_MODEL_KEY": "fake", "RUST_LOG": "error"}
    result = _launch(squad, "codex", env, "--args", provider)
    _check_run(squad, model, result)


def test_aider_end_to_end(squad: SquadPaths, model: FakeModel, home: Path) -> None:
    """aider has no tool hook and runs no shell command unasked (``--yes-always`` answers no to
    "Run shell command?"): the git pre-commit hook is its guard, and squad launch posts for it."""
    aider = _binary("aider", f"{sys.executable} -m pip install aider-chat (in a virtualenv of its own)")
    _squad_for_agents(squad)
    edit = (
        "frontend/app.ts\n```\n<<<<<<< SEARCH\n=======\nexport const app = 1;\n>>>>>>> REPLACE\n```\n\n"
        "backend/api.ts\n```\n<<<<<<< SEARCH\n=======\nexport const stolen = 1;\n>>>>>>> REPLACE\n```\n"
    )
    model.replies = [edit]
    base = model.start()
    env = {
        "HOME": str(home),
        "PATH": f"{Path(SQUAD_BIN).parent}{os.pathsep}{Path(aider).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "OPENAI_API_KEY": "fake",
        "AIDER_ANALYTICS": "false",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    args = f"--model openai/fake-model --openai-api-base {base}/v1 --edit-format diff --no-stream --map-tokens 0"
    result = _launch(squad, "aider", env, "--args", args)
    why = f"\nstdout: {result.stdout}\nstderr: {result.stderr}\nlog:\n{_log(squad)[-4000:]}"
    assert BODY_MARKER in model.texts(), why
    assert "---\\nagent: agent-1" not in model.texts(), why
    refused = [e for e in events(squad, "violation_attempt") if e.path == "backend/api.ts"]
    assert refused, f"the pre-commit hook did not refuse backend/api.ts{why}"
    files = git(squad.root, "ls-tree", "-r", "--name-only", f"squad/{AGENT}").split()
    assert "frontend/app.ts" in files, why
    # the refused file is still committed (work is never lost), and the launch says it went in unguarded
    assert [e for e in events(squad, "unguarded_commit") if e.agent == AGENT], why
    assert "UNGUARDED" in result.stdout, why
    # aider cannot run `squad update`: the launch posted for it
    assert any(b.status is Status.DONE for b in read_comm(squad.comm(1)).updates), why
