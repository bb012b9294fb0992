"""Layout detection from the header alone, readers for every encoding, and cell parsers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from matching import values as v
from matching.layouts import detect_layout
from matching.readers import IngestError, canonical_header, open_table
from tests.matching.conftest import DOL, csv_to_xlsx


def layout_of(path: Path) -> str:
    table = open_table(path)
    try:
        return detect_layout(table.header, str(path)).name
    finally:
        table.close()


@pytest.mark.parametrize(
    ("name", "layout"),
    [
        ("perm_fy2009_spaces.csv", "PERM FY2008-14"),
        ("perm_fy2012.csv", "PERM FY2008-14"),
        ("perm_fy2016.csv", "PERM FY2015-19"),
        ("perm_fy2022.csv", "PERM FY2020-24"),
        ("perm_new_form_fy2025.csv", "PERM new form"),
        ("lca_fy2018.csv", "LCA FY2015-19"),
        ("lca_fy2024_q4.csv", "LCA FY2020+"),
        ("uscis_hub_fy2023.csv", "USCIS hub FY2009-23"),
        ("uscis_hub_fy2024_utf16.csv", "USCIS hub FY2024+"),
    ],
)
def test_every_layout_detected_from_header(name: str, layout: str, tmp_path: Path) -> None:
    assert layout_of(DOL / name) == layout
    # The file name plays no part: the same bytes under a misleading name give the same answer.
    misleading = tmp_path / "LCA_Disclosure_Data_FY2099_Q1.csv"
    misleading.write_bytes((DOL / name).read_bytes())
    assert layout_of(misleading) == layout


@pytest.mark.parametrize("name", ["perm_new_form_fy2025.csv", "perm_fy2022.csv", "lca_fy2024_q4.csv"])
def test_xlsx_detected_like_csv(name: str, tmp_path: Path) -> None:
    xlsx = csv_to_xlsx(DOL / name, tmp_path / "book.xlsx")
    assert layout_of(xlsx) == layout_of(DOL / name)


def test_xlsx_disguised_as_csv(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "Fiscal Year",
            "Employer",
            "Initial Approval",
            "Initial Denial",
            "Continuing Approval",
            "Continuing Denial",
            "NAICS",
            "Tax ID",
            "State",
            "City",
            "ZIP",
        ]
    )
    ws.append([2022, "ACME AI INC", 3, 0, 4, 0, 54, 5678, "CA", "SAN FRANCISCO", "94105"])
    path = tmp_path / "h1b_datahubexport-2022.csv"
    wb.save(path)
    assert layout_of(path) == "USCIS hub FY2009-23"


def test_fy2009_headers_with_spaces_are_canonicalised() -> None:
    table = open_table(DOL / "perm_fy2009_spaces.csv")
    table.close()
    assert "CASE_STATUS" in table.header and "CASE_NO" in table.header
    assert canonical_header(" Employer (Petitioner) Name ") == "EMPLOYER_PETITIONER_NAME"
    assert canonical_header("\ufeffCASE STATUS") == "CASE_STATUS"


def test_utf16_tab_separated_hub_is_read() -> None:
    table = open_table(DOL / "uscis_hub_fy2024_utf16.csv")
    rows = list(table.rows)
    assert table.header[:2] == ["FISCAL_YEAR", "EMPLOYER_PETITIONER_NAME"]
    assert rows[0][1] == "GOOGLE LLC" and rows[0][7] == "1,204"


def test_unknown_layout_names_file_and_columns() -> None:
    table = open_table(DOL / "not_a_dol_file.csv")
    table.close()
    with pytest.raises(IngestError) as err:
        detect_layout(table.header, "not_a_dol_file.csv")
    msg = str(err.value)
    assert "not_a_dol_file.csv" in msg and "ORDER_ID" in msg and "CUSTOMER" in msg


def test_missing_required_column_is_named() -> None:
    table = open_table(DOL / "perm_missing_status.csv")
    table.close()
    layout = detect_layout(table.header, "perm_missing_status.csv")
    with pytest.raises(IngestError, match=r"perm_missing_status\.csv.*CASE_STATUS"):
        layout.resolve(table.header, "perm_missing_status.csv")


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Certified", "certified"),
        ("CERTIFIED-EXPIRED", "certified_expired"),
        ("Certified - Expired", "certified_expired"),
        ("Certified - Withdrawn", "certified_withdrawn"),
        ("CERTIFIED-WITHDRAWN", "certified_withdrawn"),
        ("DENIED", "denied"),
        ("Withdrawn", "withdrawn"),
        ("", "other"),
    ],
)
def test_statuses_normalised(raw: str, status: str) -> None:
    assert v.normalize_status(raw) == status


def test_cell_parsers() -> None:
    assert v.parse_number("$123,456.00") == 123456.0
    assert v.parse_count("1,204") == 1204
    assert v.parse_count("") is None  # blank means missing, not zero
    assert v.parse_date("9/30/2024") == date(2024, 9, 30)
    assert v.parse_date("2024-09-30 00:00:00") == date(2024, 9, 30)
    assert v.fiscal_year(date(2024, 10, 1)) == 2025
    assert v.normalize_soc("15-1132.00") == "15-1252"
    assert v.normalize_soc("15-1199.08") == "15-2051.01"
    assert v.annual(72.5, v.normalize_unit("hr")) == 150800.0
    assert v.is_ml_case("15-2051", "Analyst")
    assert v.is_ml_case("15-1252", "Senior Machine Learning Engineer")
    assert not v.is_ml_case("15-1252", "Software Engineer")
    assert not v.is_ml_case("15-2051.01", "Business Intelligence Analyst")


@pytest.mark.parametrize(
    ("soc", "title", "expected"),
    [
        ("15-1252", "Technical Recruiter - ML", False),  # the roles rules: a recruiter, whatever the suffix
        (None, "Technical Recruiter - ML", False),
        ("15-1252", "SENIOR MACHINE LEARNING ENGINEER", True),  # DOL writes titles in capitals
        ("15-1252", "Software Development Engineer, AI", True),
        ("15-2051", "Technical Recruiter - ML", True),  # an ML occupation code decides on its own
        ("15-1299", "Machine Learning Engineer", True),  # any other computer occupation with an ML title
        ("13-1071", "Machine Learning Engineer", False),  # outside computer occupations a title is not enough
    ],
)
def test_dol_case_titles_are_read_by_the_roles_rules(soc: str | None, title: str, expected: bool) -> None:
    from pipelines.rules.roles import title_is_ml

    assert v.is_ml_case(soc, title) is expected
    if soc is None or soc in v.ML_SOC_IF_TITLE:
        assert v.is_ml_case(soc, title) is title_is_ml(title)


@pytest.mark.parametrize("name", ["perm_new_form_fy2025.csv", "lca_fy2024_q4.csv", "uscis_hub_fy2024_utf16.csv"])
def test_cheap_workbook_header_equals_full_read(name: str, tmp_path: Path) -> None:
    from matching.readers import read_header, xlsx_header

    src = DOL / name
    if name.endswith("utf16.csv"):
        # Re-encode the UTF-16 fixture as UTF-8 so openpyxl can copy it into a workbook.
        src = tmp_path / "hub.csv"
        src.write_text((DOL / name).read_text(encoding="utf-16").replace("\t", ","), encoding="utf-8")
    xlsx = csv_to_xlsx(src, tmp_path / "book.xlsx")
    full = open_table(xlsx)
    full.close()
    assert xlsx_header(xlsx) == full.header
    assert read_header(xlsx) == full.header
