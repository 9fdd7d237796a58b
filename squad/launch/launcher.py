"""``squad launch`` / ``squad stop`` as library calls: choose the agents, prepare their worktrees,
then supervise them headless (``runner.Supervisor``) or open them in tmux windows."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from squad.agents.liveness import pid_alive
from squad.agents.roster import Member, members
from squad.atomic import write_atomic
from squad.errors import Refused, SquadError
from squad.git import GitError
from squad.launch import state as st
from squad.launch.config import LaunchSettings
from squad.launch.process import wait_group_gone
from squad.launch.runner import PID_PREAMBLE, AgentSpec, Supervisor, agent_env, command_of
from squad.launch.worktree import (
    branch_of,
    commit_work,
    copy_untracked,
    ensure_worktree,
    find_worktree,
    pending_changes,
    require_repo,
    untracked_only,
)
from squad.paths import SquadPaths
from squad.protocol.ids import parse_agent_id
from squad.protocol.times import format_time
from squad.protocol.times import now as utcnow

Echo = Callable[[str, str], None]


def _quiet(_agent: str, _text: str) -> None:
    return None


def select_agents(paths: SquadPaths, names: tuple[str, ...] = (), *, resume: bool = True) -> list[Member]:
    """Agents with a plan; ``names`` narrows them. Unnamed agents already done, failed or merged in
    the last launch are left alone, so ``squad launch`` after ``squad stop`` resumes the rest."""
    planned = [m for m in members(paths) if m.plan.exists()]
    if not planned:
        raise SquadError(f"no plans in {paths.display(paths.plans)}: run `squad allocate PRD` first")
    if names:
        wanted = set()
        for name in names:
            parsed = parse_agent_id(name)
            if parsed is None:
                raise SquadError(f"bad agent id {name!r}: use agent-<n>-<role>, agent-<n> or <n>")
            match = [m for m in planned if m.id.number == parsed.number]
            if not match:
                raise SquadError(f"{name} has no plan in {paths.display(paths.plans)}")
            if parsed.role is not None and match[0].id.role is not None and parsed.role != match[0].id.role:
                raise SquadError(f"{name}: agent {parsed.number} is {match[0].name}, not {name}")
            wanted.add(parsed.number)
        return [m for m in planned if m.id.number in wanted]
    if not resume:
        return planned
    last = st.read_report(paths)
    return [
        m for m in planned if last.get(m.name, st.AgentReport(st.QUEUED)).state not in (st.DONE, st.FAILED, st.MERGED)
    ]


def spec_for(paths: SquadPaths, settings: LaunchSettings, member: Member) -> AgentSpec:
    branch = branch_of(member.name)
    existing = None
    with contextlib.suppress(GitError):
        existing = find_worktree(paths.root, branch)
    folder = existing.path if existing is not None else settings.worktree_base(paths.root) / member.name
    return AgentSpec(
        agent=member.name,
        role=member.id.role,
        plan=member.plan.resolve(),
        comm=member.comm.resolve(),
        worktree=folder,
        branch=branch,
        log=paths.agent_log(member.name),
        exclude=untracked_only(paths.root, settings.setup_copy),
    )


def prepare(paths: SquadPaths, settings: LaunchSettings, spec: AgentSpec, base: str) -> str | None:
    """Create or reuse the worktree, copy set-up files, run set-up commands; an error text or None."""
    try:
        ensure_worktree(paths.root, spec.worktree, spec.branch, base)
    except SquadError as exc:
        return str(exc)
    copy_untracked(paths.root, spec.worktree, settings.setup_copy)
    marker = paths.launch_setup_marks / spec.agent
    if not settings.setup_run or marker.exists():
        return None
    spec.log.parent.mkdir(parents=True, exist_ok=True)
    with spec.log.open("ab") as log:
        for command in settings.setup_run:
            log.write(f"=== squad launch: set-up `{command}`\n".encode())
            log.flush()
            result = subprocess.run(
                ["/bin/sh", "-c", command],
                cwd=spec.worktree,
                env=agent_env(paths, spec),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
            if result.returncode != 0:
                return f"set-up command `{command}` exited with code {result.returncode}"
    write_atomic(marker, format_time(utcnow()) + "\n")
    return None


def _prepared(
    paths: SquadPaths, settings: LaunchSettings, names: tuple[str, ...], echo: Echo
) -> tuple[list[AgentSpec], dict[str, str]]:
    kind = settings.kind()
    from squad.launch.agents import require_binary

    require_binary(kind)
    base = require_repo(paths.root)
    chosen = select_agents(paths, names)
    last = st.read_report(paths)
    alive = [
        f"{m.name} (pid {r.pid})"
        for m in chosen
        if (r := last.get(m.name)) is not None and r.state == st.RUNNING and r.pid is not None and pid_alive(r.pid)
    ]
    if alive:
        raise Refused(f"still running from an earlier launch: {', '.join(alive)}; run `squad stop` first")
    _warn_if_dirty(paths, base, echo)
    _ensure_git_guard(paths, echo)
    specs, failed = [], {}
    for member in chosen:
        spec = spec_for(paths, settings, member)
        error = prepare(paths, settings, spec, base)
        if error is None:
            specs.append(with_invocation(paths, settings, kind, spec))
            continue
        echo(spec.agent, f"set-up failed: {error}")
        failed[spec.agent] = st.FAILED
        st.update_agent(
            paths, spec.agent, state=st.FAILED, reason=error, worktree=str(spec.worktree), branch=spec.branch
        )
        _post_setup_failure(paths, spec.agent, error)
    return specs, failed


def with_invocation(paths: SquadPaths, settings: LaunchSettings, kind: str, spec: AgentSpec) -> AgentSpec:
    """``spec`` with its agent's start: the adapter of ``kind`` writes the prompt and hook settings."""
    from squad.launch.agents import AgentFiles, agent_folder, invocation

    files = AgentFiles(spec.agent, spec.plan, spec.comm, spec.worktree, agent_folder(paths, spec.agent))
    start = invocation(kind, paths, files, template=settings.cmd, extra=settings.args or "", mcp=settings.mcp)
    return replace(
        spec,
        command=start.command,
        stdin=start.stdin,
        kind=start.kind,
        guard=start.guard,
        post_for_agent=not start.runs_squad,
    )


def _ensure_git_guard(paths: SquadPaths, echo: Echo) -> None:
    """Every launched agent's commits pass squad's pre-commit check: install it when it is missing.

    The hooks folder is shared by all worktrees of the clone (unless ``core.hooksPath`` is relative:
    then each worktree reads its own copy, and the launch says so).
    """
    from squad.enforce.hooks import git_guard_state, install_fence, install_git

    try:
        install_fence(paths.root)  # Squad-Fence: trailers on the agents' commits, for squad merge
    except SquadError as exc:
        echo("launch", f"warning: squad's prepare-commit-msg hook is not installed ({exc}); no fencing trailers")
    state = git_guard_state(paths.root)
    if state == "installed":
        return
    try:
        change = install_git(paths.root, [])
    except SquadError as exc:
        echo("launch", f"warning: squad's git pre-commit hook is not installed ({exc}); commits are not checked")
        return
    note = f" ({change.note})" if change.note else ""
    echo(
        "launch",
        f"installed squad's git pre-commit hook in {change.path}{note}; `squad hooks uninstall --git` removes it",
    )


def _warn_if_dirty(paths: SquadPaths, base: str, echo: Echo) -> None:
    """Agents start from the last commit of ``base``: say so when the main checkout holds more."""
    try:
        pending = [line for line in pending_changes(paths.root) if not line[3:].startswith(f"{paths.squad.name}/")]
    except GitError:
        return
    if pending:
        first = pending[0][3:]
        more = f" and {len(pending) - 1} more" if len(pending) > 1 else ""
        echo(
            "launch",
            f"warning: the main checkout has uncommitted changes ({first}{more}); "
            f"agents start from the last commit of {base} without them",
        )


def _post_setup_failure(paths: SquadPaths, agent: str, error: str) -> None:
    """The agent never started: BLOCKED (not FAILED) in its comm file, so `squad status` and the
    monitor show why, and its tasks are reassigned only if nobody fixes the set-up in time."""
    from squad.agents.updates import post_update
    from squad.protocol.comm import Status

    with contextlib.suppress(Exception):  # the post is news; the other agents go on
        post_update(
            paths,
            agent,
            status=Status.BLOCKED,
            task=f"squad launch could not start it: {error}",
            next_step=f"fix the set-up (see .squad/config.yaml launch.setup), then run `squad launch {agent}`",
            waiting_for="squad launch set-up",
        )


class Interrupted(KeyboardInterrupt):
    """Ctrl-C ended a launch: every agent was stopped gracefully first; ``results`` as ``launch``
    returns them, for the caller to report before it exits 130."""

    def __init__(self, results: dict[str, str]) -> None:
        super().__init__()
        self.results = results


class _StopEvent(threading.Event):
    signum: int | None = None  # the signal that asked for the stop


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[_StopEvent]:
    """SIGTERM (``squad stop``), SIGHUP and Ctrl-C set the event: every agent stops gracefully."""
    event = _StopEvent()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return

    def handler(signum: int, _frame: object) -> None:
        event.signum = signum
        event.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        yield event
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def launch(
    paths: SquadPaths, settings: LaunchSettings, names: tuple[str, ...] = (), *, echo: Echo = _quiet
) -> dict[str, str]:
    """Run the agents headless until all have ended (or a stop); agent -> final state.

    Raises ``Interrupted`` (a KeyboardInterrupt) after a Ctrl-C, once every agent has stopped.
    """

    def progress(agent: str, text: str) -> None:
        if text != "stopped":  # a stop ends the launch: its final report says "stopped", once
            echo(agent, text)

    with st.launcher_claim(paths), _stop_on_signals() as stop_event:
        specs, results = _prepared(paths, settings, names, echo)
        if specs:
            supervisor = Supervisor(paths, specs, settings, on_event=progress, stop_event=stop_event)
            results.update(supervisor.run())
    if stop_event.signum == signal.SIGINT:
        raise Interrupted(results)
    return results


# -- tmux ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TmuxLaunch:
    session: str
    windows: tuple[str, ...]
    attach: str


def _tmux(settings: LaunchSettings, *args: str) -> str:
    base = ["tmux", *(["-L", settings.tmux_socket] if settings.tmux_socket else [])]
    try:
        result = subprocess.run([*base, *args], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise SquadError(f"cannot run tmux: {exc}") from None
    if result.returncode != 0:
        raise SquadError(f"tmux {args[0]} failed: {result.stderr.strip() or result.returncode}")
    return result.stdout


def launch_tmux(
    paths: SquadPaths, settings: LaunchSettings, names: tuple[str, ...] = (), *, echo: Echo = _quiet
) -> TmuxLaunch:
    """One tmux window per agent (output also appended to its log) and one running ``squad monitor``.

    The agents run in the windows, not under the supervisor: no queueing, idle stop or retries.
    ``squad stop`` still ends them gracefully and commits their worktrees.
    """
    running = st.launcher_pid(paths)
    if running is not None:  # its queued agents would start a second time in the same worktrees
        raise Refused(f"squad launch is already running (pid {running}): run `squad stop` first")
    specs, _failed = _prepared(paths, settings, names, echo)
    if not specs:
        raise SquadError("no agent to launch")
    session = settings.tmux_session or f"squad-{paths.root.name}"
    socket = ["-L", settings.tmux_socket] if settings.tmux_socket else []
    if _has_session(settings, session):  # a session left by an earlier launch: add the windows to it
        windows = _tmux(settings, "list-windows", "-t", f"={session}", "-F", "#{window_name}").split()
        if "monitor" not in windows:
            _tmux(
                settings,
                "new-window",
                "-d",
                "-t",
                f"{session}:",
                "-n",
                "monitor",
                "-c",
                str(paths.root),
                settings.monitor_cmd,
            )
    else:
        _tmux(
            settings, "new-session", "-d", "-s", session, "-n", "monitor", "-c", str(paths.root), settings.monitor_cmd
        )
    reports = {}
    for spec in specs:
        env = agent_env(paths, spec)
        flags = [
            f"-e{key}={env[key]}"
            for key in ("AGENT_ID", "AGENT_TYPE", "AGENT_PLAN", "AGENT_COMM", "PARALLEL_MODE", "SQUAD_ROOT")
        ]
        # The window waits for a go signal so its log is piped before the agent writes a byte.
        channel = f"squad-go-{os.getpid()}-{spec.agent}"
        start = command_of(spec, settings.cmd)
        if spec.stdin is not None:
            start = f"{start} < {_sh_quote(str(spec.stdin))}"
        command = PID_PREAMBLE.replace("\n", "; ") + f"tmux wait-for {channel}; " + start
        target = f"{session}:{spec.agent}"
        out = _tmux(
            settings,
            *("new-window", "-d", "-P", "-F", "#{pane_pid}", "-t", f"{session}:", "-n", spec.agent),
            *("-c", str(spec.worktree), *flags, command),
        )
        spec.log.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(SquadError):
            _tmux(settings, "pipe-pane", "-t", target, f"cat >> {_sh_quote(str(spec.log))}")
        _tmux(settings, "wait-for", "-S", channel)
        pid = int(out.strip()) if out.strip().isdigit() else None
        reports[spec.agent] = st.AgentReport(
            state=st.RUNNING,
            attempt=1,
            pid=pid,
            worktree=str(spec.worktree),
            branch=spec.branch,
            log=str(spec.log),
            role=spec.role,
        )
        # written per window: if a later window fails, `squad stop` still finds this agent
        launcher = {
            "pid": None,
            "state": "tmux",
            "session": session,
            "socket": settings.tmux_socket,
            "updated_at": format_time(utcnow()),
        }
        st.write_report(paths, {**st.read_report(paths), **reports}, launcher)
        echo(spec.agent, f"started in tmux window {target}")
    attach = " ".join(["tmux", *socket, "attach", "-t", session])
    return TmuxLaunch(session, ("monitor", *(s.agent for s in specs)), attach)


def _has_session(settings: LaunchSettings, session: str) -> bool:
    try:
        _tmux(settings, "has-session", "-t", f"={session}")
    except SquadError:
        return False
    return True


def _sh_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


# -- stop ---------------------------------------------------------------------------------


def stop(paths: SquadPaths, settings: LaunchSettings, *, timeout_s: float | None = None) -> list[str]:
    """End a running launch gracefully; returns the agents it stopped.

    A live launcher gets the stop flag and SIGTERM and is awaited (it stops and commits its agents).
    Agents left running without a launcher (tmux mode, a launcher killed with -9) are signalled by
    pid here, then their worktrees are committed.
    """
    wait_s = timeout_s if timeout_s is not None else settings.grace_s + 60
    before = st.read_report(paths)
    pid = st.launcher_pid(paths)
    if pid is not None:
        write_atomic(paths.launch_stop, f"{format_time(utcnow())}\n")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait_s
        while pid_alive(pid) and paths.launch_pid.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid) and paths.launch_pid.exists():
            raise SquadError(f"the launcher (pid {pid}) did not stop within {wait_s:g}s")
    stopped = [name for name, r in before.items() if r.state in (st.RUNNING, st.QUEUED, st.BACKOFF)]
    for name, report in st.read_report(paths).items():
        if report.state != st.RUNNING:
            continue
        if report.pid is not None and pid_alive(report.pid):
            _end_group(report.pid, settings.grace_s)
        unguarded = list(report.unguarded)
        if report.worktree:  # never "" -> the current folder: that would commit in the main checkout
            with contextlib.suppress(GitError):
                exclude = untracked_only(paths.root, settings.setup_copy)
                done = commit_work(Path(report.worktree), name, utcnow(), exclude)
                if done is not None and done.unguarded is not None:
                    unguarded.append(st.record_unguarded(paths, name, done.sha, done.unguarded))
        st.update_agent(paths, name, state=st.STOPPED, pid=None, reason="stopped by squad stop", unguarded=unguarded)
    if pid is None and stopped:  # tmux mode, or a launcher that died: its entry says so no longer
        st.update_launcher(paths, pid=None, state="stopped", updated_at=format_time(utcnow()))
    return stopped


def _end_group(pid: int, grace_s: float) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    wait_group_gone(pid, deadline)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
