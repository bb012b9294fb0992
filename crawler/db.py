"""Database URL resolution, engines, migrations and sessions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

# Re-exported: every caller finds the database helpers here.
from crawler.dburl import (  # noqa: F401
    DEFAULT_SQLITE_FILE,
    ENV_VAR,
    MIGRATIONS_DIR,
    SUPPORTED_URLS,
    DatabaseError,
    migrations_dir,
    resolve_url,
    script_head,
)

# Key of the PostgreSQL advisory lock held while migrating ("jobagg" in ASCII, fits a bigint).
MIGRATION_LOCK_KEY = 0x6A6F6261676702


def shown_url(url: str | Any) -> str:
    """The URL as safe to print (password hidden)."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return repr(str(url))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    # WAL lets `jobagg serve` read while a crawl writes; busy_timeout rides out short write locks.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = resolve_url(url)
    try:
        engine = create_engine(url, **kwargs)
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError, ImportError) as exc:
        # A dialect SQLAlchemy knows but whose driver is not installed (mysql://) raises ImportError.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatabaseError(
            f"bad database URL {shown_url(url)}: {reason}; jobagg works with {SUPPORTED_URLS}"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolates '%', which URL-encoded passwords contain.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` on the engine's database."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two callers at once: the second waits here, then finds the schema at head and does nothing.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def _stamped(engine: Engine) -> list[str] | None:
    """The revisions stamped in the database's alembic_version table (None: no table), read with plain SQL."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def sqlite_path(engine: Engine) -> Path | None:
    """The file behind a SQLite engine, or None (another database, or in memory)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or engine.url.query.get("mode") == "memory":
        return None
    return Path(database)


def _check_sqlite_file(path: Path, create: bool) -> bool:
    """True when the file is new (absent or empty) and may be created; raises DatabaseError otherwise."""
    if path.is_dir():
        raise DatabaseError(f"database {path} is a directory, not a SQLite file")
    if path.exists() and path.stat().st_size > 0:
        return False
    if not create:
        raise DatabaseError(
            f"database {path} does not exist (check --db / ${ENV_VAR}; `jobagg db upgrade` creates a new one)"
        )
    if not path.parent.is_dir():
        raise DatabaseError(f"cannot create database {path}: directory {path.parent} does not exist")
    return True


def explain_open_failure(engine: Engine, exc: sqlalchemy.exc.OperationalError) -> DatabaseError:
    """One line saying why SQLite could not open a file (its message alone names no reason)."""
    reason = str(exc.orig).strip()
    path = sqlite_path(engine)
    if path is not None:
        parent = path.parent if path.parent.is_dir() else None
        if parent is None:
            reason += f": directory {path.parent} does not exist"
        elif hasattr(os, "statvfs") and os.statvfs(parent).f_flag & os.ST_RDONLY:
            reason += (
                f": {parent} is on a read-only filesystem, and SQLite must write {path.name}-wal and"
                f" {path.name}-shm beside the database; copy it to a writable place"
            )
        elif not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.R_OK | os.W_OK)):
            reason += f": no permission to read and write {path} and its directory"
        else:
            reason += f": SQLite cannot create or write files in {parent} (is it a local, writable filesystem?)"
    return DatabaseError(f"database {shown_url(engine.url)} failed: {reason}")


def check_schema(engine: Engine, create: bool = True) -> None:
    """Make sure the database is at the latest migration.

    A new, empty SQLite file (or memory) is created at head when `create` is set, so `jobagg demo` stays
    one command; any other database that is behind stops with a line saying to run `jobagg db upgrade`,
    because migrating is an operator's explicit step (and racy when several processes start together).
    """
    path = sqlite_path(engine)
    new = _check_sqlite_file(path, create) if path is not None else False
    try:
        # The usual case, a database at head, is settled without alembic; anything else asks alembic below.
        head = script_head()
        if head is not None and _stamped(engine) == [head]:
            return
        current = current_revision(engine)
    except sqlalchemy.exc.OperationalError as exc:
        raise explain_open_failure(engine, exc) from None
    head = head_revision()
    if current == head:
        return
    in_memory = engine.dialect.name == "sqlite" and path is None
    if current is None and (new or in_memory) and create:
        upgrade(engine)
        return
    where = shown_url(engine.url)
    if current is None:
        if inspect(engine).get_table_names():
            raise DatabaseError(f"database {where} has tables but no jobagg schema version; is it the right database?")
        raise DatabaseError(f"database {where} has no jobagg tables yet: run `jobagg db upgrade` to create them")
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    if not _known(script, current):
        raise DatabaseError(
            f"database {where} is at migration {current}, which this jobagg does not know (is it a newer version?)"
        )
    raise DatabaseError(f"database {where} is at migration {current}, behind {head}: run `jobagg db upgrade`")


def _known(script: Any, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id
        return False


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None, create: bool = True) -> Engine:
    """A process-wide engine for `url`, checked to be at the latest schema on first use.

    `create=False` is for commands that only read: they never create a database (a mistyped path says so).
    """
    url = resolve_url(url)
    engine = _engines.get(url)
    if engine is None:
        engine = make_engine(url)
        try:
            check_schema(engine, create)
        except BaseException:
            engine.dispose()
            raise
        _engines[url] = engine
    return engine


def dispose_all() -> None:
    """Close every pooled connection of the process-wide engines (tests, and before a fork)."""
    for engine in list(_engines.values()):
        engine.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(url: str | Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    engine = url if isinstance(url, Engine) else get_engine(url)
    with session_factory(engine)() as session, session.begin():
        yield session
