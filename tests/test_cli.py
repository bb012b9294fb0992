"""The `jobagg` command line, run as a user runs it (a subprocess), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from sqlalchemy import select

from crawler import db as dbmod
from crawler.cli.boards import BUNDLED_REGISTRY
from crawler.models import Board, DolCase, Posting, UscisEmployerYear
from tests.conftest import demo_sqlite_url
from tests.crawling import cli, jobagg
from tests.tables import changes, snapshot

VOLATILE = {"last_seen_at", "last_run_id"}


def _snapshot(db_url: str) -> tuple[list[dict], list[dict]]:
    with dbmod.session_scope(db_url) as session:
        postings = [
            {c.key: getattr(p, c.key) for c in Posting.__table__.columns if c.key not in VOLATILE}
            for p in session.scalars(select(Posting).order_by(Posting.ats, Posting.board, Posting.source_id))
        ]
        boards = [
            {
                c.key: getattr(b, c.key)
                for c in Board.__table__.columns
                if c.key not in ("last_crawled_at", "last_ok_at")
            }
            for b in session.scalars(select(Board).order_by(Board.ats, Board.token))
        ]
    return postings, boards


def test_demo_twice_changes_nothing_but_last_seen(db_url: str, tmp_path: Path) -> None:
    """Postings and boards (their crawl times aside) and every DOL, join and tag table come out the same."""
    first = jobagg("--db", db_url, "demo", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Crawl summary" in first.stdout and "Open ML postings" in first.stdout
    before = _snapshot(db_url)
    assert len(before[0]) >= 30
    assert {p["ats"] for p in before[0]} >= {"greenhouse"}
    assert any(p["is_ml"] for p in before[0]) and not all(p["is_ml"] for p in before[0])
    dol_before = snapshot(db_url)
    assert len(dol_before["posting_sponsorship"]) >= 60 and dol_before["employer_matches"]

    second = jobagg("--db", db_url, "demo", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert _snapshot(db_url) == before
    assert changes(dol_before, snapshot(db_url)) == {}


def test_demo_brings_its_own_older_sample_file_to_the_current_schema(tmp_path: Path) -> None:
    """`jobagg demo` after an upgrade of jobagg: its own jobagg-demo.db is migrated, not refused; a database the
    user names is never migrated behind their back."""
    old = tmp_path / "jobagg-demo.db"
    engine = dbmod.make_engine(f"sqlite:///{old}")
    dbmod.upgrade(engine, "0007")
    engine.dispose()
    out = jobagg("demo", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    engine = dbmod.make_engine(f"sqlite:///{old}")
    try:
        assert dbmod.current_revision(engine) == dbmod.head_revision()
    finally:
        engine.dispose()
    named = tmp_path / "mine.db"
    engine = dbmod.make_engine(f"sqlite:///{named}")
    dbmod.upgrade(engine, "0007")
    engine.dispose()
    out = jobagg("--db", f"sqlite:///{named}", "demo", cwd=tmp_path)
    assert out.returncode == 1 and "behind" in out.stderr and "jobagg db upgrade" in out.stderr


def test_demo_keeps_to_its_own_database_marks_its_samples_and_reads_at_80_columns(tmp_path: Path) -> None:
    """$JOBAGG_DATABASE_URL is for real work: the demo never writes sample data there. Its tables fit 80 columns
    without a broken word."""
    real = tmp_path / "real.db"
    env = {"JOBAGG_DATABASE_URL": f"sqlite:///{real}", "COLUMNS": "80"}
    out = jobagg("demo", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert not real.exists()
    demo_db = tmp_path / "jobagg-demo.db"
    assert demo_db.exists() and "jobagg-demo.db" in out.stdout
    tail = out.stdout.splitlines()[-3:]
    assert [line.split()[:2] for line in tail] == [["jobagg", "boards"], ["jobagg", "crawl"], ["jobagg", "dol"]]
    demo_url = f"sqlite:///{demo_db}"
    with dbmod.session_scope(demo_url) as session:
        sources = set(session.scalars(select(DolCase.source_file))) | set(
            session.scalars(select(UscisEmployerYear.source_file))
        )
    assert sources and all(s.startswith("sample:") for s in sources)

    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    # The command it names for one posting's figures works as printed.
    hint = next(line for line in lines if line.startswith("Why a posting got its tags: "))
    command = hint.split(": ", 1)[1].split()
    assert command[0] == "jobagg"
    why = jobagg(*command[1:], cwd=tmp_path)
    assert why.returncode == 0 and "green card (PERM): likely" in why.stdout, why.stderr[-2000:]
    hint = next(line for line in lines if line.startswith("Joins to check: "))
    review = jobagg(*hint.split(": ", 1)[1].split()[1:], cwd=tmp_path)
    assert review.returncode == 0 and "Pylon Search" in review.stdout and "employers set" in review.stdout
    from crawler.offline.demo import compact_salary

    with dbmod.session_scope(demo_url) as session:
        postings = session.scalars(select(Posting).where(Posting.is_ml.is_(True), Posting.closed_at.is_(None))).all()
        words = {w for p in postings for w in (p.title + " " + (p.employer_name or "")).split()}
        salaries = {compact_salary(p) for p in postings} - {""}
    cells = {c.strip() for line in lines for c in line.split("│")}
    assert salaries <= cells  # every pay cell whole, on one line
    shown = {w for line in lines for c in line.split("│") for w in c.split()}
    assert words <= shown  # no title or employer word split across lines
    assert len(lines) < 200
    # One job posted in two places is two rows a reader can tell apart: the narrow table names the place.
    from rich.console import Console

    from crawler.offline.demo import postings_table

    console = Console(width=300, record=True)
    console.print(postings_table(demo_url))
    rows = [[c.strip() for c in ln.split("│")[1:3]] for ln in console.export_text().splitlines() if "│" in ln]
    assert sum(1 for p in postings if [r for r in rows if r[1].startswith(p.title + " · ")]) >= 2
    assert len({tuple(r) for r in rows}) == len(rows)

    exported = jobagg("--db", demo_url, "export", "--ml-only", "--format", "csv", "--out", str(tmp_path / "ml.csv"))
    assert exported.returncode == 0, exported.stderr
    with (tmp_path / "ml.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(r["is_ml"] == "True" for r in rows)
    assert {"title", "employer_name", "sponsorship_statement", "posted_at"} <= set(rows[0])
    due = jobagg("--db", demo_url, "crawl", "--due")
    assert due.returncode == 0 and "none is due" in due.stdout
    status = jobagg("--db", demo_url, "status")
    assert status.returncode == 0 and "Boards by platform" in status.stdout
    assert "Open ML postings by sponsorship tag" in status.stdout

    # Named on its own command line, a database does receive the demo (here with the wide table's every column).
    named = jobagg("--db", f"sqlite:///{real}", "demo", "--wide", cwd=tmp_path, env={**env, "COLUMNS": "300"})
    assert named.returncode == 0, named.stderr[-3000:]
    assert real.exists()
    assert any(p.apply_url and p.apply_url in named.stdout for p in postings)


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


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    # The start-up check compares the database to this head without importing alembic.
    assert dbmod.script_head() == dbmod.head_revision()


def test_export_jsonl_has_contract_fields(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = jobagg("--db", demo_sqlite_url(tmp_path_factory), "export", "--country", "us")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows and all(r["country"] == "US" for r in rows)
    from crawler.items import CONTRACT_FIELDS

    assert set(CONTRACT_FIELDS) <= set(rows[0])


def test_run_crawls_due_boards_then_matches_and_tags(db_url: str, tmp_path: Path) -> None:
    """What a scheduler calls, against the bundled corpus: registry -> crawl -> DOL join -> tags."""
    from crawler.models import PostingSponsorship
    from crawler.offline.server import BUNDLED_CORPUS, serve
    from matching.demo import sample_files

    assert cli("--db", db_url, "boards", "import", str(BUNDLED_CORPUS / "boards.csv")).returncode == 0
    ingest = jobagg("--db", db_url, "dol", "ingest", *map(str, sample_files()))
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    assert "`jobagg match`" in ingest.stdout  # says what comes next
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
    # Every US posting (or one whose place is unknown) has both tags; US visas do not apply elsewhere.
    us = [p for p in postings if p.country in (None, "US")]
    assert len(tags) == 2 * len(us) and {t.posting_id for t in tags} == {p.id for p in us}
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


def _one_error_line(out: subprocess.CompletedProcess[str]) -> str:
    """The command failed with exactly one `Error:` line and no traceback; returns that line."""
    text = out.stdout + out.stderr
    assert "Traceback" not in text, text[-3000:]
    errors = [line for line in out.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, out.stderr
    return errors[0]


def test_bundled_registry_imports_whole_and_once(sqlite_url: str) -> None:
    first = jobagg("--db", sqlite_url, "boards", "import", "--bundled")
    assert first.returncode == 0, first.stderr
    with BUNDLED_REGISTRY.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    keys = {(r["ats"], r["board"]) for r in rows}
    assert len(keys) == len(rows)  # one row per board: a fresh import updates nothing
    with dbmod.session_scope(sqlite_url) as session:
        stored = {(ats, token) for ats, token in session.execute(select(Board.ats, Board.token))}
    assert stored == keys
    assert ("ashby", "Flock Safety") in stored
    assert _counts(first.stdout) == [len(rows), 0, 0, 0]  # added, updated, unchanged, merged
    again = jobagg("--db", sqlite_url, "boards", "import", "--bundled")
    assert again.returncode == 0
    assert _counts(again.stdout) == [0, 0, len(rows), 0]


def _counts(stdout: str) -> list[int]:
    row = next(line for line in stdout.splitlines() if line.startswith("│"))
    return [int(n) for n in re.findall(r"\d+", row.replace(",", ""))]


def test_registry_import_reports_every_bad_row_and_merges_exact_duplicates(sqlite_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "employer,ats,board\n"
        "A,greenhouse,alpha\n"
        "B,workday,no-site\n"
        "C,nosuch,c\n"
        "D,lever,bad token\n"
        "E,greenhouse,alpha2\n"
        "F,greenhouse,alpha2\n"
    )
    out = jobagg("--db", sqlite_url, "boards", "import", str(bad))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    for line in (3, 4, 5, 7):
        assert f"{bad}:{line}:" in out.stderr
    assert "4 problems" in out.stderr and "nothing was imported" in out.stderr
    assert not (tmp_path / "jobagg.db").exists()  # checked before the database is touched

    dup = tmp_path / "dup.csv"
    dup.write_text("employer,ats,board\nA,greenhouse,alpha\nA,greenhouse,alpha\nB,lever,beta\n")
    out = jobagg("--db", sqlite_url, "boards", "import", str(dup))
    assert out.returncode == 0, out.stderr
    assert "duplicate rows merged" in out.stdout
    with dbmod.session_scope(sqlite_url) as session:
        assert sorted(session.scalars(select(Board.token))) == ["alpha", "beta"]


def test_registry_import_of_a_non_utf8_or_binary_file_is_one_line(sqlite_url: str, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("employer,ats,board\nCafé Ltd,greenhouse,cafe\n".encode("latin-1"))
    line = _one_error_line(jobagg("--db", sqlite_url, "boards", "import", str(latin)))
    assert f"{latin}:2: not UTF-8" in line
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"employer,ats,board\n\x00\x01\x02garbage\n")
    assert "binary data" in _one_error_line(jobagg("--db", sqlite_url, "boards", "import", str(binary)))


def test_ashby_board_names_with_spaces_are_percent_encoded(sqlite_url: str, tmp_path: Path) -> None:
    from crawler.offline.server import BUNDLED_CORPUS, serve

    corpus = tmp_path / "corpus"
    (corpus / "ashby").mkdir(parents=True)
    shutil.copy(BUNDLED_CORPUS / "ashby" / "orbitalbio.json", corpus / "ashby" / "Flock Safety.json")
    assert cli("--db", sqlite_url, "boards", "add", "ashby", "Flock Safety", "--employer", "Flock").returncode == 0
    with serve(corpus) as server:
        out = jobagg("--db", sqlite_url, "crawl", "--ats", "ashby", "--roles", "all", "--api-base", server.base_url)
        requested = [path for _, path in server.requests]
    assert out.returncode == 0, out.stdout + out.stderr
    assert any(path.startswith("/posting-api/job-board/Flock%20Safety?") for path in requested)
    with dbmod.session_scope(sqlite_url) as session:
        assert session.scalar(select(Board.last_status).where(Board.token == "Flock Safety")) == "ok"


def test_a_failed_export_keeps_the_previous_file_and_an_empty_csv_has_a_header(sqlite_url: str, tmp_path: Path) -> None:
    keep = tmp_path / "keep.csv"
    keep.write_text("previous export\n")
    out = jobagg("--db", f"sqlite:///{tmp_path / 'nonexistent' / 'x.db'}", "export", "--format", "csv",
                 "--out", str(keep))  # fmt: skip
    assert out.returncode == 1 and keep.read_text() == "previous export\n"
    _one_error_line(out)
    nodir = jobagg("--db", sqlite_url, "export", "--out", str(tmp_path / "nonexistent" / "out.csv"))
    assert nodir.returncode == 2 and "does not exist" in _one_error_line(nodir)

    dbmod.get_engine(sqlite_url).dispose()  # a new, empty database
    empty = jobagg("--db", sqlite_url, "export", "--format", "csv", "--out", str(keep))
    assert empty.returncode == 0, empty.stderr
    from crawler.web.export import FIELDS

    assert keep.read_text().splitlines() == [",".join(["posting_id", *FIELDS])]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_crawl_typos_fail(sqlite_url: str) -> None:
    out = jobagg("--db", sqlite_url, "crawl", "--ats", "bogus")
    assert out.returncode == 2 and "greenhouse" in _one_error_line(out)
    out = jobagg("--db", sqlite_url, "crawl", "--board", "foo/../bar baz")
    assert out.returncode == 2 and "--board" in _one_error_line(out)
    out = jobagg("--db", sqlite_url, "crawl", "--ats", "workday", "--board", "acme")
    assert out.returncode == 2 and "workday" in _one_error_line(out)
    dbmod.get_engine(sqlite_url).dispose()
    out = jobagg("--db", sqlite_url, "crawl", "--board", "nosuchboard")
    assert out.returncode == 1 and "jobagg boards add" in _one_error_line(out)
    out = jobagg("--db", sqlite_url, "crawl", "--ats", "lever")
    assert out.returncode == 1 and "boards import" in _one_error_line(out)


def test_boards_remove_disable_enable(sqlite_url: str) -> None:
    assert cli("--db", sqlite_url, "boards", "add", "greenhouse", "acme", "--employer", "Acme").returncode == 0
    assert cli("--db", sqlite_url, "boards", "add", "lever", "beta", "--employer", "Beta").returncode == 0
    out = jobagg("--db", sqlite_url, "boards", "disable", "greenhouse", "acme")
    assert out.returncode == 0 and "disabled" in out.stdout
    listed = jobagg("--db", sqlite_url, "boards", "list", "--status", "disabled")
    assert "greenhouse/acme" in listed.stdout and "lever/beta" not in listed.stdout
    crawl = jobagg("--db", sqlite_url, "crawl", "--board", "acme")
    assert crawl.returncode == 1 and "boards enable greenhouse acme" in _one_error_line(crawl)
    assert jobagg("--db", sqlite_url, "boards", "enable", "greenhouse", "acme").returncode == 0
    with dbmod.session_scope(sqlite_url) as session:
        assert session.scalar(select(Board.active).where(Board.token == "acme")) is True
    out = jobagg("--db", sqlite_url, "boards", "remove", "greenhouse", "acme")
    assert out.returncode == 0 and "removed" in out.stdout
    missing = jobagg("--db", sqlite_url, "boards", "remove", "greenhouse", "acme")
    assert missing.returncode == 1 and "no board greenhouse/acme" in _one_error_line(missing)
    with dbmod.session_scope(sqlite_url) as session:
        assert sorted(session.scalars(select(Board.token))) == ["beta"]


def test_boards_list_shows_the_whole_error(sqlite_url: str) -> None:
    assert cli("--db", sqlite_url, "boards", "add", "greenhouse", "acme", "--employer", "Acme").returncode == 0
    error = "DNS lookup failed: no results for hostname lookup at https://boards-api.greenhouse.io/v1/boards/acme/jobs"
    with dbmod.session_scope(sqlite_url) as session:
        session.scalar(select(Board)).last_error = error
    out = jobagg("--db", sqlite_url, "boards", "list", env={"COLUMNS": "80"})
    assert out.returncode == 0
    note = "".join(line.split("│")[-2].strip() for line in out.stdout.splitlines() if line.count("│") > 2)
    assert error.replace(" ", "") in note.replace(" ", "")
    assert max(len(line) for line in out.stdout.splitlines()) <= 80


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    for args in (["status"], ["boards", "list"], ["export"], ["employers", "match", "Acme"], ["crawl"]):
        out = jobagg("--db", f"sqlite:///{typo}", *args, cwd=tmp_path)
        assert out.returncode == 1, args
        assert f"database {typo} does not exist" in _one_error_line(out)
        assert not typo.exists()


def test_a_database_behind_the_code_says_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert jobagg("--db", url, "db", "upgrade", "--revision", "0002").returncode == 0
    for args in (["status"], ["boards", "add", "lever", "x", "--employer", "X"], ["match"]):
        out = jobagg("--db", url, *args)
        assert out.returncode == 1 and "run `jobagg db upgrade`" in _one_error_line(out)
    assert dbmod.current_revision(dbmod.make_engine(url)) == "0002"  # nothing migrated behind the user's back
    assert jobagg("--db", url, "db", "upgrade").returncode == 0
    assert jobagg("--db", url, "status").returncode == 0


def test_two_concurrent_upgrades_on_postgresql(pg_url: str) -> None:
    import uuid

    from sqlalchemy import text

    schema = f"jobagg_upgrade_{uuid.uuid4().hex[:8]}"
    admin = dbmod.make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = pg_url.split("?")[0] + f"?options=-csearch_path%3D{schema}"
    try:
        behind = jobagg("--db", url, "status")
        assert behind.returncode == 1 and "run `jobagg db upgrade`" in _one_error_line(behind)
        cmd = [sys.executable, "-m", "crawler", "--db", url, "db", "upgrade"]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        assert all(o.strip().endswith(f"-> {dbmod.head_revision()}") for o, _ in outs), outs
        engine = dbmod.make_engine(url)
        assert dbmod.current_revision(engine) == dbmod.head_revision()
        engine.dispose()
        assert jobagg("--db", url, "status").returncode == 0
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_an_unsupported_database_url_is_one_line(tmp_path: Path) -> None:
    line = _one_error_line(jobagg("--db", "mysql://user@localhost/jobs", "status", cwd=tmp_path))
    assert "mysql://user@localhost/jobs" in line and "sqlite:///" in line and "postgresql://" in line
    line = _one_error_line(jobagg("--db", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", "db", "upgrade"))
    assert "does not exist" in line


def test_version() -> None:
    out = jobagg("--version")
    assert out.returncode == 0 and out.stdout.startswith("jobagg ")


BAD_ARGUMENTS = [
    ["--db"],
    ["nosuchcommand"],
    ["demo", "--nosuchoption"],
    ["db", "upgrade", "--revision", "nosuchrevision"],
    ["boards", "import"],
    ["boards", "import", "{tmp}/missing.csv"],
    ["boards", "import", "{tmp}"],
    ["boards", "add", "greenhouse"],
    ["boards", "add", "nosuch", "x", "--employer", "X"],
    ["boards", "add", "greenhouse", "a b/..", "--employer", "X"],
    ["boards", "add", "ashby", "x", "--employer", "X", "--region", "mars"],
    ["boards", "list", "--limit", "-1"],
    ["boards", "list", "--status", "bogus"],
    ["boards", "remove", "greenhouse", "nosuchboard"],
    ["boards", "disable", "nosuch", "x"],
    ["boards", "enable", "greenhouse", "nosuchboard"],
    ["crawl", "--ats", "bogus"],
    ["crawl", "--board", "foo/../bar baz"],
    ["crawl", "--roles", "some"],
    ["crawl", "--api-base", "not a url"],
    ["run", "--api-base", "ftp://x"],
    ["dol", "ingest"],
    ["dol", "ingest", "{tmp}/missing.xlsx"],
    ["dol", "ingest", "{tmp}/latin.csv"],
    ["dol", "download", "--kind", "h2b", "--fy", "2025"],
    ["dol", "download", "--kind", "perm", "--fy", "soon"],
    ["employers", "match"],
    ["employers", "match", "--file", "{tmp}/latin.csv"],
    ["match", "extra"],
    ["reclassify", "--batch-size", "0"],
    ["status", "--runs", "x"],
    ["export", "--format", "xml"],
    ["export", "--out", "{tmp}/no/dir/out.csv"],
    ["export", "--out", "{tmp}"],
    ["export", "--country", "united states"],
    ["export", "--format", "parquet"],
    ["export", "--visa", "tourist"],
    ["why"],
    ["why", "greenhouse/nosuchboard/1"],
    ["alerts", "add", "--name", "x"],
    ["alerts", "add", "--name", "x", "--webhook", "https://hooks.example/x", "--tag", "sure"],
    ["alerts", "remove"],
    ["serve", "--port", "0"],
]


def test_every_command_with_bad_arguments_is_one_line_without_traceback(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 2 for usage errors, 1 for failures; never a traceback (run in-process: an escaping exception is one)."""
    from click.testing import CliRunner

    from crawler.cli import main

    dbmod.get_engine(sqlite_url).dispose()
    (tmp_path / "latin.csv").write_bytes("employer,ats,board\nCafé,greenhouse,cafe\n".encode("latin-1"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    seen = set()
    for args in BAD_ARGUMENTS:
        args = [a.replace("{tmp}", str(tmp_path)) for a in args]
        result = runner.invoke(main, ["--db", sqlite_url, *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exc_info)
        assert result.exit_code in (1, 2), (args, result.exit_code, result.output)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
        assert len(errors) == 1, (args, result.stderr)
        seen.add(args[0])
    assert seen >= set(main.list_commands(click.Context(main)))  # every command is walked


def test_each_command_is_defined_by_the_module_the_lazy_table_names() -> None:
    """Commands are imported on first use: the table must name every command and the module that defines it."""
    from crawler.cli import COMMAND_MODULES, load_commands, main

    load_commands()
    assert set(main.commands) == set(COMMAND_MODULES)
    for name, module in COMMAND_MODULES.items():
        assert main.commands[name].callback.__module__ == f"crawler.cli.{module}", name  # type: ignore[union-attr]


def test_a_quick_command_does_not_import_the_crawler_or_the_web_app(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'quick.db'}"
    assert jobagg("--db", url, "db", "upgrade").returncode == 0
    probe = (
        "import sys; from crawler.cli import main\n"
        "try:\n    main(['--db', sys.argv[1], 'employers', 'match', '--json', 'Acme'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('scrapy', 'fastapi', 'pydantic', 'alembic', 'mako') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_tables_piped_into_a_log_keep_whole_names_and_figures(tmp_path: Path) -> None:
    """Without a terminal (a scheduler's log) and no COLUMNS, tables are laid out wider than rich's 80-column guess."""
    from crawler.cli import LOG_COLUMNS

    hub = Path(__file__).parent / "fixtures" / "dol" / "uscis_hub_fy2024_utf16.csv"
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    cmd = [sys.executable, "-m", "crawler", "--db", f"sqlite:///{tmp_path / 'log.db'}", "dol", "ingest", str(hub)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    row = next(line for line in out.stdout.splitlines() if hub.name in line)
    assert "USCIS hub FY2024+" in row and "…" not in row
    assert 80 < max(len(line) for line in out.stdout.splitlines()) <= LOG_COLUMNS
