"""`jobagg export`: the tags, the API's filters, three formats, streamed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from crawler import db as dbmod
from crawler.web.query import Filters, listing_query
from tests.crawling import jobagg


def _api_ids(db_url: str, f: Filters) -> set[int]:
    with dbmod.get_engine(db_url).connect() as conn:
        return {r.posting_id for r in conn.execute(listing_query(f, limit=100_000))}


def test_jsonl_export_has_tags_and_the_api_filters(demo_db: str) -> None:
    out = jobagg("--db", demo_db, "export", "--visa", "green_card", "--tag", "likely", "--ml", "true")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows and all(r["green_card_tag"] == "likely" and r["is_ml"] is True for r in rows)
    assert all(r["green_card_reason"] and r["h1b_tag"] for r in rows)
    assert {r["posting_id"] for r in rows} == _api_ids(demo_db, Filters(visa="green_card", tag="likely", ml=True))


def test_csv_export_filters_by_seniority_and_place(demo_sqlite: str, tmp_path: Path) -> None:
    target = tmp_path / "senior.csv"
    out = jobagg("--db", demo_sqlite, "export", "--format", "csv", "--seniority", "senior", "--country", "us",
                 "--out", str(target))  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows and all(r["seniority"] == "senior" and r["country"] == "US" for r in rows)
    assert {"green_card_tag", "green_card_reason", "h1b_tag", "h1b_reason"} <= set(rows[0])
    assert {int(r["posting_id"]) for r in rows} == _api_ids(demo_sqlite, Filters(seniority="senior", country="US"))


def test_bad_filter_is_one_clear_error(demo_sqlite: str) -> None:
    out = jobagg("--db", demo_sqlite, "export", "--posted-since", "yesterday")
    assert out.returncode != 0
    assert "--posted-since" in out.stderr and "ISO date" in out.stderr


def test_parquet_export_in_row_groups(demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the parquet extra) is not installed")
    from crawler.web import export

    # Small batches: the writer must emit one row group per batch rather than hold every row.
    monkeypatch.setattr(export, "BATCH", 5)
    target = tmp_path / "all.parquet"
    count = export.write_parquet(export.iter_rows(demo_db, Filters()), str(target))
    table = pq.read_table(target)
    assert table.num_rows == count == len(_api_ids(demo_db, Filters()))
    assert pq.ParquetFile(target).num_row_groups == -(-count // 5)
    rows = table.to_pylist()
    assert {"green_card_tag", "h1b_reason", "locations", "posted_at"} <= set(rows[0])
    assert any(r["green_card_tag"] == "likely" for r in rows)


def test_parquet_export_from_the_command_line(demo_sqlite: str, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the parquet extra) is not installed")
    target = tmp_path / "gc.parquet"
    out = jobagg("--db", demo_sqlite, "export", "--format", "parquet", "--visa", "green_card", "--out", str(target))
    assert out.returncode == 0, out.stderr
    tags = pq.read_table(target).column("green_card_tag").to_pylist()
    assert tags and set(tags) <= {"likely", "possible"}
