"""``squad doctor``: checks the set-up a squad needs and says what to fix, one line each.

``diagnose(start)`` runs every check and returns a :class:`Report`; each :class:`Check` is ``ok``,
``warn`` (works, but something is worth knowing) or ``fail`` (the squad will not work right until
fixed). The CLI prints one line per check and exits 1 when any failed.
"""

from __future__ import annotations

from squad.doctor._checks import AGENT_CLIS, SKEW_LIMIT_S, Check, Report, diagnose

__all__ = ["AGENT_CLIS", "SKEW_LIMIT_S", "Check", "Report", "diagnose"]
