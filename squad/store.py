"""Where the squad's leases live: the ``.squad/`` files (the default) or an etcd cluster.

``SQUAD_STORE`` wins, else ``store:`` in ``.squad/config.yaml``, else the files. An etcd store is
written ``etcd://HOST:PORT[,HOST:PORT...][/NAME]``; NAME keeps squads apart in one cluster and
defaults to the repository's first commit, which every clone of it shares (so two clones on two
machines are one squad with no setting to agree on).

Hot path: stdlib only. ``config.yaml`` is searched for its ``store:`` line with a regex (as
``lock_ttl_s`` is), and the answer is kept while the file is unchanged.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from squad.errors import SquadError

if TYPE_CHECKING:
    from squad.paths import SquadPaths

ENV = "SQUAD_STORE"
_STORE_LINE_RE = re.compile(r"^store[ \t]*:[ \t]*(.*?)[ \t]*(?:#.*)?$", re.MULTILINE)
_HOST_RE = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):(?P<port>\d{1,5})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CACHE: dict[str, tuple[tuple[int, int, int], Store]] = {}


@dataclass(frozen=True)
class Store:
    """A parsed store setting: the files, or etcd endpoints and the squad's name in the cluster."""

    kind: Literal["files", "etcd"]
    endpoints: tuple[tuple[str, int], ...] = ()
    name: str | None = None  # None: the repository's first commit, resolved when first used

    @property
    def url(self) -> str:
        if self.kind == "files":
            return "files"
        hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.endpoints)
        return f"etcd://{hosts}" + (f"/{self.name}" if self.name else "")


FILES = Store("files")


def parse_store(text: str, *, where: str = ENV, path: Path | None = None, line: int | None = None) -> Store:
    """``files`` or ``etcd://HOST:PORT[,HOST:PORT...][/NAME]``; a SquadError naming ``where`` else."""
    value = text.strip().strip("'\"")
    if value in ("", "files"):
        return FILES

    def bad(why: str) -> SquadError:
        return SquadError(f"{where}: {why} (use files or etcd://HOST:PORT[,HOST:PORT...][/NAME])", path=path, line=line)

    if not value.startswith("etcd://"):
        raise bad(f"unknown store {value!r}")
    rest = value[len("etcd://") :]
    hosts, _, name = rest.partition("/")
    endpoints = []
    for part in hosts.split(","):
        match = _HOST_RE.match(part.strip())
        if match is None:
            raise bad(f"{part.strip() or 'an empty endpoint'!r} is not HOST:PORT")
        port = int(match.group("port"))
        if not 0 < port < 65536:
            raise bad(f"port {port} is out of range")
        endpoints.append((match.group("v6") or match.group("host"), port))
    name = name.strip("/")
    if name and not _NAME_RE.match(name):
        raise bad(f"the squad name {name!r} may hold only letters, digits, '.', '_' and '-'")
    return Store("etcd", tuple(endpoints), name or None)


def store_of(paths: SquadPaths, environ: dict[str, str] | None = None) -> Store:
    """The store this squad uses: ``$SQUAD_STORE``, else ``store:`` in config.yaml, else the files."""
    env = os.environ if environ is None else environ
    if env.get(ENV, "").strip():
        return parse_store(env[ENV])
    file = paths.config
    key = os.fspath(file)
    try:
        st = os.stat(key)  # noqa: PTH116 - on every lease operation: the str path, once
    except OSError:
        return FILES
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return FILES  # the config loader names the file's problem where it matters
    match = _STORE_LINE_RE.search(text)
    found = FILES
    if match is not None:
        line = text.count("\n", 0, match.start()) + 1
        found = parse_store(match.group(1), where="store", path=file, line=line)
    _CACHE[key] = (stamp, found)
    return found


@functools.lru_cache(maxsize=16)
def squad_name(root: Path) -> str:
    """The name a squad has in a shared store when its setting names none: the repository's first
    commit (the same in every clone), else the folder's name for a repository with no commit yet."""
    from squad import git

    try:
        first = git.output(root, "rev-list", "--max-parents=0", "HEAD").split()
    except git.GitError:
        first = []
    if first:
        return first[-1][:16]
    return re.sub(r"[^A-Za-z0-9._-]", "-", root.name) or "squad"
