"""``squad monitor``: a rich view of a Snapshot, redrawn when the files change.

``render(snapshot, extras)`` is a pure function to a rich renderable, so tests and an SVG export
(``Console(record=True).save_svg``) use exactly what the terminal shows.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from squad.agents.liveness import is_stale_agent, shown_state
from squad.coordinator.metrics import labelled
from squad.coordinator.state import AgentState, LockView, Snapshot
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.comm import Status
from squad.protocol.ids import same_agent
from squad.views.report import age

RELAUNCHED = "🔧"  # a launched agent on a retry, or one that took over tasks
STYLE = {
    Status.ACTIVE: "green",
    Status.DONE: "cyan",
    Status.STARTING: "blue",
    Status.WAITING: "yellow",
    Status.BLOCKED: "yellow",
    Status.FAILED: "red",
}
STALE_SYMBOL = "💤"
ALERT_KINDS = (ev.STUCK, ev.DEADLOCK)
VIOLATION_KINDS = (ev.VIOLATION, ev.VIOLATION_ATTEMPT)


@dataclass(frozen=True)
class Extras:
    """What the dashboard shows beyond the snapshot."""

    started_at: datetime | None = None  # default: the measured wall time (first status update to now)
    paused: bool = False
    mode: str = ""  # "coordinator in-process" / "daemon pid 123" / "one frame"
    launch: dict[str, dict[str, Any]] = field(default_factory=dict)  # reports/launch.json "agents"
    stale_s: float | None = None  # config agent_stale_s: a silent agent past it shows as stale


def bar(done: int, total: int, width: int = 10) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def _launch_row(extras: Extras, agent: str) -> dict[str, Any] | None:
    return next((v for k, v in extras.launch.items() if same_agent(k, agent)), None)


def _lease_for(snap: Snapshot, path: str | None) -> LockView | None:
    if not path:
        return None
    from squad.leases.locks import conflicts

    return next((lv for lv in snap.locks if conflicts(lv.lease.path, path)), None)


def _doing(snap: Snapshot, a: AgentState, *, two_lines: bool = False) -> Text:
    """The task and last file; or what a waiting agent waits for and who holds it, how long."""
    if a.status in (Status.BLOCKED, Status.WAITING) and (a.waiting_for or a.waiting_path):
        text = f"waiting: {a.waiting_path or a.waiting_for}"
        lease = _lease_for(snap, a.waiting_path)
        holder = lease.lease.agent if lease else a.waiting_holder
        if holder:
            held = f"held by {holder}" + (f", {age(lease.held_s)}" if lease else "")
            text += f"\n{held}" if two_lines else f" ({held})"
        if a.alternative:  # what it does meanwhile
            text += ("\n" if two_lines and not holder else "; ") + f"meanwhile: {a.alternative}"
        return Text(text, style="yellow")
    task = a.task or "-"
    if a.files_modified:
        task += ("\n" if two_lines else "  ") + a.files_modified[-1]
    return Text(task)


def header(snap: Snapshot, extras: Extras, width: int = 80) -> Text:
    """Two lines, each cut to ``width``: the least important parts go first (never wrapped)."""
    m = snap.metrics
    done, total = int(m.get("tasks_done", 0) or 0), int(m.get("tasks_total", 0) or 0)
    pct = f"{100 * done // total}%" if total else "-"
    counts: dict[str, int] = {}
    for a in snap.agents:
        shown = shown_state(a, extras.stale_s).lower()  # as the rows show it: a stale agent is not active
        counts[shown] = counts.get(shown, 0) + 1
    states = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    wall = snap.metrics.get("wall_s")
    elapsed = (snap.at - extras.started_at).total_seconds() if extras.started_at else wall
    stale = sum(1 for lv in snap.locks if lv.stale)
    locks = f"Locks {len(snap.locks)}" + (f" ({stale} stale)" if stale else "")
    agents = f"Agents {len(snap.agents)}"
    text = Text(no_wrap=True, overflow="ellipsis")
    # Each line: the variants to try, fullest first.
    first = [
        [("PARALLEL AGENT MONITOR", "bold"), (f"  Overall {bar(done, total, 12)} {pct}", ""), (f"  Elapsed {age(elapsed)}", "")],
        [("AGENT MONITOR", "bold"), (f"  {bar(done, total, 8)} {pct}", ""), (f"  {age(elapsed)}", "")],
        [("MONITOR", "bold"), (f" {pct}", ""), (f" {age(elapsed)}", "")],
    ]  # fmt: skip
    paused = [("  PAUSED", "bold red")] if extras.paused else []
    mode = [(f"  [{extras.mode}]", "dim")] if extras.mode else []
    short_mode = [(f"  [{_short_mode(extras.mode)}]", "dim")] if extras.mode else []
    full_agents = agents + (f" ({states})" if states else "")
    second = [
        [(full_agents, ""), (f"  {locks}", ""), *paused, *mode],
        [(full_agents, ""), (f"  {locks}", ""), *paused, *short_mode],
        [(full_agents, ""), (f"  {locks}", ""), *paused],
        [(agents, ""), (f"  {locks}", ""), *paused, *short_mode],
        [(agents, ""), (f"  {locks}", ""), *paused],
    ]
    for i, variants in enumerate((first, second)):
        chosen = next((v for v in variants if sum(len(t) for t, _ in v) <= width), variants[-1])
        for part, style in chosen:
            text.append(part, style=style)
        if i == 0:
            text.append("\n")
    return text


def _short_mode(mode: str) -> str:
    return mode.replace("coordinator ", "").replace("daemon pid ", "daemon ")


def agents_table(snap: Snapshot, extras: Extras, width: int, layout: Layout | None = None) -> Table:
    """One row per agent; fixed columns sized to fit ``width``, the rest for what it is doing."""
    from rich.cells import cell_len

    layout = layout or Layout(two_lines=width < 120)
    agents = list(snap.agents)
    if layout.agents_shown is not None and layout.agents_shown < len(agents):
        keep = sorted(range(len(agents)), key=lambda i: (_attention(agents[i]), i))[: layout.agents_shown]
        agents = [agents[i] for i in sorted(keep)]

    wide = width >= 120
    bar_w = 10 if wide else 6
    agent_w = min(max((len(a.id) for a in snap.agents), default=5), 22 if wide else 16)
    prog_w = (
        max((len(f"{a.progress.done}/{a.progress.total}") for a in snap.agents if a.progress), default=1) + bar_w + 1
    )
    state_w = max((cell_len(f"{Status.BLOCKED.symbol} {a.status.value}") for a in snap.agents), default=9)
    if any(is_stale_agent(a, extras.stale_s) for a in snap.agents):
        state_w = max(state_w, cell_len(f"{STALE_SYMBOL} STALE"))
    # Launched agents: the productivity score; wide screens add CPU and memory (reports/launch.json).
    launch_cols = [("SCORE", "score", "{:.0f}")]
    if wide:
        launch_cols += [("CPU", "cpu_percent", "{:.0f}%"), ("MEM", "rss_mb", "{:.0f}M")]
    if not extras.launch:
        launch_cols = []
    fixed = [agent_w, state_w + 1, prog_w, 6] + [5] * len(launch_cols)
    doing_w = max(10, width - sum(fixed) - len(fixed))
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=False, padding=(0, 1, 0, 0))
    table.add_column("AGENT", no_wrap=True, overflow="ellipsis", width=agent_w)
    table.add_column("STATE", no_wrap=True, width=state_w + 1)
    table.add_column("PROGRESS", no_wrap=True, width=prog_w)
    table.add_column("LAST", no_wrap=True, justify="right", width=6)
    for title, _, _ in launch_cols:
        table.add_column(title, no_wrap=True, justify="right", width=5)
    # Narrow screens give what an agent does (or waits for, and who holds it) two lines.
    table.add_column("DOING", no_wrap=True, overflow="ellipsis", width=doing_w)
    stuck = {e.agent for e in snap.events if e.kind == ev.STUCK}
    for a in agents:
        launch = _launch_row(extras, a.id)
        attempt = int(launch.get("attempt", 1) or 1) if launch else 1
        symbol = RELAUNCHED if attempt > 1 or a.id in stuck else a.status.symbol
        state = Text(f"{symbol} {a.status.value}", style=STYLE.get(a.status, ""))
        if is_stale_agent(a, extras.stale_s):
            state = Text(f"{STALE_SYMBOL} STALE", style="yellow")
        p = a.progress
        progress = f"{bar(p.done, p.total, bar_w)} {p.done}/{p.total}" if p else "-"
        row: list[RenderableType] = [
            a.id,
            state,
            progress,
            age(a.idle_s),
        ]
        for _, key, fmt in launch_cols:
            value = launch.get(key) if launch else None
            row.append(fmt.format(value) if isinstance(value, int | float) else "-")
        row.append(_doing(snap, a, two_lines=layout.two_lines and not wide and doing_w < 60))
        table.add_row(*row)
    return table


def locks_table(snap: Snapshot) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, padding=(0, 1))
    table.add_column("LEASE", no_wrap=True, overflow="ellipsis", ratio=1)
    table.add_column("HOLDER", no_wrap=True, overflow="ellipsis", max_width=18)
    table.add_column("AGE", no_wrap=True, justify="right")
    table.add_column("STATE", no_wrap=True, overflow="ellipsis", max_width=30)
    for lv in snap.locks:
        if lv.stale:
            state = Text(f"STALE {lv.stale_reason or ''}".strip(), style="red")
        elif lv.long_held:
            state = Text("long-held", style="yellow")
        else:
            state = Text("live", style="green")
        table.add_row(lv.lease.path, lv.lease.agent, age(lv.held_s), state)
    return table


def pending_handoffs(snap: Snapshot) -> list[str]:
    """Handoffs the receiver has not picked up yet: it has not reported since the handoff was
    made (or is not in the squad). A refused handoff is not pending: it will not happen."""
    refused = {(e.agent, e.path) for e in snap.events if e.kind == ev.HANDOFF_REFUSED}
    out = []
    for owner, h in snap.handoffs:
        sender = h.from_agent or owner
        if any(same_agent(a, sender) and p == h.file for a, p in refused):
            continue
        receiver = next((a for a in snap.agents if same_agent(a.id, h.to_agent)), None)
        last = receiver.last_update if receiver is not None else None
        if last is not None and h.at is not None and last > h.at:
            continue  # it has posted since
        waited = f" ({age((snap.at - h.at).total_seconds())})" if h.at is not None else ""
        out.append(f"{sender} → {h.to_agent}: {h.file or '?'} {h.status or ''}".rstrip() + waited)
    return out


def latest_events(snap: Snapshot, limit: int) -> list[ev.Event]:
    """Violations first (newest first), then the rest, newest first."""
    recent = list(reversed(snap.events))
    violations = [e for e in recent if e.kind in VIOLATION_KINDS]
    for v in reversed(snap.violations):
        if v not in violations and len(violations) < limit:
            violations.append(v)
    others = [e for e in recent if e.kind not in VIOLATION_KINDS]
    return (violations + others)[:limit]


def _event_line(e: ev.Event, at: datetime) -> Text:
    style = "red" if e.kind in VIOLATION_KINDS or e.kind in ALERT_KINDS else ""
    text = Text(f"{age((at - e.at).total_seconds()):>6} ago  ", style="dim")
    text.append(e.kind.upper() if e.kind in VIOLATION_KINDS else e.kind, style=style or "bold")
    who = " ".join(x for x in (e.agent, e.path) if x)
    if who:
        text.append(f"  {who}")
    if e.detail:
        text.append(f"  {e.detail}", style="dim")
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def metrics_grid(snap: Snapshot, width: int) -> Table:
    pairs = labelled(snap.metrics)
    per_row = max(1, min(4, width // 40))
    grid = Table.grid(padding=(0, 1))
    for _ in range(per_row):
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(no_wrap=True, min_width=6)
    for start in range(0, len(pairs), per_row):
        row: list[str] = []
        for label, value in pairs[start : start + per_row]:
            row += [label, value]
        grid.add_row(*row)
    return grid


Detail = Literal["full", "compact", "none"]  # how much of a part a frame shows


@dataclass
class Layout:
    """How much of each part a frame shows; ``fit`` shrinks it to a terminal's height."""

    notes: int = 3  # alert lines, and problem lines (at most 2)
    two_lines: bool = True  # what an agent does on two lines (narrow screens)
    agents_shown: int | None = None  # None: every agent
    locks: Detail = "full"
    handoffs: Detail = "full"
    events: int = 8
    events_title: bool = True
    metrics: Detail = "full"


ALERT_WINDOW_S = 60.0  # an alert whose cause is gone stays this long, then goes


def current_alerts(snap: Snapshot) -> list[ev.Event]:
    """The alerts still true: a deadlock while every agent of its cycle is still BLOCKED, a stuck
    agent while it is still FAILED; any alert for ``ALERT_WINDOW_S`` after it was logged."""
    by_id = {a.id: a for a in snap.agents}
    out = []
    for e in snap.events:
        if e.kind not in ALERT_KINDS:
            continue
        if (snap.at - e.at).total_seconds() <= ALERT_WINDOW_S:
            out.append(e)
            continue
        if e.kind == ev.DEADLOCK:
            cycle = e.data.get("cycle") or []
            live = bool(cycle) and all(
                (a := by_id.get(str(x))) is not None and a.status is Status.BLOCKED for x in cycle
            )
        else:
            agent = by_id.get(e.agent or "")
            live = agent is not None and agent.status is Status.FAILED
        if live:
            out.append(e)
    return out


def _attention(a: AgentState) -> int:
    """Which agents a short screen keeps: failed and blocked first, done last."""
    order = {
        Status.FAILED: 0,
        Status.BLOCKED: 1,
        Status.WAITING: 2,
        Status.ACTIVE: 3,
        Status.STARTING: 4,
        Status.DONE: 5,
    }
    return order.get(a.status, 3)


def fit(snap: Snapshot, extras: Extras, width: int, height: int | None) -> Layout:
    """The fullest layout that fits ``height`` lines. Agent rows come first: events, metrics,
    handoffs and leases shrink (then go) before an agent row is dropped."""
    layout = Layout(two_lines=width < 120)
    if height is None:
        return layout
    alerts = len(current_alerts(snap))
    problems = len(snap.problems)
    handoffs = len(pending_handoffs(snap))
    events = len(latest_events(snap, 8))
    violation = any(e.kind in VIOLATION_KINDS for e in snap.events) or bool(snap.violations)
    per_row = max(1, min(4, width // 40))
    metric_rows = -(-len(labelled(snap.metrics)) // per_row)
    doing_lines = [len(_doing(snap, a, two_lines=True).plain.splitlines()) or 1 for a in snap.agents]

    def lines(lay: Layout) -> int:
        n = 2 + min(alerts, lay.notes) + min(problems, lay.notes, 2) + 1
        if not snap.agents:
            n += 1
        else:
            shown = len(snap.agents) if lay.agents_shown is None else lay.agents_shown
            rows = sorted(doing_lines, reverse=True)[:shown] if lay.two_lines else [1] * shown
            n += 1 + sum(rows) + (1 if shown < len(snap.agents) else 0)
        if snap.locks:
            n += {"full": 2 + len(snap.locks), "compact": 1, "none": 0}[lay.locks]
        if handoffs:
            n += {"full": 2 + min(handoffs, 3), "compact": 1, "none": 0}[lay.handoffs]
        shown_events = min(events, lay.events)
        if shown_events:
            n += shown_events + (2 if lay.events_title else 0)
        if not metrics_mean_something(snap):
            n += 2
        else:
            n += {"full": 3 + metric_rows, "compact": 1, "none": 0}[lay.metrics]
        return n

    steps: list[Callable[[Layout], None]] = [
        lambda lay: setattr(lay, "events", 5),
        lambda lay: setattr(lay, "events", 3),
        lambda lay: setattr(lay, "metrics", "compact"),
        lambda lay: setattr(lay, "handoffs", "compact"),
        lambda lay: setattr(lay, "locks", "compact"),
        lambda lay: setattr(lay, "events_title", False),
        lambda lay: setattr(lay, "notes", 1),
        lambda lay: setattr(lay, "two_lines", False),
        lambda lay: setattr(lay, "events", 2),
        lambda lay: setattr(lay, "handoffs", "none"),
        lambda lay: setattr(lay, "events", 1 if violation else 0),
        lambda lay: setattr(lay, "metrics", "none"),
        lambda lay: setattr(lay, "locks", "none"),
    ]
    for step in steps:
        if lines(layout) <= height:
            break
        step(layout)
    else:
        # Still too tall: show the agents that need attention most, and say how many are left out.
        while lines(layout) > height and (layout.agents_shown is None or layout.agents_shown > 1):
            layout.agents_shown = (len(snap.agents) if layout.agents_shown is None else layout.agents_shown) - 1
        return layout
    while layout.events < min(events, 8):  # lines left over: more events
        layout.events += 1
        if lines(layout) > height:
            layout.events -= 1
            break
    return layout


def locks_line(snap: Snapshot) -> Text:
    text = Text(f"LOCKS {len(snap.locks)}: ", style="bold", no_wrap=True, overflow="ellipsis")
    for i, lv in enumerate(sorted(snap.locks, key=lambda lv: (not lv.stale, not lv.long_held, lv.lease.path))):
        text.append("  " if i else "")
        text.append(f"{lv.lease.path} {lv.lease.agent} {age(lv.held_s)}")
        if lv.stale:
            text.append(" STALE", style="red")
        elif lv.long_held:
            text.append(" long-held", style="yellow")
    return text


def metrics_line(snap: Snapshot) -> Text:
    """The metrics that matter most, on one line: progress, parallelism measured vs predicted, conflicts."""
    m = snap.metrics
    parts = [f"tasks {m.get('tasks_done', 0)}/{m.get('tasks_total', 0)}"]
    measured, predicted = m.get("parallel_efficiency"), m.get("predicted_parallel_efficiency")
    if measured is not None or predicted is not None:
        parts.append(
            "parallelism "
            + (f"{measured:.2f}x" if measured is not None else "-")
            + (f" (predicted {predicted:.2f}x)" if predicted is not None else "")
        )
    parts.append(f"conflicts {m.get('conflicts', 0)}")
    parts.append(f"lock waits {m.get('lock_waits', 0)}")
    return Text("METRICS  " + "  ".join(parts), no_wrap=True, overflow="ellipsis")


def versus_line(snap: Snapshot) -> Text:
    """Measured against allocate's prediction, side by side."""
    m = snap.metrics

    def pair(name: str, measured: str | None, predicted: str | None) -> str:
        return f"{name} {measured or '-'}" + (f" (predicted {predicted})" if predicted else "")

    def x(key: str) -> str | None:
        return f"{m[key]:.2f}x" if isinstance(m.get(key), int | float) else None

    def pct(key: str) -> str | None:
        return f"{m[key] * 100:.0f}%" if isinstance(m.get(key), int | float) else None

    text = "measured " + pair("parallelism", x("parallel_efficiency"), x("predicted_parallel_efficiency"))
    text += "   " + pair("time saved", pct("time_saved"), pct("predicted_time_saved"))
    return Text(text, no_wrap=True, overflow="ellipsis")


def render(
    snap: Snapshot, extras: Extras | None = None, *, width: int = 80, height: int | None = None
) -> RenderableType:
    """The whole dashboard for ``snap``. With ``height`` (a live terminal) it degrades to fit:
    fewer events, one-line leases and metrics, one line per agent, and last of all fewer agents."""
    extras = extras or Extras()
    layout = fit(snap, extras, width, height)
    parts: list[RenderableType] = [header(snap, extras, width)]
    alerts = current_alerts(snap)
    for e in alerts[-layout.notes :] if layout.notes else []:
        parts.append(
            Text(
                f"ALERT {e.kind}: {e.agent or ''} {e.detail}".replace("  ", " "),
                style="bold red",
                no_wrap=True,
                overflow="ellipsis",
            )
        )
    for problem in snap.problems[-min(layout.notes, 2) :] if layout.notes else []:
        parts.append(Text(f"problem: {problem}", style="yellow", no_wrap=True, overflow="ellipsis"))
    parts.append(Text(""))
    if snap.agents:
        parts.append(agents_table(snap, extras, width, layout))
        hidden = len(snap.agents) - (layout.agents_shown if layout.agents_shown is not None else len(snap.agents))
        if hidden > 0:
            parts.append(Text(f"... {hidden} more agent(s): squad status lists all", style="dim", no_wrap=True))
    else:
        parts.append(Text("no agents yet: squad allocate PRD, or squad update --agent 1 --status ACTIVE", style="dim"))
    if snap.locks and layout.locks == "full":
        parts += [Text(""), locks_table(snap)]
    elif snap.locks and layout.locks == "compact":
        parts.append(locks_line(snap))
    handoffs = pending_handoffs(snap)
    if handoffs and layout.handoffs == "full":
        parts.append(Text("\nPENDING HANDOFFS", style="bold"))
        parts += [Text(f"  {h}", no_wrap=True, overflow="ellipsis") for h in handoffs[-3:]]
    elif handoffs and layout.handoffs == "compact":
        parts.append(Text(f"HANDOFFS {len(handoffs)}: " + "; ".join(handoffs[-3:]), no_wrap=True, overflow="ellipsis"))
    events = latest_events(snap, layout.events) if layout.events else []
    if events:
        if layout.events_title:
            parts.append(Text("\nEVENTS", style="bold"))
        parts += [_event_line(e, snap.at) for e in events]
    if not metrics_mean_something(snap):
        parts.append(Text(f"\nMETRICS after the first task is done, or {age(METRICS_AFTER_S)} in", style="dim"))
    elif layout.metrics == "full":
        parts += [Text("\nMETRICS", style="bold"), versus_line(snap), metrics_grid(snap, width)]
    elif layout.metrics == "compact":
        parts.append(metrics_line(snap))
    return Group(*parts)


METRICS_AFTER_S = 60.0


def metrics_mean_something(snap: Snapshot) -> bool:
    """Parallelism and time saved over a few seconds of work are noise ("time saved -89%" nine
    seconds in): shown once a task is done or the squad has worked a minute."""
    m = snap.metrics
    wall = m.get("wall_s")
    return bool(m.get("tasks_done")) or (isinstance(wall, int | float) and wall >= METRICS_AFTER_S)


def _stale_s(paths: SquadPaths) -> float:
    from squad.config import Config, load_config
    from squad.errors import SquadError

    try:
        return load_config(paths.config).agent_stale_s
    except (SquadError, OSError):
        return Config().agent_stale_s


def read_launch(paths: SquadPaths) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(paths.launch_report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    agents = data.get("agents") if isinstance(data, dict) else None
    return {str(k): v for k, v in agents.items() if isinstance(v, dict)} if isinstance(agents, dict) else {}


def run_monitor(paths: SquadPaths, *, once: bool = False, width: int | None = None) -> None:
    """Draw the dashboard; with ``once`` one frame. Runs the coordinator here unless one runs already
    (a daemon or another monitor): one coordinator per repository, whoever claims it first."""
    import contextlib

    from squad.coordinator.daemon import Coordinator, claim, running
    from squad.errors import Refused

    terminal = sys.stdout.isatty()
    console = Console(width=width, force_terminal=terminal or None, no_color=not terminal, highlight=False)
    if not terminal and width is None:
        console = Console(width=80, no_color=True, highlight=False)
    with contextlib.ExitStack() as stack:
        daemon = running(paths)
        if daemon is None:
            try:
                stack.enter_context(claim(paths, role="monitor"))
            except Refused:  # another monitor or a daemon claimed it since we looked: follow it
                daemon = running(paths)
        enforce = daemon is None
        mode = "coordinator in-process" if enforce else _coordinator_mode(daemon)

        def frame(snap: Snapshot) -> RenderableType:
            extras = Extras(None, paths.pause_flag.exists(), mode, read_launch(paths), _stale_s(paths))
            return render(snap, extras, width=console.width, height=console.height if terminal else None)

        _quiet_logging(paths, in_process=enforce)
        _loop(Coordinator(paths, enforce=enforce, tick_s=2.0), console, frame, once=once, terminal=terminal)


def _coordinator_mode(info: Any) -> str:
    if info is None or info.pid <= 0:
        return "coordinator elsewhere"
    return f"{info.role} pid {info.pid}"


def _quiet_logging(paths: SquadPaths, *, in_process: bool) -> None:
    """Coordinator warnings (a malformed plan...) must not scribble over the live view: they go to
    ``logs/coordinator.log`` when the coordinator runs here, nowhere beside a daemon (which logs
    them itself). The frame shows each problem on a ``problem:`` line."""
    import logging

    from squad.coordinator.daemon import setup_logging

    logger = logging.getLogger("squad")
    if in_process:
        setup_logging(paths, foreground=False)
    elif not logger.handlers:
        logger.addHandler(logging.NullHandler())


def _stop_on_sigterm(coordinator: Any) -> None:
    """SIGTERM ends the monitor like Ctrl-C: the live screen is left and the coordinator closed."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: coordinator.stop())


def _loop(coordinator: Any, console: Console, frame: Any, *, once: bool, terminal: bool) -> None:
    latest: dict[str, Snapshot] = {}

    def keep(snap: Snapshot) -> None:
        latest["snap"] = snap

    coordinator.on_update = keep
    _stop_on_sigterm(coordinator)
    with coordinator:
        if once:
            console.print(frame(latest["snap"]))
            return
        if not terminal:
            console.print(frame(latest["snap"]))
            shown = latest["snap"]
            while coordinator.step():
                if latest["snap"] is not shown:
                    shown = latest["snap"]
                    console.print(Text("-" * 40))
                    console.print(frame(shown))
            return
        from rich.live import Live

        with Live(frame(latest["snap"]), console=console, auto_refresh=False, screen=True) as live:

            def redraw(snap: Snapshot) -> None:
                latest["snap"] = snap
                live.update(frame(snap), refresh=True)

            coordinator.on_update = redraw
            # Ctrl-C propagates: Live leaves the screen, the coordinator closes, and squad exits 130.
            while coordinator.step():
                pass
