"""Creating the ``.squad/`` tree (``squad init``): idempotent, never overwrites."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from squad.atomic import create_exclusive
from squad.config import DEFAULT_CONFIG_TEXT
from squad.paths import SquadPaths, find_project_root

if TYPE_CHECKING:
    from squad.store import Store

# What of .squad/ goes into git: the settings, the PRD, the plans, the matrix and template overrides
# (commit them to review or repeat an allocation); never the live state, which changes by the second
# and would make every agent branch conflict.
GITIGNORE_TEXT = """\
# Written by `squad init`. Commit the squad's settings, PRD, plans, ownership matrix and templates;
# the live state below stays out of git (it changes every second and differs per checkout).
comms/
locks/
logs/
control/
reports/
"""

COORDINATOR_COMM_HEADER = (
    "# Coordinator notices\n\n"
    "Written by the squad coordinator: reassignments, broken leases, deadlocks, handoffs.\n"
    "Each notice names the agent it is for (`TO:`). Agents read it; only the coordinator writes it.\n"
)


STARTER_PRD = "feature-prd.md"  # what `squad allocate` reads when given no PRD


def write_starter_prd(paths: SquadPaths, where: Path) -> tuple[Path, bool]:
    """``where/feature-prd.md`` from the feature-PRD template (``.squad/templates/`` first); never
    over an existing file. Return the path and whether it was written."""
    from squad.protocol.templates import FEATURE_PRD, load_template

    target = where / STARTER_PRD
    return target, create_exclusive(target, load_template(FEATURE_PRD, paths))


def init_squad(start: Path | None = None) -> tuple[SquadPaths, list[Path]]:
    """Create ``.squad/`` at the repository root found from ``start``; return what was created."""
    paths = SquadPaths(find_project_root(start))
    created: list[Path] = []
    if not paths.squad.is_dir():
        paths.squad.mkdir(parents=True)
        created.append(paths.squad)
    for folder in paths.folders():
        if not folder.is_dir():
            folder.mkdir(parents=True)
            created.append(folder)
    if create_exclusive(paths.config, DEFAULT_CONFIG_TEXT):
        created.append(paths.config)
    if create_exclusive(paths.coordinator_comm, COORDINATOR_COMM_HEADER):
        created.append(paths.coordinator_comm)
    if create_exclusive(paths.squad / ".gitignore", GITIGNORE_TEXT):
        created.append(paths.squad / ".gitignore")
    return paths, created


def set_store(paths: SquadPaths, store: Store) -> Store:
    """Make ``store`` the squad's store in ``config.yaml`` (its ``store:`` line replaced, or added).

    An etcd store is asked first, so a typo or a cluster that is down is said now, not at the
    first ``squad lock``; its squad name is written out (the first commit, when it names none).
    """
    import re

    from squad.atomic import write_atomic
    from squad.store import Store, squad_name

    if store.kind == "etcd":
        if store.name is None:
            store = Store("etcd", store.endpoints, squad_name(paths.root))
        from squad.leases.etcd import EtcdLeases

        EtcdLeases(paths, store).survey()  # StoreDown: one line, and nothing written
    text = paths.config.read_text(encoding="utf-8") if paths.config.exists() else ""
    line = f"store: {store.url}"
    if re.search(r"^store[ \t]*:.*$", text, re.MULTILINE):
        text = re.sub(r"^store[ \t]*:.*$", line, text, count=1, flags=re.MULTILINE)
    else:
        text = text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"
    write_atomic(paths.config, text)
    return store
