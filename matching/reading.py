"""Reading case files (PERM and LCA) into staged cases, in a child process where the platform can fork.

Kept free of the database layer, so the child can be started before the loader has even imported it.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from matching import values as v
from matching.layouts import Layout, detect_layout
from matching.normalize import normalize_fein
from matching.readers import IngestError, Table, is_blank, open_table

BATCH = 5000
MAX_NOTES = 20
# Batches the child may read ahead of the loader (about 0.5 MB each, pickled): enough to read on through the
# second or so the loader spends importing its modules and opening the database, which it would otherwise wait.
AHEAD = 32
# A reader started on the next file while the loader is still on one may read this far ahead: a whole 600,000-row
# LCA workbook, so two workbooks are read at once on two cores.
AHEAD_NEXT = 160


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

# The same for every case of a file (first and last in CASE_COLS): the stage table has them as column defaults.
FIXED = ("kind", "layout", "source_file")
assert CASE_COLS[:1] + CASE_COLS[-2:] == FIXED
# A staged tuple: the row's position in the file, its filer's number, then what varies from case to case.
STAGED = ("seq", "fid", *CASE_COLS[1:-2])
_R_NAME, _R_FEIN, _R_STATE = (CASE_COLS.index(c) for c in ("employer_name", "fein", "state"))

# The file fields a case is read from, in CASE_COLS order: the rest are the file's own or worked out from these.
_FIELDS = tuple(c for c in CASE_COLS if c not in (*FIXED, "fiscal_year", "is_ml"))
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
        status,
        received,
        decision,
        visa_class,
        name,
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


@dataclass
class ReadStats:
    """What reading a file's rows found besides the cases themselves."""

    rows: int = 0  # usable and unusable rows, blank ones aside
    blank: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


Batches = Iterator[tuple[list[tuple[Any, ...]], int]]


def read_cases(table: Table, layout: Layout, stats: ReadStats) -> Batches:
    """The file's usable rows as staged tuples, in batches, each with the read position; `stats` says the rest.

    A staged tuple holds STAGED: filers are numbered in the order they first appear.
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
        batch.append((seq, fid, *rec[1:-2]))
        if len(batch) >= BATCH:
            yield batch, position(table)
            batch = []
    stats.rows, stats.blank = seq, blank
    if batch:
        yield batch, position(table)


def position(table: Table) -> int:
    try:
        return table.position()
    except ValueError:  # the reader closed its file: everything was read
        return table.total


HASH_CHUNK = 1 << 20


def file_sha256(path: Path, progress: Any = None) -> str:
    """The file's SHA-256, hex; `progress` (a rich Progress) shows it going."""
    digest = hashlib.sha256()
    task = progress.add_task(f"hashing {path.name}", total=path.stat().st_size) if progress else None
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
            if progress is not None and task is not None:
                progress.advance(task, len(chunk))
    return digest.hexdigest()


def _serve_reads(requests: Any, out: Any, stop: Any) -> None:
    """The reader process: for each file it is sent, its SHA-256, then (for a case file) its batches and stats."""
    # The loader's ends of every reader's pipes came along with the fork: closed here, so that when the loader
    # dies (killed, out of memory) this process sees its pipes close and ends, instead of waiting forever.
    for end in _LOADER_ENDS:
        end.close()
    # Ctrl-C is the loader's to handle: it ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The sending thread needs the GIL after each write to the pipe; by default the reading thread would keep it
    # for up to 5 ms each time, and the loader would wait for batches already made.
    sys.setswitchinterval(0.0005)
    while True:
        try:
            request = requests.recv()
        except EOFError:  # the loader is gone
            return
        if request is None:
            return
        path, ahead = request
        _serve_one(Path(path), out, stop, ahead)


def _serve_one(path: Path, out: Any, stop: Any, ahead: int = AHEAD) -> None:
    # The hash first: hashing beside a busy reading thread is starved of the GIL, and alone it is quick. Then a
    # second thread sends, so reading runs ahead (up to `ahead` batches) while the loader is not taking any.
    try:
        out.send_bytes(b"h" + file_sha256(path).encode())
    except Exception as exc:  # every failure goes back to the loader, which raises it
        out.send_bytes(_failure(exc))
        return
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=ahead)
    sender = threading.Thread(target=_send_all, args=(pending, out))
    sender.start()
    try:
        stats = ReadStats()
        table = open_table(path)
        try:
            layout = detect_layout(table.header, str(path))
            if layout.kind == "uscis":
                pending.put(b"s")  # the loader reads hub files itself
                return
            for batch, at in read_cases(table, layout, stats):
                if stop.is_set():
                    break
                pending.put(b"r" + pickle.dumps((batch, at), pickle.HIGHEST_PROTOCOL))
        finally:
            table.close()
        pending.put(b"e" + pickle.dumps(stats))
    except Exception as exc:
        pending.put(_failure(exc))
    finally:
        pending.put(None)
        sender.join()


def _failure(exc: Exception) -> bytes:
    error = IngestError(str(exc)) if isinstance(exc, IngestError) else RuntimeError(traceback.format_exc())
    return b"x" + pickle.dumps(error)


def _send_all(pending: queue.Queue[bytes | None], out: Any) -> None:
    while (message := pending.get()) is not None:
        try:
            out.send_bytes(message)
        except OSError:  # the loader is gone: nobody will take what this process reads, so it ends now
            os._exit(1)


# This process's ends of the pipes to its live readers; a reader forked later must close them (see _serve_reads).
_LOADER_ENDS: list[Any] = []


class CaseReader:
    """Reads and parses case files in a child process while this one writes: the load uses both cores.

    Forked before any database connection or progress thread exists, so the child inherits neither. Files go
    one at a time: `start` one (the child hashes it first), take its `sha`, then all of `batches`, or `cancel`.
    """

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self._requests, requests = ctx.Pipe()
        self._out, out = ctx.Pipe(duplex=False)
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_serve_reads, args=(requests, out, self._stop), daemon=True)
        _LOADER_ENDS.extend((self._requests, self._out))
        self._proc.start()
        requests.close()
        out.close()
        self.path: Path | None = None
        self.stats = ReadStats()
        self._sha: str | None = None
        self._failed: BaseException | None = None
        self._busy = False

    @classmethod
    def fork(cls) -> CaseReader | None:
        """A reader, or None where processes cannot be forked (the loader then reads in-process)."""
        return cls() if "fork" in multiprocessing.get_all_start_methods() else None

    def start(self, path: Path, ahead: int = AHEAD) -> None:
        """Start reading `path`; the child reads up to `ahead` batches before the loader takes any."""
        self._stop.clear()
        self._requests.send((str(path), ahead))
        self.path, self._sha, self._failed, self._busy = path, None, None, True

    def sha(self, timeout: float | None = None) -> str | None:
        """The started file's SHA-256 (hex), waiting for it (with a `timeout` in seconds, None if it is not ready)."""
        if self._sha is None:
            if timeout is not None and self._failed is None and not self._out.poll(timeout):
                return None
            self._sha = self._next()[1:].decode()
        return self._sha

    def _next(self) -> bytes:
        if self._failed is not None:
            raise self._failed  # the file's read already failed: the child sends nothing more for it
        message: bytes = self._out.recv_bytes()
        if message[:1] == b"x":
            self._busy = False
            self._failed = pickle.loads(message[1:])
            raise self._failed
        return message

    def batches(self, idle: Callable[[], bool] | None = None) -> Batches:
        """The started file's batches; `idle` is called while none has arrived, until it says it has no more to do."""
        self.sha()
        while True:
            if idle is not None:
                while not self._out.poll() and idle():
                    pass
            message = self._next()
            tag = message[:1]
            if tag == b"r":
                yield pickle.loads(message[1:])
            else:
                self._busy = False
                if tag == b"e":
                    self.stats = pickle.loads(message[1:])
                return

    def cancel(self) -> None:
        """Stop reading the started file and drop what it sent."""
        if not self._busy:
            return
        self._stop.set()
        with suppress(IngestError, RuntimeError):
            self.sha()
            while self._next()[:1] == b"r":
                pass
        self._busy = False
        self.path = None

    def close(self) -> None:
        if self._proc.is_alive() and not self._busy:
            with suppress(OSError):
                self._requests.send(None)
            self._proc.join(timeout=5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        for end in (self._requests, self._out):
            if end in _LOADER_ENDS:
                _LOADER_ENDS.remove(end)
            end.close()


@contextmanager
def case_readers(files: int) -> Iterator[tuple[CaseReader | None, CaseReader | None]]:
    """A reader (None where processes cannot be forked) and, for several files, a spare one that reads each next
    file while the loader is on one; both closed on leaving. Fork them before any database connection exists."""
    reader = CaseReader.fork()
    spare = CaseReader.fork() if reader is not None and files > 1 else None
    try:
        yield reader, spare
    finally:
        for r in (reader, spare):
            if r is not None:
                r.close()
