"""Re-running ingest, entity building and tagging on unchanged inputs changes no row, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crawler import db as dbmod
from crawler.models import Posting
from matching.ingest import ingest_paths
from matching.tagging import match_and_tag
from tests.matching.conftest import DOL
from tests.matching.test_tagging import add_posting
from tests.tables import TABLES, changes, snapshot


def _postings(db_url: str) -> None:
    with dbmod.session_scope(db_url) as s:
        add_posting(s, "Acme AI", "not_mentioned", 1)
        add_posting(s, "Acme AI", "refused", 2)
        add_posting(s, "Nimbus Robotics", "not_mentioned", 3)
        add_posting(s, "Nimbus Robotics", "offered", 4)
        add_posting(s, "Nobody Knows Inc", "not_mentioned", 5)


def _ingest_and_tag(db_url: str, files: list[Path]) -> list[Any]:
    summaries = ingest_paths(db_url, files, progress=False)
    with dbmod.session_scope(db_url) as s:
        match_and_tag(s)
    return summaries


def test_ingest_and_tag_twice_changes_no_row(db_url: str, all_fixture_files: list[Path]) -> None:
    _postings(db_url)
    _ingest_and_tag(db_url, all_fixture_files)
    before = snapshot(db_url)
    assert all(before[m.__tablename__] for m in TABLES)

    again = _ingest_and_tag(db_url, all_fixture_files)
    assert [(s.inserted, s.replaced) for s in again] == [(0, 0)] * len(again)
    assert sum(s.unchanged for s in again) == len(before["dol_cases"]) + len(before["uscis_employer_years"])
    assert snapshot(db_url) == before


def test_a_changed_case_changes_just_what_follows_from_it(db_url: str, tmp_path: Path) -> None:
    files = [DOL / "lca_fy2024_q4.csv", DOL / "uscis_hub_fy2024_utf16.csv"]
    _postings(db_url)
    _ingest_and_tag(db_url, files)
    before = snapshot(db_url)

    # A later release: one Nimbus case now withdrawn, one Bigstaff case repeated as it was.
    with (DOL / "lca_fy2024_q4.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], {r[0]: r for r in rows[1:] if r and r[0]}
    changed, same = body["I-200-24001-000003"], body["I-200-24002-000000"]
    assert changed[1] == "Certified"
    changed[1] = "Withdrawn"
    release = tmp_path / "lca_fy2024_q4_rerelease.csv"
    with release.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, changed, same])

    summary = _ingest_and_tag(db_url, [release])[0]
    assert (summary.inserted, summary.replaced, summary.unchanged, summary.kept_existing) == (0, 1, 1, 0)
    after = snapshot(db_url)
    diff = changes(before, after)

    case_id = next(i for i, r in before["dol_cases"].items() if r["case_number"] == "I-200-24001-000003")
    nimbus = next(i for i, r in before["dol_entities"].items() if r["key"] == "fein:461029384")
    fy2024 = next(
        i for i, r in before["dol_entity_years"].items() if r["entity_id"] == str(nimbus) and r["fiscal_year"] == "2024"
    )
    with dbmod.session_scope(db_url) as s:
        nimbus_posts = set(s.scalars(select(Posting.id).where(Posting.employer_name == "Nimbus Robotics")))
    h1b_tags = {i for i, r in before["posting_sponsorship"].items() if r["visa"] == "h1b"}
    nimbus_h1b = {i for i in h1b_tags if int(before["posting_sponsorship"][i]["posting_id"]) in nimbus_posts}
    assert len(nimbus_h1b) == 2

    assert diff.keys() == {"dol_cases", "dol_entities", "dol_entity_years", "posting_sponsorship"}
    # The case keeps its id; its status and provenance move to the new release.
    assert diff["dol_cases"] == {case_id: {"status", "source_file"}}
    assert after["dol_cases"][case_id]["status"] == "withdrawn"
    # One yearly aggregate row, one entity's built_at: nothing else of the entity build moves.
    assert diff["dol_entity_years"] == {fy2024: {"lca_certified", "lca_withdrawn"}}
    old_year, new_year = before["dol_entity_years"][fy2024], after["dol_entity_years"][fy2024]
    assert int(new_year["lca_certified"]) == int(old_year["lca_certified"]) - 1
    assert int(new_year["lca_withdrawn"]) == int(old_year["lca_withdrawn"]) + 1
    assert diff["dol_entities"] == {nimbus: {"built_at"}}
    # Exactly the affected tags: Nimbus's H-1B ones, with new evidence and computed_at, and a new reason where it
    # quotes the count that moved (the employer-level one; a similar-role reason counts other cases).
    assert diff["posting_sponsorship"].keys() == nimbus_h1b
    assert all({"evidence", "computed_at"} <= cols <= {"evidence", "reason", "computed_at"} for cols in
               diff["posting_sponsorship"].values())  # fmt: skip
    assert any("reason" in cols for cols in diff["posting_sponsorship"].values())
    for i in nimbus_h1b:
        old_ev = json.loads(before["posting_sponsorship"][i]["evidence"])
        new_ev = json.loads(after["posting_sponsorship"][i]["evidence"])
        old_fy, new_fy = old_ev["by_fiscal_year"]["2024"], new_ev["by_fiscal_year"]["2024"]
        assert new_fy["lca_certified"] == old_fy["lca_certified"] - 1

    # Ingesting that release once more is a no-op.
    _ingest_and_tag(db_url, [release])
    assert changes(after, snapshot(db_url)) == {}
