"""Child Pythons started by a benchmark (the coordinator, the CLI) run from bytecode compiled once,
as an installed squad does, even where ``PYTHONDONTWRITEBYTECODE`` is set: otherwise every start
would recompile each module whose source is newer than its cached bytecode, and the figure would
measure the compiler rather than squad."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import squad


def compile_children_once(cache: Path) -> dict[str, str]:
    """Compile squad into ``cache`` and set this process's environment so child Pythons use it;
    returns that environment, for callers that pass one explicitly."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache)
    package = Path(squad.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True, env=os.environ)
    return dict(os.environ)
