"""squad: run several AI coding agents on one repository without them trampling each other.

The library API; the CLI (``squad.cli``) is a thin layer over it.
"""

from __future__ import annotations

from squad.errors import NotInitialised, Refused, SquadError
from squad.paths import SquadPaths, find_root, require_paths

__all__ = ["NotInitialised", "Refused", "SquadError", "SquadPaths", "find_root", "require_paths"]
__version__ = "0.1.0"
