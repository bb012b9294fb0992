"""ValidateItemPipeline: count every missing or invalid field in the stats; clear invalid values.

Unusable items (no id, title or URL) never get here: `DropUnusableItemsPipeline` drops them before the ad
is read. This pipeline runs after reading, so it sees the derived fields too.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Self

from scrapy.crawler import Crawler

from crawler.items import CONTRACT_FIELDS, VOCABULARIES, as_mapping, fields_of
from pipelines.unusable import unusable_reasons

# Expected value types per field; a wrong type is counted and the value cleared, never stored.
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "locations": (list,),
    "salary_min": (int, float),
    "salary_max": (int, float),
    "is_ml": (bool,),
    "years_experience_min": (int, float),
}
# Closed vocabularies, as the item declares them.
ENUMS: dict[str, frozenset[str]] = {name: frozenset(values) for name, values in VOCABULARIES.items()}


def problems(fields: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(unusable reasons, missing field names, invalid field names) for one item's fields."""
    return unusable_reasons(fields), *_incomplete(fields)


def _incomplete(fields: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(missing, invalid) field names; the pipeline's part of `problems` (unusable items were dropped earlier)."""
    missing = [name for name in CONTRACT_FIELDS if fields.get(name) in (None, "", [])]
    invalid = []
    for name, types in FIELD_TYPES.items():
        value = fields.get(name)
        if value is not None and (not isinstance(value, types) or (bool in types) != isinstance(value, bool)):
            invalid.append(name)
    for name, allowed in ENUMS.items():
        value = fields.get(name)
        if value is not None and (not isinstance(value, str) or value not in allowed):
            invalid.append(name)
    return missing, invalid


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
        missing, invalid = _incomplete(fields_of(item))
        self.seen += 1
        if self.seen % self.FLUSH_EVERY == 0:
            self.push_counts()
        for name in missing:
            self.counts[f"jobagg/field/{name}/missing"] += 1
        if invalid:
            adapter = as_mapping(item)
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
