"""Load PERM, LCA and USCIS hub files into the database: one transaction per file, then rebuild entities."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import Connection, select

from crawler import db as dbmod
from crawler.models import DolCase, UscisEmployerYear
from matching import values as v
from matching.bulk import insert_rows, update_rows
from matching.layouts import Layout, detect_layout
from matching.normalize import normalize_fein
from matching.readers import IngestError, Table, is_blank, open_table, read_header

BATCH = 5000
# SQLite caps bound parameters per statement; stay well under every backend's limit.
IN_CHUNK = 900
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


def _cell(row: list[Any], idx: int | None) -> Any:
    if idx is None or idx >= len(row):
        return None
    return row[idx]


def _case_record(row: list[Any], cols: dict[str, int], layout: Layout, source: str) -> dict[str, Any] | None:
    g = cols.get
    case_number = v.text(_cell(row, g("case_number")))
    name = v.text(_cell(row, g("employer_name")))
    if not case_number or not name:
        return None
    decision = v.parse_date(_cell(row, g("decision_date")))
    received = v.parse_date(_cell(row, g("received_date")))
    title = v.text(_cell(row, g("job_title")))
    soc = v.normalize_soc(_cell(row, g("soc_code")))
    unit = v.normalize_unit(_cell(row, g("wage_unit")))
    return {
        "kind": layout.kind,
        "case_number": case_number[:40],
        "status": v.normalize_status(_cell(row, g("status"))),
        "received_date": received,
        "decision_date": decision,
        "fiscal_year": v.fiscal_year(decision or received),
        "visa_class": (v.text(_cell(row, g("visa_class"))) or "")[:30] or None,
        "employer_name": name[:300],
        "trade_name": (v.text(_cell(row, g("trade_name"))) or "")[:300] or None,
        "fein": normalize_fein(_cell(row, g("fein"))),
        "city": (v.text(_cell(row, g("city"))) or "")[:100] or None,
        "state": (v.text(_cell(row, g("state"))) or "")[:40].upper() or None,
        "naics": (v.text(_cell(row, g("naics"))) or "")[:10] or None,
        "job_title": (title or "")[:300] or None,
        "soc_code": soc,
        "is_ml": v.is_ml_case(soc, title),
        "wage_from": v.parse_number(_cell(row, g("wage_from"))),
        "wage_to": v.parse_number(_cell(row, g("wage_to"))),
        "wage_unit": unit,
        "wage_level": (v.text(_cell(row, g("wage_level"))) or "")[:20] or None,
        "secondary_entity": v.yes(_cell(row, g("secondary_entity"))),
        "secondary_entity_name": (v.text(_cell(row, g("secondary_entity_name"))) or "")[:300] or None,
        "layout": layout.name,
        "source_file": source[:300],
    }


def _newer(a: dict[str, Any], b_decision: Any) -> bool:
    """Is record `a` at least as recent a decision as `b_decision`? Later releases win ties."""
    ad = a["decision_date"]
    if b_decision is None:
        return True
    return ad is not None and ad >= b_decision


# Where a row came from, not what it says: a case repeated unchanged in a later release keeps its row as is.
PROVENANCE = ("layout", "source_file")


def _same(rec: dict[str, Any], row: Any, natural: tuple[str, ...]) -> bool:
    """Does the stored row already say what `rec` says (provenance and natural key aside)?"""
    return all(rec[k] == row[k] for k in rec if k not in PROVENANCE and k not in natural)


def _flush_cases(
    conn: Connection, batch: dict[str, dict[str, Any]], kind: str, check_db: bool, summary: FileSummary
) -> None:
    if not batch:
        return
    updates: list[dict[str, Any]] = []
    if check_db:
        keys = list(batch)
        table = DolCase.__table__
        for i in range(0, len(keys), IN_CHUNK):
            chunk = keys[i : i + IN_CHUNK]
            stmt = select(table).where(table.c.kind == kind, table.c.case_number.in_(chunk))
            for row in conn.execute(stmt).mappings():
                rec = batch.pop(row["case_number"])
                if not _newer(rec, row["decision_date"]):
                    summary.kept_existing += 1
                elif _same(rec, row, ("kind", "case_number")):
                    summary.unchanged += 1
                else:
                    # Update in place: the case keeps its id, so nothing that refers to it moves.
                    updates.append({**rec, "id": row["id"]})
                    summary.replaced += 1
        update_rows(conn, DolCase.__table__, updates)
    if batch:
        insert_rows(conn, DolCase.__table__, list(batch.values()))
    summary.inserted += len(batch)
    batch.clear()


def _load_cases(conn: Connection, table: Table, layout: Layout, summary: FileSummary, tick: Any) -> None:
    cols = layout.resolve(table.header, str(table.path))
    source = table.path.name
    prior = conn.execute(select(DolCase.id).where(DolCase.kind == layout.kind).limit(1)).first() is not None
    seen: set[str] = set()
    batch: dict[str, dict[str, Any]] = {}
    needs_check = prior
    for row in table.rows:
        if is_blank(row):
            summary.blank_rows += 1
            continue
        summary.rows += 1
        rec = _case_record(row, cols, layout, source)
        if rec is None:
            summary.skipped += 1
            if len(summary.notes) < MAX_NOTES:
                summary.notes.append(f"row {summary.rows + summary.blank_rows + 1}: no case number or employer")
            continue
        key = rec["case_number"]
        if key in batch:
            summary.duplicates_in_file += 1
            if _newer(rec, batch[key]["decision_date"]):
                batch[key] = rec
            continue
        if key in seen:
            summary.duplicates_in_file += 1
            needs_check = True
        seen.add(key)
        batch[key] = rec
        if len(batch) >= BATCH:
            _flush_cases(conn, batch, layout.kind, needs_check, summary)
            needs_check = prior
            tick()
    _flush_cases(conn, batch, layout.kind, needs_check, summary)


def _load_uscis(conn: Connection, table: Table, layout: Layout, summary: FileSummary, tick: Any) -> None:
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


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as prog:
        yield prog


def ingest_file(conn: Connection, path: Path, progress: Progress | None = None) -> FileSummary:
    """Load one file inside the caller's transaction; raises IngestError naming the file on bad input."""
    started = time.perf_counter()
    table = open_table(path)
    try:
        layout = detect_layout(table.header, str(path))
    except IngestError:
        table.close()
        raise
    summary = FileSummary(str(path), layout.name, layout.kind, blank_rows=table.blank_rows_before_header)
    task = progress.add_task(f"{path.name} ({layout.name})", total=table.total) if progress else None

    def tick() -> None:
        if progress is not None and task is not None:
            progress.update(task, completed=table.position())

    try:
        if layout.kind == "uscis":
            _load_uscis(conn, table, layout, summary, tick)
        else:
            _load_cases(conn, table, layout, summary, tick)
    finally:
        table.close()
    if progress is not None and task is not None:
        progress.update(task, completed=table.total)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def check_headers(paths: list[Path]) -> None:
    """Fail before writing anything if any file is missing, unreadable, or of an unknown layout."""
    for path in paths:
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
        header = read_header(path)
        detect_layout(header, str(path)).resolve(header, str(path))


def ingest_paths(db_url: str, paths: list[Path], progress: bool = True) -> list[FileSummary]:
    """Load each file in its own transaction, then rebuild employer entities and (if postings exist) the tags."""
    from matching.entities import build_entities
    from matching.tagging import match_and_tag

    paths = [Path(p) for p in paths]
    check_headers(paths)
    engine = dbmod.get_engine(db_url)
    summaries: list[FileSummary] = []
    with _progress(progress) as prog:
        for path in paths:
            with engine.begin() as conn:
                summaries.append(ingest_file(conn, path, prog))
        with dbmod.session_scope(engine) as session:
            build_entities(session, progress=prog)
            match_and_tag(session)
    return summaries
