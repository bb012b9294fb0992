"""Load PERM, LCA and USCIS hub files into the database: one transaction per file, then rebuild entities."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import Column, Connection, Integer, MetaData, select, text
from sqlalchemy import Table as SaTable
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler import db as dbmod
from crawler.models import DolCase, DolFile, UscisEmployerYear, utcnow
from matching import values as v
from matching.bulk import insert_rows, return_freed_memory, sqlite_cache, update_rows
from matching.entities import PENDING_YEARS, SAMPLES, Pending, build_entities, count_ahead
from matching.layouts import Layout, detect_layout
from matching.loaded import LOADED_SQL, UNLINKED_SQL, FileSummary, entities_stale, loaded_summary
from matching.matchindex import no_gc
from matching.normalize import NameForms
from matching.readers import IngestError, Table, is_blank, open_table, read_header
from matching.reading import (
    AHEAD_NEXT,
    BATCH,
    CASE_COLS,
    MAX_NOTES,
    STAGED,
    Batches,
    CaseReader,
    ReadStats,
    case_readers,
    file_sha256,
    position,
    read_cases,
)

__all__ = ["FileSummary", "IngestError", "ingest_paths"]


def _cell(row: list[Any], idx: int | None) -> Any:
    if idx is None or idx >= len(row):
        return None
    return row[idx]


# Where a staged tuple holds what the build counts by.
_CASE, _DECISION, _NAME, _TRADE, _FEIN, _STATE = (
    STAGED.index(c) for c in ("case_number", "decision_date", "employer_name", "trade_name", "fein", "state")
)
# Where a row came from, not what it says: a case repeated unchanged in a later release keeps its row as is.
PROVENANCE = ("layout", "source_file")
CONTENT_COLS = tuple(c for c in CASE_COLS if c not in (*PROVENANCE, "kind", "case_number"))
STAGE = "jobagg_stage_cases"
WINNERS = "jobagg_stage_winners"
CHANGED = "jobagg_stage_changed"
# Staged cases counted ahead at a time while the loader waits (about a tenth of a second of SQLite's time).
COUNT_CHUNK = 20_000


def _newer(a: dict[str, Any], b_decision: Any) -> bool:
    """Is record `a` at least as recent a decision as `b_decision`? Later releases win ties."""
    ad = a["decision_date"]
    if b_decision is None:
        return True
    return ad is not None and ad >= b_decision


def _same(rec: dict[str, Any], row: Any, natural: tuple[str, ...]) -> bool:
    """Does the stored row already say what `rec` says (provenance and natural key aside)?"""
    return all(rec[k] == row[k] for k in rec if k not in PROVENANCE and k not in natural)


def _stage_table(sqlite: bool, fixed: dict[str, str]) -> SaTable:
    """A temporary table shaped like dol_cases (without ids) plus the row's position in the file and its filer's
    number; the `fixed` columns (FIXED) are the defaults, never written."""
    cases = DolCase.__table__
    # On SQLite the position is the rowid: rows arrive in order, so reading them in file order needs no sort.
    cols = [Column("seq", Integer, primary_key=sqlite, autoincrement=False), Column("fid", Integer)]
    cols += [Column(c, cases.c[c].type, server_default=fixed.get(c)) for c in CASE_COLS]
    return SaTable(STAGE, MetaData(), *cols, prefixes=["TEMPORARY"])


class _StageWriter:
    """Appends staged rows in batches: COPY on PostgreSQL, one executemany per batch on SQLite."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        names = ", ".join(STAGED)
        if self.pg:
            self.sql = f"COPY {STAGE} ({names}) FROM STDIN"
        else:
            self.sql = f"INSERT INTO {STAGE} ({names}) VALUES ({', '.join(['?'] * len(STAGED))})"
        self.rows = 0

    def write(self, batch: list[tuple[Any, ...]]) -> None:
        if not batch:
            return
        if self.pg:
            with self.cursor.copy(self.sql) as copy:
                for rec in batch:
                    copy.write_row(rec)
        else:
            self.cursor.executemany(self.sql, batch)
        self.rows += len(batch)
        batch.clear()

    def close(self) -> None:
        self.cursor.close()


def _count(conn: Connection, sql: str, **params: Any) -> int:
    return int(conn.execute(text(sql), params).scalar() or 0)


def _case_ids(conn: Connection) -> tuple[str, int, bool] | None:
    """Where PostgreSQL's sequence of case ids stands (None elsewhere): an insert that is undone still uses ids."""
    if conn.dialect.name != "postgresql":
        return None
    seq = conn.execute(text("SELECT pg_get_serial_sequence('dol_cases', 'id')")).scalar()
    if not seq:
        return None
    last, called = conn.execute(text(f"SELECT last_value, is_called FROM {seq}")).one()
    return seq, last, called


def _reset_case_ids(conn: Connection, state: tuple[str, int, bool] | None) -> None:
    """Put the sequence back by hand after an undone insert, so ids come out as without the try."""
    if state is not None:
        seq, last, called = state
        conn.execute(text("SELECT setval(:seq, :last, :called)"), {"seq": seq, "last": last, "called": called})


def _merge_cases(conn: Connection, kind: str, summary: FileSummary) -> list[int]:
    """Fold the staged rows into dol_cases in SQL; returns the fiscal years the file's cases fall in.

    Within the file and against stored cases the latest decision wins (a later row or release wins a tie), a
    stored case keeps its id, and an unchanged one is not written at all.
    """
    pg = conn.dialect.name == "postgresql"
    distinct = "IS DISTINCT FROM" if pg else "IS NOT"
    cols = ", ".join(CASE_COLS)
    staged = summary.rows - summary.skipped
    years_sql = "SELECT DISTINCT fiscal_year FROM {}"
    seq = _case_ids(conn)
    try:
        # Usually a file repeats no case and shares none with the store: then one plain insert is the whole merge,
        # and the unique index on (kind, case_number) is the proof. Otherwise it is undone and the cases merged.
        with conn.begin_nested():
            res = conn.execute(text(f"INSERT INTO dol_cases ({cols}) SELECT {cols} FROM {STAGE} ORDER BY seq"))
    except IntegrityError:
        _reset_case_ids(conn, seq)
    else:
        summary.inserted += res.rowcount if res.rowcount is not None and res.rowcount >= 0 else staged
        return sorted(y for (y,) in conn.execute(text(years_sql.format(STAGE))) if y is not None)
    winners = _count(conn, f"SELECT COUNT(DISTINCT case_number) FROM {STAGE}")
    source = STAGE
    if winners < staged:
        # One row per case number: the latest decision (a dated one beats an undated one), then the later row.
        # Published files rarely repeat a case, so this sort of whole rows is paid only when one does.
        conn.execute(
            text(
                f"CREATE TEMPORARY TABLE {WINNERS} AS SELECT seq, {cols} FROM ("
                f"SELECT s.*, ROW_NUMBER() OVER (PARTITION BY case_number "
                f"ORDER BY (decision_date IS NULL), decision_date DESC, seq DESC) AS rn FROM {STAGE} s) w "
                "WHERE rn = 1"
            )
        )
        source = WINNERS
    summary.duplicates_in_file += staged - winners
    join = f"FROM {source} w JOIN dol_cases c ON c.kind = :kind AND c.case_number = w.case_number"
    # Probing the stored cases' unique index once per staged case: cheap, and usually finds none.
    if _shares_a_case(conn, source, kind):
        if pg:
            # The joins below plan well only on statistics of the staged cases (autovacuum never analyses a
            # temporary table) and of the stored ones as they are now, this load included.
            conn.execute(text(f"ANALYZE {source}"))
            conn.execute(text("ANALYZE dol_cases"))
        conn.execute(text(f"CREATE INDEX {source}_cn ON {source} (case_number)"))
        newer = "(c.decision_date IS NULL OR (w.decision_date IS NOT NULL AND w.decision_date >= c.decision_date))"
        matched = _count(conn, f"SELECT COUNT(*) {join}", kind=kind)
        summary.kept_existing += _count(conn, f"SELECT COUNT(*) {join} WHERE NOT {newer}", kind=kind)
        differs = " OR ".join(f"c.{c} {distinct} w.{c}" for c in CONTENT_COLS)
        conn.execute(
            text(f"CREATE TEMPORARY TABLE {CHANGED} AS SELECT c.id AS id, w.* {join} WHERE {newer} AND ({differs})"),
            {"kind": kind},
        )
        changed = _count(conn, f"SELECT COUNT(*) FROM {CHANGED}")
        summary.replaced += changed
        summary.unchanged += matched - changed - summary.kept_existing
        if changed:
            # Update in place: the case keeps its id, so nothing that refers to it moves.
            sets = ", ".join(f"{c} = u.{c}" for c in CASE_COLS if c not in ("kind", "case_number"))
            conn.execute(text(f"UPDATE dol_cases SET {sets} FROM {CHANGED} u WHERE dol_cases.id = u.id"))
        conn.execute(text(f"DROP TABLE {CHANGED}"))
        missing = "WHERE NOT EXISTS (SELECT 1 FROM dol_cases c WHERE c.kind = :kind AND c.case_number = w.case_number)"
    else:
        missing = ""
    # Ids follow the order of the file, whatever the backend.
    res = conn.execute(
        text(f"INSERT INTO dol_cases ({cols}) SELECT {cols} FROM {source} w {missing} ORDER BY w.seq"), {"kind": kind}
    )
    summary.inserted += res.rowcount if res.rowcount is not None and res.rowcount >= 0 else 0
    years = [y for (y,) in conn.execute(text(years_sql.format(source))) if y is not None]
    if source == WINNERS:
        conn.execute(text(f"DROP TABLE {WINNERS}"))
    return sorted(years)


def _load_cases(
    conn: Connection,
    batches: Batches,
    stats: Callable[[], ReadStats],
    fixed: dict[str, str],
    summary: FileSummary,
    tick: Any,
    defer: bool,
    forms: NameForms | None,
    idle: _Idle | None = None,
) -> tuple[list[int], Pending | None]:
    """Stage the file's cases and merge them into dol_cases; returns the fiscal years and, if deferred, what the
    entity build needs to insert them.

    `stats` is read once `batches` is spent. With `defer`, a file that shares no case with the store is left
    staged: the entity build inserts its cases with their entity ids, so no case is written twice. (Should the
    file repeat a case, that insert fails and the caller merges it after all.) The filer and trade names met
    are queued in `forms`, for the build.
    """
    kind = fixed["kind"]
    stage = _stage_table(conn.dialect.name == "sqlite", fixed)
    stage.create(conn)
    writer = _StageWriter(conn)
    tally = _Tally(kind)
    if idle is not None and defer and conn.dialect.name == "sqlite":
        # The stage's seq is its rowid there, so a chunk of it is read by range, not by scanning it all.
        idle.conn = conn
    try:
        for batch, position in batches:
            if defer:
                tally.add(batch)
            if idle is not None and batch:
                idle.staged = batch[-1][0]
            if forms is not None:
                forms.add({r[_NAME] for r in batch}, filer=True)
                forms.add({r[_TRADE] for r in batch}, filer=False)
            writer.write(batch)
            tick(position)
    finally:
        writer.close()
    read = stats()
    summary.rows += read.rows
    summary.blank_rows += read.blank
    summary.skipped += read.skipped
    summary.notes += read.notes
    if idle is not None:
        idle.conn = None
    if defer and not _overlaps(conn, kind):
        years = [y for (y,) in conn.execute(text(f"SELECT DISTINCT fiscal_year FROM {STAGE}")) if y is not None]
        pending = tally.pending()
        pending.counted = idle.counted if idle is not None else None
        return sorted(years), pending
    tick(None, "merging")
    years = _merge_cases(conn, kind, summary)
    drop_stage(conn)
    return years, None


class _Tally:
    """Counts staged cases as the build would count them in the database: per filer and trade name, and each
    filer's latest cases (see entities.Pending)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.filers: list[tuple[str, str | None, str | None]] = []
        # Cases per filer without a trade name (by far the most), and per (filer, trade name) with one.
        self.plain: list[int] = []
        self.traded: dict[tuple[int, str], int] = {}
        self.latest: dict[int, list[tuple[Any, str]]] = {}

    def add(self, batch: list[tuple[Any, ...]]) -> None:
        filers, plain, traded, latest = self.filers, self.plain, self.traded, self.latest
        for row in batch:
            fid = row[1]
            if fid == len(filers):  # filers are numbered as they first appear
                filers.append((row[_NAME], row[_FEIN], row[_STATE]))
                plain.append(0)
            trade = row[_TRADE]
            if trade is None:
                plain[fid] += 1
            else:
                traded[(fid, trade)] = traded.get((fid, trade), 0) + 1
            if row[_DECISION] is not None:
                case = (row[_DECISION], row[_CASE])
                cases = latest.get(fid)
                if cases is None:
                    latest[fid] = [case]
                elif len(cases) < SAMPLES:
                    cases.append(case)
                    cases.sort(reverse=True)
                elif case > cases[-1]:
                    cases[-1] = case
                    cases.sort(reverse=True)

    def pending(self) -> Pending:
        groups: dict[tuple[int, str | None], int] = {(fid, None): n for fid, n in enumerate(self.plain) if n}
        groups.update(self.traded)
        return Pending(STAGE, CASE_COLS, self.kind, self.filers, groups, self.latest)


def drop_stage(conn: Connection) -> None:
    conn.execute(text(f"DROP TABLE {STAGE}"))
    # Counts made ahead for a build that did not use them (the file was merged instead).
    conn.execute(text(f"DROP TABLE IF EXISTS {PENDING_YEARS}"))


class _Idle:
    """What the loader does while the reader's next batch is not there yet: normalise the names met so far, then
    (on SQLite, for a file whose build will insert its cases) count the staged cases' yearly figures a chunk at
    a time, which the build would otherwise do after the whole file is read."""

    def __init__(self, forms: NameForms | None) -> None:
        self.forms = forms
        self.conn: Connection | None = None
        self.staged = 0  # the highest seq staged
        self.counted: int | None = None

    def __call__(self) -> bool:
        if self.forms is not None and self.forms.work(64):
            return True
        if self.conn is None or self.staged - (self.counted or 0) < COUNT_CHUNK:
            return False
        self.counted = count_ahead(self.conn, STAGE, self.counted, self.staged)
        return True


def _overlaps(conn: Connection, kind: str) -> bool:
    """Does any staged case number belong to a stored case of this kind?"""
    if conn.execute(text("SELECT 1 FROM dol_cases WHERE kind = :kind LIMIT 1"), {"kind": kind}).first() is None:
        return False
    return _shares_a_case(conn, STAGE, kind)


def _shares_a_case(conn: Connection, source: str, kind: str) -> bool:
    """Does any case number in `source` belong to a stored case of this kind? One look-up in the stored cases'
    unique index per staged case, in file order, stopping at the first found."""
    if conn.dialect.name == "postgresql":
        # Spelled as a lateral look-up: with the stored cases' statistics behind the load (they are gathered after
        # commits), a plain join made PostgreSQL scan every stored case of the kind for every staged one.
        probe = (
            f"SELECT 1 FROM {source} w CROSS JOIN LATERAL (SELECT 1 FROM dol_cases c WHERE c.kind = :kind "
            "AND c.case_number = w.case_number LIMIT 1) x LIMIT 1"
        )
    else:
        probe = f"SELECT 1 FROM {source} w JOIN dol_cases c ON c.kind = :kind AND c.case_number = w.case_number LIMIT 1"
    return conn.execute(text(probe), {"kind": kind}).first() is not None


def _load_uscis(conn: Connection, table: Table, layout: Layout, summary: FileSummary, tick: Any) -> list[int]:
    cols = layout.resolve(table.header, str(table.path))
    source = table.path.name
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    count_fields = ("initial_approval", "initial_denial", "continuing_approval", "continuing_denial")
    for n, row in enumerate(table.rows):
        if is_blank(row):
            summary.blank_rows += 1
            continue
        summary.rows += 1
        fy = v.parse_count(_cell(row, cols.get("fiscal_year")))
        name = v.text(_cell(row, cols.get("employer_name")))
        if fy is None or not name:
            summary.skipped += 1
            if len(summary.notes) < MAX_NOTES:
                summary.notes.append(f"row {n + 2}: no fiscal year or employer")
            continue
        counts: dict[str, int | None] = {}
        for f in count_fields:
            parts = layout.sums.get(f, (f,))
            vals = [v.parse_count(_cell(row, cols.get(p))) for p in parts]
            present = [x for x in vals if x is not None]
            counts[f] = sum(present) if present else None
        tax = "".join(ch for ch in (v.text(_cell(row, cols.get("tax_id"))) or "") if ch in "0123456789")
        key = (
            fy,
            " ".join(name.split())[:300],
            tax[-4:].zfill(4) if tax else "",
            (v.text(_cell(row, cols.get("state"))) or "").upper()[:40],
            (v.text(_cell(row, cols.get("city"))) or "").upper()[:100],
            (v.text(_cell(row, cols.get("zip"))) or "")[:10],
        )
        if key in merged:
            summary.duplicates_in_file += 1
            old = merged[key]
            for f in count_fields:
                if counts[f] is not None:
                    old[f] = (old[f] or 0) + counts[f]
            continue
        merged[key] = {
            "fiscal_year": key[0],
            "employer_name": key[1],
            "tax_id": key[2],
            "state": key[3],
            "city": key[4],
            "zip": key[5],
            "naics": (v.text(_cell(row, cols.get("naics"))) or "")[:10] or None,
            **counts,
            "layout": layout.name,
            "source_file": source[:300],
        }
        if summary.rows % BATCH == 0:
            tick()
    t = UscisEmployerYear.__table__
    natural = ("fiscal_year", "employer_name", "tax_id", "state", "city", "zip")
    years = sorted({k[0] for k in merged})
    updates: list[dict[str, Any]] = []
    if years:
        for row in conn.execute(select(t).where(t.c.fiscal_year.in_(years))).mappings():
            rec = merged.pop(tuple(row[k] for k in natural), None)
            if rec is None:
                continue
            if _same(rec, row, natural):
                summary.unchanged += 1
            else:
                updates.append({**rec, "id": row["id"]})
    update_rows(conn, t, updates)
    summary.replaced = len(updates)
    summary.inserted = insert_rows(conn, t, list(merged.values()))
    return years


def live_progress(enabled: bool = True) -> Progress | None:
    """A progress display on a terminal; None (silent) when output goes to a log or a pipe."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        return None
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console, transient=False)


@contextmanager
def shown_progress(enabled: bool = True) -> Iterator[Progress | None]:
    """`live_progress`, running for the block (None off a terminal)."""
    prog = live_progress(enabled)
    if prog is None:
        yield None
        return
    with prog:
        yield prog


def _hashed(reader: CaseReader, path: Path, progress: Progress | None) -> str:
    """The SHA-256 the reader works out for the file it started, shown as a step on the way."""
    task = progress.add_task(f"hashing {path.name}", total=None) if progress else None
    sha = reader.sha()
    assert sha is not None  # without a timeout it waits
    if progress is not None and task is not None:
        progress.update(task, total=1, completed=1)
    return sha


def _already_loaded(conn: Connection, path: Path, sha: str) -> FileSummary | None:
    """The summary of a file whose exact content was loaded before, or None."""
    row = conn.execute(text(LOADED_SQL.format(sha=":sha")), {"sha": sha}).first()
    return None if row is None else loaded_summary(path, row)


def ingest_file(
    conn: Connection,
    path: Path,
    progress: Progress | None = None,
    sha256: str | None = None,
    force: bool = False,
    defer: bool = False,
    reader: CaseReader | None = None,
    forms: NameForms | None = None,
) -> FileSummary:
    """Load one file inside the caller's transaction; raises IngestError naming the file on bad input.

    A file whose content hash is already in dol_files is not read again. With `defer`, new cases may be left
    staged (`summary.staged`): the caller then runs the entity build with them before committing. A `reader`
    reads case files in its own process; meanwhile the names met are normalised into `forms`, for the build.
    """
    # A fixed cost, not per row; the entity build, which does not need it filled, runs with the default again.
    with sqlite_cache(conn):
        return _ingest_file(conn, path, progress, sha256, force, defer, reader, forms)


def _ingest_file(
    conn: Connection,
    path: Path,
    progress: Progress | None,
    sha256: str | None,
    force: bool,
    defer: bool,
    reader: CaseReader | None,
    forms: NameForms | None,
) -> FileSummary:
    started = time.perf_counter()
    table = open_table(path)
    try:
        layout = detect_layout(table.header, str(path))
        if reader is not None:
            # The child hashes the file, then reads on while this process looks the hash up: if the file was
            # loaded before, what it read is dropped (a few batches at most).
            if reader.path != path:
                reader.start(path)
            try:
                sha = sha256 or _hashed(reader, path, progress)
                done = None if force else _already_loaded(conn, path, sha)
            except BaseException:
                reader.cancel()
                raise
            if done is not None or layout.kind == "uscis":
                reader.cancel()  # a hub file is read here, and small
            if layout.kind == "uscis":
                reader = None
            else:
                table.close()
        else:
            sha = sha256 or file_sha256(path, progress)
            done = None if force else _already_loaded(conn, path, sha)
        if done is not None:
            done.seconds = round(time.perf_counter() - started, 2)
            return done
        summary = FileSummary(str(path), layout.name, layout.kind, blank_rows=table.blank_rows_before_header)
        summary.sha256 = sha
        task = progress.add_task(f"{path.name} ({layout.name})", total=table.total) if progress else None

        def tick(at: int | None = None, step: str | None = None) -> None:
            if progress is not None and task is not None:
                progress.update(task, completed=position(table) if at is None else at)
                if step:
                    progress.update(task, description=f"{path.name}: {step}")

        # What _case_record gives every case of this file.
        fixed = {"kind": layout.kind, "layout": layout.name, "source_file": path.name[:300]}
        if layout.kind == "uscis":
            years = _load_uscis(conn, table, layout, summary, tick)
        elif reader is not None:
            idle = _Idle(forms)
            batches = reader.batches(idle)
            years, summary.staged = _load_cases(
                conn, batches, lambda: reader.stats, fixed, summary, tick, defer, forms, idle
            )
        else:
            stats = ReadStats()
            years, summary.staged = _load_cases(
                conn, read_cases(table, layout, stats), lambda: stats, fixed, summary, tick, defer, forms
            )
    finally:
        table.close()
    if progress is not None and task is not None:
        progress.update(task, completed=table.total, description=f"{path.name} ({layout.name})")
    # Read again on request (--force): the file's row is replaced, not duplicated.
    conn.execute(DolFile.__table__.delete().where(DolFile.__table__.c.sha256 == sha))
    conn.execute(
        DolFile.__table__.insert().values(
            name=path.name[:300],
            kind=layout.kind,
            layout=layout.name,
            fiscal_years=",".join(str(y) for y in years)[:100] or None,
            rows=summary.rows,
            size=path.stat().st_size,
            sha256=sha,
            loaded_at=utcnow(),
        )
    )
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def check_headers(paths: list[Path]) -> None:
    """Fail before writing anything if any file is missing, unreadable, or of an unknown layout."""
    for path in paths:
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
        header = read_header(path)
        detect_layout(header, str(path)).resolve(header, str(path))


def ingest_paths(
    db_url: str,
    paths: list[Path],
    progress: bool = True,
    force: bool = False,
    reader: CaseReader | None = None,
    spare: CaseReader | None = None,
) -> list[FileSummary]:
    """Load each file in its own transaction, then rebuild employer entities and (if postings exist) the tags.

    When every file was loaded before (same content hash), nothing is rebuilt: the database already says it.
    A caller may pass its own `reader` (and close it after), started early, perhaps on the first file already,
    and a `spare` one, which reads each next file while the loader is still on one.
    """
    paths = [Path(p) for p in paths]
    check_headers(paths)
    if reader is not None:
        return _ingest_paths(db_url, paths, progress, force, reader, spare)
    # Started first, so the forked readers hold no database connection and no progress thread.
    with case_readers(len(paths)) as (reader, spare):
        return _ingest_paths(db_url, paths, progress, force, reader, spare)


def _ingest_paths(
    db_url: str,
    paths: list[Path],
    progress: bool,
    force: bool,
    reader: CaseReader | None,
    spare: CaseReader | None,
) -> list[FileSummary]:
    engine = dbmod.get_engine(db_url)
    summaries: list[FileSummary] = []
    # Names met while loading, normalised while the reader is ahead: the entity build needs every one.
    forms = NameForms() if reader is not None else None
    with shown_progress(progress) as prog, no_gc():
        for i, path in enumerate(paths):
            if spare is not None and i + 1 < len(paths):
                # A workbook is read several times slower than it is written: the next one is read on the other
                # core meanwhile (2.5 million cases in nine workbooks: 148 s instead of 209 s on SQLite).
                spare.start(paths[i + 1], ahead=AHEAD_NEXT)
            with engine.begin() as conn:
                # The last file's new cases can go in with their entity ids, built in the same transaction.
                last = i == len(paths) - 1
                summary = ingest_file(conn, path, prog, force=force, defer=last, reader=reader, forms=forms)
                summaries.append(summary)
                if summary.staged is not None:
                    # The load's page cache is back at its usual size: what it freed goes back to the system.
                    return_freed_memory()
                    with Session(bind=conn) as session:
                        _build_staged(session, prog, forms, summary)
                        summary.retag_deferred = not _tag(session, db_url, prog, forms)
                    return summaries
            if spare is not None:
                reader, spare = spare, reader
        if all(s.already_loaded for s in summaries):
            with engine.connect() as conn:
                unlinked = conn.execute(text(UNLINKED_SQL)).first() is not None
                stale = entities_stale(conn)
            if not unlinked and not stale:
                return summaries
            # Every file was loaded before, but a run stopped by a later file's failure never built entities, or
            # an older version built them.
            summaries[-1].finished_earlier_run = unlinked
            summaries[-1].rebuilt_for_version = stale
        # The load's page cache was freed at commit; handed back, it does not add to the entity build's peak.
        return_freed_memory()
        with dbmod.session_scope(engine) as session:
            build_entities(session, progress=prog, forms=forms)
            summaries[-1].retag_deferred = not _tag(session, db_url, prog, forms)
    return summaries


def _build_staged(session: Session, prog: Progress | None, forms: NameForms | None, summary: FileSummary) -> None:
    """Rebuild entities, inserting the staged file's cases; if it repeats a case, merge it first after all."""
    pending = summary.staged
    assert pending is not None
    summary.staged = None
    conn = session.connection()
    ids = _case_ids(conn)
    try:
        with session.begin_nested():
            build_entities(session, progress=prog, pending=pending, forms=forms)
    except IntegrityError:
        # Only the insert of the cases can fail so: the file repeats a case. Merged the usual way (the latest
        # decision wins), it is built like any other load.
        _reset_case_ids(conn, ids)
        years = _merge_cases(conn, pending.kind, summary)
        f = DolFile.__table__
        fiscal_years = ",".join(str(y) for y in years)[:100] or None
        conn.execute(f.update().where(f.c.sha256 == summary.sha256).values(fiscal_years=fiscal_years))
        build_entities(session, progress=prog, forms=forms)
    else:
        summary.inserted += pending.inserted
    drop_stage(conn)


def _tag(session: Session, db_url: str, prog: Progress | None, forms: NameForms | None = None) -> bool:
    """The match index, built and saved, and the tags of any stored postings; False when a `jobagg run` holds the
    join (two writers of its rows would race, and a lost race would roll this load back): the run, or the next,
    re-tags.

    Built even when there are no postings yet: the first look-up, `jobagg why` or a front end's first request
    then reads it instead of building it (seconds at 300,000 filer names)."""
    from crawler.runlock import RunLocked, run_lock
    from matching.matchindex import load_index
    from matching.tagging import match_and_tag

    task = prog.add_task("building the match index", total=None) if prog else None
    # What the load and the entity build held (their name forms) and freed goes back first, so the index's memory
    # comes on top of less.
    if forms is not None:
        forms.clear()
    gc.collect()
    return_freed_memory()
    index, _ = load_index(session, keys_fresh=True)
    if prog is not None and task is not None:
        prog.update(task, total=1, completed=1)
    try:
        with run_lock(db_url):
            match_and_tag(session, index)
    except RunLocked:
        return False
    return True
