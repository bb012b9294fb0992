"""ReuseUnchangedPipeline: a posting the spider sends exactly as last time gets its stored values back.

Most postings are unchanged from one daily crawl to the next; normalising and reading them again would
produce what is already stored. This pipeline hashes the item as the spider sent it, and when the hash equals
the stored one it fills the item from the stored row and marks it (`unchanged_id`), so the normalise and
read-the-ad pipelines pass it through and storage only refreshes its last-seen time. Exports still carry
every field.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from datetime import date
from typing import Any, Self

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy import Engine, select

from crawler import db as dbmod
from crawler.items import CONTRACT_FIELDS, INTERNAL_FIELDS, fields_of
from crawler.models import Posting
from pipelines import READ_VERSION

# Boards whose stored rows stay in memory; items of one board arrive together, so a few suffice.
BOARDS_IN_MEMORY = 8
REUSED_FIELDS = tuple(f for f in CONTRACT_FIELDS if f not in ("ats", "board", "source_id"))
_COLUMNS = [Posting.__table__.c[name] for name in ("id", "source_id", "raw_hash", *REUSED_FIELDS)]


def raw_hash(fields: dict[str, Any]) -> str:
    payload = {k: v for k, v in fields.items() if k not in INTERNAL_FIELDS and v is not None}
    blob = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(f"{READ_VERSION}\n{blob}".encode()).hexdigest()


class StoredBoards:
    """The stored rows of recently seen boards, loaded with one query per board."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.boards: OrderedDict[tuple[str, str], dict[str, dict[str, Any]]] = OrderedDict()

    def row(self, ats: str, board: str, source_id: str) -> dict[str, Any] | None:
        key = (ats, board)
        if key not in self.boards:
            query = select(*_COLUMNS).where(Posting.ats == ats, Posting.board == board)
            with self.engine.connect() as conn:
                self.boards[key] = {r.source_id: r._asdict() for r in conn.execute(query)}
            while len(self.boards) > BOARDS_IN_MEMORY:
                self.boards.popitem(last=False)
        self.boards.move_to_end(key)
        return self.boards[key].get(source_id)


class ReuseUnchangedPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.db_url = crawler.settings.get("JOBAGG_DATABASE_URL")
        self.stored: StoredBoards | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        self.stored = StoredBoards(dbmod.get_engine(self.db_url))

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        fields = fields_of(item)
        adapter["raw_hash"] = digest = raw_hash(fields)
        if self.stored is None or not (fields.get("ats") and fields.get("board") and fields.get("source_id")):
            return item
        row = self.stored.row(fields["ats"], fields["board"], str(fields["source_id"]))
        if fields.get("listing_unchanged"):
            # The spider skipped the detail because the listing entry is as stored: the stored row is the posting.
            if row is None:
                raise DropItem(
                    f"listed unchanged but not stored: {fields['ats']}/{fields['board']}/{fields['source_id']}"
                )
            digest = adapter["raw_hash"] = row["raw_hash"]
        if row is None or row["raw_hash"] != digest:
            return item
        for name in REUSED_FIELDS:
            value = row[name]
            adapter[name] = value.isoformat() if isinstance(value, date) else value
        adapter.pop("description_raw", None)
        adapter["unchanged_id"] = row["id"]
        self.stats.inc_value("jobagg/reuse/unchanged")
        return item
