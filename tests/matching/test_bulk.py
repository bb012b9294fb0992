"""Bulk writes: rows made ahead in COPY's text format come back from PostgreSQL exactly as given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.models import DolEntity
from matching.bulk import prepare_insert, run_insert

AWKWARD = [
    "BACK\\SLASH LLC",
    "TAB\tINSIDE INC",
    "TWO\nLINES CORP",
    "CARRIAGE\rRETURN LLC",
    "NO-BREAK\u00a0SPACE INC",
    "CAFÉ ÜBER GMBH",
    "\\N",  # the text COPY reads as NULL, here a real name
    "",
]


def _rows(stamp: datetime) -> list[dict[str, Any]]:
    rows = []
    for i, name in enumerate(AWKWARD, start=1):
        rows.append(
            {
                "id": 900_000 + i,
                "key": f"name:{i}:{name}",
                "name": name,
                "fein": None if i % 2 else f"{i:09d}",
                "state": None if i % 3 else "CA",
                "is_staffing": bool(i % 2),
                "perm_cases": i,
                "lca_cases": 0,
                "uscis_rows": i * 1000,
                "sample_cases": None if i == 3 else {"lca": [f"I-200-{i}", name], "note": "a\\b\tc\nd"},
                "built_at": stamp,
            }
        )
    return rows


def test_copy_text_round_trips_awkward_values(session: Session) -> None:
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return  # the COPY text is PostgreSQL's; SQLite binds values (the same rows are written there too)
    stamp = datetime(2026, 11, 30, 9, 6, 29, 172215, tzinfo=UTC)
    rows = _rows(stamp)
    prepared = prepare_insert(conn, DolEntity.__table__, rows)
    assert prepared.copy_text is not None  # the prepared text is what goes in, not psycopg's own rows
    assert run_insert(conn, prepared) == len(rows)
    got = {e.id: e for e in session.scalars(select(DolEntity).where(DolEntity.id > 900_000))}
    assert len(got) == len(rows)
    for row in rows:
        e = got[row["id"]]
        assert {k: getattr(e, k) for k in row} == row


def test_a_column_of_mixed_types_is_sent_by_the_driver(session: Session) -> None:
    conn = session.connection()
    rows = _rows(datetime(2026, 1, 1, tzinfo=UTC))
    rows[0]["state"] = 12  # an int among strings: not a column the text path knows
    prepared = prepare_insert(conn, DolEntity.__table__, rows)
    if conn.dialect.name == "postgresql":
        assert prepared.copy_text is None
    assert run_insert(conn, prepared) == len(rows)
    stored = session.execute(
        select(DolEntity.name, DolEntity.state).where(DolEntity.id > 900_000).order_by(DolEntity.id)
    )
    assert [tuple(r) for r in stored] == [(r["name"], None if r["state"] is None else str(r["state"])) for r in rows]
