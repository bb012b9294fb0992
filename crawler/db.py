"""Database URL resolution, engines, migrations and sessions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_FILE = "jobagg.db"
ENV_VAR = "JOBAGG_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def resolve_url(url: str | None = None) -> str:
    """Explicit URL, else $JOBAGG_DATABASE_URL, else a SQLite file in the working directory."""
    url = url or os.environ.get(ENV_VAR) or f"sqlite:///{DEFAULT_SQLITE_FILE}"
    # Plain postgresql:// would pick psycopg2, which we do not ship; psycopg 3 is the driver.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


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
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@cache
def migrations_dir() -> Path:
    """The migration scripts on disk; unpacked once per process when running from a zipped egg (scrapyd)."""
    if MIGRATIONS_DIR.is_dir():
        return MIGRATIONS_DIR
    import tempfile
    import zipfile

    archive = next(p for p in MIGRATIONS_DIR.parents if p.is_file())
    inner = MIGRATIONS_DIR.relative_to(archive).as_posix()
    out = Path(tempfile.mkdtemp(prefix="jobagg-migrations-"))
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(out, [n for n in zf.namelist() if n.startswith(inner + "/")])
    return out / inner


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
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


_opened: set[str] = set()


@cache
def _engine_for(url: str) -> Engine:
    _opened.add(url)
    engine = make_engine(url)
    if current_revision(engine) != head_revision():
        upgrade(engine)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """A process-wide engine for `url`, migrated to the latest schema on first use."""
    return _engine_for(resolve_url(url))


def dispose_all() -> None:
    """Close every pooled connection of the process-wide engines (tests, and before a fork)."""
    for url in list(_opened):
        _engine_for(url).dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(url: str | Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    engine = url if isinstance(url, Engine) else get_engine(url)
    with session_factory(engine)() as session, session.begin():
        yield session


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
