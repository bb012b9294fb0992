"""`jobagg reclassify`: stored postings re-read in batches, only changed columns written."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

import crawler.cli.reclassify  # noqa: F401  (registers the command until crawler.cli imports it)
from crawler import db as dbmod
from crawler.cli import main
from crawler.models.postings import Posting
from crawler.reclassify import reclassify


def _posting(n: int, title: str, description: str | None = None, **extra: object) -> Posting:
    return Posting(
        ats="greenhouse",
        board="acme",
        source_id=str(n),
        url=f"https://example.com/{n}",
        title=title,
        description_text=description,
        content_hash=f"h{n}",
        **extra,
    )


def test_reclassify_updates_changed_rows_in_batches(session: Session) -> None:
    session.add_all(
        [
            _posting(1, "Senior Machine Learning Engineer", "We sponsor visas.", locations=["Remote (US)"]),
            _posting(2, "Recruiter, AI Research", is_ml=True, role_family="ml_engineer"),
            _posting(3, "Data Scientist", "MS or PhD required.", country="GB", city="London"),
        ]
    )
    session.flush()
    done: list[int] = []
    counts = reclassify(session, batch_size=2, progress=done.append)
    assert done == [2, 1]
    assert counts["scanned"] == 3
    assert counts["changed"] == 3
    rows = {p.source_id: p for p in session.scalars(select(Posting))}
    assert (rows["1"].is_ml, rows["1"].seniority, rows["1"].sponsorship_statement) == (True, "senior", "offered")
    assert (rows["1"].country, rows["1"].remote) == ("US", "remote")
    assert (rows["2"].is_ml, rows["2"].role_family) == (False, None)
    assert (rows["3"].degree_min, rows["3"].eb_category_hint, rows["3"].city) == ("master", "EB-2", "London")
    again = reclassify(session)
    assert (again["scanned"], again["changed"]) == (3, 0)


def test_cli_prints_a_summary(sqlite_url: str) -> None:
    with dbmod.session_scope(sqlite_url) as s:
        s.add(_posting(1, "Staff Applied Scientist"))
    result = CliRunner().invoke(main, ["--db", sqlite_url, "reclassify", "--batch-size", "10"])
    assert result.exit_code == 0, result.output
    assert "scanned" in result.output
    with dbmod.session_scope(sqlite_url) as s:
        row = s.scalars(select(Posting)).one()
        assert (row.is_ml, row.role_family, row.seniority) == (True, "applied_scientist", "staff")
    dbmod.get_engine(sqlite_url).dispose()
