"""``squad review``, ``squad merge`` and ``squad clean``: what each agent branch holds, and getting
it into the current branch without losing anything."""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from squad.config import Access, load_config
from squad.errors import Refused, SquadError
from squad.launch import state as st
from squad.launch.config import LaunchSettings
from squad.launch.worktree import (
    BRANCH_PREFIX,
    branch_of,
    changed_paths,
    commit_work,
    commits_ahead,
    current_branch,
    delete_merged_branch,
    diffstat,
    folder_size,
    git,
    is_dirty,
    is_merged,
    list_worktrees,
    merge_branch,
    remove_worktree,
    require_repo,
    run_git,
    untracked_only,
)
from squad.paths import SquadPaths
from squad.protocol.ids import parse_agent_id, same_agent
from squad.protocol.times import now as utcnow

TEST_OUTPUT_LINES = 20


@dataclass(frozen=True)
class Violation:
    path: str
    access: str
    owner: str | None

    def describe(self) -> str:
        if self.access == Access.READONLY:
            return f"{self.path}: READONLY"
        return f"{self.path}: EXCLUSIVE to {self.owner}"


@dataclass(frozen=True)
class TestRun:
    command: str
    exit_code: int
    tail: str

    @property
    def passed(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class BranchReview:
    agent: str
    branch: str
    state: str
    worktree: Path | None
    dirty: bool
    merged: bool
    commits: tuple[str, ...]
    diffstat: str
    changed: tuple[str, ...]
    violations: tuple[Violation, ...] = ()
    test: TestRun | None = None
    problems: tuple[str, ...] = field(default=())
    conflicts: tuple[str, ...] = ()  # files a merge would conflict in (also one of ``problems``)

    @property
    def passes(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, object]:
        return {
            "agent": self.agent,
            "branch": self.branch,
            "state": self.state,
            "worktree": str(self.worktree) if self.worktree else None,
            "dirty": self.dirty,
            "merged": self.merged,
            "commits": list(self.commits),
            "diffstat": self.diffstat,
            "changed": list(self.changed),
            "violations": [{"path": v.path, "access": v.access, "owner": v.owner} for v in self.violations],
            "test": None if self.test is None else {"command": self.test.command, "exit_code": self.test.exit_code},
            "conflicts": list(self.conflicts),
            "passes": self.passes,
            "problems": list(self.problems),
        }


def agent_branches(paths: SquadPaths, remote: str | None = None) -> list[str]:
    """Every agent, by id, that has a ``squad/<agent>`` branch (here, or fetched from ``remote``),
    ordered by number."""
    return sorted(agent_refs(paths, remote), key=_order)


def agent_refs(paths: SquadPaths, remote: str | None = None) -> dict[str, str]:
    """agent -> the branch to review: ``squad/<agent>`` here, else ``<remote>/squad/<agent>`` (an
    agent on another host pushed it)."""
    refs: dict[str, str] = {}
    if remote:
        prefix = f"{remote}/{BRANCH_PREFIX}"
        out = git(paths.root, "for-each-ref", "--format=%(refname:short)", f"refs/remotes/{prefix}")
        refs.update((line.removeprefix(prefix), line) for line in out.splitlines() if line.startswith(prefix))
    out = git(paths.root, "for-each-ref", "--format=%(refname:short)", f"refs/heads/{BRANCH_PREFIX}")
    refs.update((line.removeprefix(BRANCH_PREFIX), line) for line in out.splitlines() if line.startswith(BRANCH_PREFIX))
    return refs


def fetch_agent_branches(paths: SquadPaths, remote: str | None) -> None:
    """Bring the agents' branches other hosts pushed to ``remote`` (``launch.remote``) up to date."""
    if not remote:
        return
    spec = f"+refs/heads/{BRANCH_PREFIX}*:refs/remotes/{remote}/{BRANCH_PREFIX}*"
    result = run_git(paths.root, "fetch", "--quiet", "--prune", remote, spec, check=False)
    if result.returncode != 0:
        from squad import git as git_module

        raise SquadError(f"cannot fetch the agent branches from {remote}: {git_module.reason(result)}")


def _order(agent: str) -> tuple[int, str]:
    parsed = parse_agent_id(agent)
    return (parsed.number if parsed else 0, agent)


def resolve_branch_agent(paths: SquadPaths, name: str, remote: str | None = None) -> str:
    parsed = parse_agent_id(name)
    if parsed is None:
        raise SquadError(f"bad agent id {name!r}: use agent-<n>-<role>, agent-<n> or <n>")
    for agent in agent_branches(paths, remote):
        if same_agent(agent, parsed) and (parsed.role is None or agent == str(parsed)):
            return agent
    raise SquadError(f"no branch {BRANCH_PREFIX}{name}: nothing was launched for it")


def ownership_violations(paths: SquadPaths, agent: str, changed: list[str]) -> list[Violation]:
    """Changed paths outside the agent's rights: EXCLUSIVE to another agent, or READONLY."""
    from squad.enforce.access import load_rules

    config = load_config(paths.config)
    matrix = load_rules(paths, config)
    out = []
    for path in changed:
        rule = matrix.rule(path)
        if rule.access == Access.READONLY or (rule.access == Access.EXCLUSIVE and not same_agent(rule.owner, agent)):
            out.append(Violation(path, rule.access, rule.owner))
    return out


def run_tests(command: str, worktree: Path, timeout_s: float = 1800) -> TestRun:
    try:
        result = subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=worktree,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=timeout_s,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        return TestRun(command, 124, f"timed out after {timeout_s:g}s")
    lines = (result.stdout + result.stderr).rstrip().splitlines()
    return TestRun(command, result.returncode, "\n".join(lines[-TEST_OUTPUT_LINES:]))


def predicted_conflicts(repo: Path, base: str, branch: str) -> list[str]:
    """Files a merge of ``branch`` into ``base`` would conflict in (``git merge-tree``, git >= 2.38;
    an older git predicts nothing and ``squad merge`` still refuses the conflict when it happens)."""
    result = run_git(repo, "merge-tree", "--write-tree", "--name-only", "--no-messages", base, branch, check=False)
    if result.returncode != 1:
        return []
    return sorted({line for line in result.stdout.splitlines()[1:] if line.strip()})


def review_agent(
    paths: SquadPaths,
    agent: str,
    *,
    test_cmd: str | None = None,
    setup: tuple[str, ...] = (),
    branch: str | None = None,
) -> BranchReview:
    """One branch's review (``branch``: ``squad/<agent>``, or a remote one another host pushed);
    ``setup`` names untracked set-up copies (``.env``) that do not make its worktree dirty."""
    branch = branch or branch_of(agent)
    base = current_branch(paths.root)
    worktrees = {w.branch: w.path for w in list_worktrees(paths.root)}
    worktree = worktrees.get(branch)
    launched = st.read_report(paths).get(agent)
    state = launched.state if launched else "unknown"
    dirty = bool(worktree and worktree.is_dir() and is_dirty(worktree, setup))
    commits = commits_ahead(paths.root, base, branch)
    changed = changed_paths(paths.root, base, branch)
    violations = ownership_violations(paths, agent, changed)
    test = run_tests(test_cmd, worktree) if test_cmd and worktree and worktree.is_dir() else None
    problems = []
    if not commits and state == st.MERGED:
        problems.append(f"already merged into {base}")
    elif not commits:
        problems.append(f"no commits ahead of {base}: nothing to merge")
    conflicts = predicted_conflicts(paths.root, base, branch) if commits else []
    if conflicts:
        problems.append(f"would conflict with {base} in {', '.join(conflicts)}")
    if state in (st.RUNNING, st.QUEUED, st.BACKOFF):
        problems.append(f"agent is {state}: run `squad stop` first")
    if dirty:
        problems.append("uncommitted changes in its worktree")
    problems.extend(f"ownership: {v.describe()}" for v in violations)
    if commits:
        from squad.enforce.fence import fence_problems

        problems.extend(fence_problems(paths, load_config(paths.config), agent, base, branch))
    if test is not None and not test.passed:
        problems.append(f"tests failed: `{test.command}` exited with {test.exit_code}")
    return BranchReview(
        agent=agent,
        branch=branch,
        state=state,
        worktree=worktree,
        dirty=dirty,
        merged=not commits and is_merged(paths.root, branch),
        commits=tuple(commits),
        diffstat=diffstat(paths.root, base, branch),
        changed=tuple(changed),
        violations=tuple(violations),
        test=test,
        problems=tuple(problems),
        conflicts=tuple(conflicts),
    )


def review(
    paths: SquadPaths, settings: LaunchSettings, agents: tuple[str, ...] = (), *, tests: bool = True
) -> list[BranchReview]:
    require_repo(paths.root)
    fetch_agent_branches(paths, settings.remote)
    refs = agent_refs(paths, settings.remote)
    names = [resolve_branch_agent(paths, a, settings.remote) for a in agents] if agents else sorted(refs, key=_order)
    setup = untracked_only(paths.root, settings.setup_copy)
    test_cmd = settings.test_cmd if tests else None
    return [review_agent(paths, a, test_cmd=test_cmd, setup=setup, branch=refs[a]) for a in names]


@dataclass(frozen=True)
class Merged:
    agent: str
    branch: str
    commit: str
    squash: bool
    worktree_removed: bool


def merge(paths: SquadPaths, settings: LaunchSettings, agent: str, *, squash: bool = False) -> Merged:
    """Merge the agent's branch into the current branch when its review passes; refuse otherwise."""
    require_repo(paths.root)
    fetch_agent_branches(paths, settings.remote)
    name = resolve_branch_agent(paths, agent, settings.remote)
    ref = agent_refs(paths, settings.remote)[name]
    launched = st.read_report(paths).get(name)
    if launched and launched.state in (st.RUNNING, st.QUEUED, st.BACKOFF):
        raise Refused(f"{name} is {launched.state}: run `squad stop` before merging its branch")
    setup = untracked_only(paths.root, settings.setup_copy)
    result = review_agent(paths, name, test_cmd=settings.test_cmd, setup=setup, branch=ref)
    if result.worktree is not None and result.dirty:
        done = commit_work(result.worktree, name, utcnow(), setup)  # never lose work
        if done is not None and done.unguarded is not None:
            st.record_unguarded(paths, name, done.sha, done.unguarded)
        result = review_agent(paths, name, test_cmd=settings.test_cmd, setup=setup, branch=ref)
    # A predicted conflict is left to the merge itself: it refuses with git's own list, changing nothing.
    problems = [p for p in result.problems if not (result.conflicts and p.startswith("would conflict"))]
    if problems:
        raise Refused(f"not merging {result.branch}: {'; '.join(problems)}")
    outcome = merge_branch(
        paths.root,
        result.branch,
        squash=squash,
        message=f"squad: merge {result.branch} ({len(result.commits)} commits)",
    )
    removed = False
    if result.worktree is not None and result.worktree.is_dir() and not is_dirty(result.worktree, setup):
        with contextlib.suppress(Refused):  # a changed set-up copy keeps the worktree; the merge stands
            remove_worktree(paths.root, result.worktree, setup)  # only now: the merge commit exists
            removed = True
    st.update_agent(paths, name, state=st.MERGED, pid=None, reason=f"merged as {outcome.commit[:8]}")
    return Merged(name, result.branch, outcome.commit, squash, removed)


@dataclass(frozen=True)
class Cleaned:
    agent: str
    branch: str
    worktree: Path | None
    freed_bytes: int
    branch_deleted: bool
    skipped: str | None = None


def clean(paths: SquadPaths, settings: LaunchSettings) -> list[Cleaned]:
    """Remove the worktrees and branches of agents merged into the current branch.

    A worktree with uncommitted changes is kept (and said so); a branch git does not see as merged
    (a squash merge) is kept too: ``git branch -d`` refuses it, and squad never forces.
    """
    require_repo(paths.root)
    worktrees = {w.branch: w.path for w in list_worktrees(paths.root)}
    report = st.read_report(paths)
    setup = untracked_only(paths.root, settings.setup_copy)
    out = []
    for agent in agent_branches(paths):
        branch = branch_of(agent)
        folder = worktrees.get(branch)
        launched = report.get(agent)
        if not is_merged(paths.root, branch):
            if launched is not None and launched.state == st.MERGED:  # a squash merge
                why = f"squash-merged, so git does not see {branch} as merged: kept (delete it yourself when sure)"
                out.append(Cleaned(agent, branch, folder, 0, False, why))
            continue
        if launched is not None and launched.state in (st.RUNNING, st.QUEUED, st.BACKOFF):
            out.append(Cleaned(agent, branch, folder, 0, False, f"agent is {launched.state}: kept"))
            continue
        if folder is not None and folder.is_dir() and is_dirty(folder, setup):
            out.append(Cleaned(agent, branch, folder, 0, False, "uncommitted changes in its worktree: kept"))
            continue
        freed = 0
        if folder is not None:
            freed = folder_size(folder) if folder.is_dir() else 0
            try:
                remove_worktree(paths.root, folder, setup)
            except Refused as exc:
                out.append(Cleaned(agent, branch, folder, 0, False, f"{exc}: kept"))
                continue
        deleted = delete_merged_branch(paths.root, branch)
        out.append(
            Cleaned(agent, branch, folder, freed, deleted, None if deleted else "branch kept: git says not merged")
        )
    with contextlib.suppress(OSError):
        base = settings.worktree_base(paths.root)
        if base.is_dir() and not any(base.iterdir()):
            base.rmdir()
    return out
