"""The templates squad writes from: shipped in the package (``templates/`` at the top of the
repository, installed as ``squad.templates``), overridden per repository by ``.squad/templates/``.

Every template squad reads goes through :func:`load_template`, so an override applies everywhere.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from squad.errors import SquadError

if TYPE_CHECKING:
    from squad.paths import SquadPaths

PLAN = "plan.md"
FEATURE_PRD = "feature-prd.md"
COMM_EXAMPLE = "comm-example.md"
AGENT_INSTRUCTIONS = "agent-instructions.md"
SHIPPED = (PLAN, FEATURE_PRD, COMM_EXAMPLE, AGENT_INSTRUCTIONS)


def override_dir(paths: SquadPaths) -> Path:
    """``.squad/templates/``: a file here named like a shipped template replaces it."""
    return paths.squad / "templates"


def load_template(name: str, paths: SquadPaths | None = None) -> str:
    """The text of template ``name``: ``.squad/templates/NAME`` in the repository of ``paths`` when it
    exists, else the one shipped with squad."""
    if name not in SHIPPED:
        raise SquadError(f"unknown template {name!r} (known: {', '.join(SHIPPED)})")
    if paths is not None:
        override = override_dir(paths) / name
        if override.is_file():
            try:
                return override.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise SquadError("is not UTF-8 text", path=paths.display(override)) from None
    shipped = resources.files("squad.templates").joinpath(name)
    try:
        return shipped.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SquadError(f"template {name} is missing from the installed squad: reinstall squad-agents") from None
