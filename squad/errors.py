"""One error hierarchy, turned into ``squad: error: ...`` and an exit code in one place (cli.main)."""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_REFUSED = 1  # a rule says no: violation, lock held
EXIT_USAGE = 2  # bad usage or bad input
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + 2, as shells report it


class SquadError(Exception):
    """Bad usage or bad input; the message names the file and line where known."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.render())

    def render(self) -> str:
        if self.path is None:
            return self.message
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.message}"


class NotInitialised(SquadError):
    """There is no ``.squad/`` folder above the working directory."""


class Refused(SquadError):
    """A rule says no (a lock is held, a write is outside ownership): exit 1."""

    exit_code = EXIT_REFUSED
