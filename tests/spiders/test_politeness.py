"""Politeness every spider inherits: settings, and Retry-After honoured on a 429 before the retry."""

from __future__ import annotations

import time

from crawler.crawl import project_settings
from crawler.middlewares import retry_after_seconds
from crawler.offline.server import serve
from tests.crawling import ATS_FIXTURES
from tests.spiders.conftest import Crawl, last_run


def test_settings() -> None:
    s = project_settings()
    assert s.getbool("ROBOTSTXT_OBEY") and s["USER_AGENT"].startswith("jobagg/")
    if not s["JOBAGG_CONTACT"]:
        assert "http" not in s["USER_AGENT"] and "@" not in s["USER_AGENT"]  # no made-up address by default
    assert s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 4 and s.getbool("AUTOTHROTTLE_ENABLED")
    assert {429, 500, 502, 503, 504} <= set(s.getlist("RETRY_HTTP_CODES")) and 0 < s.getint("RETRY_TIMES") <= 5
    assert 0 < s.getint("DOWNLOAD_TIMEOUT") <= 60


def test_user_agent_names_the_configured_contact(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib
    from types import SimpleNamespace

    from scrapy.signalmanager import SignalManager

    import crawler.settings as settings_module
    from crawler.middlewares import ContactUserAgentMiddleware, user_agent

    purpose = "job-board indexer for visa-sponsorship search"
    assert user_agent("ops@example.org") == f"jobagg/0.1 ({purpose}; contact: ops@example.org)"
    assert user_agent("  ") == user_agent(None) == f"jobagg/0.1 ({purpose})"

    def agent(**cmdline: str) -> str:
        settings = project_settings()
        settings.setdict(cmdline, priority="cmdline")
        # The middleware reads only the crawler's settings (with their priorities) and connects one signal.
        stand_in = SimpleNamespace(settings=settings, signals=SignalManager())
        return ContactUserAgentMiddleware.from_crawler(stand_in).user_agent  # type: ignore[arg-type]

    # The environment variable is read with the settings module; a -s setting rebuilds the agent from it.
    monkeypatch.setenv("JOBAGG_CONTACT", "env@example.org")
    importlib.reload(settings_module)
    try:
        assert agent().endswith("contact: env@example.org)")
    finally:
        monkeypatch.delenv("JOBAGG_CONTACT")
        importlib.reload(settings_module)
    assert agent() == user_agent(None)
    assert agent(JOBAGG_CONTACT="https://ops.example.org/crawler").endswith("contact: https://ops.example.org/crawler)")
    assert agent(USER_AGENT="custom/1.0", JOBAGG_CONTACT="x@example.org") == "custom/1.0"  # explicit agent wins


def test_retry_after_is_waited_out_then_retried(crawl: Crawl, spider_db: str) -> None:
    path = "/posting-api/job-board/kestrel"
    with serve(ATS_FIXTURES, rate_limit_once={path}) as srv:
        started = time.monotonic()
        out = crawl("ashby", "board=kestrel", "roles=all", srv=srv)
        elapsed = time.monotonic() - started
        assert [p.split("?")[0] for _, p in srv.requests].count(path) == 2
    assert len(out.items) == 5 and elapsed >= 1.0
    run = last_run(spider_db, "ashby")
    assert run.stats["jobagg/retry_after/waits"] == 1 and run.boards["kestrel"]["status"] == "ok"


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds(b"1") == 1.0
    assert retry_after_seconds("\u00b2") is None  # a digit to str.isdigit, not to float(): garbled, no wait
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a past date: no wait
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
