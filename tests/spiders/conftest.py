"""Helpers for spider tests: a crawl against the fixture server, and what the database recorded about it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crawler import db as dbmod
from crawler.models import Board, CrawlRun
from crawler.offline.server import CorpusServer, serve
from tests.crawling import ATS_FIXTURES, CrawlOutput, scrapy_crawl

Crawl = Callable[..., CrawlOutput]


@pytest.fixture
def server() -> Iterator[CorpusServer]:
    with serve(ATS_FIXTURES) as srv:
        yield srv


@pytest.fixture
def spider_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'spiders.db'}"


@pytest.fixture
def crawl(server: CorpusServer, tmp_path: Path, spider_db: str) -> Crawl:
    """crawl(spider, "board=x", "roles=all", ...) against the fixture server, into this test's database."""

    def run(spider: str, *args: str, srv: CorpusServer | None = None) -> CrawlOutput:
        base = (srv or server).base_url
        flags = [x for a in (*args, f"api_base={base}") for x in ("-a", a)]
        out = scrapy_crawl(spider, tmp_path, spider_db, *flags)
        assert out.returncode == 0, out.log[-3000:]
        assert "Traceback" not in out.log, out.log[-3000:]
        return out

    return run


def board_row(db_url: str, ats: str, token: str) -> dict[str, Any]:
    with dbmod.session_scope(db_url) as session:
        board = session.scalar(select(Board).where(Board.ats == ats, Board.token == token))
        assert board is not None, f"no board row for {ats}/{token}"
        return {"last_status": board.last_status, "last_error": board.last_error, "open": board.open_postings}


def last_run(db_url: str, spider: str) -> CrawlRun:
    with dbmod.session_scope(db_url) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.spider == spider).order_by(CrawlRun.id.desc())).first()
        assert run is not None
        session.expunge(run)
        return run


def by_title(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["title"]: i for i in items}
