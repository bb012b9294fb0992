"""Broken DOL files are refused with one clear line naming the file, and the database is left as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import crawler.cli.dol  # noqa: F401  (registers the commands on `main`)
from crawler import db as dbmod
from crawler.cli import main
from crawler.models import DolCase
from tests.matching.conftest import csv_to_xlsx

DOL = Path(__file__).parent.parent / "fixtures" / "dol"
PERM = DOL / "perm_fy2022.csv"


def ingest(db_url: str, *paths: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", db_url, "dol", "ingest", "--no-progress", *map(str, paths)])
    return result.exit_code, result.output


def cases(db_url: str) -> list[tuple[str, str | None, str | None]]:
    with dbmod.session_scope(db_url) as session:
        rows = session.execute(select(DolCase.case_number, DolCase.status, DolCase.source_file).order_by(DolCase.id))
        return [tuple(r) for r in rows]


def _unknown_layout(tmp: Path) -> Path:
    path = tmp / "PERM_Disclosure_Data_FY2023.csv"  # a DOL-like name, but the header is not a DOL layout
    path.write_text("ORDER_ID,CUSTOMER,TOTAL\n1,Acme,10.00\n", encoding="utf-8")
    return path


def _missing_columns(tmp: Path) -> Path:
    path = tmp / "perm_no_status.csv"
    shutil.copy(DOL / "perm_missing_status.csv", path)
    return path


def _truncated_workbook(tmp: Path) -> Path:
    whole = csv_to_xlsx(PERM, tmp / "whole.xlsx")
    path = tmp / "PERM_FY2022_truncated.xlsx"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return path


def _binary_named_csv(tmp: Path) -> Path:
    path = tmp / "LCA_Disclosure_Data_FY2024_Q4.csv"
    path.write_bytes(bytes(range(256)) * 64)
    return path


def _empty(tmp: Path) -> Path:
    path = tmp / "LCA_empty.csv"
    path.write_bytes(b"")
    return path


def _xlsx_that_is_text(tmp: Path) -> Path:
    path = tmp / "PERM_renamed.xlsx"
    shutil.copy(PERM, path)
    return path


BAD_FILES = {
    "unknown_layout": _unknown_layout,
    "missing_columns": _missing_columns,
    "truncated_workbook": _truncated_workbook,
    "binary_named_csv": _binary_named_csv,
    "empty_file": _empty,
    "csv_named_xlsx": _xlsx_that_is_text,
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_broken_file_is_refused_and_nothing_changes(kind: str, sqlite_url: str, tmp_path: Path) -> None:
    code, out = ingest(sqlite_url, PERM)
    assert code == 0, out
    before = cases(sqlite_url)
    bad = BAD_FILES[kind](tmp_path)
    good = DOL / "lca_fy2024_q4.csv"
    code, out = ingest(sqlite_url, good, bad)
    if kind == "csv_named_xlsx":
        # The content decides, not the name: a CSV named .xlsx is read as the CSV it is.
        assert code == 0, out
        return
    assert code == 1, out
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and bad.name in errors[0], out
    assert "Traceback" not in out
    # All or nothing: the good file listed first is not loaded either, and nothing stored changed.
    assert cases(sqlite_url) == before


def test_wrong_types_in_cells_are_read_as_unknown_not_fatal(sqlite_url: str, tmp_path: Path) -> None:
    lines = PERM.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = next(line for line in lines[1:] if line.startswith("G-100"))
    path = tmp_path / "perm_wrong_types.csv"
    cells = dict(zip(header, ["x"] * len(header), strict=True))
    cells.update(CASE_NUMBER="G-100-99999-000001", CASE_STATUS="Certified", EMPLOYER_NAME="Typo Corp",
                 RECEIVED_DATE="soon", DECISION_DATE="2100-13-45", WAGE_OFFER_FROM="lots", PW_WAGE="-1e400",
                 NAICS_CODE="[1, 2]")  # fmt: skip
    path.write_text("\n".join([lines[0], row, ",".join(cells[h] for h in header)]) + "\n", encoding="utf-8")
    code, out = ingest(sqlite_url, path)
    assert code == 0, out
    stored = {c[0]: c for c in cases(sqlite_url)}
    assert "G-100-99999-000001" in stored and len(stored) == 2
    with dbmod.session_scope(sqlite_url) as session:
        case = session.scalar(select(DolCase).where(DolCase.case_number == "G-100-99999-000001"))
        assert case is not None and case.received_date is None and case.decision_date is None
        assert case.wage_from is None
        assert session.scalar(select(func.count()).select_from(DolCase)) == 2
