"""ValidateItemPipeline: drop only unusable items; count every missing or invalid field in the stats."""

from __future__ import annotations

from collections import Counter
from typing import Any, Self
from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import CONTRACT_FIELDS, REQUIRED_FIELDS, fields_of

# Expected value types per field; a wrong type is counted and the value cleared, never stored.
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "locations": (list,),
    "salary_min": (int, float),
    "salary_max": (int, float),
    "is_ml": (bool,),
    "years_experience_min": (int, float),
}
ENUMS: dict[str, set[str]] = {
    "remote": {"remote", "hybrid", "onsite"},
    "employment_type": {"full_time", "part_time", "contract", "intern", "temporary"},
    "salary_period": {"year", "month", "week", "day", "hour"},
}


def problems(fields: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(unusable reasons, missing field names, invalid field names) for one item's fields."""
    unusable = [f"no {name}" for name in REQUIRED_FIELDS if not fields.get(name)]
    url = fields.get("url")
    if url and urlsplit(str(url)).scheme not in ("http", "https"):
        unusable.append(f"url {url!r} is not http(s)")
    missing = [name for name in CONTRACT_FIELDS if fields.get(name) in (None, "", [])]
    invalid = []
    for name, types in FIELD_TYPES.items():
        value = fields.get(name)
        if value is not None and (not isinstance(value, types) or (bool in types) != isinstance(value, bool)):
            invalid.append(name)
    invalid += [name for name, allowed in ENUMS.items() if fields.get(name) not in (None, *allowed)]
    return unusable, missing, invalid


class ValidateItemPipeline:
    """Counts are kept locally and pushed to the crawl stats every FLUSH_EVERY items and at close."""

    FLUSH_EVERY = 1000

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.counts: Counter[str] = Counter()
        self.seen = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        unusable, missing, invalid = problems(fields_of(item))
        self.seen += 1
        if self.seen % self.FLUSH_EVERY == 0:
            self.push_counts()
        if unusable:
            self.stats.inc_value("jobagg/dropped/unusable")
            where = f"{adapter.get('ats')}/{adapter.get('board')}/{adapter.get('source_id')}"
            raise DropItem(f"unusable posting {where}: {', '.join(unusable)}")
        for name in missing:
            self.counts[f"jobagg/field/{name}/missing"] += 1
        for name in invalid:
            self.counts[f"jobagg/field/{name}/invalid"] += 1
            adapter[name] = None
        return item

    def close_spider(self) -> None:
        self.push_counts()

    def push_counts(self) -> None:
        for key, count in self.counts.items():
            self.stats.inc_value(key, count)
        self.counts.clear()
