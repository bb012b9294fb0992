"""Ashby: unlisted postings skipped, compensation components (salary, equity, empty, tiers only), missing
workplaceType, and an empty board recorded as dead."""

from __future__ import annotations

from spiders.ashby import interval_period, salary_component
from tests.spiders.conftest import Crawl, board_row, by_title, last_run


def test_board_fields_and_quirks(crawl: Crawl) -> None:
    out = crawl("ashby", "board=kestrel", "roles=all")
    items = by_title(out.items)
    assert "LLM Engineer (Draft, Unlisted)" not in items and len(items) == 5
    assert "'jobagg/ashby/unlisted': 1" in out.log
    senior = items["Senior Machine Learning Engineer"]
    assert (senior["salary_min"], senior["salary_max"], senior["salary_currency"], senior["salary_period"]) == (
        190000.0, 260000.0, "USD", "year",
    )  # fmt: skip
    assert senior["locations"] == ["San Francisco, CA", "New York, NY"] and senior["remote"] == "onsite"
    assert "<iframe" not in senior["description_html"] and senior["posted_at"] == "2026-10-20"
    intern = items["ML Research Intern"]
    assert intern["employment_type"] == "intern" and intern["salary_period"] == "hour"
    # No workplaceType key at all: isRemote decides; empty compensation gives no salary.
    applied = items["Applied Scientist, Forecasting"]
    assert applied["remote"] == "remote" and applied["salary_min"] is None
    # workplaceType null and salary only inside a compensation tier.
    vision = items["Computer Vision Engineer"]
    assert vision["remote"] is None and vision["salary_currency"] == "EUR" and vision["salary_min"] == 85000.0
    assert items["Recruiting Coordinator"]["employment_type"] == "contract"


def test_empty_board_is_dead_in_board_and_run(crawl: Crawl, spider_db: str) -> None:
    crawl("ashby", "board=emptyorg", "roles=all")
    assert board_row(spider_db, "ashby", "emptyorg")["last_status"] == "dead"
    run = last_run(spider_db, "ashby")
    assert run.boards["emptyorg"]["status"] == "dead" and run.status == "finished"


def test_salary_component_ignores_equity_and_empty_values() -> None:
    equity = {"compensationType": "EquityPercentage", "interval": "NONE", "minValue": None, "maxValue": None}
    cash_equity = {"compensationType": "EquityCashValue", "interval": "1 YEAR", "minValue": None, "maxValue": None}
    assert salary_component({"summaryComponents": [equity, cash_equity], "compensationTiers": []}) is None
    assert salary_component(None) is None
    assert interval_period("1 YEAR") == "year" and interval_period("NONE") is None
