"""The views are a contract for other programs: read with plain sqlite3 / psycopg, same rows on both databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import yaml

from crawler import db as dbmod
from crawler.web.query import Filters, listing_query, row_dict
from tests.web.conftest import libpq_url, sqlite_path

VIEWS = ("open_postings", "employer_filings", "employer_joins")
# Surrogate ids depend on the order concurrent crawls stored rows; everything else must match exactly.
IDS = {"posting_id", "employer_id", "dol_entity_id"}
METADATA = Path(__file__).parents[2] / "crawler" / "web" / "metadata.yml"


def _sqlite_rows(path: Path, view: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    con = sqlite3.connect(path)
    try:
        cur = con.execute(f"SELECT * FROM {view}")
        cols = [d[0] for d in cur.description]
        return cols, cur.fetchall()
    finally:
        con.close()


def _pg_rows(url: str, view: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with psycopg.connect(libpq_url(url)) as con:
        cur = con.execute(f"SELECT * FROM {view}")
        cols = [d.name for d in cur.description or []]
        return cols, cur.fetchall()


def _comparable(cols: list[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    keep = [i for i, c in enumerate(cols) if c not in IDS]
    return sorted((tuple(r[i] for i in keep) for r in rows), key=repr)


def test_views_give_the_same_rows_on_sqlite_and_postgresql(demo_sqlite: str, demo_pg: str) -> None:
    for view in VIEWS:
        s_cols, s_rows = _sqlite_rows(sqlite_path(demo_sqlite), view)
        p_cols, p_rows = _pg_rows(demo_pg, view)
        assert s_cols == p_cols, view
        assert s_rows, f"{view} is empty after the demo"
        assert _comparable(s_cols, s_rows) == _comparable(p_cols, p_rows), view


def test_open_postings_answers_the_front_end_question_without_joins(demo_sqlite: str) -> None:
    con = sqlite3.connect(sqlite_path(demo_sqlite))
    con.row_factory = sqlite3.Row
    rows = con.execute(
        "SELECT title, employer, city, salary_min, seniority, sponsorship_sentence, green_card_reason"
        " FROM open_postings WHERE is_ml = 1 AND green_card_tag = 'likely' ORDER BY posted_at DESC"
    ).fetchall()
    con.close()
    assert rows, "the demo has green-card-likely ML postings"
    assert all(r["green_card_reason"] and "certified PERM" in r["green_card_reason"] for r in rows)


def test_open_postings_matches_the_api_listing_query(demo_sqlite: str) -> None:
    """The API reads the tables with the view's join; both must agree row for row."""
    _, view_rows = _sqlite_rows(sqlite_path(demo_sqlite), "open_postings")
    engine = dbmod.get_engine(demo_sqlite)
    with engine.connect() as conn:
        api_rows = [row_dict(r) for r in conn.execute(listing_query(Filters(), limit=100_000))]
    assert sorted(tuple(r.values()) for r in api_rows) == sorted(view_rows)


def test_views_exclude_closed_postings_and_carry_tag_reasons(demo_sqlite: str) -> None:
    con = sqlite3.connect(sqlite_path(demo_sqlite))
    try:
        open_n = con.execute("SELECT count(*) FROM postings WHERE closed_at IS NULL").fetchone()[0]
        assert con.execute("SELECT count(*) FROM open_postings").fetchone()[0] == open_n
        missing = con.execute(
            "SELECT count(*) FROM posting_sponsorship WHERE reason IS NULL OR reason = ''"
        ).fetchone()[0]
        assert missing == 0
    finally:
        con.close()


def test_employer_joins_lists_every_employer_with_postings_as_the_review_command_sees_it(demo_sqlite: str) -> None:
    import json

    from tests.crawling import cli

    con = sqlite3.connect(sqlite_path(demo_sqlite))
    rows = con.execute(
        "SELECT employer, outcome, role, dol_employer, match_method, open_ml_postings FROM employer_joins"
    )
    view = rows.fetchall()
    posted = {
        r[0] for r in con.execute("SELECT DISTINCT e.name FROM employers e JOIN postings p ON p.employer_id = e.id")
    }
    con.close()
    assert {r[0] for r in view} == posted
    live = json.loads(cli("--db", demo_sqlite, "employers", "review", "--all", "--json", "--limit", "1000").stdout)
    for r in live:
        stored = [v for v in view if v[0] == r["employer"]]
        assert {v[1] for v in stored} == {r["outcome"]}, r["employer"]
        assert {v[5] for v in stored} == {r["open_ml_postings"]}
        if r["outcome"] == "matched":
            assert {v[3] for v in stored if v[2] == "match"} == {f["name"] for f in r["filers"]}
            assert {v[4] for v in stored if v[2] == "match"} == {r["method"]}
    # Of the matched joins, --suspect adds those of a kind often wrong: here the one joined by a near spelling.
    suspect = json.loads(cli("--db", demo_sqlite, "employers", "review", "--suspect", "--json").stdout)
    assert [(r["employer"], r["check"]) for r in suspect if r["outcome"] == "matched"] == [
        ("Pylon Search", "a near spelling of the name, not the name")
    ]


def test_datasette_metadata_describes_every_view_column(demo_sqlite: str) -> None:
    meta = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    tables = meta["databases"]["jobagg"]["tables"]
    for view in VIEWS:
        cols, _ = _sqlite_rows(sqlite_path(demo_sqlite), view)
        described = tables[view]["columns"]
        assert tables[view]["description"]
        assert set(cols) == set(described), view
        assert all(isinstance(described[c], str) and described[c].strip() for c in cols)


def test_database_doc_documents_every_view_column(demo_sqlite: str) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "database.md").read_text(encoding="utf-8")
    for view in VIEWS:
        section = doc.split(f"### {view}", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
        cols, _ = _sqlite_rows(sqlite_path(demo_sqlite), view)
        for col in cols:
            assert f"| `{col}` |" in section, f"{view}.{col} undocumented"


def test_migration_goes_down_and_up_and_later_table_rebuilds_keep_the_views(db_url: str) -> None:
    """0006 downgrades cleanly; and a later batch migration that rebuilds postings (SQLite) keeps the views."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    engine = dbmod.get_engine(db_url)
    cfg = dbmod.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    assert "open_postings" not in sa.inspect(engine).get_view_names()
    dbmod.upgrade(engine)
    assert {"open_postings", "employer_filings", "employer_joins"} <= set(sa.inspect(engine).get_view_names())
    # What a later migration does on SQLite (table rebuild), run the way env.py runs migrations.
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA legacy_alter_table=ON")
        ops = Operations(MigrationContext.configure(conn, opts={"render_as_batch": True}))
        with ops.batch_alter_table("postings", recreate="always" if conn.dialect.name == "sqlite" else "auto") as b:
            b.add_column(sa.Column("later_column", sa.String(10)))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM open_postings").scalar() == 0
