from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from squad.launch.productivity import Sample, score


def test_busy_agent_scores_high_and_idle_agent_low() -> None:
    busy = Sample(idle_s=1, idle_timeout_s=600, output_rate=200, files_changed=6, since_comm_s=30, cpu_percent=50)
    idle = Sample(idle_s=590, idle_timeout_s=600)
    assert score(busy) >= 90
    assert score(idle) <= 5


def test_runaway_memory_costs_points() -> None:
    base = Sample(idle_s=0, idle_timeout_s=600, output_rate=100)
    assert score(Sample(**{**base.__dict__, "rss_mb": 9000, "rss_limit_mb": 8192})) < score(base)


@given(
    idle=st.floats(0, 5000),
    more=st.floats(0, 5000),
    rate=st.floats(0, 1e6),
    files=st.integers(0, 1000),
    cpu=st.floats(0, 800),
)
def test_score_is_bounded_and_falls_with_idle_time(
    idle: float, more: float, rate: float, files: int, cpu: float
) -> None:
    a = score(Sample(idle_s=idle, idle_timeout_s=600, output_rate=rate, files_changed=files, cpu_percent=cpu))
    b = score(Sample(idle_s=idle + more, idle_timeout_s=600, output_rate=rate, files_changed=files, cpu_percent=cpu))
    assert 0 <= b <= a <= 100
