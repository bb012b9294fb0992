"""Sponsorship tags: the rules of docs/sponsorship.md, evidence a person can check, idempotent recomputation."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler import db as dbmod
from crawler.models import DolEntity, DolEntityYear, Employer, EmployerMatch, Posting, PostingSponsorship
from matching.evidence import CaseGroup, EntityFilings, PostingFacts, is_similar
from matching.ingest import ingest_paths
from matching.join import Candidate, MatchResult
from matching.tagging import YEAR_COUNTS, DataCoverage, match_and_tag, score_posting
from tests.matching.conftest import lca_of

TODAY = date(2026, 11, 29)  # fiscal year 2027: the window is FY2024-27
COV = DataCoverage(perm=2026, lca=2026, uscis=2026, perm_latest=date(2026, 9, 30), lca_latest=date(2026, 9, 30))
ACME = DolEntity(id=1, key="fein:812345678", name="ACME ARTIFICIAL INTELLIGENCE, INC.", fein="812345678",
                 is_staffing=False, sample_cases={"perm": ["G-100-26300-600000"]})  # fmt: skip
OTHER = DolEntity(id=2, key="fein:823456789", name="ACME ROBOTICS LLC", fein="823456789", is_staffing=False)
MLE = PostingFacts(
    title="Staff Machine Learning Engineer",
    role_family="ml_engineer",
    seniority="staff",
    is_ml=True,
    country="US",
    salary_min=240000,
    salary_max=300000,
    salary_period="year",
    salary_currency="USD",
)


def cases(*groups: tuple[str, int, str, bool, str, str | None, int]) -> EntityFilings:
    """(kind, fiscal year, status, ML occupation, job title, wage level, count) rows as the SQL grouping gives them."""
    return EntityFilings(
        [CaseGroup(k, fy, st, ml, title, lvl, "year", n, 180000.0, 260000.0) for k, fy, st, ml, title, lvl, n in groups]
    )


def with_hub(
    uscis: dict[int, tuple[int, int, int, int]], *groups: tuple[str, int, str, bool, str, str | None, int]
) -> EntityFilings:
    """`cases` with the hub's yearly figures beside them."""
    filed = cases(*groups)
    filed.uscis = uscis
    return filed


def matched(*entity_ids: int) -> MatchResult:
    names = {1: ACME, 2: OTHER}
    return MatchResult(
        "Acme AI", "matched", [Candidate(e, names[e].name, names[e].fein, 100.0, "exact") for e in entity_ids]
    )


def score(
    facts: PostingFacts,
    filings: dict[int, EntityFilings],
    result: MatchResult | None = None,
    cov: DataCoverage = COV,
    today: date = TODAY,
    years: list[DolEntityYear] | None = None,
) -> dict[str, tuple[str, dict[str, Any]]]:
    result = matched(*filings) if result is None else result
    ents = {e.id: {"entity": e, "years": list(years or []) if e is ACME else []} for e in (ACME, OTHER)}
    return score_posting(facts, result, ents, filings, cov, today)


def year(fy: int, **counts: int) -> DolEntityYear:
    """One fiscal year of the entity's stored figures (the counts not given are zero)."""
    return DolEntityYear(entity_id=1, fiscal_year=fy, **{**dict.fromkeys(YEAR_COUNTS, 0), **counts})


def tags(out: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, str]:
    return {visa: tag for visa, (tag, _) in out.items()}


STRONG = cases(
    ("perm", 2026, "certified", True, "Senior Machine Learning Engineer", "Level III", 7),
    ("perm", 2025, "certified_expired", True, "Staff Machine Learning Engineer", "Level IV", 5),
    ("perm", 2026, "certified", False, "Accountant", "Level II", 3),
    ("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 40),
)
STRONG.uscis = {2026: (30, 1, 60, 2)}


def test_similar_recent_role_evidence_is_likely_with_a_readable_reason() -> None:
    out = score(MLE, {1: STRONG})
    assert tags(out) == {"green_card": "likely", "h1b": "likely"}
    _tag, ev = out["green_card"]
    assert ev["reason"] == "12 certified PERM cases for ML engineer titles FY2024-27, Level III-IV, none denied"
    assert ev["similar_role"]["certified"] == 12 and ev["similar_role"]["same_level"] == 5
    assert ev["any_occupation"]["certified"] == 15 and ev["ml_occupation"]["certified"] == 12
    assert ev["window"] == [2024, 2027] and ev["data"]["age_days"] == (TODAY - date(2026, 9, 30)).days
    assert ev["posting"]["annual_pay_usd"] == [240000.0, 300000.0]
    assert ev["similar_role"]["offered_wage"] == [180000.0, 260000.0]
    assert ev["employer"]["entities"][0]["fein"] == "81-2345678"
    assert ev["employer"]["entities"][0]["similar_titles"][0] == "Senior Machine Learning Engineer"


def test_the_window_is_counted_from_today_not_from_the_data() -> None:
    # The same filings seen three years later are old news: possible, not likely.
    out = score(MLE, {1: STRONG}, today=date(2029, 11, 29))
    assert tags(out)["green_card"] == "possible"
    assert "none FY2027-30" in out["green_card"][1]["reason"]


def test_refusal_in_ad_outranks_history() -> None:
    facts = PostingFacts(**{**MLE.__dict__, "statement": "refused", "sentence": "We cannot sponsor visas."})
    out = score(facts, {1: STRONG})
    assert tags(out) == {"green_card": "unlikely", "h1b": "unlikely"}
    assert out["green_card"][1]["ad"] == {"statement": "refused", "sentence": "We cannot sponsor visas."}
    assert out["green_card"][1]["similar_role"]["certified"] == 12  # the history is still shown


def test_no_or_unsure_join_is_unknown_not_unlikely() -> None:
    none = MatchResult("Stealth Startup", "none")
    assert tags(score(MLE, {}, result=none)) == {"green_card": "unknown", "h1b": "unknown"}
    unsure = MatchResult("Delta", "unsure", [], [Candidate(2, "DELTA GROUP USA INC", None, 88.0, "fuzzy")])
    out = score(MLE, {}, result=unsure)
    assert tags(out) == {"green_card": "unknown", "h1b": "unknown"}
    assert "unsure" in out["h1b"][1]["reason"]
    offered = PostingFacts(**{**MLE.__dict__, "statement": "offered"})
    assert tags(score(offered, {}, result=none)) == {"green_card": "possible", "h1b": "possible"}
    # A brand whose only namesake a person ruled out says so, naming the filer it is not.
    ruled = MatchResult("Acme AI", "none", ruled_out=[Candidate(2, OTHER.name, OTHER.fein, 100.0, "exact")])
    out = score(MLE, {}, result=ruled)
    assert tags(out) == {"green_card": "unknown", "h1b": "unknown"}
    assert "ACME ROBOTICS LLC: a namesake, ruled out" in out["green_card"][1]["reason"]
    assert out["h1b"][1]["employer"]["ruled_out"] == ["ACME ROBOTICS LLC"]
    assert "ruled_out" not in score(MLE, {}, result=none)["h1b"][1]["employer"]


def test_no_data_loaded_is_unknown() -> None:
    assert tags(score(MLE, {1: STRONG}, cov=DataCoverage(None, None, None))) == {
        "green_card": "unknown",
        "h1b": "unknown",
    }


def test_employer_level_or_ml_occupation_evidence_is_only_possible() -> None:
    non_ml = cases(("perm", 2026, "certified", False, "Accountant", None, 9))
    out = score(MLE, {1: non_ml})
    assert tags(out)["green_card"] == "possible"
    assert out["green_card"][1]["reason"].startswith("9 certified PERM cases FY2024-27, 0 for ML engineer titles")
    # An ML occupation, but research work, is not a role like an ML engineer's.
    research = cases(("perm", 2026, "certified", True, "Research Scientist, Machine Learning", "Level IV", 4))
    assert tags(score(MLE, {1: research}))["green_card"] == "possible"
    # One similar case plus an ad that offers sponsorship is enough.
    one = cases(("perm", 2026, "certified", True, "Machine Learning Engineer", "Level IV", 1))
    offered = PostingFacts(**{**MLE.__dict__, "statement": "offered"})
    assert tags(score(MLE, {1: one}))["green_card"] == "possible"
    assert tags(score(offered, {1: one}))["green_card"] == "likely"


def test_denials_that_dominate_make_it_unlikely() -> None:
    denied = cases(
        ("perm", 2026, "denied", True, "Machine Learning Engineer", None, 4),
        ("perm", 2026, "certified", True, "Machine Learning Engineer", "Level II", 2),
    )
    out = score(MLE, {1: denied})
    assert tags(out)["green_card"] == "unlikely"
    assert "denials and withdrawals dominate" in out["green_card"][1]["reason"]
    # A PERM case withdrawn is one given up on: many of them beside few certified ones weigh as denials do.
    withdrawn = cases(
        ("perm", 2026, "withdrawn", True, "Machine Learning Engineer", "Level III", 9),
        ("perm", 2026, "certified", True, "Machine Learning Engineer", "Level III", 3),
    )
    assert tags(score(MLE, {1: withdrawn}))["green_card"] == "unlikely"


def test_h1b_without_perm_is_a_finding() -> None:
    h1b_only = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 25))
    h1b_only.uscis = {2026: (10, 0, 20, 0)}
    out = score(MLE, {1: h1b_only})
    assert tags(out) == {"green_card": "unlikely", "h1b": "likely"}
    assert out["green_card"][1]["reason"].startswith("sponsors H-1B, not green cards")
    offered = PostingFacts(**{**MLE.__dict__, "statement": "offered"})
    assert tags(score(offered, {1: h1b_only}))["green_card"] == "possible"


def test_h1b_likely_needs_more_than_near_automatic_lca_certifications() -> None:
    lcas = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 3))
    # Hub data for the window is loaded and shows no approvals for this employer: the LCAs alone prove little.
    assert tags(score(MLE, {1: lcas}))["h1b"] == "possible"
    lcas.uscis = {2026: (2, 0, 1, 0)}
    assert tags(score(MLE, {1: lcas}))["h1b"] == "likely"
    # Without recent hub data, five similar LCAs are needed.
    stale_hub = DataCoverage(2026, 2026, 2022, date(2026, 9, 30), date(2026, 9, 30))
    few = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 3))
    many = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 6))
    assert tags(score(MLE, {1: few}, cov=stale_hub))["h1b"] == "possible"
    assert tags(score(MLE, {1: many}, cov=stale_hub))["h1b"] == "likely"


def test_old_filings_only_are_possible_and_nothing_certified_is_unlikely() -> None:
    old = cases(("perm", 2023, "certified", True, "Machine Learning Engineer", "Level II", 6))
    out = score(MLE, {1: old})
    assert tags(out)["green_card"] == "possible" and "none FY2024-27" in out["green_card"][1]["reason"]
    # One case filed and withdrawn is a green card the employer set out to sponsor; one denied is not.
    withdrawn = score(MLE, {1: cases(("perm", 2026, "withdrawn", True, "Machine Learning Engineer", None, 1))})
    assert tags(withdrawn) == {"green_card": "possible", "h1b": "unlikely"}
    assert "filed and withdrawn" in withdrawn["green_card"][1]["reason"]
    denied = cases(("perm", 2026, "denied", True, "Machine Learning Engineer", None, 1))
    assert tags(score(MLE, {1: denied})) == {"green_card": "unlikely", "h1b": "unlikely"}


def test_a_posting_outside_the_us_gets_no_us_tag() -> None:
    london = PostingFacts(**{**MLE.__dict__, "country": "GB"})
    assert score(london, {1: STRONG}) == {}
    # A US territory is the US for visas: H-1B and PERM apply in Puerto Rico as in the states.
    san_juan = PostingFacts(**{**MLE.__dict__, "country": "PR"})
    assert tags(score(san_juan, {1: STRONG})) == {"green_card": "likely", "h1b": "likely"}
    unknown_place = PostingFacts(**{**MLE.__dict__, "country": None})
    assert tags(score(unknown_place, {1: STRONG}))["green_card"] == "likely"


def test_several_entities_are_kept_apart() -> None:
    weak = cases(("perm", 2026, "certified", True, "Machine Learning Engineer", "Level I", 1))
    out = score(MLE, {1: weak, 2: STRONG})
    tag, ev = out["green_card"]
    assert tag == "likely"
    ents = ev["employer"]["entities"]
    assert [e["chosen"] for e in ents] == [False, True]
    assert [e["similar_role"]["certified"] for e in ents] == [1, 12]
    # The tag's figures are the chosen entity's, never a sum over namesakes.
    assert ev["similar_role"]["certified"] == 12


def test_non_ml_posting_compares_titles() -> None:
    accountant = PostingFacts(
        title="Senior Accountant", role_family=None, seniority="senior", is_ml=False, country="US"
    )
    out = score(accountant, {1: STRONG})
    assert out["green_card"][1]["similar_role"]["certified"] == 3
    assert tags(out)["green_card"] == "likely"


def test_a_level_the_filings_never_reach_is_only_possible() -> None:
    junior = cases(
        ("perm", 2026, "certified", True, "Machine Learning Engineer", "Level II", 6),
        ("lca", 2026, "certified", True, "Machine Learning Engineer", "I", 30),
    )
    junior.uscis = {2026: (10, 0, 20, 0)}
    out = score(MLE, {1: junior})  # a staff posting
    assert tags(out) == {"green_card": "possible", "h1b": "possible"}
    assert "all at Level II: none at this posting's level" in out["green_card"][1]["reason"]
    director = PostingFacts(**{**MLE.__dict__, "title": "Director of Machine Learning", "seniority": "director"})
    assert tags(score(director, {1: junior}))["green_card"] == "possible"
    mid = PostingFacts(**{**MLE.__dict__, "title": "Machine Learning Engineer", "seniority": "mid"})
    assert tags(score(mid, {1: junior})) == {"green_card": "likely", "h1b": "likely"}
    # A level not on the filings (older PERM forms) says nothing either way.
    unlevelled = cases(("perm", 2026, "certified", True, "Machine Learning Engineer", None, 6))
    assert tags(score(MLE, {1: unlevelled}))["green_card"] == "likely"


def test_filings_paid_above_the_posting_level_still_count() -> None:
    senior_pay = cases(("perm", 2026, "certified", True, "Machine Learning Engineer", "Level IV", 3))
    mid = PostingFacts(**{**MLE.__dict__, "title": "Machine Learning Engineer", "seniority": "mid"})
    assert tags(score(mid, {1: senior_pay}))["green_card"] == "likely"


def test_one_similar_case_in_a_running_green_card_programme_is_likely() -> None:
    programme = cases(
        ("perm", 2025, "certified", False, "Software Engineer", "Level III", 4),
        ("perm", 2026, "certified", False, "Software Engineer", "Level III", 3),
        ("perm", 2026, "certified", True, "Machine Learning Engineer", "Level III", 1),
    )
    assert tags(score(MLE, {1: programme}))["green_card"] == "likely"
    one_off = cases(("perm", 2026, "certified", True, "Machine Learning Engineer", "Level III", 1))
    assert tags(score(MLE, {1: one_off}))["green_card"] == "possible"
    # A programme filing in the newest year keeps last year's similar cases current.
    last_year = cases(
        ("perm", 2025, "certified", True, "Machine Learning Engineer", "Level III", 3),
        ("perm", 2026, "certified", False, "Software Engineer", "Level III", 4),
    )
    assert tags(score(MLE, {1: last_year}))["green_card"] == "likely"


def test_years_of_h1b_without_perm_outweigh_an_ad_offering_sponsorship() -> None:
    offered = PostingFacts(**{**MLE.__dict__, "statement": "offered"})
    lcas = cases(*(("lca", fy, "certified", True, "Machine Learning Engineer", "III", 8) for fy in (2024, 2025, 2026)))
    years = [year(fy, lca_certified=8) for fy in (2024, 2025, 2026)]
    out = score(offered, {1: lcas}, years=years)
    assert tags(out)["green_card"] == "unlikely" and out["green_card"][1]["reason"].startswith("sponsors H-1B, not")
    assert tags(score(offered, {1: lcas}, years=years[-1:]))["green_card"] == "possible"  # one year: still open


def test_uscis_denying_most_petitions_in_the_newest_year_is_unlikely() -> None:
    lcas = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 10))
    lcas.uscis = {2024: (20, 1, 30, 1), 2026: (2, 5, 1, 4)}
    out = score(MLE, {1: lcas})
    assert tags(out)["h1b"] == "unlikely"
    assert out["h1b"][1]["reason"] == "USCIS denied most of its H-1B petitions in FY2026: 9 denied, 3 approved"


def test_an_internship_is_sponsored_for_neither_visa_unless_its_ad_offers() -> None:
    intern = PostingFacts(**{**MLE.__dict__, "title": "Machine Learning Engineer Intern", "seniority": "intern"})
    entry = cases(
        ("perm", 2026, "certified", True, "Machine Learning Engineer", "Level II", 12),
        ("lca", 2026, "certified", True, "Machine Learning Engineer", "II", 40),
    )
    entry.uscis = {2026: (20, 0, 30, 0)}
    out = score(intern, {1: entry})
    # Students intern on their own work permission; the record still says what a full-time offer would get.
    assert tags(out) == {"green_card": "unlikely", "h1b": "unlikely"}
    assert out["h1b"][1]["reason"].startswith(
        "an internship runs on the student's own work permission (CPT/OPT), not on an H-1B; for a full-time offer: 40"
    )
    offered = PostingFacts(**{**intern.__dict__, "statement": "offered"})
    assert score(offered, {1: entry})["h1b"][1]["reason"].startswith(
        "an internship: sponsorship comes with a full-time offer; 40 certified"
    )
    assert tags(score(offered, {1: entry})) == {"green_card": "unlikely", "h1b": "possible"}
    # PERM needs a permanent job; what the employer does for full-time hires is still said.
    assert out["green_card"][1]["reason"].startswith(
        "an internship is not a permanent job, and PERM needs one; for a full-time offer: 12 certified PERM cases"
    )
    # A property of the role, not of the employer: the same with no employer joined.
    assert tags(score(intern, {}, result=MatchResult("Stealth", "none")))["green_card"] == "unlikely"
    refused = PostingFacts(**{**intern.__dict__, "statement": "refused"})
    assert score(refused, {1: entry})["green_card"][1]["reason"].startswith("the ad says")


def test_uscis_denials_weigh_on_the_h1b_tag() -> None:
    lcas = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 10))
    lcas.uscis = {2026: (2, 4, 1, 1)}
    out = score(MLE, {1: lcas})
    assert tags(out)["h1b"] == "unlikely" and "USCIS denies most" in out["h1b"][1]["reason"]
    lcas.uscis = {2025: (10, 6, 10, 6)}  # a third of the petitions denied
    out = score(MLE, {1: lcas})
    assert tags(out)["h1b"] == "possible" and "USCIS denied 12 of 32" in out["h1b"][1]["reason"]
    lcas.uscis = {2025: (10, 4, 10, 4)}  # under a third, over a quarter: many times the usual few percent
    assert tags(score(MLE, {1: lcas}))["h1b"] == "possible"
    lcas.uscis = {2025: (10, 1, 20, 1)}
    assert tags(score(MLE, {1: lcas}))["h1b"] == "likely"


def test_a_new_small_h1b_sponsor_may_still_sponsor_green_cards() -> None:
    new = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 3))
    new.uscis = {2026: (2, 0, 0, 0)}
    first = [year(2026, lca_certified=3, uscis_initial_approval=2)]
    out = score(MLE, {1: new}, years=first)
    assert (
        tags(out)["green_card"] == "possible"
        and "a new H-1B sponsor (first filing FY2026)" in out["green_card"][1]["reason"]
    )
    # H-1Bs long before the lookback, with no green card since: not new.
    assert tags(score(MLE, {1: new}, years=[year(2019, lca_certified=4), *first]))["green_card"] == "unlikely"
    # A big programme first seen lately is one the loaded years only begin to show.
    big = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 60))
    big.uscis = {2026: (20, 0, 10, 0)}
    assert tags(score(MLE, {1: big}, years=[year(2026, lca_certified=60)]))["green_card"] == "unlikely"
    # Its petitions failing, it is no sponsor finding its feet.
    new.uscis = {2026: (0, 3, 0, 0)}
    assert tags(score(MLE, {1: new}, years=first))["green_card"] == "unlikely"
    # One H-1B three years ago and nothing since: a sponsor that stopped, not one finding its feet.
    once = cases(("lca", 2024, "certified", True, "Machine Learning Engineer", "III", 1))
    once.uscis = {2024: (1, 0, 0, 0)}
    out = score(MLE, {1: once}, years=[year(2024, lca_certified=1, uscis_initial_approval=1)])
    assert tags(out)["green_card"] == "unlikely" and "not green cards" in out["green_card"][1]["reason"]
    assert tags(score(MLE, {1: once}, years=[year(2025, lca_certified=1)]))["green_card"] == "possible"


def test_a_token_of_green_cards_beside_many_h1bs_is_unlikely() -> None:
    token = cases(
        ("perm", 2025, "certified", False, "Software Developer", "Level II", 1),
        ("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 150),
    )
    out = score(MLE, {1: token})
    assert tags(out)["green_card"] == "unlikely"
    assert out["green_card"][1]["reason"].startswith("sponsors H-1B, rarely green cards: 1 certified PERM case against")
    steady = cases(
        ("perm", 2025, "certified", False, "Software Developer", "Level II", 5),
        ("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 150),
    )
    assert tags(score(MLE, {1: steady}))["green_card"] == "possible"
    # For an ML posting the H-1Bs that count are its kind of work's: a hospital's physician H-1Bs say little.
    hospital = cases(
        ("perm", 2025, "certified", False, "Research Associate", "Level II", 3),
        ("lca", 2025, "certified", False, "Physician", "IV", 400),
        ("lca", 2026, "certified", False, "Physician", "IV", 420),
        ("lca", 2026, "certified", True, "Research Data Scientist", "II", 5),
    )
    out = score(MLE, {1: hospital})
    assert tags(out)["green_card"] == "possible" and out["green_card"][1]["reason"].startswith("3 certified PERM")
    nurse = PostingFacts("Staff Nurse", None, "staff", False, country="US")
    assert tags(score(nurse, {1: hospital}))["green_card"] == "unlikely"  # outside ML every H-1B counts


def test_petitions_without_any_lca_under_the_name_say_nothing_of_green_cards() -> None:
    # The hub shows approved petitions, yet no LCA is filed under this name although every petition needs one:
    # the DOL filings are under another name, so the missing PERM cases are no evidence.
    hub_only = cases()
    hub_only.uscis = {2025: (6, 0, 10, 0), 2026: (5, 0, 12, 0)}
    out = score(MLE, {1: hub_only})
    assert tags(out)["green_card"] == "unknown"
    assert "no LCA under this name" in out["green_card"][1]["reason"]
    # With nothing to judge by, the ad's own offer is what there is, as where no employer is joined.
    offered = PostingFacts(**{**MLE.__dict__, "statement": "offered"})
    assert tags(score(offered, {1: hub_only}))["green_card"] == "possible"
    assert tags(score(MLE, {1: hub_only}, cov=DataCoverage(2026, None, 2026)))["green_card"] == "unlikely"
    with_lcas = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 4))
    with_lcas.uscis = hub_only.uscis
    assert tags(score(MLE, {1: with_lcas}))["green_card"] == "unlikely"  # files H-1B, not green cards


def test_a_postdoc_is_no_permanent_job_for_perm() -> None:
    postdoc = PostingFacts(
        "Postdoctoral Research Fellow, Machine Learning", "research_scientist", None, True, country="US"
    )
    university = cases(
        ("perm", 2025, "certified", False, "Assistant Professor", "Level II", 22),
        ("perm", 2026, "certified", True, "Research Scientist", "Level II", 2),
        ("perm", 2026, "certified", True, "Research Scientist", "Level II", 3),
        ("lca", 2026, "certified", True, "Postdoctoral Research Fellow, Machine Learning", "I", 40),
    )
    university.uscis = {2026: (30, 0, 40, 0)}
    out = score(postdoc, {1: university})
    assert tags(out) == {"green_card": "unlikely", "h1b": "likely"}
    assert out["green_card"][1]["reason"].startswith("a postdoctoral post is temporary and PERM needs a permanent job")
    scientist = PostingFacts("Research Scientist, Machine Learning", "research_scientist", None, True, country="US")
    assert tags(score(scientist, {1: university}))["green_card"] == "likely"
    # An employer that does file PERM cases for its postdocs answers for itself.
    university.groups.append(CaseGroup("perm", 2026, "certified", True, "Postdoc", "Level I", "year", 2, None, None))
    assert tags(score(postdoc, {1: university}))["green_card"] != "unlikely"


def test_no_lca_data_reads_the_role_from_perm_and_approvals_from_the_hub() -> None:
    perms = cases(
        ("perm", 2025, "certified", True, "Machine Learning Engineer", "Level III", 3),
        ("perm", 2026, "certified", True, "Machine Learning Engineer", "Level III", 2),
    )
    perms.uscis = {2025: (8, 0, 12, 0), 2026: (9, 0, 15, 0)}
    no_lca = DataCoverage(2026, None, 2026, date(2026, 9, 30), None)
    out = score(MLE, {1: perms}, cov=no_lca)
    assert tags(out)["h1b"] == "likely"
    assert out["h1b"][1]["reason"].startswith("no LCA data loaded: 44 USCIS H-1B approvals FY2024-27 and 5 certified")
    assert tags(score(MLE, {1: perms}))["h1b"] == "possible"  # LCAs loaded and none for the role
    perms.uscis = {2026: (5, 4, 5, 4)}
    assert tags(score(MLE, {1: perms}, cov=no_lca))["h1b"] == "possible"  # petitions often denied


def test_an_employer_extending_its_h1b_staff_but_filing_nothing_new_has_stopped() -> None:
    # Nothing new since FY2023; USCIS approves only extensions (continuing) in FY2024-26.
    old = cases(("lca", 2023, "certified", True, "Machine Learning Engineer", "III", 40))
    old.uscis = {2024: (0, 0, 60, 1), 2025: (0, 0, 30, 0)}
    years = [
        year(2022, perm_certified=5, lca_certified=50, uscis_initial_approval=30),
        year(2023, lca_certified=40, uscis_initial_approval=12),
        year(2024, uscis_continuing_approval=60),
        year(2025, uscis_continuing_approval=30),
    ]
    out = score(MLE, {1: old}, years=years)
    assert tags(out) == {"green_card": "unlikely", "h1b": "unlikely"}
    assert out["h1b"][1]["reason"].startswith(
        "stopped sponsoring new hires: no certified PERM case or new H-1B approved since FY2023"
    )
    # No hub rows after the last filing: an employer that went quiet, not one seen extending its staff only.
    quiet = cases(("lca", 2023, "certified", True, "Machine Learning Engineer", "III", 40))
    assert tags(score(MLE, {1: quiet}, years=years[:2]))["h1b"] == "possible"
    # A new H-1B approved in FY2025 is a new hire.
    again = [*years[:3], year(2025, uscis_initial_approval=2, uscis_continuing_approval=30)]
    hired = cases(("lca", 2023, "certified", True, "Machine Learning Engineer", "III", 40))
    hired.uscis = {2024: (0, 0, 60, 1), 2025: (2, 0, 30, 0)}  # the hub figures the years above hold
    assert tags(score(MLE, {1: hired}, years=again))["h1b"] != "unlikely"
    # An LCA in a year the hub shows without a new hire is an extension's (every petition needs one), the hub's
    # newest year included ...
    for extension in (
        [*years[:2], year(2024, lca_certified=3, uscis_continuing_approval=60), years[3]],
        [*years[:3], year(2025, lca_certified=3, uscis_continuing_approval=30)],
    ):
        assert tags(score(MLE, {1: old}, years=extension))["h1b"] == "unlikely"
    # ... but LCAs after the hub's newest year may be new hires whose petitions it does not show yet.
    ahead = [*years, year(2026, lca_certified=3)]
    filed = cases(
        ("lca", 2023, "certified", True, "Machine Learning Engineer", "III", 40),
        ("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 3),
    )
    filed.uscis = old.uscis  # the LCAs and hub figures the years above hold
    assert tags(score(MLE, {1: filed}, years=ahead))["h1b"] != "unlikely"
    # One worker's extension is too little to call a stop.
    one = [*years[:2], year(2024, uscis_continuing_approval=1)]
    single = cases(("lca", 2023, "certified", True, "Machine Learning Engineer", "III", 40))
    single.uscis = {2024: (0, 0, 1, 0)}
    assert tags(score(MLE, {1: single}, years=one))["h1b"] != "unlikely"
    # The ad's offer is newer than any filing.
    offered = PostingFacts(**{**MLE.__dict__, "statement": "offered"})
    assert tags(score(offered, {1: old}, years=years))["h1b"] != "unlikely"


def test_similar_green_cards_a_year_old_count_beside_h1bs_for_the_role_now() -> None:
    perms = [
        ("perm", 2024, "certified", True, "Machine Learning Engineer", "Level III", 1),
        ("perm", 2025, "certified", True, "Machine Learning Engineer", "Level III", 2),
    ]
    hiring = cases(*perms, ("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 5))
    hiring.uscis = {2026: (3, 0, 4, 0)}
    assert tags(score(MLE, {1: hiring}))["green_card"] == "likely"
    quiet = cases(*perms, ("lca", 2025, "certified", True, "Machine Learning Engineer", "III", 5))
    quiet.uscis = {2026: (3, 0, 4, 0)}
    assert tags(score(MLE, {1: quiet}))["green_card"] == "possible"  # no hiring for the role in FY2026
    older = cases(perms[0], ("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 5))
    assert tags(score(MLE, {1: older}))["green_card"] == "possible"  # two years old is the past


def test_sponsorship_before_the_lookback_is_possible_not_unlikely() -> None:
    before = [year(2019, perm_certified=4, lca_certified=6)]
    nothing_recent = cases(("perm", 2026, "denied", True, "Machine Learning Engineer", None, 1))
    out = score(MLE, {1: nothing_recent}, years=before)
    assert tags(out) == {"green_card": "possible", "h1b": "possible"}
    assert out["green_card"][1]["reason"] == "sponsored green cards before: last certified PERM case FY2019, none since"
    assert out["h1b"][1]["reason"] == "sponsored H-1Bs before: last filing FY2019, none since"
    assert tags(score(MLE, {1: nothing_recent})) == {"green_card": "unlikely", "h1b": "unlikely"}


def test_likely_needs_the_newest_year_of_the_data() -> None:
    last_year = cases(("perm", 2025, "certified", True, "Machine Learning Engineer", "Level III", 4))
    assert tags(score(MLE, {1: last_year}))["green_card"] == "possible"  # FY2026 is loaded and has none
    stale = DataCoverage(2025, 2026, 2026, date(2025, 9, 30), date(2026, 9, 30))
    assert tags(score(MLE, {1: last_year}, cov=stale))["green_card"] == "likely"  # FY2025 is the newest loaded
    both = cases(
        ("perm", 2025, "certified", True, "Machine Learning Engineer", "Level III", 3),
        ("perm", 2026, "certified", True, "Machine Learning Engineer", "Level III", 1),
    )
    assert tags(score(MLE, {1: both}))["green_card"] == "likely"


def test_uscis_approvals_a_year_behind_back_this_years_lcas() -> None:
    lcas = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 3))
    lcas.uscis = {2024: (4, 0, 3, 0)}  # before the window, inside the lookback
    assert tags(score(MLE, {1: lcas}))["h1b"] == "likely"
    lcas.uscis = {2021: (4, 0, 3, 0)}
    assert tags(score(MLE, {1: lcas}))["h1b"] == "possible"


@pytest.mark.parametrize(
    ("title", "family", "seniority", "filed", "same"),
    [
        (
            "Senior Computer Vision Scientist, Satellite Imagery",
            "perception",
            "senior",
            "Computer Vision Scientist",
            True,
        ),
        ("Principal Scientist, Machine Learning", "research_scientist", "principal", "Principal Scientist", True),
        ("Principal Scientist, Machine Learning", "research_scientist", "principal", "Senior Scientist", False),
        ("Research Scientist, Machine Learning for Genomics", "research_scientist", None, "Research Scientist", True),
        ("Research Scientist, Machine Learning", "research_scientist", None, "Research Scientist, Biology", False),
        ("Postdoctoral Associate, NLP", "research_scientist", None, "Postdoctoral Associate", True),
        ("Member of Technical Staff, Pretraining", "research_engineer", None, "Member of Technical Staff", True),
        ("Machine Learning Engineer", "ml_engineer", None, "Engineer", False),
        ("Machine Learning Engineer", "ml_engineer", None, "Software Engineer", False),
    ],
)
def test_the_postings_very_job_filed_under_a_non_ml_code_is_similar(
    title: str, family: str, seniority: str | None, filed: str, same: bool
) -> None:
    # Employers code one job many ways; never a one-word job ("Scientist" is every scientist) or another speciality.
    group = CaseGroup("lca", 2026, "certified", False, filed, "III", "year", 1, None, None)
    assert is_similar(PostingFacts(title, family, seniority, True), group) is same


def test_similar_reads_the_job_a_title_names() -> None:
    def filed(title: str, ml: bool) -> CaseGroup:
        return CaseGroup("lca", 2026, "certified", ml, title, "III", "year", 1, None, None)

    designer = PostingFacts("Senior Product Designer, Developer Tools", None, "senior", False)
    assert is_similar(designer, filed("Product Designer", False))
    assert not is_similar(designer, filed("Product Designer, Hardware", False))
    vision = PostingFacts("Senior Computer Vision Scientist, Satellite Imagery", "perception", "senior", True)
    assert is_similar(vision, filed("Computer Vision Scientist", True))  # a research title, the same job
    biology = PostingFacts("Research Scientist, Biology", None, None, False)
    assert not is_similar(biology, filed("Research Scientist, Machine Learning", True))
    # AI labs file every kind of ML work as Member of Technical Staff; an ML code says it is ML work.
    pretraining = PostingFacts("Research Engineer, Pretraining", "research_engineer", None, True)
    assert is_similar(pretraining, filed("Member of Technical Staff", True))
    assert not is_similar(pretraining, filed("Member of Technical Staff", False))
    # The same speciality across engineers' and scientists' titles.
    # A speciality's scientist: engineers' and scientists' filings both.
    nlp = PostingFacts("NLP Scientist, Clinical Text", "nlp", None, True)
    assert is_similar(nlp, filed("Data Scientist", True)) and is_similar(nlp, filed("Machine Learning Engineer", True))
    assert not is_similar(
        PostingFacts("Machine Learning Engineer", "ml_engineer", None, True), filed("Data Scientist", True)
    )
    speech = PostingFacts("Speech Recognition Engineer", "ml_engineer", None, True)
    assert is_similar(speech, filed("Speech Scientist", True))
    assert not is_similar(speech, filed("Research Scientist, Computer Vision", True))
    # Outside ML, the job with a qualifier in front dropped, never a one-word job.
    marketing = PostingFacts("Product Marketing Manager, AI", None, "manager", False)
    assert is_similar(marketing, filed("Marketing Manager", False))
    assert not is_similar(marketing, filed("Manager", False))
    assert not is_similar(marketing, filed("Product Manager", False))
    # ... and a qualifier in front of the filed job: a software engineering manager is an engineering manager.
    manager = PostingFacts("Engineering Manager, ML Platform", "mlops", "manager", True)
    assert is_similar(manager, filed("Software Engineering Manager", False))
    assert not is_similar(manager, filed("Manager", False))
    assert not is_similar(
        PostingFacts("Manager, Data Platform", "mlops", "manager", True), filed("Sales Manager", False)
    )


def test_a_software_speciality_is_filed_as_software_engineer() -> None:
    def filed(title: str) -> CaseGroup:
        return CaseGroup("lca", 2026, "certified", False, title, "III", "year", 1, None, None)

    frontend = PostingFacts("Senior Frontend Engineer", None, "senior", False)
    backend = PostingFacts("Staff Backend Engineer, Payments", None, "staff", False)
    for posting in (frontend, backend):
        assert is_similar(posting, filed("Software Engineer III"))
        assert is_similar(posting, filed("Software Developer, Applications"))
    # Either way round; but two specialities are not one job, and other engineers are not software ones.
    assert is_similar(PostingFacts("Software Engineer", None, None, False), filed("Full Stack Engineer"))
    assert not is_similar(frontend, filed("Android Engineer"))
    assert not is_similar(PostingFacts("Data Engineer", None, None, False), filed("Software Engineer"))
    assert not is_similar(PostingFacts("Mechanical Engineer", None, None, False), filed("Software Engineer"))
    lcas = cases(("lca", 2025, "certified", False, "Software Engineer", "III", 12),
                 ("lca", 2026, "certified", False, "Software Engineer", "III", 14))  # fmt: skip
    lcas.uscis = {2026: (20, 0, 40, 0)}
    assert tags(score(frontend, {1: lcas}))["h1b"] == "likely"


def add_posting(session: Session, employer: str, statement: str, n: int) -> None:
    emp = session.scalars(select(Employer).where(Employer.name == employer)).first()
    if emp is None:
        emp = Employer(name=employer)
        session.add(emp)
        session.flush()
    session.add(
        Posting(
            ats="greenhouse",
            board=employer,
            source_id=str(n),
            url=f"https://x/{n}",
            title="Machine Learning Engineer",
            employer_id=emp.id,
            employer_name=employer,
            is_ml=True,
            role_family="ml_engineer",
            country="US",
            sponsorship_statement=statement,
            content_hash=str(n),
        )
    )


def test_match_and_tag_on_database_is_idempotent(db_url: str, all_fixture_files: list[Path]) -> None:
    ingest_paths(db_url, all_fixture_files, progress=False)
    with dbmod.session_scope(db_url) as s:
        add_posting(s, "Acme AI", "not_mentioned", 1)
        add_posting(s, "Acme AI", "refused", 2)
        add_posting(s, "Nimbus Robotics", "not_mentioned", 3)
        add_posting(s, "Nobody Knows Inc", "not_mentioned", 4)
    today = date(2025, 6, 1)  # fiscal year 2025: the fixtures' FY2023-25 filings are recent
    with dbmod.session_scope(db_url) as s:
        first = match_and_tag(s, today=today)
    with dbmod.session_scope(db_url) as s:
        second = match_and_tag(s, today=today)
        assert first == second
        assert s.scalar(select(func.count()).select_from(PostingSponsorship)) == 8
        got = {
            (p, v): t
            for p, v, t in s.execute(
                select(Posting.source_id, PostingSponsorship.visa, PostingSponsorship.tag).join(
                    PostingSponsorship, PostingSponsorship.posting_id == Posting.id
                )
            )
        }
        assert got[("2", "green_card")] == "unlikely" and got[("2", "h1b")] == "unlikely"
        assert got[("4", "green_card")] == "unknown" and got[("4", "h1b")] == "unknown"
        # Two certified H-1B LCAs, one of them an ML engineer's (the other a data scientist's): not yet "likely".
        assert got[("3", "h1b")] == "possible"
        methods = s.execute(
            select(Employer.name, EmployerMatch.method, EmployerMatch.role).join(
                EmployerMatch, EmployerMatch.employer_id == Employer.id
            )
        ).all()
        assert ("Acme AI", "exact", "match") in methods
        assert first["employers_matched"] == 2 and first["employers_none"] == 1


@pytest.mark.parametrize("visa", ["green_card", "h1b"])
def test_demo_sample_tags(db_url: str, visa: str) -> None:
    from matching import demo

    with dbmod.session_scope(db_url) as s:
        for i, name in enumerate(["Acme AI", "Nimbus Robotics", "Quill Health"]):
            add_posting(s, name, "not_mentioned", i)
    rows = dict(demo.run(db_url))
    assert rows["join Acme AI"].startswith("ACME ARTIFICIAL INTELLIGENCE, INC.")
    assert rows["join Nimbus Robotics"].startswith("NIMBUS ROBOTICS CORPORATION")
    assert rows["join Quill Health"].startswith("QUILL HEALTH TECHNOLOGIES, INC.")
    label = "green card" if visa == "green_card" else "H-1B"
    assert rows[f"{label} tags Acme AI"] == "likely 1"


def test_join_reads_the_legal_entity_a_posting_states(db_url: str, all_fixture_files: list[Path]) -> None:
    ingest_paths(db_url, all_fixture_files, progress=False)
    with dbmod.session_scope(db_url) as s:
        add_posting(s, "Zyxwv Robots", "not_mentioned", 1)  # no filer looks like the brand ...
        s.flush()
        p = s.scalars(select(Posting).where(Posting.source_id == "1")).one()
        # ... but the ad names its legal employer.
        p.description_text = "Build robots with us. Nimbus Robotics Corporation is an equal opportunity employer."
    with dbmod.session_scope(db_url) as s:
        match_and_tag(s)
        rows = s.execute(
            select(DolEntity.name, EmployerMatch.method).join(EmployerMatch, EmployerMatch.entity_id == DolEntity.id)
        ).all()
        assert ("NIMBUS ROBOTICS CORPORATION", "ad_name") in rows


def joined_by(session: Session) -> list[tuple[str, str]]:
    """(filer, method) of every join that chose a filer."""
    rows = session.execute(
        select(DolEntity.name, EmployerMatch.method)
        .join(EmployerMatch, EmployerMatch.entity_id == DolEntity.id)
        .where(EmployerMatch.role == "match")
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def loaded(db_url: str, files: list[Path], employers: list[str]) -> None:
    """The DOL `files` ingested and one ML posting for each of `employers` (source ids 1, 2, ...), no statement."""
    ingest_paths(db_url, files, progress=False)
    with dbmod.session_scope(db_url) as s:
        for n, employer in enumerate(employers, 1):
            add_posting(s, employer, "not_mentioned", n)


def test_join_reads_the_state_an_employers_postings_are_in(db_url: str, tmp_path: Path) -> None:
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", [("ORBIT LABS INC", "CA"), ("ORBIT HEALTH LLC", "TX")])
    loaded(db_url, [lca], ["Orbit", "Orbit"])
    with dbmod.session_scope(db_url) as s:
        match_and_tag(s)
        # Two namesakes, and the postings say nothing of where they are: a person's call.
        assert s.scalars(select(EmployerMatch.method).where(EmployerMatch.role == "match")).all() == []
        for p in s.scalars(select(Posting)):
            p.region = "CA"
    with dbmod.session_scope(db_url) as s:
        match_and_tag(s)
        assert joined_by(s) == [("ORBIT LABS INC", "ad_place")]


def test_join_reads_that_an_employer_hires_only_abroad(db_url: str, tmp_path: Path) -> None:
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", [("VIREON BROOK FARM LLC", "WA")])
    loaded(db_url, [lca], ["Vireon", "Vireon"])
    with dbmod.session_scope(db_url) as s:
        for p, country in zip(s.scalars(select(Posting).order_by(Posting.source_id)), ["DE", None], strict=True):
            p.country = country
    with dbmod.session_scope(db_url) as s:
        match_and_tag(s)
        # One posting's country is unknown (it may be a US remote one): the lone filer of the word stays the brand.
        assert joined_by(s) == [("VIREON BROOK FARM LLC", "leading")]
        s.scalars(select(Posting).where(Posting.source_id == "2")).one().country = "GB"
    with dbmod.session_scope(db_url) as s:
        match_and_tag(s)
        # Munich and London only: a small farm in Washington is a namesake, not the employer.
        assert joined_by(s) == []


def test_join_reads_the_hub_denials_that_mark_a_staffing_firm(db_url: str, tmp_path: Path) -> None:
    hub = tmp_path / "h1b_datahubexport-2023.csv"
    hub.write_text(
        "Fiscal Year,Employer,Initial Approval,Initial Denial,Continuing Approval,Continuing Denial,NAICS,Tax ID,"
        "State,City,ZIP\n"
        "2023,UNIFY SOLUTIONS INC,40,5,60,3,54,1111,MD,ROCKVILLE,20850\n"  # 108 decided, 8 denied (7%)
        "2023,BLEND LABS INC,40,0,66,1,54,2222,CA,SAN FRANCISCO,94105\n",  # 107 decided, 1 denied (1%)
        encoding="utf-8",
    )
    loaded(db_url, [hub], ["Unify", "Blend"])
    with dbmod.session_scope(db_url) as s:
        match_and_tag(s)
        # An everyday word leading a staffing firm's name is that firm's word; a product company's is its brand.
        assert joined_by(s) == [("BLEND LABS INC", "leading")]


def test_join_reads_the_board_an_employers_postings_come_from(db_url: str, tmp_path: Path) -> None:
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", [("ORBIT LABS INC", "CA"), ("ORBIT HEALTH LLC", "TX")])
    ingest_paths(db_url, [lca], progress=False)
    with dbmod.session_scope(db_url) as s:
        add_posting(s, "Orbit", "not_mentioned", 1)
        for p in s.scalars(select(Posting)):
            p.board = "orbithealthcareers"  # the platform's token says more than the brand
    with dbmod.session_scope(db_url) as s:
        match_and_tag(s)
        assert joined_by(s) == [("ORBIT HEALTH LLC", "ad_board")]
        # The evidence says what the posting gave: the board's token, for a person to check.
        ev = s.scalars(select(PostingSponsorship.evidence)).first()
        assert ev is not None and [e["via"] for e in ev["employer"]["entities"]] == ["orbithealth"]
        # A schema.org site's board is its address, not a token: it is not read as one.
        for p in s.scalars(select(Posting)):
            p.ats, p.board = "jsonld", "https://orbithealth.example/careers"
    with dbmod.session_scope(db_url) as s:
        match_and_tag(s)
        assert joined_by(s) == []


def test_one_similar_perm_case_on_a_track_of_h1bs_for_the_role_is_likely() -> None:
    one = ("perm", 2026, "certified", True, "Machine Learning Engineer", "Level III", 1)
    lca_25 = ("lca", 2025, "certified", True, "Machine Learning Engineer", "III", 2)
    lca_26 = ("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 3)
    track = cases(one, lca_25, lca_26)
    track.uscis = {2026: (3, 0, 1, 0)}
    out = score(MLE, {1: track})
    assert tags(out)["green_card"] == "likely"
    assert "beside H-1B LCAs for ML engineer titles in FY2025-26" in out["green_card"][1]["reason"]
    # The role's LCAs in one year only are a start, not a track.
    assert tags(score(MLE, {1: cases(one, lca_26)}))["green_card"] == "possible"
    # A PERM case for the role denied, or USCIS denying many petitions, breaks the track.
    denied = cases(one, lca_25, lca_26, ("perm", 2025, "denied", True, "Machine Learning Engineer", "Level III", 1))
    assert tags(score(MLE, {1: denied}))["green_card"] == "possible"
    track.uscis = {2026: (3, 2, 1, 1)}
    assert tags(score(MLE, {1: track}))["green_card"] == "possible"


def test_an_offer_from_an_employer_whose_h1bs_uscis_approved_lately_is_h1b_likely() -> None:
    offered = PostingFacts(**{**MLE.__dict__, "statement": "offered"})
    # Its one H-1B is for another occupation, approved in the window: the offer is this role's word, the approval
    # shows the employer knows the way.
    lately = cases(("lca", 2024, "certified", False, "Business Analyst", "I", 1))
    lately.uscis = {2024: (1, 0, 0, 0)}
    out = score(offered, {1: lately})
    assert tags(out)["h1b"] == "likely"
    assert out["h1b"][1]["reason"] == (
        "the ad offers sponsorship, and USCIS has approved the employer's H-1Bs: 1 USCIS H-1B approval FY2024-27"
    )
    # Silent, the same record is only possible; so is an offer beside approvals older than the window (the
    # employer's past, FY2023 here), and an offer from an employer that never had an H-1B.
    assert tags(score(MLE, {1: lately}))["h1b"] == "possible"
    before = cases(("lca", 2023, "certified", False, "Business Analyst", "I", 1))
    before.uscis = {2023: (1, 0, 0, 0)}
    assert tags(score(offered, {1: before}))["h1b"] == "possible"
    old = cases(("lca", 2021, "certified", False, "Business Analyst", "I", 1))
    years = [year(2021, lca_certified=1, uscis_initial_approval=1)]
    assert tags(score(offered, {1: old}, years=years))["h1b"] == "possible"
    assert tags(score(offered, {1: cases(("perm", 2026, "withdrawn", True, "ML Engineer", None, 1))}))["h1b"] == (
        "possible"
    )
    # Certified LCAs are no approved petition: with the hub loaded and silent on them, the offer stays possible;
    # with no hub file loaded at all, they are the best there is, and the reason says so.
    recent = cases(("lca", 2026, "certified", False, "Software Engineer", "II", 2))
    assert tags(score(offered, {1: recent}))["h1b"] == "possible"
    no_hub = DataCoverage(2026, 2026, None, date(2026, 9, 30), date(2026, 9, 30))
    out = score(offered, {1: recent}, cov=no_hub)
    assert tags(out)["h1b"] == "likely" and out["h1b"][1]["reason"].endswith("(no USCIS hub data loaded)")
    # USCIS denying a quarter of its petitions keeps the offer at possible.
    recent.uscis = {2026: (2, 1, 4, 2)}
    assert tags(score(offered, {1: recent}))["h1b"] == "possible"
    recent.uscis = {2026: (2, 0, 4, 0)}
    assert tags(score(offered, {1: recent}))["h1b"] == "likely"


def test_the_postings_own_job_filed_outside_ml_codes_is_similar_and_said_so() -> None:
    # AI labs and drug makers file "Member of Technical Staff" or "Principal Scientist" under non-ML codes.
    mts = PostingFacts("Member of Technical Staff, Pretraining", "research_engineer", None, True, country="US")
    filed = cases(
        *(("perm", fy, "certified", False, "Member of Technical Staff", "Level III", 2) for fy in (2024, 2025, 2026)),
        *(("lca", fy, "certified", False, "Member of Technical Staff", "III", 9) for fy in (2024, 2025, 2026)),
    )
    filed.uscis = {2025: (3, 0, 4, 0), 2026: (3, 0, 4, 0)}
    out = score(mts, {1: filed})
    assert tags(out) == {"green_card": "likely", "h1b": "likely"}
    gc = out["green_card"][1]
    assert gc["reason"].startswith("6 certified PERM cases for this job's title (filed outside ML occupations)")
    assert gc["similar_role"]["outside_ml"] == 6 and gc["ml_occupation"]["certified"] == 0
    # For a posting of another job, the same filings stay employer-level evidence.
    other = PostingFacts("Research Engineer, Pretraining", "research_engineer", None, True, country="US")
    assert tags(score(other, {1: filed})) == {"green_card": "possible", "h1b": "possible"}


def test_most_new_hire_petitions_denied_is_unlikely_though_extensions_pass() -> None:
    lcas = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 20))
    # Extensions go through (40 approved), new employment mostly fails: 5 approved, 8 denied.
    lcas.uscis = {2025: (10, 1, 40, 0), 2026: (5, 8, 40, 1)}
    out = score(MLE, {1: lcas})
    assert out["h1b"][0] == "unlikely"
    assert out["h1b"][1]["reason"] == "USCIS denied most of its new-hire H-1B petitions in FY2026: 8 denied, 5 approved"
    lcas.uscis = {2025: (6, 9, 40, 0), 2026: (8, 5, 40, 1)}  # over the window: 14 denied, 14 approved
    assert score(MLE, {1: lcas})["h1b"][0] != "unlikely"
    lcas.uscis = {2025: (6, 10, 40, 0), 2026: (8, 5, 40, 1)}
    assert score(MLE, {1: lcas})["h1b"][1]["reason"].startswith(
        "USCIS denied most of its new-hire H-1B petitions FY2024-27: 15 denied, 14 approved"
    )


def test_a_big_filer_that_never_files_the_postings_job_is_unlikely_for_it() -> None:
    marketer = PostingFacts("Product Marketing Manager, ML Platform", None, None, False, country="US")
    rows = [
        ("perm", 2026, "certified", True, "Research Scientist", "Level III", 30),
        ("lca", 2026, "certified", True, "Research Scientist", "III", 60),
        ("lca", 2025, "certified", False, "Software Engineer", "II", 60),
    ]
    big = with_hub({2026: (40, 1, 60, 1)}, *rows)
    out = score(marketer, {1: big})
    assert tags(out) == {"green_card": "unlikely", "h1b": "unlikely"}
    assert out["h1b"][1]["reason"] == (
        "files for other jobs, not this one: none of its 120 certified H-1B LCAs and 30 certified PERM cases "
        "FY2024-27 is for this title"
    )
    # A small filer's silence says little; a filing for the job, or the ad's own offer, changes it.
    small = with_hub({2026: (10, 0, 10, 0)}, ("lca", 2026, "certified", True, "Research Scientist", "III", 20))
    assert tags(score(marketer, {1: small}))["h1b"] == "possible"
    hired = with_hub(big.uscis, *rows, ("lca", 2026, "certified", False, "Product Marketing Manager", "II", 1))
    assert tags(score(marketer, {1: hired}))["h1b"] != "unlikely"
    offered = PostingFacts(**{**marketer.__dict__, "statement": "offered"})
    assert tags(score(offered, {1: big}))["h1b"] != "unlikely"


def test_an_employer_filing_only_senior_people_is_no_likely_sponsor_of_new_graduates() -> None:
    grad = PostingFacts(**{**MLE.__dict__, "title": "Machine Learning Engineer, New Grad", "seniority": "junior"})
    senior = with_hub(
        {2026: (10, 0, 20, 0)},
        ("perm", 2025, "certified", True, "Senior Machine Learning Engineer", "Level IV", 3),
        ("perm", 2026, "certified", True, "Staff Machine Learning Engineer", "Level IV", 2),
        ("lca", 2026, "certified", True, "Senior Machine Learning Engineer", "III", 16),
    )
    out = score(grad, {1: senior})
    assert tags(out) == {"green_card": "possible", "h1b": "possible"}
    assert out["h1b"][1]["reason"].endswith("all at Level III: none at this posting's level")
    # One filing at Level II is this posting's level; a mid-level posting still counts filings above it.
    senior.groups.append(CaseGroup("lca", 2026, "certified", True, "ML Engineer", "II", "year", 1, None, None))
    assert tags(score(grad, {1: senior}))["h1b"] == "likely"
    mid = PostingFacts(**{**MLE.__dict__, "title": "Machine Learning Engineer", "seniority": "mid"})
    assert tags(score(mid, {1: senior}))["h1b"] == "likely"


def test_extensions_alone_in_the_newest_hub_year_say_h1b_hiring_has_stopped() -> None:
    lcas = cases(("lca", 2026, "certified", True, "Senior Applied Scientist", "IV", 20))
    lcas.uscis = {2025: (12, 0, 80, 1), 2026: (0, 0, 88, 0)}
    out = score(MLE, {1: lcas})
    assert out["h1b"] == ("unlikely", out["h1b"][1])
    assert out["h1b"][1]["reason"] == "USCIS approved no new-hire H-1B in FY2026, only 88 extensions of workers it has"
    lcas.uscis = {2025: (12, 0, 80, 1), 2026: (0, 0, 4, 0)}  # a few extensions: too little to say
    assert score(MLE, {1: lcas})["h1b"][0] != "unlikely"
    # Fewer than say it has stopped, but no new hire in the two newest hub years: the staff it keeps, not hiring.
    own = cases(("lca", 2025, "certified", True, "Machine Learning Engineer", "III", 9),
                ("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 8))  # fmt: skip
    own.uscis = {2024: (1, 0, 18, 0), 2025: (0, 0, 21, 1), 2026: (0, 0, 19, 0)}
    out = score(MLE, {1: own})
    assert out["h1b"][0] == "possible"
    assert out["h1b"][1]["reason"].endswith("but USCIS approved no new-hire H-1B in FY2025-26, only extensions")
    own.uscis = {2024: (1, 0, 18, 0), 2025: (2, 0, 21, 1), 2026: (0, 0, 19, 0)}  # one year without: noise
    assert score(MLE, {1: own})["h1b"][0] == "likely"
    lcas.uscis = {2025: (12, 0, 80, 1), 2026: (0, 0, 88, 0)}
    offered = PostingFacts(**{**MLE.__dict__, "statement": "offered"})
    assert score(offered, {1: lcas})["h1b"][0] != "unlikely"


def test_an_ml_leaders_filing_is_similar_for_any_ml_leaders_posting() -> None:
    director = PostingFacts("Director of Applied AI", "applied_scientist", "director", True)
    lead = CaseGroup("perm", 2026, "certified", True, "Senior Manager, Machine Learning", "IV", "year", 1, None, None)
    assert is_similar(director, lead)
    # ... not an individual contributor's filing of another kind of ML work, nor a non-ML manager's.
    analyst = CaseGroup("perm", 2026, "certified", True, "Data Scientist", "IV", "year", 1, None, None)
    assert not is_similar(director, analyst)
    sales = CaseGroup("perm", 2026, "certified", False, "Sales Manager", "IV", "year", 1, None, None)
    assert not is_similar(director, sales)


def test_a_postdoc_posting_meets_every_name_universities_file_postdocs_under() -> None:
    postdoc = PostingFacts("Postdoctoral Research Fellow in Robot Learning", "research_scientist", None, True)
    for filed in ("Postdoctoral Scholar", "Postdoctoral Appointee", "Post-Doc Associate"):
        assert is_similar(postdoc, CaseGroup("lca", 2026, "certified", False, filed, "I", "year", 1, None, None))
    # ... not a research scientist's filing outside ML, nor a postdoc filing for a posting that is no postdoc.
    scientist = CaseGroup("lca", 2026, "certified", False, "Research Scientist", "II", "year", 1, None, None)
    assert not is_similar(postdoc, scientist)
    engineer = PostingFacts("Machine Learning Engineer", "ml_engineer", None, True)
    fellow = CaseGroup("lca", 2026, "certified", False, "Postdoctoral Fellow", "I", "year", 1, None, None)
    assert not is_similar(engineer, fellow)


def test_new_hire_petitions_denied_often_keep_h1b_at_possible() -> None:
    lcas = cases(("lca", 2026, "certified", True, "Machine Learning Engineer", "III", 10))
    lcas.uscis = {2025: (5, 0, 50, 0), 2026: (10, 5, 50, 0)}  # 5 of 120 in all, 5 of 20 new-hire petitions
    out = score(MLE, {1: lcas})
    assert out["h1b"][0] == "possible"
    assert out["h1b"][1]["reason"].endswith("but USCIS denied 5 of 20 new-hire H-1B petitions")
    lcas.uscis = {2025: (5, 0, 50, 0), 2026: (14, 1, 50, 0)}
    assert score(MLE, {1: lcas})["h1b"][0] == "likely"


def test_green_cards_without_any_h1b_are_a_finding_for_the_h1b_tag() -> None:
    vision = PostingFacts("Senior Computer Vision Scientist", "perception", "senior", True, country="US")
    perms = cases(
        *(("perm", fy, "certified", True, "Computer Vision Scientist", "Level III", 2) for fy in (2024, 2025, 2026))
    )
    out = score(vision, {1: perms})
    assert tags(out) == {"green_card": "likely", "h1b": "unlikely"}
    assert out["h1b"][1]["reason"] == (
        "sponsors green cards, not H-1Bs: 6 certified PERM cases FY2024-27 but no H-1B filing in 5 fiscal years"
    )
    # One H-1B in the lookback, or the ad's offer, keeps it open.
    perms.groups.append(CaseGroup("lca", 2024, "certified", False, "Software Engineer", "II", "year", 1, None, None))
    assert tags(score(vision, {1: perms}))["h1b"] == "possible"


def test_an_ml_platform_engineer_is_filed_as_a_software_engineer() -> None:
    infra = PostingFacts("ML Infrastructure Engineer, Training Platform", "ml_infra", None, True)
    for filed in ("Software Engineer", "Senior Software Engineer", "Software Development Engineer II"):
        assert is_similar(infra, CaseGroup("perm", 2026, "certified", False, filed, "III", "year", 1, None, None))
    # ... not a machine learning engineer's posting, whose job is no software speciality.
    mle = PostingFacts("Machine Learning Engineer", "ml_engineer", None, True)
    swe = CaseGroup("perm", 2026, "certified", False, "Software Engineer", "III", "year", 1, None, None)
    assert not is_similar(mle, swe)


def test_data_that_stop_years_ago_say_what_an_employer_did_not_what_it_does() -> None:
    old = cases(
        ("perm", 2023, "certified", True, "Machine Learning Engineer", "Level III", 3),
        ("perm", 2024, "certified", True, "Machine Learning Engineer", "Level III", 2),
        ("lca", 2024, "certified", True, "Machine Learning Engineer", "III", 9),
    )
    old.uscis = {2023: (5, 0, 5, 0)}
    stale = DataCoverage(2024, 2024, 2023, date(2024, 9, 30), date(2024, 9, 30))
    out = score(MLE, {1: old}, cov=stale)
    assert tags(out) == {"green_card": "possible", "h1b": "possible"}
    assert out["green_card"][1]["reason"].endswith("; but the loaded DOL data stop at FY2024")
    # PERM data alone stopping so long ago leave the green card stale beside LCA data that are current.
    fresh_lcas = cases(
        *((g.kind, g.fiscal_year, g.status, g.is_ml, g.title, g.wage_level, g.count) for g in old.groups)
    )
    fresh_lcas.groups.append(
        CaseGroup("lca", 2026, "certified", True, "Machine Learning Engineer", "III", "year", 9, None, None)
    )
    fresh_lcas.uscis = {2025: (9, 0, 7, 0), 2026: (8, 0, 5, 0)}
    perm_stale = DataCoverage(2024, 2026, 2026, date(2024, 9, 30), date(2026, 9, 30))
    out = score(MLE, {1: fresh_lcas}, cov=perm_stale)
    assert tags(out) == {"green_card": "possible", "h1b": "likely"}
    assert out["green_card"][1]["reason"].endswith("; but the loaded PERM data stop at FY2024")
    # A year behind the last complete one is the usual lag, not stale.
    lag = DataCoverage(2025, 2025, 2025, date(2025, 9, 30), date(2025, 9, 30))
    recent = cases(
        *((g.kind, g.fiscal_year + 1, g.status, g.is_ml, g.title, g.wage_level, g.count) for g in old.groups)
    )
    recent.uscis = {2025: (5, 0, 5, 0)}
    assert tags(score(MLE, {1: recent}, cov=lag)) == {"green_card": "likely", "h1b": "likely"}


def test_the_roles_own_perm_cases_failing_a_third_of_the_time_keep_it_possible() -> None:
    def record(denied: tuple[int, int]) -> EntityFilings:
        return cases(
            ("perm", 2025, "certified", True, "Machine Learning Engineer", "Level III", 8),
            ("perm", 2025, "denied", True, "Machine Learning Engineer", "Level III", denied[0]),
            ("perm", 2026, "certified", True, "Machine Learning Engineer", "Level III", 8),
            ("perm", 2026, "denied", True, "Machine Learning Engineer", "Level III", denied[1]),
        )

    out = score(MLE, {1: record((6, 3))})  # 9 of 25 failed
    assert out["green_card"][0] == "possible"
    assert out["green_card"][1]["reason"].endswith("but 9 for the role denied or withdrawn")
    assert score(MLE, {1: record((3, 2))})["green_card"][0] == "likely"  # 5 of 21: within what likely allows


def test_a_director_beside_only_individual_contributors_filings_is_possible() -> None:
    def record(*extra: tuple[str, int, str, bool, str, str | None, int]) -> EntityFilings:
        ics = (("perm", 2026, "certified", True, "Data Scientist", "Level III", 2),
               ("lca", 2026, "certified", True, "Senior Data Scientist", "III", 12))  # fmt: skip
        return with_hub({2026: (10, 0, 10, 0)}, *ics, *extra)

    director = PostingFacts("Director of Data Science", "data_scientist", "director", True, country="US")
    out = score(director, {1: record()})
    assert tags(out) == {"green_card": "possible", "h1b": "possible"}
    assert out["h1b"][1]["reason"].endswith("all at individual contributors' levels: none at this posting's level")
    # A filing for a data-science leader is the director's own job; a line manager's posting keeps its team's.
    lead = ("lca", 2026, "certified", True, "Director, Data Science", "IV", 1)
    assert tags(score(director, {1: record(lead)}))["h1b"] == "likely"
    manager = PostingFacts("Manager, Data Science", "data_scientist", "manager", True, country="US")
    assert tags(score(manager, {1: record()})) == {"green_card": "likely", "h1b": "likely"}
    # Green cards for data-science leaders are filed for leaders it has on H-1Bs; an H-1B for one says nothing
    # of a green card.
    perm_lead = ("perm", 2026, "certified", True, "Senior Manager, Data Science", "Level IV", 1)
    assert tags(score(director, {1: record(perm_lead)}))["h1b"] == "likely"
    assert tags(score(director, {1: record(lead)}))["green_card"] == "possible"


def test_a_recruiters_or_sellers_posting_is_unlikely_wherever_the_job_is_never_filed() -> None:
    small = with_hub({2026: (6, 0, 4, 0)}, ("lca", 2026, "certified", True, "Machine Learning Engineer", "II", 9))
    for title in ("Technical Recruiter, AI/ML", "Enterprise Account Executive", "Customer Success Manager"):
        posting = PostingFacts(title, None, None, False, country="US")
        out = score(posting, {1: small})
        assert tags(out) == {"green_card": "unlikely", "h1b": "unlikely"}, title
        assert out["h1b"][1]["reason"] == (
            "files for other jobs, not this one: none of its 9 certified H-1B LCAs FY2024-27 is for this title"
        )
    # A sales engineer is an engineer; a designer's job is not of that kind (a small filer's silence says little).
    for title in ("Sales Engineer, AI Solutions", "Product Designer"):
        posting = PostingFacts(title, None, None, False, country="US")
        assert tags(score(posting, {1: small}))["h1b"] == "possible", title


def test_an_old_h1b_under_the_name_is_no_sign_its_filings_are_under_another() -> None:
    # One LCA and approval in FY2020, one extension in FY2023: the employer's filings are its own, just old.
    old = with_hub(
        {2020: (1, 0, 0, 0), 2023: (0, 0, 1, 0)}, ("lca", 2020, "certified", True, "Data Scientist", "II", 1)
    )
    years = [year(2020, lca_certified=1, uscis_initial_approval=1), year(2023, uscis_continuing_approval=1)]
    assert tags(score(MLE, {1: old}, years=years))["green_card"] == "unlikely"
