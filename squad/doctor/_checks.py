"""The checks of ``squad doctor``: each a function of the repository that returns Checks."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from squad import git
from squad.errors import SquadError
from squad.paths import SquadPaths, find_root, work_root

OK, WARN, FAIL = "ok", "warn", "fail"
AGENT_CLIS = ("claude", "codex", "gemini", "aider")
SKEW_LIMIT_S = 60.0  # a file written "in the future" by more than this: clocks disagree
VERSION_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    name: str  # a stable key: git, worktrees, squad-dir, config, matrix, hooks-git, ...
    level: str  # ok, warn or fail
    message: str  # what was found
    fix: str | None = None  # what to do about it

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "level": self.level, "message": self.message, "fix": self.fix}

    def line(self) -> str:
        fix = f" (fix: {self.fix})" if self.fix and self.level != OK else ""
        return f"{self.level.upper():4}  {self.name}: {self.message}{fix}"


@dataclass(frozen=True)
class Report:
    root: Path
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def healthy(self) -> bool:
        return all(c.level != FAIL for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {"root": str(self.root), "healthy": self.healthy, "checks": [c.as_json() for c in self.checks]}


def diagnose(start: Path | None = None, *, now: float | None = None, clis: tuple[str, ...] = AGENT_CLIS) -> Report:
    """Every check, from ``start`` (default the working directory); ``now`` is epoch seconds."""
    here = (start or Path.cwd()).resolve()
    moment = time.time() if now is None else now
    checks = _git(here)
    root = find_root(here)
    if root is None:
        checks.append(Check("squad-dir", FAIL, f"no .squad/ at or above {here}", "squad init"))
        checks.extend(_agent_clis(clis))
        return Report(work_root(here), tuple(checks))
    paths = SquadPaths(root)
    checks.append(_squad_dir(paths))
    for step in (_config_and_matrix, _hooks, _daemon, _leases):
        checks.extend(_guarded(step, paths))
    checks.append(_clock(paths, moment))
    checks.extend(_agent_clis(clis))
    return Report(root, tuple(checks))


def _guarded(step: Callable[[SquadPaths], list[Check]], paths: SquadPaths) -> list[Check]:
    """A check that itself breaks is a failed check, never a traceback."""
    try:
        return step(paths)
    except SquadError as exc:
        return [Check(step.__name__.strip("_").replace("_", "-"), FAIL, exc.render())]
    except OSError as exc:
        return [Check(step.__name__.strip("_").replace("_", "-"), FAIL, f"{exc.strerror or exc}: {exc.filename}")]


def _git(here: Path) -> list[Check]:
    if shutil.which("git") is None:
        return [Check("git", FAIL, "git is not on PATH", "install git 2.5 or newer")]
    result = git.run(here, "rev-parse", "--show-toplevel", check=False)
    if result.returncode != 0:
        return [
            Check("git", FAIL, f"{here} is not in a git repository", "git init && git commit --allow-empty -m start")
        ]
    version = git.run(here, "--version", check=False).stdout.strip().removeprefix("git version ")
    checks = [Check("git", OK, f"repository {result.stdout.strip()} (git {version})")]
    if not git.succeeds(here, "rev-parse", "--verify", "-q", "HEAD"):
        checks.append(
            Check("worktrees", WARN, "no commit yet: squad launch cannot make worktrees", "make a first commit")
        )
    elif git.run(here, "worktree", "list", check=False).returncode != 0:
        checks.append(Check("worktrees", FAIL, "git worktree does not work here", "use git 2.5 or newer"))
    else:
        count = len(git.output(here, "worktree", "list", "--porcelain").split("\nworktree ")) - 1
        checks.append(Check("worktrees", OK, f"git worktree works ({count} linked)"))
    return checks


def _squad_dir(paths: SquadPaths) -> Check:
    shown = paths.display(paths.squad) + "/"
    if not os.access(paths.squad, os.R_OK | os.W_OK | os.X_OK):
        return Check("squad-dir", FAIL, f"{shown} is not readable and writable", f"chmod u+rwx {paths.squad}")
    missing = [paths.display(f) for f in paths.folders() if not f.is_dir()]
    if missing:
        return Check("squad-dir", WARN, f"missing {', '.join(missing)}", "squad init")
    locked = [paths.display(f) for f in paths.folders() if not os.access(f, os.R_OK | os.W_OK | os.X_OK)]
    if locked:
        return Check("squad-dir", FAIL, f"not writable: {', '.join(locked)}", "chmod -R u+rwX .squad")
    return Check("squad-dir", OK, f"{shown} readable and writable")


def _config_and_matrix(paths: SquadPaths) -> list[Check]:
    from squad.config import load_config

    try:
        config = load_config(paths.config)
    except SquadError as exc:
        return [Check("config", FAIL, exc.render(), f"edit {paths.display(paths.config)}")]
    checks = [Check("config", OK, f"{paths.display(paths.config)} valid")]
    from squad.enforce.access import load_rules

    try:
        rules = load_rules(paths, config)
    except SquadError as exc:
        return [*checks, Check("matrix", FAIL, exc.render(), "fix the line named, or squad allocate --force")]
    source = paths.display(paths.ownership) if paths.ownership.exists() else "the plans"
    if rules.problems:
        first = rules.problems[0].render()
        more = f" and {len(rules.problems) - 1} more" if len(rules.problems) > 1 else ""
        return [*checks, Check("matrix", FAIL, f"{first}{more}", "fix the file named, or squad allocate --force")]
    if not paths.ownership.exists() and not any(paths.plans.glob("agent-*-plan.md")):
        return [*checks, Check("matrix", WARN, "no ownership matrix or plans yet", "squad allocate feature-prd.md")]
    return [*checks, Check("matrix", OK, f"ownership rules from {source} valid")]


def _command_gone(command: str) -> str | None:
    """The program of a hook command line when it is an absolute path that no longer exists."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    at = words.index("guard") if "guard" in words else 0
    program = words[at - 1] if at >= 1 else ""
    if at >= 3 and words[at - 2] == "-m":  # python -m squad guard
        program = words[at - 3]
    return program if program.startswith("/") and not Path(program).exists() else None


def _hook_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if " guard" in line and not line.lstrip().startswith("#")]


def _hooks(paths: SquadPaths) -> list[Check]:
    from squad.enforce import hooks

    checks = []
    state = hooks.git_guard_state(paths.root)
    if state == "installed":
        folder = hooks.git_hooks_dir(paths.root)
        text = "".join(
            (folder / n).read_text(encoding="utf-8", errors="replace")
            for n in ("pre-commit", f"pre-commit{hooks.LEGACY_SUFFIX}")
            if (folder / n).is_file()
        )
        gone = next((g for line in _hook_lines(text) if (g := _command_gone(line))), None)
        if gone:
            checks.append(
                Check("hooks-git", FAIL, f"the pre-commit hook runs {gone}, which is gone", "squad hooks install --git")
            )
        else:
            checks.append(Check("hooks-git", OK, "pre-commit hook installed and current"))
    elif state == "removed":
        checks.append(
            Check("hooks-git", WARN, "another tool replaced squad's pre-commit hook", "squad hooks install --git")
        )
    else:
        checks.append(
            Check("hooks-git", WARN, "no pre-commit hook: commits are not checked", "squad hooks install --git")
        )
    checks.extend(_claude_hooks(paths))
    return checks


def _worktrees(root: Path) -> list[Path]:
    result = git.run(root, "worktree", "list", "--porcelain", check=False)
    if result.returncode != 0:
        return [root]
    return [Path(line.removeprefix("worktree ")) for line in result.stdout.splitlines() if line.startswith("worktree ")]


def _claude_hooks(paths: SquadPaths) -> list[Check]:
    import json

    from squad.enforce import hooks

    checks = []
    for top in _worktrees(paths.root) or [paths.root]:
        commands: list[str] = []
        for local in (False, True):
            settings = hooks.claude_settings(top, local=local)
            try:
                data = json.loads(settings.read_text(encoding="utf-8")) if settings.is_file() else {}
            except (ValueError, OSError) as exc:
                checks.append(Check("hooks-claude", FAIL, f"{settings}: unreadable ({exc})", "fix or remove it"))
                continue
            groups = data.get("hooks", {}).get("PreToolUse", []) if isinstance(data, dict) else []
            commands += [
                h.get("command", "")
                for g in groups
                if isinstance(groups, list) and isinstance(g, dict)
                for h in g.get("hooks", [])
                if isinstance(h, dict) and hooks.is_guard_command(h.get("command"))
            ]
        where = "" if top == paths.root else f" in worktree {top}"
        gone = next((g for c in commands if (g := _command_gone(c))), None)
        if gone:
            checks.append(
                Check(
                    "hooks-claude",
                    FAIL,
                    f"the Claude Code hook{where} runs {gone}, which is gone",
                    "squad hooks install --claude",
                )
            )
        elif commands:
            checks.append(Check("hooks-claude", OK, f"Claude Code PreToolUse hook{where} installed and current"))
        elif top == paths.root:
            checks.append(
                Check(
                    "hooks-claude",
                    WARN,
                    "no Claude Code hook: Claude's writes are not checked",
                    "squad hooks install --claude",
                )
            )
    return checks


def _daemon(paths: SquadPaths) -> list[Check]:
    from squad.coordinator import daemon

    info = daemon.running(paths)
    if info is not None:
        return [Check("daemon", OK, f"coordinator running ({info.role}, pid {info.pid})")]
    if paths.coordinator_pid.exists():
        return [
            Check(
                "daemon",
                WARN,
                f"stale pidfile {paths.display(paths.coordinator_pid)}: no coordinator runs",
                "squad daemon start (it replaces the pidfile)",
            )
        ]
    return [Check("daemon", WARN, "no coordinator running", "squad daemon start")]


def _leases(paths: SquadPaths) -> list[Check]:
    from squad.agents.roster import members
    from squad.config import load_config
    from squad.leases import locks
    from squad.protocol.ids import same_agent
    from squad.protocol.times import now as utcnow

    config = load_config(paths.config)
    found = locks.survey(paths, config=config)
    checks = []
    if found.unreadable:
        names = ", ".join(error.render() for _, error in found.unreadable[:3])
        checks.append(Check("leases", FAIL, f"unreadable lease file(s): {names}", "squad unlock --force PATH"))
    roster = [m.name for m in members(paths)]
    at = utcnow()
    cache: dict[str, object] = {}
    orphans = [
        lease
        for lease in found.leases
        if roster and lease.agent != "human" and not any(same_agent(lease.agent, r) for r in roster)
    ]
    stale = [lease for lease in found.leases if locks.lease_stale_reason(paths, lease, at, config, cache)]
    if orphans:
        names = ", ".join(f"{lease.path} ({lease.agent})" for lease in orphans[:3])
        checks.append(Check("leases", WARN, f"held by agents not in the squad: {names}", "squad unlock --force PATH"))
    if stale:
        names = ", ".join(f"{lease.path} ({lease.agent})" for lease in stale[:3])
        checks.append(Check("leases", WARN, f"stale: {names}", "squad locks --break-stale"))
    if not checks:
        checks.append(Check("leases", OK, f"{len(found.leases)} lease(s), all readable and held"))
    return checks


def _clock(paths: SquadPaths, now: float) -> Check:
    """Write a probe and compare its time with ours (a network disk with another clock), then look for
    squad files written in the future."""
    probe = paths.control / ".doctor-probe"
    try:
        paths.control.mkdir(parents=True, exist_ok=True)
        probe.write_text("probe\n", encoding="utf-8")
        written = probe.stat().st_mtime
        probe.unlink()
    except OSError as exc:
        return Check("clock", FAIL, f"cannot write {paths.display(probe)}: {exc.strerror}", "chmod -R u+rwX .squad")
    skew = written - time.time()
    if abs(skew) > SKEW_LIMIT_S:
        return Check(
            "clock",
            FAIL,
            f"the file system's clock is {skew:+.0f}s off this machine's",
            "sync clocks (NTP) or keep .squad/ on a local disk",
        )
    ahead = []
    for folder in (paths.comms, paths.locks, paths.plans):
        for file in folder.rglob("*") if folder.is_dir() else []:
            try:
                delta = file.stat().st_mtime - now
            except OSError:
                continue
            if delta > SKEW_LIMIT_S:
                ahead.append((paths.display(file), delta))
    if ahead:
        name, delta = max(ahead, key=lambda a: a[1])
        return Check(
            "clock",
            FAIL,
            f"{len(ahead)} file(s) dated in the future, {name} by {delta:.0f}s",
            "sync clocks (NTP) on every machine writing .squad/",
        )
    return Check("clock", OK, "file times agree with this machine's clock")


def _version(program: str) -> str:
    try:
        result = subprocess.run(
            [program, "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "version unknown"
    text = (result.stdout or result.stderr).strip().splitlines()
    return text[0].strip() if text and result.returncode == 0 else "version unknown"


def _agent_clis(clis: tuple[str, ...]) -> list[Check]:
    found = {name: where for name in clis if (where := shutil.which(name))}
    with ThreadPoolExecutor(max_workers=max(1, len(found))) as pool:
        versions = dict(zip(found, pool.map(_version, found.values()), strict=True))
    checks = [Check(f"agent-{name}", OK, f"{found[name]} ({versions[name]})") for name in found]
    missing = [name for name in clis if name not in found]
    if found and missing:
        checks.append(Check("agents", OK, f"not on PATH (optional): {', '.join(missing)}"))
    if not found:
        checks.append(
            Check(
                "agents",
                WARN,
                f"none of {', '.join(clis)} on PATH: squad launch has no agent to start",
                "install one (e.g. npm i -g @anthropic-ai/claude-code), or run agents yourself",
            )
        )
    return checks
