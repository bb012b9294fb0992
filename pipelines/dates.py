"""Dates to ISO 8601: platform timestamps, epoch milliseconds and relative "Posted N days ago" text."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_RELATIVE = re.compile(
    r"(?P<today>\btoday\b|\bjust posted\b)|(?P<yesterday>\byesterday\b)|"
    r"(?P<n>\d+)\+?\s*(?P<unit>hour|day|week|month)s?\s+ago",
    re.IGNORECASE,
)
_UNIT_DAYS = {"hour": 0, "day": 1, "week": 7, "month": 30}
# Anything below this is seconds, above it milliseconds (2001-09-09 in ms is 1e12).
_EPOCH_MS_THRESHOLD = 100_000_000_000


def to_date(value: object, today: date | None = None) -> date | None:
    """A date from ISO strings, datetimes, epoch seconds/milliseconds or relative text; None if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > _EPOCH_MS_THRESHOLD else value
        return datetime.fromtimestamp(seconds, tz=UTC).date()
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        return to_date(int(text))
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    return relative_date(text, today)


def relative_date(text: str, today: date | None = None) -> date | None:
    """ "Posted 3 Days Ago" -> today - 3 days; "30+ Days Ago" is a lower bound, so it gives the latest date."""
    m = _RELATIVE.search(text)
    if not m:
        return None
    today = today or datetime.now(UTC).date()
    if m.group("today"):
        return today
    if m.group("yesterday"):
        return today - timedelta(days=1)
    return today - timedelta(days=int(m.group("n")) * _UNIT_DAYS[m.group("unit").lower()])


def to_iso_date(value: object, today: date | None = None) -> str | None:
    parsed = to_date(value, today)
    return parsed.isoformat() if parsed else None
