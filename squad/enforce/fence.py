"""Fencing tokens downstream of the guard: what a commit relied on, and whether it was still true.

A lease can end while its holder is paused (a laptop lid, a stopped container), and the holder may
then commit what it wrote as if nothing happened. So a commit carries the fencing tokens of the
leases it relied on, as ``Squad-Fence: PATH=TOKEN`` trailers (written by the ``prepare-commit-msg``
hook, ``squad fence``), and ``squad review`` / ``squad merge`` refuse a branch with a commit that
changed a SEQUENTIAL path without a token that was current when the commit was made: a token the
squad granted to that agent for that path, and not yet superseded by a grant of the path to
another agent (the grant log keeps every token, on both stores).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from squad import git
from squad.config import Access, Config
from squad.errors import SquadError
from squad.paths import SquadPaths
from squad.protocol.ids import same_agent
from squad.protocol.lease import Lease

TRAILER = "Squad-Fence"
_CLOCK_SLACK = timedelta(seconds=1)  # a grant stamped by one host, a commit by another


def covers(lease_path: str, path: str) -> bool:
    """A lease on ``lease_path`` (a file, or a folder) covers ``path``."""
    lease = lease_path.strip("/")
    return path == lease or path.startswith(lease + "/")


def trailers_for(paths: SquadPaths, agent: str, staged: list[str], now: datetime) -> list[str]:
    """``PATH=TOKEN`` for each live lease of ``agent`` that covers a staged path, in path order:
    the token ``$SQUAD_FENCE`` names for it when set (what the writer relied on), else the lease's."""
    from squad.leases.locks import same_holder, survey
    from squad.protocol.lease import fence_tokens

    found = survey(paths)
    held = fence_tokens()  # what the writer's shell says it holds (squad lock --export) comes first
    out = set()
    for lease in found.leases:
        if lease.token is None or lease.expired(now) or not same_holder(lease.agent, agent):
            continue
        if any(covers(lease.path, p) for p in staged):
            out.add(f"{lease.path}={held.get(lease.path, lease.token)}")
    return sorted(out)


def add_trailers(worktree: Path, message_file: Path, values: list[str]) -> None:
    """Append ``Squad-Fence:`` trailers to a commit message file, as git formats trailers."""
    if not values:
        return
    args = ["interpret-trailers", "--in-place", "--if-exists", "addIfDifferent"]
    for value in values:
        args += ["--trailer", f"{TRAILER}: {value}"]
    git.run(worktree, *args, str(message_file))


@dataclass(frozen=True)
class Commit:
    sha: str
    at: datetime
    files: tuple[str, ...]
    fences: tuple[tuple[str, int], ...]  # (lease path, token) from its trailers


def branch_commits(repo: Path, base: str, branch: str) -> list[Commit]:
    """The commits on ``branch`` not on ``base`` (merges left out), with their files and fences."""
    fmt = f"%x1e%H%x1f%ct%x1f%(trailers:key={TRAILER},valueonly,separator=%x1d)%x1f"
    out = git.output(repo, "log", "--no-merges", "--name-only", f"--format={fmt}", f"{base}..{branch}")
    commits = []
    for record in out.split("\x1e")[1:]:
        sha, stamp, trailers, rest = record.split("\x1f", 3)
        fences = []
        for value in trailers.split("\x1d"):
            target, _, token = value.strip().rpartition("=")
            if target and token.isdigit():
                fences.append((target, int(token)))
        files = tuple(line for line in rest.splitlines() if line.strip())
        commits.append(Commit(sha, datetime.fromtimestamp(int(stamp), UTC), files, tuple(fences)))
    return commits


def fence_problems(paths: SquadPaths, config: Config, agent: str, base: str, branch: str) -> list[str]:
    """One line per commit of ``branch`` that changed a SEQUENTIAL path without a current token."""
    from squad.enforce.access import load_rules
    from squad.leases.locks import grants

    matrix = load_rules(paths, config)
    commits = branch_commits(paths.root, base, branch)
    guarded = [(c, [f for f in c.files if matrix.rule(f).access == Access.SEQUENTIAL]) for c in commits]
    if not any(files for _, files in guarded):
        return []
    history = grants(paths)
    by_token = {g.token: g for g in history if g.token is not None}
    problems = []
    for commit, files in guarded:
        for file in files:
            why = _stale_because(commit, file, agent, by_token, history)
            if why is not None:
                problems.append(f"fencing: {commit.sha[:10]} changed {file} (SEQUENTIAL) {why}")
    return problems


def _stale_because(
    commit: Commit,
    file: str,
    agent: str,
    by_token: dict[int, Lease],
    history: list[Lease],
) -> str | None:
    from squad.leases.locks import conflicts as clash

    offered = [(target, token) for target, token in commit.fences if covers(target, file)]
    if not offered:
        return f"with no {TRAILER} token for it (committed without the hook, or without a lease)"
    reasons = []
    for target, token in offered:
        grant = by_token.get(token)
        if grant is None or not same_agent(grant.agent, agent) or grant.path.strip("/") != target.strip("/"):
            reasons.append(f"token {token} was never granted to {agent} for {target}")
            continue
        if grant.acquired_at > commit.at + _CLOCK_SLACK:
            reasons.append(f"token {token} was granted after the commit")
            continue
        later = next(
            (
                g
                for g in history
                if (g.token or 0) > token
                and clash(g.path, file)
                and not same_agent(g.agent, agent)
                and g.acquired_at <= commit.at - _CLOCK_SLACK
            ),
            None,
        )
        if later is not None:
            reasons.append(
                f"with token {token}, stale since {later.agent} was granted {later.path} (token {later.token})"
            )
            continue
        return None
    return "; ".join(reasons)


def staged_fences(paths: SquadPaths, worktree: Path, agent: str, now: datetime) -> list[str]:
    """The trailers for what is staged in ``worktree`` (paths as the repository names them)."""
    try:
        staged = git.staged_paths(worktree)
    except git.GitError as exc:
        raise SquadError(f"cannot list the staged files: {exc.message}") from None
    return trailers_for(paths, agent, staged, now)
