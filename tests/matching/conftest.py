"""Fixtures for the DOL tests: fixture file paths and xlsx workbooks built at test time with openpyxl."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

DOL = Path(__file__).parent.parent / "fixtures" / "dol"


def csv_to_xlsx(src: Path, dest: Path, blank_rows_at_end: int = 0) -> Path:
    """Write a workbook with the CSV's rows (blank rows kept) the way DOL publishes them."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    with src.open(newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            ws.append([cell if cell != "" else None for cell in row])
    # Padding rows hold whitespace cells, so the workbook really has them (openpyxl drops empty cells).
    for _ in range(blank_rows_at_end):
        ws.append([" ", "", " "])
    wb.save(dest)
    return dest


@pytest.fixture
def dol_dir() -> Path:
    return DOL


@pytest.fixture
def all_fixture_files() -> list[Path]:
    """Every loadable fixture, oldest first."""
    names = [
        "perm_fy2009_spaces.csv",
        "perm_fy2012.csv",
        "perm_fy2016.csv",
        "perm_fy2022.csv",
        "perm_new_form_fy2025.csv",
        "lca_fy2018.csv",
        "lca_fy2024_q3.csv",
        "lca_fy2024_q4.csv",
        "uscis_hub_fy2023.csv",
        "uscis_hub_fy2024_utf16.csv",
    ]
    return [DOL / n for n in names]
