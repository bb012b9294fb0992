"""Pay from an ad's text ("$201,000 - $285,000", "USD 55/hour", "€80k-95k"), and pay-period normalisation.

Decisions:

- The first amount or range in a sentence about pay counts. An amount qualifies when it has a currency and
  either a period ("per hour", "/yr", "p.a."), a range, or a pay word in its sentence (salary, pay, compensation,
  base, rate, wage, stipend, OTE). Funding ("$100M", "$2B"), and perks in the same sentence (learning stipend,
  home-office budget, sign-on bonus, 401(k)) do not.
- Without a stated period, large amounts (>= 10,000) are yearly and small ones (< 500) hourly; amounts in
  between are left out, since they could be weekly or monthly.
- "$" is USD unless written CA$ / C$ / A$ / AU$ / NZ$ / S$ / HK$; a trailing code ("... USD") confirms.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pipelines.rules.text import key_pattern, lines_with, sentences


class Salary(NamedTuple):
    min: float | None
    max: float | None
    currency: str | None  # ISO 4217
    period: str | None  # year | month | week | day | hour


# Currency marks as written -> ISO 4217. Longest marks first so "CA$" wins over "$". One mark a line.
_CURRENCY_MARKS: list[tuple[str, str]] = [
    ("CA$", "CAD"),
    ("C$", "CAD"),
    ("AU$", "AUD"),
    ("A$", "AUD"),
    ("NZ$", "NZD"),
    ("S$", "SGD"),
    ("HK$", "HKD"),
    ("US$", "USD"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₹", "INR"),
    ("Rs.", "INR"),
    ("¥", "JPY"),
    ("₪", "ILS"),
    ("zł", "PLN"),
]
# ISO codes written next to amounts; the common ones only, since each is a substring search per ad.
_CURRENCY_CODES = [
    "USD",
    "EUR",
    "GBP",
    "CAD",
    "AUD",
    "NZD",
    "SGD",
    "HKD",
    "INR",
    "JPY",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "ILS",
    "BRL",
    "MXN",
    "CNY",
    "KRW",
    "TWD",
    "AED",
    "ZAR",
]

# Period words -> period. Checked in order; one line per spelling family.
_PERIODS: list[tuple[str, str]] = [
    ("hour", r"hour|hourly|hr|/h\b|ph\b"),
    ("day", r"day|daily|diem"),
    ("week", r"week|weekly|wk"),
    ("month", r"month|monthly|mo\b|mth"),
    ("year", r"year|yearly|annual|annually|annum|yr|p\.?\s?a\.?(?!\w)|salary"),
]

_PAY_WORDS = re.compile(
    r"\b(?:salary|salaries|pay|compensation|base|range|rate|wage|wages|stipend|ote|earn|remuneration|"
    r"paid|per\s+annum)\b",
    re.IGNORECASE,
)
_PERK_WORDS = re.compile(
    r"\b(?:learning|education|wellness|home[\s-]office|equipment|relocation|sign[\s-]?on|signing|bonus|401|"
    r"reimburse\w*|allowance|credit|referral|budget|funding|raised|valuation|revenue|investors?)\b",
    re.IGNORECASE,
)
_STRONG_PAY = re.compile(r"\b(?:salary|base\s+pay|pay\s+range|compensation|hourly\s+rate|pay\s+rate|wage)\b", re.I)

_MARK = "|".join(re.escape(m) for m, _ in _CURRENCY_MARKS)
_CODE = "|".join(_CURRENCY_CODES)
_NUMBER = r"\d{1,2}(?:,\d{2})+,\d{3}|\d{1,3}(?:[,'\u2019\u00a0\u202f ]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"


def _amount(c: str, n: str, k: str) -> str:
    """One amount: optional currency mark or code, the number, an optional thousands suffix."""
    currency = rf"(?P<{c}>{_MARK}|(?:{_CODE})\s?(?:{_MARK})?)"
    return rf"(?:{currency}\s?)?(?P<{n}>{_NUMBER})\s?(?P<{k}>[kK](?![a-zA-Z])|thousand)?"


_MONEY = re.compile(
    _amount("c1", "a", "k1")
    + r"(?!\s?(?i:m|mm|b|bn|million|billion)\b)(?!\d)"
    + r"(?:\s*(?:-|\u2013|\u2014|to|and)\s*"
    + _amount("c2", "b", "k2")
    + r"(?!\s?(?i:m|mm|b|bn|million|billion)\b))?"
    + rf"(?:\s?(?P<c3>{_CODE})\b)?",
)
_PERIOD_RES = [(period, re.compile(rf"(?:per|a|an|/|\bp)?\s*(?:{p})", re.IGNORECASE)) for period, p in _PERIODS]
_AFTER_PERIOD = re.compile(
    r"^\s*(?:USD|EUR|GBP|CAD|AUD|INR|CHF)?\s*(?:(?:per|a|an|each|/)\s*|p\.?\s?|\()?\s*(?P<word>[a-z.]+)",
    re.IGNORECASE,
)
_SENTENCE_PERIOD = re.compile(
    r"\b(?:(?P<hour>hourly|per\s+hour)|(?P<day>daily|day\s+rate|per\s+day)|(?P<week>weekly|per\s+week)|"
    r"(?P<month>monthly|per\s+month)|(?P<year>annual|annually|yearly|per\s+year|per\s+annum))\b",
    re.IGNORECASE,
)
# Cheap screen (substrings, case as written): only lines holding a currency mark or code are read.
_KEYS = ("$", "€", "£", "₹", "¥", "₪", "Rs.", "zł", *_CURRENCY_CODES)
_KEY_PATTERN = key_pattern(_KEYS)  # ~30 keys: one scan is 3x faster than one per key


def normalize_period(raw: str | None) -> str | None:
    """year / month / week / day / hour from a platform's value ("per-year-salary", "YEAR", "HOURLY", "annual")."""
    if not raw:
        return None
    text = str(raw).lower().replace("_", " ").replace("-", " ")
    for period, pattern in _PERIODS:
        if re.search(rf"(?<![a-z])(?:{pattern})", text):
            return period
    return None


def _currency(mark: str | None) -> str | None:
    if not mark:
        return None
    mark = mark.strip()
    for code in _CURRENCY_CODES:
        if mark.upper().startswith(code):
            return code
    for written, code in _CURRENCY_MARKS:
        if mark == written:
            return code
    return None


def _number(raw: str, k: str | None) -> float:
    value = float(re.sub(r"[,'\u2019\u00a0\u202f ]", "", raw))
    return value * 1000 if k else value


def _period_after(text: str) -> str | None:
    m = _AFTER_PERIOD.match(text)
    if not m:
        return None
    word = m.group("word").lower().rstrip(".")
    return normalize_period(word) if word not in ("and", "or", "plus", "with", "depending", "in") else None


def _sentence_period(sentence: str) -> str | None:
    m = _SENTENCE_PERIOD.search(sentence)
    return m.lastgroup if m else None


def salary_from_text(text: str | None) -> Salary | None:
    """The pay stated in the text, or None when it states none."""
    if not text:
        return None
    for sentence in (s for _, line in lines_with(text, _KEY_PATTERN, text) for s in sentences(line)):
        if not _KEY_PATTERN.search(sentence):
            continue
        found = _salary_in(sentence)
        if found is not None:
            return found
    return None


def _salary_in(sentence: str) -> Salary | None:
    pay_words = bool(_PAY_WORDS.search(sentence))
    for m in _MONEY.finditer(sentence):
        currency = _currency(m.group("c1")) or _currency(m.group("c2")) or _currency(m.group("c3"))
        if currency is None:
            continue
        low = _number(m.group("a"), m.group("k1") or m.group("k2"))
        high = _number(m.group("b"), m.group("k2")) if m.group("b") else low
        if m.group("b") and m.group("k1") and not m.group("k2"):
            high = _number(m.group("b"), m.group("k1"))
        if low <= 0 or high < low:
            continue
        period = _period_after(sentence[m.end() :]) or _sentence_period(sentence)
        is_range = m.group("b") is not None
        # Perks name themselves right next to the amount: "$1,500 learning stipend", "sign-on bonus of $10,000".
        before = " ".join(sentence[: m.start()].split()[-3:])
        after_words = sentence[m.end() :].split()[:2]
        after = "" if after_words and after_words[0].lower() in ("+", "plus", "and", "&") else " ".join(after_words)
        if _PERK_WORDS.search(after) or (_PERK_WORDS.search(before) and not _STRONG_PAY.search(before)):
            continue
        if not (period or is_range or pay_words):
            continue
        if period is None:
            if low >= 10_000:
                period = "year"
            elif high < 500:
                period = "hour"
            else:
                continue
        return Salary(low, high, currency, period)
    return None
