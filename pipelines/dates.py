"""The one date parser: platform timestamps, epoch seconds/milliseconds, relative "Posted N days ago" text, and
the forms DOL disclosure files use (`9/30/2024`, `01-OCT-24`, `2024-09-30 00:00:00`, spreadsheet datetimes).

`matching.values.parse_date` calls `to_date`, so crawled postings and DOL cases read dates the same way.
"""

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
# Epoch seconds before 1973 are no posting's date; such small numbers are unreadable, not 1970.
_EPOCH_MIN = 100_000_000
# US month/day/year ("9/30/2024", "09/30/24") and day-MON-year ("01-OCT-24", "1-Oct-2024"): the DOL forms,
# read without strptime because ingest parses millions of them.
_MDY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})")
_DMY = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4}|\d{2})")
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}  # noqa: SIM905
# Rarer spelled-out forms, tried last.
_FORMATS = ("%Y/%m/%d", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y")


def to_date(value: object, today: date | None = None) -> date | None:
    """A date from any form above; None when the value is empty or unreadable (never a guess)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < _EPOCH_MIN:
            return None
        seconds = value / 1000 if value > _EPOCH_MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC).date()
        except (OverflowError, OSError, ValueError):  # beyond year 9999, or NaN/inf: no date
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():  # not "²": str.isdigit admits digits int() refuses
        if len(text) == 8:  # 20240930
            return _checked(int(text[:4]), int(text[4:6]), int(text[6:]))
        return to_date(int(text))
    if text[0] in "0123456789":
        found = _numeric(text)
        if found is not None:
            return found
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return relative_date(text, today)


def _numeric(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    if len(text) >= 10 and text[4] == "-":
        try:
            return date.fromisoformat(text[:10])  # "2024-09-30 00:00:00.000 UTC" and other ISO-ish tails
        except ValueError:
            return None
    head = text.split(" ", 1)[0]
    m = _MDY.fullmatch(head)
    if m:
        return _checked(_year(m.group(3)), int(m.group(1)), int(m.group(2)))
    m = _DMY.fullmatch(head)
    if m and m.group(2).lower() in _MONTHS:
        return _checked(_year(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    return None


def _year(text: str) -> int:
    # Two-digit years as strptime's %y reads them: 69-99 -> 19xx, 00-68 -> 20xx.
    return int(text) if len(text) == 4 else (1900 if int(text) >= 69 else 2000) + int(text)


def _checked(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


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
