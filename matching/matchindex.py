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
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, column, delete, func, select, table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from matching.join import EntityIndex

MAGIC = b"JOBAGG-MATCH-INDEX 1\n"
# The modules whose code shapes the index; a change to any of them invalidates every saved index.
_CODE = ("join.py", "normalize.py", "data/aliases.csv")
# The columns a look-up with a current index reads, named here: importing the ORM models costs a look-up more
# than the rest of its start-up after SQLAlchemy (a test checks them against the models).
ENTITIES = table("dol_entities", column("id"), column("built_at"))
NAMES = table("dol_entity_names", column("id"), column("filings"))
SAVED = table("dol_match_index", column("fingerprint"), column("data"))


@contextmanager
def no_gc() -> Iterator[None]:
    """Building or loading the index, or answering a batch, makes many objects that all live on: cyclic GC
    passes over them only cost time."""
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


def fingerprint(conn: Connection) -> str:
    """Cheap to compute: counts, highest ids and the latest build time move whenever an entity or name changes."""
    e, n = ENTITIES.c, NAMES.c
    ents = conn.execute(select(func.count(), func.max(e.id), func.max(e.built_at))).one()
    names = conn.execute(select(func.count(), func.max(n.id), func.sum(n.filings))).one()
    text = f"{code_version()}|{ents[0]}|{ents[1]}|{ents[2]}|{names[0]}|{names[1]}|{names[2]}"
    return hashlib.sha256(text.encode()).hexdigest()


def index_file(engine: Engine) -> Path | None:
    """The file beside a SQLite database file; None for other databases (and in-memory SQLite)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db).with_name(Path(db).name + ".match-index")


def _read(engine: Engine, conn: Connection, fp: str) -> EntityIndex | None:
    path = index_file(engine)
    if path is not None:
        try:
            with path.open("rb") as f:
                if f.readline() != MAGIC or f.readline().strip().decode() != fp:
                    return None
                with no_gc():
                    return pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None
    data = conn.execute(select(SAVED.c.data).where(SAVED.c.fingerprint == fp)).scalar()
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
