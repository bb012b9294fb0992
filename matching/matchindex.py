"""The join's index, saved so a look-up does not rebuild it from the entity tables on every call.

The whole `EntityIndex` object is pickled, keyed by a fingerprint of the entity tables and of the code that
builds it: any change to either gives a new fingerprint, and the next caller rebuilds and saves. SQLite keeps
it in a file beside the database; other databases in a table row (`dol_match_index`).
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.dburl import plain_sqlite_file, script_head

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from matching.join import EntityIndex

MAGIC = b"JOBAGG-MATCH-INDEX 1\n"
# The modules whose code shapes the index; a change to any of them invalidates every saved index.
_CODE = ("join.py", "normalize.py", "data/aliases.csv")
# Plain SQL, run on the driver's own connection: a look-up with a current SQLite index runs it through the
# sqlite3 module alone, without importing SQLAlchemy or the models (most of its start-up otherwise).
_FINGERPRINT_SQL = (
    "SELECT count(*), max(id), max(built_at) FROM dol_entities",
    "SELECT count(*), max(id), sum(filings) FROM dol_entity_names",
)


@contextmanager
def no_gc() -> Iterator[None]:
    """Building or loading the index, answering a batch or loading a DOL file makes millions of objects that all
    live on: cyclic GC passes over them only cost time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def code_version() -> str:
    digest = hashlib.sha256(f"{sys.version_info[:2]} {pickle.HIGHEST_PROTOCOL}".encode())
    here = Path(__file__).parent
    for rel in _CODE:
        digest.update((here / rel).read_bytes())
    return digest.hexdigest()


def _fingerprint(run: Callable[[str], Any]) -> str:
    ents, names = (tuple(run(sql).fetchone()) for sql in _FINGERPRINT_SQL)
    text = f"{code_version()}|{ents[0]}|{ents[1]}|{ents[2]}|{names[0]}|{names[1]}|{names[2]}"
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(conn: Connection) -> str:
    """Cheap to compute: counts, highest ids and the latest build time move whenever an entity or name changes."""
    return _fingerprint(conn.exec_driver_sql)


def index_file(engine: Engine) -> Path | None:
    """The file beside a SQLite database file; None for other databases (and in-memory SQLite)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db).with_name(Path(db).name + ".match-index")


def _read_file(path: Path, fp: str) -> EntityIndex | None:
    try:
        with path.open("rb") as f:
            if f.readline() != MAGIC or f.readline().strip().decode() != fp:
                return None
            with no_gc():
                return pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None


def _read(engine: Engine, conn: Connection, fp: str) -> EntityIndex | None:
    path = index_file(engine)
    if path is not None:
        return _read_file(path, fp)
    from sqlalchemy import select

    from crawler.models import DolMatchIndex

    data = conn.execute(select(DolMatchIndex.data).where(DolMatchIndex.fingerprint == fp)).scalar()
    if data is None:
        return None
    with no_gc():
        return pickle.loads(data)


def _save(engine: Engine, conn: Connection, fp: str, index: EntityIndex) -> None:
    with no_gc():
        blob = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
    path = index_file(engine)
    if path is not None:
        # Written aside and renamed: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + fp.encode() + b"\n" + blob)
        os.replace(tmp, path)
        return
    from sqlalchemy import delete

    from crawler.models import DolMatchIndex, utcnow

    conn.execute(delete(DolMatchIndex))
    conn.execute(DolMatchIndex.__table__.insert().values(fingerprint=fp, data=blob, built_at=utcnow()))


def load_index(session: Session, rebuild: bool = False) -> tuple[EntityIndex, bool]:
    """The saved index when it is current, else a fresh one (saved for next time); and whether it was rebuilt."""
    from matching.join import EntityIndex

    conn = session.connection()
    engine = conn.engine
    fp = fingerprint(conn)
    if not rebuild:
        index = _read(engine, conn, fp)
        if index is not None:
            return index, False
    with no_gc():
        index = EntityIndex.from_session(session)
    _save(engine, conn, fp, index)
    return index, True


def read_current(db_url: str) -> EntityIndex | None:
    """The saved index when it is current, read through the database driver alone (SQLite's sqlite3, PostgreSQL's
    psycopg), without SQLAlchemy, whose start-up is a large part of a look-up; None when anything is off (the
    database is behind, the index stale or missing, the URL unusual), and the caller takes the usual path, which
    also reports any problem. Same checks, same fingerprint, same saved index as `load_index`."""
    if db_url.startswith("sqlite:"):
        return read_current_sqlite(db_url)
    if db_url.startswith("postgresql+psycopg://"):
        return read_current_postgresql(db_url)
    return None


def read_current_postgresql(db_url: str) -> EntityIndex | None:
    head = script_head()
    if head is None:
        return None
    import psycopg

    # The same URL as libpq reads it: user, password, host, database and options (search_path) alike.
    uri = "postgresql://" + db_url.removeprefix("postgresql+psycopg://")
    try:
        with psycopg.connect(uri, connect_timeout=10) as conn:
            if [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")] != [head]:
                return None
            fp = _fingerprint(conn.execute)
            sql = "SELECT data FROM dol_match_index WHERE fingerprint = %s"
            row = conn.execute(sql, (fp,), binary=True).fetchone()
    except (psycopg.Error, ValueError):
        return None
    if row is None:
        return None
    try:
        with no_gc():
            return pickle.loads(row[0])
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None


def read_current_sqlite(db_url: str) -> EntityIndex | None:
    """The saved index of a plain SQLite database file at the latest schema when it is current, read through
    the sqlite3 module alone; None otherwise, and the caller takes the usual path (which also reports any
    problem with the database). Same checks, same file, same index as `load_index`."""
    db = plain_sqlite_file(db_url)
    head = script_head()
    if db is None or head is None:
        return None
    path = db.with_name(db.name + ".match-index")
    try:
        if not path.is_file() or not db.is_file() or db.stat().st_size == 0:
            return None
        conn = sqlite3.connect(db, timeout=30)
    except (OSError, sqlite3.Error):
        return None
    try:
        if [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")] != [head]:
            return None
        fp = _fingerprint(conn.execute)
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return _read_file(path, fp)
