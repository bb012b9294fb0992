"""Cell parsers: dates, money, counts, statuses, SOC codes and the "is this an ML role" test."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pipelines.dates import to_date
from pipelines.rules.roles import title_is_ml


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    s = str(value).strip()
    return s or None


def parse_date(value: Any) -> date | None:
    """A DOL date cell (`10/01/2024`, `01-OCT-24`, `2024-10-01 00:00:00`, a spreadsheet datetime) or None."""
    return to_date(value)


def fiscal_year(d: date | None) -> int | None:
    """US federal fiscal year: October starts the next year's."""
    if d is None:
        return None
    return d.year + 1 if d.month >= 10 else d.year


def parse_number(value: Any) -> float | None:
    """'$123,456.00' -> 123456.0; '' / 'N/A' -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    s = re.sub(r"[$,\s]", "", str(value))
    try:
        return float(s)
    except ValueError:
        return None


def parse_count(value: Any) -> int | None:
    """Hub counts: '1,234' -> 1234; blank means missing, not zero."""
    n = parse_number(value)
    return None if n is None else int(n)


def normalize_status(value: Any) -> str:
    s = re.sub(r"[^a-z]+", "_", str(value or "").lower()).strip("_")
    if s in ("certified", "denied", "withdrawn", "certified_expired", "certified_withdrawn"):
        return s
    if s.startswith("certified") and "expired" in s:
        return "certified_expired"
    if s.startswith("certified") and "withdrawn" in s:
        return "certified_withdrawn"
    if s.startswith("certif"):
        return "certified"
    if s.startswith("denied") or s == "deny":
        return "denied"
    if s.startswith("withdraw"):
        return "withdrawn"
    return "other"


_UNIT_FACTORS = {
    "year": 1.0,
    "yr": 1.0,
    "hour": 2080.0,
    "hr": 2080.0,
    "week": 52.0,
    "wk": 52.0,
    "bi_weekly": 26.0,
    "biweekly": 26.0,
    "bi": 26.0,
    "month": 12.0,
    "mth": 12.0,
    "mo": 12.0,
}


def normalize_unit(value: Any) -> str | None:
    s = re.sub(r"[^a-z]+", "_", str(value or "").lower()).strip("_")
    if not s:
        return None
    for key in ("bi_weekly", "biweekly", "bi"):
        if s.startswith(key):
            return "bi_weekly"
    for key, unit in (("y", "year"), ("h", "hour"), ("w", "week"), ("m", "month")):
        if s.startswith(key):
            return unit
    return s[:12]


def annual(amount: float | None, unit: str | None) -> float | None:
    if amount is None or amount <= 0:
        return None
    factor = _UNIT_FACTORS.get(unit or "year", 1.0)
    return round(amount * factor, 2)


# Older SOC codes mapped forward to SOC 2018.
SOC_FORWARD = {
    "15-1132": "15-1252",
    "15-1133": "15-1252",
    "15-1111": "15-1221",
    "15-1199.08": "15-2051.01",
}
ML_SOC = frozenset({"15-2051", "15-1221", "15-2041"})
ML_SOC_IF_TITLE = frozenset({"15-1252", "15-1253", "15-1299", "15-2051.01", "15-1211"})


def normalize_soc(value: Any) -> str | None:
    s = text(value)
    if not s:
        return None
    m = re.match(r"(\d{2})[-\s]?(\d{4})(?:\.(\d{2}))?", s)
    if not m:
        return None
    code = f"{m.group(1)}-{m.group(2)}"
    detailed = f"{code}.{m.group(3)}" if m.group(3) and m.group(3) != "00" else code
    if detailed in SOC_FORWARD:
        return SOC_FORWARD[detailed]
    return SOC_FORWARD.get(code, detailed)


def is_ml_case(soc: str | None, job_title: str | None, soc_title: str | None = None) -> bool:
    """ML occupation (SOC 15-2051, 15-1221, 15-2041) or a software/BI code with an ML job title.

    The title is read by the same rules as a crawled posting's title (`pipelines.rules.roles.title_is_ml`), so
    "Technical Recruiter - ML" is not an ML case here either.
    """
    title_ml = bool(job_title) and title_is_ml(job_title)
    if soc in ML_SOC:
        return True
    if soc in ML_SOC_IF_TITLE or soc is None:
        return title_ml
    return title_ml and bool(soc and soc.startswith("15-"))


def yes(value: Any) -> bool | None:
    s = str(value or "").strip().lower()
    if not s:
        return None
    return s in ("y", "yes", "true", "1")
