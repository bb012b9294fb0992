"""One `jobagg run` at a time per database, with a lock the operating system or the server drops on a crash.

- PostgreSQL: a session-level advisory lock held by a connection dedicated to the lock. The server releases it
  when that connection ends, which includes the process being killed.
- SQLite: an exclusive `flock` on a lock file beside the database file. The kernel releases it when the process
  dies, however it dies; the file itself may stay and means nothing on its own.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from crawler.db import make_engine, resolve_url

# sysexits.h EX_TEMPFAIL: "try again later", which is what a scheduler should do when a run is still going.
EXIT_LOCKED = 75
LOCK_NAME = "jobagg.run"


class RunLocked(RuntimeError):
    """Another process holds the run lock of this database."""


def sqlite_lock_path(url: str) -> Path | None:
    """`<database file>.run.lock`, or None for an in-memory database (no other process can reach it)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".run.lock")


@contextmanager
def run_lock(db_url: str, name: str = LOCK_NAME) -> Iterator[None]:
    """Hold the run lock for the block; raise RunLocked at once if another process holds it."""
    url = resolve_url(db_url)
    if make_url(url).get_backend_name() == "postgresql":
        with _pg_lock(url, name):
            yield
    else:
        with _file_lock(sqlite_lock_path(url), name):
            yield


@contextmanager
def _file_lock(path: Path | None, name: str) -> Iterator[None]:
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise RunLocked(f"another `{name}` holds {path} (pid {holder})") from None
        # The pid is for the operator reading the message; the lock is the flock, not the file's content.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the flock


@contextmanager
def _pg_lock(url: str, name: str) -> Iterator[None]:
    # NullPool: the lock's connection is never handed back to a pool where someone else could reuse the session.
    from sqlalchemy.pool import NullPool

    engine = make_engine(url, poolclass=NullPool)
    conn: Any = engine.connect()
    try:
        # The key includes the schema so separate installations sharing one server do not block each other.
        key = "hashtext(:name || ':' || current_schema())"
        got = conn.execute(text(f"SELECT pg_try_advisory_lock({key})"), {"name": name}).scalar()
        conn.commit()
        if not got:
            holder = conn.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = "
                    f"({key})::bigint & 4294967295 LIMIT 1"
                ),
                {"name": name},
            ).scalar()
            conn.commit()
            where = make_url(url).render_as_string(hide_password=True)
            raise RunLocked(f"another `{name}` holds the advisory lock on {where} (server pid {holder or 'unknown'})")
        try:
            yield
        finally:
            conn.execute(text(f"SELECT pg_advisory_unlock({key})"), {"name": name})
            conn.commit()
    finally:
        conn.close()
        engine.dispose()
