"""Fast bulk writes: one executemany per batch straight on the driver, values converted by the column types.

SQLAlchemy's Core insert compiles parameters row by row, which dominated ingest time at 300,000 rows; this
keeps SQLAlchemy's own type conversion (dates, JSON, UTC timestamps) but skips the per-row compilation.
"""

from __future__ import annotations

import ctypes
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, ForeignKeyConstraint, Table, UniqueConstraint, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex
from sqlalchemy.sql.ddl import ExecutableDDLElement

BATCH = 10_000


def _converted(conn: Connection, table: Table, names: list[str], rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    """Each row's values for `names`, in order, converted by the column types for the connection's driver."""
    dialect = conn.dialect
    procs: list[Callable[[Any], Any] | None] = []
    for name in names:
        col_type = table.c[name].type
        procs.append(col_type.dialect_impl(dialect).bind_processor(dialect))
    getter = itemgetter(*names)
    converted = [(i, p) for i, p in enumerate(procs) if p is not None]
    # The last value each converter was given and what it made: a value shared by every row (a time stamp) is
    # converted once.
    last: list[tuple[Any, Any]] = [(None, None)] * len(converted)
    for r in rows:
        values = list(getter(r)) if len(names) > 1 else [getter(r)]
        for j, (i, proc) in enumerate(converted):
            value = values[i]
            if value is not None:
                seen, made = last[j]
                if value is not seen:
                    made = proc(value)
                    last[j] = (value, made)
                values[i] = made
        yield values


def _executemany(conn: Connection, table: Table, sql: str, names: list[str], rows: list[dict[str, Any]]) -> None:
    """Run `sql` once per row, binding the row's values for `names` in order, converted by the column types."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, list(_converted(conn, table, names, rows[start : start + BATCH])))
    finally:
        cursor.close()


def return_freed_memory() -> None:
    """Ask the C allocator to give freed memory back to the OS (glibc only; elsewhere a no-op).

    Memory SQLite frees stays in the process otherwise, and Python's small objects never reuse it.
    """
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded, C library included
    except (OSError, TypeError):
        return
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim(0)


@contextmanager
def sqlite_cache(conn: Connection, kib: int = 65536, temp: bool = True) -> Iterator[None]:
    """On SQLite, a bigger page cache (the default is 2 MB) for a bulk write's index updates and sorts, for the
    main database and (with `temp`) the temporary one; restored after, so the pooled connection does not hold the
    memory. Elsewhere a no-op."""
    if conn.dialect.name != "sqlite":
        yield
        return
    pragmas = ("cache_size", "temp.cache_size") if temp else ("cache_size",)
    before = [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas]
    for p in pragmas:
        conn.exec_driver_sql(f"PRAGMA {p} = {-kib}")
    try:
        yield
    finally:
        for p, size in zip(pragmas, before, strict=True):
            conn.exec_driver_sql(f"PRAGMA {p} = {int(size)}")


@contextmanager
def keys_built_after(conn: Connection, tables: Sequence[Table]) -> Iterator[None]:
    """For a bulk insert into empty `tables`: their secondary indexes (on PostgreSQL also their unique and
    foreign-key constraints) are dropped, then built once over all the rows, which is far cheaper than a random
    B-tree insert and a key check per row. Primary keys stay. A violation shows when a key is built, as the same
    IntegrityError an insert would raise; inside a transaction, a failure puts every key back.

    SQLite cannot drop a constraint declared with its table: there those stay, checked row by row.
    """
    pg = conn.dialect.name == "postgresql"
    if pg and not _owns(conn, tables):
        # Only a table's owner may change its keys: a role that may merely write inserts row by row.
        yield
        return
    keys: list[tuple[ExecutableDDLElement, ExecutableDDLElement]] = []
    for table in tables:
        if pg:
            named = [c for c in table.constraints if isinstance(c, (UniqueConstraint, ForeignKeyConstraint))]
            keys += [(DropConstraint(c), AddConstraint(c)) for c in sorted(named, key=lambda c: str(c.name))]
        keys += [(DropIndex(i), CreateIndex(i)) for i in sorted(table.indexes, key=lambda i: str(i.name))]
    for drop, _create in keys:
        conn.execute(drop)
    yield
    # Foreign keys last: each checks its rows against a table whose own keys are back by then.
    for _drop, create in sorted(keys, key=lambda k: isinstance(getattr(k[1], "element", None), ForeignKeyConstraint)):
        conn.execute(create)


def _owns(conn: Connection, tables: Sequence[Table]) -> bool:
    """Whether this PostgreSQL role owns every one of `tables` (directly or through a role it belongs to)."""
    owned = conn.execute(
        text(
            "SELECT bool_and(pg_has_role(c.relowner, 'MEMBER')) FROM pg_class c "
            "WHERE c.oid = ANY(CAST(:names AS regclass[]))"
        ),
        {"names": [t.name for t in tables]},
    ).scalar()
    return bool(owned)


def copy_tuples(conn: Connection, table_name: str, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: stream tuples (already in column order and driver types) through COPY, the fastest way in."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    try:
        with cursor.copy(f"COPY {table_name} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def _copy_dicts(conn: Connection, table: Table, names: list[str], rows: Sequence[dict[str, Any]]) -> None:
    table_name = conn.dialect.identifier_preparer.format_table(table)
    copy_tuples(conn, table_name, names, _converted(conn, table, names, rows))


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]] | Iterable[dict[str, Any]]) -> int:
    """Insert dicts (all with the same keys) into `table`; returns the number of rows."""
    rows = list(rows)
    if not rows:
        return 0
    names = list(rows[0].keys())
    if conn.dialect.name == "postgresql":
        _copy_dicts(conn, table, names, rows)
        return len(rows)
    preparer = conn.dialect.identifier_preparer
    sql = (
        f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(n) for n in names)}) "
        f"VALUES ({', '.join([_mark(conn)] * len(names))})"
    )
    _executemany(conn, table, sql, names, rows)
    return len(rows)


@dataclass
class PreparedInsert:
    """An insert worked out ahead, to run once the connection is free: the statement and its rows' values, or
    (PostgreSQL) the COPY and its text."""

    table: Table
    names: list[str]
    rows: list[list[Any]]
    copy_text: bytes | None = None

    def __len__(self) -> int:
        return len(self.rows)


def prepare_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> PreparedInsert:
    """Everything of `insert_rows` that needs no database, done now; `conn` only tells the dialect."""
    names = list(rows[0].keys()) if rows else []
    values = list(_converted(conn, table, names, rows)) if rows else []
    prepared = PreparedInsert(table, names, values)
    if values and conn.dialect.name == "postgresql":
        prepared.copy_text = _copy_text(values)
    return prepared


def run_insert(conn: Connection, prepared: PreparedInsert) -> int:
    """Run a prepared insert; returns the number of rows."""
    if not prepared.rows:
        return 0
    preparer = conn.dialect.identifier_preparer
    table, names = preparer.format_table(prepared.table), prepared.names
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(preparer.quote(n) for n in names)}) FROM STDIN") as copy:
                if prepared.copy_text is not None:
                    copy.write(prepared.copy_text)
                else:
                    for row in prepared.rows:
                        copy.write_row(row)
        else:
            marks = ", ".join([_mark(conn)] * len(names))
            sql = f"INSERT INTO {table} ({', '.join(preparer.quote(n) for n in names)}) VALUES ({marks})"
            for start in range(0, len(prepared.rows), BATCH):
                cursor.executemany(sql, prepared.rows[start : start + BATCH])
    finally:
        cursor.close()
    return len(prepared.rows)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text_cell(value: str | None) -> str:
    """A text value as COPY reads it; most need no escape, and two scans in C are cheaper than a translate."""
    if value is None:
        return "\\N"
    return value.translate(_COPY_ESCAPES) if "\\" in value or not value.isprintable() else value


def _copy_column(values: tuple[Any, ...]) -> list[str] | None:
    """One column's cells in COPY's text format, or None for a type (or a mix of types) not handled here."""
    from psycopg.types.json import Json  # only PostgreSQL comes here

    kinds = set(map(type, values))
    nulls = type(None) in kinds
    kinds.discard(type(None))
    if not kinds:
        return ["\\N"] * len(values)
    if len(kinds) > 1:
        return None
    kind = kinds.pop()
    if kind is str:
        return [_text_cell(v) for v in values]
    if kind is int:
        return ["\\N" if v is None else str(v) for v in values] if nulls else list(map(str, values))
    if kind is bool:
        return ["\\N" if v is None else "t" if v else "f" for v in values]
    if kind is datetime:
        return ["\\N" if v is None else v.isoformat(" ") for v in values]
    if kind is Json:
        return ["\\N" if v is None else _text_cell((v.dumps or json.dumps)(v.obj)) for v in values]
    return None


def _copy_text(rows: list[list[Any]]) -> bytes | None:
    """Rows in COPY's text format, for the values psycopg would send as text the same way (None: some other).

    Made a column at a time: a column holds one type, so each cell needs no test of its type.
    """
    columns = []
    for values in zip(*rows, strict=True):
        cells = _copy_column(values)
        if cells is None:
            return None
        columns.append(cells)
    lines = ["\t".join(cells) for cells in zip(*columns, strict=True)]
    lines.append("")
    return "\n".join(lines).encode()


def update_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]] | Iterable[dict[str, Any]]) -> int:
    """Update rows by primary key `id`: dicts (all with the same keys, `id` among them); returns the row count."""
    rows = list(rows)
    if not rows:
        return 0
    names = [n for n in rows[0] if n != "id"]
    preparer = conn.dialect.identifier_preparer
    mark = _mark(conn)
    sql = (
        f"UPDATE {preparer.format_table(table)} SET {', '.join(f'{preparer.quote(n)} = {mark}' for n in names)} "
        f"WHERE {preparer.quote('id')} = {mark}"
    )
    _executemany(conn, table, sql, [*names, "id"], rows)
    return len(rows)


def delete_ids(conn: Connection, table: Table, ids: Iterable[int], chunk: int = 900) -> int:
    """Delete rows by primary key, in chunks under every backend's bound-parameter limit."""
    ids = sorted(ids)
    for start in range(0, len(ids), chunk):
        conn.execute(table.delete().where(table.c.id.in_(ids[start : start + chunk])))
    return len(ids)


def diff_rows(
    want: dict[Any, dict[str, Any]], have: dict[Any, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows to insert, to update (with their id) and stored rows to delete, to turn `have` into `want`.

    Both map a natural key to a row; a stored row is updated only when one of `want`'s values differs.
    """
    inserts, updates = [], []
    for nk, row in want.items():
        old = have.get(nk)
        if old is None:
            inserts.append(row)
        elif any(old[k] != val for k, val in row.items()):
            updates.append({**row, "id": old["id"]})
    return inserts, updates, [old for nk, old in have.items() if nk not in want]
