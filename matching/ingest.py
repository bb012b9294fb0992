"""Load PERM, LCA and USCIS hub files into the database: one transaction per file, then rebuild entities."""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import Column, Connection, Integer, MetaData, func, select, text
from sqlalchemy import Table as SaTable
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler import db as dbmod
from crawler.models import DolCase, DolFile, Posting, UscisEmployerYear, utcnow
from matching import values as v
from matching.bulk import insert_rows, sqlite_cache, update_rows
from matching.entities import Pending, build_entities, keep_latest
from matching.layouts import Layout, detect_layout
from matching.matchindex import no_gc
from matching.normalize import NameForms, normalize_fein
from matching.readers import IngestError, Table, is_blank, open_table, read_header

BATCH = 5000
MAX_NOTES = 20

__all__ = ["FileSummary", "IngestError", "ingest_paths"]


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
    sha256: str = ""
    # Its new cases, left in the stage table for the entity build to insert.
    staged: Pending | None = field(default=None, repr=False)


def _cell(row: list[Any], idx: int | None) -> Any:
    if idx is None or idx >= len(row):
        return None
    return row[idx]


# Column order of a staged case; `_case_record` returns a tuple in this order.
CASE_COLS = (
    "kind",
    "case_number",
    "status",
    "received_date",
    "decision_date",
    "fiscal_year",
    "visa_class",
    "employer_name",
    "trade_name",
    "fein",
    "city",
    "state",
    "naics",
    "job_title",
    "soc_code",
    "is_ml",
    "wage_from",
    "wage_to",
    "wage_unit",
    "wage_level",
    "secondary_entity",
    "secondary_entity_name",
    "layout",
    "source_file",
)
# Where a row came from, not what it says: a case repeated unchanged in a later release keeps its row as is.
PROVENANCE = ("layout", "source_file")
CONTENT_COLS = tuple(c for c in CASE_COLS if c not in (*PROVENANCE, "kind", "case_number"))
# A staged tuple is `seq`, `fid` (the filer's number), then CASE_COLS: where it holds what is counted by.
_CASE, _DECISION, _NAME, _TRADE, _FEIN, _STATE = (
    2 + CASE_COLS.index(c) for c in ("case_number", "decision_date", "employer_name", "trade_name", "fein", "state")
)
_R_NAME, _R_FEIN, _R_STATE = _NAME - 2, _FEIN - 2, _STATE - 2
STAGE = "jobagg_stage_cases"
WINNERS = "jobagg_stage_winners"
CHANGED = "jobagg_stage_changed"


_FIELDS = (
    "case_number",
    "employer_name",
    "status",
    "received_date",
    "decision_date",
    "visa_class",
    "trade_name",
    "fein",
    "city",
    "state",
    "naics",
    "job_title",
    "soc_code",
    "wage_from",
    "wage_to",
    "wage_unit",
    "wage_level",
    "secondary_entity",
    "secondary_entity_name",
)
_CACHE_MAX = 200_000


def _short(value: Any, n: int) -> str | None:
    s = v.text(value)
    return s[:n] if s else None


class _Memo(dict[Any, Any]):
    """A cell parser memoised over the raw cell: cells repeat (dates, statuses, FEINs), so most reads are hits.

    A hit is a plain dict lookup with no Python call; only a miss runs the parser. Every cell our readers yield
    (text, numbers, dates, None) is hashable.
    """

    __slots__ = ("fn",)

    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, value: Any) -> Any:
        if len(self) >= _CACHE_MAX:
            self.clear()
        out = self[value] = self.fn(value)
        return out


def _date_iso(value: Any) -> tuple[str | None, int | None]:
    d = v.parse_date(value)
    return (d.isoformat(), v.fiscal_year(d)) if d else (None, None)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return v.parse_number(value)


class _RowParser:
    """Pulls the loader's fields out of a row (all of `_FIELDS`, in order) with one C-level itemgetter."""

    def __init__(self, cols: dict[str, int]) -> None:
        present = [f for f in _FIELDS if f in cols]
        self.width = max(cols[f] for f in present) + 1
        # A field the layout lacks reads the None appended to the row.
        self.pad = len(present) < len(_FIELDS)
        self.get = itemgetter(*(cols.get(f, -1) for f in _FIELDS))
        self.date = _Memo(_date_iso)
        self.status = _Memo(v.normalize_status)
        self.unit = _Memo(v.normalize_unit)
        self.soc = _Memo(v.normalize_soc)
        self.fein = _Memo(normalize_fein)
        self.yes = _Memo(v.yes)
        self.ml = _Memo(lambda key: v.is_ml_case(*key))
        self.short = {n: _Memo(lambda value, n=n: _short(value, n)) for n in (10, 20, 100, 300)}
        # Filers, states and wages repeat too: memoised, each repeat is one look-up and shares one string. (A bool
        # wage is parsed as such: as a key it would find the number 1's entry.)
        self.name = _Memo(lambda value: _short(value, 300))
        self.state = _Memo(lambda value: s.upper() if (s := _short(value, 40)) else None)
        self.visa = _Memo(lambda value: _short(value, 30))
        self.number = _Memo(_number)

    def __call__(self, row: list[Any]) -> tuple[Any, ...]:
        missing = self.width - len(row) + self.pad
        if missing > 0 or self.pad:
            row = [*row, *([None] * max(missing, 1))]
        return self.get(row)


def _case_record(row: list[Any], cols: _RowParser, layout: Layout, source: str) -> tuple[Any, ...] | None:
    """One file row as a staged case (CASE_COLS order; dates as ISO text), or None when it is unusable."""
    (
        case_number,
        name,
        status,
        received,
        decision,
        visa_class,
        trade_name,
        fein,
        city,
        state,
        naics,
        title,
        soc,
        wage_from,
        wage_to,
        wage_unit,
        wage_level,
        secondary,
        secondary_name,
    ) = cols(row)
    case_number = case_number.strip() if type(case_number) is str else v.text(case_number)
    name = cols.name[name]
    if not case_number or not name:
        return None
    decision, fy = cols.date[decision]
    received, fy_received = cols.date[received]
    short = cols.short
    title = short[300][title]
    soc = cols.soc[soc]
    return (
        layout.kind,
        case_number[:40],
        cols.status[status],
        received,
        decision,
        fy or fy_received,
        cols.visa[visa_class],
        name,
        short[300][trade_name],
        cols.fein[fein],
        short[100][city],
        cols.state[state],
        short[10][naics],
        title,
        soc,
        cols.ml[(soc, title)],
        _number(wage_from) if type(wage_from) is bool else cols.number[wage_from],
        _number(wage_to) if type(wage_to) is bool else cols.number[wage_to],
        cols.unit[wage_unit],
        short[20][wage_level],
        cols.yes[secondary],
        short[300][secondary_name],
        layout.name,
        source[:300],
    )


def _newer(a: dict[str, Any], b_decision: Any) -> bool:
    """Is record `a` at least as recent a decision as `b_decision`? Later releases win ties."""
    ad = a["decision_date"]
    if b_decision is None:
        return True
    return ad is not None and ad >= b_decision


def _same(rec: dict[str, Any], row: Any, natural: tuple[str, ...]) -> bool:
    """Does the stored row already say what `rec` says (provenance and natural key aside)?"""
    return all(rec[k] == row[k] for k in rec if k not in PROVENANCE and k not in natural)


def _stage_table(sqlite: bool) -> SaTable:
    """A temporary table shaped like dol_cases (without ids) plus the row's position in the file."""
    cases = DolCase.__table__
    # On SQLite the position is the rowid: rows arrive in order, so reading them in file order needs no sort.
    cols = [Column("seq", Integer, primary_key=sqlite, autoincrement=False), Column("fid", Integer)]
    cols += [Column(c, cases.c[c].type) for c in CASE_COLS]
    return SaTable(STAGE, MetaData(), *cols, prefixes=["TEMPORARY"])


class _StageWriter:
    """Appends staged rows in batches: COPY on PostgreSQL, one executemany per batch on SQLite."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        names = ", ".join(("seq", "fid", *CASE_COLS))
        if self.pg:
            self.sql = f"COPY {STAGE} ({names}) FROM STDIN"
        else:
            self.sql = f"INSERT INTO {STAGE} ({names}) VALUES ({', '.join(['?'] * (len(CASE_COLS) + 2))})"
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
    overlap = conn.execute(text(f"SELECT 1 {join} LIMIT 1"), {"kind": kind}).first() is not None
    if overlap:
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


@dataclass
class _ReadStats:
    """What reading a file's rows found besides the cases themselves."""

    rows: int = 0  # usable and unusable rows, blank ones aside
    blank: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


Batches = Iterator[tuple[list[tuple[Any, ...]], int]]


def _read_cases(table: Table, layout: Layout, stats: _ReadStats) -> Batches:
    """The file's usable rows as staged tuples, in batches, each with the read position; `stats` says the rest.

    A staged tuple is `seq`, `fid` (its filer's number: filers are numbered in the order they first appear),
    then the case record.
    """
    resolved = layout.resolve(table.header, str(table.path))
    if table.want is not None:
        table.want(set(resolved.values()))
    cols = _RowParser(resolved)
    source = table.path.name
    batch: list[tuple[Any, ...]] = []
    seq = 0
    blank = 0
    fids: dict[tuple[str, str | None, str | None], int] = {}
    for row in table.rows:
        rec = _case_record(row, cols, layout, source)
        if rec is None:
            # Only an unusable row can be blank (a usable one has a case number), so only these are checked.
            if is_blank(row):
                blank += 1
                continue
            seq += 1
            stats.skipped += 1
            if len(stats.notes) < MAX_NOTES:
                stats.notes.append(f"row {seq + blank + 1}: no case number or employer")
            continue
        seq += 1
        filer = (rec[_R_NAME], rec[_R_FEIN], rec[_R_STATE])
        fid = fids.get(filer)
        if fid is None:
            fid = fids[filer] = len(fids)
        batch.append((seq, fid, *rec))
        if len(batch) >= BATCH:
            yield batch, _position(table)
            batch = []
    stats.rows, stats.blank = seq, blank
    if batch:
        yield batch, _position(table)


def _position(table: Table) -> int:
    try:
        return table.position()
    except ValueError:  # the reader closed its file: everything was read
        return table.total


def _serve_reads(requests: Any, out: Any, stop: Any) -> None:
    """The reader process: reads each file it is sent and sends back its case batches, then its stats."""
    # Ctrl-C is the loader's to handle: it ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while (path := requests.recv()) is not None:
        stats = _ReadStats()
        try:
            table = open_table(Path(path))
            try:
                layout = detect_layout(table.header, path)
                for batch, position in _read_cases(table, layout, stats):
                    if stop.is_set():
                        break
                    out.send(("rows", batch, position))
            finally:
                table.close()
        except Exception as exc:  # every failure goes back to the loader, which raises it
            error = IngestError(str(exc)) if isinstance(exc, IngestError) else RuntimeError(traceback.format_exc())
            out.send(("error", error))
        else:
            out.send(("end", stats))


class CaseReader:
    """Reads and parses case files in a child process while this one writes: the load uses both cores.

    Forked before any database connection or progress thread exists, so the child inherits neither. Files go
    one at a time: `start` one, then take all of `batches`, or `cancel` it.
    """

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self._requests, requests = ctx.Pipe()
        self._out, out = ctx.Pipe(duplex=False)
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_serve_reads, args=(requests, out, self._stop), daemon=True)
        self._proc.start()
        requests.close()
        out.close()
        self.stats = _ReadStats()
        self._busy = False

    @staticmethod
    def available() -> bool:
        return "fork" in multiprocessing.get_all_start_methods()

    def start(self, path: Path) -> None:
        self._stop.clear()
        self._requests.send(str(path))
        self._busy = True

    def batches(self, idle: Callable[[], bool] | None = None) -> Batches:
        """The started file's batches; `idle` is called while none has arrived, until it says it has no more to do."""
        while True:
            if idle is not None:
                while not self._out.poll() and idle():
                    pass
            msg = self._out.recv()
            if msg[0] == "rows":
                yield msg[1], msg[2]
            elif msg[0] == "end":
                self._busy = False
                self.stats = msg[1]
                return
            else:
                self._busy = False
                raise msg[1]

    def cancel(self) -> None:
        """Stop reading the started file and drop what it sent."""
        self._stop.set()
        try:
            for _ in self.batches():
                pass
        except (IngestError, RuntimeError):
            pass

    def close(self) -> None:
        if self._proc.is_alive() and not self._busy:
            with suppress(OSError):
                self._requests.send(None)
            self._proc.join(timeout=5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._requests.close()
        self._out.close()


def _load_cases(
    conn: Connection,
    batches: Batches,
    stats: Any,
    kind: str,
    summary: FileSummary,
    tick: Any,
    defer: bool,
    forms: NameForms | None,
) -> tuple[list[int], Pending | None]:
    """Stage the file's cases and merge them into dol_cases; returns the fiscal years and, if deferred, what the
    entity build needs to insert them.

    `stats` is read once `batches` is spent. With `defer`, a file that shares no case with the store is left
    staged: the entity build inserts its cases with their entity ids, so no case is written twice. (Should the
    file repeat a case, that insert fails and the caller merges it after all.) The filer and trade names met
    are queued in `forms`, for the build.
    """
    stage = _stage_table(conn.dialect.name == "sqlite")
    stage.create(conn)
    writer = _StageWriter(conn)
    tally = _Tally(kind)
    try:
        for batch, position in batches:
            if defer:
                tally.add(batch)
            if forms is not None:
                forms.add({r[_NAME] for r in batch}, filer=True)
                forms.add({r[_TRADE] for r in batch}, filer=False)
            writer.write(batch)
            tick(position)
    finally:
        writer.close()
    read: _ReadStats = stats()
    summary.rows += read.rows
    summary.blank_rows += read.blank
    summary.skipped += read.skipped
    summary.notes += read.notes
    if defer and not _overlaps(conn, kind):
        years = [y for (y,) in conn.execute(text(f"SELECT DISTINCT fiscal_year FROM {STAGE}")) if y is not None]
        return sorted(years), tally.pending()
    tick(None, "merging")
    years = _merge_cases(conn, kind, summary)
    drop_stage(conn)
    return years, None


class _Tally:
    """Counts staged cases as the build would count them in the database: per filer and trade name, with each
    filer's latest cases (see entities.Pending)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.filers: list[tuple[str, str | None, str | None]] = []
        self.groups: dict[tuple[int, str | None], int] = {}
        self.samples: dict[int, list[tuple[str, str]]] = {}

    def add(self, batch: list[tuple[Any, ...]]) -> None:
        filers, groups, samples = self.filers, self.groups, self.samples
        for row in batch:
            fid = row[1]
            if fid == len(filers):  # filers are numbered as they first appear
                filers.append((row[_NAME], row[_FEIN], row[_STATE]))
            group = (fid, row[_TRADE])
            groups[group] = groups.get(group, 0) + 1
            if row[_DECISION] is not None:
                keep_latest(samples, fid, row[_DECISION], row[_CASE])

    def pending(self) -> Pending:
        return Pending(STAGE, CASE_COLS, self.kind, self.filers, self.groups, self.samples)


def drop_stage(conn: Connection) -> None:
    conn.execute(text(f"DROP TABLE {STAGE}"))


def _overlaps(conn: Connection, kind: str) -> bool:
    """Does any staged case number belong to a stored case of this kind?"""
    if conn.execute(text("SELECT 1 FROM dol_cases WHERE kind = :kind LIMIT 1"), {"kind": kind}).first() is None:
        return False
    probe = f"SELECT 1 FROM {STAGE} w JOIN dol_cases c ON c.kind = :kind AND c.case_number = w.case_number LIMIT 1"
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
        tax = "".join(ch for ch in (v.text(_cell(row, cols.get("tax_id"))) or "") if ch.isdigit())
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
def _progress(enabled: bool) -> Iterator[Progress | None]:
    prog = live_progress(enabled)
    if prog is None:
        yield None
        return
    with prog:
        yield prog


HASH_CHUNK = 1 << 20


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    task = progress.add_task(f"hashing {path.name}", total=path.stat().st_size) if progress else None
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
            if progress is not None and task is not None:
                progress.advance(task, len(chunk))
    return digest.hexdigest()


def _already_loaded(conn: Connection, path: Path, sha: str) -> FileSummary | None:
    """The summary of a file whose exact content was loaded before, or None."""
    f = DolFile.__table__.c
    row = conn.execute(select(f.name, f.kind, f.layout).where(f.sha256 == sha)).first()
    if row is None:
        return None
    summary = FileSummary(str(path), row.layout, row.kind, already_loaded=True)
    # What is still stored as loaded from that file: later releases may since have replaced some of its cases.
    t = UscisEmployerYear.__table__ if row.kind == "uscis" else DolCase.__table__
    summary.unchanged = (
        conn.execute(select(func.count()).select_from(t).where(t.c.source_file == row.name)).scalar() or 0
    )
    return summary


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
        if reader is not None and layout.kind != "uscis":
            # The child reads while this process hashes the file; if it was loaded before, the read is dropped.
            reader.start(path)
            table.close()
        else:
            reader = None
        try:
            sha = sha256 or file_sha256(path, progress)
            done = None if force else _already_loaded(conn, path, sha)
        except BaseException:
            if reader is not None:
                reader.cancel()
            raise
        if done is not None:
            if reader is not None:
                reader.cancel()
            done.seconds = round(time.perf_counter() - started, 2)
            return done
        summary = FileSummary(str(path), layout.name, layout.kind, blank_rows=table.blank_rows_before_header)
        summary.sha256 = sha
        task = progress.add_task(f"{path.name} ({layout.name})", total=table.total) if progress else None

        def tick(position: int | None = None, step: str | None = None) -> None:
            if progress is not None and task is not None:
                progress.update(task, completed=_position(table) if position is None else position)
                if step:
                    progress.update(task, description=f"{path.name}: {step}")

        if layout.kind == "uscis":
            years = _load_uscis(conn, table, layout, summary, tick)
        elif reader is not None:
            idle = (lambda: forms.work(64)) if forms is not None else None
            batches = reader.batches(idle)
            years, summary.staged = _load_cases(
                conn, batches, lambda: reader.stats, layout.kind, summary, tick, defer, forms
            )
        else:
            stats = _ReadStats()
            years, summary.staged = _load_cases(
                conn, _read_cases(table, layout, stats), lambda: stats, layout.kind, summary, tick, defer, forms
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


def _return_freed_memory() -> None:
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


def ingest_paths(db_url: str, paths: list[Path], progress: bool = True, force: bool = False) -> list[FileSummary]:
    """Load each file in its own transaction, then rebuild employer entities and (if postings exist) the tags.

    When every file was loaded before (same content hash), nothing is rebuilt: the database already says it.
    """
    paths = [Path(p) for p in paths]
    check_headers(paths)
    # Started first, so the forked reader holds no database connection and no progress thread.
    reader = CaseReader() if CaseReader.available() else None
    try:
        return _ingest_paths(db_url, paths, progress, force, reader)
    finally:
        if reader is not None:
            reader.close()


def _ingest_paths(
    db_url: str, paths: list[Path], progress: bool, force: bool, reader: CaseReader | None
) -> list[FileSummary]:
    engine = dbmod.get_engine(db_url)
    summaries: list[FileSummary] = []
    # Names met while loading, normalised while the reader is ahead: the entity build needs every one.
    forms = NameForms() if reader is not None else None
    with _progress(progress) as prog, no_gc():
        for i, path in enumerate(paths):
            with engine.begin() as conn:
                # The last file's new cases can go in with their entity ids, built in the same transaction.
                last = i == len(paths) - 1
                summary = ingest_file(conn, path, prog, force=force, defer=last, reader=reader, forms=forms)
                summaries.append(summary)
                if summary.staged is not None:
                    with Session(bind=conn) as session:
                        _build_staged(session, prog, forms, summary)
                        _tag(session, prog)
                    return summaries
        if all(s.already_loaded for s in summaries):
            return summaries
        # The load's page cache was freed at commit; handed back, it does not add to the entity build's peak.
        _return_freed_memory()
        with dbmod.session_scope(engine) as session:
            build_entities(session, progress=prog, forms=forms)
            _tag(session, prog)
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


def _tag(session: Session, prog: Progress | None) -> None:
    """The tags, if there are postings."""
    from matching.matchindex import load_index
    from matching.tagging import match_and_tag

    if session.scalar(select(Posting.id).limit(1)) is None:
        # No postings to tag: the match index is built (and saved) by whoever first needs it.
        match_and_tag(session)
        return
    task = prog.add_task("building the match index", total=None) if prog else None
    index, _ = load_index(session)
    if prog is not None and task is not None:
        prog.update(task, total=1, completed=1)
    match_and_tag(session, index)
