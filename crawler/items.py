"""The job posting item. Field names are a contract (docs/fields.md); raw values sit beside normalised ones."""

from __future__ import annotations

from typing import Any

import scrapy
from itemadapter import ItemAdapter

# Fields every exported item carries, in export order.
CONTRACT_FIELDS: tuple[str, ...] = (
    "ats",
    "board",
    "source_id",
    "url",
    "apply_url",
    "title",
    "employer_name",
    "department",
    "requisition_id",
    "locations",
    "city",
    "region",
    "country",
    "remote",
    "employment_type",
    "posted_at",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "description_text",
    "description_html",
    "is_ml",
    "role_family",
    "seniority",
    "degree_min",
    "eb_category_hint",
    "years_experience_min",
    "sponsorship_statement",
    "sponsorship_sentence",
)

# Raw values as the platform sent them, kept so that normalisation can be re-run or audited.
RAW_FIELDS: tuple[str, ...] = (
    "posted_at_raw",
    "updated_at_raw",
    "remote_raw",
    "employment_type_raw",
    "salary_raw",
    "description_raw",
)

# Bookkeeping between pipelines, never exported: the hash of what the spider sent, and (when that is exactly
# what was stored last time) the stored posting's id, so normalising and reading can be skipped.
INTERNAL_FIELDS: tuple[str, ...] = ("raw_hash", "unchanged_id", "listing_unchanged")

# Platform values with no field of their own (e.g. Greenhouse metadata), stored as JSON in `postings.extra`.
EXTRA_FIELD = "extra"

REQUIRED_FIELDS: tuple[str, ...] = ("ats", "board", "source_id", "title", "url")


def fields_of(item: Any) -> dict[str, Any]:
    """A shallow dict of an item's fields; ItemAdapter.asdict() deep-copies and costs a quarter of a crawl."""
    return dict(item) if isinstance(item, scrapy.Item) else dict(ItemAdapter(item))


class JobPostingItem(scrapy.Item):
    """One posting. Spiders fill platform values; pipelines fill the normalised and derived ones."""

    fields: dict[str, scrapy.Field]
    # Declared from the tuples above so the contract lives in one place.
    locals().update({name: scrapy.Field() for name in (*CONTRACT_FIELDS, *RAW_FIELDS, *INTERNAL_FIELDS, EXTRA_FIELD)})
