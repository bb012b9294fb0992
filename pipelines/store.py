"""StorePostingsPipeline: batched upsert into the database; a re-crawl refreshes rows and never duplicates them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import date, datetime
from typing import Any, Self

from scrapy.crawler import Crawler
from sqlalchemy import Engine, String, case, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crawler import db as dbmod
from crawler.extensions import CrawlRunRecorder
from crawler.items import as_mapping, fields_of
from crawler.models import Posting, get_or_create_board, get_or_create_employer, utcnow

logger = logging.getLogger(__name__)

# Columns a re-crawl may change; identity and first_seen_at never change.
CONTENT_COLUMNS = (
    "url", "apply_url", "title", "employer_name", "department", "requisition_id", "locations", "city", "region",
    "country", "remote", "employment_type", "posted_at", "posted_at_raw", "salary_min", "salary_max",
    "salary_currency", "salary_period", "salary_raw", "description_text", "description_html",
)  # fmt: skip
DERIVED_COLUMNS = (
    "is_ml", "role_family", "seniority", "degree_min", "eb_category_hint", "years_experience_min",
    "sponsorship_statement", "sponsorship_sentence",
)  # fmt: skip
UPDATE_COLUMNS = (
    *CONTENT_COLUMNS,
    *DERIVED_COLUMNS,
    "extra",
    "fingerprint",
    "content_hash",
    "raw_hash",
    "board_id",
    "employer_id",
)


def _json_default(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def content_hash(fields: dict[str, Any]) -> str:
    """Stable hash of what a reader sees; a change in it is a change of the posting."""
    payload = {name: fields.get(name) for name in CONTENT_COLUMNS}
    return hashlib.sha1(json.dumps(payload, sort_keys=True, default=_json_default).encode()).hexdigest()


def fingerprint(fields: dict[str, Any]) -> str:
    """Same employer, title and primary city: the same job, whichever board or id it came from."""
    key = "|".join(str(fields.get(n) or "").casefold().strip() for n in ("employer_name", "title", "city"))
    return hashlib.sha1(key.encode()).hexdigest()


# Text columns and their lengths (None: unbounded). A value of the wrong type or length must not fail the batch:
# PostgreSQL refuses an over-long VARCHAR and a NUL character, SQLite a dict parameter.
_TEXT_COLUMNS: dict[str, int | None] = {
    c.name: c.type.length for c in Posting.__table__.columns if isinstance(c.type, String)
}
_IDENTITY = ("ats", "board", "source_id")


def _fit_text(name: str, value: Any, limit: int | None) -> str:
    if not isinstance(value, str):
        value = json.dumps(value, default=str) if isinstance(value, list | dict) else str(value)
    value = value.replace("\x00", "")
    if limit is None or len(value) <= limit:
        return value
    if name in _IDENTITY:
        # Identity must stay unique: keep a readable head and a hash of the whole.
        return value[: limit - 41] + "#" + hashlib.sha1(value.encode()).hexdigest()
    return value[:limit]


def row_from_item(fields: dict[str, Any]) -> dict[str, Any]:
    row = {name: fields.get(name) for name in (*CONTENT_COLUMNS, *DERIVED_COLUMNS)}
    row.update(ats=fields["ats"], board=fields["board"], source_id=str(fields["source_id"]))
    if isinstance(row["posted_at"], str):
        row["posted_at"] = date.fromisoformat(row["posted_at"])
    for name, limit in _TEXT_COLUMNS.items():
        if name in row and row[name] is not None:
            row[name] = _fit_text(name, row[name], limit)
    row["extra"] = fields.get("extra") or None
    row["raw_hash"] = fields.get("raw_hash")
    row["content_hash"] = content_hash(row)
    row["fingerprint"] = fingerprint(row)
    return row


class PostingWriter:
    """Upserts batches of posting rows; shared by the pipeline and anything else that stores postings."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.employer_ids: dict[str, int] = {}
        self.board_ids: dict[tuple[str, str], int] = {}
        self.statement = self._upsert_statement()

    def _employer_id(self, session: Session, name: str | None) -> int | None:
        if not name:
            return None
        if name not in self.employer_ids:
            self.employer_ids[name] = get_or_create_employer(session, name).id
        return self.employer_ids[name]

    def _board_id(self, session: Session, ats: str, token: str, employer_id: int | None) -> int:
        key = (ats, token)
        if key not in self.board_ids:
            self.board_ids[key] = get_or_create_board(session, ats, token, employer_id).id
        return self.board_ids[key]

    def _upsert_statement(self) -> Any:
        """Built once per writer so SQLAlchemy's compiled-statement cache hits on every batch."""
        table = Posting.__table__
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        ins = insert(table)
        changed = table.c.content_hash != ins.excluded.content_hash
        return ins.on_conflict_do_update(
            index_elements=["ats", "board", "source_id"],
            set_={
                **{name: ins.excluded[name] for name in UPDATE_COLUMNS},
                "changed_at": case((changed, ins.excluded.last_seen_at), else_=table.c.changed_at),
                "last_seen_at": ins.excluded.last_seen_at,
                "last_run_id": ins.excluded.last_run_id,
                "closed_at": None,
            },
        )

    def write(self, rows: list[dict[str, Any]], run_id: int | None = None, unchanged_ids: list[int] = ()) -> None:
        """Upsert `rows`; for postings seen again unchanged only refresh last-seen (one UPDATE per chunk)."""
        if not rows and not unchanged_ids:
            return
        now = utcnow()
        with dbmod.session_scope(self.engine) as session:
            for start in range(0, len(unchanged_ids), 500):
                session.connection().execute(
                    update(Posting.__table__)
                    .where(Posting.__table__.c.id.in_(unchanged_ids[start : start + 500]))
                    .values(last_seen_at=now, last_run_id=run_id, closed_at=None)
                )
            if not rows:
                return
            for row in rows:
                row["employer_id"] = self._employer_id(session, row.get("employer_name"))
                row["board_id"] = self._board_id(session, row["ats"], row["board"], row["employer_id"])
                row.update(first_seen_at=now, last_seen_at=now, changed_at=now, closed_at=None, last_run_id=run_id)
            # Core, not ORM bulk: one multi-row INSERT .. ON CONFLICT per batch instead of a statement per row.
            session.connection().execute(self.statement, rows)

    def forget_cache(self) -> None:
        # Ids are only valid for the database state they were read from; a failed batch may have rolled back.
        self.employer_ids.clear()
        self.board_ids.clear()


class StorePostingsPipeline:
    """The last pipeline: buffers items and upserts them in batches of JOBAGG_STORE_BATCH_SIZE.

    A batch is written in a worker thread (JOBAGG_DB_IN_THREAD, default on), one batch at a time and in order,
    while the reactor goes on reading responses and filling the next batch. A failed batch is counted in
    `jobagg/store/errors`, which makes the run `failed` and stops it from closing any posting.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.batch_size = crawler.settings.getint("JOBAGG_STORE_BATCH_SIZE", 500)
        self.db_url = crawler.settings.get("JOBAGG_DATABASE_URL")
        self.in_thread = crawler.settings.getbool("JOBAGG_DB_IN_THREAD", True)
        self.buffer: list[dict[str, Any]] = []
        self.unchanged: list[int] = []
        self.writer: PostingWriter | None = None
        self.recorder: CrawlRunRecorder | None = None
        # One writer at a time, in the order batches filled (asyncio.Lock wakes waiters first in, first out).
        self._write_lock = asyncio.Lock()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        self.recorder = self.crawler.get_extension(CrawlRunRecorder)
        # On the reactor thread, once, before any response: the process-wide engine cache is not thread-safe.
        self.writer = PostingWriter(dbmod.get_engine(self.db_url))

    async def process_item(self, item: Any) -> Any:
        unchanged_id = as_mapping(item).get("unchanged_id")
        if unchanged_id:
            self.unchanged.append(unchanged_id)
        else:
            self.buffer.append(row_from_item(fields_of(item)))
        if len(self.buffer) + len(self.unchanged) >= self.batch_size:
            await self.flush()
        return item

    async def close_spider(self) -> None:
        await self.flush()

    async def flush(self) -> None:
        """Write what is buffered; returns once that batch (and every batch before it) is written or failed."""
        rows, self.buffer = self.buffer, []
        unchanged, self.unchanged = self.unchanged, []
        if not (rows or unchanged) or self.writer is None:
            return
        async with self._write_lock:
            if self.in_thread:
                error = await asyncio.to_thread(self._write, rows, unchanged)
            else:
                error = self._write(rows, unchanged)
            lost = len(rows) + len(unchanged) if error is not None else 0
            if error is not None and lost > 1 and self.recorder and self.recorder.run_id:
                # The batch rolled back whole: store its postings one by one, so only the bad one(s) are lost.
                self.stats.inc_value("jobagg/store/retried_one_by_one", lost)
                if self.in_thread:
                    lost, error = await asyncio.to_thread(self._write_one_by_one, rows, unchanged)
                else:
                    lost, error = self._write_one_by_one(rows, unchanged)
        # Stats are only touched here, on the reactor thread.
        if error is not None:
            self.stats.inc_value("jobagg/store/errors")
            self.stats.inc_value("jobagg/store/lost", lost)
            logger.error("storing %d of %d postings failed; they were not written", lost,
                         len(rows) + len(unchanged), exc_info=error)  # fmt: skip
            if lost == len(rows) + len(unchanged):
                return
        if lost:
            self.stats.inc_value("jobagg/store/written", len(rows) + len(unchanged) - lost)
            return
        self.stats.inc_value("jobagg/store/written", len(rows))
        self.stats.inc_value("jobagg/store/unchanged", len(unchanged))

    def _write(self, rows: list[dict[str, Any]], unchanged: list[int]) -> BaseException | None:
        """Blocking: one batch in one transaction; the error, if it failed (everything of it rolled back)."""
        assert self.writer is not None
        try:
            run_id = self.recorder.ensure_run() if self.recorder else None
            self.writer.write(rows, run_id, unchanged)
        except Exception as exc:
            self.writer.forget_cache()
            return exc
        return None

    def _write_one_by_one(self, rows: list[dict[str, Any]], unchanged: list[int]) -> tuple[int, BaseException | None]:
        """Blocking: after a batch failed, each posting in its own transaction, so one bad row costs only itself.

        Returns how many failed and the first error."""
        assert self.writer is not None
        failed, first = 0, None
        run_id = self.recorder.run_id if self.recorder else None
        for row, ids in [*((r, []) for r in rows), *(([], [i]) for i in unchanged)]:
            try:
                self.writer.write([row] if row else [], run_id, ids)
            except Exception as exc:
                self.writer.forget_cache()
                failed += 1
                first = first or exc
        return failed, first
