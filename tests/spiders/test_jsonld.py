"""jsonld: JSON-LD object, list, @graph, @type list, escaped HTML, malformed blocks, listing pages, sitemaps."""

from __future__ import annotations

import pytest

from crawler.offline.server import CorpusServer
from spiders.jsonld import JsonldSpider, job_postings, parse_block, salary_fields
from tests.spiders.conftest import Crawl, board_row, by_title, last_run

LATTICE = "url=https://careers.lattice.example/lattice/jobs/"


def test_listing_page_is_followed_one_level(crawl: Crawl, server: CorpusServer, spider_db: str) -> None:
    out = crawl("jsonld", LATTICE, "roles=all")
    items = by_title(out.items)
    assert set(items) == {"Machine Learning Engineer, Manipulation", "Research Scientist, Tactile Sensing",
                          "NLP Engineer (Remote)", "Data Engineer"}  # fmt: skip
    paths = {p for _, p in server.requests}
    assert "/lattice/about.html" not in paths and "/jobs/x.html" not in paths  # not job links / other site
    mle = items["Machine Learning Engineer, Manipulation"]
    assert mle["board"] == "careers.lattice.example" and mle["source_id"] == "LAT-101"
    assert mle["url"] == "https://careers.lattice.example/lattice/jobs/ml-engineer.html"
    assert mle["locations"] == ["Pittsburgh, PA, US", "Boston, MA, US"] and mle["employer_name"] == "Lattice Robotics"
    assert (mle["salary_min"], mle["salary_max"], mle["salary_period"]) == (175000.0, 225000.0, "year")
    assert mle["description_html"].startswith("<p>Train manipulation policies.</p>")  # was HTML-escaped
    assert "alert" not in mle["description_html"]
    nlp = items["NLP Engineer (Remote)"]
    assert nlp["remote"] == "remote" and nlp["locations"] == ["Remote (United States)"]
    assert nlp["source_id"] == "https://careers.lattice.example/lattice/jobs/remote-nlp.html"
    assert nlp["salary_period"] == "hour" and nlp["salary_min"] == nlp["salary_max"] == 95.0
    assert items["Research Scientist, Tactile Sensing"]["source_id"] == "LAT-102"  # from @graph, @type list
    run = last_run(spider_db, "jsonld")
    assert run.stats["jobagg/jsonld/blocks_repaired"] == 1 and run.stats["jobagg/jsonld/blocks_unparseable"] == 1
    # The listing links a page that is gone: that is not an error of the site.
    assert board_row(spider_db, "jsonld", "careers.lattice.example")["last_status"] == "ok"


def test_sitemap_index_and_urlset(crawl: Crawl, server: CorpusServer) -> None:
    out = crawl("jsonld", "sitemap=https://jobs.fernway.example/fernway/sitemap.xml", "roles=all")
    items = by_title(out.items)
    assert set(items) == {"ML Platform Engineer", "Perception Engineer", "Fleet Operations Lead"}
    assert "/fernway/blog/launch.html" not in {p for _, p in server.requests}
    platform = items["ML Platform Engineer"]
    assert platform["source_id"] == "88123" and platform["posted_at"] == "2026-10-30"
    assert platform["description_text"] == "Run the feature store.\n\nBachelor's degree and 5 years."
    # Two postings on one page with neither identifier nor url.
    assert items["Perception Engineer"]["source_id"].endswith("perception.html#1")


def test_roles_ml_and_dead_sites(crawl: Crawl, spider_db: str) -> None:
    assert len(crawl("jsonld", LATTICE).items) == 3
    crawl("jsonld", "url=https://careers.quiet.example/quietco/careers.html", "roles=all")
    assert board_row(spider_db, "jsonld", "careers.quiet.example")["last_status"] == "dead"
    crawl("jsonld", "url=https://careers.nowhere.example/nowhere/jobs.html", "roles=all")
    assert board_row(spider_db, "jsonld", "careers.nowhere.example")["last_status"] == "dead"


@pytest.mark.parametrize(
    "block",
    [
        '{"@type": "JobPosting", "title": "A",}',
        '{"@type": "JobPosting", "title": "A\nB"}',
        '<!-- {"@type": "JobPosting", "title": "A"} -->',
        "{&quot;@type&quot;: &quot;JobPosting&quot;, &quot;title&quot;: &quot;A&quot;}",
    ],
)
def test_lenient_blocks(block: str) -> None:
    data, repaired = parse_block(block)
    assert repaired and [p["title"][0] for p in job_postings(data)] == ["A"]


def test_postings_in_every_container() -> None:
    doc = {"@graph": [{"@type": "WebPage", "mainEntity": {"@type": ["JobPosting"], "title": "A"}},
                      [{"@type": "schema:JobPosting", "title": "B"}], {"@type": "Organization"}]}  # fmt: skip
    assert [p["title"] for p in job_postings(doc)] == ["A", "B"]


def test_salary_shapes() -> None:
    flat = salary_fields({"baseSalary": {"currency": "EUR", "value": 50000, "unitText": "YEAR"}})
    assert (flat["salary_min"], flat["salary_max"], flat["salary_currency"], flat["salary_period"]) == (
        50000, 50000, "EUR", "year",
    )  # fmt: skip
    assert salary_fields({}) == {}


def test_url_argument_names_the_board() -> None:
    spider = JsonldSpider(url="https://jobs.example.com/careers/")
    assert spider._board_arg == "jobs.example.com"
    with pytest.raises(ValueError):
        JsonldSpider(url="ftp://jobs.example.com/")
