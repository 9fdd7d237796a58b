"""squad guard: hook JSON in, decision out; Bash write targets; agent from the worktree branch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from squad.enforce.bash import write_targets
from squad.enforce.bash_commands import Unjudgeable
from squad.enforce.guard import (
    Skip,
    agent_from_checkout,
    claude_hook,
    parse_hook_input,
    relative_target,
)
from squad.leases import locks
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.times import now as utcnow
from tests.conftest import git, run_squad

MATRIX = """\
frontend/:   {owner: agent-1-frontend, access: EXCLUSIVE}
backend/:    {owner: agent-2-backend,  access: EXCLUSIVE}
shared/:     {owner: null,             access: SEQUENTIAL}
migrations/: {owner: null,             access: SEQUENTIAL, resource: "@db-migrations"}
docs/adr/:   {owner: null,             access: READONLY}
"""


@pytest.fixture
def team(squad: SquadPaths) -> SquadPaths:
    """A squad with an ownership matrix and the folders it names."""
    root = squad.root
    squad.ownership.write_text(MATRIX)
    for folder in ("frontend", "backend", "shared/types", "migrations", "docs/adr"):
        (root / folder).mkdir(parents=True)
    (root / "frontend" / "App.tsx").write_text("app\n")
    (root / "backend" / "api.py").write_text("api\n")
    (root / "shared" / "types" / "metrics.ts").write_text("types\n")
    return squad


def hook_json(tool: str, cwd: Path, **tool_input: str) -> str:
    """A PreToolUse hook input of the documented shape."""
    return json.dumps(
        {
            "session_id": "abc123",
            "transcript_path": "/tmp/transcript.jsonl",
            "cwd": str(cwd),
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": tool_input,
            "tool_use_id": "toolu_01",
        }
    )


def guard(paths: SquadPaths, text: str, agent: str | None = "agent-2-backend", cwd: Path | None = None):
    environ = {"AGENT_ID": agent} if agent else {}
    verdict = claude_hook(text, environ=environ, cwd=cwd or paths.root, now=utcnow())
    from squad.enforce.guard import record

    record(verdict)
    return verdict


def events_of(paths: SquadPaths, kind: str) -> list[ev.Event]:
    return [e for e in ev.read_events(paths.events) if e.kind == kind]


# -- Bash targets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("echo hi > a.txt 2>&1", ["a.txt"]),
        ("echo x >> b && cat c | tee -a d e; sed -i.bak s/a/b/ f", ["b", "d", "e", "f"]),
        ("cmd &>g 2>/dev/null >|h", ["g", "/dev/null", "h"]),
        ('echo "a > b" > "my file"', ["my file"]),
        ("echo '>' x", []),
        ("cat <<EOF > out\nhello > not-a-target\nEOF\nrm q", ["out", "q"]),
        ("cd frontend && touch App.tsx", ["frontend/App.tsx"]),
        ("sed -i '' -e s/x/y/ g1 g2", ["g1", "g2"]),
        ("sed -n p f > /dev/null", ["/dev/null"]),
        ("sed -Ei 's/a/b/' f", ["f"]),
        ("sed --in-place=.orig -e 's/a/b/' f", ["f"]),
        ("mv a b dest/", ["a", "b", "dest/a", "dest/b"]),
        ("cp -r src dst", ["dst"]),
        ("cp -t into x y", ["into/x", "into/y"]),
        ("rm -rf build x 2>/dev/null", ["/dev/null", "build", "x"]),
        ("touch -d yesterday stamp", ["stamp"]),
        ("mkdir -p a/b c", ["a/b", "c"]),
        ("bash -c 'echo 1 > inner'", ["inner"]),
        ("x=$(echo 1 > sub) && echo $x", ["sub"]),
        ("git mv old new && git rm gone", ["old", "new", "gone"]),
        ("sudo -u me tee etc.conf", ["etc.conf"]),
        ("FOO=1 env BAR=2 nohup touch n", ["n"]),
        ("python script.py > out.log", ["out.log"]),
        ("dd if=/dev/zero of=disk bs=1", ["disk"]),
        ("perl -pi -e 's/a/b/' pf", ["pf"]),
        ("echo a\\ b > c\\ d", ["c d"]),
        ("ls -la; cat x | grep y", []),
        ("(cd sub && echo x > y)", ["sub/y"]),
        ("if [ -f x ]; then rm old; fi", ["old"]),
        ("for f in a b; do cat $f; done; while true; do echo > w; done", ["w"]),
        ("echo $HOME; cat $F > listing", ["listing"]),
        ("find build -name '*.tmp' -delete", ["build/"]),
        ("find . -type f -exec rm {} +", [""]),
        ("find src -name x", []),
    ],
)
def test_bash_write_targets(command: str, expected: list[str], tmp_path: Path) -> None:
    got = [t.path for t in write_targets(command, tmp_path)]
    want = [e if e.startswith("/") else str(tmp_path / e) + ("/" if e.endswith("/") or not e else "") for e in expected]
    assert got == want


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *"ab /.-'\"\\$`()<>|&;\n{}#*?[]=2~",
                "sed -i ",
                "mv ",
                "<<EOF\n",
                "EOF",
                "$(",
                "patch -p1 ",
                "git apply ",
                "--- a/x\n+++ b/x\n",
                "rsync ",
                "curl -o",
                "git stash ",
                "git checkout -- ",
                "ln -sfn ",
            ]
        )
    )
)
def test_bash_never_raises_but_to_refuse(parts: list[str]) -> None:
    """Whatever the line, the reader names targets or refuses it as unjudgeable: no other error."""
    try:
        write_targets("".join(parts), Path("/r"))
    except Unjudgeable:
        pass


def test_bash_targets_into_an_existing_folder_and_globs(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "x.ts").write_text("")
    (tmp_path / "y.ts").write_text("")
    assert [t.path for t in write_targets("cp x.ts dir", tmp_path)] == [str(tmp_path / "dir" / "x.ts")]
    assert [t.path for t in write_targets("rm *.ts", tmp_path)] == [str(tmp_path / "x.ts"), str(tmp_path / "y.ts")]
    assert [t.via for t in write_targets("rm *.ts", tmp_path)] == ["rm", "rm"]


# -- hook input ------------------------------------------------------------------------------------


def test_parse_hook_input_for_each_tool(tmp_path: Path) -> None:
    f = str(tmp_path / "a.py")
    for tool in ("Write", "Edit", "MultiEdit"):
        call = parse_hook_input(hook_json(tool, tmp_path, file_path=f, content="x"), Path("/"))
        assert (call.tool, call.cwd, [t.path for t in call.targets]) == (tool, tmp_path, [f])
    call = parse_hook_input(hook_json("NotebookEdit", tmp_path, notebook_path=f, new_source="x"), Path("/"))
    assert [t.path for t in call.targets] == [f]
    call = parse_hook_input(hook_json("NotebookEdit", tmp_path, file_path=f), Path("/"))
    assert [t.path for t in call.targets] == [f]
    call = parse_hook_input(hook_json("Bash", tmp_path, command="echo x > out"), Path("/"))
    assert [t.path for t in call.targets] == [str(tmp_path / "out")]
    no_cwd = json.dumps({"tool_name": "Write", "tool_input": {"file_path": "rel.py"}})
    assert parse_hook_input(no_cwd, tmp_path).cwd == tmp_path


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '{"tool_input": {}}',
        '{"tool_name": "Write"}',
        '{"tool_name": "Write", "tool_input": {}}',
        '{"tool_name": "Bash", "tool_input": {"command": 3}}',
        '{"tool_name": "Frobnicate", "tool_input": [1]}',
    ],
)
def test_unparsable_input_cannot_be_judged(text: str) -> None:
    """Fail closed: input that cannot be read cannot be shown to write nothing."""
    with pytest.raises(Unjudgeable):
        parse_hook_input(text, Path("/"))


def test_a_tool_that_names_no_path_is_skipped() -> None:
    with pytest.raises(Skip):
        parse_hook_input('{"tool_name": "Frobnicate", "tool_input": {"x": 1}}', Path("/"))


def test_relative_target(team: SquadPaths, tmp_path: Path) -> None:
    root = team.root
    assert relative_target(team, str(root / "frontend" / "App.tsx"), root) == "frontend/App.tsx"
    assert relative_target(team, "App.tsx", root / "frontend") == "frontend/App.tsx"
    assert relative_target(team, str(root / "backend"), root) == "backend/"
    assert relative_target(team, "../outside.txt", root) is None
    assert relative_target(team, str(tmp_path / "elsewhere.txt"), root) is None
    assert relative_target(team, str(root / ".squad" / "comms" / "agent-2-comm.md"), root) is None
    assert relative_target(team, str(root / ".git" / "config"), root) is None
    assert relative_target(team, "/dev/null", root) is None
    (root / "escape").symlink_to(tmp_path)
    assert relative_target(team, str(root / "escape" / "x"), root) is None


# -- decisions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["Write", "Edit", "MultiEdit", "NotebookEdit"])
def test_owner_allowed_other_agent_denied(team: SquadPaths, tool: str) -> None:
    key = "notebook_path" if tool == "NotebookEdit" else "file_path"
    target = str(team.root / "backend" / "api.py")
    allowed = guard(team, hook_json(tool, team.root, **{key: target}), agent="agent-2-backend")
    assert (allowed.exit_code, allowed.stdout, allowed.stderr) == (0, "", "")

    denied = guard(team, hook_json(tool, team.root, **{key: target}), agent="agent-1")
    assert denied.exit_code == 2
    out = json.loads(denied.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    assert out["permissionDecision"] == "deny"
    assert "agent-2-backend" in out["permissionDecisionReason"]
    assert "backend/api.py" in denied.stderr and "agent-2-backend" in denied.stderr
    [event] = events_of(team, ev.VIOLATION_ATTEMPT)
    # The full id when the roster knows it (from the matrix's owners), else the name as given.
    assert event.agent in ("agent-1", "agent-1-frontend") and event.path == "backend/api.py"
    assert event.data["rule"] == "exclusive" and event.data["tool"] == tool


def test_sequential_needs_the_lease(team: SquadPaths) -> None:
    target = str(team.root / "shared" / "types" / "metrics.ts")
    text = hook_json("Edit", team.root, file_path=target, old_string="a", new_string="b")
    denied = guard(team, text, agent="agent-2-backend")
    assert denied.exit_code == 2
    assert (
        "squad lock shared/types/metrics.ts"
        in json.loads(denied.stdout)["hookSpecificOutput"]["permissionDecisionReason"]
    )
    assert events_of(team, ev.VIOLATION_ATTEMPT)[0].data["rule"] == "sequential"

    locks.acquire(team, "agent-2-backend", "shared/types/metrics.ts")
    assert guard(team, text, agent="agent-2-backend").exit_code == 0
    # Someone else's lease: refused, and the holder is named.
    held = guard(team, text, agent="agent-1-frontend")
    assert held.exit_code == 2
    assert "agent-2-backend" in held.stderr


def test_a_lease_on_the_folder_covers_the_file(team: SquadPaths) -> None:
    locks.acquire(team, "agent-1-frontend", "shared/")
    text = hook_json("Write", team.root, file_path=str(team.root / "shared" / "types" / "new.ts"), content="x")
    assert guard(team, text, agent="agent-1-frontend").exit_code == 0


def test_resource_lease_needed(team: SquadPaths) -> None:
    text = hook_json("Write", team.root, file_path=str(team.root / "migrations" / "001.sql"), content="x")
    locks.acquire(team, "agent-2", "migrations/001.sql")
    denied = guard(team, text, agent="agent-2")
    assert denied.exit_code == 2 and "@db-migrations" in denied.stderr
    locks.acquire(team, "agent-2", "@db-migrations")
    assert guard(team, text, agent="agent-2").exit_code == 0


def test_readonly_denied_for_everyone(team: SquadPaths) -> None:
    text = hook_json("Write", team.root, file_path=str(team.root / "docs" / "adr" / "0001.md"), content="x")
    for agent in ("agent-1-frontend", "agent-2-backend"):
        verdict = guard(team, text, agent=agent)
        assert verdict.exit_code == 2 and "READONLY" in verdict.stderr
    assert {e.data["rule"] for e in events_of(team, ev.VIOLATION_ATTEMPT)} == {"readonly"}


@pytest.mark.parametrize(
    "command",
    [
        "echo 'export const x = 1' > frontend/hack.ts",
        "echo more >> frontend/App.tsx",
        "sed -i 's/app/hacked/' frontend/App.tsx",
        "cd frontend && sed -i.bak -e 's/a/b/' App.tsx",
        "npm test && cat x | tee frontend/log.txt",
        "mv backend/api.py frontend/",
        "cp backend/api.py frontend/api.py",
        "rm -f frontend/App.tsx",
        "touch frontend/new.ts",
    ],
)
def test_bash_writes_into_another_agents_folder_denied(team: SquadPaths, command: str) -> None:
    verdict = guard(team, hook_json("Bash", team.root, command=command), agent="agent-2-backend")
    assert verdict.exit_code == 2, verdict
    assert "agent-1-frontend" in verdict.stderr
    reason = json.loads(verdict.stdout)["hookSpecificOutput"]["permissionDecisionReason"]
    assert "frontend/" in reason
    assert events_of(team, ev.VIOLATION_ATTEMPT)[0].data["tool"] == "Bash"


@pytest.mark.parametrize(
    "command",
    [
        "echo x > backend/new.py",
        "sed -i 's/a/b/' backend/api.py",
        "ls frontend && cat frontend/App.tsx",
        "pytest -q > /dev/null 2>&1",
        "echo x > /tmp/squad-guard-scratch.txt",
        "cat >> .squad/comms/agent-2-comm.md <<'EOF'\n## Status Update\nStatus: ACTIVE\nEOF",
        "git status && git diff",
    ],
)
def test_bash_allowed(team: SquadPaths, command: str) -> None:
    verdict = guard(team, hook_json("Bash", team.root, command=command), agent="agent-2-backend")
    assert (verdict.exit_code, verdict.stdout, verdict.stderr) == (0, "", "")
    assert events_of(team, ev.VIOLATION_ATTEMPT) == []


@pytest.mark.parametrize("command", ["rm -rf .", "rm -rf *", "find . -delete", "cd .. && rm -rf repo"])
def test_wiping_the_repository_is_denied(team: SquadPaths, command: str) -> None:
    verdict = guard(team, hook_json("Bash", team.root, command=command), agent="agent-2-backend")
    assert verdict.exit_code == 2 and "frontend/" in verdict.stderr


def test_harmless_on_the_root(team: SquadPaths) -> None:
    verdict = guard(team, hook_json("Bash", team.root, command="mkdir -p . && touch ."), agent="agent-2-backend")
    assert verdict.exit_code == 0


def test_outside_the_repository_and_squad_files_allowed(team: SquadPaths, tmp_path: Path) -> None:
    outside = tmp_path / "notes.txt"
    assert guard(team, hook_json("Write", team.root, file_path=str(outside))).exit_code == 0
    comm = team.comm(2)
    assert guard(team, hook_json("Edit", team.root, file_path=str(comm))).exit_code == 0


def test_repository_reached_through_a_symlink(team: SquadPaths, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(team.root)
    verdict = guard(team, hook_json("Write", link, file_path=str(link / "frontend" / "App.tsx")), cwd=link)
    assert verdict.exit_code == 2
    assert relative_target(team, str(link / "backend" / "api.py"), team.root) == "backend/api.py"


def test_not_under_squad_allowed(team: SquadPaths, tmp_path: Path) -> None:
    target = str(team.root / "frontend" / "App.tsx")
    assert guard(team, hook_json("Write", team.root, file_path=target), agent=None).exit_code == 0
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    verdict = guard(team, hook_json("Write", elsewhere, file_path=str(elsewhere / "x")), cwd=elsewhere)
    assert verdict == verdict.__class__()


def test_bad_input_refused_unknown_tool_without_paths_allowed_and_logged(team: SquadPaths) -> None:
    refused = guard(team, "{not json")
    assert refused.exit_code == 2 and "SQUAD_GUARD=off" in refused.stderr and refused.stderr.count("\n") == 1
    assert guard(team, hook_json("Frobnicate", team.root, x="1")).exit_code == 0
    assert guard(team, hook_json("Read", team.root, file_path=str(team.root / "frontend" / "App.tsx"))).exit_code == 0
    # An unknown tool that names a path is judged as writing it.
    mcp = guard(team, hook_json("mcp__fs__write_file", team.root, path=str(team.root / "frontend" / "App.tsx")))
    assert mcp.exit_code == 2 and "agent-1-frontend" in mcp.stderr
    assert [e.data.get("tool") for e in events_of(team, ev.GUARD_SKIPPED)] == ["Frobnicate"]  # Read is quiet
    assert "unreadable hook input" in events_of(team, ev.GUARD_REFUSED)[0].detail


def test_broken_matrix_refuses_and_logs(team: SquadPaths) -> None:
    team.ownership.write_text("frontend/: [unclosed\n")
    verdict = guard(team, hook_json("Write", team.root, file_path=str(team.root / "frontend" / "App.tsx")))
    assert verdict.exit_code == 2 and "ownership.yaml" in verdict.stderr and "SQUAD_GUARD=off" in verdict.stderr
    assert "ownership.yaml" in events_of(team, ev.GUARD_REFUSED)[0].detail


# -- worktrees -------------------------------------------------------------------------------------


def test_agent_from_the_squad_worktree_branch(team: SquadPaths, tmp_path: Path) -> None:
    root = team.root
    git(root, "add", "frontend", "backend", "shared")
    git(root, "commit", "-q", "-m", "folders")
    worktree = tmp_path / "wt-backend"
    git(root, "worktree", "add", "-q", "-b", "squad/agent-2-backend", str(worktree))
    assert agent_from_checkout(worktree / "backend") == "agent-2-backend"
    assert agent_from_checkout(root) is None  # main branch: no agent

    # No AGENT_ID: the branch names the agent; absolute paths in the worktree map to the repository's.
    denied = guard(team, hook_json("Write", worktree, file_path=str(worktree / "frontend" / "App.tsx")), agent=None)
    assert denied.exit_code == 2 and "agent-1-frontend" in denied.stderr
    assert events_of(team, ev.VIOLATION_ATTEMPT)[0].agent == "agent-2-backend"
    own = guard(team, hook_json("Write", worktree, file_path=str(worktree / "backend" / "api.py")), agent=None)
    assert own.exit_code == 0
    bash = guard(team, hook_json("Bash", worktree / "backend", command="echo x > ../frontend/x.ts"), agent=None)
    assert bash.exit_code == 2


def test_worktree_nested_inside_the_repository(team: SquadPaths) -> None:
    root = team.root
    git(root, "add", "frontend", "backend")
    git(root, "commit", "-q", "-m", "folders")
    nested = root / ".worktrees" / "agent-2"
    git(root, "worktree", "add", "-q", "-b", "squad/agent-2-backend", str(nested))
    assert relative_target(team, str(nested / "frontend" / "App.tsx"), nested) == "frontend/App.tsx"
    denied = guard(team, hook_json("Edit", nested, file_path=str(nested / "frontend" / "App.tsx")), agent=None)
    assert denied.exit_code == 2


# -- as a real process ---------------------------------------------------------------------------


def test_guard_subprocess(team: SquadPaths) -> None:
    target = str(team.root / "frontend" / "App.tsx")
    denied = run_squad(
        "guard",
        cwd=team.root,
        env={"AGENT_ID": "agent-2-backend"},
        input=hook_json("Write", team.root, file_path=target),
    )
    assert denied.returncode == 2
    assert json.loads(denied.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "agent-1-frontend" in denied.stderr and "frontend/App.tsx" in denied.stderr
    assert "Traceback" not in denied.stderr

    allowed = run_squad(
        "guard",
        cwd=team.root,
        env={"AGENT_ID": "agent-1-frontend"},
        input=hook_json("Write", team.root, file_path=target),
    )
    assert (allowed.returncode, allowed.stdout, allowed.stderr) == (0, "", "")

    garbage = run_squad("guard", cwd=team.root, env={"AGENT_ID": "agent-2"}, input="\x00garbage")
    assert garbage.returncode == 2 and "SQUAD_GUARD=off" in garbage.stderr
    assert json.loads(garbage.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "Traceback" not in garbage.stderr
    flag = run_squad("guard", "--agent", "2", cwd=team.root, input=hook_json("Write", team.root, file_path=target))
    assert flag.returncode == 2


def test_guard_hot_path_imports(team: SquadPaths) -> None:
    target = str(team.root / "shared" / "types" / "metrics.ts")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "squad", "guard"],
        cwd=team.root,
        input=hook_json("Bash", team.root, command=f"echo x > {target}"),
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "AGENT_ID": "agent-2"},
        timeout=120,
    )
    assert result.returncode == 2
    modules = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert "squad" in modules
    assert not modules & {"rich", "markdown_it", "watchdog"}


# -- audit regressions -----------------------------------------------------------------------------

PATCH = """\
diff --git a/backend/api.py b/backend/api.py
index 1..2 100644
--- a/backend/api.py
+++ b/backend/api.py
@@ -1 +1 @@
--- a removed SQL comment, not a header
+++ an added line, not a header
diff --git a/frontend/new.ts b/frontend/new.ts
new file mode 100644
--- /dev/null
+++ b/frontend/new.ts
@@ -0,0 +1 @@
+x
diff --git a/shared/old.ts b/shared/renamed.ts
similarity index 100%
rename from shared/old.ts
rename to shared/renamed.ts
"""


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("git apply fix.patch", ["backend/api.py", "frontend/new.ts", "shared/old.ts", "shared/renamed.ts"]),
        ("git apply --check fix.patch", []),
        ("git apply --stat < fix.patch", []),
        ("patch -p1 < fix.patch", ["backend/api.py", "frontend/new.ts", "shared/old.ts", "shared/renamed.ts"]),
        ("patch -p1 -i fix.patch", ["backend/api.py", "frontend/new.ts", "shared/old.ts", "shared/renamed.ts"]),
        (
            "patch --strip=1 --input=fix.patch",
            ["backend/api.py", "frontend/new.ts", "shared/old.ts", "shared/renamed.ts"],
        ),
        ("patch notes.txt < fix.patch", ["notes.txt"]),
        ("patch -p1 -o out.py < fix.patch", ["out.py"]),
        ("git apply missing.patch && patch -p1 < $PATCH", []),
        (
            "git apply <<'EOF'\n--- a/x/y.py\n+++ b/x/y.py\n@@ -1 +1 @@\n-a\n+b\nEOF\necho > after",
            ["x/y.py", "after"],
        ),
        ("patch -p0 <<-EOF\n\t--- z.c\n\t+++ z.c\n\tEOF", ["z.c"]),
        ("rsync -a src/ dest/", ["dest/"]),
        ("rsync -av --exclude '*.pyc' src dest/", ["dest/src"]),
        ("rsync -e ssh a.txt b.txt host:/srv/ && rsync -a one.txt two.txt", ["two.txt"]),
        ("curl -sSLo dl.bin https://x && curl --output=o2 https://y && curl -o - https://z", ["dl.bin", "o2"]),
        ("wget -qO w.html https://x; wget -P downloads https://y; wget -O- https://z", ["w.html", "downloads/"]),
        ("chmod +x run.sh && chmod -R 755 bin && chown me:me own.txt", ["run.sh", "bin", "own.txt"]),
        ("git restore a.py && git restore --staged b.py && git restore --staged --worktree c.py", ["a.py", "c.py"]),
        ("git checkout -- d.py e.py && git checkout main && git checkout -b topic", ["d.py", "e.py"]),
        ("git stash list && git stash show && git stash push -- f.py", ["f.py"]),
        ("git stash", [""]),
        ("git reset --hard HEAD~1 && git reset HEAD~1", [""]),
        ("git clean -n && git clean -fdx build", ["build"]),
        ("git clean -fd", [""]),
        ("cat > out.py <<'EOF'\nimport os\nEOF", ["out.py"]),
        ("printf '%s\\n' a b > listing.txt", ["listing.txt"]),
        ("install -m 644 src.py lib/dst.py", ["lib/dst.py"]),
        ("ln -sf ../x link", ["link"]),
        ("git -C sub checkout -- a.py && git -c core.pager=cat restore b.py", ["sub/a.py", "b.py"]),
        ("git --no-pager -C sub stash", [""]),
        (
            "touch {a,b}.txt && mv f{,.bak} && mkdir -p src/{api,web{1,2}}/t",
            ["a.txt", "b.txt", "f", "f.bak", "src/api/t", "src/web1/t", "src/web2/t"],
        ),
    ],
)
def test_bash_targets_of_more_commands(command: str, expected: list[str], tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the checkout top: git stash / reset --hard / clean name it whole
    (tmp_path / "fix.patch").write_text(PATCH)
    got = [t.path for t in write_targets(command, tmp_path)]
    want = [str(tmp_path / e) + ("/" if e.endswith("/") or not e else "") for e in expected]
    assert got == want


def test_git_apply_in_a_subfolder_names_only_paths_under_it(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "fix.patch").write_text(PATCH)
    (tmp_path / "shared").mkdir()
    got = [t.path for t in write_targets("git apply ../fix.patch", tmp_path / "shared")]
    assert got == [str(tmp_path / "shared" / "old.ts"), str(tmp_path / "shared" / "renamed.ts")]


def test_patch_without_p_uses_the_base_name_unless_the_folder_exists(tmp_path: Path) -> None:
    body = "--- a/deep/x.c\n+++ b/deep/x.c\n@@ -1 +1 @@\n-a\n+b\n"
    command = f"patch <<EOF\n{body}EOF"
    assert [t.path for t in write_targets(command, tmp_path)] == [str(tmp_path / "x.c")]
    (tmp_path / "b" / "deep").mkdir(parents=True)
    # Both headers are candidates (patch picks one): both are named.
    got = [t.path for t in write_targets(command, tmp_path)]
    assert got == [str(tmp_path / "x.c"), str(tmp_path / "b" / "deep" / "x.c")]


@pytest.mark.parametrize(
    "command",
    [
        "git apply fix.patch",
        "patch -p1 < fix.patch",
        "git apply <<'EOF'\n--- a/frontend/App.tsx\n+++ b/frontend/App.tsx\n@@ -1 +1 @@\n-app\n+x\nEOF",
        "rsync -a /tmp/build/ frontend/",
        "curl -sSo frontend/logo.svg https://example.com/logo.svg",
        "git restore frontend/App.tsx",
        "git checkout -- frontend/App.tsx",
        "cd frontend && git checkout .",
        "git stash",
        "chmod +x frontend/App.tsx",
    ],
)
def test_bash_patch_sync_and_git_into_another_agents_folder_denied(team: SquadPaths, command: str) -> None:
    (team.root / "fix.patch").write_text("--- a/frontend/App.tsx\n+++ b/frontend/App.tsx\n@@ -1 +1 @@\n-app\n+x\n")
    verdict = guard(team, hook_json("Bash", team.root, command=command), agent="agent-2-backend")
    assert verdict.exit_code == 2, command
    assert "frontend/" in verdict.stderr and "agent-1-frontend" in verdict.stderr


def test_write_through_a_symlink_inside_the_repository(team: SquadPaths) -> None:
    """backend/link -> ../frontend: writing backend/link/App.tsx writes agent 1's file."""
    (team.root / "backend" / "link").symlink_to("../frontend")
    (team.root / "backend" / "alias.tsx").symlink_to("../frontend/App.tsx")
    for tool, target in (("Write", "backend/link/App.tsx"), ("Edit", "backend/alias.tsx")):
        verdict = guard(team, hook_json(tool, team.root, file_path=str(team.root / target)))
        assert verdict.exit_code == 2 and "frontend/App.tsx is EXCLUSIVE to agent-1-frontend" in verdict.stderr
    bash = guard(team, hook_json("Bash", team.root, command="echo x >> backend/link/App.tsx"))
    assert bash.exit_code == 2
    # Removing or replacing the link itself changes only backend/.
    assert guard(team, hook_json("Bash", team.root, command="rm backend/alias.tsx")).exit_code == 0
    assert guard(team, hook_json("Bash", team.root, command="ln -sfn ../shared backend/link")).exit_code == 0


def test_squad_configuration_and_other_agents_files_denied(team: SquadPaths) -> None:
    root = team.root
    (team.plans).mkdir(parents=True, exist_ok=True)
    denied = [
        ("Write", str(team.ownership)),
        ("Edit", str(team.config)),
        ("Edit", str(team.comm(1))),
        ("Write", str(team.plan(1))),
    ]
    for tool, target in denied:
        verdict = guard(team, hook_json(tool, root, file_path=target), agent="agent-2-backend")
        assert verdict.exit_code == 2, target
        assert json.loads(verdict.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
    for command in ("rm -rf .squad", "sed -i s/EXCLUSIVE/SEQUENTIAL/ .squad/ownership.yaml", "rm -r .squad/comms"):
        assert guard(team, hook_json("Bash", root, command=command), agent="agent-2-backend").exit_code == 2, command
    assert "agent-1's comm file" in guard(team, hook_json("Edit", root, file_path=str(team.comm(1)))).stderr
    allowed = [str(team.comm(2)), str(team.plan(2))]
    for target in allowed:
        assert guard(team, hook_json("Write", root, file_path=target), agent="agent-2-backend").exit_code == 0, target
    # The rest of .squad/ is squad's: leases go through `squad lock`, the log records refusals.
    for target in (str(team.lease_file("shared/x.ts")), str(team.events), str(team.coordinator_comm)):
        assert guard(team, hook_json("Write", root, file_path=target), agent="agent-2-backend").exit_code == 2, target
    attempts = events_of(team, ev.VIOLATION_ATTEMPT)
    assert {e.path for e in attempts} >= {".squad/ownership.yaml", ".squad/config.yaml", ".squad/"}
    assert {e.data["rule"] for e in attempts} == {"squad"}


def test_multiedit_and_notebookedit_of_the_documented_shape(team: SquadPaths) -> None:
    multi = {
        "tool_name": "MultiEdit",
        "cwd": str(team.root),
        "hook_event_name": "PreToolUse",
        "tool_input": {
            "file_path": str(team.root / "frontend" / "App.tsx"),
            "edits": [{"old_string": "app", "new_string": "x", "replace_all": False}],
        },
    }
    assert guard(team, json.dumps(multi)).exit_code == 2
    notebook = {
        "tool_name": "NotebookEdit",
        "cwd": str(team.root),
        "tool_input": {"notebook_path": str(team.root / "frontend" / "n.ipynb"), "new_source": "1", "cell_id": "c"},
    }
    assert guard(team, json.dumps(notebook)).exit_code == 2
    assert guard(team, json.dumps(notebook), agent="agent-1-frontend").exit_code == 0


def test_subprocess_from_a_subfolder_with_spaces_and_unicode(team: SquadPaths) -> None:
    """The hook runs with Claude's cwd deep inside the repository; names have spaces and accents."""
    root = team.root
    team.ownership.write_text(MATRIX + '"ünï côde/": {owner: agent-1-frontend, access: EXCLUSIVE}\n')
    folder = root / "ünï côde" / "sub dir"
    folder.mkdir(parents=True)
    for command, code in (
        ("echo x > 'naïve file.py'", 2),
        ("echo x > ../../backend/naïve.py", 0),
        ("cd ../.. && touch 'ünï côde/é.txt'", 2),
    ):
        payload = hook_json("Bash", folder, command=command)
        result = run_squad("guard", cwd=folder, input=payload, env={"AGENT_ID": "agent-2-backend"})
        assert result.returncode == code, (command, result.stderr)
    write = hook_json("Write", folder, file_path=str(folder / "naïve file.py"))
    result = run_squad("guard", cwd=folder, input=write, env={"AGENT_ID": "agent-2-backend"})
    assert result.returncode == 2 and "ünï côde/sub dir/naïve file.py" in result.stderr
    assert json.loads(result.stdout)["hookSpecificOutput"]["hookEventName"] == "PreToolUse"


@pytest.mark.parametrize(
    "command", ["git stash", "git reset --hard", "git clean -fd", "git checkout .", "git restore frontend/App.tsx"]
)
def test_discarding_work_refused_in_the_shared_checkout_allowed_in_an_own_worktree(
    team: SquadPaths, tmp_path: Path, command: str
) -> None:
    """In the shared checkout these throw away other agents' uncommitted work; in a worktree only one's own."""
    root = team.root
    git(root, "add", "frontend", "backend", "shared")
    git(root, "commit", "-q", "-m", "folders")
    worktree = tmp_path / "wt-backend"
    git(root, "worktree", "add", "-q", "-b", "squad/agent-2-backend", str(worktree))
    shared = guard(team, hook_json("Bash", root, command=command), agent="agent-2-backend")
    assert shared.exit_code == 2 and "frontend/" in shared.stderr
    own = guard(team, hook_json("Bash", worktree, command=command), agent=None)
    assert own.exit_code == 0, own.stderr
    # Other writes in the worktree are still judged.
    assert guard(team, hook_json("Bash", worktree, command="rm -rf frontend"), agent=None).exit_code == 2


def test_writes_into_another_agents_worktree_refused(team: SquadPaths, tmp_path: Path) -> None:
    """Launched agents work in sibling worktrees outside the repository: each is its agent's alone."""
    root = team.root
    git(root, "add", "frontend", "backend", "shared")
    git(root, "commit", "-q", "-m", "folders")
    mine, theirs, plain = (
        tmp_path / "wt" / "agent-2-backend",
        tmp_path / "wt" / "agent-1-frontend",
        tmp_path / "wt" / "x",
    )
    git(root, "worktree", "add", "-q", "-b", "squad/agent-2-backend", str(mine))
    git(root, "worktree", "add", "-q", "-b", "squad/agent-1-frontend", str(theirs))
    git(root, "worktree", "add", "-q", "-b", "experiment", str(plain))
    into = guard(team, hook_json("Write", mine, file_path=str(theirs / "backend" / "api.py")), agent=None)
    assert into.exit_code == 2 and "agent-1-frontend's worktree" in into.stderr
    bash = guard(team, hook_json("Bash", mine, command=f"cp backend/api.py {theirs}/backend/"), agent=None)
    assert bash.exit_code == 2
    assert events_of(team, ev.VIOLATION_ATTEMPT)[-1].data["rule"] == "worktree"
    # Its own worktree, the worktree's owner, and a worktree on no squad branch: judged as before.
    assert guard(team, hook_json("Write", mine, file_path=str(mine / "backend" / "x.py")), agent=None).exit_code == 0
    owner = guard(team, hook_json("Write", theirs, file_path=str(theirs / "frontend" / "x.ts")), agent=None)
    assert owner.exit_code == 0
    assert guard(team, hook_json("Write", mine, file_path=str(plain / "README")), agent=None).exit_code == 0


def test_git_mode_outside_a_git_repository_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".squad").mkdir()
    result = run_squad("guard", "--git", cwd=tmp_path, env={"AGENT_ID": "agent-1"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "is not in a git repository" in result.stderr


def test_a_malformed_agent_id_refuses_writes_instead_of_switching_enforcement_off(team: SquadPaths) -> None:
    call = hook_json("Write", team.root, file_path=str(team.root / "frontend" / "App.tsx"))
    result = run_squad("guard", cwd=team.root, env={"AGENT_ID": "garbage"}, input=call)
    assert result.returncode == 2
    assert "AGENT_ID 'garbage' is not an agent id" in result.stderr and "export AGENT_ID=" in result.stderr
    reading = hook_json("Read", team.root, file_path=str(team.root / "frontend" / "App.tsx"))
    assert run_squad("guard", cwd=team.root, env={"AGENT_ID": "garbage"}, input=reading).returncode == 0


# -- Codex CLI and Gemini CLI payloads -------------------------------------------------------------


def _payload(tool: str, cwd: Path, tool_input: dict[str, object], event: str = "PreToolUse") -> str:
    return json.dumps({"cwd": str(cwd), "hook_event_name": event, "tool_name": tool, "tool_input": tool_input})


def test_codex_apply_patch_names_every_file(team: SquadPaths) -> None:
    root = team.root
    patch = (
        "*** Begin Patch\n*** Add File: backend/new.py\n+x\n*** Update File: backend/api.py\n@@\n-api\n+API\n"
        "*** Update File: backend/old.py\n*** Move to: frontend/moved.py\n*** Delete File: backend/gone.py\n"
        "*** End Patch\n"
    )
    call = parse_hook_input(_payload("apply_patch", root, {"command": patch}), root)
    assert [t.path for t in call.targets] == [
        "backend/new.py",
        "backend/api.py",
        "backend/old.py",
        "frontend/moved.py",
        "backend/gone.py",
    ]
    verdict = claude_hook(
        _payload("apply_patch", root, {"command": patch}),
        environ={"AGENT_ID": "agent-2-backend"},
        cwd=root,
        now=utcnow(),
    )
    assert verdict.exit_code == 2 and "frontend/moved.py" in verdict.stderr
    ok = "*** Begin Patch\n*** Add File: backend/fine.py\n+x\n*** End Patch\n"
    allowed = claude_hook(
        _payload("apply_patch", root, {"command": ok}), environ={"AGENT_ID": "agent-2-backend"}, cwd=root, now=utcnow()
    )
    assert allowed.exit_code == 0


def test_codex_apply_patch_without_files_is_refused(team: SquadPaths) -> None:
    root = team.root
    verdict = claude_hook(
        _payload("apply_patch", root, {"command": "nothing here"}),
        environ={"AGENT_ID": "agent-2-backend"},
        cwd=root,
        now=utcnow(),
    )
    assert verdict.exit_code == 2 and "names no file" in verdict.stderr


@pytest.mark.parametrize(
    ("tool", "tool_input"),
    [
        ("write_file", {"file_path": "frontend/App.tsx", "content": "x"}),
        ("replace", {"file_path": "frontend/App.tsx", "old_string": "app", "new_string": "x"}),
        ("run_shell_command", {"command": "echo x > frontend/App.tsx"}),
        ("run_shell_command", {"command": "echo x > App.tsx", "dir_path": "frontend"}),
        ("Bash", {"command": "sed -i s/a/b/ frontend/App.tsx"}),  # Codex's shell tools arrive as Bash
        ("exec_command", {"cmd": "touch frontend/new.tsx"}),
        ("shell", {"command": ["bash", "-lc", "touch frontend/new.tsx"]}),
    ],
)
def test_gemini_and_codex_writes_are_judged(team: SquadPaths, tool: str, tool_input: dict[str, object]) -> None:
    root = team.root
    text = _payload(tool, root, tool_input, event="BeforeTool")
    verdict = claude_hook(text, environ={"AGENT_ID": "agent-2-backend"}, cwd=root, now=utcnow())
    assert verdict.exit_code == 2, verdict.stderr
    assert "frontend/" in verdict.stderr
    mine = claude_hook(text, environ={"AGENT_ID": "agent-1-frontend"}, cwd=root, now=utcnow())
    assert mine.exit_code == 0, mine.stderr


@pytest.mark.parametrize("tool", ["read_file", "list_directory", "glob", "update_plan"])
def test_gemini_and_codex_read_tools_pass(team: SquadPaths, tool: str) -> None:
    root = team.root
    verdict = claude_hook(
        _payload(tool, root, {"file_path": "backend/api.py"}),
        environ={"AGENT_ID": "agent-1-frontend"},
        cwd=root,
        now=utcnow(),
    )
    assert verdict.exit_code == 0 and not verdict.events
