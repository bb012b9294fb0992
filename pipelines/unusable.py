"""DropUnusableItemsPipeline: drop an item with no id, title or http(s) URL before its ad is read."""

from __future__ import annotations

from typing import Any, Self
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import REQUIRED_FIELDS, as_mapping


def unusable_reasons(fields: Any) -> list[str]:
    """Why an item cannot be stored or shown (empty when it can); `fields` is any mapping of its fields."""
    reasons = [f"no {name}" for name in REQUIRED_FIELDS if not fields.get(name)]
    url = fields.get("url")
    if url and urlsplit(str(url)).scheme not in ("http", "https"):
        reasons.append(f"url {url!r} is not http(s)")
    return reasons


class DropUnusableItemsPipeline:
    """Runs right after normalisation (a title of only whitespace is empty by then) and before reading."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = as_mapping(item)
        if adapter.get("unchanged_id"):
            return item  # the same item as one already stored, which was usable
        reasons = unusable_reasons(adapter)
        if reasons:
            self.stats.inc_value("jobagg/dropped/unusable")
            where = f"{adapter.get('ats')}/{adapter.get('board')}/{adapter.get('source_id')}"
            raise DropItem(f"unusable posting {where}: {', '.join(reasons)}")
        return item
