"""Crawls and matching really running at once on PostgreSQL: no duplicate postings, no lost updates, no waiting."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler import db as dbmod
from crawler.models import CrawlRun, Employer, Posting
from crawler.offline.server import running
from tests.crawling import NO_DELAY, REPO, jobagg
from tests.resilience.boards import duplicate_keys, greenhouse_job, register, write_board
from tests.resilience.faults import FaultServer

BOARDS = [f"shared{i}" for i in range(8)]
JOBS = 3


def crawl_cmd(server: FaultServer, db_url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scrapy", "crawl", "greenhouse", "-a", "roles=all", "-a",
            f"api_base={server.base_url}", "-s", f"JOBAGG_DATABASE_URL={db_url}", *NO_DELAY, "-s", "LOG_LEVEL=INFO",
            *extra]  # fmt: skip


def run_together(*cmds: list[str]) -> list[subprocess.CompletedProcess[str]]:
    procs = [subprocess.Popen(c, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    outs = [p.communicate(timeout=120) for p in procs]
    return [subprocess.CompletedProcess(p.args, p.returncode, o, e) for p, (o, e) in zip(procs, outs, strict=True)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FaultServer]:
    with running(FaultServer(tmp_path / "corpus")) as srv:
        yield srv


def test_two_crawls_of_the_same_boards_at_once(server: FaultServer, pg_clean: str, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    for token in BOARDS:
        write_board(root, token, [greenhouse_job(token, n) for n in range(JOBS + 1)])
    register(pg_clean, BOARDS)
    server.delay = 0.05  # the two crawls interleave board by board
    # Small batches so that the two writers really alternate; both create the same employers at once.
    cmd = crawl_cmd(server, pg_clean, "-s", "JOBAGG_STORE_BATCH_SIZE=2")
    first = run_together(cmd, cmd)
    for out in first:
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-3000:]
    for token in BOARDS:  # then both see a changed board: one posting retitled, one gone
        jobs = [greenhouse_job(token, n) for n in range(JOBS)]
        jobs[0]["title"] = "Staff Machine Learning Engineer"
        write_board(root, token, jobs)
    second = run_together(cmd, cmd)
    for out in second:
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-3000:]
    assert duplicate_keys(pg_clean) == 0
    with dbmod.session_scope(pg_clean) as session:
        rows = session.execute(select(Posting.board, Posting.source_id, Posting.title, Posting.closed_at)).all()
        assert len(rows) == len(BOARDS) * (JOBS + 1)
        retitled = [r for r in rows if r.source_id == "7000000"]
        assert {r.title for r in retitled} == {"Staff Machine Learning Engineer"}  # no update lost
        assert all(r.closed_at is not None for r in rows if r.source_id == f"{7_000_000 + JOBS}")
        assert all(r.closed_at is None for r in rows if r.source_id != f"{7_000_000 + JOBS}")
        names = session.scalars(select(Employer.name)).all()
        assert len(names) == len(set(names)) == len(BOARDS)
        runs = session.scalars(select(CrawlRun)).all()
        assert len(runs) == 4 and {r.status for r in runs} == {"finished"}, [(r.status, r.stats) for r in runs]


def test_match_during_a_crawl_neither_waits_nor_sees_half_a_batch(
    server: FaultServer, pg_clean: str, tmp_path: Path
) -> None:
    batch = 3
    root = tmp_path / "corpus"
    for token in BOARDS:
        write_board(root, token, [greenhouse_job(token, n) for n in range(batch)])
    register(pg_clean, BOARDS)
    server.delay = 0.6
    cmd = crawl_cmd(server, pg_clean, "-s", f"JOBAGG_STORE_BATCH_SIZE={batch}", "-s", "CONCURRENT_REQUESTS=1")
    crawl = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with dbmod.session_scope(pg_clean) as session:
                if session.scalar(select(func.count()).select_from(Posting)):
                    break
            time.sleep(0.05)
        out = jobagg("--db", pg_clean, "match")
        assert out.returncode == 0, out.stderr
        assert crawl.poll() is None, "the crawl ended before match finished: nothing was shown"
        seen = int(re.search(r"postings\s*│\s*([\d,]+)", out.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
        assert 0 < seen <= len(BOARDS) * batch and seen % batch == 0, out.stdout
    finally:
        _, err = crawl.communicate(timeout=120)
    assert crawl.returncode == 0 and "Traceback" not in err, err[-3000:]
    with dbmod.session_scope(pg_clean) as session:
        assert session.scalar(select(func.count()).select_from(Posting)) == len(BOARDS) * batch
