"""DedupeItemsPipeline: one item per (ats, board, source_id) within a crawl."""

from __future__ import annotations

from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import as_mapping


class DedupeItemsPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.seen: set[tuple[str, str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = as_mapping(item)
        key = (adapter["ats"], adapter["board"], adapter["source_id"])
        if key in self.seen:
            self.stats.inc_value("jobagg/dropped/duplicate")
            raise DropItem(f"duplicate posting {'/'.join(key)} in this crawl")
        self.seen.add(key)
        return item
