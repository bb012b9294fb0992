"""The libpq shortcut a quick command uses instead of importing psycopg: text values, NULL as None, failures as None."""

from __future__ import annotations

import pytest

from crawler import libpq
from crawler.dburl import libpq_uri


@pytest.fixture
def uri(pg_url: str) -> str:
    found = libpq_uri(pg_url)
    assert found is not None
    return found


def test_text_values_and_nulls_as_psycopg_would_read_them(uri: str) -> None:
    with libpq.connect(uri) as conn:  # type: ignore[union-attr]
        assert conn.query("SELECT 1, 'x', NULL, CAST(2.5 AS numeric) UNION ALL SELECT 3, 'y', 'z', 4") == [
            ("1", "x", None, "2.5"),
            ("3", "y", "z", "4"),
        ]
        assert conn.query("SELECT current_schema()") == [(uri.rsplit("%3D", 1)[1],)]  # the URL's search_path
        assert conn.server() == ("127.0.0.1", "5432", "test")
        # Sent, then collected: the caller works meanwhile.
        assert conn.send("SELECT count(*) FROM generate_series(1, 1000)")
        assert conn.rows() == [("1000",)]


def test_a_failed_query_or_connection_is_none(uri: str) -> None:
    with libpq.connect(uri) as conn:  # type: ignore[union-attr]
        assert conn.query("SELECT * FROM no_such_table") is None
        assert conn.query("SELECT 1") == [("1",)]  # the connection is still usable
        conn.close()
        assert conn.query("SELECT 1") is None
    assert libpq.connect("postgresql://nobody@127.0.0.1:1/x", timeout=2) is None  # nothing listens
    assert libpq.connect(uri.replace("/test?", "/no_such_database_here?")) is None
