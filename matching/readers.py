"""Row readers for DOL/USCIS files: xlsx/xls via python-calamine, csv/tsv streamed in any encoding they ship in."""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import iterparse

from python_calamine import CalamineWorkbook

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
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
    raw = path.open("rb")
    sample = raw.read(65536)
    raw.seek(0)
    encoding = _text_encoding(sample)
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    reader_probe = text.readline()
    skipped = 0
    while reader_probe and not reader_probe.strip(" \t\r\n,"):
        skipped += 1
        reader_probe = text.readline()
    if not reader_probe:
        raw.close()
        raise IngestError(f"{path}: the file is empty (no header row)")
    delimiter = "\t" if reader_probe.count("\t") > reader_probe.count(",") else ","
    header_cells = next(csv.reader([reader_probe], delimiter=delimiter))
    header = _trim([canonical_header(h) for h in header_cells])
    reader = csv.reader(text, delimiter=delimiter)
    size = path.stat().st_size

    def rows() -> Iterator[list[Any]]:
        try:
            yield from reader
        finally:
            raw.close()

    return Table(path, header, rows(), max(size, 1), raw.tell, raw.close, skipped)
