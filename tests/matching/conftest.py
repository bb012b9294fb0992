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


def lca_of(path: Path, filers: list[tuple[str, str]]) -> Path:
    """An LCA file in the FY2020+ layout with one certified ML-engineer case per (employer, state)."""
    with (DOL / "lca_fy2024_q4.csv").open(newline="", encoding="utf-8") as f:
        cols = next(csv.reader(f))
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=cols, restval="")
        out.writeheader()
        for n, (employer, state) in enumerate(filers, 1):
            out.writerow(
                {
                    "CASE_NUMBER": f"I-200-24100-{n:06d}",
                    "CASE_STATUS": "Certified",
                    "DECISION_DATE": "2024-08-08",
                    "VISA_CLASS": "H-1B",
                    "JOB_TITLE": "ML Engineer",
                    "SOC_CODE": "15-1252",
                    "EMPLOYER_NAME": employer,
                    "EMPLOYER_STATE": state,
                }
            )
    return path


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
