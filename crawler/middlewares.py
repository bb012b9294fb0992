"""Downloader middlewares shared by every spider."""

from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime
from typing import Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.useragent import UserAgentMiddleware
from scrapy.http import Response

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
