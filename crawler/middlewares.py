"""Downloader middlewares shared by every spider."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, NoRouteError, UnknownHostError

from crawler.models.base import utcnow


def retry_after_seconds(value: str | bytes | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent/garbled."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - utcnow()).total_seconds())


class RetryAfterMiddleware:
    """Waits out a 429/503 Retry-After (capped) and slows the host's download slot before the retry."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in (429, 503):
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None:
            return response
        wait = min(wait, self.max_wait)
        self.crawler.stats.inc_value("jobagg/retry_after/waits")
        self.crawler.stats.inc_value("jobagg/retry_after/seconds", int(wait))
        downloader = self.crawler.engine.downloader if self.crawler.engine else None
        slot_key = downloader.get_slot_key(request) if downloader is not None else None
        if downloader is not None and slot_key in downloader.slots:
            slot = downloader.slots[slot_key]
            slot.delay = max(slot.delay, wait)
        await asyncio.sleep(wait)
        return response


logger = logging.getLogger(__name__)
# Errors that say "this host cannot be reached from here" rather than "this board is broken".
CONNECT_ERRORS = (DNSLookupError, ConnectionRefusedError, NoRouteError, UnknownHostError)


class HostUnreachable(IgnoreRequest):
    """A request not sent because its host failed every earlier connection the same way."""


@dataclass
class _Host:
    reached: bool = False  # one response (any status) proves the host is there
    error: str | None = None  # the one kind of connection error seen so far
    failures: int = 0
    down: bool = False


class HostFailFastMiddleware:
    """Stops requesting a host once its first requests all failed to connect with the same error.

    Offline, or with a mistyped api_base, every board of a platform fails the same way (DNS, refused);
    trying all of them takes minutes and buries the reason. After JOBAGG_FAIL_FAST_AFTER such failures
    (retries exhausted) and no response at all, the rest of that host's requests are dropped with
    HostUnreachable, which spiders record as `skipped`. 0 disables it. Sits below RetryMiddleware so it
    only sees failures that retrying did not cure.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.threshold = crawler.settings.getint("JOBAGG_FAIL_FAST_AFTER", 3)
        self.hosts: dict[str, _Host] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _host(self, request: Request) -> tuple[str, _Host]:
        name = urlparse_cached(request).netloc
        return name, self.hosts.setdefault(name, _Host())

    def process_request(self, request: Request) -> None:
        name, host = self._host(request)
        if host.down:
            self.crawler.stats.inc_value("jobagg/fail_fast/skipped")
            raise HostUnreachable(
                f"skipped: {name} unreachable ({host.error}), stopped after {host.failures} requests failed so"
            )

    def process_response(self, request: Request, response: Response) -> Response:
        self._host(request)[1].reached = True
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if self.threshold <= 0 or not isinstance(exception, CONNECT_ERRORS):
            return
        name, host = self._host(request)
        if host.reached or host.down:
            return
        kind = type(exception).__name__
        if host.error not in (None, kind):
            host.reached = True  # mixed errors are not one clear outage: keep trying
            return
        host.error = kind
        host.failures += 1
        if host.failures >= self.threshold:
            host.down = True
            self.crawler.stats.set_value(f"jobagg/fail_fast/host/{name}", kind)
            logger.warning(
                "%s: %s unreachable (%s) for the first %d requests; skipping its other boards",
                self.crawler.spider.name if self.crawler.spider else "crawl",
                name,
                kind,
                host.failures,
            )
