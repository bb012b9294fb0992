"""Database URLs, the error every command reports, and the schema head: what a command needs before (and, for
a look-up with a current saved index, instead of) SQLAlchemy, whose import is a large part of a quick
command's start-up. `crawler.db` re-exports all of it."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

DEFAULT_SQLITE_FILE = "jobagg.db"
ENV_VAR = "JOBAGG_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SUPPORTED_URLS = "sqlite:///PATH (a file) or postgresql://USER@HOST:PORT/DATABASE"


class DatabaseError(RuntimeError):
    """A database the command cannot use; the message is one line that names the database and what to do."""


def resolve_url(url: str | None = None) -> str:
    """Explicit URL, else $JOBAGG_DATABASE_URL, else a SQLite file in the working directory."""
    url = url or os.environ.get(ENV_VAR) or f"sqlite:///{DEFAULT_SQLITE_FILE}"
    # Plain postgresql:// would pick psycopg2, which we do not ship; psycopg 3 is the driver.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def plain_sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL; None for anything else (options, escapes, memory, a server)."""
    if not url.startswith("sqlite:///"):
        return None
    database = url.removeprefix("sqlite:///")
    if not database or any(c in database for c in "?%#") or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def libpq_uri(url: str) -> str | None:
    """A `postgresql+psycopg://` URL as libpq and psycopg read it (user, password, host, database and options
    alike); None for any other database."""
    if not url.startswith("postgresql+psycopg://"):
        return None
    return "postgresql://" + url.removeprefix("postgresql+psycopg://")


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


# `revision = "0007"` / `down_revision = "0006"` (or None) as the migration template writes them.
_SCRIPT_LINE = re.compile(r'^(revision|down_revision)(?:\s*:[^=\n]*)?\s*=\s*(?:None|"([^"\n]+)")\s*$', re.M)


@cache
def script_head() -> str | None:
    """The head revision read from the migration scripts' own lines, without importing alembic (it is most of a
    quick command's start-up); None when any script is in another form (merges, computed ids): ask alembic then."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (migrations_dir() / "versions").glob("*.py"):
        found = {m.group(1): m.group(2) for m in _SCRIPT_LINE.finditer(path.read_text("utf-8"))}
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions.add(found["revision"])  # type: ignore[arg-type]
        if found["down_revision"]:
            downs.add(found["down_revision"])
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 else None
