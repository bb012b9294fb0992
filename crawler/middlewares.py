"""Downloader middlewares shared by every spider."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Self

import scrapy.exceptions
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.useragent import UserAgentMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, NoRouteError, UnknownHostError

from crawler.models.base import utcnow

AGENT = "jobagg/0.1"
PURPOSE = "job-board indexer for visa-sponsorship search"


def user_agent(contact: str | None = None) -> str:
    """Who is calling and why; with JOBAGG_CONTACT (an e-mail address or URL of the operator) also how to reach them.

    Without a contact it claims nothing it cannot back: no made-up address or homepage.
    """
    contact = (contact or "").strip()
    return f"{AGENT} ({PURPOSE}; contact: {contact})" if contact else f"{AGENT} ({PURPOSE})"


class ContactUserAgentMiddleware(UserAgentMiddleware):
    """Scrapy's User-Agent middleware, with JOBAGG_CONTACT given as a setting (`-s JOBAGG_CONTACT=...`) honoured.

    `crawler/settings.py` builds USER_AGENT from the JOBAGG_CONTACT environment variable; a JOBAGG_CONTACT
    setting of higher priority than USER_AGENT rebuilds it, and an explicit USER_AGENT is used as given.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        agent = settings["USER_AGENT"]
        if settings.getpriority("JOBAGG_CONTACT") > settings.getpriority("USER_AGENT"):
            agent = user_agent(settings.get("JOBAGG_CONTACT"))
        middleware = cls(agent)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware


def retry_after_seconds(value: str | bytes | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent/garbled."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isascii() and text.isdigit():
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
# Errors that say "this host cannot be reached from here" rather than "this board is broken": Twisted's, and
# the download-handler-neutral ones newer Scrapy raises instead (2.14+).
CONNECT_ERRORS: tuple[type[BaseException], ...] = (
    DNSLookupError,
    ConnectionRefusedError,
    NoRouteError,
    UnknownHostError,
    *(
        getattr(scrapy.exceptions, name)
        for name in ("CannotResolveHostError", "DownloadConnectionRefusedError")
        if hasattr(scrapy.exceptions, name)
    ),
)


class HostUnreachable(IgnoreRequest):
    """A request dropped because its host failed every earlier connection the same way.

    `tried` is True for a request that itself failed before the host was given up (its board is an error),
    False for one never sent (its board is skipped)."""

    def __init__(self, message: str, tried: bool = False) -> None:
        super().__init__(message)
        self.tried = tried


@dataclass
class _Host:
    reached: bool = False  # one response (any status) proves the host is there
    error: str | None = None  # the one kind of connection error seen so far
    failed: set[str] = field(default_factory=set)  # URLs that failed to connect
    down: bool = False


class HostFailFastMiddleware:
    """Stops requesting a host once its first requests all failed to connect with the same error.

    Offline, or with a mistyped api_base, every board of a platform fails the same way (DNS, refused);
    trying all of them (with retries) takes minutes and buries the reason. Once JOBAGG_FAIL_FAST_AFTER
    different URLs of a host failed so and none got a response, the host is given up: the requests that
    failed are not retried (their boards are errors) and the others are dropped with HostUnreachable
    (their boards are `skipped`). 0 disables it. Sits above RetryMiddleware (550) so it sees every attempt.
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
            tried = request.url in host.failed
            self.crawler.stats.inc_value("jobagg/fail_fast/" + ("not_retried" if tried else "skipped"))
            if tried:
                reason = f"{host.error} at {request.url}, not retried: {name} given up"
            else:
                reason = f"{name} unreachable ({host.error}) for its first {len(host.failed)} URLs"
            raise HostUnreachable(reason, tried)

    def process_response(self, request: Request, response: Response) -> Response:
        self._host(request)[1].reached = True
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if self.threshold <= 0 or not isinstance(exception, CONNECT_ERRORS):
            return
        name, host = self._host(request)
        if host.reached:
            return
        kind = type(exception).__name__
        if host.error not in (None, kind):
            host.reached = True  # mixed errors are not one clear outage: keep trying
            return
        if host.down:
            if request.url in host.failed:
                request.meta["dont_retry"] = True  # RetryMiddleware (550) runs after this one: fail it now
                return
            # Already sent when the host was given up (requests queue in the downloader): count it as skipped.
            self.crawler.stats.inc_value("jobagg/fail_fast/skipped")
            raise HostUnreachable(f"{name} unreachable ({host.error}) for its first {len(host.failed)} URLs")
        host.error = kind
        host.failed.add(request.url)
        if len(host.failed) >= self.threshold:
            host.down = True
            request.meta["dont_retry"] = True
            self.crawler.stats.set_value(f"jobagg/fail_fast/host/{name}", kind)
            self._no_delay(request)
            logger.warning(
                "%s: %s unreachable (%s) for the first %d URLs; skipping the rest of its boards",
                self.crawler.spider.name if self.crawler.spider else "crawl",
                name,
                kind,
                len(host.failed),
            )

    def _no_delay(self, request: Request) -> None:
        """The requests already queued for a host given up only have to fail: politeness delays (half a second
        each under AutoThrottle) would make a crawl wait seconds for nothing."""
        downloader = self.crawler.engine.downloader if self.crawler.engine else None
        slot = downloader.slots.get(downloader.get_slot_key(request)) if downloader is not None else None
        if slot is not None:
            slot.delay = 0.0
