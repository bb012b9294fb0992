"""Degree requirement, EB-2 / EB-3 hint and minimum years of experience from the ad's text.

Decisions:

- Only *required* degrees count. A degree is preferred-only when its clause says so ("PhD preferred", "a plus",
  "nice to have", "encouraged") or it sits under a "Preferred qualifications" / "Nice to have" / "Bonus points" /
  "Ideally" heading. Degree words under duties, benefits or about-the-company headings are not requirements.
  Any other heading keeps requirements in force, whatever came before it: "What we're looking for", "You have",
  "Who you are", "What it takes" after "What you'll do" start a requirements section. A degree someone is still
  "pursuing" or that describes the team ("our founders hold PhDs") is not a requirement.
- ``degree_min`` is the lowest degree that satisfies the requirement: "BS, MS, or PhD" -> bachelor; "MS or PhD
  required" -> master; "Master's, or Bachelor's plus 5 years" -> bachelor. A bare "degree in CS" is a bachelor's.
  "Advanced" / "graduate" degree means master's.
- ``eb_category_hint``: EB-2 when every accepted path is an advanced degree, or a bachelor's with at least 5 years
  of required experience (ads rarely write "progressive"; we do not require the word). EB-3 when a bachelor's
  with less experience is enough, or when "equivalent (practical) experience" may replace the degree (a job
  that can be filled without the degree does not require an advanced one). None without a degree requirement.
  "Or foreign equivalent" / "or equivalent" (a degree) does not weaken the requirement.
- ``years_experience_min``: the fewest years any qualifying candidate needs. Years stated with a degree
  ("BS with 8+ years, or MS with 6+") belong to that path; years stated on their own apply to every path, and
  when several are required together ("10+ years, including 3 leading teams") the largest is the requirement.
  Ranges keep their lower bound ("3-5 years" -> 3). Preferred-only years do not count.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pipelines.rules.text import key_pattern, lines_with, sentences

LEVEL_RANK = {"bachelor": 1, "master": 2, "phd": 3}


class DegreeResult(NamedTuple):
    degree_min: str | None  # bachelor | master | phd
    eb_category_hint: str | None  # EB-2 | EB-3
    years_experience_min: float | None


# Degree words by level, matched on lowercased text. One pattern a line.
_DEGREES: dict[str, list[str]] = {
    "phd": [r"\bph\.?\s?d\b\.?", r"\bdoctor(?:ate|al)(?:\s+degree)?\b", r"\bd\.?phil\b"],
    "master": [
        r"\bmaster(?:'|\u2019)?s?\b(?:\s+degree)?(?:\s+of\s+(?:science|engineering|arts))?",
        r"\bm\.s\.|\bm\.\s?sc\b\.?|\bmsc\b|\bm\.?eng\b\.?|\bm\.?\s?tech\b\.?|\bmba\b",
        r"\b(?:advanced|graduate|post-?graduate)\s+degree\b",
    ],
    "bachelor": [
        r"\bbachelor(?:'|\u2019)?s?\b(?:\s+degree)?(?:\s+of\s+(?:science|engineering|arts|technology))?",
        r"\bb\.s\.|\bb\.\s?sc\b\.?|\bbsc\b|\bb\.a\.|\bb\.e\.|\bb\.?eng\b\.?|\bb\.?\s?tech\b\.?",
        r"\b(?:undergraduate|4[\s-]year|four[\s-]year|college|university)\s+degree\b",
    ],
}
# Abbreviations only count in capitals ("MS or PhD", not "ms"); matched on the text as written.
_DEGREE_CAPS: dict[str, list[str]] = {
    "master": [r"\bMS\b(?!\s+(?:Office|Excel|Word|SQL|Teams|Azure|Windows|PowerPoint|Access|Project|Visio))"],
    "bachelor": [r"\b(?:BS|BA|BE)\b"],
}
# A degree named without a level ("Degree in Computer Science", "technical degree") is a bachelor's.
_BARE_DEGREE = re.compile(r"\bdegree\b")

# Clauses that name a degree without requiring one. One pattern a line.
_NOT_A_REQUIREMENT = [
    r"pursuing",
    r"enrolled",
    r"working\s+towards?",
    r"currently\s+(?:a\s+)?(?:student|completing)",
    r"graduat(?:ing|es)\b",
    r"students?\b",
    r"\bno\s+degree",
    r"degree\s+(?:is\s+)?not\s+required",
    r"\bour\s+(?:team|founders?|researchers|people|engineers)",
    r"\bphds?\s+from\b",
    r"\bteam\s+of\b",
    r"\bfounded\s+by\b",
    r"\balumni\b",
]
_PREFERRED_CUE = re.compile(
    r"\b(?:preferred|preferably|a\s+plus|(?:big|huge|strong)\s+plus|nice[\s-]to[\s-]have|bonus|ideally|desired|desirable|"
    r"advantage(?:ous)?|encouraged|helpful|is\s+welcome)\b",
)
# "preferred but not required" is not a requirement.
_REQUIRED_CUE = re.compile(r"\b(?<!not )(?<!n't )(?:required|requirement|must|minimum|mandatory)\b")
_EQUIVALENT_EXPERIENCE = re.compile(
    r"\bor\s+(?:an?\s+)?equivalent\s+(?:\w+\s+){0,2}experience|\bequivalent\s+combination\s+of\s+education|"
    r"\bor\s+(?:relevant|related|comparable)\s+(?:\w+\s+)?experience\b|\bin\s+lieu\s+of\s+(?:a\s+)?degree",
)
# Section headings: what follows them is required, preferred, or neither (duties, benefits, about the company).
# Preferred only when the heading says so; any other heading that addresses the candidate keeps requirements in
# force ("What we're looking for", "You have", "What it takes"), whatever heading came before it.
_HEADING_PREFERRED = re.compile(
    r"\b(?:preferred|nice[\s-]to[\s-]haves?|bonus|plus(?:es)?|desired|desirable|ideally|stand\s+out|"
    r"extra\s+credit|good\s+to\s+have|a\s+plus)\b",
)
_HEADING_REQUIRED = re.compile(
    r"\b(?:minimum|basic|required|requirements?|qualifications?|must[\s-]haves?|what\s+you(?:'ll|\s+will)?\s+"
    r"(?:need|bring)|you\s+(?:have|bring|are)|about\s+you|who\s+you\s+are|education|experience|skills)\b",
)
_HEADING_OTHER = re.compile(
    r"\b(?:responsibilities|duties|what\s+you(?:'ll|\s+will)(?:\s+be)?\s+(?:do|doing|work\s+on)|the\s+role|"
    r"(?:in\s+)?this\s+role|day[\s-]to[\s-]day|your\s+impact|the\s+work|the\s+opportunity|"
    r"about\s+(?!you\b|the\s+candidate\b)\w+|benefits|perks|compensation|salary|pay\s+range|why\s+join|what\s+we\s+offer|"
    r"our\s+(?:team|culture|values|mission)|the\s+team|who\s+we\s+are|equal\s+opportunity)\b",
)
# A heading none of the above names still keeps requirements in force when it speaks to the candidate.
_HEADING_CANDIDATE = re.compile(
    r"\b(?:you|your|you're|you'll|you've|looking\s+for|candidate|profile|background|what\s+it\s+takes|"
    r"expect|need|must)\b",
)
_HEADING_BULLET = re.compile(r"^\s*[-*\u2013\u2014\u2022\u25cf\u25aa]")
_INLINE_HEADING = re.compile(r"^\s*([A-Za-z][\w\s'\u2019/&-]{1,40}):\s*")

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "fifteen": 15,
}
_YEARS = re.compile(
    r"\b(?P<n>\d{1,2}(?:\.\d)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen)\s*\+?\s*"
    r"(?:(?:-|\u2013|to)\s*\d{1,2}\s*\+?\s*)?(?:plus\s+)?(?:(?:additional|more|further|total)\s+)?(?:years?|yrs?)\b(?!\s*(?:old|of\s+age|ago|degree|"
    r"program|university|college|warranty|(?:of\s+)?(?:history|anniversary|operations?|business|existence|"
    r"growth|service|innovation|research\s+at)))(?=(?P<after>[^.;]{0,40}))",
)
# Words right after "N years" that make it a requirement on experience (not "for 10 years, we have...").
_YEARS_CONTEXT = re.compile(
    r"^\s*(?:\+\s*)?(?:of|in|with|building|working|developing|designing|leading|shipping|writing|doing|as|at|"
    r"hands|professional|industry|relevant|related|post|progressive|experience|exp|combined|full-time|"
    r"practical|applied|research|software|machine|ml|deep|production|academic)\b",
)
_EXPERIENCE_BEFORE = re.compile(r"experience\s*(?::|of|-)\s*$")
_GROUP_JOINER = re.compile(r"^[\s,/()&-]*(?:(?:or|and|and/or)\b[\s,/()-]*)?(?:degree\b[\s,/()-]*)?$")
_CLAUSE_SPLIT = re.compile(r";\s*")
# Screens before the dozen degree patterns run (substrings of lowercased text, abbreviations as written);
# false positives only cost time.
_DEGREE_KEYS = (
    "degree",
    "bachelor",
    "master",
    "phd",
    "ph.d",
    "ph. d",
    "doctor",
    "b.s",
    "m.s",
    "bsc",
    "msc",
    "b.sc",
    "m.sc",
    "b.tech",
    "btech",
    "m.tech",
    "mtech",
    "b.eng",
    "beng",
    "m.eng",
    "meng",
    "mba",
    "b.a.",
    "b.e.",
)
_DEGREE_ABBREVIATIONS = re.compile(r"\b(?:BS|MS|BA|BE)\b")
_CANDIDATE_KEYS = ("year", "yr", *_DEGREE_KEYS)
_CANDIDATE_PATTERN = key_pattern(_CANDIDATE_KEYS)  # one scan: 1.5x faster than 26
_ABBREVIATION_KEYS = ("BS", "MS", "BA", "BE")
_DIGIT = re.compile(r"\d")
# How far back (in lines) a degree line looks for the heading of its section.
_HEADING_LOOKBACK = 60


def _has_degree_word(text: str, low: str) -> bool:
    return any(key in low for key in _DEGREE_KEYS) or bool(_DEGREE_ABBREVIATIONS.search(text))


_DEGREE_RES = [(level, re.compile(p)) for level, pats in _DEGREES.items() for p in pats]
_DEGREE_CAPS_RES = [(level, re.compile(p)) for level, pats in _DEGREE_CAPS.items() for p in pats]
_NOT_A_REQUIREMENT_RE = re.compile("|".join(_NOT_A_REQUIREMENT))


class _Path(NamedTuple):
    level: str
    years: float | None


def _mentions(clause: str, low: str) -> list[tuple[int, int, str]]:
    """Degree mentions (start, end, level), overlaps resolved in favour of the earliest, longest match."""
    found: list[tuple[int, int, str]] = []
    for level, pattern in _DEGREE_RES:
        for m in pattern.finditer(low):
            found.append((m.start(), m.end(), level))
    for level, pattern in _DEGREE_CAPS_RES:
        for m in pattern.finditer(clause):
            found.append((m.start(), m.end(), level))
    found.sort(key=lambda x: (x[0], -(x[1] - x[0])))
    kept: list[tuple[int, int, str]] = []
    for item in found:
        if kept and item[0] < kept[-1][1]:
            continue
        kept.append(item)
    if not kept:
        bare = _BARE_DEGREE.search(low)
        if bare:
            kept.append((bare.start(), bare.end(), "bachelor"))
    return kept


def _years(text: str, *, with_degree: bool = False) -> list[tuple[int, float]]:
    """(position, years) of each experience requirement in lowercased `text`; ranges give their lower bound.

    Next to a degree, "N years" needs no context ("or Master's degree with 4+ years, or PhD with 1+ year").
    """
    out: list[tuple[int, float]] = []
    for m in _YEARS.finditer(text):
        raw = m.group("n")
        value = float(_NUMBER_WORDS.get(raw, 0) or raw)
        if value <= 0 or value > 30:
            continue
        before = text[max(0, m.start() - 20) : m.start()]
        if with_degree or _YEARS_CONTEXT.match(m.group("after")) or _EXPERIENCE_BEFORE.search(before):
            out.append((m.start(), value))
    return out


def _looks_like_heading(line: str) -> bool:
    """Short, unpunctuated, no figures: "Minimum qualifications", "Nice to have", "We'd love to hear from you if"."""
    return (
        len(line) < 70
        and line.count(" ") < 10
        and not line.endswith((".", "!", ";", ","))
        and not _DIGIT.search(line)
        and not _HEADING_BULLET.match(line)
    )


def _heading_mode(sentence: str, mode: str | None) -> tuple[str | None, str | None, bool]:
    """(mode for this sentence, mode for the following ones, whether the sentence is only a heading)."""
    stripped = sentence.strip()
    inline = _INLINE_HEADING.match(stripped) if ":" in stripped[:45] else None
    head = inline.group(1) if inline else stripped
    is_heading_only = bool(inline) and not stripped[inline.end() :].strip() if inline else False
    # A line naming a degree is content, not a heading ("MS or PhD in CS or related experience").
    looks_like_heading = inline is not None or (
        _looks_like_heading(stripped) and not _has_degree_word(stripped, stripped.lower())
    )
    if not looks_like_heading:
        return mode, mode, False
    head = head.lower().replace("\u2019", "'")
    if _HEADING_PREFERRED.search(head):
        new = "preferred"
    elif _HEADING_REQUIRED.search(head):
        new = "required"
    elif _HEADING_OTHER.search(head):
        new = "other"
    elif _HEADING_CANDIDATE.search(head) and not _has_degree_word(stripped, stripped.lower()):
        new = "required"
    else:
        return mode, mode, False
    if inline is None:
        is_heading_only = len(stripped) < 60 and not _has_degree_word(stripped, stripped.lower())
    return new, new, is_heading_only


def read_degree(text: str | None) -> DegreeResult:
    """Lowest required degree, EB-2/EB-3 hint and minimum years of experience; Nones when the ad is silent."""
    if not text:
        return DegreeResult(None, None, None)
    low = text.lower()
    lines = dict(lines_with(text, _CANDIDATE_PATTERN, low))
    lines.update(lines_with(text, _ABBREVIATION_KEYS, text))
    paths: list[_Path] = []
    loose_years: list[float] = []
    experience_alternative = False
    for start in sorted(lines):
        mode = _mode_before(text, start)
        for sentence in sentences(lines[start]):
            here, mode, heading_only = _heading_mode(sentence, mode)
            if heading_only or here == "other":
                continue
            clauses = _CLAUSE_SPLIT.split(sentence) if ";" in sentence else (sentence,)
            for clause in clauses:
                clause_low = clause.lower()
                if len(clause_low) != len(clause):
                    # Rare letters whose lowercase is longer would shift match offsets; read as written.
                    clause_low = clause
                has_years = "year" in clause_low or "yr" in clause_low
                has_degree = _has_degree_word(clause, clause_low)
                if not (has_years or has_degree):
                    continue
                preferred = here == "preferred" or bool(_PREFERRED_CUE.search(clause_low))
                if preferred and not _REQUIRED_CUE.search(clause_low):
                    continue
                requirement = has_degree and not _NOT_A_REQUIREMENT_RE.search(clause_low)
                mentions = _mentions(clause, clause_low) if requirement else []
                if not mentions:
                    if has_years:
                        loose_years.extend(v for _, v in _years(clause_low))
                    continue
                if _EQUIVALENT_EXPERIENCE.search(clause_low):
                    experience_alternative = True
                paths.extend(_paths(clause_low, mentions, _years(clause_low, with_degree=True)))
    general = max(loose_years) if loose_years else None
    if not paths:
        return DegreeResult(None, None, general)
    effective = [_Path(p.level, p.years if p.years is not None else general) for p in paths]
    degree_min = min((p.level for p in effective), key=LEVEL_RANK.__getitem__)
    if experience_alternative:
        hint = "EB-3"
    elif all(p.level != "bachelor" or (p.years or 0) >= 5 for p in effective):
        hint = "EB-2"
    else:
        hint = "EB-3"
    stated = [p.years for p in effective if p.years is not None]
    return DegreeResult(degree_min, hint, min(stated) if stated else None)


def _mode_before(text: str, start: int) -> str | None:
    """The section a line sits in, from the nearest heading above it: required / preferred / other / None."""
    end = start
    for _ in range(_HEADING_LOOKBACK):
        if end <= 0:
            return None
        begin = text.rfind("\n", 0, end - 1) + 1
        line = text[begin : end - 1].strip()
        end = begin
        if not line or not (":" in line[:45] or _looks_like_heading(line)):
            continue
        found: str | None = None
        for sentence in sentences(line):
            found = _heading_mode(sentence, found)[1]
        if found is not None:
            return found
    return None


def _paths(clause: str, mentions: list[tuple[int, int, str]], years: list[tuple[int, float]]) -> list[_Path]:
    """Alternatives in one clause: each group of adjacent degrees ("BS/MS") with the years stated for it."""
    groups: list[list[tuple[int, int, str]]] = []
    for m in mentions:
        if groups and _GROUP_JOINER.match(clause[groups[-1][-1][1] : m[0]]):
            groups[-1].append(m)
        else:
            groups.append([m])
    out: list[_Path] = []
    for i, group in enumerate(groups):
        start = group[-1][1]
        end = groups[i + 1][0][0] if i + 1 < len(groups) else len(clause)
        attached = [v for pos, v in years if start <= pos < end]
        if not attached and i == 0:
            # "5+ years of experience with a Bachelor's degree": years written before the first degree.
            attached = [v for pos, v in years if pos < group[0][0]]
        if not attached and len(groups) == 1:
            attached = [v for _, v in years]
        value = max(attached) if attached else None
        out.extend(_Path(level, value) for _, _, level in group)
    return out
