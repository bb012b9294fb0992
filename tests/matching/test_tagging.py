"""Sponsorship tags: DESIGN.md §4 semantics, evidence a person can check, idempotent recomputation."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler import db as dbmod
from crawler.models import DolEntity, DolEntityYear, Employer, EmployerMatch, Posting, PostingSponsorship
from matching.ingest import ingest_paths
from matching.join import Candidate, MatchResult
from matching.tagging import DataCoverage, match_and_tag, score_posting

COV = DataCoverage(perm=2025, lca=2025, uscis=2024)


def entities(**years: dict[str, Any]) -> dict[int, dict[str, Any]]:
    e = DolEntity(
        id=1,
        key="fein:812345678",
        name="ACME ARTIFICIAL INTELLIGENCE, INC.",
        fein="812345678",
        is_staffing=False,
        sample_cases={"perm": ["G-100-24300-600000"]},
    )
    rows = []
    for fy, vals in years.items():
        base = {
            f: 0
            for f in (
                "perm_certified",
                "perm_certified_expired",
                "perm_denied",
                "perm_withdrawn",
                "perm_ml",
                "perm_ml_certified",
                "lca_certified",
                "lca_denied",
                "lca_withdrawn",
                "lca_ml_certified",
                "lca_secondary",
            )
        }
        base.update(vals)
        rows.append(DolEntityYear(entity_id=1, fiscal_year=int(fy[2:]), **base))
    return {1: {"entity": e, "years": rows}}


MATCHED = MatchResult(
    "Acme AI", "matched", [Candidate(1, "ACME ARTIFICIAL INTELLIGENCE, INC.", "812345678", 100.0, "exact")]
)
STRONG = entities(
    FY2024={
        "perm_certified": 5,
        "perm_ml": 4,
        "perm_ml_certified": 4,
        "lca_certified": 9,
        "lca_ml_certified": 5,
        "perm_latest_decision": date(2024, 9, 1),
    }
)


def tags(
    statement: str | None,
    result: MatchResult | None,
    ents: dict[int, dict[str, Any]],
    is_ml: bool = True,
    cov: DataCoverage = COV,
) -> dict[str, str]:
    return {visa: tag for visa, (tag, _) in score_posting(statement, None, is_ml, result, ents, cov).items()}


def test_strong_history_is_likely() -> None:
    assert tags("not_mentioned", MATCHED, STRONG) == {"green_card": "likely", "h1b": "likely"}


def test_refusal_in_ad_outranks_history() -> None:
    out = score_posting("refused", "We cannot sponsor visas.", True, MATCHED, STRONG, COV)
    assert {v: t for v, (t, _) in out.items()} == {"green_card": "unlikely", "h1b": "unlikely"}
    ev = out["green_card"][1]
    assert ev["ad"] == {"statement": "refused", "sentence": "We cannot sponsor visas."}
    assert ev["by_fiscal_year"]["2024"]["certified"] == 5  # the history is still shown


def test_no_join_is_unknown_not_unlikely() -> None:
    none = MatchResult("Stealth Startup", "none")
    assert tags("not_mentioned", none, {}) == {"green_card": "unknown", "h1b": "unknown"}
    assert tags(None, None, {}) == {"green_card": "unknown", "h1b": "unknown"}
    unsure = MatchResult("Northwind Dat", "unsure", [], [Candidate(3, "NORTHWIND DATA INC", None, 88.0, "fuzzy")])
    assert tags("not_mentioned", unsure, {}) == {"green_card": "unknown", "h1b": "unknown"}
    assert tags("offered", none, {}) == {"green_card": "possible", "h1b": "possible"}


def test_joined_without_certified_filings_is_unlikely() -> None:
    ents = entities(FY2024={"perm_denied": 2, "lca_denied": 1})
    assert tags("not_mentioned", MATCHED, ents) == {"green_card": "unlikely", "h1b": "unlikely"}


def test_no_data_loaded_is_unknown() -> None:
    assert tags("not_mentioned", MATCHED, STRONG, cov=DataCoverage(None, None, None)) == {
        "green_card": "unknown",
        "h1b": "unknown",
    }


def test_old_or_non_ml_history_is_possible() -> None:
    old = entities(FY2019={"perm_certified": 8, "lca_certified": 8})
    assert tags("not_mentioned", MATCHED, old) == {"green_card": "possible", "h1b": "possible"}
    non_ml = entities(FY2025={"perm_certified": 6, "lca_certified": 6})
    assert tags("not_mentioned", MATCHED, non_ml, is_ml=True) == {"green_card": "possible", "h1b": "possible"}
    assert tags("not_mentioned", MATCHED, non_ml, is_ml=False) == {"green_card": "likely", "h1b": "likely"}
    assert tags("offered", MATCHED, entities(FY2025={"perm_certified": 1}))["green_card"] == "likely"


def test_evidence_is_checkable() -> None:
    _, ev = score_posting("not_mentioned", None, True, MATCHED, STRONG, COV)["green_card"]
    assert ev["employer"]["entities"][0]["fein"] == "81-2345678"
    assert ev["employer"]["method"] == "exact" and ev["employer"]["score"] == 100.0
    assert ev["employer"]["entities"][0]["sample_cases"] == {"perm": ["G-100-24300-600000"]}
    assert ev["by_fiscal_year"]["2024"]["ml_occupation_certified"] == 4
    assert ev["latest_decision"] == "2024-09-01" and ev["window"] == [2023, 2025]


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
    with dbmod.session_scope(db_url) as s:
        first = match_and_tag(s)
    with dbmod.session_scope(db_url) as s:
        second = match_and_tag(s)
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
        assert got[("3", "h1b")] == "likely"  # 3 certified H-1B LCAs (2 ML) + USCIS approvals
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
