"""SmartRecruiters: offset paging, one detail per kept posting (and none for the others), dead companies."""

from __future__ import annotations

from crawler.offline.server import CorpusServer
from spiders.smartrecruiters import full_location
from tests.spiders.conftest import Crawl, board_row, by_title, last_run


def test_pages_and_details(crawl: Crawl, server: CorpusServer) -> None:
    out = crawl("smartrecruiters", "board=meridianhealth", "roles=all", "page_size=2")
    lists = [p for _, p in server.requests if p.startswith("/v1/companies/meridianhealth/postings?")]
    assert sorted(p.split("offset=")[1] for p in lists) == ["0", "2", "4"]
    items = by_title(out.items)
    assert len(items) == 5
    mle = items["Machine Learning Engineer | Hybrid Boston"]
    assert mle["url"].startswith("https://jobs.smartrecruiters.com/MeridianHealth/744000200000001")
    assert mle["remote"] == "hybrid" and mle["requisition_id"] == "REF001"
    assert (mle["salary_min"], mle["salary_max"], mle["salary_period"]) == (165000.0, 210000.0, "year")
    assert "Master\u2019s degree" in mle["description_text"] and "Job Description" in mle["description_text"]
    assert items["Data Science Intern | Fully Remote US"]["employment_type"] == "intern"
    assert items["NLP Scientist"]["locations"] == ["Warsaw, Poland"]


def test_roles_ml_asks_no_detail_for_other_titles(crawl: Crawl, server: CorpusServer) -> None:
    out = crawl("smartrecruiters", "board=meridianhealth")
    details = [p for _, p in server.requests if "/postings/" in p]
    assert len(details) == len(out.items) == 3
    assert not any(p.endswith(("744000200000004", "744000200000005")) for p in details)


def test_unknown_company_is_dead(crawl: Crawl, spider_db: str) -> None:
    crawl("smartrecruiters", "board=nosuchco", "roles=all")
    assert board_row(spider_db, "smartrecruiters", "nosuchco")["last_status"] == "dead"
    assert last_run(spider_db, "smartrecruiters").boards["nosuchco"]["status"] == "dead"


def test_full_location_drops_empty_parts() -> None:
    assert full_location({"fullLocation": "Warsaw, , Poland"}) == "Warsaw, Poland"
    assert full_location({"city": "Austin", "region": "TX", "country": "us"}) == "Austin, TX, us"
