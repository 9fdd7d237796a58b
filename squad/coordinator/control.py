"""``squad pause`` / ``squad resume``: the pause flag agents' plans tell them to honour."""

from __future__ import annotations

import contextlib
import getpass

from squad.atomic import write_atomic
from squad.coordinator.rules import PAUSED, RESUMED
from squad.paths import SquadPaths
from squad.protocol import events as ev
from squad.protocol.times import format_time, now


def pause(paths: SquadPaths, reason: str | None = None) -> bool:
    """Write ``control/pause.flag``; False if it was there already."""
    if paths.pause_flag.exists():
        return False
    moment = now()
    by = _user()
    text = f"paused_at: {format_time(moment)}\nby: {by}\n" + (f"reason: {' '.join(reason.split())}\n" if reason else "")
    write_atomic(paths.pause_flag, text)
    ev.append_event(paths.events, ev.Event(PAUSED, moment, detail=reason or "", data={"by": by}))
    _share(paths, text)
    return True


def resume(paths: SquadPaths) -> bool:
    """Remove the pause flag; False if there was none."""
    try:
        paths.pause_flag.unlink()
    except FileNotFoundError:
        return False
    ev.append_event(paths.events, ev.Event(RESUMED, now(), data={"by": _user()}))
    _share(paths, None)
    return True


def _share(paths: SquadPaths, flag: str | None) -> None:
    """With an etcd store, the flag is the squad's, not this host's: each host's coordinator writes
    (or removes) its own copy when the key changes (``squad.coordinator.mirror``)."""
    from squad.store import store_of

    store = store_of(paths)
    if store.kind == "files":
        return
    from squad.errors import SquadError
    from squad.leases.etcd import _b64, leases_for

    leases = leases_for(paths, store)
    key = _b64(control_prefix(leases.prefix) + "pause")
    try:
        if flag is None:
            leases._post("resume the other hosts", "/kv/deleterange", {"key": key})
        else:
            leases._post("pause the other hosts", "/kv/put", {"key": key, "value": _b64(flag)})
    except SquadError as exc:
        done = "paused" if flag is not None else "resumed"
        raise SquadError(f"{done} here, but the other hosts could not be told: {exc.message}") from None


def control_prefix(locks_prefix: str) -> str:
    """``/squad/<name>/control/``: the flags every host's coordinator follows."""
    return locks_prefix.removesuffix("locks/") + "control/"


def _user() -> str:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return "unknown"
