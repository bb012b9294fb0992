"""Run and board health checks, run by Spidermon when a spider closes and stored on the run's `crawl_runs` row.

`BoardStatsCollector` counts per board what the stock stats only count per run (requests, failed downloads,
retries, items and the fields they carry). `assess()` turns that, the boards' states and their previous runs
into findings; the Spidermon monitors below fail when their kind of finding exists, and `StoreMonitorResults`
writes every check's outcome plus the per-board findings to `crawl_runs.monitors`, where `jobagg status` reads them.
Thresholds are settings (`JOBAGG_MONITOR_*`, see crawler/settings.py).
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from spidermon import Monitor, MonitorSuite, monitors
from spidermon.contrib.scrapy.extensions import Spidermon
from spidermon.contrib.scrapy.runners import SpiderMonitorResult, SpiderMonitorRunner
from spidermon.core.actions import Action
from sqlalchemy import select, update

from crawler import db as dbmod
from crawler.models import CrawlRun

COVERAGE_FIELDS = {"title": "title", "url": "url", "description": "description_text", "posted_at": "posted_at",
                   "salary": "salary_min"}  # fmt: skip


@dataclass
class BoardCounts:
    requests: int = 0
    responses: int = 0
    http_errors: int = 0
    retries: int = 0
    items: int = 0
    fields: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        """Requests that ended without a response (after any retries) or with an HTTP error status."""
        return self.requests - self.responses + self.http_errors


def _token(request: Any) -> str | None:
    board = (request.cb_kwargs or {}).get("board") if request is not None else None
    return getattr(board, "token", None)


class BoardStatsCollector:
    """Per-board request, retry, failure and field counts for the monitors (kept in memory, one run)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.boards: dict[str, BoardCounts] = defaultdict(BoardCounts)
        self.assessment: Assessment | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler)
        crawler.signals.connect(ext.request_left, signal=signals.request_left_downloader)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def request_left(self, request: Any, spider: Any) -> None:
        if (token := _token(request)) is not None:
            counts = self.boards[token]
            counts.requests += 1
            counts.retries += bool(request.meta.get("retry_times"))

    def response_received(self, response: Any, request: Any, spider: Any) -> None:
        if (token := _token(request)) is not None:
            self.boards[token].responses += 1
            # A 404/410 listing is a dead board (reported as such), not a failing crawl.
            self.boards[token].http_errors += response.status >= 500 or response.status == 429

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        token = item.get("board")
        if token is None:
            return
        counts = self.boards[token]
        counts.items += 1
        for name, key in COVERAGE_FIELDS.items():
            counts.fields[name] += item.get(key) not in (None, "", [])


@dataclass
class Thresholds:
    history_runs: int
    collapse_ratio: float
    collapse_min_previous: int
    max_error_rate: float
    max_retry_rate: float
    min_requests_for_rates: int
    coverage: dict[str, float]
    salary_coverage: dict[str, float]
    min_items_for_coverage: int

    @classmethod
    def from_settings(cls, settings: Any) -> Thresholds:
        return cls(
            history_runs=settings.getint("JOBAGG_MONITOR_HISTORY_RUNS"),
            collapse_ratio=settings.getfloat("JOBAGG_MONITOR_COLLAPSE_RATIO"),
            collapse_min_previous=settings.getint("JOBAGG_MONITOR_COLLAPSE_MIN_PREVIOUS"),
            max_error_rate=settings.getfloat("JOBAGG_MONITOR_MAX_ERROR_RATE"),
            max_retry_rate=settings.getfloat("JOBAGG_MONITOR_MAX_RETRY_RATE"),
            min_requests_for_rates=settings.getint("JOBAGG_MONITOR_MIN_REQUESTS_FOR_RATES"),
            coverage=dict(settings.getdict("JOBAGG_MONITOR_MIN_COVERAGE")),
            salary_coverage=dict(settings.getdict("JOBAGG_MONITOR_SALARY_COVERAGE")),
            min_items_for_coverage=settings.getint("JOBAGG_MONITOR_MIN_ITEMS_FOR_COVERAGE"),
        )

    def coverage_for(self, platform: str) -> dict[str, float]:
        wanted = {k: v for k, v in self.coverage.items() if k != "salary"}
        if platform in self.salary_coverage:
            wanted["salary"] = self.salary_coverage[platform]
        return wanted


@dataclass
class Assessment:
    """What the monitors judge: run-wide metrics and per-board findings (`kind` -> board -> message)."""

    finish_reason: str
    run: dict[str, Any]
    findings: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))

    def as_json(self) -> dict[str, Any]:
        boards: dict[str, dict[str, str]] = defaultdict(dict)
        for kind, per_board in self.findings.items():
            for token, message in per_board.items():
                boards[token][kind] = message
        return {"run": self.run, "boards": dict(boards)}


def rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def assess(
    platform: str,
    finish_reason: str,
    stats: dict[str, Any],
    board_states: dict[str, Any],
    counts: dict[str, BoardCounts],
    history: dict[str, list[int]],
    t: Thresholds,
) -> Assessment:
    """Pure: findings from this run's numbers and each board's listing sizes in earlier runs (newest first)."""
    requests = stats.get("downloader/request_count", 0)
    failed = stats.get("downloader/exception_count", 0) + sum(
        v
        for k, v in stats.items()
        if k.startswith("downloader/response_status_count/") and (k[-3:] >= "500" or k[-3:] == "429")
    )
    items = sum(c.items for c in counts.values())
    coverage = {
        name: round(rate(sum(c.fields.get(name, 0) for c in counts.values()), items), 3)
        for name in t.coverage_for(platform)
    }
    out = Assessment(
        finish_reason,
        {
            "requests": requests,
            "error_rate": round(rate(failed, requests), 4),
            "retry_rate": round(rate(stats.get("retry/count", 0), requests), 4),
            "items": items,
            "coverage": coverage,
        },
    )
    for token, state in board_states.items():
        status = getattr(state, "status", "pending")
        if status in ("error", "pending"):
            out.findings["failed"][token] = getattr(state, "reason", None) or "listing not read"
        listed = len(getattr(state, "listed_ids", ()))
        previous = history.get(token, [])[: t.history_runs]
        if previous and status in ("ok", "dead"):
            typical = statistics.median(previous)
            if typical >= t.collapse_min_previous and listed < typical * t.collapse_ratio:
                why = f"listed {listed}, typically {typical:g} in the last {len(previous)} run(s)"
                out.findings["collapsed"][token] = why
    for token, c in counts.items():
        if c.requests >= t.min_requests_for_rates:
            if rate(c.failed, c.requests) > t.max_error_rate:
                out.findings["error_rate"][token] = f"{c.failed} of {c.requests} requests failed"
            if rate(c.retries, c.requests) > t.max_retry_rate:
                out.findings["retry_rate"][token] = f"{c.retries} of {c.requests} requests were retries"
        if c.items >= t.min_items_for_coverage:
            low = [
                f"{name} {rate(c.fields.get(name, 0), c.items):.0%} < {minimum:.0%}"
                for name, minimum in t.coverage_for(platform).items()
                if rate(c.fields.get(name, 0), c.items) < minimum
            ]
            if low:
                out.findings["coverage"][token] = ", ".join(low)
    return out


def board_history(db_url: str, spider: str, exclude_run: int | None, runs: int) -> dict[str, list[int]]:
    """Each board's listing size in the spider's last `runs` finished runs, newest first."""
    history: dict[str, list[int]] = defaultdict(list)
    with dbmod.session_scope(db_url) as session:
        query = (
            select(CrawlRun.boards)
            .where(CrawlRun.spider == spider, CrawlRun.finished_at.is_not(None), CrawlRun.id != (exclude_run or -1))
            .order_by(CrawlRun.id.desc())
            .limit(runs)
        )
        for boards in session.scalars(query):
            for token, info in (boards or {}).items():
                if isinstance(info, dict) and info.get("status") == "ok":
                    history[token].append(int(info.get("listed") or 0))
    return history


def assessment_for(data: Any) -> Assessment:
    """Computed once per run and shared by every monitor of the suite."""
    crawler = data.crawler
    collector = crawler.get_extension(BoardStatsCollector)
    if collector.assessment is None:
        from crawler.extensions import CrawlRunRecorder

        recorder = crawler.get_extension(CrawlRunRecorder)
        t = Thresholds.from_settings(crawler.settings)
        spider = data.spider
        stats = dict(data.stats)
        history = board_history(recorder.db_url, spider.name, recorder.run_id, t.history_runs * 4)
        collector.assessment = assess(
            spider.name, str(stats.get("finish_reason") or "unknown"), stats,
            getattr(spider, "board_states", {}), collector.boards, history, t,
        )  # fmt: skip
    return collector.assessment


def _listing(findings: dict[str, str], limit: int = 10) -> str:
    shown = "; ".join(f"{token}: {why}" for token, why in list(findings.items())[:limit])
    more = len(findings) - limit
    return shown + (f"; and {more} more" if more > 0 else "")


class JobaggMonitor(Monitor):
    # The check's own message is the whole reason (no "True is not false :" prefix).
    longMessage = False


@monitors.name("Run")
class RunMonitor(JobaggMonitor):
    @monitors.name("finish reason")
    def test_finish_reason(self) -> None:
        reason = assessment_for(self.data).finish_reason
        self.assertEqual(reason, "finished", msg=f"the run ended with {reason!r}")

    @monitors.name("error rate")
    def test_error_rate(self) -> None:
        got = assessment_for(self.data).run["error_rate"]
        limit = Thresholds.from_settings(self.data.crawler.settings).max_error_rate
        self.assertLessEqual(got, limit, msg=f"{got:.1%} of requests failed (limit {limit:.0%})")

    @monitors.name("retry rate")
    def test_retry_rate(self) -> None:
        got = assessment_for(self.data).run["retry_rate"]
        limit = Thresholds.from_settings(self.data.crawler.settings).max_retry_rate
        self.assertLessEqual(got, limit, msg=f"{got:.1%} of requests were retries (limit {limit:.0%})")

    @monitors.name("field coverage")
    def test_field_coverage(self) -> None:
        a = assessment_for(self.data)
        t = Thresholds.from_settings(self.data.crawler.settings)
        if a.run["items"] < t.min_items_for_coverage:
            self.skipTest(f"only {a.run['items']} items")
        wanted = t.coverage_for(self.data.spider.name)
        low = {name: got for name, got in a.run["coverage"].items() if got < wanted[name]}
        self.assertFalse(low, msg="low coverage: " + ", ".join(f"{k} {v:.0%}" for k, v in low.items()))


@monitors.name("Boards")
class BoardMonitor(JobaggMonitor):
    def _check(self, kind: str, what: str) -> None:
        found = assessment_for(self.data).findings.get(kind) or {}
        self.assertFalse(found, msg=f"{len(found)} board(s) {what}: {_listing(found)}")

    @monitors.name("failed")
    def test_failed(self) -> None:
        self._check("failed", "failed")

    @monitors.name("count collapsed")
    def test_collapsed(self) -> None:
        self._check("collapsed", "listed far fewer postings than in their previous runs")

    @monitors.name("error rate")
    def test_error_rate(self) -> None:
        self._check("error_rate", "had too many failed requests")

    @monitors.name("retry rate")
    def test_retry_rate(self) -> None:
        self._check("retry_rate", "had too many retries")

    @monitors.name("field coverage")
    def test_coverage(self) -> None:
        self._check("coverage", "had low field coverage")


def failure_reason(outcome: Any) -> str | None:
    """A failed check's message (the last line of its traceback, without the exception's name)."""
    last = (str(outcome.error or "").strip().splitlines() or [""])[-1]
    return last.removeprefix("AssertionError: ") or None


class StoreMonitorResults(Action):
    """Writes every check's outcome and the per-board findings to the run's `crawl_runs.monitors`."""

    def run_action(self) -> None:
        from crawler.extensions import CrawlRunRecorder

        crawler = self.data.crawler
        recorder = crawler.get_extension(CrawlRunRecorder)
        checks = {}
        for outcome in self.result.monitor_results:
            checks[outcome.item.full_name] = {
                "status": outcome.status,
                "reason": outcome.reason or failure_reason(outcome),
            }
        failed = [name for name, c in checks.items() if c["status"] in ("FAIL", "ERROR")]
        report = {"passed": not failed, "failed": failed, "checks": checks, **assessment_for(self.data).as_json()}
        crawler.stats.set_value("jobagg/monitors/failed", len(failed))
        if recorder is None or recorder.run_id is None:
            return
        with dbmod.session_scope(recorder.db_url) as session:
            session.execute(update(CrawlRun).where(CrawlRun.id == recorder.run_id).values(monitors=report))


class SpiderCloseMonitorSuite(MonitorSuite):
    monitors = [RunMonitor, BoardMonitor]
    monitors_finished_actions = [StoreMonitorResults]


class QuietResult(SpiderMonitorResult):
    """Failed checks as one warning line each: a failing board is news for `jobagg status`, not a traceback."""

    def write_errors(self) -> None:
        for status in self.step.error_statuses:
            for outcome in self.step.items_for_status(status):
                self.log(
                    f"{outcome.status}: {outcome.item.full_name}: {failure_reason(outcome)}", level=logging.WARNING
                )


class QuietRunner(SpiderMonitorRunner):
    def create_result(self) -> QuietResult:
        return QuietResult(self.spider)


class JobaggSpidermon(Spidermon):
    """Spidermon with one log line per failed check (its stock report logs each failure's traceback as an ERROR)."""

    def _run_suites(self, spider: Any, suites: list[Any]) -> None:
        data = self._generate_data_for_spider(spider)
        for suite in suites:
            QuietRunner(spider=spider).run(suite, **data)
