"""Seniority level from a job title.

Levels, lowest first (the contract of the `seniority` field):
``intern, junior, mid, senior, staff, senior_staff, principal, distinguished, manager, director, executive``.

Decisions a maintainer should know about:

- ``junior``: Junior/Jr, Entry level, New grad, University / college / recent grad, Early career, Graduate,
  Associate (as a level), level I / 1, AI resident, fellow, apprentice, postdoc, and graduate programmes
  ("Rotational Program", "Research Associate Program").
- ``mid``: Mid-level, Intermediate, levels II / III / 2 / 3 (most firms that number levels put III below
  Senior, e.g. Google's SWE III is L4); IV / 4 is ``senior``; V / 5 is ``staff``.
- ``senior``: Senior, Sr, Sr., and Lead / Tech Lead (an IC lead is at least senior; lower bound).
- ``manager``: people managers only ("Engineering Manager", "Manager, Data Science", "Senior Manager", TLM).
  Product / program / project / account managers are job names, not levels: their seniority comes from the
  other words ("Senior Product Manager" = senior).
- ``director``: Director (also "Dir."), Senior Director, Associate Director and "Head of ..." (at most employers
  "Head of X" sits at director level; VPs are named as such).
- ``executive``: VP / SVP / EVP / Vice President, Chief ... Officer, CxO, President. "Chief of Staff" is not.
- "Member of Technical Staff" is a generic title, not the staff level; "Senior Member of Technical Staff" is senior.
- Ranges ("Senior / Staff", "Sr/Staff", "Staff or Senior Staff") keep the lower bound and report ``is_range``.
- Words after "to the" / "for the" describe someone else ("Executive Assistant to the VP") and are ignored.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from crawler.items import SENIORITIES

# The vocabulary is the item's, in order of rank.
LEVELS = SENIORITIES
_RANK = {level: i for i, level in enumerate(LEVELS)}
_IC_LEVELS = frozenset(LEVELS[1:8])


class SeniorityResult(NamedTuple):
    level: str | None
    is_range: bool  # the title named several IC levels ("Senior / Staff"); level is the lowest
    levels: tuple[str, ...]  # every level named, lowest first


# Phrases that look like levels but are not: removed before matching. One pattern a line.
_NOT_A_LEVEL = [
    r"\bmembers?\s+of\s+(?:the\s+)?technical\s+staff\b",
    r"\bmts\b",
    r"\bchief\s+of\s+staff\b",
    r"\bstaffing\b",
    r"\b(?:to|for|supporting)\s+(?:the\s+|our\s+)?(?:ceo|cto|vp|svp|evp|vice\s+president|chief|head|director|"
    r"founders?|executives?|leadership)\b.*",
    r"\bexecutive\s+(?:assistant|sponsor|business\s+partner|recruit\w*|search|producer|administrative)\b",
    r"\baccount\s+executive\b",
    r"\b(?:product|program|project|account|marketing|partner|community|office|territory|"
    r"brand|category|content|customer\s+success|success|sales|case|property|hiring|relationship|"
    r"portfolio|campaign|channel|event|social\s+media|release|technical\s+program|technical\s+product|implementation|"
    r"business\s+development|finance|financial|audit|policy|communications|comms|facilities|labeling|"
    r"labelling|crowd|vendor|people|payroll|compliance)\s+"
    r"manag(?:er|ers|ement)\b",
    r"\bhead\s*count\b",
    r"\b(?:early|mid|late)[\s-]+20\d\d\b",
    # A year is not a level, except in a campus hire's "2026 Start".
    r"\b20\d\d\b(?!\s+start\b)",
]

# (level, pattern) in the order they are looked for; the first that matches is kept for overlapping text.
# Multi-word levels come before their parts ("senior staff" before "senior" and "staff").
# Levels ending in "?" are weak: used only when the title names no other IC level ("Staff ML Engineer (Lead)").
_LEVEL_PATTERNS: list[tuple[str, str]] = [
    ("intern", r"\binterns?\b|\binternships?\b|\bco-?op\b|\bstudent\s+researcher\b|\bsummer\s+student\b"),
    ("executive", r"\b(?:s|e)?vp\b|\bvice[\s-]+president\b|\bchief\b(?!\s+of\s+staff)|\bc[etfoi]o\b|\bcaio\b"),
    ("executive", r"\bpresident\b"),
    ("director", r"\bdirector\b|\bdir\b\.?|\bhead\s+of\b|\bhead,|^head\b"),
    ("manager", r"\bmanag(?:er|ers)\b|\bmgr\b|\btlm\b|\bmanaging\b"),
    ("distinguished", r"\bdistinguished\b|\b(?:technical|engineering|research)\s+fellow\b"),
    ("senior_staff", r"\b(?:senior|sr\.?)\s*staff\b"),
    ("principal", r"\b(?:senior|sr\.?)\s+principal\b"),
    ("principal", r"\bprincipal\b"),
    ("staff", r"\bstaff\b"),
    ("senior", r"\bsenior\b|\bsr\b\.?"),
    ("senior?", r"\blead\b|\bleads\b"),
    ("mid", r"\bmid\b(?:[\s-]*(?:level|career))?|\bintermediate\b"),
    (
        "junior",
        r"\bjunior\b|\bjr\b\.?|\bentry[\s-]*level\b|\bnew[\s-]+(?:college[\s-]+)?grad(?:uate)?s?\b|"
        r"\bearly[\s-]+(?:in[\s-]+)?careers?\b|\bapprentice\w*\b|\bpost-?doc\w*\b|\bpostdoctoral\b|"
        r"\b20\d\d\s+start\b|\btrainees?\b|\b(?:university|college|recent|fresh)\s+grad(?:uate)?s?\b|"
        # Programmes that hire graduates ("Rotational Program", "Research Associate Program").
        r"\b(?:rotational|graduate|associate|development|intensive|trainee)\s+program(?:me)?s?\b|"
        # A title that opens with "Associate," names the level ("Associate, Quantitative Developer").
        r"^\s*associate,",
    ),
    (
        "junior?",
        r"\bgraduate\b|\bgrads?\b|\bfellows?\b|\bassociate\b(?=\s+\w)(?!\s+(?:opportunit\w*|programs?|roles?|positions?)\b)|"
        r"\bresident\b|\bresidency\b",
    ),
]

# Numbered levels after the job noun: "Engineer II", "Data Scientist 2", "Level 3". I/1 junior, II-III mid.
_NUMERAL_LEVEL = {"i": "junior", "1": "junior", "ii": "mid", "2": "mid", "iii": "mid", "3": "mid"}
# Some boards type the numeral with a lowercase L ("Research Scientist ll").
_NUMERAL_LEVEL |= {"ll": "mid", "lll": "mid"}
_NUMERAL_LEVEL |= {"iv": "senior", "4": "senior", "v": "staff", "5": "staff"}
_NUMERAL = re.compile(
    r"\b(?:engineer|scientist|developer|analyst|researcher|specialist|architect|officer|trader|technologist|mle|swe|"
    r"level|lvl)\s*[,-]?\s*(iv|v|i{1,3}|l{2,3}|[1-5])\b(?![.+%]\d|\s*(?:\+|%|k\b|years?|yrs?))",
    re.IGNORECASE,
)

_NOT_A_LEVEL_RE = re.compile("|".join(f"(?:{p})" for p in _NOT_A_LEVEL), re.IGNORECASE)
_LEVEL_RES = [(level, re.compile(p, re.IGNORECASE)) for level, p in _LEVEL_PATTERNS]
# "Senior Director", "Associate Director", "Principal Manager": the role's track outranks the modifier.
_TRACK_LEVELS = ("executive", "director", "manager")


@lru_cache(maxsize=8192)
def read_seniority(title: str) -> SeniorityResult:
    """Seniority with detail: whether the title named a range, and every level it named."""
    if not title:
        return SeniorityResult(None, False, ())
    # A placeholder word keeps "Associate Account Executive" reading as "Associate <job>".
    text = _NOT_A_LEVEL_RE.sub(" job ", title)
    found: list[str] = []
    taken: list[tuple[int, int]] = []
    for level, pattern in _LEVEL_RES:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            if level not in found:
                found.append(level)
    if "intern" in found:
        return SeniorityResult("intern", False, ("intern",))
    for track in _TRACK_LEVELS:
        if track in found:
            named = {lv.rstrip("?") for lv in found}
            return SeniorityResult(track, False, tuple(sorted(named, key=_RANK.__getitem__)))
    ic = [lv for lv in found if lv in _IC_LEVELS]
    if not ic:
        ic = [lv.rstrip("?") for lv in found if lv.endswith("?")]
    if not ic:
        m = _NUMERAL.search(text)
        if m:
            ic = [_NUMERAL_LEVEL[m.group(1).lower()]]
    if not ic:
        return SeniorityResult(None, False, ())
    ic.sort(key=_RANK.__getitem__)
    return SeniorityResult(ic[0], len(ic) > 1, tuple(ic))


def seniority(title: str) -> str | None:
    """One of LEVELS, or None when the title does not say; ranges give their lower bound."""
    return read_seniority(title).level
