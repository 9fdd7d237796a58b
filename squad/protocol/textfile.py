"""Reading the text files squad's formats live in: UTF-8, or one SquadError naming the file and line.

A plan, the matrix or the config that is not UTF-8 (one stray byte written by an agent) must be bad
input with a file and line, like any other malformed file, never a UnicodeDecodeError traceback.
"""

from __future__ import annotations

from pathlib import Path

from squad.errors import SquadError


def decode_text(data: bytes, path: Path | str) -> str:
    """``data`` as UTF-8 (a byte-order mark is dropped); SquadError at the line of the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SquadError(f"not UTF-8 text (byte 0x{data[exc.start]:02x})", path=path, line=line) from None
    return text.removeprefix("\ufeff")


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``; OSError (FileNotFoundError, ...) as raised, bad bytes as SquadError."""
    return decode_text(path.read_bytes(), path)
