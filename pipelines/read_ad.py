"""ReadAdPipeline: fills the fields a careful reader would extract from the ad (see pipelines/rules/read.py)."""

from __future__ import annotations

from typing import Any

from crawler.items import as_mapping, fields_of
from pipelines.rules.places import is_us
from pipelines.rules.read import read_posting


class ReadAdPipeline:
    """Classifies the role and reads sponsorship, degree, pay and place from each item; never drops one.

    Stats (``jobagg/read/...``): ``ml`` / ``not_ml``, ``sponsorship/<statement>``, ``eb/<hint>``,
    ``salary_from_text``, ``place_from_text`` (primary place read from the location strings), ``non_us`` (US
    sponsorship does not apply), ``no_description``, ``unknown_field/<name>`` (the item class lacks a field
    these rules fill).
    """

    def __init__(self, stats: Any = None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ReadAdPipeline:
        return cls(crawler.stats)

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"jobagg/read/{key}")

    def process_item(self, item: Any) -> Any:
        adapter = as_mapping(item)
        if adapter.get("unchanged_id"):
            return item
        derived = read_posting(fields_of(item))
        for key, value in derived.items():
            try:
                adapter[key] = value
            except KeyError:
                self._inc(f"unknown_field/{key}")
        self._inc("ml" if derived["is_ml"] else "not_ml")
        if derived["sponsorship_statement"] is None:
            self._inc("no_description")
        else:
            self._inc(f"sponsorship/{derived['sponsorship_statement']}")
        if derived["eb_category_hint"]:
            self._inc(f"eb/{derived['eb_category_hint']}")
        if "salary_min" in derived:
            self._inc("salary_from_text")
        if "country" in derived or "city" in derived:
            self._inc("place_from_text")
        country = adapter.get("country")
        if country and not is_us(country):
            self._inc("non_us")
        return item
