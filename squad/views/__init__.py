"""What people look at: the live dashboard (``monitor``, rich) and the plain reports (``report``:
``reports/status.md`` and ``squad status``), both drawn from one coordinator snapshot.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    # Loaded on first use: importing the package costs nothing on the CLI's hot paths.
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
