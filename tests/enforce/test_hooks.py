"""squad hooks install / uninstall: the git pre-commit layer and Claude Code's settings, kept intact."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from squad.enforce.hooks import (
    CLAUDE_MATCHER,
    git_hooks_dir,
    install,
    install_claude,
    is_guard_command,
    uninstall,
)
from squad.leases import locks
from squad.paths import SquadPaths
from squad.protocol import events as ev
from tests.conftest import git, invoke

MATRIX = """\
frontend/: {owner: agent-1-frontend, access: EXCLUSIVE}
backend/:  {owner: agent-2-backend,  access: EXCLUSIVE}
shared/:   {owner: null,             access: SEQUENTIAL}
"""

SETTINGS = {
    "model": "opus",
    "permissions": {"allow": ["Bash(npm test)"], "deny": ["Read(./.env)"]},
    "env": {"FOO": "1"},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./scripts/check-bash.sh"}]}],
        "PostToolUse": [{"matcher": "Write|Edit", "hooks": [{"type": "command", "command": "prettier --write"}]}],
    },
}


@pytest.fixture
def team(squad: SquadPaths) -> SquadPaths:
    squad.ownership.write_text(MATRIX)
    for folder in ("frontend", "backend", "shared"):
        (squad.root / folder).mkdir()
    return squad


def commit(cwd: Path, *files: str, agent: str | None) -> subprocess.CompletedProcess[str]:
    """Stage ``files`` (writing them first) and commit as ``agent``, hooks on."""
    for name in files:
        path = cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{name} {os.urandom(4).hex()}\n")
    git(cwd, "add", *files)
    env = {k: v for k, v in os.environ.items() if k != "AGENT_ID"}
    if agent:
        env["AGENT_ID"] = agent
    return subprocess.run(
        ["git", "commit", "-q", "-m", f"change {files}"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


# -- git ---------------------------------------------------------------------------------------


def test_pre_commit_refuses_another_agents_folder(team: SquadPaths) -> None:
    root = team.root
    [change] = install(root, git=True, claude=False)
    assert change.action == "installed" and executable(change.path)

    refused = commit(root, "frontend/App.tsx", agent="agent-2-backend")
    assert refused.returncode != 0
    assert "agent-1-frontend" in refused.stderr and "frontend/App.tsx" in refused.stderr
    [event] = [e for e in ev.read_events(team.events) if e.kind == ev.VIOLATION_ATTEMPT]
    assert (event.agent, event.path, event.data["tool"]) == ("agent-2-backend", "frontend/App.tsx", "git commit")
    git(root, "reset", "-q")

    ok = commit(root, "backend/api.py", agent="agent-2-backend")
    assert ok.returncode == 0, ok.stderr
    assert "backend/api.py" in git(root, "show", "--name-only", "HEAD")


def test_pre_commit_sequential_and_humans(team: SquadPaths) -> None:
    root = team.root
    install(root, git=True, claude=False)
    assert commit(root, "shared/types.ts", agent="agent-1").returncode != 0
    locks.acquire(team, "agent-1-frontend", "shared/types.ts")
    assert commit(root, "shared/types.ts", agent="agent-1").returncode == 0
    # A human (no AGENT_ID, not on a squad/ branch) is not bound by the agents' rules.
    assert commit(root, "frontend/x.ts", "backend/y.py", agent=None).returncode == 0


def test_pre_commit_sees_both_sides_of_a_rename(team: SquadPaths) -> None:
    root = team.root
    commit(root, "frontend/old.ts", agent=None)
    install(root, git=True, claude=False)
    git(root, "mv", "frontend/old.ts", "backend/new.ts")
    env = {**os.environ, "AGENT_ID": "agent-2-backend"}
    result = subprocess.run(["git", "commit", "-q", "-m", "mv"], cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "frontend/old.ts" in result.stderr


def test_existing_hook_is_chained_and_restored(team: SquadPaths) -> None:
    root = team.root
    hooks = git_hooks_dir(root)
    original = '#!/bin/sh\necho "their hook ran" >> "$(git rev-parse --show-toplevel)/their-hook.log"\n'
    hook = hooks / "pre-commit"
    hook.write_text(original)
    hook.chmod(0o750)

    [change] = install(root, git=True, claude=False)
    assert "kept" in change.note
    assert commit(root, "backend/a.py", agent="agent-2").returncode == 0
    assert (root / "their-hook.log").read_text() == "their hook ran\n"
    assert commit(root, "frontend/a.ts", agent="agent-2").returncode != 0
    git(root, "reset", "-q")

    # Their hook failing still stops the commit, before squad is asked.
    hook_kept = hooks / "pre-commit.squad-chained"
    hook_kept.write_text("#!/bin/sh\necho their-refusal >&2\nexit 3\n")
    failing = commit(root, "backend/b.py", agent="agent-2")
    assert failing.returncode != 0 and "their-refusal" in failing.stderr
    hook_kept.write_text(original)
    git(root, "reset", "-q")

    assert install(root, git=True, claude=False)[0].action == "unchanged"
    [removed] = uninstall(root, git=True, claude=False)
    assert removed.action == "restored"
    assert hook.read_text() == original
    assert stat.S_IMODE(hook.stat().st_mode) == 0o750
    assert not hook_kept.exists()


def test_uninstall_without_prior_hook_removes_ours_only(team: SquadPaths) -> None:
    root = team.root
    install(root, git=True, claude=False)
    hook = git_hooks_dir(root) / "pre-commit"
    assert uninstall(root, git=True, claude=False)[0].action == "removed"
    assert not hook.exists()
    hook.write_text("#!/bin/sh\nexit 0\n")
    assert uninstall(root, git=True, claude=False)[0].action == "absent"
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"  # not ours: left alone


def test_core_hooks_path_is_honoured(team: SquadPaths) -> None:
    root = team.root
    git(root, "config", "core.hooksPath", ".githooks")
    [change] = install(root, git=True, claude=False)
    assert change.path == root / ".githooks" / "pre-commit"
    assert not (root / ".git" / "hooks" / "pre-commit").exists()
    assert commit(root, "frontend/a.ts", agent="agent-2").returncode != 0
    git(root, "reset", "-q")
    assert commit(root, "backend/a.py", agent="agent-2").returncode == 0


def test_worktree_commit_uses_the_branch_agent(team: SquadPaths, tmp_path: Path) -> None:
    root = team.root
    worktree = tmp_path / "wt"
    git(root, "worktree", "add", "-q", "-b", "squad/agent-2-backend", str(worktree))
    [change] = install(worktree, git=True, claude=False)
    assert change.path == root / ".git" / "hooks" / "pre-commit"  # hooks are shared by worktrees
    refused = commit(worktree, "frontend/App.tsx", agent=None)
    assert refused.returncode != 0 and "agent-1-frontend" in refused.stderr
    git(worktree, "reset", "-q")
    assert commit(worktree, "backend/api.py", agent=None).returncode == 0


def test_hook_uses_python_m_squad_when_given(team: SquadPaths) -> None:
    import sys

    from squad.enforce.hooks import install_git

    install_git(team.root, [], command=[sys.executable, "-m", "squad"])
    assert "-m squad guard --git" in (git_hooks_dir(team.root) / "pre-commit").read_text()
    assert commit(team.root, "frontend/a.ts", agent="agent-2").returncode != 0


# -- Claude Code -------------------------------------------------------------------------------


def _settings(root: Path, name: str = "settings.json") -> Path:
    return root / ".claude" / name


def test_claude_settings_merged_and_restored_byte_for_byte(team: SquadPaths) -> None:
    root = team.root
    path = _settings(root)
    path.parent.mkdir()
    original = json.dumps(SETTINGS, indent=4) + "\n"  # not squad's own formatting
    path.write_text(original)

    [change] = install(root, git=False, claude=True)
    assert change.action == "installed"
    data = json.loads(path.read_text())
    assert {k: v for k, v in data.items() if k != "hooks"} == {k: v for k, v in SETTINGS.items() if k != "hooks"}
    assert data["hooks"]["PostToolUse"] == SETTINGS["hooks"]["PostToolUse"]
    pre = data["hooks"]["PreToolUse"]
    assert pre[0] == SETTINGS["hooks"]["PreToolUse"][0]
    assert pre[1]["matcher"] == CLAUDE_MATCHER
    assert is_guard_command(pre[1]["hooks"][0]["command"])
    assert pre[1]["hooks"][0]["type"] == "command"

    assert install(root, git=False, claude=True)[0].action == "unchanged"
    [undone] = uninstall(root, git=False, claude=True, local=False)
    assert undone.action == "restored"
    assert path.read_text() == original
    assert not path.with_name("settings.json.squad-backup").exists()


def test_claude_settings_edited_after_install(team: SquadPaths) -> None:
    root = team.root
    path = _settings(root)
    path.parent.mkdir()
    path.write_text(json.dumps(SETTINGS))
    install(root, git=False, claude=True)
    data = json.loads(path.read_text())
    data["theme"] = "dark"
    data["hooks"]["PreToolUse"].append({"matcher": "Write", "hooks": [{"type": "command", "command": "lint"}]})
    path.write_text(json.dumps(data))

    [undone] = uninstall(root, git=False, claude=True)
    assert undone.action == "updated" and "edits since install kept" in undone.note
    after = json.loads(path.read_text())
    expected = json.loads(json.dumps(SETTINGS))
    expected["theme"] = "dark"
    expected["hooks"]["PreToolUse"].append({"matcher": "Write", "hooks": [{"type": "command", "command": "lint"}]})
    assert after == expected


def test_claude_local_settings_created_and_removed(team: SquadPaths) -> None:
    root = team.root
    [change] = install(root, git=False, claude=True, local=True, agent="agent-1-frontend")
    assert change.path == _settings(root, "settings.local.json")
    data = json.loads(change.path.read_text())
    command = data["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    assert command.endswith("guard --agent agent-1-frontend")
    assert not _settings(root).exists()
    uninstall(root, git=False, claude=True)
    assert not (root / ".claude").exists()


def test_installed_claude_command_runs_the_guard(team: SquadPaths) -> None:
    root = team.root
    install_claude(root, ["--agent", "agent-2-backend"], local=True)
    data = json.loads(_settings(root, "settings.local.json").read_text())
    command = data["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    payload = json.dumps(
        {
            "cwd": str(root),
            "hook_event_name": "PreToolUse",
            "tool_name": "Write",
            "tool_input": {"file_path": str(root / "frontend" / "x.ts"), "content": "x"},
        }
    )
    env = {k: v for k, v in os.environ.items() if k != "PATH"}  # Claude's PATH may lack this venv
    env["PATH"] = "/usr/bin:/bin"
    result = subprocess.run(
        ["/bin/sh", "-c", command], cwd=root, input=payload, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert json.loads(result.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_bad_settings_json_is_a_one_line_error(team: SquadPaths, runner: CliRunner) -> None:
    path = _settings(team.root)
    path.parent.mkdir()
    path.write_text('{\n  "model": "opus",\n  oops\n}\n')
    result = invoke(runner, "hooks", "install", "--claude")
    assert result.exit_code == 2
    assert "settings.json:3" in result.output and "Traceback" not in result.output
    assert path.read_text() == '{\n  "model": "opus",\n  oops\n}\n'


def test_is_guard_command() -> None:
    assert is_guard_command("/venv/bin/squad guard")
    assert is_guard_command("squad guard --agent agent-1")
    assert is_guard_command("/usr/bin/python3 -m squad guard")
    assert not is_guard_command("squad check --staged")
    assert not is_guard_command("./guard.sh squad")
    assert not is_guard_command(None)


# -- the CLI and the pre-commit framework ----------------------------------------------------------


def test_hooks_cli(team: SquadPaths, runner: CliRunner) -> None:
    result = invoke(runner, "hooks", "install")
    assert result.exit_code == 0, result.output
    assert "git: installed" in result.output and "claude: installed" in result.output
    result = invoke(runner, "hooks", "uninstall")
    assert result.exit_code == 0, result.output
    assert "git: removed" in result.output and "claude: restored" in result.output
    assert not (team.root / ".claude").exists()
    assert invoke(runner, "hooks", "install", "--agent", "nobody").exit_code == 2


def test_hooks_install_outside_git_is_an_error(tmp_path: Path, runner: CliRunner, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, "hooks", "install", "--git")
    assert result.exit_code == 2 and "not a git repository" in result.output


def test_pre_commit_framework_manifest() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text())
    [hook] = manifest
    assert hook["id"] == "squad-check"
    assert hook["entry"].split()[:2] == ["squad", "guard"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False


# -- audit regressions -------------------------------------------------------------------------


def test_install_twice_is_idempotent_and_uninstall_of_nothing_changes_nothing(team: SquadPaths) -> None:
    root = team.root
    hook = git_hooks_dir(root) / "pre-commit"
    before = sorted(p.name for p in hook.parent.iterdir())
    assert [c.action for c in uninstall(root, git=False, claude=False)] == ["absent", "absent"]
    assert sorted(p.name for p in hook.parent.iterdir()) == before and not (root / ".claude").exists()

    first = install(root, git=True, claude=True)
    texts = (hook.read_text(), _settings(root).read_text())
    second = install(root, git=True, claude=True)
    assert [c.action for c in first] == ["installed", "installed"]
    assert [c.action for c in second] == ["unchanged", "unchanged"]
    assert (hook.read_text(), _settings(root).read_text()) == texts
    assert not (hook.parent / "pre-commit.squad-chained").exists()  # ours was not chained to itself
    assert _settings(root).read_text().count("guard") == 1
    uninstall(root, git=False, claude=False)
    assert sorted(p.name for p in hook.parent.iterdir()) == before and not (root / ".claude").exists()


def test_a_non_executable_hook_is_kept_as_it_was(team: SquadPaths) -> None:
    """git ignores a hook that is not executable; so does the chain, and uninstall gives it back as it was."""
    root = team.root
    hook = git_hooks_dir(root) / "pre-commit"
    hook.write_text("#!/bin/sh\necho never >&2\nexit 1\n")
    hook.chmod(0o644)
    install(root, git=True, claude=False)
    assert executable(hook)
    assert commit(root, "backend/a.py", agent="agent-2").returncode == 0  # not run, as git would not run it
    assert uninstall(root, git=True, claude=False)[0].action == "restored"
    assert stat.S_IMODE(hook.stat().st_mode) == 0o644 and "never" in hook.read_text()


def test_relative_core_hooks_path_from_a_subfolder(team: SquadPaths) -> None:
    root = team.root
    git(root, "config", "core.hooksPath", "tools/hooks")
    [change] = install(root / "backend", git=True, claude=False)
    assert change.path == root / "tools" / "hooks" / "pre-commit"
    assert "relative" in change.note and "tools/hooks" in change.note
    assert commit(root, "frontend/a.ts", agent="agent-2").returncode != 0
    git(root, "reset", "-q")
    assert uninstall(root / "backend", git=True, claude=False)[0].action == "removed"


def test_pre_commit_refuses_squad_configuration_edits(team: SquadPaths) -> None:
    """The matrix and another agent's comm file are refused at commit time too, if tracked."""
    root = team.root
    install(root, git=True, claude=False)
    team.ownership.write_text(MATRIX.replace("EXCLUSIVE", "SEQUENTIAL"))
    git(root, "add", "-f", str(team.ownership))
    env = {k: v for k, v in os.environ.items() if k != "AGENT_ID"} | {"AGENT_ID": "agent-2"}
    result = subprocess.run(["git", "commit", "-qm", "x"], cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode == 1 and ".squad/ownership.yaml is squad's own configuration" in result.stderr


def test_pre_commit_framework_manifest_shape() -> None:
    """The fields the pre-commit framework reads (its own validator accepts this file)."""
    [hook] = yaml.safe_load((Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text())
    assert set(hook) <= {
        "id", "name", "entry", "language", "description", "pass_filenames", "always_run", "stages",
        "minimum_pre_commit_version", "files", "types", "args", "require_serial", "verbose",
    }  # fmt: skip
    assert hook["stages"] == ["pre-commit"] and hook["always_run"] is True
    assert tuple(int(x) for x in hook["minimum_pre_commit_version"].split(".")) >= (3, 2, 0)
    assert all(isinstance(hook[k], str) and hook[k] for k in ("id", "name", "entry", "language"))


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{\n  "model": "opus",\n  "hooks": []\n}\n', 3),
        ('{\n  "hooks": {\n    "PreToolUse": {"matcher": "Bash"}\n  }\n}\n', 2),
    ],
)
def test_settings_hooks_of_the_wrong_shape_name_file_and_line(
    team: SquadPaths, runner: CliRunner, text: str, line: int
) -> None:
    path = _settings(team.root)
    path.parent.mkdir()
    path.write_text(text)
    result = invoke(runner, "hooks", "install", "--claude")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith(f"squad: error: {path}:{line}: ")
    assert path.read_text() == text and not path.with_name("settings.json.squad-backup").exists()


def test_concurrent_refusals_are_all_logged(team: SquadPaths) -> None:
    """Agents refused at once: every refusal lands whole in the event log."""
    payload = json.dumps(
        {"tool_name": "Write", "cwd": str(team.root), "tool_input": {"file_path": str(team.root / "frontend" / "x")}}
    )
    env = {k: v for k, v in os.environ.items() if k != "AGENT_ID"} | {"AGENT_ID": "agent-2-backend"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "squad", "guard"],
            cwd=team.root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(8)
    ]
    for proc in procs:
        assert proc.communicate(payload, timeout=120) == (None, None)
    assert [proc.returncode for proc in procs] == [2] * 8
    attempts = [e for e in ev.read_events(team.events) if e.kind == ev.VIOLATION_ATTEMPT]
    assert len(attempts) == 8 and {e.path for e in attempts} == {"frontend/x"}


# -- coexisting with husky v9 and the pre-commit framework --------------------------------------

HUSKY_RUNNER = """#!/usr/bin/env sh
[ "$HUSKY" = "2" ] && set -x
n=$(basename "$0")
s=$(dirname "$(dirname "$0")")/$n

[ ! -f "$s" ] && exit 0

if [ -f "$HOME/.huskyrc" ]; then
\techo "husky - '~/.huskyrc' is DEPRECATED, please move your code to ~/.config/husky/init.sh"
fi
i="${XDG_CONFIG_HOME:-$HOME/.config}/husky/init.sh"
[ -f "$i" ] && . "$i"

[ "${HUSKY-}" = "0" ] && exit 0

export PATH="node_modules/.bin:$PATH"
sh -e "$s" "$@"
c=$?

[ $c != 0 ] && echo "husky - $n script failed (code $c)"
[ $c = 127 ] && echo "husky - command not found in PATH=$PATH"
exit $c
"""


def husky_install(root: Path) -> None:
    """What `npx husky` (v9) writes: .husky/_/ with the runner h, one stub per hook, core.hooksPath."""
    folder = root / ".husky" / "_"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".gitignore").write_text("*")
    (folder / "h").write_text(HUSKY_RUNNER)
    (folder / "husky.sh").write_text("echo 'husky - DEPRECATED'\n")
    for name in ("pre-commit", "commit-msg", "pre-push"):
        stub = folder / name
        stub.write_text('#!/usr/bin/env sh\n. "$(dirname "$0")/h"')
        stub.chmod(0o755)
    git(root, "config", "core.hooksPath", ".husky/_")


def refused(root: Path, name: str) -> bool:
    """Commit ``name`` as agent-1-frontend; True when refused (the file is unstaged again)."""
    result = commit(root, name, agent="agent-1-frontend")
    git(root, "restore", "--staged", name)
    return result.returncode != 0


@pytest.mark.parametrize("order", ["husky-first", "squad-first"])
def test_husky_v9_both_orders_and_reinstall(team: SquadPaths, order: str) -> None:
    root = team.root
    user_hook = root / ".husky" / "pre-commit"
    if order == "squad-first":
        install(root, git=True, claude=False)  # plain .git/hooks: husky then takes over
    husky_install(root)
    user_hook.write_text("echo user-hook-ran >> user-hook.log\n[ ! -f fail-user-hook ]\n")
    [change] = install(root, git=True, claude=False)
    assert change.path == user_hook and "husky" in change.note
    stub = root / ".husky" / "_" / "pre-commit"
    assert stub.read_text() == '#!/usr/bin/env sh\n. "$(dirname "$0")/h"'  # husky's file untouched
    assert refused(root, "backend/x.ts")  # squad refuses
    assert commit(root, "frontend/a.ts", agent="agent-1-frontend").returncode == 0
    (root / "fail-user-hook").write_text("")
    assert refused(root, "frontend/b.ts")  # the user's hook still blocks
    (root / "fail-user-hook").unlink()
    husky_install(root)  # `npm install` runs husky again: squad's lines live in .husky/pre-commit, kept
    assert refused(root, "backend/y.ts")
    assert [c.action for c in install(root, git=True, claude=False)] == ["unchanged"]
    [removed] = uninstall(root, git=True, claude=False)
    assert removed.action == "updated"
    assert user_hook.read_text() == "echo user-hook-ran >> user-hook.log\n[ ! -f fail-user-hook ]\n"
    assert commit(root, "backend/z.ts", agent="agent-1-frontend").returncode == 0


PRE_COMMIT_HOOK = """#!/usr/bin/env bash
# File generated by pre-commit: https://pre-commit.com
# ID: 138fd403232d2ddd5efb44317e38bf03
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ -x "$HERE/pre-commit.legacy" ]; then
    "$HERE/pre-commit.legacy" "$@" || exit $?
fi
exit 0
"""


def pre_commit_install(root: Path) -> None:
    """What `pre-commit install` does to a hook it finds: moves it to pre-commit.legacy and runs it."""
    hooks = git_hooks_dir(root)
    hooks.mkdir(parents=True, exist_ok=True)
    hook = hooks / "pre-commit"
    if hook.exists() and "File generated by pre-commit" not in hook.read_text():
        hook.replace(hooks / "pre-commit.legacy")
    hook.write_text(PRE_COMMIT_HOOK)
    hook.chmod(0o755)


def test_pre_commit_framework_installed_after_squad(team: SquadPaths) -> None:
    root = team.root
    install(root, git=True, claude=False)
    pre_commit_install(root)  # ours becomes pre-commit.legacy, run by the framework
    assert refused(root, "backend/x.ts")
    assert [c.action for c in install(root, git=True, claude=False)] == ["unchanged"]
    [change] = uninstall(root, git=True, claude=False)
    assert change.action == "removed" and change.path.name == "pre-commit.legacy"
    assert not (git_hooks_dir(root) / "pre-commit.legacy").exists()
    assert "File generated by pre-commit" in (git_hooks_dir(root) / "pre-commit").read_text()
    assert commit(root, "backend/y.ts", agent="agent-1-frontend").returncode == 0


def test_pre_commit_framework_installed_before_squad_and_reinstalled(team: SquadPaths) -> None:
    root = team.root
    hooks = git_hooks_dir(root)
    pre_commit_install(root)
    [change] = install(root, git=True, claude=False)
    assert change.path.name == "pre-commit.legacy" and "pre-commit framework" in change.note
    assert (hooks / "pre-commit").read_text() == PRE_COMMIT_HOOK  # the framework's hook untouched
    assert refused(root, "backend/x.ts")
    pre_commit_install(root)  # the framework reinstalls itself: squad's legacy hook is kept
    assert refused(root, "backend/y.ts")
    [removed] = uninstall(root, git=True, claude=False)
    assert removed.action == "removed" and not (hooks / "pre-commit.legacy").exists()
    assert (hooks / "pre-commit").read_text() == PRE_COMMIT_HOOK


def test_another_tool_rewriting_the_hook_is_reported_and_reinstall_works(team: SquadPaths) -> None:
    root = team.root
    hooks = git_hooks_dir(root)
    other = "#!/bin/sh\n# lint-tool hook\nexit 0\n"
    (hooks / "pre-commit").write_text(other)
    (hooks / "pre-commit").chmod(0o755)
    install(root, git=True, claude=False)
    (hooks / "pre-commit").write_text(other)  # the tool reinstalls itself over squad's hook
    [absent] = uninstall(root, git=True, claude=False)
    assert absent.action == "absent" and "removed by another tool" in absent.note
    [again] = install(root, git=True, claude=False)  # the leftover copy is the same hook: no error
    assert again.action == "installed"
    assert refused(root, "backend/y.ts")
    [restored] = uninstall(root, git=True, claude=False)
    assert restored.action == "restored" and (hooks / "pre-commit").read_text() == other


def test_git_guard_state(team: SquadPaths) -> None:
    from squad.enforce.hooks import git_guard_state

    root = team.root
    hooks = git_hooks_dir(root)
    assert git_guard_state(root) == "missing"
    pre_commit_install(root)
    install(root, git=True, claude=False)
    assert git_guard_state(root) == "installed"  # as pre-commit.legacy, run by the framework
    uninstall(root, git=True, claude=False)
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    install(root, git=True, claude=False)
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 0\n")  # another tool rewrote it
    assert git_guard_state(root) == "removed"
