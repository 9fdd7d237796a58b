"""What people look at: the live dashboard (``monitor``, rich) and the plain reports (``report``:
``reports/status.md`` and ``squad status``), both drawn from one coordinator snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from squad._lazy import exports

if TYPE_CHECKING:
    from squad.views.monitor import Extras, render, run_monitor
    from squad.views.report import markdown_status, plain_status

_WHERE = {
    "Extras": "squad.views.monitor",
    "render": "squad.views.monitor",
    "run_monitor": "squad.views.monitor",
    "markdown_status": "squad.views.report",
    "plain_status": "squad.views.report",
}
__all__ = [
    "Extras",
    "markdown_status",
    "plain_status",
    "render",
    "run_monitor",
]


__getattr__ = exports(__name__, _WHERE)
