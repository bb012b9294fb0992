"""Streaming exports (JSONL, CSV, Parquet) of postings with both tags, filtered like the API."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import Boolean, Date, Float, Integer
from sqlalchemy.types import JSON

from crawler import db as dbmod
from crawler.items import CONTRACT_FIELDS
from crawler.models.base import UTCDateTime
from crawler.web.query import GC, H1B, Filters, P, conditions, joined

EXPORT_EXTRA = ("first_seen_at", "last_seen_at", "closed_at")
TAG_COLUMNS = (
    GC.c.tag.label("green_card_tag"),
    GC.c.reason.label("green_card_reason"),
    H1B.c.tag.label("h1b_tag"),
    H1B.c.reason.label("h1b_reason"),
)
FIELDS = (*CONTRACT_FIELDS, *EXPORT_EXTRA, *(c.name for c in TAG_COLUMNS))
# Rows fetched from the database at a time, and rows per Parquet row group: memory stays flat whatever the total.
BATCH = 2000


def _columns() -> list[Any]:
    return [P.c.id.label("posting_id"), *(P.c[name] for name in (*CONTRACT_FIELDS, *EXPORT_EXTRA)), *TAG_COLUMNS]


def iter_rows(db_url: str, f: Filters, include_closed: bool = False) -> Iterator[dict[str, Any]]:
    """Postings as dicts (item field names + tags), streamed with a server-side cursor in id order."""
    engine = dbmod.get_engine(db_url)
    query = joined(_columns()).where(*conditions(f, include_closed=include_closed)).order_by(P.c.id)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
        for row in result:
            yield dict(row._mapping)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def write_jsonl(rows: Iterator[dict[str, Any]], handle: IO[str]) -> int:
    n = 0
    for row in rows:
        handle.write(json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(rows: Iterator[dict[str, Any]], handle: IO[str]) -> int:
    writer = csv.DictWriter(handle, fieldnames=["posting_id", *FIELDS])
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else _plain(v) for k, v in row.items()})
        n += 1
    return n


def arrow_schema() -> Any:
    import pyarrow as pa

    def arrow_type(col: Any) -> Any:
        t = col.type
        if isinstance(t, UTCDateTime):
            return pa.timestamp("us", tz="UTC")
        if isinstance(t, Boolean):
            return pa.bool_()
        if isinstance(t, Date):
            return pa.date32()
        if isinstance(t, Float):
            return pa.float64()
        if isinstance(t, Integer):
            return pa.int64()
        if isinstance(t, JSON):
            return pa.list_(pa.string())
        return pa.string()

    return pa.schema([pa.field(c.name, arrow_type(c)) for c in _columns()])


def write_parquet(rows: Iterator[dict[str, Any]], path: str) -> int:
    """Parquet in row groups of BATCH rows, so only one batch is ever held in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema()
    n = 0
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
                n += len(batch)
                batch = []
        if batch or n == 0:
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
            n += len(batch)
    return n
