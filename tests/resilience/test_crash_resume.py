"""A crawl killed with SIGKILL and resumed from its JOBDIR ends with the database an uninterrupted crawl makes."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from crawler import db as dbmod
from crawler.models import Board, DolCase, DolFile, Posting
from crawler.offline.server import running
from tests.crawling import NO_DELAY, REPO, jobagg, scrapy_crawl
from tests.resilience.boards import greenhouse_job, register, write_board
from tests.resilience.faults import FaultServer

BOARDS = [f"resume{i:02d}" for i in range(10)]
FAST = [*NO_DELAY, "-a", "roles=all"]


def snapshot(db_url: str) -> dict[str, object]:
    """What a reader of the database sees: postings (open or closed, content) and board health."""
    with dbmod.session_scope(db_url) as session:
        postings = sorted(
            (p.board, p.source_id, p.title, p.closed_at is None, p.description_text)
            for p in session.scalars(select(Posting))
        )
        boards = sorted((b.token, b.last_status, b.last_error, b.open_postings) for b in session.scalars(select(Board)))
    return {"postings": postings, "boards": boards}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FaultServer]:
    with running(FaultServer(tmp_path / "corpus")) as srv:
        yield srv


def test_a_killed_crawl_resumed_from_jobdir_matches_an_uninterrupted_one(server: FaultServer, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    for token in BOARDS:
        write_board(root, token, [greenhouse_job(token, n) for n in range(4)])
    seeded = tmp_path / "seeded.db"
    register(f"sqlite:///{seeded}", BOARDS)
    api = ["-a", f"api_base={server.base_url}"]
    assert scrapy_crawl("greenhouse", tmp_path, f"sqlite:///{seeded}", *FAST, *api).returncode == 0
    dbmod.dispose_all()
    # The boards change: one posting goes, one is retitled; both crawls below start from the same database.
    for token in BOARDS:
        jobs = [greenhouse_job(token, n) for n in range(3)]
        jobs[1]["title"] = "Principal Machine Learning Engineer"
        write_board(root, token, jobs)
    straight, resumed = tmp_path / "straight.db", tmp_path / "resumed.db"
    shutil.copy(seeded, straight)
    shutil.copy(seeded, resumed)
    assert scrapy_crawl("greenhouse", tmp_path, f"sqlite:///{straight}", *FAST, *api).returncode == 0

    jobdir = tmp_path / "jobdir"
    server.delay = 0.4  # one board at a time, slowly: the kill lands with some boards stored and some not
    cmd = [sys.executable, "-m", "scrapy", "crawl", "greenhouse", *FAST, *api, "-s", f"JOBDIR={jobdir}",
           "-s", f"JOBAGG_DATABASE_URL=sqlite:///{resumed}", "-s", "CONCURRENT_REQUESTS=1",
           "-s", "JOBAGG_STORE_BATCH_SIZE=1"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while sum(server.hits[f"/v1/boards/{t}/jobs"] for t in BOARDS) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    dbmod.dispose_all()
    half = snapshot(f"sqlite:///{resumed}")
    assert half != snapshot(f"sqlite:///{straight}")  # the kill really landed mid-crawl
    server.delay = 0.0
    out = subprocess.run([*cmd, "-s", "LOG_LEVEL=INFO"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (jobdir / "requests.seen").is_file()  # the restart used the killed crawl's job directory
    dbmod.dispose_all()
    assert snapshot(f"sqlite:///{resumed}") == snapshot(f"sqlite:///{straight}")


def _perm_file(path: Path, rows: int) -> None:
    """A PERM file in the real FY2022 layout (the header and a row of the fixture), with unique case numbers."""
    source = Path(__file__).parent.parent / "fixtures" / "dol" / "perm_fy2022.csv"
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header, row = next(reader), next(reader)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(rows):
            row[0], row[4] = f"G-100-{20000 + i // 1000:05d}-{i:06d}", f"EMPLOYER {i % 3000} INC"
            writer.writerow(row)


def _dol_counts(db_url: str) -> tuple[int, int]:
    with dbmod.session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(DolCase)), session.scalar(
            select(func.count()).select_from(DolFile)
        )


def _children(pid: int) -> list[int]:
    return [int(c) for path in Path(f"/proc/{pid}/task").glob("*/children") for c in path.read_text().split()]


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for whoever adopted it to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_dol_ingest_killed_mid_file_loads_nothing_and_the_next_run_loads_it_whole(
    pg_clean: str, tmp_path: Path
) -> None:
    rows = 12_000  # three staging batches: the kill lands after the first
    big = tmp_path / "PERM_Disclosure_Data_FY2022_big.csv"
    _perm_file(big, rows)
    before = _dol_counts(pg_clean)
    # Its own connection, by name: other tests' ingests stage on the same server at the same time.
    app = f"jobagg-killed-ingest-{tmp_path.name}-{os.getpid()}"
    db = f"{pg_clean}{'&' if '?' in pg_clean else '?'}application_name={app}"
    cmd = [sys.executable, "-m", "crawler", "--db", db, "dol", "ingest", "--no-progress", str(big)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Mid-file: the ingest's connection has written staged rows of this file inside its open transaction.
    watch = text(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app AND xact_start IS NOT NULL"
        " AND query ILIKE '%jobagg_stage_cases%'"
    ).bindparams(app=app)
    engine = dbmod.get_engine(pg_clean)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the ingest finished before it could be interrupted"
            with engine.connect() as conn:
                if conn.scalar(watch):
                    break
            time.sleep(0.02)
        else:
            raise AssertionError("the ingest never staged a batch within 60 s")
        readers = _children(proc.pid)
        assert readers, "the ingest reads its file in a child process"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # Its reader sees the pipes close and ends too, instead of waiting forever for a loader that is gone.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in readers):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in readers)
    # The server rolls back the dead client's transaction once it notices the closed connection.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if not conn.scalar(watch):
                break
        time.sleep(0.05)
    assert _dol_counts(pg_clean) == before  # no part of the file, and no record that it was loaded
    out = jobagg("--db", pg_clean, "dol", "ingest", "--no-progress", str(big))
    assert out.returncode == 0, out.stderr
    assert _dol_counts(pg_clean) == (before[0] + rows, before[1] + 1)
