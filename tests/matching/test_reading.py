"""Reading case files: the fast row splitter against csv.reader, and the reader process against reading in-process."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.ingest import ingest_paths
from matching.readers import csv_rows
from matching.reading import CaseReader
from tests.matching.test_idempotent import snapshot

# Every character csv treats specially, and the pairs it reads as one, with ordinary text.
PIECES = [",", '"', '""', "\n", "\r", "\r\n", "\t", "\0", " ", "a", "é", "\\"]


def pieces(max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(PIECES), max_size=max_size).map("".join)


CELL = pieces(6)


def rows_both_ways(text: str, delimiter: str) -> tuple[object, object]:
    def read(reader: object) -> object:
        try:
            return list(reader)  # type: ignore[call-overload]
        except csv.Error as exc:
            return ("error", str(exc))

    return (
        read(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)),
        read(csv_rows(io.StringIO(text, newline=""), delimiter)),
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(CELL, max_size=5), min_size=1, max_size=4), st.sampled_from([",", "\t"]), st.booleans())
def test_fast_rows_are_csv_readers_rows_for_written_files(rows: list[list[str]], delimiter: str, crlf: bool) -> None:
    out = io.StringIO(newline="")
    try:
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    except csv.Error:
        return  # a row csv cannot write (a NUL with nowhere to escape it)
    expected, got = rows_both_ways(out.getvalue(), delimiter)
    assert got == expected


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from([",", '"', "a", "\n", "\r"]), max_size=24).map("".join), st.just(","))
def test_fast_rows_are_csv_readers_rows_for_any_text(text: str, delimiter: str) -> None:
    expected, got = rows_both_ways(text, delimiter)
    assert got == expected


def test_reading_in_process_stores_what_the_reader_process_stores(
    all_fixture_files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = f"sqlite:///{tmp_path / 'forked.db'}"
    ingest_paths(forked, all_fixture_files, progress=False)
    # Where processes cannot be forked, the loader reads the files itself.
    monkeypatch.setattr(CaseReader, "fork", classmethod(lambda cls: None))
    alone = f"sqlite:///{tmp_path / 'alone.db'}"
    ingest_paths(alone, all_fixture_files, progress=False)
    assert stored(alone) == stored(forked)
    assert stored(alone)["dol_cases"]


def stored(db_url: str) -> dict[str, dict[int, dict[str, object]]]:
    """Every stored value but the build's time stamps, which differ between two loads."""
    return {
        table: {i: {c: v for c, v in row.items() if c != "built_at"} for i, row in rows.items()}
        for table, rows in snapshot(db_url).items()
    }
