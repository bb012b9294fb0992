"""ReadAdPipeline on real items: fields filled, nothing dropped, stats counted."""

from __future__ import annotations

from collections import Counter
from typing import Any

import scrapy

from crawler.items import JobPostingItem
from pipelines.read_ad import ReadAdPipeline


class _Stats:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


class _Crawler:
    def __init__(self) -> None:
        self.stats = _Stats()


def _pipeline() -> tuple[ReadAdPipeline, _Stats]:
    crawler: Any = _Crawler()
    pipeline = ReadAdPipeline.from_crawler(crawler)
    return pipeline, crawler.stats


def test_fills_item_fields() -> None:
    pipeline, stats = _pipeline()
    item = JobPostingItem(
        title="Sr/Staff Perception ML Engineer",
        locations=["London, United Kingdom"],
        description_text="We sponsor visas.\nPhD in Computer Vision required.",
    )
    out = pipeline.process_item(item)
    assert out is item
    assert (item["is_ml"], item["role_family"], item["seniority"]) == (True, "perception", "senior")
    assert (item["sponsorship_statement"], item["degree_min"], item["eb_category_hint"]) == ("offered", "phd", "EB-2")
    assert (item["city"], item["country"]) == ("London", "GB")
    assert stats.values["jobagg/read/ml"] == 1
    assert stats.values["jobagg/read/sponsorship/offered"] == 1
    assert stats.values["jobagg/read/non_us"] == 1


def test_title_only_item_is_still_classified() -> None:
    pipeline, stats = _pipeline()
    item = JobPostingItem(title="Recruiter, AI Research")
    pipeline.process_item(item)
    assert (item["is_ml"], item["role_family"], item["sponsorship_statement"]) == (False, None, None)
    assert stats.values["jobagg/read/not_ml"] == 1
    assert stats.values["jobagg/read/no_description"] == 1


def test_item_class_without_a_field_is_counted_not_fatal() -> None:
    class Narrow(scrapy.Item):
        title = scrapy.Field()
        is_ml = scrapy.Field()

    pipeline, stats = _pipeline()
    item = Narrow(title="Applied Scientist")
    pipeline.process_item(item)
    assert item["is_ml"] is True
    assert stats.values["jobagg/read/unknown_field/seniority"] == 1


def test_works_without_stats_and_on_dicts() -> None:
    item = {"title": "Data Scientist II"}
    ReadAdPipeline().process_item(item)
    assert (item["is_ml"], item["seniority"]) == (True, "mid")
