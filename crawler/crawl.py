"""Running crawls in-process: registry boards grouped per platform, one Scrapy crawler per platform; and the
check of registry rows against the spiders (the registry itself, in the core, does not know the spiders)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from rich.table import Table
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from sqlalchemy import select

from crawler import db as dbmod
from crawler.boards import BoardRef
from crawler.extensions import CrawlRunRecorder
from crawler.models import Board, CrawlRun, utcnow
from crawler.registry import RegistryError


@dataclass
class CrawlResult:
    """What one platform's crawl did, read back from its `crawl_runs` row."""

    spider: str
    run_id: int | None
    status: str
    items: int = 0
    dropped: int = 0
    closed: int = 0
    errors: int = 0
    boards: dict[str, dict[str, Any]] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for b in self.boards.values() if b.get("status") == status)


def select_boards(
    db_url: str, ats: str | None = None, board: str | None = None, due: bool = False
) -> dict[str, list[BoardRef]]:
    """Active registry boards grouped by platform; `due` keeps those whose crawl interval has passed."""
    now = utcnow()
    groups: dict[str, list[BoardRef]] = defaultdict(list)
    with dbmod.session_scope(db_url) as session:
        query = select(Board).where(Board.active).order_by(Board.ats, Board.token)
        if ats:
            query = query.where(Board.ats == ats)
        if board:
            query = query.where(Board.token == board)
        for row in session.scalars(query):
            if due and row.last_crawled_at and now - row.last_crawled_at < timedelta(hours=row.crawl_interval_hours):
                continue
            groups[row.ats].append(
                BoardRef(row.token, row.employer.name if row.employer else None, row.region, row.board_url)
            )
    return dict(groups)


def project_settings() -> Settings:
    """The project's settings wherever the command runs from (no scrapy.cfg lookup)."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    return settings


@cache
def spider_class(ats: str) -> Any:
    try:
        return SpiderLoader.from_settings(project_settings()).load(ats)
    except KeyError:
        raise RegistryError(f"unknown platform {ats!r}") from None


@cache
def platforms() -> tuple[str, ...]:
    """The platforms (spider names) a board can be registered on."""
    loader = SpiderLoader.from_settings(project_settings())
    return tuple(sorted(n for n in loader.list() if hasattr(loader.load(n), "check_token")))


def check_board(ats: str, token: str, where: str) -> None:
    """A registry row's check: the platform has a spider and the token matches its board format."""
    try:
        spider_class(ats).check_token(token)
    except (RegistryError, ValueError) as exc:
        raise RegistryError(f"{where}: {exc}") from None


def crawl_settings(db_url: str, overrides: dict[str, Any] | None = None) -> Settings:
    settings = project_settings()
    settings.set("JOBAGG_DATABASE_URL", db_url, priority="cmdline")
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    # The CLI prints its own progress and tables; Scrapy's root handler would interleave log lines with them.
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    if settings.get("JOBAGG_REDIS_URL"):
        # Shared boards across workers (crawler/scheduler.py), also when the URL came from `-s`.
        settings.set("SCHEDULER", "crawler.scheduler.BoardScheduler", priority="cmdline")
    return settings


def run_crawls(
    db_url: str,
    groups: dict[str, list[BoardRef]],
    spider_args: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    on_item: Any = None,
    on_tick: Callable[[tuple[int, int, int]], None] | None = None,
) -> list[CrawlResult]:
    """Crawl every group concurrently (one crawler per platform) and return what each run recorded.

    `on_tick((boards_done, items, errors))` is called twice a second while the crawl runs.
    Starts the Twisted reactor, so it can run once per process; tests call the CLI in a subprocess.
    """
    dbmod.get_engine(db_url)  # migrate before several crawlers race to do it
    process = CrawlerProcess(crawl_settings(db_url, settings))
    logging.getLogger("scrapy").setLevel(logging.WARNING)
    crawlers = []
    for ats, boards in groups.items():
        crawler = process.create_crawler(ats)
        if on_item is not None:
            crawler.signals.connect(on_item, signal=signals.item_scraped)
        crawlers.append(crawler)
        process.crawl(crawler, boards=boards, **(spider_args or {}))
    if on_tick is not None:
        from twisted.internet import task

        ticker = task.LoopingCall(lambda: on_tick(crawl_progress(crawlers)))
        ticker.start(0.5)
    process.start()
    if on_tick is not None:
        on_tick(crawl_progress(crawlers))
    return [result_of(db_url, c.spidercls.name, c.get_extension(CrawlRunRecorder)) for c in crawlers]


def crawl_progress(crawlers: list[Any]) -> tuple[int, int, int]:
    """Boards whose listing was answered (ok, dead or error), items scraped, and errors, over all crawlers."""
    done = items = errors = 0
    for crawler in crawlers:
        states = getattr(crawler.spider, "board_states", None) or {}
        for state in list(states.values()):
            done += state.status != "pending"
            errors += state.status == "error"
        if crawler.stats is not None:
            items += crawler.stats.get_value("item_scraped_count", 0)
            errors += crawler.stats.get_value("jobagg/store/errors", 0)
    return done, items, errors


def result_of(db_url: str, spider: str, recorder: CrawlRunRecorder | None) -> CrawlResult:
    run_id = recorder.run_id if recorder else None
    with dbmod.session_scope(db_url) as session:
        run = session.get(CrawlRun, run_id) if run_id else None
        if run is None:
            return CrawlResult(spider, None, "not started")
        return CrawlResult(
            spider, run.id, run.status, run.item_count, run.dropped_count, run.closed_count, run.error_count,
            dict(run.boards or {}),
        )  # fmt: skip


def crawl_table(results: list[CrawlResult], wide: bool = False) -> Table:
    """Boards by outcome and postings per platform; `wide` adds the run id, dropped and closed postings."""
    table = Table(title="Crawl summary")
    cols = ["platform", "status", "ok", "dead", "error", "skipped", "postings"]
    if wide:
        cols += ["run", "dropped", "closed"]
    for col in cols:
        table.add_column(col, justify="right" if col not in ("platform", "status") else "left", no_wrap=True)
    for r in results:
        cells = [r.spider, r.status, *(str(r.count(s)) for s in ("ok", "dead", "error", "skipped")), str(r.items)]
        if wide:
            cells += [str(r.run_id or "-"), str(r.dropped), str(r.closed)]
        table.add_row(*cells)
    return table


def failure_lines(results: list[CrawlResult], examples: int = 3) -> list[str]:
    """Why boards failed, one line each (a few per platform), and one line per host that was skipped."""
    lines: list[str] = []
    for r in results:
        failed = [(token, b.get("reason") or "no reason recorded") for token, b in r.boards.items()
                  if b.get("status") == "error"]  # fmt: skip
        for token, reason in failed[:examples]:
            lines.append(f"{r.spider}/{token} failed: {reason}")
        if len(failed) > examples:
            lines.append(f"{r.spider}: {len(failed) - examples} more failed boards: jobagg boards list --status error")
        skipped = [b.get("reason") or "" for b in r.boards.values() if b.get("status") == "skipped"]
        if skipped:
            host = skipped[0].split(" at ")[0]
            lines.append(f"{r.spider}: stopped crawling, {host}; {len(skipped)} more board(s) skipped")
    return lines
