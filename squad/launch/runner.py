"""Process supervision: start agents as they fit the limits, watch them, stop idle ones, retry.

Each agent runs as ``/bin/sh -c COMMAND`` in its own session (so Ctrl-C at the launcher does not
hit it and its whole process group can be signalled), with output appended to its log. Every stop
is SIGTERM to the group, then SIGKILL after a grace period, then a commit of the worktree.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from squad.git import GitError
from squad.launch import state as st
from squad.launch.config import LaunchSettings
from squad.launch.process import sample_tree_usage, signal_group, wait_group_gone
from squad.launch.productivity import Sample, score
from squad.launch.worktree import commit_work, status_lines
from squad.paths import SquadPaths
from squad.protocol.comm import Status
from squad.protocol.times import format_time
from squad.protocol.times import now as utcnow

TICK_S = 0.1


@dataclass(frozen=True)
class AgentSpec:
    agent: str
    role: str | None
    plan: Path
    comm: Path
    worktree: Path
    branch: str
    log: Path
    exclude: tuple[str, ...] = ()  # set-up files never committed (.env)
    command: str = ""  # the agent's start (squad.launch.agents); "" -> settings.cmd filled in
    stdin: Path | None = None  # fed on the agent's stdin (its prompt)
    kind: str = "cmd"
    guard: str = ""  # how squad's guard reaches it
    post_for_agent: bool = False  # the agent cannot run `squad update` (aider): launch posts ACTIVE and DONE


def build_command(template: str, spec: AgentSpec) -> str:
    """``template`` with ``{plan}``, ``{agent}`` and ``{worktree}`` filled in, shell-quoted."""
    values = {"{plan}": str(spec.plan), "{agent}": spec.agent, "{worktree}": str(spec.worktree)}
    out = template
    for key, value in values.items():
        out = out.replace(key, shlex.quote(value))
    return out


def command_of(spec: AgentSpec, template: str | None) -> str:
    """The shell command that starts ``spec``'s agent: its adapter's, else the template filled in."""
    if spec.command:
        return spec.command
    if not template:
        msg = f"no agent command for {spec.agent}"
        raise ValueError(msg)
    return build_command(template, spec)


def agent_env(paths: SquadPaths, spec: AgentSpec) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AGENT_ID=spec.agent,
        AGENT_TYPE=spec.role or "",
        AGENT_PLAN=str(spec.plan),
        AGENT_COMM=str(spec.comm),
        PARALLEL_MODE="true",
        SQUAD_ROOT=str(paths.root),
    )
    return env


# The shell's own pid is the agent's pid: leases taken inside record it (squad lock reads it).
PID_PREAMBLE = "SQUAD_AGENT_PID=$$; export SQUAD_AGENT_PID\n"


@dataclass
class _Run:
    spec: AgentSpec
    state: str = st.QUEUED
    attempt: int = 0
    proc: subprocess.Popen[bytes] | None = None
    not_before: float = 0.0
    last_activity: float = 0.0
    last_sample: float = 0.0
    log_size: int = 0  # at the last sample: the base of the output rate
    seen_size: int = 0  # at the last tick: growth is activity
    output_rate: float = 0.0
    comm_sig: tuple[float, int] | None = None
    comm_at: float | None = None
    tree_sig: str = ""
    files_changed: int = 0
    cpu_percent: float = 0.0
    rss_mb: float = 0.0
    reason: str | None = None
    exit_code: int | None = None
    unguarded: list[str] = field(default_factory=list)  # commits made past a refusing pre-commit hook
    watched: dict[int, Any] = field(default_factory=dict)  # pid -> psutil.Process, for CPU deltas


# Exit codes the shell itself gives: the log says what they mean.
EXIT_HINTS = {
    126: "the command is not executable (check --cmd / launch.cmd and the file's x bit)",
    127: "command not found (check --cmd / launch.cmd and PATH)",
}


def exit_reason(code: int) -> str:
    """``exited with code N`` plus what N means when the shell or a signal set it."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    hint = EXIT_HINTS.get(code)
    if hint is None and code > 128:
        with contextlib.suppress(ValueError):
            hint = f"killed by {signal.Signals(code - 128).name}"
    return f"exited with code {code}" + (f": {hint}" if hint else "")


def log_line(log: Path, text: str) -> None:
    """One ``=== squad launch: ...`` line in the agent's log: what squad did and why."""
    with contextlib.suppress(OSError), log.open("ab") as out:
        out.write(f"=== squad launch: {text}\n".encode())


@contextlib.contextmanager
def _stdin_of(spec: AgentSpec) -> Iterator[Any]:
    """The agent's stdin: its prompt file when its adapter feeds one, else nothing (/dev/null)."""
    if spec.stdin is None:
        yield subprocess.DEVNULL
        return
    with spec.stdin.open("rb") as handle:
        yield handle


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _sig(path: Path) -> tuple[float, int] | None:
    try:
        s = path.stat()
    except OSError:
        return None
    return (s.st_mtime, s.st_size)


class Supervisor:
    """Runs ``specs`` to the end (done or failed) unless stopped; one failure never stops the rest."""

    def __init__(
        self,
        paths: SquadPaths,
        specs: list[AgentSpec],
        settings: LaunchSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_event: Callable[[str, str], None] | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        if not settings.cmd and not all(spec.command for spec in specs):
            msg = "no agent command"
            raise ValueError(msg)
        self.paths = paths
        self.settings = settings
        self.runs = [_Run(spec) for spec in specs]
        self.clock = clock
        self.on_event = on_event or (lambda _agent, _text: None)
        self._stop = stop_event or threading.Event()
        self._last_report = -1e9

    # -- control -------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()

    def _stop_wanted(self) -> bool:
        return self._stop.is_set() or self.paths.launch_stop.exists()

    def run(self) -> dict[str, str]:
        """Supervise until every agent has ended; returns agent -> final state."""
        try:
            while True:
                now = self.clock()
                if self._stop_wanted():
                    self._stop_all(now)
                    break
                for run in self.runs:
                    if run.state == st.RUNNING:
                        self._watch(run, now)
                self._start_ready(now)
                self._report(now)
                if all(r.state in st.FINISHED for r in self.runs):
                    break
                time.sleep(TICK_S)
        except BaseException:
            self._stop_all(self.clock())
            raise
        finally:
            self._report(self.clock(), force=True, final=True)
        return {r.spec.agent: r.state for r in self.runs}

    # -- starting ------------------------------------------------------------------------

    def _start_ready(self, now: float) -> None:
        running = [r for r in self.runs if r.state == st.RUNNING]
        for run in self.runs:
            ready = run.state == st.QUEUED or (run.state == st.BACKOFF and run.not_before <= now)
            if not ready:
                continue
            same_role = sum(1 for r in running if r.spec.role == run.spec.role)
            if len(running) >= self.settings.max_parallel or same_role >= self.settings.per_role:
                continue
            self._start(run, now)
            running.append(run)

    def _start(self, run: _Run, now: float) -> None:
        spec = run.spec
        run.attempt += 1
        spec.log.parent.mkdir(parents=True, exist_ok=True)
        command = command_of(spec, self.settings.cmd)
        with spec.log.open("ab") as log, _stdin_of(spec) as stdin:
            log.write(f"\n=== squad launch: {spec.agent} attempt {run.attempt} at {format_time(utcnow())}\n".encode())
            log.flush()
            try:
                run.proc = subprocess.Popen(
                    ["/bin/sh", "-c", PID_PREAMBLE + command],
                    cwd=spec.worktree,
                    env=agent_env(self.paths, spec),
                    stdin=stdin,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                run.proc = None
                self._retry_or_fail(run, now, f"cannot start: {exc}")
                return
        run.state = st.RUNNING
        run.reason = None
        run.exit_code = None
        run.last_activity = run.last_sample = now
        run.log_size = run.seen_size = _size(spec.log)
        run.comm_sig = _sig(spec.comm)
        run.watched = {}
        self.on_event(spec.agent, f"started (attempt {run.attempt}, pid {run.proc.pid})")
        if spec.post_for_agent:
            self._post(run, Status.ACTIVE, f"started by squad launch ({spec.kind}, attempt {run.attempt})")

    # -- watching ------------------------------------------------------------------------

    def _watch(self, run: _Run, now: float) -> None:
        assert run.proc is not None
        code = run.proc.poll()
        if code is not None:
            self._ended(run, now, code)
            return
        size = _size(run.spec.log)
        if size != run.seen_size:
            run.seen_size, run.last_activity = size, now
        comm = _sig(run.spec.comm)
        if comm != run.comm_sig:
            run.comm_sig, run.comm_at, run.last_activity = comm, now, now
        elapsed = now - run.last_sample
        if elapsed >= self.settings.sample_s:
            run.output_rate = max(0, size - run.log_size) / elapsed if elapsed > 0 else 0.0
            run.log_size = size
            run.last_sample = now
            self._sample_tree(run, now)
            run.cpu_percent, run.rss_mb = sample_tree_usage(run.proc.pid, run.watched)
        if now - run.last_activity > self.settings.idle_timeout_s:
            idle = now - run.last_activity
            log_line(
                run.spec.log, f"no activity for {idle:.0f}s (idle timeout {self.settings.idle_timeout_s:g}s): stopping"
            )
            self._terminate([run])
            self._checkpoint(run)
            self._retry_or_fail(run, self.clock(), f"idle for {idle:.0f}s")

    def _sample_tree(self, run: _Run, now: float) -> None:
        try:
            lines = status_lines(run.spec.worktree)
        except GitError:
            return
        stamps = []
        for line in lines:
            with contextlib.suppress(OSError):
                stamps.append(str((run.spec.worktree / line[3:].strip('"')).stat().st_mtime_ns))
        sig = "\n".join(lines + stamps)
        if sig != run.tree_sig:
            run.tree_sig = sig
            run.last_activity = now
        run.files_changed = len(lines)

    # -- ending --------------------------------------------------------------------------

    def _ended(self, run: _Run, now: float, code: int) -> None:
        assert run.proc is not None
        signal_group(run.proc, signal.SIGTERM)  # leftovers of the agent's session
        wait_group_gone(run.proc.pid, time.monotonic() + min(1.0, self.settings.grace_s))
        signal_group(run.proc, signal.SIGKILL)
        run.exit_code = code
        run.proc = None
        self._checkpoint(run)
        if code == 0:
            run.state = st.DONE
            self.on_event(run.spec.agent, "done")
            if run.spec.post_for_agent:
                self._post(run, Status.DONE, f"{run.spec.kind} exited with code 0 (posted by squad launch)")
            log_line(run.spec.log, "exited with code 0: done")
        else:
            self._retry_or_fail(run, now, exit_reason(code))

    def _retry_or_fail(self, run: _Run, now: float, reason: str) -> None:
        run.reason = reason
        if run.attempt <= self.settings.retries:
            wait = self.settings.backoff(run.attempt)
            run.state, run.not_before = st.BACKOFF, now + wait
            self.on_event(run.spec.agent, f"{reason}: retry in {wait:g}s")
            log_line(
                run.spec.log,
                f"attempt {run.attempt} {reason}: retry {run.attempt} of {self.settings.retries} in {wait:g}s",
            )
            return
        run.state = st.FAILED
        self.on_event(run.spec.agent, f"{reason}: FAILED after {run.attempt} attempts")
        log_line(run.spec.log, f"attempt {run.attempt} {reason}: FAILED after {run.attempt} attempts")
        from squad.agents.updates import post_update
        from squad.protocol.comm import Status

        with contextlib.suppress(Exception):  # the comm post is news; the launch goes on
            post_update(
                self.paths,
                run.spec.agent,
                status=Status.FAILED,
                task=f"squad launch gave up after {run.attempt} attempts ({reason})",
                next_step=f"work so far is committed on branch {run.spec.branch}; reassign the open tasks",
            )

    def _post(self, run: _Run, status: Status, task: str) -> None:
        from squad.agents.updates import post_update

        with contextlib.suppress(Exception):  # the comm post is news; the launch goes on
            post_update(self.paths, run.spec.agent, status=status, task=task)

    def _checkpoint(self, run: _Run) -> None:
        """Commit whatever the agent left in its worktree: the next attempt resumes from it."""
        try:
            done = commit_work(run.spec.worktree, run.spec.agent, utcnow(), run.spec.exclude)
        except GitError as exc:
            self.on_event(run.spec.agent, f"could not commit its worktree: {exc}")
            return
        if done is None:
            return
        if done.unguarded is not None:
            line = st.record_unguarded(self.paths, run.spec.agent, done.sha, done.unguarded)
            run.unguarded.append(line)
            log_line(run.spec.log, f"UNGUARDED: {line}")
            self.on_event(run.spec.agent, f"UNGUARDED commit on {run.spec.branch}: {line}")
            return
        self.on_event(run.spec.agent, f"work committed on {run.spec.branch} ({done.sha[:8]})")

    def _terminate(self, runs: list[_Run]) -> None:
        """SIGTERM every group, wait up to the grace period for all of it to end, SIGKILL the rest."""
        live = [r for r in runs if r.proc is not None]
        for run in live:
            assert run.proc is not None
            signal_group(run.proc, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.grace_s
        for run in live:
            assert run.proc is not None
            try:
                run.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(run.proc, signal.SIGKILL)
                run.proc.wait()
            # the shell may be gone while the agent it started still runs its TERM handler
            wait_group_gone(run.proc.pid, deadline)
            signal_group(run.proc, signal.SIGKILL)
            run.exit_code = run.proc.returncode
            run.proc = None

    def _stop_all(self, now: float) -> None:
        running = [r for r in self.runs if r.state == st.RUNNING]
        self._terminate(running)
        for run in self.runs:
            if run.state in (st.RUNNING, st.QUEUED, st.BACKOFF):
                if run.state == st.RUNNING:
                    self._checkpoint(run)
                run.state, run.reason = st.STOPPED, "stopped by squad stop"
                self.on_event(run.spec.agent, "stopped")
                log_line(run.spec.log, "stopped (squad stop or Ctrl-C); `squad launch` resumes it")

    # -- reporting -----------------------------------------------------------------------

    def _report(self, now: float, *, force: bool = False, final: bool = False) -> None:
        if not force and now - self._last_report < min(1.0, self.settings.sample_s):
            return
        self._last_report = now
        agents = {r.spec.agent: self._agent_report(r, now) for r in self.runs}
        state = "stopped" if final and self._stop_wanted() else ("finished" if final else "running")
        launcher = {"pid": os.getpid(), "state": state, "updated_at": format_time(utcnow())}
        with contextlib.suppress(OSError):
            st.write_report(self.paths, {**_others(self.paths, agents), **agents}, launcher)

    def _agent_report(self, run: _Run, now: float) -> st.AgentReport:
        idle = now - run.last_activity if run.state == st.RUNNING else 0.0
        sample = Sample(
            idle_s=idle,
            idle_timeout_s=self.settings.idle_timeout_s,
            output_rate=run.output_rate,
            files_changed=run.files_changed,
            since_comm_s=None if run.comm_at is None else now - run.comm_at,
            cpu_percent=run.cpu_percent,
            rss_mb=run.rss_mb,
        )
        return st.AgentReport(
            state=run.state,
            attempt=run.attempt,
            score=score(sample) if run.state == st.RUNNING else 0,
            idle_s=round(idle, 1),
            cpu_percent=round(run.cpu_percent, 1),
            rss_mb=round(run.rss_mb, 1),
            output_rate=round(run.output_rate, 1),
            files_changed=run.files_changed,
            pid=run.proc.pid if run.proc is not None else None,
            worktree=str(run.spec.worktree),
            branch=run.spec.branch,
            log=str(run.spec.log),
            role=run.spec.role,
            reason=run.reason,
            exit_code=run.exit_code,
            updated_at=format_time(utcnow()),
            kind=run.spec.kind,
            guard=run.spec.guard or None,
            unguarded=tuple(run.unguarded),
        )


def _others(paths: SquadPaths, mine: dict[str, st.AgentReport]) -> dict[str, st.AgentReport]:
    """Entries of agents this launch does not run (a partial launch keeps the others' state)."""
    return {name: r for name, r in st.read_report(paths).items() if name not in mine}
