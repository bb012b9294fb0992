"""Workday: 20 per page with the total on page 1 only, details for kept postings only, ISO dates from the
detail (or from "Posted ..." text), "N Locations", and the result cap split by facet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.offline.server import CorpusServer
from spiders.workday import Facet, choose_split, flatten_facets, real_size
from tests.spiders.conftest import Crawl, board_row, by_title, last_run

BOARD = "board=cobaltgrid.wd5/CobaltCareers"


def test_roles_ml_costs_list_pages_plus_ml_details(crawl: Crawl, server: CorpusServer) -> None:
    out = crawl("workday", BOARD)
    lists = [p for m, p in server.requests if m == "POST"]
    details = [p for m, p in server.requests if m == "GET" and "/job/" in p]
    assert lists == ["/wday/cxs/cobaltgrid/CobaltCareers/jobs"] * 2  # 25 postings: offsets 0 and 20
    assert len(details) == len(out.items) == 3


def test_items_from_details(crawl: Crawl) -> None:
    items = by_title(crawl("workday", BOARD, "roles=all").items)
    assert len(items) == 25
    mle = items["Machine Learning Engineer"]
    assert mle["url"] == (
        "https://cobaltgrid.wd5.myworkdayjobs.com/CobaltCareers/job/USAWASeattle/Machine-Learning-Engineer_JR-01001"
    )
    assert mle["source_id"] == "Machine-Learning-Engineer_JR-01001" and mle["requisition_id"] == "JR-01001"
    assert mle["posted_at"] == "2026-10-02" and mle["employer_name"] == "Cobalt Grid Energy, Inc."
    # "3 Locations" in the list; the detail names them.
    assert items["Senior Data Scientist"]["locations"] == ["USA.WA.Seattle", "USA.TX.Austin", "Canada.ON.Toronto"]
    assert mle["remote"] == "hybrid" and items["Senior Data Scientist"]["remote"] == "remote"  # "Flex" is hybrid
    # No startDate in this detail: "Posted 30+ Days Ago" gives an ISO date and is noted as a lower bound.
    forecast = items["Applied Scientist, Grid Forecasting"]
    assert forecast["posted_at"] == (datetime.now(UTC).date() - timedelta(days=30)).isoformat()
    assert forecast["extra"]["posted_on_is_lower_bound"] is True
    assert all("ago" not in (i["posted_at"] or "").lower() for i in items.values())


def test_result_cap_is_split_by_facet(crawl: Crawl, spider_db: str) -> None:
    # The fixture site reaches only 30 results per query, like the real 2,000 cap.
    out = crawl("workday", "board=terrafab.wd1/TerraFabJobs", "roles=all", "result_cap=30")
    assert len(out.items) == len({i["source_id"] for i in out.items}) == 45
    run = last_run(spider_db, "workday")
    assert run.stats["jobagg/workday/facet_splits"] == 1 and run.boards["terrafab.wd1/TerraFabJobs"]["status"] == "ok"


def test_unknown_site_is_dead(crawl: Crawl, spider_db: str) -> None:
    crawl("workday", "board=ghost.wd3/Nothing", "roles=all")
    assert board_row(spider_db, "workday", "ghost.wd3/Nothing")["last_status"] == "dead"


def test_flatten_nested_facets_and_choose_a_covering_one() -> None:
    facets = [
        {"facetParameter": "jobFamilyGroup", "values": [{"id": "a", "count": 1500}, {"id": "b", "count": 1000}]},
        {"facetParameter": "locationMainGroup", "values": [
            {"facetParameter": "locations", "values": [{"id": "x", "count": 1200}, {"id": "y", "count": 900}]},
        ]},
        {"facetParameter": "timeType", "values": [{"id": "ft", "count": 2400}, {"id": "pt", "count": 100}]},
    ]  # fmt: skip
    flat = {f.parameter: f.counts for f in flatten_facets(facets)}
    assert flat == {"jobFamilyGroup": {"a": 1500, "b": 1000}, "locations": {"x": 1200, "y": 900},
                    "timeType": {"ft": 2400, "pt": 100}}  # fmt: skip
    # locations sums to 2,100 < 2,500: postings without a location would be lost, so it is not chosen.
    chosen = choose_split(flatten_facets(facets), 2500, {})
    assert chosen == Facet("jobFamilyGroup", {"a": 1500, "b": 1000})
    assert choose_split(flatten_facets(facets), 2500, {"jobFamilyGroup": ["a"]}).parameter == "timeType"


def test_real_size_comes_from_one_value_facets_and_they_split_first() -> None:
    # NVIDIA's first page: total 2,000 (capped), timeType 2,611 + 2; location counts overlap and overstate.
    facets = [Facet("timeType", {"ft": 2611, "pt": 2}), Facet("locations", {"a": 1900, "b": 1500})]
    assert real_size(2000, facets, 2000) == 2613
    assert real_size(1500, facets, 2000) == 1500  # below the cap the total is exact
    # locations has the smaller largest slice, but its slices overlap and need not cover: timeType partitions.
    assert choose_split(facets, 2613, {}).parameter == "timeType"
    assert choose_split(facets, 2613, {"timeType": ["ft"]}).parameter == "locations"
