"""What a load reports per file, and files loaded before, recognised by content hash through the database driver
alone: re-running an ingest over files it has already loaded then costs little more than hashing them."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.dburl import libpq_uri, plain_sqlite_file, script_head

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

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
    # Loaded before, but entities were built now: the run that loaded it stopped at a later file's failure.
    finished_earlier_run: bool = False
    # Loaded before, but its entities were made by an older version of the build: rebuilt now.
    rebuilt_for_version: bool = False
    # Entities were rebuilt, but a `jobagg run` held the join: it (or the next run) re-tags the postings.
    retag_deferred: bool = False
    sha256: str = ""
    # Its new cases, left in the stage table for the entity build to insert.
    staged: Pending | None = field(default=None, repr=False)


def loaded_before(db_url: str, files: list[tuple[Path, str]]) -> list[FileSummary] | None:
    """The summaries of `files` ((path, SHA-256) pairs) when every one was loaded before, as the loader reports
    them; None when any was not, or when this cannot tell (a database at another schema, an unusual URL, any
    error): the caller then takes the usual path, which also reports any problem."""
    head = script_head()
    if head is None or not all(_SHA.fullmatch(sha) for _, sha in files):
        return None
    uri = libpq_uri(db_url)
    if uri is not None:
        return _loaded_postgresql(uri, head, files)
    db = plain_sqlite_file(db_url)
    if db is None or not db.is_file():
        return None
    try:
        with sqlite3.connect(db, timeout=30) as conn:

            def query(sql: str, sha: str | None) -> list[Any]:
                return conn.execute(sql.format(sha="?"), (sha,) if sha else ()).fetchall()

            return _summaries(query, head, files)
    except sqlite3.Error:
        return None


def _loaded_postgresql(uri: str, head: str, files: list[tuple[Path, str]]) -> list[FileSummary] | None:
    from crawler import libpq

    quick = libpq.connect(uri)
    if quick is not None:
        with quick:

            def text_query(sql: str, sha: str | None) -> list[Any]:
                # Text queries only: a hash is hex digits (checked above), so it is written into the query.
                return quick.query(sql.format(sha=f"'{sha}'")) or []

            return _summaries(text_query, head, files)
    import psycopg

    try:
        with psycopg.connect(uri, connect_timeout=10) as conn:

            def query(sql: str, sha: str | None) -> list[Any]:
                return conn.execute(sql.format(sha="%s"), (sha,) if sha else ()).fetchall()  # type: ignore[arg-type]

            return _summaries(query, head, files)
    except (psycopg.Error, ValueError):
        return None


_SHA = re.compile("[0-9a-f]{64}")
# A loaded file by its hash, with what is still stored as loaded from it: later releases may since have replaced
# some of its cases.
LOADED_SQL = (
    "SELECT f.kind, f.layout, CASE WHEN f.kind = 'uscis' THEN (SELECT COUNT(*) FROM uscis_employer_years u "
    "WHERE u.source_file = f.name) ELSE (SELECT COUNT(*) FROM dol_cases c WHERE c.source_file = f.name) END "
    "FROM dol_files f WHERE f.sha256 = {sha}"
)


# A case without an entity: left by a run whose later file failed before the entity build.
UNLINKED_SQL = "SELECT 1 FROM dol_cases WHERE entity_id IS NULL LIMIT 1"
# The entity build's version, raised whenever it groups filings into entities differently: rows of an older build
# are rebuilt by the next `jobagg dol ingest`, `jobagg match` or `jobagg run`, without reading the files again.
# 2: Tax ID slips folded, hub petitions counted as filings, hub d/b/a names filed as trade names. 3: one
# employer's spellings under one Tax ID are one entity; a hub row's state weighs by its petitions; "DOING
# BUSINESS AS" and a d/b/a marker written twice read as one marker.
BUILD_VERSION = 3
# An entity an older build made (or one from before versions were kept).
STALE_SQL = f"SELECT 1 FROM dol_entities WHERE build_version IS NULL OR build_version < {BUILD_VERSION} LIMIT 1"


def entities_stale(conn: Connection | Session) -> bool:
    """Whether stored entities were made by an older build (their filings are grouped as it grouped them)."""
    from sqlalchemy import text

    return conn.execute(text(STALE_SQL)).first() is not None


def _summaries(query: Callable[[str, str | None], list[Any]], head: str, files: list[tuple[Path, str]]) -> Any:
    """The files' summaries when the schema is at `head` and each was loaded before, else None; `query(sql, sha)`
    runs `sql` with its `{sha}` (if any) standing for `sha`."""
    if [r[0] for r in query("SELECT version_num FROM alembic_version", None)] != [head]:
        return None
    if query(UNLINKED_SQL, None):
        return None  # an earlier run stopped before its entity build: the loader finishes it
    if query(STALE_SQL, None):
        return None  # an older version built the entities: the loader rebuilds them
    out = []
    for path, sha in files:
        started = time.perf_counter()
        rows = query(LOADED_SQL, sha)
        if not rows:
            return None
        summary = loaded_summary(path, rows[0])
        summary.seconds = round(time.perf_counter() - started, 2)
        out.append(summary)
    return out


def loaded_summary(path: Path, row: Any) -> FileSummary:
    """The summary of a file found loaded before, from its LOADED_SQL row."""
    kind, layout, unchanged = row
    return FileSummary(str(path), layout, kind, unchanged=int(unchanged or 0), already_loaded=True)
