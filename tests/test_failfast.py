"""An unreachable host fails fast with one reason, and each crawler counts only its own errors."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy import Request, Spider
from scrapy.core.downloader import Slot
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from twisted.internet.error import ConnectionRefusedError

from crawler import db as dbmod
from crawler.extensions import CrawlRunRecorder
from crawler.middlewares import HostFailFastMiddleware, HostUnreachable
from crawler.models import Board
from tests.conftest import free_port
from tests.crawling import cli, jobagg


def _add(db: str, *tokens: str) -> None:
    for token in tokens:
        out = cli("--db", db, "boards", "add", "greenhouse", token, "--employer", token.title())
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


class _Downloader:
    """The two things of Scrapy's downloader the middleware reads: its slots and how a request picks one."""

    def __init__(self) -> None:
        self.slots: dict[str, Slot] = {}

    def get_slot_key(self, request: Request) -> str:
        return urlparse_cached(request).hostname or ""


def test_a_host_given_up_stops_waiting_out_politeness_delays() -> None:
    crawler = get_crawler(Spider, {"JOBAGG_FAIL_FAST_AFTER": 3})
    downloader = _Downloader()
    crawler.engine = SimpleNamespace(downloader=downloader)  # type: ignore[assignment]
    mw = HostFailFastMiddleware.from_crawler(crawler)
    down = [Request(f"http://down.example/boards/{i}") for i in range(5)]
    up = Request("http://up.example/boards/1")
    for host in ("down.example", "up.example"):
        downloader.slots[host] = Slot(concurrency=4, delay=0.5, jitter=0)
    for request in down[:2]:
        mw.process_exception(request, ConnectionRefusedError())
    assert downloader.slots["down.example"].delay == 0.5  # two failures are not yet an outage
    mw.process_exception(down[2], ConnectionRefusedError())
    # Given up: what is queued for it fails at once, and the host that answers keeps its pace.
    assert downloader.slots["down.example"].delay == 0.0
    assert downloader.slots["up.example"].delay == 0.5
    with pytest.raises(HostUnreachable) as dropped:
        mw.process_request(down[3])
    assert not dropped.value.tried
    mw.process_request(up)  # not given up: let through
