"""CrawlRunRecorder: one `crawl_runs` row per spider run, board health, and closing vanished postings."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, Self, TypeVar

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from sqlalchemy import func, select, update

from crawler import db as dbmod
from crawler.models import Board, CrawlRun, Employer, Posting, get_or_create_board, utcnow

logger = logging.getLogger(__name__)
# Values in one IN list (postings to close, boards to read or count): under every backend's parameter limit.
IN_CHUNK = 500
T = TypeVar("T")


def jsonable_stats(stats: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif not isinstance(value, int | float | str | bool | type(None)):
            value = str(value)
        out[key] = value
    return out


class SpiderErrorCounter(logging.Handler):
    """Counts ERROR records of one crawler. Scrapy's `log_count/ERROR` counts the whole process, so with
    several spiders in one process (`jobagg run`) every run would report every other run's errors."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(logging.ERROR)
        self.crawler = crawler
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        spider = getattr(record, "spider", None)
        if getattr(record, "crawler", None) is self.crawler or (spider is not None and spider is self.crawler.spider):
            self.count += 1


class CrawlRunRecorder:
    """Writes the run row, each board's status, and closes postings a complete listing no longer shows.

    Postings are closed only for boards whose listing was read in full (state `ok`) in a run that finished
    normally and stored every batch: a partial listing must never close anything. The database work runs in a
    worker thread (JOBAGG_DB_IN_THREAD, default on) so the reactor keeps reading responses meanwhile.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_url = crawler.settings.get("JOBAGG_DATABASE_URL")
        self.in_thread = crawler.settings.getbool("JOBAGG_DB_IN_THREAD", True)
        self._run_id: int | None = None
        # The run row is created by spider_opened or by the store's first batch, whichever comes first.
        self._run_lock = threading.Lock()
        self.errors = SpiderErrorCounter(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler)
        logging.getLogger().addHandler(ext.errors)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    @property
    def run_id(self) -> int | None:
        """The `crawl_runs` row of this run, once created; reading it never touches the database."""
        return self._run_id

    def ensure_run(self) -> int | None:
        """Create the run row if it does not exist yet; blocking, safe to call from any thread."""
        with self._run_lock:
            if self._run_id is None and self.crawler.spider is not None:
                spider = self.crawler.spider
                with dbmod.session_scope(self.db_url) as session:
                    run = CrawlRun(spider=spider.name, board=getattr(spider, "_board_arg", None), status="running")
                    session.add(run)
                    session.flush()
                    self._run_id = run.id
        return self._run_id

    async def spider_opened(self, spider: Spider) -> None:
        await self._blocking(self.ensure_run)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        logging.getLogger().removeHandler(self.errors)
        # Item pipelines have closed (the store's last batch is written) before Scrapy sends spider_closed.
        stats = dict(self.crawler.stats.get_stats())
        closed_total = await self._blocking(self.finish_run, spider, reason, stats)
        self.crawler.stats.set_value("jobagg/postings/closed", closed_total)

    async def _blocking(self, func: Callable[..., T], *args: Any) -> T:
        if self.in_thread:
            return await asyncio.to_thread(func, *args)
        return func(*args)

    def finish_run(self, spider: Spider, reason: str, stats: dict[str, Any]) -> int:
        """Board health, closing vanished postings and the run row's totals; returns how many were closed."""
        store_failed = bool(stats.get("jobagg/store/errors"))
        board_states = getattr(spider, "board_states", {})
        closed_total = 0
        closed_by_board: dict[str, int] = {}
        now = utcnow()
        run_id = self.ensure_run()
        with dbmod.session_scope(self.db_url) as session:
            # Every board's row in a few queries: a run over the whole registry has thousands of boards.
            boards = _boards(session, spider.name, list(board_states))
            for token, state in board_states.items():
                board = boards[token]
                if state.status == "pending":
                    state.status, state.reason = "error", f"listing not read (run ended: {reason})"
                if state.status != "skipped":  # a skipped board was not crawled: it stays due
                    board.last_crawled_at = now
                board.last_status = state.status
                board.last_error = state.reason
                closed_here = 0
                if reason == "finished" and state.status == "ok" and not store_failed:
                    closed_here = self._close_vanished(session, spider.name, token, state.listed_ids, now)
                    closed_total += closed_here
                    board.last_ok_at = now
                closed_by_board[token] = closed_here
            # Counted once the vanished postings are closed, for all boards at once.
            open_counts = _open_counts(session, spider.name, list(boards))
            for token, board in boards.items():
                board.open_postings = open_counts.get(token, 0)
            self._attach_employers(session, spider.name, boards)
            run = session.get(CrawlRun, run_id) if run_id else None
            if run is not None:
                bad = [s for s in board_states.values() if s.status == "error"]
                run.finished_at = now
                run.finish_reason = reason
                run.status = "finished" if reason == "finished" and not store_failed and not bad else "failed"
                run.item_count = stats.get("item_scraped_count", 0)
                run.dropped_count = stats.get("item_dropped_count", 0)
                run.error_count = self.errors.count + stats.get("jobagg/store/errors", 0)
                run.closed_count = closed_total
                self.crawler.stats.set_value("jobagg/log_errors", self.errors.count)
                run.boards = {
                    token: {"status": s.status, "reason": s.reason, "listed": len(s.listed_ids),
                            "skipped_by_role": s.skipped_by_role, "closed": closed_by_board.get(token, 0)}
                    for token, s in board_states.items()
                }  # fmt: skip
                run.stats = jsonable_stats(stats)
        return closed_total

    @staticmethod
    def _close_vanished(session: Any, ats: str, token: str, listed: set[str], now: datetime) -> int:
        open_rows = session.execute(
            select(Posting.id, Posting.source_id).where(
                Posting.ats == ats, Posting.board == token, Posting.closed_at.is_(None)
            )
        ).all()
        gone = [pid for pid, source_id in open_rows if source_id not in listed]
        for chunk in _chunks(gone):
            session.execute(update(Posting).where(Posting.id.in_(chunk)).values(closed_at=now))
        return len(gone)

    @staticmethod
    def _attach_employers(session: Any, ats: str, boards: dict[str, Board]) -> None:
        # Registry boards without an employer row get the name the crawl saw, so matching can reach them.
        for token, board in boards.items():
            if board.employer_id is not None:
                continue
            name = session.scalar(
                select(Posting.employer_name).where(Posting.ats == ats, Posting.board == token).limit(1)
            )
            if name:
                employer = session.scalar(select(Employer).where(Employer.name == name))
                board.employer_id = employer.id if employer else None


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    """`items` in slices small enough for one IN list."""
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def _open_counts(session: Any, ats: str, tokens: list[str]) -> dict[str, int]:
    """Open postings per board, for the boards that have any."""
    counts: dict[str, int] = {}
    for chunk in _chunks(tokens):
        counted = session.execute(
            select(Posting.board, func.count())
            .where(Posting.ats == ats, Posting.board.in_(chunk), Posting.closed_at.is_(None))
            .group_by(Posting.board)
        )
        counts.update((board, n) for board, n in counted)
    return counts


def _boards(session: Any, ats: str, tokens: list[str]) -> dict[str, Board]:
    """The registry rows of these boards, by token; a board crawled ad hoc is added (and flushed) to join it."""
    found: dict[str, Board] = {}
    for chunk in _chunks(tokens):
        found.update(
            (b.token, b) for b in session.scalars(select(Board).where(Board.ats == ats, Board.token.in_(chunk)))
        )
    for token in tokens:
        if token not in found:
            found[token] = get_or_create_board(session, ats, token)
    return found
