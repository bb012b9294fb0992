"""The `jobagg` command line, run as a user runs it (a subprocess), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import select

from crawler import db as dbmod
from crawler.models import Board, Posting
from tests.crawling import jobagg

VOLATILE = {"last_seen_at", "last_run_id"}


def _snapshot(db_url: str) -> tuple[list[dict], list[dict]]:
    with dbmod.session_scope(db_url) as session:
        postings = [
            {c.key: getattr(p, c.key) for c in Posting.__table__.columns if c.key not in VOLATILE}
            for p in session.scalars(select(Posting).order_by(Posting.ats, Posting.board, Posting.source_id))
        ]
        boards = [
            {c.key: getattr(b, c.key) for c in Board.__table__.columns if c.key != "last_crawled_at"}
            for b in session.scalars(select(Board).order_by(Board.ats, Board.token))
        ]
    return postings, boards


def test_demo_twice_changes_nothing_but_last_seen(db_url: str, tmp_path: Path) -> None:
    first = jobagg("--db", db_url, "demo", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Crawl summary" in first.stdout and "Open ML postings" in first.stdout
    before = _snapshot(db_url)
    assert len(before[0]) >= 30
    assert {p["ats"] for p in before[0]} >= {"greenhouse"}
    assert any(p["is_ml"] for p in before[0]) and not all(p["is_ml"] for p in before[0])

    second = jobagg("--db", db_url, "demo", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert _snapshot(db_url) == before


def test_demo_uses_the_sqlite_default_in_the_working_directory(tmp_path: Path) -> None:
    out = jobagg("demo", cwd=tmp_path, env={"JOBAGG_DATABASE_URL": ""})
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "jobagg.db").exists()
    exported = jobagg("export", "--ml-only", "--format", "csv", "--out", str(tmp_path / "ml.csv"), cwd=tmp_path,
                      env={"JOBAGG_DATABASE_URL": ""})  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    with (tmp_path / "ml.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(r["is_ml"] == "True" for r in rows)
    assert {"title", "employer_name", "sponsorship_statement", "posted_at"} <= set(rows[0])
    due = jobagg("crawl", "--due", cwd=tmp_path, env={"JOBAGG_DATABASE_URL": ""})
    assert due.returncode == 0 and "none is due" in due.stdout
    status = jobagg("status", cwd=tmp_path, env={"JOBAGG_DATABASE_URL": ""})
    assert status.returncode == 0 and "Boards by platform" in status.stdout
    assert "Open ML postings by sponsorship tag" in status.stdout


def test_boards_import_is_all_or_nothing_and_names_the_problem(sqlite_url: str, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("employer,ats,board,region,board_url\nAcme,greenhouse,acme,,\nBeta,lever,beta,eu,\n")
    out = jobagg("--db", sqlite_url, "boards", "import", str(good))
    assert out.returncode == 0, out.stderr
    again = jobagg("--db", sqlite_url, "boards", "import", str(good))
    assert again.returncode == 0 and "2" in again.stdout  # two unchanged

    bad = tmp_path / "bad.csv"
    bad.write_text("employer,ats,board\nGamma,greenhouse,gamma\nDelta,workday,not-a-workday-token\n")
    out = jobagg("--db", sqlite_url, "boards", "import", str(bad))
    assert out.returncode != 0
    assert f"{bad}:3" in out.stderr and "workday" in out.stderr
    missing = tmp_path / "missing.csv"
    missing.write_text("name,platform\nX,greenhouse\n")
    out = jobagg("--db", sqlite_url, "boards", "import", str(missing))
    assert out.returncode != 0 and "missing column(s) employer, ats, board" in out.stderr
    with dbmod.session_scope(sqlite_url) as session:
        tokens = sorted(session.scalars(select(Board.token)))
    assert tokens == ["acme", "beta"]  # nothing of the bad files was stored


def test_boards_add_and_list(db_url: str) -> None:
    out = jobagg("--db", db_url, "boards", "add", "greenhouse", "anthropic", "--employer", "Anthropic")
    assert out.returncode == 0 and "added" in out.stdout
    bad = jobagg("--db", db_url, "boards", "add", "nosuchats", "x", "--employer", "X")
    assert bad.returncode != 0 and "unknown platform 'nosuchats'" in bad.stderr
    listed = jobagg("--db", db_url, "boards", "list")
    assert "anthropic" in listed.stdout and "Anthropic" in listed.stdout and "never" in listed.stdout


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    out = jobagg("--db", url, "db", "upgrade")
    assert out.returncode == 0, out.stderr
    assert f"-> {dbmod.head_revision()}" in out.stdout
    assert dbmod.current_revision(dbmod.make_engine(url)) == dbmod.head_revision()


def test_export_jsonl_has_contract_fields(sqlite_url: str, tmp_path: Path) -> None:
    assert jobagg("--db", sqlite_url, "demo", cwd=tmp_path).returncode == 0
    out = jobagg("--db", sqlite_url, "export", "--country", "us")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows and all(r["country"] == "US" for r in rows)
    from crawler.items import CONTRACT_FIELDS

    assert set(CONTRACT_FIELDS) <= set(rows[0])


def test_run_crawls_due_boards_then_matches_and_tags(db_url: str, tmp_path: Path) -> None:
    """What a scheduler calls, against the bundled corpus: registry -> crawl -> DOL join -> tags."""
    from crawler.models import PostingSponsorship
    from crawler.offline.server import BUNDLED_CORPUS, serve
    from matching.demo import sample_files

    assert jobagg("--db", db_url, "boards", "import", str(BUNDLED_CORPUS / "boards.csv")).returncode == 0
    ingest = jobagg("--db", db_url, "dol", "ingest", *map(str, sample_files()))
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    with serve(BUNDLED_CORPUS) as server:
        run = jobagg("--db", db_url, "run", "--roles", "all", "--api-base", server.base_url)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Crawl summary" in run.stdout and "join and tags recomputed" in run.stdout
        again = jobagg("--db", db_url, "run", "--api-base", server.base_url)
    assert again.returncode == 0 and "none is due" in again.stdout
    with dbmod.session_scope(db_url) as session:
        postings = session.scalars(select(Posting)).all()
        tags = session.scalars(select(PostingSponsorship)).all()
    assert len(postings) >= 40
    assert len(tags) == 2 * len(postings)
    assert {t.tag for t in tags} >= {"likely", "unlikely"}
    refused = [p.id for p in postings if p.sponsorship_statement == "refused"]
    assert refused and all(t.tag == "unlikely" for t in tags if t.posting_id in refused)


def test_a_bad_database_url_is_one_clear_error(tmp_path: Path) -> None:
    out = jobagg("--db", "nosuchdialect://x", "status", cwd=tmp_path)
    assert out.returncode == 1 and "bad database URL nosuchdialect://x" in out.stderr
    assert "Traceback" not in out.stderr
    out = jobagg("--db", "postgresql://nobody:secret@127.0.0.1:1/x", "status", cwd=tmp_path)
    assert out.returncode == 1 and "database postgresql+psycopg://nobody:***@127.0.0.1:1/x failed" in out.stderr
    assert "secret" not in out.stderr
