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
    return True


def resume(paths: SquadPaths) -> bool:
    """Remove the pause flag; False if there was none."""
    try:
        paths.pause_flag.unlink()
    except FileNotFoundError:
        return False
    ev.append_event(paths.events, ev.Event(RESUMED, now(), data={"by": _user()}))
    return True


def _user() -> str:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return "unknown"
