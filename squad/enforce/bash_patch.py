"""The files a unified or git diff names: what ``patch`` and ``git apply`` would write (for ``squad guard``).

Pure text in, paths out. Only headers count: a ``--- X`` line directly followed by ``+++ Y`` (so a
removed line that happens to start with ``-- `` is not mistaken for one), and git's ``rename`` /
``copy`` lines. ``/dev/null`` (a created or deleted file's other side) is left out.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

MAX_PATCH_BYTES = 8 * 1024 * 1024  # larger patch files are not read: the git layer still sees the commit


def header_paths(text: str) -> list[tuple[str, bool]]:
    """``(path, strippable)`` for each file a diff touches, in order, without duplicates.

    ``strippable`` is False for git's ``rename to`` / ``copy to`` names, which carry no ``a/`` prefix.
    """
    out: dict[tuple[str, bool], None] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            for header in (line, lines[i + 1]):
                path = _header_path(header[4:])
                if path and path != "/dev/null":
                    out[(path, True)] = None
        elif line.startswith(("rename from ", "rename to ", "copy to ")):
            path = _unquote(line.split(" ", 2)[2].strip())
            if path:
                out[(path, False)] = None
    return list(out)


def _header_path(rest: str) -> str:
    """The name in ``a/x.py\\t2024-01-01 ...`` (a timestamp after a tab), or a git C-quoted name."""
    rest = rest.split("\t", 1)[0].rstrip()
    return _unquote(rest)


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        raw = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        try:
            return raw.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return raw
    return name


def strip_components(path: str, strip: int | None, cwd: Path) -> str | None:
    """``path`` with ``strip`` leading folders removed (``patch -pN``); None when too few are left.

    ``strip`` None is GNU ``patch`` without ``-p``: the whole name when its folder exists, else the
    base name.
    """
    parts = [p for p in PurePosixPath(path).parts if p != "/"]
    if strip is None:
        if not parts:
            return None
        folder = parts[:-1]
        return "/".join(parts) if not folder or cwd.joinpath(*folder).is_dir() else parts[-1]
    if len(parts) <= strip:
        return None
    return "/".join(parts[strip:])


def read_patch(path: Path) -> str | None:
    """A patch file's text, or None when it cannot be read (missing, a folder, too large)."""
    try:
        if path.stat().st_size > MAX_PATCH_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None
