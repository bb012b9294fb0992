"""Scrapy settings every spider inherits. Politeness defaults are documented in docs/operations.md."""

from __future__ import annotations

import os

from scrapy.settings import default_settings

from crawler.items import CONTRACT_FIELDS, EXTRA_FIELD, RAW_FIELDS
from crawler.middlewares import user_agent

BOT_NAME = "jobagg"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Who runs this crawler: an e-mail address or URL a site owner can reach (environment or `-s JOBAGG_CONTACT=`).
JOBAGG_CONTACT = os.environ.get("JOBAGG_CONTACT", "")
USER_AGENT = user_agent(JOBAGG_CONTACT)
# robots.txt groups are matched on the product token, whatever the contact.
ROBOTSTXT_USER_AGENT = "jobagg"

# Politeness: robots.txt obeyed; concurrency is per host because every board of a platform shares one API host.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Items of one response in flight at once. Scrapy starts this many tasks for every response and errback, items or
# not; the pipelines only wait on a board's stored rows and a batch write, which 16 keep busy.
CONCURRENT_ITEMS = 16
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
# A board response is a few MB at most; anything far larger is a mistake we should not buffer.
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
HTTPERROR_ALLOWED_CODES: list[int] = []
COOKIES_ENABLED = False
# No way into a running crawl: Scrapy's telnet console and its remote-control HTTP server (on by default since 2.19:
# it runs posted Python code and leaves a job file per crawl in the user's state directory) are both off.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Longest Retry-After (seconds) we wait out before the retry; a longer one is capped, not ignored.
RETRY_AFTER_MAX = 120.0

# Scrapy imports every component its lists name, even one set to None: the cookie middleware (off above) and the
# remote-control extension are left out of the base lists, so no crawl imports their libraries (~0.3 s of start-up).
DOWNLOADER_MIDDLEWARES_BASE = {
    path: order
    for path, order in default_settings.DOWNLOADER_MIDDLEWARES_BASE.items()
    if path != "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"
}
EXTENSIONS_BASE = {
    path: order
    for path, order in default_settings.EXTENSIONS_BASE.items()
    if path != "scrapy.extensions.remote_control.RemoteControl"
}

DOWNLOADER_MIDDLEWARES = {
    # The stock User-Agent middleware, with a JOBAGG_CONTACT setting honoured.
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "crawler.middlewares.ContactUserAgentMiddleware": 500,
    # Honours Retry-After on 429/503 before the stock retry middleware (550) re-schedules the request.
    "crawler.middlewares.RetryAfterMiddleware": 560,
    # Above RetryMiddleware (550), so it sees every failed attempt and can stop retries to a host that is down.
    "crawler.middlewares.HostFailFastMiddleware": 590,
}
# After this many URLs of one host failed to connect the same way (DNS, refused) and none got a response,
# the host is given up and its remaining boards are skipped; 0 disables.
JOBAGG_FAIL_FAST_AFTER = 3

# In the order they run: an unusable item is dropped before its ad is read; validation counts derived fields too.
ITEM_PIPELINES = {
    "pipelines.reuse.ReuseUnchangedPipeline": 50,
    "pipelines.normalize.NormalizeFieldsPipeline": 100,
    "pipelines.unusable.DropUnusableItemsPipeline": 200,
    "pipelines.read_ad.ReadAdPipeline": 300,
    "pipelines.validate.ValidateItemPipeline": 700,
    "pipelines.dedupe.DedupeItemsPipeline": 800,
    "pipelines.store.StorePostingsPipeline": 900,
}

EXTENSIONS = {
    "crawler.extensions.CrawlRunRecorder": 500,
    "crawler.monitors.BoardStatsCollector": 510,
    "crawler.monitors.JobaggSpidermon": 520,
}

# Health checks after every spider run (crawler/monitors.py); results land in crawl_runs.monitors.
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ["crawler.monitors.SpiderCloseMonitorSuite"]
# A board's listing is compared with its median over this many earlier runs...
JOBAGG_MONITOR_HISTORY_RUNS = 5
# ...and has collapsed when below this share of it (boards that typically list fewer are not judged).
JOBAGG_MONITOR_COLLAPSE_RATIO = 0.5
JOBAGG_MONITOR_COLLAPSE_MIN_PREVIOUS = 10
# Failed requests (no response after retries, or HTTP >= 400) and retries, per run and per board.
JOBAGG_MONITOR_MAX_ERROR_RATE = 0.05
JOBAGG_MONITOR_MAX_RETRY_RATE = 0.20
JOBAGG_MONITOR_MIN_REQUESTS_FOR_RATES = 10
# Share of items carrying each field, per run and per board (judged from this many items on).
JOBAGG_MONITOR_MIN_COVERAGE = {"title": 1.0, "url": 1.0, "description": 0.9, "posted_at": 0.5}
JOBAGG_MONITOR_MIN_ITEMS_FOR_COVERAGE = 10
# Salary only where the platform publishes pay in a field; employers may still leave it empty, hence low floors.
JOBAGG_MONITOR_SALARY_COVERAGE = {"ashby": 0.05, "lever": 0.05, "smartrecruiters": 0.05}
# `jobagg status`: a board is stale when its last complete listing is older than this many crawl intervals.
JOBAGG_STALE_AFTER_INTERVALS = 3.0

FEED_EXPORT_ENCODING = "utf-8"
# Contract fields first, then the raw values they were read from; `-s FEED_EXPORT_FIELDS=a,b` narrows an export.
FEED_EXPORT_FIELDS = [*CONTRACT_FIELDS, *(f for f in RAW_FIELDS if f != "description_raw"), EXTRA_FIELD]

# Storage: database from JOBAGG_DATABASE_URL or the SQLite default; batch size of the upsert.
JOBAGG_DATABASE_URL: str | None = None
JOBAGG_STORE_BATCH_SIZE = 500
# Where spiders learn their boards: a callable (platform, token or None, settings) -> [BoardRef].
JOBAGG_BOARD_SOURCE = "crawler.registry.board_source"
# Database reads and writes of the pipelines and the run recorder go to a worker thread, so the reactor keeps
# downloading and parsing meanwhile; False runs them on the reactor thread (kept to measure the difference).
JOBAGG_DB_IN_THREAD = True

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"

# Incremental re-crawls: a callable (ats, board token, database URL) -> {source_id: listing hash}; a listed posting
# whose listing entry hashes the same as when it was stored needs no detail request. None turns it off.
JOBAGG_LISTING_HASHES: str | None = "crawler.incremental.listing_hashes"

# Scale-out (docs/scaling.md): with a Redis URL, boards are shared by every worker through scrapy-redis.
JOBAGG_REDIS_URL: str | None = os.environ.get("JOBAGG_REDIS_URL") or None
# Keys are `<prefix>:<spider>:...`; one prefix per deployment (or per test) sharing a Redis server.
JOBAGG_REDIS_PREFIX = os.environ.get("JOBAGG_REDIS_PREFIX") or "jobagg"
# A worker silent this long is taken for dead and its boards are crawled again by another.
JOBAGG_REDIS_LEASE_SECONDS = int(os.environ.get("JOBAGG_REDIS_LEASE_SECONDS") or 60)
# How long a board, once seeded, is not seeded again (one scheduling round; keep it below the crawl interval).
JOBAGG_REDIS_ROUND_SECONDS = int(os.environ.get("JOBAGG_REDIS_ROUND_SECONDS") or 6 * 3600)
if JOBAGG_REDIS_URL:
    SCHEDULER = "crawler.scheduler.BoardScheduler"
