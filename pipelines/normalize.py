"""NormalizeFieldsPipeline: text, HTML, dates, salary numbers, employment type, the platform's remote value.

The primary place is not parsed here: `pipelines.rules.read` reads it (once per item) from the locations.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, Self

from scrapy.crawler import Crawler

from crawler.items import CONTRACT_FIELDS, RAW_FIELDS, as_mapping, fields_of
from pipelines.dates import to_iso_date
from pipelines.rules.places import remote_mode
from pipelines.text import clean_line, clean_text, sanitize_html, sanitized_html_to_text, unescape_markup

# Whole words only: "Full-time, International" is not an internship, "Contemporary art" not temporary.
_EMPLOYMENT_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("intern", re.compile(r"\b(?:intern(?:s|ship|ships)?|co-?op|trainee|apprentice(?:ship)?)\b", re.I)),
    ("temporary", re.compile(r"\b(?:temp|temporary|seasonal|fixed[ -]?term)\b", re.I)),
    ("contract", re.compile(r"\b(?:contract|contractor|freelance|freelancer|consultant|consulting)\b", re.I)),
    ("part_time", re.compile(r"\bpart[ _-]?time\b", re.I)),
    ("full_time", re.compile(r"\b(?:full[ _-]?time|permanent|regular)\b", re.I)),
]
_PERIODS = {
    "year": "year", "yearly": "year", "annual": "year", "annually": "year", "yr": "year", "salary": "year",
    "month": "month", "monthly": "month", "mo": "month",
    "week": "week", "weekly": "week", "wk": "week",
    "day": "day", "daily": "day",
    "hour": "hour", "hourly": "hour", "hr": "hour",
}  # fmt: skip
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


# Above any real pay in any currency and period (a yearly salary in Korean won or Indonesian rupiah is < 1e10).
MAX_SALARY = 1e10
# Far above any real ad (the longest real descriptions are ~100k characters).
MAX_DESCRIPTION_CHARS = 300_000
# Job ads were not published on the web before this; a later date than a few weeks ahead is a placeholder.
EARLIEST_POSTING = date(1995, 1, 1)
FUTURE_SLACK = timedelta(days=60)


def plausible_posting_date(iso: str) -> bool:
    day = date.fromisoformat(iso)
    return EARLIEST_POSTING <= day <= datetime.now(UTC).date() + FUTURE_SLACK


def employment_type(raw: Any) -> str | None:
    text = " ".join(str(x) for x in raw if x is not None) if isinstance(raw, list) else str(raw or "")
    for value, pattern in _EMPLOYMENT_TYPES:
        if pattern.search(text):
            return value
    return None


def salary_period(raw: Any) -> str | None:
    words = re.findall(r"[a-z]+", str(raw or "").lower())
    for word in words:
        if word in _PERIODS:
            return _PERIODS[word]
    return None


def to_number(raw: Any) -> float | None:
    """123000, "123,000", "$123,000.00", "123k" -> float; None when there is no number."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        try:
            return float(raw)
        except OverflowError:  # an int beyond float range (JSON allows any length)
            return None
    text = str(raw).replace(",", "").strip().lower()
    m = _NUMBER.search(text)
    if not m:
        return None
    value = float(m.group())
    return value * 1000 if text[m.end() : m.end() + 1] == "k" else value


def normalize(fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return normalised fields and the names of fields whose values could not be read."""
    out = dict(fields)
    invalid: list[str] = []
    for name in ("title", "employer_name", "department", "requisition_id", "source_id", "board"):
        value = out.get(name)
        if value is not None:
            out[name] = clean_line(str(value)) or None
    locations = out.get("locations")
    if isinstance(locations, str):
        locations = [locations]
    if locations is not None and not isinstance(locations, list):
        invalid.append("locations")
        locations = None
    out["locations"] = [clean_line(str(x)) for x in locations or [] if x and clean_line(str(x))]

    # The raw description is consumed here: sanitised HTML and text are kept, the raw copy would double storage.
    raw_html = out.pop("description_raw", None) or out.get("description_html")
    if isinstance(raw_html, str) and len(raw_html) > MAX_DESCRIPTION_CHARS:
        # No real ad is this long; cut before sanitising so the stored HTML is still well formed.
        raw_html = raw_html[:MAX_DESCRIPTION_CHARS]
        invalid.append("description_html")
    html = sanitize_html(unescape_markup(raw_html)) if raw_html and isinstance(raw_html, str) else None
    out["description_html"] = html
    if out.get("description_text"):
        out["description_text"] = clean_text(str(out["description_text"]))
    elif html:
        out["description_text"] = sanitized_html_to_text(html)

    for name in ("posted_at", "updated_at"):
        raw = out.get(f"{name}_raw", out.get(name))
        if raw not in (None, ""):
            iso = to_iso_date(raw)
            if iso is None:
                invalid.append(name)
            if name == "posted_at":
                if iso is not None and not plausible_posting_date(iso):
                    invalid.append(name)  # 1970 from a zero timestamp, 2100 from a placeholder: unknown
                    iso = None
                out["posted_at"] = iso
    out.pop("updated_at", None)

    if out.get("employment_type") is None and out.get("employment_type_raw"):
        out["employment_type"] = employment_type(out["employment_type_raw"])
    if out.get("remote") is None and out.get("remote_raw"):
        raw = out["remote_raw"]
        out["remote"] = remote_mode(" ".join(map(str, raw)) if isinstance(raw, list) else str(raw))

    for name in ("salary_min", "salary_max"):
        if out.get(name) is not None:
            number = to_number(out[name])
            if number is not None and not 0 < number < MAX_SALARY:
                number = None  # negative, zero, infinite or astronomical: a placeholder or a typo, not pay
            if number is None:
                invalid.append(name)
            out[name] = number
    if out.get("salary_min") and out.get("salary_max") and out["salary_min"] > out["salary_max"]:
        out["salary_min"], out["salary_max"] = out["salary_max"], out["salary_min"]
    if out.get("salary_period") is not None:
        out["salary_period"] = salary_period(out["salary_period"])
    if out.get("salary_currency") is not None:
        raw_currency = out["salary_currency"]
        currency = raw_currency.strip().upper() if isinstance(raw_currency, str) else ""
        out["salary_currency"] = currency if re.fullmatch(r"[A-Z]{3}", currency) else None
    # The primary place (and a remote mode the locations state) is read once, by ReadAdPipeline's rules.
    return out, invalid


class NormalizeFieldsPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = as_mapping(item)
        if adapter.get("unchanged_id"):
            return item
        fields, invalid = normalize(fields_of(item))
        for name in invalid:
            self.stats.inc_value(f"jobagg/field/{name}/invalid")
        # Consumed: the sanitised HTML and text replace it (a dataclass item keeps the field, set to None).
        adapter["description_raw"] = None
        for name in CONTRACT_FIELDS:
            adapter[name] = fields.get(name)
        for name in RAW_FIELDS:
            if fields.get(name) is not None:
                adapter[name] = fields[name]
        return item
