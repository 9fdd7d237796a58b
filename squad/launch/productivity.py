"""A 0-100 productivity score from what a running agent visibly does; pure, so tests feed numbers.

Idle time weighs most (an agent that neither writes output, nor changes files, nor posts updates
is the one to stop); output rate, files changed, recent comm updates and CPU add evidence of work.
Memory only counts against an agent that grows past ``rss_limit_mb`` (a runaway).
"""

from __future__ import annotations

from dataclasses import dataclass

WEIGHT_IDLE = 40.0
WEIGHT_OUTPUT = 20.0
WEIGHT_FILES = 15.0
WEIGHT_COMM = 15.0
WEIGHT_CPU = 10.0
MEMORY_PENALTY = 20.0

OUTPUT_FULL_BPS = 50.0  # bytes of log output per second that count as fully busy
FILES_FULL = 5  # files changed in the worktree that count as fully productive
CPU_FULL_PERCENT = 20.0


@dataclass(frozen=True)
class Sample:
    idle_s: float
    idle_timeout_s: float
    output_rate: float = 0.0  # bytes per second of log output, recent window
    files_changed: int = 0
    since_comm_s: float | None = None  # seconds since the agent's last comm update; None: never
    cpu_percent: float = 0.0
    rss_mb: float = 0.0
    rss_limit_mb: float = 8192.0


def _fraction(value: float, full: float) -> float:
    if full <= 0:
        return 0.0
    return max(0.0, min(1.0, value / full))


def score(sample: Sample) -> int:
    """0 (idle, nothing to show) to 100 (busy and producing)."""
    freshness = 1.0 - _fraction(sample.idle_s, sample.idle_timeout_s)
    total = WEIGHT_IDLE * freshness
    total += WEIGHT_OUTPUT * _fraction(sample.output_rate, OUTPUT_FULL_BPS)
    total += WEIGHT_FILES * _fraction(sample.files_changed, FILES_FULL)
    if sample.since_comm_s is not None:
        total += WEIGHT_COMM * (1.0 - _fraction(sample.since_comm_s, sample.idle_timeout_s))
    total += WEIGHT_CPU * _fraction(sample.cpu_percent, CPU_FULL_PERCENT)
    if sample.rss_mb > sample.rss_limit_mb:
        total -= MEMORY_PENALTY
    return round(max(0.0, min(100.0, total)))
