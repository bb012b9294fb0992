"""Lever: paging by skip/limit, epoch-ms dates, per-location copies, workplaceType spellings, EU host."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.offline.server import CorpusServer
from spiders.base import BoardRef
from spiders.lever import LeverSpider, description_html
from tests.spiders.conftest import Crawl, board_row, by_title, last_run


def test_pages_until_a_short_page_and_links_per_location_copies(crawl: Crawl, server: CorpusServer) -> None:
    out = crawl("lever", "board=quantaloom", "roles=all", "page_size=3")
    pages = [p for m, p in server.requests if p.startswith("/v0/postings/quantaloom")]
    assert [p.split("skip=")[1].split("&")[0] for p in pages] == ["0", "3", "6"]
    items = out.items
    assert len(items) == 7
    copies = [i for i in items if i["title"] == "Machine Learning Engineer, Ranking"]
    assert len({i["source_id"] for i in copies}) == 3
    assert sorted(loc for i in copies for loc in i["locations"]) == ["New York, NY", "Remote - US", "San Francisco, CA"]
    for item in copies:
        others = item["extra"]["same_job_other_locations"]
        assert len(others) == 2 and item["source_id"] not in others
    # `on-site` (documented) and `onsite` (sent) are the same; `unspecified` says nothing.
    assert {i["remote"] for i in copies} == {"onsite", "remote"}
    assert by_title(items)["Office Manager"]["remote"] is None
    expected = datetime.fromtimestamp(1793520000000 / 1000, tz=UTC).date().isoformat()
    assert copies[0]["posted_at"] == expected


def test_fields_salary_and_requirement_lists(crawl: Crawl) -> None:
    listed = crawl("lever", "board=quantaloom", "roles=all").items
    items = by_title(listed)
    mle = next(i for i in listed if i["locations"] == ["San Francisco, CA"] and "Ranking" in i["title"])
    assert (mle["salary_min"], mle["salary_max"], mle["salary_currency"], mle["salary_period"]) == (
        180000.0, 240000.0, "USD", "year",
    )  # fmt: skip
    assert "MS or PhD in Computer Science" in mle["description_text"]
    assert "<script" not in mle["description_html"] and "track()" not in mle["description_text"]
    intern = items["Data Scientist Intern"]
    assert intern["employment_type"] == "intern" and intern["salary_period"] == "hour"
    # Plain text only (as in the real capture): HTML is built from it.
    speech = items["Research Scientist, Speech"]
    assert speech["description_html"].startswith("<p>Research on speech models.</p>")


def test_roles_ml_keeps_ml_titles_but_lists_every_id(crawl: Crawl) -> None:
    out = crawl("lever", "board=quantaloom")
    assert {i["title"] for i in out.items} == {
        "Machine Learning Engineer, Ranking", "Research Scientist, Speech", "Data Scientist Intern",
    }  # fmt: skip
    assert "'jobagg/roles/skipped': 2" in out.log


def test_unknown_site_is_dead_not_a_crash(crawl: Crawl, spider_db: str) -> None:
    crawl("lever", "board=ghostboard", "roles=all")
    assert board_row(spider_db, "lever", "ghostboard")["last_status"] == "dead"
    assert last_run(spider_db, "lever").boards["ghostboard"]["status"] == "dead"


def test_eu_boards_use_the_eu_host() -> None:
    spider = LeverSpider(board="acme")
    assert spider.url(BoardRef("acme", region="eu"), "/v0/postings/acme").startswith("https://api.eu.lever.co/")
    assert spider.url(BoardRef("acme"), "/v0/postings/acme").startswith("https://api.lever.co/")


def test_description_joins_opening_lists_and_closing() -> None:
    html = description_html({
        "description": "<p>Intro</p>", "lists": [{"text": "Requirements", "content": "<li>PhD</li>"}],
        "additional": "<p>EEO</p>",
    })  # fmt: skip
    assert html == "<p>Intro</p><h3>Requirements</h3><ul><li>PhD</li></ul><p>EEO</p>"
