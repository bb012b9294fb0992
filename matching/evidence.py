"""Role-level sponsorship evidence: what an employer's own filings say about a role like this posting's.

For each employer entity the filings of the last fiscal years are read once (grouped by fiscal year, status,
job title and wage level in SQL) and then counted at three levels for a posting:

- ``similar``: an ML occupation *and* a job title of the same kind as the posting's (same family of ML work:
  engineering, research, data science; for a posting outside ML, a near-identical title), with seniority noted;
- ``ml``: any ML occupation (SOC 15-2051, 15-1221, 15-2041, or a software code with an ML job title);
- ``any``: every occupation.

Windows are counted from today, not from the newest file loaded: stale data must not look recent.
"""

from __future__ import annotations

import re
import statistics
from bisect import insort
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from crawler.models import DolCase, DolEntityYear
from matching.values import annual, fiscal_year
from pipelines.rules.roles import classify_role
from pipelines.rules.seniority import seniority

WINDOW_YEARS = 3
# "No PERM in five years" is a finding of its own: look this far back.
LOOKBACK_YEARS = 5
# Kinds of ML work a person would call "a role like this one".
ROLE_GROUPS = {
    "ml_engineer": "engineering",
    "ml_infra": "engineering",
    "nlp": "engineering",
    "perception": "engineering",
    "speech": "engineering",
    "recsys": "engineering",
    "research_scientist": "research",
    "research_engineer": "research",
    "applied_scientist": "research",
    "data_scientist": "data_science",
}
GROUP_WORDS = {"engineering": "ML engineer", "research": "ML research", "data_science": "data scientist"}
# Seniority bands: PERM wage levels and titles both speak in these coarse steps.
BANDS = {
    "intern": "entry",
    "junior": "entry",
    "mid": "mid",
    "senior": "senior",
    "staff": "staff+",
    "senior_staff": "staff+",
    "principal": "staff+",
    "distinguished": "staff+",
    "manager": "manager",
    "director": "manager",
    "executive": "manager",
}
_SENIORITY_WORDS = re.compile(
    r"\b(?:senior|sr|junior|jr|staff|principal|lead|distinguished|associate|intern|head|chief|[ivx]{1,3}|\d)\b\.?",
    re.I,
)
CERTIFIED = ("certified", "certified_expired")
POSTDOC = re.compile(r"\bpost[- ]?doc(?:toral)?s?\b", re.I)
# ML specialities named the same way in engineers' and scientists' titles ("Speech Scientist" files for a "Speech
# Recognition Engineer"): a filing naming the posting's speciality is for the same work.
_SPECIALITIES = (
    re.compile(r"\b(?:speech|asr|voice)\b"),
    re.compile(r"\b(?:nlp|natural language|computational linguist\w*)\b"),
    re.compile(r"\b(?:computer vision|perception|cv)\b"),
    re.compile(r"\b(?:recommend\w*|ranking|recsys)\b"),
)
WITHDRAWN = ("withdrawn", "certified_withdrawn")


def window_for(today: date) -> tuple[int, int]:
    """The WINDOW_YEARS complete federal fiscal years before `today` and the one it falls in: DOL publishes a year's
    cases quarterly, so the current year alone would leave a window with two years of data for most of a year."""
    fy = fiscal_year(today)
    assert fy is not None
    return fy - WINDOW_YEARS, fy


@dataclass(frozen=True)
class PostingFacts:
    """What the tag compares with the filings: the posting's role, level, pay and what its ad says."""

    title: str
    role_family: str | None
    seniority: str | None
    is_ml: bool | None
    statement: str | None = None
    sentence: str | None = None
    country: str | None = None
    salary_min: float | None = None
    salary_max: float | None = None
    salary_period: str | None = None
    salary_currency: str | None = None

    @property
    def group(self) -> str | None:
        return ROLE_GROUPS.get(self.role_family or "")

    @property
    def band(self) -> str | None:
        return BANDS.get(self.seniority or "")

    @property
    def postdoc(self) -> bool:
        """A postdoctoral post: temporary by design, so not the permanent job a PERM case is filed for."""
        return bool(POSTDOC.search(self.title))

    @property
    def job(self) -> str:
        """The job the title names: level words and the team or speciality after it cut off."""
        return job_of(self.title)

    def annual_pay(self) -> tuple[float, float] | None:
        if self.salary_min is None or (self.salary_currency not in (None, "USD")):
            return None
        unit = {"year": "year", "month": "month", "week": "week", "hour": "hour", "day": None}.get(
            self.salary_period or "year"
        )
        if unit is None:
            return None
        low = annual(self.salary_min, unit)
        high = annual(self.salary_max or self.salary_min, unit)
        return (low, high) if low and high else None


@dataclass
class CaseGroup:
    """Filings of one entity that share kind, fiscal year, status, ML flag, title, wage level and pay unit."""

    kind: str
    fiscal_year: int
    status: str
    is_ml: bool
    title: str
    wage_level: str | None
    wage_unit: str | None
    count: int
    wage_min: float | None
    wage_max: float | None


@dataclass
class EntityFilings:
    """What one entity filed in the lookback: case groups, PERM processing days, and USCIS hub years."""

    groups: list[CaseGroup] = field(default_factory=list)
    perm_days: list[int] = field(default_factory=list)
    uscis: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)


# Where a title's job ends and its team or speciality begins: "Product Designer, Developer Tools".
_SPECIALITY = re.compile(r"\s*(?:[,(|:]|\s[-\u2013\u2014/]\s).*$")
# Software specialities: employers file most of them as plain "Software Engineer" / "Software Developer".
_SOFTWARE_JOB = re.compile(
    r"(?:(?:front|back)[- ]?end|frontend|backend|full[- ]?stack|software|web|mobile|ios|android|platform|"
    r"infrastructure|cloud|systems|devops|site reliability|applications?|api)"
    r"(?: (?:software|application|applications|web|platform))? (?:engineer|developer|development engineer)"
)
_PLAIN_SOFTWARE = re.compile(r"software (?:engineer|developer|development engineer)")
# The ML words in front of a software speciality ("ML Infrastructure Engineer", "AI Platform Engineer").
_ML_WORDS = re.compile(r"^(?:ml|machine learning|ai|llm|mlops)\s+")


@lru_cache(maxsize=100_000)
def _bare(title: str) -> str:
    """The title without its level words, lower-cased (called per filing group a posting is compared with)."""
    return " ".join(_SENIORITY_WORDS.sub(" ", title.lower()).split())


def _head(bare: str) -> str:
    """The job a title names, its team or speciality cut off (a title that starts with one stays whole)."""
    return _SPECIALITY.sub("", bare) or bare


@lru_cache(maxsize=100_000)
def job_of(title: str) -> str:
    return _head(_bare(title))


@lru_cache(maxsize=100_000)
def title_kind(title: str) -> tuple[str | None, str | None, str]:
    """(role group, seniority band, title without level words) of a filed job title."""
    role = classify_role(title)
    group = ROLE_GROUPS.get(role.role_family or "") if role.is_ml else None
    return group, BANDS.get(seniority(title) or ""), _bare(title)


def is_similar(facts: PostingFacts, group: CaseGroup) -> bool:
    """An ML-occupation filing for the same kind of work, or for the job the posting's title names ("Computer
    Vision Scientist" for a "Senior Computer Vision Scientist, Satellite Imagery"); in any occupation, the posting's
    very job written any way employers write it (a postdoc's many names, a software speciality, the same title);
    for a posting outside ML, that job."""
    kind, band, bare = title_kind(group.title)
    job = facts.job
    if facts.group is not None:
        if not group.is_ml:
            # Postdocs are filed under as many names as universities have (scholar, fellow, associate): one job.
            if facts.postdoc and POSTDOC.search(group.title):
                return True
            filed = _head(bare)
            # An ML platform or infrastructure engineer is a software speciality: filed as a software engineer.
            if _software_pair(_ML_WORDS.sub("", job), filed):
                return True
            return _same_job_title(facts.title, group.title) or _job_variant(job, filed)
        if kind == facts.group or (bool(job) and fuzz.token_sort_ratio(job, bare) >= 90):
            return True
        # An ML manager or director leads every kind of ML work: a filing for one is a filing for the others.
        if facts.band == "manager" and band == "manager":
            return True
        # AI labs file every kind of ML work as "Member of Technical Staff" (its level word "staff" cut off here);
        # an ML occupation code says it is ML work.
        if (kind is None and "member of technical" in bare) or _same_speciality(facts.title, bare):
            return True
        # A speciality's scientist ("NLP Scientist") sits between engineers and scientists: either kind is filed.
        return facts.group == "engineering" and job.endswith("scientist") and bare.endswith("scientist")
    # The filing's whole title against the posting's, or against the job it names: a speciality the filing
    # names too must agree ("Research Scientist, Biology" is no "Research Scientist, Machine Learning").
    posting = _bare(facts.title)
    if not posting:
        return False
    return _near(posting, job, bare) or _job_variant(job, _head(bare))


def _job_variant(job: str, filed: str) -> bool:
    """The same job written another way: with a qualifier in front dropped ("Marketing Manager" for a "Product
    Marketing Manager"; two words at least, so a bare "Manager" or "Engineer" never stands for every manager or
    engineer), or added ("Software Engineering Manager" for an "Engineering Manager"), or a software speciality
    and a plain software engineer."""
    if filed.count(" ") >= 1 and job.endswith(" " + filed):
        return True
    if job.count(" ") >= 1 and filed.endswith(" " + job):
        return True
    return _software_pair(job, filed)


@lru_cache(maxsize=100_000)
def _same_job_title(title: str, filed: str) -> bool:
    """The posting's very job filed under another occupation code ("Member of Technical Staff", "Postdoctoral
    Scholar", "Principal Scientist" for a "Principal Scientist, Machine Learning"): employers code one job many
    ways, and careful readers count such filings as the role's own. Two words at least, level words cut where that
    leaves two ("Research Scientist"), kept where it does not ("Principal Scientist", never any "Scientist"); a
    speciality the filing names must agree ("Research Scientist, Biology" is no ML research scientist)."""
    with_levels = _head(" ".join(title.lower().split()))
    for posting, job, filed_as in (
        (_bare(title), job_of(title), _bare(filed)),
        (with_levels, with_levels, " ".join(filed.lower().split())),
    ):
        if job.count(" ") >= 1 and filed_as.count(" ") >= 1:
            return _near(posting, job, filed_as)
    return False


def _near(posting: str, job: str, filed: str) -> bool:
    """Whether a filed title is the posting's whole title or the job it names, near enough to be the same."""
    return max(fuzz.token_sort_ratio(posting, filed), fuzz.token_sort_ratio(job, filed)) >= 90


@lru_cache(maxsize=100_000)
def _same_speciality(title: str, filed: str) -> bool:
    low = title.lower()
    return any(rx.search(low) and rx.search(filed) for rx in _SPECIALITIES)


@lru_cache(maxsize=100_000)
def _software_pair(job: str, filed: str) -> bool:
    """A software speciality and a plain software-engineer filing, either way round ("Frontend Engineer" and
    "Software Engineer III"): the filing names the speciality's occupation, not another job."""
    plain, special = _PLAIN_SOFTWARE.fullmatch, _SOFTWARE_JOB.fullmatch
    return bool((plain(filed) and special(job)) or (plain(job) and special(filed)))


def load_filings(session: Session, entity_ids: Iterable[int], since_fy: int) -> dict[int, EntityFilings]:
    """Every entity's filings from `since_fy` on, grouped in SQL so memory follows titles, not cases."""
    ids = sorted(set(entity_ids))
    out: dict[int, EntityFilings] = {eid: EntityFilings() for eid in ids}
    c = DolCase.__table__.c
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        grouped = (
            select(
                c.entity_id, c.kind, c.fiscal_year, c.status, c.is_ml, c.job_title, c.wage_level, c.wage_unit,
                func.count(), func.min(c.wage_from), func.max(c.wage_from),
            )
            .where(c.entity_id.in_(chunk), c.fiscal_year >= since_fy)
            # Only H-1B counts for H-1B evidence; E-3 and H-1B1 are other visas.
            .where((c.kind == "perm") | func.coalesce(c.visa_class, "H-1B").in_(("H-1B", "H1B", "H-1 B")))
            .group_by(c.entity_id, c.kind, c.fiscal_year, c.status, c.is_ml, c.job_title, c.wage_level, c.wage_unit)
        )  # fmt: skip
        for row in session.execute(grouped):
            eid, kind, fy, status, ml, title, level, unit, n, wmin, wmax = row
            out[eid].groups.append(CaseGroup(kind, fy, status, bool(ml), title or "", level, unit, n, wmin, wmax))
        days = select(c.entity_id, c.received_date, c.decision_date).where(
            and_(
                c.entity_id.in_(chunk),
                c.kind == "perm",
                c.fiscal_year >= since_fy,
                c.status.in_(CERTIFIED),
                c.received_date.is_not(None),
                c.decision_date.is_not(None),
            )
        )
        for eid, received, decided in session.execute(days):
            if decided >= received:
                out[eid].perm_days.append((decided - received).days)
        y = DolEntityYear.__table__.c
        hub = select(
            y.entity_id, y.fiscal_year, y.uscis_initial_approval, y.uscis_initial_denial,
            y.uscis_continuing_approval, y.uscis_continuing_denial,
        ).where(y.entity_id.in_(chunk), y.fiscal_year >= since_fy)  # fmt: skip
        for eid, fy, ia, idn, ca, cd in session.execute(hub):
            if any(v is not None for v in (ia, idn, ca, cd)):
                out[eid].uscis[fy] = (ia or 0, idn or 0, ca or 0, cd or 0)
    return out


def _level() -> dict[str, Any]:
    return {
        "certified": 0, "denied": 0, "withdrawn": 0, "same_level": 0, "wage_levels": {}, "offered_wage": None,
        "certified_years": [],
    }  # fmt: skip


def _add(level: dict[str, Any], g: CaseGroup, band: str | None, same_band: bool) -> None:
    if g.status in CERTIFIED:
        level["certified"] += g.count
        if g.fiscal_year not in level["certified_years"]:
            insort(level["certified_years"], g.fiscal_year)
        if same_band:
            level["same_level"] += g.count
        if g.wage_level:
            key = _wage_level(g.wage_level)
            level["wage_levels"][key] = level["wage_levels"].get(key, 0) + g.count
        low, high = annual(g.wage_min, g.wage_unit), annual(g.wage_max, g.wage_unit)
        if low and high:
            old = level["offered_wage"]
            level["offered_wage"] = [min(old[0], low), max(old[1], high)] if old else [low, high]
    elif g.status == "denied":
        level["denied"] += g.count
    elif g.status in WITHDRAWN:
        level["withdrawn"] += g.count


def _wage_level(raw: str) -> str:
    """'Level III', 'III', '3' -> 'III'."""
    text = raw.strip().upper().replace("LEVEL", "").strip()
    return {"1": "I", "2": "II", "3": "III", "4": "IV"}.get(text, text or raw)


def entity_evidence(facts: PostingFacts, filings: EntityFilings, window: tuple[int, int]) -> dict[str, Any]:
    """Counts at the three levels for PERM and H-1B LCA in the window, plus the five-year and hub findings."""
    lo, hi = window
    # `outside_ml`: similar filings certified under a non-ML occupation code (the posting's own job title).
    perm = {"similar": {**_level(), "outside_ml": 0}, "ml": _level(), "any": _level()}
    lca = {"similar": {**_level(), "outside_ml": 0}, "ml": _level(), "any": _level()}
    perm_lookback = lca_lookback = perm_postdoc = similar_lookback = 0
    titles: dict[str, int] = defaultdict(int)
    for g in filings.groups:
        if not hi - LOOKBACK_YEARS < g.fiscal_year <= hi:
            continue
        similar = is_similar(facts, g)
        if g.status in CERTIFIED:
            if g.kind == "perm":
                perm_lookback += g.count
            else:
                lca_lookback += g.count
            similar_lookback += g.count if similar else 0
        if not lo <= g.fiscal_year <= hi:
            continue
        target = perm if g.kind == "perm" else lca
        _kind, band, _bare = title_kind(g.title)
        same_band = facts.band is not None and band == facts.band
        _add(target["any"], g, band, same_band)
        if g.is_ml:
            _add(target["ml"], g, band, same_band)
        if similar:
            _add(target["similar"], g, band, same_band)
            if not g.is_ml and facts.group is not None and g.status in CERTIFIED:
                target["similar"]["outside_ml"] += g.count
            if g.kind == "perm" and g.status in CERTIFIED:
                titles[g.title] += g.count
        if g.kind == "perm" and g.status in CERTIFIED and POSTDOC.search(g.title):
            perm_postdoc += g.count
    hub_years = sorted(fy for fy in filings.uscis if lo <= fy <= hi)
    hub_recent = [filings.uscis[fy] for fy in hub_years]
    hub_lookback = sum(v[0] + v[2] for fy, v in filings.uscis.items() if hi - LOOKBACK_YEARS < fy <= hi)
    ia, idn, ca, cd = hub_recent[-1] if hub_recent else (0, 0, 0, 0)
    uscis = {
        "approvals": sum(v[0] + v[2] for v in hub_recent),
        "approvals_lookback": hub_lookback,
        "initial_approvals": sum(v[0] for v in hub_recent),
        "initial_denials": sum(v[1] for v in hub_recent),
        "denials": sum(v[1] + v[3] for v in hub_recent),
        "years": hub_years,
        # The newest hub year's approvals and denials: where a run of denials starts.
        "latest": [ia + ca, idn + cd],
        "latest_initial": [ia, idn],  # new employment alone: what a new hire's petition meets
        # New hires approved in the window's two newest hub years: none beside extensions is a pause in hiring.
        "recent_initial": sum(v[0] for v in hub_recent[-2:]),
    }
    days = sorted(filings.perm_days)
    return {
        "perm": perm,
        "lca": lca,
        "uscis": uscis,
        "perm_certified_lookback": perm_lookback,
        "h1b_lookback": lca_lookback + hub_lookback,
        "lca_lookback": lca_lookback,
        "similar_lookback": similar_lookback,  # certified PERM cases and LCAs for similar roles, both kinds
        "similar_titles": [t for t, _n in sorted(titles.items(), key=lambda kv: (-kv[1], kv[0]))[:3]],
        "perm_median_days": int(statistics.median(days)) if days else None,
        "perm_postdoc": perm_postdoc,
    }
