"""ReuseUnchangedPipeline: a posting the spider sends exactly as last time gets its stored values back.

Most postings are unchanged from one daily crawl to the next; normalising and reading them again would
produce what is already stored. This pipeline hashes the item as the spider sent it, and when the hash equals
the stored one it fills the item from the stored row and marks it (`unchanged_id`), so the normalise and
read-the-ad pipelines pass it through and storage only refreshes its last-seen time. Exports still carry
every field.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from datetime import date, datetime
from typing import Any, Self

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy import Engine, select

from crawler import db as dbmod
from crawler.items import CONTRACT_FIELDS, INTERNAL_FIELDS, JobPostingItem, as_mapping, fields_of
from crawler.models import Posting
from pipelines import READ_VERSION

# Stored rows kept in memory (about 7 kB each, mostly ad text): a budget in rows, not boards, so the many small
# boards whose detail items interleave (Workday, SmartRecruiters) stay loaded while one huge board still fits.
ROWS_IN_MEMORY = 20_000
REUSED_FIELDS = tuple(f for f in CONTRACT_FIELDS if f not in ("ats", "board", "source_id"))
_NOT_HASHED = frozenset(INTERNAL_FIELDS)
# Items carry dates as ISO text; the stored columns holding dates, found once from the schema.
_DATE_FIELDS = tuple(name for name in REUSED_FIELDS if Posting.__table__.c[name].type.python_type in (date, datetime))
_COLUMNS = [Posting.__table__.c[name] for name in ("id", "source_id", "raw_hash", *REUSED_FIELDS)]


def raw_hash(fields: dict[str, Any]) -> str:
    """Hash of the fields as sent: each named and length-prefixed, so no two different items can run together.

    Strings (the ad's HTML above all) go in as they are; only other values pass through JSON, whose escaping of
    a long ad cost more than the rest of an unchanged item's reuse.
    """
    parts = [f"raw/{READ_VERSION}\n"]
    for name in sorted(fields):
        value = fields[name]
        if value is None or name in _NOT_HASHED:
            continue
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        parts.append(f"{name}\0{'s' if text is value else 'j'}{len(text)}\0{text}")
    return hashlib.sha1("".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _cost(rows: dict[str, dict[str, Any]]) -> int:
    return max(len(rows), 1)  # an empty board still takes a place


class StoredBoards:
    """The stored rows of recently seen boards, loaded with one query per board."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.boards: OrderedDict[tuple[str, str], dict[str, dict[str, Any]]] = OrderedDict()
        self.rows = 0  # what the kept boards cost against ROWS_IN_MEMORY

    def cached(self, key: tuple[str, str]) -> dict[str, dict[str, Any]] | None:
        rows = self.boards.get(key)
        if rows is not None:
            self.boards.move_to_end(key)
        return rows

    def fetch(self, key: tuple[str, str]) -> dict[str, dict[str, Any]]:
        """Blocking: a board's stored rows by source id (safe in a worker thread; touches no shared state)."""
        query = select(*_COLUMNS).where(Posting.ats == key[0], Posting.board == key[1])
        with self.engine.connect() as conn:
            rows = {r.source_id: r._asdict() for r in conn.execute(query)}
        for row in rows.values():  # off the reactor, once per board load
            for name in _DATE_FIELDS:
                if row[name] is not None:
                    row[name] = row[name].isoformat()
        return rows

    def keep(self, key: tuple[str, str], rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        replaced = self.boards.pop(key, None)
        if replaced is not None:
            self.rows -= _cost(replaced)
        self.boards[key] = rows
        self.rows += _cost(rows)
        while self.rows > ROWS_IN_MEMORY and len(self.boards) > 1:  # the newest board stays, however big
            self.rows -= _cost(self.boards.popitem(last=False)[1])
        return rows


class ReuseUnchangedPipeline:
    """Loads each board's stored rows once, in a worker thread (JOBAGG_DB_IN_THREAD, default on).

    The load starts when the board's request reaches the downloader, so it runs while the listing downloads.
    Stats: ``jobagg/reuse/unchanged`` (items reused), ``jobagg/reuse/board_loads`` (more than the boards crawled
    means boards were evicted and loaded again), ``jobagg/reuse/prefetched`` (loads started by a request).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.db_url = crawler.settings.get("JOBAGG_DATABASE_URL")
        self.in_thread = crawler.settings.getbool("JOBAGG_DB_IN_THREAD", True)
        self.stored: StoredBoards | None = None
        # Items of a board not loaded yet arrive many at once: they all wait for one load.
        self._loading: dict[tuple[str, str], asyncio.Future[dict[str, dict[str, Any]]]] = {}
        self._prefetched: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler)
        if pipeline.in_thread:
            crawler.signals.connect(pipeline.prefetch, signal=signals.request_reached_downloader)
        return pipeline

    def open_spider(self) -> None:
        # On the reactor thread, once, before any response: the process-wide engine cache is not thread-safe.
        self.stored = StoredBoards(dbmod.get_engine(self.db_url))

    def prefetch(self, request: Request, spider: Spider) -> None:
        """Start loading a board's stored rows while its request downloads, so its items need not wait for them."""
        token = getattr(request.cb_kwargs.get("board"), "token", None)
        key = (spider.name, token)
        # A board's first request only: its detail requests must not reload a board that other boards' loads
        # pushed out of memory (each would read all its rows again); its items do that when they need it.
        if self.stored is None or not isinstance(token, str) or key in self._prefetched:
            return
        self._prefetched.add(key)
        if self.stored.cached(key) is None and key not in self._loading:
            self.stats.inc_value("jobagg/reuse/prefetched")
            self._load(key)

    def _load(self, key: tuple[str, str]) -> asyncio.Future[dict[str, dict[str, Any]]]:
        """The board's load in a worker thread: the one already running, or a new one."""
        assert self.stored is not None
        loading = self._loading.get(key)
        if loading is None:
            self.stats.inc_value("jobagg/reuse/board_loads")
            loading = self._loading[key] = asyncio.ensure_future(asyncio.to_thread(self.stored.fetch, key))
            loading.add_done_callback(lambda done: self._loaded(key, done))
        return loading

    def _loaded(self, key: tuple[str, str], done: asyncio.Future[dict[str, dict[str, Any]]]) -> None:
        self._loading.pop(key, None)
        # A failed load is not kept: the board's first item loads it again and meets the error itself.
        if not done.cancelled() and done.exception() is None and self.stored is not None:
            self.stored.keep(key, done.result())

    async def _board_rows(self, key: tuple[str, str]) -> dict[str, dict[str, Any]]:
        assert self.stored is not None
        rows = self.stored.cached(key)
        if rows is not None:
            return rows
        if not self.in_thread:
            self.stats.inc_value("jobagg/reuse/board_loads")
            return self.stored.keep(key, self.stored.fetch(key))
        # shield: one waiter being cancelled must not cancel the load the others wait for.
        rows = await asyncio.shield(self._load(key))
        return self.stored.cached(key) or self.stored.keep(key, rows)

    async def process_item(self, item: Any) -> Any:
        adapter = as_mapping(item)
        fields = fields_of(item)
        adapter["raw_hash"] = digest = raw_hash(fields)
        if self.stored is None or not (fields.get("ats") and fields.get("board") and fields.get("source_id")):
            return item
        rows = await self._board_rows((fields["ats"], fields["board"]))
        row = rows.get(str(fields["source_id"]))
        if fields.get("listing_unchanged"):
            # The spider skipped the detail because the listing entry is as stored: the stored row is the posting.
            if row is None:
                raise DropItem(
                    f"listed unchanged but not stored: {fields['ats']}/{fields['board']}/{fields['source_id']}"
                )
            digest = adapter["raw_hash"] = row["raw_hash"]
        if row is None or row["raw_hash"] != digest:
            return item
        values = {name: row[name] for name in REUSED_FIELDS}
        # The stored reading replaces it; the raw HTML is never stored or exported.
        values.update(description_raw=None, unchanged_id=row["id"])
        if isinstance(item, JobPostingItem):
            item.__dict__.update(values)  # every key is a field of ours: no per-field check needed
        else:
            for name, value in values.items():
                adapter[name] = value
        self.stats.inc_value("jobagg/reuse/unchanged")
        return item
