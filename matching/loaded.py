"""What a load reports per file, and files loaded before, recognised by content hash through the database driver
alone: re-running an ingest over files it has already loaded then costs little more than hashing them."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.dburl import plain_sqlite_file, script_head

if TYPE_CHECKING:
    from matching.entities import Pending


@dataclass
class FileSummary:
    path: str
    layout: str
    kind: str
    rows: int = 0
    blank_rows: int = 0
    inserted: int = 0
    replaced: int = 0  # stored rows updated in place with a later or changed version
    kept_existing: int = 0
    unchanged: int = 0  # already stored with the same values: left as is
    duplicates_in_file: int = 0
    skipped: int = 0  # rows without a case number / employer (or fiscal year): unusable
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    already_loaded: bool = False  # same content hash as a file loaded before: not read again
    sha256: str = ""
    # Its new cases, left in the stage table for the entity build to insert.
    staged: Pending | None = field(default=None, repr=False)


def loaded_before(db_url: str, files: list[tuple[Path, str]]) -> list[FileSummary] | None:
    """The summaries of `files` ((path, SHA-256) pairs) when every one was loaded before, as the loader reports
    them; None when any was not, or when this cannot tell (a database at another schema, an unusual URL, any
    error): the caller then takes the usual path, which also reports any problem."""
    head = script_head()
    if head is None:
        return None
    if db_url.startswith("postgresql+psycopg://"):
        import psycopg

        # The same URL as libpq reads it: user, password, host, database and options (search_path) alike.
        uri = "postgresql://" + db_url.removeprefix("postgresql+psycopg://")
        try:
            with psycopg.connect(uri, connect_timeout=10) as conn:
                return _summaries(conn, "%s", head, files)
        except (psycopg.Error, ValueError):
            return None
    db = plain_sqlite_file(db_url)
    if db is None or not db.is_file():
        return None
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return _summaries(conn, "?", head, files)
    except sqlite3.Error:
        return None


def _summaries(conn: Any, mark: str, head: str, files: list[tuple[Path, str]]) -> list[FileSummary] | None:
    if [r[0] for r in conn.execute("SELECT version_num FROM alembic_version").fetchall()] != [head]:
        return None
    out = []
    for path, sha in files:
        started = time.perf_counter()
        summary = summary_if_loaded(conn, mark, path, sha)
        if summary is None:
            return None
        summary.seconds = round(time.perf_counter() - started, 2)
        out.append(summary)
    return out


def summary_if_loaded(conn: Any, mark: str, path: Path, sha: str) -> FileSummary | None:
    """The summary of a file whose exact content was loaded before, or None; `conn` is a driver connection
    (sqlite3 or psycopg) and `mark` its parameter marker."""
    row = conn.execute(f"SELECT name, kind, layout FROM dol_files WHERE sha256 = {mark}", (sha,)).fetchone()
    if row is None:
        return None
    name, kind, layout = row
    # What is still stored as loaded from that file: later releases may since have replaced some of its cases.
    table = "uscis_employer_years" if kind == "uscis" else "dol_cases"
    (unchanged,) = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE source_file = {mark}", (name,)).fetchone()
    return FileSummary(str(path), layout, kind, unchanged=unchanged or 0, already_loaded=True)
