"""Times as agents write them: ISO 8601, ``YYYY-MM-DD HH:MM``, with or without an offset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

TIME_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?))?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?(?![\w:])",
    re.IGNORECASE,
)


def now() -> datetime:
    return datetime.now(UTC)


def find_time(text: str) -> datetime | None:
    """The first date-time in ``text``, as an aware UTC datetime; None if there is none.

    A time without an offset is the local time of this machine (what ``date`` printed).
    """
    for match in TIME_RE.finditer(text):
        parsed = _build(match)
        if parsed is not None:
            return parsed
    return None


def _build(match: re.Match[str]) -> datetime | None:
    date = match.group("date")
    clock = (match.group("time") or "00:00").replace(",", ".")
    try:
        naive = datetime.fromisoformat(f"{date}T{clock.zfill(5) if len(clock) < 5 else clock}")
    except ValueError:
        return None
    zone = (match.group("zone") or "").upper()
    if zone in ("Z", "UTC", "GMT"):
        return naive.replace(tzinfo=UTC)
    if zone:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        return naive.replace(tzinfo=tz).astimezone(UTC)
    return naive.astimezone(UTC)  # naive: local time


def parse_time(text: str) -> datetime | None:
    """Parse a whole string as a time (ISO or ``YYYY-MM-DD HH:MM``); None if it is not one."""
    text = text.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return find_time(text)
    return parsed.astimezone(UTC)  # a naive time is local time


def format_time(moment: datetime, *, precise: bool = False) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second: ``2026-11-22T14:05:00Z``.

    ``precise`` keeps milliseconds (``14:05:00.250Z``): leases need them, or a short lease would
    expire up to a second early.
    """
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    # isoformat is C (strftime was a tenth of a lease pair); a UTC time ends in "+00:00".
    return utc.isoformat(timespec="milliseconds" if precise else "seconds")[:-6] + "Z"


def from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
