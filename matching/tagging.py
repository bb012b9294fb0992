"""Join displayed employers to DOL entities and tag every posting's sponsorship, with checkable evidence.

The question a tag answers is the user's: *will this employer sponsor this visa for a role like this one?*
Per visa kind (`green_card` from PERM, `h1b` from LCA and the USCIS hub), from the joined employer's filings in
the three complete fiscal years before today and the current one (matching/evidence.py), the rules are
(docs/sponsorship.md):

- a posting outside the US (its territories are the US here) gets no US visa tag at all;
- the ad explicitly refuses sponsorship → `unlikely`, whatever the history says;
- no join, an unsure join, or no data of that kind loaded → `unknown` (`possible` when the ad offers sponsorship);
- failures outnumber certifications (at least two): denied and withdrawn PERM cases; denied LCAs or denied USCIS
  petitions, all or new-employment ones alone (over the window or in its newest hub year) → `unlikely`;
- recent certified filings for similar roles (ML occupation and the same kind of ML work or speciality, or the job
  the title names, or the posting's very job title under any occupation code), at least two, or one when the ad
  offers sponsorship or the employer runs a green-card programme, reaching the newest year of the data (or the
  employer filing that visa in it), not all at wage levels below the posting's seniority → `likely`; for H-1B the
  USCIS hub must also show approvals in the lookback (an LCA is an attestation DOL certifies almost automatically)
  and deny under a quarter, or, without recent hub data, five similar LCAs; without LCA files, two recent similar
  PERM cases and approved petitions; an internship's H-1B is `unlikely` (`possible` at best when its ad offers) and
  its green card `unlikely` (PERM needs a permanent job);
- an employer seen only extending its H-1B staff, with no new filing for two loaded years → `unlikely` (stopped
  sponsoring new hires), unless the ad offers sponsorship;
- a non-ML posting whose job an employer with 100+ certified LCAs in the window never files → `unlikely` where the
  rest would say `possible`; H-1B only: certified PERM cases but no H-1B filing in the lookback → `unlikely`
  ("sponsors green cards, not H-1Bs"), and no new-hire petition approved in the hub's newest year beside 25+
  extensions → `unlikely`;
- `likely` becomes `possible` when the role's own PERM cases fail a third of the time, when a director's posting
  has only individual contributors' filings beside it (for H-1B, in its PERM cases too), when the loaded data of
  the visa's source stop over two years back, or (H-1B) when the hub's two newest years show extensions but no
  new hire;
- recent employer-level or ML-occupation filings, or similar ones below the posting's level → `possible`;
- green card only: H-1B filings but no certified PERM in five fiscal years → `unlikely` ("sponsors H-1B, not green
  cards"), unless a new, small sponsor, or an ad offering sponsorship beside under three years of H-1Bs
  (`possible`), or hub approvals with no LCA under the name (`unknown`: its DOL filings are under another); PERM
  under 1% of 100+ H-1B filings (for an ML posting, also under 5% of its ML H-1Bs) → `unlikely`; a postdoc posting
  without PERM cases for postdocs → `unlikely` (PERM needs a permanent job);
- older filings, even before the lookback, or a PERM case filed and withdrawn → `possible`; joined with nothing
  certified in the loaded years → `unlikely`.

Several joined entities are kept apart: each has its own evidence and the tag rests on the strongest one.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from crawler.models import (
    DolCase,
    DolEntity,
    DolEntityYear,
    Employer,
    EmployerMatch,
    Posting,
    PostingSponsorship,
    UscisEmployerYear,
    utcnow,
)
from matching.bulk import delete_ids, diff_rows, insert_rows, update_rows
from matching.entities import HUB_COLS
from matching.evidence import (
    GROUP_WORDS,
    LOOKBACK_YEARS,
    EntityFilings,
    PostingFacts,
    entity_evidence,
    load_filings,
    window_for,
)
from matching.join import TOKEN_PLATFORMS, EntityIndex, JoinHints, MatchResult, posting_hints
from matching.normalize import format_fein
from matching.overrides import apply_stored
from pipelines.rules.places import is_us

VISAS = ("green_card", "h1b")
# Jobs that seldom meet the H-1B's specialty-occupation test (no specific degree required): an employer's silence on
# them says as much at any size.
_NON_SPECIALTY = re.compile(
    r"\b(?:recruit\w*|talent acquisition|sourcer|account executive|sales(?! engineer)|business development|"
    r"customer success|customer support|support specialist)\b",
    re.I,
)
# Similar-role certifications in the window needed for `likely` (one more than this when the ad is silent).
LIKELY_SIMILAR = 2
# Without recent USCIS hub data an H-1B `likely` needs this many similar-role LCAs.
LIKELY_LCA_ALONE = 5
DENIALS_DOMINATE_MIN = 2
# The lowest wage level that fits a posting's seniority band: filings made only below it are the same job, not "a
# role like this one" (a staff posting beside Level I-II filings); entry and mid postings fit every level.
WAGE_ORDER = ("I", "II", "III", "IV")
BAND_FLOOR = {"senior": "II", "staff+": "III", "manager": "III"}
# The highest wage level an entry-level (junior, new-grad) posting is filed at.
ENTRY_CEILING = "II"
# An employer whose first H-1B is this many fiscal years old or less is too new for green-card filings to show
# (a PERM case is filed a year or more into the job and takes over a year to decide).
NEW_SPONSOR_YEARS = 3
# ... and files this few: a big H-1B programme first seen lately is one the loaded years only start to show.
NEW_SPONSOR_MAX_FILINGS = 20
# PERM cases under this share of H-1B filings over the lookback, with at least TOKEN_H1B_MIN of those: an employer
# that sponsors H-1Bs and hardly ever a green card.
TOKEN_PERM_SHARE = 0.01
TOKEN_H1B_MIN = 100
# An employer certifying this many PERM cases in the window, in at least two of its years, runs a green-card
# programme: one recent case for a similar role then says as much as two would elsewhere.
PROGRAMME_PERM = 5
# Fiscal years of H-1B filings with no PERM after which an ad's offer of sponsorship no longer reads as green cards.
H1B_ONLY_YEARS = 3
# Fiscal years with certified LCAs for the role that make one similar-role PERM case `likely` (see _h1b_track).
LCA_TRACK_YEARS = 2
# USCIS denying this share of an employer's H-1B petitions keeps its H-1B tag at `possible` at best (the hub's
# national denial rate runs at a few percent: a quarter is many times the usual).
HUB_DENIED_SHARE = 1 / 4
# ... and, for an ML posting, under this share of its ML-occupation H-1Bs: a hospital's hundreds of physician H-1Bs
# say little about how it treats its few ML staff.
TOKEN_ML_SHARE = 0.05
# A new sponsor is one still filing: its last H-1B filing at most this many fiscal years before the current one.
NEW_SPONSOR_STALE = 2
# Loaded fiscal years without a new filing, beside extensions only, after which an employer has stopped sponsoring.
STOPPED_YEARS = 2
# The share of the role's own PERM cases denied or withdrawn that keeps a green card at `possible` (PERM's usual
# denial rate is a few percent; a third failing is an employer that does not reliably get there).
ROLE_FAILED_SHARE = 1 / 3
# Fiscal years behind today's at which loaded data no longer say what an employer does now (FY2024 in FY2027).
STALE_DATA_YEARS = 2
# Extensions approved since the last new hire, at least, for "stopped sponsoring" (one is one worker's).
STOPPED_EXTENSIONS = 2
# Extensions approved in the hub's newest year, with no new hire beside them, that say H-1B hiring has stopped.
NO_NEW_HIRES_EXTENSIONS = 25
# SQLite caps bound parameters per statement; stay well under every backend's limit.
IN_CHUNK = 900
# The counts a DolEntityYear row holds for one entity and fiscal year (the hub's figures aside).
YEAR_COUNTS = (
    "perm_certified", "perm_certified_expired", "perm_denied", "perm_withdrawn", "perm_ml", "perm_ml_certified",
    "lca_certified", "lca_denied", "lca_withdrawn", "lca_ml_certified", "lca_secondary",
)  # fmt: skip


@dataclass
class DataCoverage:
    """The latest fiscal year (and decision) loaded per source; None means that source was never loaded."""

    perm: int | None
    lca: int | None
    uscis: int | None
    perm_latest: date | None = None
    lca_latest: date | None = None


def coverage(session: Session) -> DataCoverage:
    def latest(kind: str) -> tuple[int | None, date | None]:
        row = session.execute(
            select(func.max(DolCase.fiscal_year), func.max(DolCase.decision_date)).where(DolCase.kind == kind)
        ).one()
        return row[0], row[1]

    perm_fy, perm_latest = latest("perm")
    lca_fy, lca_latest = latest("lca")
    hub = session.scalar(select(func.max(UscisEmployerYear.fiscal_year)))
    return DataCoverage(perm_fy, lca_fy, hub, perm_latest, lca_latest)


def today_utc() -> date:
    return datetime.now(UTC).date()


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _entity_evidence(session: Session, entity_ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    if not entity_ids:
        return out
    # populate_existing: a session that loaded these rows before a rebuild must not serve its stale copies.
    fresh = {"populate_existing": True}
    for e in session.scalars(select(DolEntity).where(DolEntity.id.in_(entity_ids)).execution_options(**fresh)):
        out[e.id] = {"entity": e, "years": []}
    years = (
        select(DolEntityYear)
        .where(DolEntityYear.entity_id.in_(entity_ids))
        .order_by(DolEntityYear.entity_id, DolEntityYear.fiscal_year)
        .execution_options(**fresh)
    )
    for y in session.scalars(years):
        out[y.entity_id]["years"].append(y)
    return out


def _match_evidence(result: MatchResult | None, entities: dict[int, dict[str, Any]]) -> dict[str, Any]:
    if result is None:
        return {"outcome": "none"}
    ents = []
    for c in result.matches:
        e = entities[c.entity_id]["entity"] if c.entity_id in entities else None
        ents.append(
            {
                "name": c.name,
                "entity_id": c.entity_id,  # dol_entities.id: stable across rebuilds (entities are kept by key)
                "fein": format_fein(c.fein),
                "method": c.method,
                # What the posting said that named this filer (the ad's legal name, the site, the board token).
                "via": c.variant if c.method in POSTING_PATHS else None,
                "score": round(c.score, 1),
                "staffing_firm": bool(e and e.is_staffing),
                "sample_cases": (e.sample_cases if e else None) or {},
            }
        )
    ru = result.runner_up
    return {
        "query": result.query,
        "outcome": result.outcome,
        "method": result.best.method if result.best else None,
        "score": round(result.best.score, 1) if result.best else None,
        "entities": ents,
        "runner_up": ru.as_json() if ru else None,
        **({"ruled_out": [c.name for c in result.ruled_out]} if result.ruled_out else {}),
    }


def _sum_years(years: Iterable[DolEntityYear]) -> dict[int, dict[str, Any]]:
    by_fy: dict[int, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for y in years:
        row = by_fy[y.fiscal_year]
        for attr in YEAR_COUNTS:
            row[attr] += getattr(y, attr) or 0
        for attr in HUB_COLS:
            val = getattr(y, attr)
            if val is not None:
                row[attr] = (row.get(attr) or 0) + val
        for attr in ("perm_latest_decision", "lca_latest_decision"):
            val = getattr(y, attr)
            if val and (row.get(attr) in (None, 0) or val > row[attr]):
                row[attr] = val
        if y.perm_wage_min is not None:
            row["perm_wage_min"] = min(row.get("perm_wage_min") or y.perm_wage_min, y.perm_wage_min)
            row["perm_wage_max"] = max(row.get("perm_wage_max") or 0, y.perm_wage_max or 0)
        if y.perm_wage_levels:
            levels = row.setdefault("perm_wage_levels", {})
            for k, n in y.perm_wage_levels.items():
                levels[k] = levels.get(k, 0) + n
            # Sorted keys: the evidence JSON must not depend on which entity's levels came first.
            row["perm_wage_levels"] = dict(sorted(levels.items()))
    return by_fy


def _span(window: tuple[int, int]) -> str:
    return f"FY{window[0]}-{str(window[1])[2:]}"


def _levels(wage_levels: dict[str, int]) -> str:
    present = [lv for lv in WAGE_ORDER if wage_levels.get(lv)]
    if not present:
        return ""
    return f"Level {present[0]}" if len(present) == 1 else f"Level {present[0]}-{present[-1]}"


def _n(count: int, noun: str) -> str:
    """ "1 certified PERM case", "3 certified PERM cases": `noun` is written in the singular."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _denied(level: dict[str, Any]) -> str:
    return "none denied" if not level["denied"] else f"{level['denied']} denied"


def history(summed: dict[int, dict[str, Any]], window: tuple[int, int]) -> dict[str, int | None]:
    """From an entity's yearly figures (`_sum_years`): the last fiscal year before the lookback with a certified
    PERM case and with an H-1B filing (certified LCA or USCIS approval), the first and the last year with an H-1B
    filing at all, and how many years of the lookback have one."""
    start = window[1] - LOOKBACK_YEARS + 1
    perm_before: int | None = None
    h1b_before: int | None = None
    h1b_first: int | None = None
    h1b_last: int | None = None
    h1b_years = 0
    for fy, row in summed.items():
        perm = row["perm_certified"] + row["perm_certified_expired"]
        hub = (row.get("uscis_initial_approval") or 0) + (row.get("uscis_continuing_approval") or 0)
        h1b = row["lca_certified"] + hub
        if fy < start and perm:
            perm_before = max(perm_before or fy, fy)
        if fy < start and h1b:
            h1b_before = max(h1b_before or fy, fy)
        if h1b and fy <= window[1]:
            h1b_first = min(h1b_first or fy, fy)
            h1b_last = max(h1b_last or fy, fy)
            h1b_years += fy >= start
    return {
        "perm_last_before": perm_before,
        "h1b_last_before": h1b_before,
        "h1b_first": h1b_first,
        "h1b_last": h1b_last,
        "h1b_years": h1b_years,
    }


def _fresh(level: dict[str, Any], window: tuple[int, int], newest: int | None, slack: int = 0) -> bool:
    """Whether these filings reach the newest fiscal year of the loaded data (or the last one before today's), or
    come within `slack` years of it: cases from a year before it are the employer's past, not what it does now."""
    years = level["certified_years"]
    return bool(years) and years[-1] >= min(window[1] - 1, newest or window[1]) - slack


def _recent(sim: dict[str, Any], anyl: dict[str, Any], window: tuple[int, int], newest: int | None) -> bool:
    """Similar-role filings that are the employer's present: they reach the newest year, or the employer files
    that visa in it all the same (a programme running every year need not hire for this role every year)."""
    return _fresh(sim, window, newest) or _fresh(anyl, window, newest)


def _stopped(summed: dict[int, dict[str, Any]], window: tuple[int, int], newest: int | None) -> str:
    """The reason, when an employer has stopped sponsoring new hires: no certified PERM case and no new H-1B
    approved for the last two loaded fiscal years or more, while USCIS approves only extensions of the H-1B workers
    it has (two extensions or more); else "". An LCA is no new hire (every extension needs one), except after the
    hub's newest year: its petition may be one the hub does not show yet."""
    years = {fy: row for fy, row in summed.items() if fy <= window[1]}
    new = [fy for fy, r in years.items() if r["perm_certified"] + r["perm_certified_expired"]
           or r.get("uscis_initial_approval")]  # fmt: skip
    if not new or newest is None or newest - (last := max(new)) < STOPPED_YEARS:
        return ""
    approvals = ("uscis_initial_approval", "uscis_continuing_approval")
    hub_newest = max((fy for fy, r in years.items() if any(r.get(c) is not None for c in approvals)), default=0)
    # One worker's extension is too little to read a policy from; an LCA after the hub's newest year may be a new
    # hire's whose petition it does not show yet.
    extended = sum(r.get("uscis_continuing_approval") or 0 for fy, r in years.items() if fy > last)
    if extended < STOPPED_EXTENSIONS or any(
        r["lca_certified"] for fy, r in years.items() if fy > max(last, hub_newest)
    ):
        return ""
    return (
        f"stopped sponsoring new hires: no certified PERM case or new H-1B approved since FY{last}; USCIS approves "
        "only extensions of its existing H-1B workers since"
    )


def _never_this_job(facts: PostingFacts, ev: dict[str, Any], window: tuple[int, int]) -> str:
    """The reason, when a big filer never files the posting's (non-ML) job: no similar PERM case or LCA in the
    lookback, among TOKEN_H1B_MIN or more H-1B LCAs in the window (a marketer's posting at an ML lab); else "". The
    more an employer files, the more the absence of this job from its filings says; for a job that seldom meets the
    specialty-occupation test (recruiting, sales, customer success), the absence says it at any size."""
    if facts.group is not None or facts.statement == "offered":
        return ""
    perm, lca = ev["perm"], ev["lca"]
    if ev["similar_lookback"] or (lca["any"]["certified"] < TOKEN_H1B_MIN and not _NON_SPECIALTY.search(facts.title)):
        return ""
    filed = [_n(lca["any"]["certified"], "certified H-1B LCA")]
    if perm["any"]["certified"]:
        filed.append(_n(perm["any"]["certified"], "certified PERM case"))
    return f"files for other jobs, not this one: none of its {' and '.join(filed)} {_span(window)} is for this title"


def _titles(facts: PostingFacts, sim: dict[str, Any]) -> str:
    """What the similar filings are, for a reason: the posting's kind of ML work, or (where some were filed under
    another occupation code) its own job title, so no reason calls a "Principal Scientist" filing an ML one."""
    if facts.group is None:
        return "this title"
    outside = sim["outside_ml"]
    if outside and outside >= sim["certified"]:
        return "this job's title (filed outside ML occupations)"
    return f"{GROUP_WORDS[facts.group]} titles" + (" and this job's title" if outside else "")


def _dominate(failed: int, passed: int) -> bool:
    """Whether failed filings (at least DENIALS_DOMINATE_MIN) outnumber the ones that went through."""
    return failed >= DENIALS_DOMINATE_MIN and failed > passed


def _programme(anyl: dict[str, Any]) -> bool:
    return anyl["certified"] >= PROGRAMME_PERM and len(anyl["certified_years"]) >= 2


def _entity_years(
    entities: dict[int, dict[str, Any]],
    eid: int,
    window: tuple[int, int],
    newest: int | None,
    cache: dict[Any, dict[str, Any]],
) -> dict[str, Any]:
    """What an entity's yearly figures say whatever the posting: its history, whether it has stopped sponsoring
    (`newest`: the newest fiscal year loaded), and both visas' tables by fiscal year, from one sum of its years,
    once per entity in a run (every posting of the employer shows the same)."""
    key = ("years", eid, window, newest)
    if key not in cache:
        summed = _sum_years(entities.get(eid, {}).get("years", []))
        cache[key] = {
            "history": history(summed, window),
            "stopped": _stopped(summed, window, newest),
            **{visa: _year_table(visa, summed) for visa in VISAS},
        }
    return cache[key]


def _off_level(facts: PostingFacts, level: dict[str, Any], other: dict[str, Any] | None = None) -> str:
    """The filings' wage levels ("Level I-II") when all of them are below what this posting's seniority fits, or
    (for an entry-level posting) all at Level III and up, or "individual contributors' levels" when a director's
    posting has no similar filing with a manager's or director's title, among these filings or `other` (for H-1B,
    the PERM ones: the leaders it files green cards for mostly work on its H-1Bs; an H-1B for a leader says nothing
    of a green card); else "": filings paid above a mid or senior posting's level still show the employer
    sponsoring the job, but an employer filing only senior people hires no new graduates on a visa."""
    filed = [WAGE_ORDER.index(lv) for lv, n in level["wage_levels"].items() if n and lv in WAGE_ORDER]
    if not filed:
        return ""
    floor = BAND_FLOOR.get(facts.band or "")
    below = floor is not None and max(filed) < WAGE_ORDER.index(floor)
    above = facts.band == "entry" and min(filed) > WAGE_ORDER.index(ENTRY_CEILING)
    # A director leads people: filings for the individual contributors it would lead are not its own job.
    leaders = level["same_level"] or (other is not None and other["same_level"])
    if facts.seniority in ("director", "executive") and not leaders and not below:
        return "individual contributors' levels"
    return _levels(level["wage_levels"]) if below or above else ""


def _hub_denying(hub: dict[str, Any]) -> str:
    """What USCIS denied ("USCIS denied 5 of 15 new-hire H-1B petitions") when it denied DENIALS_DOMINATE_MIN or more
    of the window's H-1B petitions and HUB_DENIED_SHARE of them, or so many of the new-employment ones (the petition
    a new hire's is: extensions going through can hide their denials); else ""."""
    for no, ok, which in (
        (hub["denials"], hub["approvals"], ""),
        (hub["initial_denials"], hub["initial_approvals"], "new-hire "),
    ):
        if no >= DENIALS_DOMINATE_MIN and no >= HUB_DENIED_SHARE * (no + ok):
            return f"USCIS denied {no} of {no + ok} {which}H-1B petitions"
    return ""


def _h1b_track(perm_sim: dict[str, Any], lca_sim: dict[str, Any], hub: dict[str, Any]) -> str:
    """The fiscal years ("FY2025-26") of the role's certified LCAs when one certified PERM case for the role stands
    on a track of H-1Bs for it: LCAs in LCA_TRACK_YEARS fiscal years or more, no PERM case for the role denied,
    USCIS not denying many petitions; else "". The role's H-1B workers are whom an employer files PERM cases for."""
    years = lca_sim["certified_years"]
    if len(years) < LCA_TRACK_YEARS or perm_sim["denied"] or _hub_denying(hub):
        return ""
    return f"FY{years[0]}-{str(years[-1])[2:]}"


def _h1b_had(ev: dict[str, Any], span: str, hub_loaded: bool) -> str:
    """The employer's recently approved H-1B petitions in words ("4 USCIS H-1B approvals FY2024-27"), or "" when the
    window shows none: approvals older than that are its past. An LCA is no approval (DOL certifies nearly all);
    only where no hub file is loaded at all do the window's certified LCAs stand in for them, saying so."""
    hub, anyl = ev["uscis"], ev["lca"]["any"]
    if hub["approvals"]:
        return f"{_n(hub['approvals'], 'USCIS H-1B approval')} {span}"
    if not hub_loaded and anyl["certified"]:
        return f"{_n(anyl['certified'], 'certified H-1B LCA')} {span} (no USCIS hub data loaded)"
    return ""


def _strength(ev: dict[str, Any], visa: str) -> tuple[int, ...]:
    if visa == "green_card":
        p = ev["perm"]
        return (p["similar"]["certified"], p["ml"]["certified"], p["any"]["certified"], ev["perm_certified_lookback"])
    lca = ev["lca"]
    return (lca["similar"]["certified"], ev["uscis"]["approvals"], lca["any"]["certified"], ev["h1b_lookback"])


def _green_card(
    facts: PostingFacts,
    ev: dict[str, Any],
    window: tuple[int, int],
    hist: dict[str, int | None],
    newest: int | None,
    lca_loaded: bool,
) -> tuple[str, str]:
    offered = facts.statement == "offered"
    ad = "; this ad offers sponsorship" if offered else ""
    sim, ml, anyl = ev["perm"]["similar"], ev["perm"]["ml"], ev["perm"]["any"]
    span = _span(window)
    what = _titles(facts, sim)
    if _dominate(anyl["denied"] + anyl["withdrawn"], anyl["certified"]):
        # A PERM case withdrawn is one the employer gave up on: beside few certified ones, a green-card
        # programme that is stalling.
        return "unlikely", (
            f"denials and withdrawals dominate: {anyl['denied']} PERM denied, {anyl['withdrawn']} withdrawn, "
            f"{anyl['certified']} certified {span}"
        )
    if facts.postdoc and not ev["perm_postdoc"]:
        # A PERM case is for a permanent job; a postdoc's green card comes later, in another job or by petition.
        return "unlikely", (
            "a postdoctoral post is temporary and PERM needs a permanent job: "
            f"{_n(anyl['certified'], 'certified PERM case')} {span}, none for a postdoc{ad}"
        )
    # Only a lone similar case needs the track to stand on (and names it in the reason).
    track = _h1b_track(sim, ev["lca"]["similar"], ev["uscis"]) if 0 < sim["certified"] < LIKELY_SIMILAR else ""
    enough = sim["certified"] >= LIKELY_SIMILAR or (
        sim["certified"] >= 1 and (offered or _programme(anyl) or bool(track))
    )
    # A year older still counts beside H-1Bs for the role filed in the newest year: the hiring goes on.
    lca_now = _fresh(ev["lca"]["similar"], window, newest)
    if enough and (_recent(sim, anyl, window, newest) or (lca_now and _fresh(sim, window, newest, slack=1))):
        parts = [f"{_n(sim['certified'], 'certified PERM case')} for {what} {span}"]
        if off := _off_level(facts, sim):
            return "possible", f"{parts[0]}, all at {off}: none at this posting's level{ad}"
        failed = sim["denied"] + sim["withdrawn"]
        if failed >= DENIALS_DOMINATE_MIN and failed >= ROLE_FAILED_SHARE * (failed + sim["certified"]):
            # The role's own cases failing this often (PERM's usual denial rate is a few percent): it tries, but
            # does not reliably get there.
            return "possible", f"{parts[0]}, but {failed} for the role denied or withdrawn{ad}"
        if levels := _levels(sim["wage_levels"]):
            parts.append(levels)
        parts.append(_denied(sim))
        if track and not offered:
            parts.append(f"beside H-1B LCAs for {what} in {track}")
        return "likely", ", ".join(parts) + ad
    h1b_recent = ev["lca"]["any"]["certified"] + ev["uscis"]["approvals"]
    lookback = ev["perm_certified_lookback"]
    token = lookback and ev["h1b_lookback"] >= TOKEN_H1B_MIN and lookback < TOKEN_PERM_SHARE * ev["h1b_lookback"]
    if token and facts.group is not None:
        token = lookback < TOKEN_ML_SHARE * ev["lca"]["ml"]["certified"]
    if token:
        return "unlikely", (
            f"sponsors H-1B, rarely green cards: {_n(lookback, 'certified PERM case')} against "
            f"{_n(ev['h1b_lookback'], 'H-1B filing')} in {LOOKBACK_YEARS} fiscal years"
        )
    if anyl["certified"]:
        basis = (
            f"{_n(ml['certified'], 'certified PERM case')} in ML occupations" if ml["certified"] else
            _n(anyl['certified'], 'certified PERM case')
        )  # fmt: skip
        return "possible", f"{basis} {span}, {sim['certified']} for {what}{ad}"
    # No LCA in the lookback, and no H-1B of any kind under this name before it (an old LCA of its own would say
    # its filings are under this name, only old).
    nothing_here = not ev["lca_lookback"] and not hist["h1b_last_before"]
    if not lookback and nothing_here and ev["uscis"]["approvals_lookback"] and lca_loaded and not offered:
        # Petitions approved but no LCA under this name, though every petition needs one: the employer's DOL
        # filings are under another name, so finding no PERM case under this one says nothing.
        return "unknown", (
            f"{_n(ev['uscis']['approvals_lookback'], 'USCIS H-1B approval')} in {LOOKBACK_YEARS} fiscal years but no "
            "LCA under this name: its DOL filings are under another, and no PERM case found here is no evidence"
        )
    if not lookback and h1b_recent:
        first = hist["h1b_first"]
        lca, hub = ev["lca"]["any"], ev["uscis"]
        failing = _dominate(lca["denied"], lca["certified"]) or _dominate(hub["denials"], hub["approvals"])
        new = (
            first is not None
            and first >= window[1] - NEW_SPONSOR_YEARS
            and not hist["h1b_last_before"]
            and ev["h1b_lookback"] <= NEW_SPONSOR_MAX_FILINGS
            and (hist["h1b_last"] or 0) >= window[1] - NEW_SPONSOR_STALE
        )
        if new and not failing:
            return "possible", (
                f"a new H-1B sponsor (first filing FY{first}): too soon for green-card filings to show; "
                f"no certified PERM yet{ad}"
            )
        if offered and (hist["h1b_years"] or 0) < H1B_ONLY_YEARS:
            # The ad's own word keeps it open, but the filings say nothing for green cards (yet: years of H-1Bs
            # without one say the offer is of H-1Bs).
            return "possible", (
                f"the ad offers sponsorship, but the filings show H-1B only: {_n(h1b_recent, 'H-1B filing')} {span}, "
                f"no certified PERM in {LOOKBACK_YEARS} fiscal years"
            )
        return "unlikely", (
            f"sponsors H-1B, not green cards: {_n(h1b_recent, 'H-1B filing')} {span} but no certified PERM in "
            f"{LOOKBACK_YEARS} fiscal years"
        )
    if lookback:
        return "possible", f"{_n(lookback, 'certified PERM case')} in {LOOKBACK_YEARS} years, none {span}"
    if anyl["withdrawn"]:
        # Too few to dominate (above): a case filed and withdrawn is a green card the employer set out to sponsor.
        return "possible", f"{_n(anyl['withdrawn'], 'PERM case')} filed and withdrawn {span}, none certified yet{ad}"
    if before := hist["perm_last_before"]:
        return "possible", f"sponsored green cards before: last certified PERM case FY{before}, none since{ad}"
    if offered:
        return "possible", f"no certified PERM in {LOOKBACK_YEARS} fiscal years, but the ad offers sponsorship"
    return "unlikely", f"joined, but no certified PERM case in {LOOKBACK_YEARS} fiscal years"


def _h1b(
    facts: PostingFacts, ev: dict[str, Any], window: tuple[int, int], cov: DataCoverage, hist: dict[str, int | None]
) -> tuple[str, str]:
    offered = facts.statement == "offered"
    ad = "; this ad offers sponsorship" if offered else ""
    sim, anyl, hub = ev["lca"]["similar"], ev["lca"]["any"], ev["uscis"]
    span = _span(window)
    what = _titles(facts, sim)
    if _dominate(anyl["denied"], anyl["certified"]):
        return (
            "unlikely",
            f"denials dominate: {_n(anyl['denied'], 'H-1B LCA')} denied, {anyl['certified']} certified {span}",
        )
    approved, denied = hub["latest"]
    if _dominate(hub["denials"], hub["approvals"]):
        # The petition is where an H-1B is won or lost: an LCA is certified almost automatically.
        return "unlikely", (
            f"USCIS denies most of its H-1B petitions: {hub['denials']} denied, {hub['approvals']} approved {span}"
        )
    if _dominate(denied, approved):
        return "unlikely", (
            f"USCIS denied most of its H-1B petitions in FY{hub['years'][-1]}: {denied} denied, {approved} approved"
        )
    # A new hire's petition is a new-employment one: extensions of the staff it has can hide that most are denied.
    new_ok, new_no = hub["latest_initial"]
    newest_hub = f"in FY{hub['years'][-1]}" if hub["years"] else ""
    for no, ok, when in ((hub["initial_denials"], hub["initial_approvals"], span), (new_no, new_ok, newest_hub)):
        if _dominate(no, ok):
            return "unlikely", f"USCIS denied most of its new-hire H-1B petitions {when}: {no} denied, {ok} approved"
    extended = approved - new_ok  # the newest hub year's approvals that were extensions
    if (
        not offered
        and len(hub["years"]) >= 2
        and new_ok == 0
        and extended >= NO_NEW_HIRES_EXTENSIONS
        and max(anyl["certified_years"], default=0) <= hub["years"][-1]
    ):
        # Extensions only, and many: the employer keeps the H-1B staff it has but has stopped hiring on one (LCAs
        # after the hub's newest year may be new hires it does not show yet).
        return "unlikely", (
            f"USCIS approved no new-hire H-1B in FY{hub['years'][-1]}, only {_n(extended, 'extension')} of workers "
            "it has"
        )
    hub_recent = cov.uscis is not None and cov.uscis >= window[0]
    decided = hub["approvals"] + hub["denials"]
    if cov.lca is None:
        # Without LCA files the job titles come from PERM: recent green cards for the role and petitions approved
        # say the employer hires such people on H-1B (most PERM cases are for workers already on one).
        psim = ev["perm"]["similar"]
        hub_ok = hub["approvals"] and hub["denials"] < HUB_DENIED_SHARE * decided
        fresh = _fresh(psim, window, cov.perm) and not _off_level(facts, psim)
        if hub_ok and psim["certified"] >= LIKELY_SIMILAR and fresh:
            return "likely", (
                f"no LCA data loaded: {_n(hub['approvals'], 'USCIS H-1B approval')} {span} and "
                f"{_n(psim['certified'], 'certified PERM case')} for {what}{ad}"
            )
    enough = sim["certified"] >= (1 if offered else LIKELY_SIMILAR) and _recent(sim, anyl, window, cov.lca)
    # USCIS publishes a year behind DOL: approved petitions in the lookback back this year's LCAs.
    if enough and (hub["approvals_lookback"] >= 1 if hub_recent else sim["certified"] >= LIKELY_LCA_ALONE):
        reason = f"{_n(sim['certified'], 'certified H-1B LCA')} for {what} {span}"
        if off := _off_level(facts, sim, ev["perm"]["similar"]):
            return "possible", f"{reason}, all at {off}: none at this posting's level{ad}"
        if denying := _hub_denying(hub):
            return "possible", f"{reason}, but {denying}{ad}"
        if not offered and len(hub["years"]) >= 2 and not hub["recent_initial"] and extended:
            # Fewer extensions than say it has stopped, but no new hire in two years: the record is of the staff it
            # keeps, not of hiring onto an H-1B.
            years = f"FY{hub['years'][-2]}-{str(hub['years'][-1])[2:]}"
            return "possible", f"{reason}, but USCIS approved no new-hire H-1B in {years}, only extensions"
        if levels := _levels(sim["wage_levels"]):
            reason += f", {levels}"
        if hub["approvals"]:
            reason += f"; {_n(hub['approvals'], 'USCIS H-1B approval')}"
        return "likely", reason + ad
    perm_any = ev["perm"]["any"]["certified"]
    if cov.lca is not None and not offered and not ev["h1b_lookback"] and perm_any >= LIKELY_SIMILAR:
        # The mirror of "sponsors H-1B, not green cards": its green-card workers come on other status.
        return "unlikely", (
            f"sponsors green cards, not H-1Bs: {_n(perm_any, 'certified PERM case')} {span} but no H-1B filing in "
            f"{LOOKBACK_YEARS} fiscal years"
        )
    had = _h1b_had(ev, span, cov.uscis is not None)
    if offered and had and not _hub_denying(hub):
        # The ad is this role's own word, and USCIS approving the employer's petitions shows it knows the way.
        return "likely", f"the ad offers sponsorship, and USCIS has approved the employer's H-1Bs: {had}"
    if anyl["certified"] or hub["approvals"]:
        reason = f"{_n(anyl['certified'], 'certified H-1B LCA')} ({sim['certified']} for {what})"
        reason += (
            f", {_n(hub['approvals'], 'USCIS approval')} {span}" if hub_recent else f" {span}; no recent USCIS hub data"
        )
        return "possible", reason + ad
    if ev["h1b_lookback"]:
        return "possible", f"{_n(ev['h1b_lookback'], 'H-1B filing')} in {LOOKBACK_YEARS} years, none {span}"
    if before := hist["h1b_last_before"]:
        return "possible", f"sponsored H-1Bs before: last filing FY{before}, none since{ad}"
    if offered:
        return "possible", f"no H-1B filings in {LOOKBACK_YEARS} fiscal years, but the ad offers sponsorship"
    return "unlikely", f"joined, but no certified H-1B filing in {LOOKBACK_YEARS} fiscal years"


def _year_table(visa: str, summed: dict[int, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for fy, row in sorted(summed.items(), reverse=True):
        if visa == "green_card":
            entry: dict[str, Any] = {
                "certified": row["perm_certified"],
                "certified_expired": row["perm_certified_expired"],
                "denied": row["perm_denied"],
                "withdrawn": row["perm_withdrawn"],
                "ml_occupation": row["perm_ml"],
                "ml_occupation_certified": row["perm_ml_certified"],
            }
            if row.get("perm_wage_min") is not None:
                entry["offered_wage_range"] = [row["perm_wage_min"], row.get("perm_wage_max")]
            if row.get("perm_wage_levels"):
                entry["wage_levels"] = row["perm_wage_levels"]
        else:
            entry = {
                "lca_certified": row["lca_certified"],
                "lca_denied": row["lca_denied"],
                "lca_withdrawn": row["lca_withdrawn"],
                "lca_ml_occupation_certified": row["lca_ml_certified"],
                **{col: row.get(col) for col in HUB_COLS},
            }
        if any(val for val in entry.values() if isinstance(val, int)):
            table[str(fy)] = entry
    return table


def score_posting(
    facts: PostingFacts,
    result: MatchResult | None,
    entities: dict[int, dict[str, Any]],
    filings: dict[int, EntityFilings],
    cov: DataCoverage,
    today: date | None = None,
    cache: dict[Any, dict[str, Any]] | None = None,
) -> dict[str, tuple[str, dict[str, Any]]]:
    """visa -> (tag, evidence) for one posting; empty for a posting outside the US (no US visa applies)."""
    if facts.country is not None and not is_us(facts.country):
        return {}
    today = today or today_utc()
    window = window_for(today)
    cache = {} if cache is None else cache  # one posting alone still reads each entity's years once
    newest = max(cov.perm or 0, cov.lca or 0) or None
    ad = {"statement": facts.statement or "not_mentioned", "sentence": facts.sentence}
    matched = result is not None and result.outcome == "matched"
    match_ev = _match_evidence(result, entities)
    per_entity: list[tuple[int, dict[str, Any]]] = []
    if matched and result is not None:
        for c in result.matches:
            # What the evidence depends on: an ML posting is compared by its kind of work and the job it names.
            key = (c.entity_id, facts.group, facts.band, facts.title if facts.group is None else facts.job, window)
            ev = cache.get(key)
            if ev is None:
                ev = cache[key] = entity_evidence(facts, filings.get(c.entity_id, EntityFilings()), window)
            per_entity.append((c.entity_id, ev))
    pay = facts.annual_pay()
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for visa in VISAS:
        loaded = cov.perm is not None if visa == "green_card" else (cov.lca is not None or cov.uscis is not None)
        latest = cov.perm_latest if visa == "green_card" else cov.lca_latest
        chosen: tuple[int, dict[str, Any]] | None = None
        if per_entity:
            chosen = max(per_entity, key=lambda pe: _strength(pe[1], visa))
        if facts.statement == "refused":
            tag, reason = "unlikely", "the ad says the employer does not sponsor; that outranks filing history"
        elif not matched:
            if result is not None and result.outcome == "unsure":
                why = "the employer join is unsure"
            elif result is not None and result.ruled_out:
                names = ", ".join(c.name for c in result.ruled_out[:2])
                why = f"no DOL employer joined ({names}: a namesake, ruled out by the alias table or an override)"
            else:
                why = "no DOL employer joined"
            tag = "possible" if facts.statement == "offered" else "unknown"
            reason = why + ("; the ad offers sponsorship" if facts.statement == "offered" else "")
        elif not loaded or chosen is None:
            source = "PERM" if visa == "green_card" else "LCA or USCIS hub"
            tag = "possible" if facts.statement == "offered" else "unknown"
            reason = f"no {source} data loaded" + (
                "; the ad offers sponsorship" if facts.statement == "offered" else ""
            )
        else:
            years = _entity_years(entities, chosen[0], window, newest, cache)
            hist = years["history"]
            # An ad offering sponsorship is newer than any filing: it outranks a stop the filings suggest.
            if years["stopped"] and facts.statement != "offered":
                tag, reason = "unlikely", years["stopped"]
            elif visa == "green_card":
                tag, reason = _green_card(facts, chosen[1], window, hist, cov.perm, cov.lca is not None)
            else:
                tag, reason = _h1b(facts, chosen[1], window, cov, hist)
            if tag == "possible" and (never := _never_this_job(facts, chosen[1], window)):
                tag, reason = "unlikely", never
            # The visa's own source: PERM data stopping years ago leave a green card stale beside fresh LCAs.
            source_newest = (cov.perm or newest) if visa == "green_card" else newest
            if tag == "likely" and source_newest is not None and source_newest < window[1] - STALE_DATA_YEARS:
                # Filings that stop years before today say what the employer did, not what it does.
                source = "PERM" if visa == "green_card" and cov.perm != newest else "DOL"
                tag, reason = "possible", f"{reason}; but the loaded {source} data stop at FY{source_newest}"
            if tag in ("likely", "possible") and facts.seniority == "intern" and visa == "h1b":
                # No visa is filed for an internship itself (students work on their own status): the record
                # speaks of a full-time offer after it, which only an ad's own offer makes this role's.
                if facts.statement == "offered":
                    tag, reason = "possible", f"an internship: sponsorship comes with a full-time offer; {reason}"
                else:
                    why = "an internship runs on the student's own work permission (CPT/OPT), not on an H-1B"
                    tag, reason = "unlikely", f"{why}; for a full-time offer: {reason}"
        if visa == "green_card" and facts.seniority == "intern" and facts.statement != "refused":
            # PERM is filed for a permanent full-time job only: never for an internship, whoever the employer is.
            tag, reason = (
                "unlikely",
                f"an internship is not a permanent job, and PERM needs one; for a full-time offer: {reason}",
            )
        ents = []
        for (eid, ev), base in zip(per_entity, match_ev.get("entities", []), strict=False):
            if visa == "green_card":
                levels = {"similar_role": ev["perm"]["similar"], "ml_occupation": ev["perm"]["ml"],
                          "any_occupation": ev["perm"]["any"]}  # fmt: skip
                extra = {"perm_median_processing_days": ev["perm_median_days"],
                         "certified_perm_5y": ev["perm_certified_lookback"]}  # fmt: skip
            else:
                levels = {"similar_role": ev["lca"]["similar"], "ml_occupation": ev["lca"]["ml"],
                          "any_occupation": ev["lca"]["any"], "uscis": ev["uscis"]}  # fmt: skip
                extra = {"h1b_filings_5y": ev["h1b_lookback"]}
            ents.append(
                {
                    **base,
                    "chosen": chosen is not None and eid == chosen[0],
                    **levels,
                    **extra,
                    "similar_titles": ev["similar_titles"],
                    "by_fiscal_year": _entity_years(entities, eid, window, newest, cache)[visa],
                }
            )
        best = next((e for e in ents if e["chosen"]), None)
        evidence = {
            "visa": visa,
            "tag": tag,
            "reason": reason,
            "ad": ad,
            "posting": {
                "title": facts.title,
                "role_family": facts.role_family,
                "seniority": facts.seniority,
                "annual_pay_usd": list(pay) if pay else None,
            },
            "as_of": today.isoformat(),
            "window": list(window),
            "data": {
                "latest_fiscal_year": cov.perm if visa == "green_card" else max(cov.lca or 0, cov.uscis or 0) or None,
                "latest_decision": _iso(latest),
                "age_days": (today - latest).days if latest else None,
            },
            "employer": {**match_ev, "entities": ents or match_ev.get("entities", [])},
            "similar_role": best["similar_role"] if best else None,
            "ml_occupation": best["ml_occupation"] if best else None,
            "any_occupation": best["any_occupation"] if best else None,
            "by_fiscal_year": best["by_fiscal_year"] if best else {},
        }
        out[visa] = (tag, evidence)
    return out


def _upsert(
    session: Session,
    table: Table,
    want: dict[Any, dict[str, Any]],
    have: dict[Any, dict[str, Any]],
    stamp: str,
) -> None:
    """Make `table` hold `want` (by natural key): unchanged rows keep their id and `stamp` time, others get now."""
    inserts, updates, gone = diff_rows(want, have)
    now = utcnow()
    for row in (*inserts, *updates):
        row[stamp] = now
    conn = session.connection()
    delete_ids(conn, table, [old["id"] for old in gone])
    update_rows(conn, table, updates)
    insert_rows(conn, table, inserts)


POSTING_PATHS = frozenset(["ad_name", "ad_site", "ad_board"])  # join paths settled by what a posting says


def employer_hints(session: Session) -> dict[int, JoinHints]:
    """Per employer, what its postings say of it: the first stored posting's EEO sentence, career-site domain and
    job board token, and the US states all its postings are in."""
    first = select(func.min(Posting.id)).where(Posting.employer_id.is_not(None)).group_by(Posting.employer_id)
    rows = session.execute(
        select(
            Posting.employer_id, Posting.description_text, Posting.url, Posting.apply_url, Posting.ats, Posting.board
        ).where(Posting.id.in_(first.scalar_subquery()))
    )
    places: dict[int, set[str]] = defaultdict(set)  # the US states its postings are in
    here: set[int] = set()  # employers with a posting in the US or where it is not known (a remote one)
    every: set[int] = set()
    for eid, country, region in session.execute(
        select(Posting.employer_id, Posting.country, Posting.region).where(Posting.employer_id.is_not(None)).distinct()
    ):
        every.add(eid)
        if country is None or is_us(country):
            here.add(eid)
        if is_us(country) and region is not None:
            places[eid].add(region)
    abroad = every - here  # hiring only abroad: every posting's country known, none the US
    return {
        eid: h
        for eid, text, url, apply_url, ats, board in rows
        # A platform's board token names the employer; a schema.org site's board is its address, read as a domain.
        if (
            h := posting_hints(
                text, url, apply_url, places.get(eid, ()), board if ats in TOKEN_PLATFORMS else None, eid in abroad
            )
        )
    }


def facts_of(p: Any) -> PostingFacts:
    """The facts a tag compares with the filings, from a posting row."""
    return PostingFacts(
        title=p.title or "",
        role_family=p.role_family,
        seniority=p.seniority,
        is_ml=p.is_ml,
        statement=p.sponsorship_statement,
        sentence=p.sponsorship_sentence,
        country=p.country,
        salary_min=p.salary_min,
        salary_max=p.salary_max,
        salary_period=p.salary_period,
        salary_currency=p.salary_currency,
    )


def match_and_tag(session: Session, index: EntityIndex | None = None, today: date | None = None) -> dict[str, int]:
    """Recompute the join for every employer with postings and the tags of every posting.

    Idempotent down to the row: join rows and tags are upserted, so unchanged ones keep their ids and times.
    """
    employers = session.execute(
        select(Employer.id, Employer.name).where(select(Posting.id).where(Posting.employer_id == Employer.id).exists())
    ).all()
    posting_rows = session.execute(
        select(
            Posting.id,
            Posting.employer_id,
            Posting.employer_name,
            Posting.title,
            Posting.is_ml,
            Posting.role_family,
            Posting.seniority,
            Posting.country,
            Posting.salary_min,
            Posting.salary_max,
            Posting.salary_period,
            Posting.salary_currency,
            Posting.sponsorship_statement,
            Posting.sponsorship_sentence,
        )
    ).all()
    stats: Counter[str] = Counter()
    if not posting_rows:
        session.execute(delete(PostingSponsorship))
        return {"employers": 0, "postings": 0}
    # The operator's overrides as they are now, on whichever index the caller holds.
    index = apply_stored(index or EntityIndex.from_session(session), session)
    hints = employer_hints(session)
    results: dict[int, MatchResult] = {}
    match_rows: dict[tuple[int, int], dict[str, Any]] = {}
    for emp in employers:
        res = index.match(emp.name, hints.get(emp.id))
        results[emp.id] = res
        stats[f"employers_{res.outcome}"] += 1
        chosen = {c.entity_id for c in res.matches}
        ru = next((c for c in res.alternatives if c.entity_id not in chosen), None)
        for role, c in [("match", c) for c in res.matches] + ([("runner_up", ru)] if ru is not None else []):
            match_rows[(emp.id, c.entity_id)] = {
                "employer_id": emp.id,
                "entity_id": c.entity_id,
                "role": role,
                "score": c.score,
                "method": c.method,
                "outcome": res.outcome,
            }
    m = EmployerMatch.__table__
    have_matches: dict[tuple[int, int], dict[str, Any]] = {}
    emp_ids = sorted(results)
    for i in range(0, len(emp_ids), IN_CHUNK):
        stmt = select(m).where(m.c.employer_id.in_(emp_ids[i : i + IN_CHUNK]))
        have_matches.update({(r["employer_id"], r["entity_id"]): dict(r) for r in session.execute(stmt).mappings()})
    _upsert(session, m, match_rows, have_matches, "matched_at")
    # Postings without an Employer row still get tagged from the name they show.
    by_name: dict[str, MatchResult] = {}
    for p in posting_rows:
        if p.employer_id is None and p.employer_name and p.employer_name not in by_name:
            by_name[p.employer_name] = index.match(p.employer_name)
    all_results = list(results.values()) + list(by_name.values())
    entity_ids = sorted({c.entity_id for r in all_results for c in r.matches})
    entities = _entity_evidence(session, entity_ids)
    cov = coverage(session)
    today = today or today_utc()
    window = window_for(today)
    filings = load_filings(session, entity_ids, window[1] - LOOKBACK_YEARS + 1)
    cache: dict[Any, dict[str, Any]] = {}
    tag_rows: dict[tuple[int, str], dict[str, Any]] = {}
    for p in posting_rows:
        res = results.get(p.employer_id) if p.employer_id is not None else by_name.get(p.employer_name or "")
        if res is None and p.employer_id is not None:
            # An Employer row without postings query race: match on the fly.
            res = index.match(p.employer_name or "")
        tags = score_posting(facts_of(p), res, entities, filings, cov, today, cache)
        if not tags:
            stats["postings_outside_us"] += 1
        for visa, (tag, evidence) in tags.items():
            stats[f"{visa}_{tag}"] += 1
            # Through JSON and back, so it compares equal to what the database returns when nothing changed.
            evidence = json.loads(json.dumps(evidence))
            tag_rows[(p.id, visa)] = {
                "posting_id": p.id,
                "visa": visa,
                "tag": tag,
                "reason": (evidence.get("reason") or "")[:300] or None,
                "evidence": evidence,
            }
    t = PostingSponsorship.__table__
    have_tags = {(r["posting_id"], r["visa"]): dict(r) for r in session.execute(select(t)).mappings()}
    _upsert(session, t, tag_rows, have_tags, "computed_at")
    stats["employers"] = len(employers)
    stats["postings"] = len(posting_rows)
    return dict(stats)
