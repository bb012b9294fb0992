"""Row readers for DOL/USCIS files: xlsx/xls via python-calamine, csv/tsv streamed in any encoding they ship in."""

from __future__ import annotations

import codecs
import csv
import gzip
import html
import io
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import iterparse

from python_calamine import CalamineWorkbook

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
GZIP_MAGIC = b"\x1f\x8b"
_CANON = re.compile(r"[^A-Z0-9]+")

# DOL free-text columns exceed csv's default 128 KiB field limit in a few rows.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class IngestError(Exception):
    """A file we cannot load; the message names the file and the columns involved."""


def canonical_header(name: object) -> str:
    """'Employer (Petitioner) Name ' -> 'EMPLOYER_PETITIONER_NAME'; 'CASE STATUS' -> 'CASE_STATUS'."""
    text = "" if name is None else str(name)
    return _CANON.sub("_", text.replace("\ufeff", "").strip().upper()).strip("_")


def _trim(header: list[str]) -> list[str]:
    """Drop trailing unnamed columns (sheets padded wider than their header)."""
    while header and not header[-1]:
        header.pop()
    return header


def is_blank(row: list[Any]) -> bool:
    try:
        # Text rows (csv): whitespace-only cells join into whitespace-only text, one C call for the row.
        return not "".join(row).strip()
    except TypeError:
        return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


@dataclass
class Table:
    """A header plus a row iterator; `position()` and `total` drive a progress bar in the same unit."""

    path: Path
    header: list[str]
    rows: Iterator[list[Any]]
    total: int
    position: Callable[[], int]
    close: Callable[[], None]
    blank_rows_before_header: int = 0
    # Set by readers that can skip unwanted columns cheaply: call with the column indexes the loader needs.
    want: Callable[[set[int]], None] | None = None


def sniff_format(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(XLSX_MAGIC):
        return "xlsx"  # also the USCIS ".csv" downloads that are really workbooks
    if head.startswith(XLS_MAGIC):
        return "xls"
    return "text"


def _text_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"
    if sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # UTF-16 without a BOM: every other byte of ASCII text is NUL.
    if sample[1:200:2].count(0) > 50:
        return "utf-16-le"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the sample is fine; anything earlier is not UTF-8.
        if exc.start < len(sample) - 4:
            return "cp1252"
    return "utf-8"


def open_table(path: Path) -> Table:
    fmt = sniff_format(path)
    if fmt == "xlsx":
        table = _open_xlsx_stream(path)
        if table is not None:
            return table
    if fmt in ("xlsx", "xls"):
        return _open_workbook(path)
    return _open_text(path)


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _col_index(ref: str) -> int:
    n = 0
    for ch in ref:
        if not ch.isalpha():
            break
        n = n * 26 + ord(ch.upper()) - 64
    return n - 1


def xlsx_header(path: Path) -> list[str] | None:
    """The first non-blank row of the first sheet, read from the zip without loading the sheet.

    Checking headers before a multi-file ingest must not read a 250 MB workbook twice; None means "could not
    tell cheaply" and the caller falls back to the full reader.
    """
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            sheet = _sheet_path(z)
            cells: dict[int, tuple[str, str]] = {}
            with z.open(sheet) as f:
                for _, elem in iterparse(f):
                    if elem.tag == f"{_NS}c":
                        kind = elem.get("t", "n")
                        value = elem.findtext(f"{_NS}v")
                        if kind == "inlineStr":
                            value = "".join(t.text or "" for t in elem.iter(f"{_NS}t"))
                        if value is not None and value.strip():
                            cells[_col_index(elem.get("r", "A"))] = (kind, value)
                    elif elem.tag == f"{_NS}row":
                        if cells:
                            break
                        elem.clear()
            if not cells:
                return None
            wanted = {int(v) for k, v in cells.values() if k == "s"}
            shared: dict[int, str] = {}
            if wanted and "xl/sharedStrings.xml" in names:
                with z.open("xl/sharedStrings.xml") as f:
                    i = 0
                    for _, elem in iterparse(f):
                        if elem.tag == f"{_NS}si":
                            if i in wanted:
                                shared[i] = "".join(t.text or "" for t in elem.iter(f"{_NS}t"))
                            i += 1
                            elem.clear()
                            if i > max(wanted):
                                break
            width = max(cells) + 1
            return _trim(
                [
                    canonical_header(shared.get(int(v), "") if k == "s" else v)
                    for k, v in (cells.get(i, ("n", "")) for i in range(width))
                ]
            )
    except (KeyError, StopIteration, zipfile.BadZipFile, ValueError, SyntaxError):
        return None


def read_header(path: Path) -> list[str]:
    """Just the canonical header of any supported file (cheap for workbooks)."""
    if sniff_format(path) == "xlsx":
        header = xlsx_header(path)
        if header is not None:
            return header
    table = open_table(path)
    table.close()
    return table.header


def _open_workbook(path: Path) -> Table:
    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_index(0)
    except Exception as exc:
        raise IngestError(f"{path}: cannot read workbook: {exc}") from exc
    it = iter(sheet.iter_rows())
    skipped = 0
    for row in it:
        if not is_blank(row):
            header = _trim([canonical_header(h) for h in row])
            break
        skipped += 1
    else:
        raise IngestError(f"{path}: the first sheet is empty (no header row)")
    counter = [skipped + 1]

    def rows() -> Iterator[list[Any]]:
        for r in it:
            counter[0] += 1
            yield r

    return Table(path, header, rows(), max(sheet.total_height, 1), lambda: counter[0], lambda: None, skipped)


def _open_text(path: Path) -> Table:
    packed = path.open("rb")
    # A gzipped CSV (how mirrors and our own fixtures ship the hub exports) is read as it streams out.
    gzipped = packed.read(2) == GZIP_MAGIC
    packed.seek(0)
    raw: IO[bytes] = gzip.GzipFile(fileobj=packed, mode="rb") if gzipped else packed

    def close() -> None:
        raw.close()
        packed.close()

    try:
        sample = raw.read(65536)
    except (OSError, EOFError) as exc:
        close()
        raise IngestError(f"{path}: not a readable gzip file: {exc}") from exc
    raw.seek(0)
    encoding = _text_encoding(sample)
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    reader_probe = text.readline()
    skipped = 0
    while reader_probe and not reader_probe.strip(" \t\r\n,"):
        skipped += 1
        reader_probe = text.readline()
    if not reader_probe:
        close()
        raise IngestError(f"{path}: the file is empty (no header row)")
    delimiter = "\t" if reader_probe.count("\t") > reader_probe.count(",") else ","
    header_cells = next(csv.reader([reader_probe], delimiter=delimiter))
    header = _trim([canonical_header(h) for h in header_cells])
    size = path.stat().st_size

    def rows() -> Iterator[list[Any]]:
        try:
            yield from csv_rows(text, delimiter)
        except (OSError, EOFError) as exc:
            raise IngestError(f"{path}: the gzip stream is cut or corrupt: {exc}") from exc
        finally:
            close()

    # Progress is counted in the file's own (compressed) bytes, which is what its size measures.
    return Table(path, header, rows(), max(size, 1), packed.tell, close, skipped)


class _Feed:
    """Lines for a csv.reader: the one it is handed, then (for a quoted field that spans lines) the file's next."""

    __slots__ = ("line", "lines")

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.line: str | None = None

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        line = self.line
        if line is None:
            return next(self.lines)
        self.line = None
        return line


def csv_rows(lines: Iterator[str], delimiter: str = ",") -> Iterator[list[str]]:
    """The rows csv.reader makes of `lines` (read with newline=""), most of them made by str.split instead.

    A line without quotes is its cells; a line whose quotes each wrap a whole cell on that line is split around
    them. Anything else (a quote inside a cell, a doubled quote, a cell that spans lines, a NUL) goes to
    csv.reader itself, which then reads on through the file as far as the row goes.
    """
    feed = _Feed(lines)
    reader = csv.reader(feed, delimiter=delimiter)
    for line in lines:
        if '"' in line or "\0" in line:
            cells = None if "\0" in line else _split_quoted(line, delimiter)
            if cells is None:
                feed.line = line
                cells = next(reader)
            yield cells
        else:
            line = line.rstrip("\r\n")
            yield line.split(delimiter) if line else []


def _split_quoted(line: str, d: str) -> list[str] | None:
    """A line's cells when every quote in it opens or closes a whole cell (as csv.writer writes them), else None."""
    parts = line.split('"')
    last = len(parts) - 1
    if last % 2:
        return None  # a quote left open: the cell goes on in the next line, or the quote is inside a cell
    first = parts[0]
    if first:
        if first[-1] != d:
            return None
        cells = first[:-1].split(d)
    else:
        cells = []
    for i in range(1, last, 2):
        cells.append(parts[i])
        between = parts[i + 1]
        if i + 1 == last:
            between = between.rstrip("\r\n")
            if between:
                if between[0] != d:
                    return None
                cells += between[1:].split(d)
        elif len(between) == 1:
            if between != d:
                return None
        elif not between or between[0] != d or between[-1] != d:
            return None  # a doubled quote, or a quote inside a cell
        else:
            cells += between[1:-1].split(d)
    return cells


# Streaming xlsx: python-calamine loads a whole sheet into memory (gigabytes for a 600,000-row LCA workbook),
# so workbooks are read straight from the zip, a few megabytes at a time, keeping only the cells the loader needs.
_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_ATTR_T = re.compile(rb'\bt="([a-zA-Z]+)"')
_ATTR_S = re.compile(rb'\bs="([0-9]+)"')
_V = re.compile(rb"<v>(.*?)</v>", re.S)
_T = re.compile(rb"<t(?: [^>]*)?>(.*?)</t>", re.S)
_DATE_FMT_IDS = frozenset(range(14, 23)) | frozenset(range(45, 48))
_STREAM_CHUNK = 1 << 22
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _xml_text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return html.unescape(text) if "&" in text else text


def _sheet_path(z: zipfile.ZipFile) -> str:
    names = set(z.namelist())
    sheet = "xl/worksheets/sheet1.xml"
    if "xl/workbook.xml" in names and "xl/_rels/workbook.xml.rels" in names:
        with z.open("xl/workbook.xml") as f:
            first = next(e for _, e in iterparse(f) if e.tag == f"{_NS}sheet")
        rid = first.get(f"{_REL_NS}id")
        with z.open("xl/_rels/workbook.xml.rels") as f:
            for _, rel in iterparse(f):
                if rel.get("Id") == rid:
                    target = rel.get("Target", "").lstrip("/")
                    sheet = target if target.startswith("xl/") else f"xl/{target}"
                    break
    return sheet


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in z.namelist():
        return []
    out: list[str] = []
    with z.open("xl/sharedStrings.xml") as f:
        for _, elem in iterparse(f):
            if elem.tag == f"{_NS}si":
                out.append("".join(t.text or "" for t in elem.iter(f"{_NS}t")))
                elem.clear()
    return out


def _date_styles(z: zipfile.ZipFile) -> set[int]:
    """Indexes of cell styles whose number format is a date: their numbers are Excel date serials."""
    if "xl/styles.xml" not in z.namelist():
        return set()
    custom: dict[int, str] = {}
    styles: list[int] = []
    with z.open("xl/styles.xml") as f:
        in_xfs = False
        for event, elem in iterparse(f, events=("start", "end")):
            if elem.tag == f"{_NS}numFmt" and event == "end":
                custom[int(elem.get("numFmtId", "0"))] = elem.get("formatCode", "")
            elif elem.tag == f"{_NS}cellXfs":
                in_xfs = event == "start"
            elif in_xfs and elem.tag == f"{_NS}xf" and event == "start":
                styles.append(int(elem.get("numFmtId", "0")))
    out = set()
    for i, fmt_id in enumerate(styles):
        code = re.sub(r'"[^"]*"|\[[^]]*]', "", custom.get(fmt_id, "")).lower()
        if fmt_id in _DATE_FMT_IDS or (fmt_id in custom and any(ch in code for ch in "dy")):
            out.add(i)
    return out


def _open_xlsx_stream(path: Path) -> Table | None:
    """A row iterator over the first sheet of an xlsx, streamed; None when the file is not a plain xlsx."""
    try:
        z = zipfile.ZipFile(path)
        sheet = _sheet_path(z)
        info = z.getinfo(sheet)
        shared = _shared_strings(z)
        dates = _date_styles(z)
        raw = z.open(sheet)
    except (KeyError, StopIteration, zipfile.BadZipFile, ValueError, SyntaxError):
        return None
    total = max(info.file_size, 1)
    consumed = [0]
    pattern = [_CELL]
    letters: dict[str, int] = {}

    def value(attrs: bytes, inner: bytes | None) -> Any:
        if not inner:
            return None
        m = _ATTR_T.search(attrs)
        kind = m.group(1) if m else b"n"
        if kind == b"inlineStr":
            return _xml_text(b"".join(_T.findall(inner)))
        v = _V.search(inner)
        if v is None:
            return None
        text = v.group(1)
        if kind == b"s":
            return shared[int(text)]
        if kind in (b"str", b"e"):
            return _xml_text(text) if kind == b"str" else None
        if kind == b"b":
            return text == b"1"
        num = float(text)
        st = _ATTR_S.search(attrs)
        if st is not None and int(st.group(1)) in dates:
            return _EXCEL_EPOCH + timedelta(days=num)
        return num

    def cells() -> Iterator[tuple[int, list[Any]]]:
        """(row number, row) for every row that has cells, in order."""
        buf = b""
        cur = -1
        row: list[Any] = []
        while True:
            chunk = raw.read(_STREAM_CHUNK)
            consumed[0] += len(chunk)
            data = buf + chunk
            cut = data.rfind(b"</row>") + 6 if chunk else len(data)
            if chunk and cut < 6:
                buf = data
                continue
            body, buf = data[:cut], data[cut:]
            for m in pattern[0].finditer(body):
                col = m.group(1).decode()
                r = int(m.group(2))
                if r != cur:
                    if cur >= 0:
                        yield cur, row
                    cur, row = r, []
                idx = letters.get(col)
                if idx is None:
                    idx = letters[col] = _col_index(col)
                if idx >= len(row):
                    row.extend([None] * (idx + 1 - len(row)))
                row[idx] = value(m.group(3), m.group(4))
            if not chunk:
                break
        if cur >= 0:
            yield cur, row

    it = cells()
    skipped = 0
    for number, first in it:
        if not is_blank(first):
            header = _trim([canonical_header(h) for h in first])
            skipped += number - 1
            break
    else:
        raw.close()
        z.close()
        raise IngestError(f"{path}: the first sheet is empty (no header row)")
    header_row = number

    def want(indexes: set[int]) -> None:
        # Cells of other columns are skipped inside the regex engine, never reaching Python.
        alts = b"|".join(sorted((_col_letters(i).encode() for i in indexes), key=len, reverse=True))
        pattern[0] = re.compile(rb'<c r="(' + alts + rb')([0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)

    def rows() -> Iterator[list[Any]]:
        last = header_row
        try:
            for n, r in it:
                # Rows the sheet leaves out are padding too: count them as blank rows.
                for _ in range(n - last - 1):
                    yield []
                last = n
                yield r
        finally:
            raw.close()
            z.close()

    def close() -> None:
        raw.close()
        z.close()

    return Table(path, header, rows(), total, lambda: consumed[0], close, skipped, want)


def _col_letters(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s
