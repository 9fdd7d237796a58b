"""Issue 21's bypasses of squad guard, each as a regression test, and a fuzz that no error turns into an allow."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from squad.enforce.guard import Verdict, claude_hook, record
from squad.leases import locks
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.times import now as utcnow
from tests.conftest import run_squad
from tests.enforce.test_guard import MATRIX, hook_json

AGENT = "agent-1-frontend"  # may write frontend/, nothing of backend/


@pytest.fixture
def team(squad: SquadPaths) -> SquadPaths:
    root = squad.root
    squad.ownership.write_text(MATRIX)
    for folder in ("frontend", "backend", "shared/types", "docs/adr"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "frontend" / "App.tsx").write_text("app\n")
    (root / "backend" / "api.py").write_text("api\n")
    squad.plans.mkdir(parents=True, exist_ok=True)
    squad.comms.mkdir(parents=True, exist_ok=True)
    squad.plan(1).write_text("---\nagent: agent-1-frontend\nowns: [frontend/]\n---\n")
    squad.plan(2).write_text("---\nagent: agent-2-backend\nowns: [backend/]\n---\n")
    return squad


def bash(paths: SquadPaths, command: str, cwd: Path | None = None, agent: str = AGENT) -> Verdict:
    text = hook_json("Bash", cwd or paths.root, command=command)
    verdict = claude_hook(text, environ={"AGENT_ID": agent}, cwd=cwd or paths.root, now=utcnow())
    record(verdict)
    return verdict


def write(paths: SquadPaths, target: Path | str, cwd: Path | None = None, agent: str = AGENT) -> Verdict:
    text = hook_json("Write", cwd or paths.root, file_path=str(target), content="x")
    return claude_hook(text, environ={"AGENT_ID": agent}, cwd=cwd or paths.root, now=utcnow())


def refused(verdict: Verdict) -> bool:
    return verdict.exit_code == 2 and json.loads(verdict.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"


# 1. one bad byte must not switch the guard off


def test_a_non_utf8_plan_does_not_switch_enforcement_off(team: SquadPaths) -> None:
    team.plan(1).write_bytes(b"\xff\xfe garbage")
    assert refused(write(team, team.root / "backend" / "api.py"))
    assert refused(write(team, team.root / "docs" / "adr" / "0001.md"))


@pytest.mark.parametrize("file", ["config.yaml", "ownership.yaml"])
def test_a_non_utf8_setting_refuses_instead_of_allowing(team: SquadPaths, file: str) -> None:
    (team.squad / file).write_bytes(b"frontend/: \xff\n")
    verdict = write(team, team.root / "backend" / "api.py")
    assert refused(verdict)
    assert verdict.stderr.count("\n") == 1 and "SQUAD_GUARD=off" in verdict.stderr


def test_an_internal_error_refuses(team: SquadPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever raises inside the decision refuses: the hook's last line never allows."""
    import squad.enforce.guard as guard_module

    def boom(*args: object, **kwargs: object) -> object:
        raise ZeroDivisionError("deliberately broken")

    monkeypatch.setattr(guard_module, "judge_all", boom)
    verdict = write(team, team.root / "frontend" / "App.tsx")
    assert refused(verdict) and "internal error ZeroDivisionError" in verdict.stderr


def test_a_person_overrides_with_squad_guard_off_and_it_is_logged(team: SquadPaths) -> None:
    text = hook_json("Write", team.root, file_path=str(team.root / "backend" / "api.py"))
    verdict = claude_hook(text, environ={"AGENT_ID": AGENT, "SQUAD_GUARD": "off"}, cwd=team.root, now=utcnow())
    assert verdict.exit_code == 0
    record(verdict)
    assert [e.kind for e in ev.read_events(team.events)] == [ev.GUARD_OVERRIDE]


@pytest.mark.parametrize(
    "command", ["export SQUAD_GUARD=off", "SQUAD_GUARD=off git commit -m x", "env SQUAD_GUARD=off squad guard"]
)
def test_an_agent_cannot_set_the_override_itself(team: SquadPaths, command: str) -> None:
    assert refused(bash(team, command))


# 2. a symlink into .squad/


def test_a_symlink_into_squad_does_not_rewrite_the_rules(team: SquadPaths) -> None:
    line = 'ln -s ../.squad/ownership.yaml frontend/own.yaml && echo "backend/: {owner: agent-1-frontend}" >> frontend/own.yaml'
    assert refused(bash(team, line))
    (team.root / "frontend" / "own.yaml").symlink_to("../.squad/ownership.yaml")
    verdict = bash(team, 'echo "backend/: {owner: agent-1-frontend}" >> frontend/own.yaml')
    assert refused(verdict) and ".squad/ownership.yaml" in verdict.stderr
    assert refused(write(team, team.root / "frontend" / "own.yaml"))
    (team.root / "frontend" / "their-comm.md").symlink_to("../.squad/comms/agent-2-comm.md")
    assert refused(bash(team, "echo '## Status Update' >> frontend/their-comm.md"))


# 3. writes the old lexer did not follow


@pytest.mark.parametrize(
    "command",
    [
        "echo $(echo $(echo $(echo $(echo $(echo x > backend/api.py)))))",
        "echo `echo \\`echo \\\\\\`echo x > backend/api.py\\\\\\`\\``",
        "ln -s ../backend/api.py frontend/s.py && echo X > frontend/s.py",
        "ln backend/api.py frontend/hard.py",
        "cp -l backend/api.py frontend/hard.py",
        "cp --link backend/api.py frontend/hard.py",
        "eval 'echo x > backend/api.py'",
        "> $'backend/api.py'",
        "echo x > $'back\\x65nd/api.py'",
        "busybox cp frontend/App.tsx backend/api.py",
        "find frontend -exec sh -c 'echo x > backend/api.py' \\;",
        "find backend -name '*.py' -exec rm {} +",
        "echo 'rm backend/api.py' | sh",
        "bash <<'EOF'\nrm backend/api.py\nEOF",
        "echo backend/api.py | xargs rm",
        "cat <<EOF > frontend/x\n`rm backend/api.py`\nEOF",
    ],
)
def test_writes_through_nesting_links_eval_quoting_and_wrappers_are_refused(team: SquadPaths, command: str) -> None:
    verdict = bash(team, command)
    assert refused(verdict), command


def test_a_hard_link_made_in_two_steps_is_refused(team: SquadPaths) -> None:
    os.link(team.root / "backend" / "api.py", team.root / "frontend" / "hard.py")
    assert refused(bash(team, "echo x >> frontend/hard.py"))
    assert refused(write(team, team.root / "frontend" / "hard.py"))


@pytest.mark.parametrize(
    "command",
    [
        "ls $HOME && echo $HOME",
        "cat $F | grep x",
        "echo ok > frontend/a.txt && cp frontend/App.tsx frontend/b.tsx",
        "ln -s App.tsx frontend/link.tsx && echo x > frontend/link.tsx",
        "for f in a b; do echo $f; done > frontend/list.txt",
        "python -m pytest -q 2>&1 | tail -5",
    ],
)
def test_ordinary_commands_still_pass(team: SquadPaths, command: str) -> None:
    verdict = bash(team, command)
    assert verdict.exit_code == 0, verdict.stderr


@pytest.mark.parametrize(
    "command", ["touch $F", "echo x > $OUT", "cd $DIR && touch x", "$CMD frontend/x backend/y", "xargs rm < list"]
)
def test_unknowable_write_targets_are_refused(team: SquadPaths, command: str) -> None:
    verdict = bash(team, command)
    assert refused(verdict), command
    assert "SQUAD_GUARD=off" in verdict.stderr


# 4. the guard's own limits


def test_a_name_too_long_later_in_the_line_refuses_the_line(team: SquadPaths) -> None:
    verdict = bash(team, f"echo x > frontend/ok.txt && echo y > frontend/{'n' * 300}")
    assert refused(verdict) and "too long" in verdict.stderr


def test_a_symlink_loop_refuses_in_one_line(team: SquadPaths) -> None:
    (team.root / "frontend" / "loop").symlink_to("loop")
    verdict = write(team, team.root / "frontend" / "loop")
    assert refused(verdict) and verdict.stderr.count("\n") == 1 and "loop" in verdict.stderr


def test_a_brace_bomb_is_refused_fast(team: SquadPaths) -> None:
    import time

    start = time.monotonic()
    verdict = bash(team, "if false; then touch frontend/" + "{a,b}" * 40 + "; fi")
    assert refused(verdict) and "too complex" in verdict.stderr
    assert time.monotonic() - start < 5


def test_deep_nesting_is_too_complex(team: SquadPaths) -> None:
    verdict = bash(team, "eval " * 1 + "'" + 'eval "' * 12 + "echo" + '"' * 12 + "'")
    assert refused(verdict)


# 5. the squad comes from the target, not the hook's cwd


def test_a_write_with_cwd_elsewhere_is_judged_by_the_target_repository(team: SquadPaths, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert refused(write(team, team.root / "backend" / "api.py", cwd=elsewhere))
    assert refused(bash(team, f"echo x > {team.root}/backend/api.py", cwd=elsewhere))
    assert write(team, team.root / "frontend" / "App.tsx", cwd=elsewhere).exit_code == 0


# 6. the rest of .squad/ and .git/


@pytest.mark.parametrize(
    "relative",
    [
        ".squad/logs/events.jsonl",
        ".squad/locks/shared/x.ts.lock",
        ".squad/comms/agent-2-comm.md",
        ".git/hooks/pre-commit",
        ".git/config",
    ],
)
def test_squad_state_and_git_internals_are_refused(team: SquadPaths, relative: str) -> None:
    assert refused(write(team, team.root / relative))
    assert refused(bash(team, f"rm -f {relative}"))


def test_an_agent_writes_its_own_comm_file_and_plan(team: SquadPaths) -> None:
    assert write(team, team.comm(1)).exit_code == 0
    assert write(team, team.plan(1)).exit_code == 0
    assert bash(team, f"echo '## Status Update' >> {team.comm(1)}").exit_code == 0


def test_a_live_lease_of_another_agent_cannot_be_deleted(team: SquadPaths) -> None:
    locks.acquire(team, "agent-2-backend", "shared/types/x.ts")
    assert refused(bash(team, "rm .squad/locks/shared/types/x.ts.lock"))
    assert refused(bash(team, "rm -rf .squad/locks"))


# 7. the CLI's door for paths


def test_cli_paths_are_validated(team: SquadPaths) -> None:
    env = {"AGENT_ID": AGENT}
    handoff = run_squad("handoff", "--to", "agent-2", "--file", "shared/a\nb.ts", cwd=team.root, env=env)
    assert handoff.returncode == 2 and "control character" in handoff.stderr
    assert "b.ts" not in team.comm(1).read_text() if team.comm(1).exists() else True
    (team.root / "sqlink").symlink_to(".squad")
    lock = run_squad("lock", "sqlink/ownership.yaml", cwd=team.root, env=env)
    assert lock.returncode == 2 and ".squad" in lock.stderr
    (team.root / "shared" / "loop").symlink_to("loop")
    looped = run_squad("check", "shared/loop", cwd=team.root, env=env)
    assert looped.returncode == 2 and "Traceback" not in looped.stderr and looped.stderr.count("\n") == 1
    too_long = run_squad("lock", "shared/" + "z" * 300, cwd=team.root, env=env)
    assert too_long.returncode == 2 and "at most 255" in too_long.stderr


@pytest.mark.parametrize("length", [251, 252, 253, 254, 255])
def test_names_of_up_to_255_bytes_can_be_locked(team: SquadPaths, length: int) -> None:
    name = "shared/" + "q" * length
    lease = locks.acquire(team, AGENT, name)
    assert lease.path == name
    assert [x.path for x in locks.survey(team).leases] == [name]
    locks.release(team, AGENT, name)
    assert list(locks.survey(team).leases) == []


def test_a_lease_with_wrong_json_types_is_reported_not_a_crash(team: SquadPaths) -> None:
    file = team.lease_file("shared/types/x.ts")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(
        json.dumps(
            {"agent": "agent-2", "path": "shared/types/x.ts", "acquired_at": "2026-01-01T00:00:00Z", "reason": True}
        )
    )
    env = {"AGENT_ID": AGENT}
    listing = run_squad("locks", cwd=team.root, env=env)
    assert "Traceback" not in listing.stderr and "unreadable lease" in listing.stdout + listing.stderr
    other = run_squad("lock", "shared/other.ts", cwd=team.root, env=env)
    assert other.returncode == 0, other.stderr
    same = run_squad("lock", "shared/types/x.ts", cwd=team.root, env=env)
    assert same.returncode in (1, 2) and "Traceback" not in same.stderr


# the fuzz: no error becomes an allow, and nothing unprovable is allowed

_PIECES = st.sampled_from(
    [
        *"ab /.-'\"\\$`()<>|&;\n{}#*?[]=~,",
        "backend/api.py", "frontend/x", ".squad/ownership.yaml", "sh -c ", "eval ", "$(", "`", "$'\\x41'",
        "ln -s ", "cp -l ", "busybox ", "find . -exec ", " {} \\;", "xargs ", "<<EOF\n", "EOF\n", "${x:-", "{a,b}",
        "> ", ">> ", "rm ", "tee ", "sed -i ", "cd ", "$HOME", "..", "\x00", "\udcff",
    ]
)  # fmt: skip


def _denies_or_allows(verdict: Verdict) -> None:
    assert verdict.exit_code in (0, 2)
    if verdict.exit_code == 2:
        assert json.loads(verdict.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
        assert "Traceback" not in verdict.stderr
    else:
        assert verdict.stdout == "" and verdict.stderr == ""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_PIECES, max_size=25))
def test_fuzzed_commands_never_allow_a_write_into_backend_or_squad(team: SquadPaths, parts: list[str]) -> None:
    command = "".join(parts)
    verdict = claude_hook(
        hook_json("Bash", team.root, command=command), environ={"AGENT_ID": AGENT}, cwd=team.root, now=utcnow()
    )
    _denies_or_allows(verdict)
    assert not any(e.kind == ev.GUARD_REFUSED and "internal error" in (e.detail or "") for e in verdict.events), (
        verdict.events
    )
    if verdict.exit_code == 0:
        # Allowed: then the reader must have named no target agent-1 may not write.
        from squad.enforce.bash import write_targets

        for target in write_targets(command, team.root):
            path = os.path.normpath(target.path)
            assert not path.startswith(str(team.root / "backend")), (command, path)
            assert not path.startswith(str(team.squad / "ownership.yaml")), (command, path)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tool=st.sampled_from(["Write", "Edit", "MultiEdit", "NotebookEdit", "Bash", "Read", "mcp__x", 3, None]),
    tool_input=_JSON,
    cwd=st.sampled_from([None, "/", "/tmp", "relative", 5]),
    raw=st.booleans(),
    junk=st.binary(max_size=30),
)
def test_fuzzed_payloads_never_turn_an_error_into_an_allow(
    team: SquadPaths, tool: object, tool_input: object, cwd: object, raw: bool, junk: bytes
) -> None:
    from squad.enforce.guard import claude_hook_bytes

    payload = {"tool_name": tool, "tool_input": tool_input, "cwd": cwd}
    data = junk if raw else json.dumps(payload).encode()
    verdict = claude_hook_bytes(data, environ={"AGENT_ID": AGENT}, cwd=team.root, now=utcnow())
    _denies_or_allows(verdict)
    if verdict.exit_code == 0:
        # Allowed only when the call provably writes nothing, or nothing agent-1 may not write.
        assert raw is False and isinstance(tool, str)


# An agent may not switch the git layer off from its shell either.


@pytest.mark.parametrize(
    "command",
    [
        "git commit --no-verify -m wip",
        "git commit -nm wip",
        "git commit -a -n -m wip",
        "git -c core.hooksPath=/dev/null commit -m wip",
        "git -C frontend -c core.hookspath=/tmp/none commit -m wip",
        "git config core.hooksPath /tmp/none",
        "git config --unset core.hooksPath",
        "squad hooks uninstall",
        "squad hooks uninstall --git",
    ],
)
def test_switching_the_git_hook_off_is_refused(team: SquadPaths, command: str) -> None:
    verdict = bash(team, command)
    assert refused(verdict), command
    assert "pre-commit" in verdict.stdout or ".git" in verdict.stdout


@pytest.mark.parametrize(
    "command",
    ["git commit -m 'n is fine'", "git commit --amend -m x", "git config user.name agent", "squad hooks install --git"],
)
def test_ordinary_git_and_squad_commands_pass(team: SquadPaths, command: str) -> None:
    assert not refused(bash(team, command)), command


def test_a_nul_byte_in_a_command_is_refused_in_one_line_not_as_an_internal_error(team: SquadPaths) -> None:
    """Found by the fuzz: ``> a\\0`` raised inside path resolution (refused, but as an internal error)."""
    verdict = bash(team, "> a\0")
    assert refused(verdict)
    assert not any("internal error" in (e.detail or "") for e in verdict.events)
    assert "NUL byte" in verdict.stdout
