"""The join's index, saved so a look-up does not rebuild it from the entity tables on every call.

The whole `EntityIndex` object is pickled, keyed by a fingerprint of the entity tables and of the code that
builds it: any change to either gives a new fingerprint, and the next caller rebuilds and saves. SQLite keeps
it in a file beside the database; other databases in a table row (`dol_match_index`), plus a copy in a local
cache file per server, database and schema (`cache_dir()`), so a look-up does not pull the row over the socket
each time. The fingerprint decides which copy is current: a cache file is only ever a copy of that row.
"""

from __future__ import annotations

import gc
import hashlib
import mmap
import os
import pickle
import sqlite3
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.dburl import libpq_uri, plain_sqlite_file, script_head
from matching.overrides import OVERRIDES_SQL, apply_overrides, apply_stored

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from matching.join import EntityIndex

MAGIC = b"JOBAGG-MATCH-INDEX 1\n"
# A local copy of a server's index: this line, the fingerprint, then the pickle's length and CRC-32.
CACHE_MAGIC = b"JOBAGG-MATCH-INDEX-CACHE 1\n"
CACHE_ENV = "JOBAGG_CACHE_DIR"
CACHE_OFF = "off"
# A cache file nobody has read for this long is dropped when another is written (a schema that is gone).
CACHE_UNUSED_DAYS = 30
# A temporary file this old is left over from a writer that died.
_ORPHAN_SECONDS = 600
# The modules whose code shapes the index; a change to any of them invalidates every saved index.
_CODE = ("join.py", "normalize.py", "data/aliases.csv")
# Plain SQL, run on the driver's own connection: a look-up with a current SQLite index runs it through the
# sqlite3 module alone, without importing SQLAlchemy or the models (most of its start-up otherwise).
# One statement, one round trip (its scans are most of a PostgreSQL look-up's wait); the time as the database
# writes it, so every driver (psycopg's types, libpq's text) sees the same values.
_FINGERPRINT_SQL = (
    "SELECT * FROM (SELECT count(*), max(id), CAST(max(built_at) AS TEXT) FROM dol_entities) AS e,"
    " (SELECT count(*), max(id), sum(filings) FROM dol_entity_names) AS n"
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
    return _fingerprint_of(run(_FINGERPRINT_SQL).fetchone())


def _fingerprint_of(counts: Iterable[Any]) -> str:
    text = "|".join([code_version(), *(str(v) for v in counts)])
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
    cached = _server_cache_file(conn)
    index = _read_cache(cached, fp)
    if index is not None:
        return index
    from sqlalchemy import select

    from crawler.models import DolMatchIndex

    data = conn.execute(select(DolMatchIndex.data).where(DolMatchIndex.fingerprint == fp)).scalar()
    if data is None:
        return None
    index = _unpickle(data)
    if index is not None:
        _write_cache(cached, fp, data)
    return index


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
    _write_cache(_server_cache_file(conn), fp, blob)


def load_index(session: Session, rebuild: bool = False, keys_fresh: bool = False) -> tuple[EntityIndex, bool]:
    """The saved index when it is current, else a fresh one (saved for next time); and whether it was rebuilt.

    `keys_fresh`: the entity build has just stored every name's normal forms. Otherwise a rebuild works them out
    again from the names (seconds at 300,000 names): a rebuild outside an ingest follows a change of code, which
    may have changed how names are normalised since they were stored."""
    from matching.join import EntityIndex

    conn = session.connection()
    engine = conn.engine
    fp = fingerprint(conn)
    if not rebuild:
        index = _read(engine, conn, fp)
        if index is not None:
            return apply_stored(index, session), False
    with no_gc():
        index = EntityIndex.from_session(session, renormalise=not keys_fresh)
    _save(engine, conn, fp, index)
    apply_stored(index, session)  # after saving: overrides are the database's, never part of the saved index
    return index, True


def read_current(db_url: str) -> EntityIndex | None:
    """The saved index when it is current, read through the database's client library alone (SQLite's sqlite3;
    PostgreSQL's libpq for a current cached copy, else psycopg), without SQLAlchemy, whose start-up is a large
    part of a look-up; None when anything is off (the database is behind, the index stale or missing, the URL
    unusual), and the caller takes the usual path, which also reports any problem. Same checks, same
    fingerprint, same saved index as `load_index`."""
    if db_url.startswith("sqlite:"):
        return read_current_sqlite(db_url)
    uri = libpq_uri(db_url)
    return read_current_postgresql(uri) if uri is not None else None


def read_current_postgresql(uri: str) -> EntityIndex | None:
    """`read_current` for a libpq URI (`crawler.dburl.libpq_uri`)."""
    head = script_head()
    if head is None:
        return None
    index = _read_cached_via_libpq(uri, head)
    if index is not None:
        return index
    import psycopg

    try:
        with psycopg.connect(uri, connect_timeout=10) as conn:
            if [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")] != [head]:
                return None
            fp = _fingerprint(conn.execute)
            overrides = conn.execute(OVERRIDES_SQL).fetchall()
            schema = conn.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[index]
            cached = _cache_file(conn.info.host, conn.info.port, conn.info.dbname, schema)
            index = _read_cache(cached, fp)
            if index is not None:
                return apply_overrides(index, overrides)
            sql = "SELECT data FROM dol_match_index WHERE fingerprint = %s"
            row = conn.execute(sql, (fp,), binary=True).fetchone()
    except (psycopg.Error, ValueError):
        return None
    if row is None:
        return None
    index = _unpickle(row[0])
    if index is not None:
        _write_cache(cached, fp, row[0])
        apply_overrides(index, overrides)
    return index


def _read_cached_via_libpq(uri: str, head: str) -> EntityIndex | None:
    """The cached copy of the index when it is current, asked through libpq alone (no psycopg import); the
    server computes the fingerprint while the copy loads. None for anything else: psycopg takes over."""
    from crawler import libpq

    conn = libpq.connect(uri)
    if conn is None:
        return None
    with conn:
        versions = conn.query("SELECT version_num FROM alembic_version")
        schema = conn.query("SELECT current_schema()")
        if versions is None or [r[0] for r in versions] != [head] or not schema:
            return None
        cached = _cache_file(*conn.server(), schema[0][0])
        if cached is None or not cached.is_file() or not conn.send(_FINGERPRINT_SQL):
            return None
        found = _read_cache_any(cached)
        counts = conn.rows()
        overrides = conn.query(OVERRIDES_SQL)
    if found is None or not counts or overrides is None or found[0] != _fingerprint_of(counts[0]):
        return None
    _touch(cached)
    return apply_overrides(found[1], overrides)


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
        # The fingerprint scans both entity tables: read through a mapping, not a system call per page.
        conn.execute("PRAGMA mmap_size = 1073741824")
        fp = _fingerprint(conn.execute)
        overrides = conn.execute(OVERRIDES_SQL).fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    index = _read_file(path, fp)
    return apply_overrides(index, overrides) if index is not None else None


def _unpickle(data: bytes | memoryview) -> EntityIndex | None:
    try:
        with no_gc():
            return pickle.loads(data)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
        return None


def cache_dir() -> Path | None:
    """Where look-ups keep local copies of a server's index: $JOBAGG_CACHE_DIR, else $XDG_CACHE_HOME/jobagg,
    else ~/.cache/jobagg; None when JOBAGG_CACHE_DIR is `off` (or there is no home directory)."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return None if env.lower() == CACHE_OFF else Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative path there is invalid: ignored.
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "jobagg"
    try:
        return Path.home() / ".cache" / "jobagg"
    except (RuntimeError, KeyError):
        return None


def _cache_file(host: Any, port: Any, dbname: Any, schema: str | None) -> Path | None:
    """The cache file of one server, database and schema."""
    base = cache_dir()
    if base is None:
        return None
    where = f"{host}|{port}|{dbname}|{schema}"
    return base / "match-index" / (hashlib.sha256(where.encode()).hexdigest()[:32] + ".match-index")


def _server_cache_file(conn: Connection) -> Path | None:
    driver = conn.connection.driver_connection
    info = getattr(driver, "info", None)
    if info is None or not hasattr(info, "dbname"):
        return None  # not psycopg: no cache
    return _cache_file(info.host, info.port, info.dbname, conn.exec_driver_sql("SELECT current_schema()").scalar())


def _read_cache(path: Path | None, fp: str) -> EntityIndex | None:
    """The cached index when the file is whole and holds `fp`; else None."""
    found = _read_cache_any(path, fp)
    if found is None or found[0] != fp:
        return None
    _touch(path)
    return found[1]


def _read_cache_any(path: Path | None, fp: str | None = None) -> tuple[str, EntityIndex] | None:
    """(fingerprint, index) of a whole cache file (length and CRC-32 check), or None; with `fp`, None as soon as
    the file holds another fingerprint."""
    if path is None:
        return None
    try:
        with path.open("rb") as f:
            if not _own_file(os.fstat(f.fileno())):
                return None
            # Mapped, not read: no 40 MB copy before the pickle is checked and loaded (a writer never rewrites
            # a cache file in place, it renames a new one over it, so the mapped file stays whole).
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return None
    with mapped:
        try:
            first = mapped.find(b"\n") + 1
            second = mapped.find(b"\n", first) + 1
            third = mapped.find(b"\n", second) + 1
            if mapped[:first] != CACHE_MAGIC or not 0 < first < second < third:
                return None
            found = mapped[first : second - 1].decode("ascii")
            if fp is not None and found != fp:
                return None
            size, crc = (int(v, 16) for v in mapped[second : third - 1].split())
        except ValueError:
            return None
        with memoryview(mapped) as view, view[third:] as data:
            if len(data) != size or zlib.crc32(data) != crc:
                return None
            index = _unpickle(data)
    return None if index is None else (found, index)


def _own_file(st: os.stat_result) -> bool:
    """Whether a cache file is this user's and nobody else may write it: unpickling runs code, so a file someone
    else could have planted (a shared JOBAGG_CACHE_DIR) is not loaded."""
    getuid = getattr(os, "getuid", None)
    return getuid is None or (st.st_uid == getuid() and not st.st_mode & 0o022)


def _touch(path: Path | None) -> None:
    """Marks a cache file as used: files of schemas nobody reads any more are dropped after a while."""
    if path is not None:
        with suppress(OSError):
            os.utime(path)


def _write_cache(path: Path | None, fp: str, blob: bytes) -> None:
    """Save a copy of the index (best effort: a cache that cannot be written is only slower). Written aside and
    renamed, so a reader never sees half a file and two writers at once leave one whole file."""
    if path is None:
        return
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(CACHE_MAGIC + fp.encode() + b"\n" + f"{len(blob):x} {zlib.crc32(blob):x}\n".encode())
            f.write(blob)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        return
    finally:
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)
    _prune(path)


def _prune(keep: Path) -> None:
    """Drop cache files nobody has read for CACHE_UNUSED_DAYS and temporary files of writers that died."""
    now = time.time()
    try:
        entries = list(os.scandir(keep.parent))
    except OSError:
        return
    for entry in entries:
        if entry.path == str(keep):
            continue
        with suppress(OSError):
            age = now - entry.stat().st_mtime
            if (entry.name.endswith(".match-index") and age > CACHE_UNUSED_DAYS * 86400) or (
                entry.name.endswith(".tmp") and age > _ORPHAN_SECONDS
            ):
                os.unlink(entry.path)
