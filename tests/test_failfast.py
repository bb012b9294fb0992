"""An unreachable host fails fast with one reason, and each crawler counts only its own errors."""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import Spider
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from crawler import db as dbmod
from crawler.extensions import CrawlRunRecorder
from crawler.models import Board
from tests.conftest import free_port
from tests.crawling import jobagg


def _add(db: str, *tokens: str) -> None:
    for token in tokens:
        out = jobagg("--db", db, "boards", "add", "greenhouse", token, "--employer", token.title())
        assert out.returncode == 0, out.stderr


def test_an_unreachable_host_is_skipped_after_its_first_boards_fail(sqlite_url: str) -> None:
    tokens = [f"board{i}" for i in range(10)]
    _add(sqlite_url, *tokens)
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: every connection is refused
    out = jobagg("--db", sqlite_url, "crawl", "--ats", "greenhouse", "--api-base", dead, timeout=180)
    assert out.returncode == 1
    with dbmod.session_scope(sqlite_url) as session:
        states = {token: status for token, status in session.execute(select(Board.token, Board.last_status))}
    assert set(states) == set(tokens)
    assert set(states.values()) <= {"error", "skipped"}
    assert list(states.values()).count("skipped") >= 4  # the rest were never tried
    lines = [line for line in out.stdout.splitlines() if "stopped crawling" in line]
    assert len(lines) == 1 and "127.0.0.1" in lines[0] and "ConnectionRefusedError" in lines[0], out.stdout


def test_a_single_board_crawl_says_why_it_failed(sqlite_url: str) -> None:
    _add(sqlite_url, "acme")
    dead = f"http://127.0.0.1:{free_port()}"
    out = jobagg("--db", sqlite_url, "crawl", "--board", "acme", "--api-base", dead, timeout=180)
    assert out.returncode == 1
    reason = [line for line in out.stdout.splitlines() if line.startswith("greenhouse/acme failed:")]
    assert reason and "refused" in reason[0].lower(), out.stdout


def test_each_crawler_counts_only_its_own_errors(tmp_path: Path) -> None:
    class First(Spider):
        name = "first"

    class Second(Spider):
        name = "second"

    recorders = []
    spiders = []
    for cls in (First, Second):
        crawler = get_crawler(cls, {"JOBAGG_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
        crawler.spider = cls.from_crawler(crawler)
        recorders.append(CrawlRunRecorder.from_crawler(crawler))
        spiders.append(crawler.spider)
    try:
        spiders[0].logger.error("first failed once")
        spiders[0].logger.error("first failed twice")
        spiders[1].logger.warning("second only warned")
        logging.getLogger("scrapy.core.scraper").error("second's item failed", extra={"spider": spiders[1]})
        logging.getLogger("elsewhere").error("an error of no crawler")
        assert [r.errors.count for r in recorders] == [2, 1]
    finally:
        for r in recorders:
            logging.getLogger().removeHandler(r.errors)
