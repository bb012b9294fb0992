"""Loading at scale: content-hash skips, entity links in SQL, hub Tax IDs, the saved match index, streamed xlsx."""

from __future__ import annotations

import csv
import hashlib
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select, update

from crawler import db as dbmod
from crawler.models import DolCase, DolEntity, DolEntityName, DolEntityYear, DolFile
from matching.ingest import ingest_paths
from matching.matchindex import index_file, load_index, read_current, read_current_sqlite
from tests.crawling import jobagg
from tests.matching.conftest import DOL
from tests.matching.test_idempotent import changes, snapshot

LCA_HEADER = (DOL / "lca_fy2024_q4.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
HUB_HEADER = (DOL / "uscis_hub_fy2023.csv").read_text(encoding="utf-8").splitlines()[0].split(",")


def lca_row(case: str, name: str, fein: str, status: str = "Certified", decided: str = "2024-03-01") -> list[str]:
    row = dict.fromkeys(LCA_HEADER, "")
    row |= {
        "CASE_NUMBER": case,
        "CASE_STATUS": status,
        "RECEIVED_DATE": "2024-01-02",
        "DECISION_DATE": decided,
        "VISA_CLASS": "H-1B",
        "JOB_TITLE": "Machine Learning Engineer",
        "SOC_CODE": "15-1252",
        "EMPLOYER_NAME": name,
        "EMPLOYER_STATE": "CA",
        "EMPLOYER_FEIN": fein,
        "SECONDARY_ENTITY": "No",
        "WAGE_RATE_OF_PAY_FROM": "150000",
        "WAGE_UNIT_OF_PAY": "Year",
    }
    return [row[h] for h in LCA_HEADER]


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def test_same_file_again_is_recognised_by_its_hash_and_changes_nothing(db_url: str) -> None:
    path = DOL / "lca_fy2024_q4.csv"
    first = ingest_paths(db_url, [path], progress=False)[0]
    before = snapshot(db_url)
    again = ingest_paths(db_url, [path], progress=False)[0]
    assert not first.already_loaded and again.already_loaded
    assert (again.inserted, again.replaced, again.unchanged) == (0, 0, first.inserted)
    assert changes(before, snapshot(db_url)) == {}
    with dbmod.session_scope(db_url) as s:
        (f,) = s.scalars(select(DolFile)).all()
    assert f.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (f.name, f.kind, f.layout, f.fiscal_years, f.rows) == (path.name, "lca", "LCA FY2020+", "2024", first.rows)
    # --force reads it again: every case unchanged, still one row for the file.
    forced = ingest_paths(db_url, [path], progress=False, force=True)[0]
    assert not forced.already_loaded and (forced.inserted, forced.replaced) == (0, 0)
    assert forced.unchanged + forced.kept_existing == first.inserted + first.replaced
    with dbmod.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(DolFile)) == 1


def test_every_case_links_to_its_entity_and_sql_sums_match_the_years(
    db_url: str, all_fixture_files: list[Path]
) -> None:
    ingest_paths(db_url, all_fixture_files, progress=False)
    with dbmod.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).where(DolCase.entity_id.is_(None))) == 0
        by_fein = dict(
            s.execute(
                select(DolCase.case_number, DolEntity.fein).join(DolEntity, DolEntity.id == DolCase.entity_id)
            ).all()
        )
        # Evidence per entity, aggregated in SQL through the link, equals the built yearly figures.
        certified = dict(
            s.execute(
                select(DolCase.entity_id, func.count())
                .where(DolCase.kind == "lca", DolCase.status == "certified", DolCase.visa_class == "H-1B")
                .where(DolCase.fiscal_year == 2024)
                .group_by(DolCase.entity_id)
            ).all()
        )
        years = dict(
            s.execute(
                select(DolEntityYear.entity_id, DolEntityYear.lca_certified).where(
                    DolEntityYear.fiscal_year == 2024, DolEntityYear.lca_certified > 0
                )
            ).all()
        )
    assert certified == years and certified
    assert by_fein["I-200-24001-000002"] == "461029384"


def test_a_rebuild_relinks_only_cases_whose_entity_changed(db_url: str, tmp_path: Path) -> None:
    # A FEIN-less filing under a name nobody owns yet is its own name entity ...
    ingest_paths(
        db_url, [write(tmp_path / "a.csv", LCA_HEADER, [lca_row("I-1", "ZEPHYR LABS INC", "")])], progress=False
    )
    with dbmod.session_scope(db_url) as s:
        first = s.scalar(select(DolEntity.key).join(DolCase, DolCase.entity_id == DolEntity.id))
    assert first == "name:ZEPHYRLABS"
    # ... until a filing with a FEIN claims the name: the old case moves to the FEIN entity.
    ingest_paths(
        db_url,
        [write(tmp_path / "b.csv", LCA_HEADER, [lca_row("I-2", "ZEPHYR LABS INC", "12-3451111")])],
        progress=False,
    )
    with dbmod.session_scope(db_url) as s:
        keys = dict(
            s.execute(
                select(DolCase.case_number, DolEntity.key).join(DolEntity, DolEntity.id == DolCase.entity_id)
            ).all()
        )
        assert s.scalar(select(func.count()).select_from(DolEntity).where(DolEntity.key == "name:ZEPHYRLABS")) == 0
    assert keys == {"I-1": "fein:123451111", "I-2": "fein:123451111"}


def test_hub_tax_id_keeps_namesakes_apart_and_ties_legal_forms(db_url: str, tmp_path: Path) -> None:
    lca = write(tmp_path / "lca.csv", LCA_HEADER, [lca_row("I-9", "KESTREL DATA LLC", "98-7655555")])
    hub = write(
        tmp_path / "hub.csv",
        HUB_HEADER,
        [
            # The same company under two legal forms and the FEIN's last four: it joins the FEIN entity.
            ["2023", "KESTREL DATA INC", "4", "0", "2", "0", "54", "5555", "CA", "SAN JOSE", "95110"],
            # Two employers share a name but not a Tax ID: namesakes, kept apart.
            ["2023", "ORBIT WORKS INC", "1", "0", "0", "0", "54", "2222", "TX", "AUSTIN", "78701"],
            ["2023", "ORBIT WORKS INC", "7", "1", "3", "0", "54", "3333", "NY", "NEW YORK", "10001"],
            # One Tax ID under an INC name, then an LLC name: one employer's years tied together.
            ["2022", "HALCYON AI INC", "2", "0", "1", "0", "54", "4444", "WA", "SEATTLE", "98101"],
            ["2023", "HALCYON AI LLC", "3", "0", "1", "0", "54", "4444", "WA", "SEATTLE", "98101"],
        ],
    )
    ingest_paths(db_url, [lca, hub], progress=False)
    with dbmod.session_scope(db_url) as s:
        kestrel = s.scalars(select(DolEntity).where(DolEntity.fein == "987655555")).one()
        k_years = {
            y.fiscal_year: y for y in s.scalars(select(DolEntityYear).where(DolEntityYear.entity_id == kestrel.id))
        }
        orbit = s.execute(
            select(DolEntity.key, DolEntityYear.uscis_initial_approval)
            .join(DolEntityYear, DolEntityYear.entity_id == DolEntity.id)
            .where(DolEntity.name == "ORBIT WORKS INC")
        ).all()
        halcyon = s.execute(
            select(DolEntity.key, DolEntityYear.fiscal_year)
            .join(DolEntityYear, DolEntityYear.entity_id == DolEntity.id)
            .join(DolEntityName, DolEntityName.entity_id == DolEntity.id)
            .where(DolEntityName.name.like("HALCYON%"))
        ).all()
    assert k_years[2023].uscis_initial_approval == 4 and k_years[2024].lca_certified == 1
    assert sorted(orbit) == [("name:ORBITWORKS#2222", 1), ("name:ORBITWORKS#3333", 7)]
    assert {k for k, _ in halcyon} == {"name:HALCYONAI"} and {fy for _, fy in halcyon} == {2022, 2023}


def test_hub_tax_id_slips_join_the_main_one_and_names_count_petitions(db_url: str, tmp_path: Path) -> None:
    def row(name: str, approvals: int, tax: str, state: str, city: str) -> list[str]:
        return ["2023", name, str(approvals), "0", "0", "0", "54", tax, state, city, "00000"]

    hub = write(
        tmp_path / "hub.csv",
        HUB_HEADER,
        [
            row("BEACON LLC", 600, "3581", "CA", "MOUNTAIN VIEW"),
            row("BEACON LLC", 1, "3851", "CA", "MOUNTAIN VIEW"),  # two digits swapped
            row("BEACON LLC", 2, "0581", "CA", "MOUNTAIN VIEW"),  # one digit changed
            row("BEACON LLC", 3, "4935", "CA", "SAN JOSE"),  # unlike, but a sliver of the main one's petitions
            row("BEACON LLC", 3, "7777", "NY", "NEW YORK"),  # the same name in another state: a namesake
            row("LANTERN INC", 10, "1111", "TX", "AUSTIN"),  # as big and unlike: namesakes
            row("LANTERN INC", 8, "2222", "TX", "DALLAS"),
            # One employer's name cut and abbreviated two ways under one Tax ID; its Puerto Rico arm has its own.
            row("SABLECREST CAPITAL MGMT NY LLP", 3, "1234", "NY", "NEW YORK"),
            row("SABLECREST CAPITAL MGMT NEW YORK LP", 1, "1234", "FL", "MIAMI"),
            row("SABLECREST CAPITAL MGT PR LLC", 1, "9286", "PR", "SAN JUAN"),
            # Few rows but many petitions beside many rows of few: petitions, not rows, weigh namesakes.
            row("QUASAR SEMICONDUCTOR INC", 300, "5000", "CA", "SANTA CLARA"),
            row("QUASAR SEMICONDUCTOR INC", 200, "5000", "CA", "IRVINE"),
            *(row("QUASAR TECH LLC", 1, "6000", "NJ", city) for city in ("EDISON", "ISELIN", "NEWARK", "TRENTON")),
        ],
    )
    ingest_paths(db_url, [hub], progress=False)
    with dbmod.session_scope(db_url) as s:
        keys = dict(
            s.execute(
                select(DolEntity.key, func.sum(DolEntityName.filings))
                .join(DolEntityName, DolEntityName.entity_id == DolEntity.id)
                .group_by(DolEntity.key)
            ).all()
        )
        index, _ = load_index(s)
        sable = s.scalar(select(DolEntity.state).where(DolEntity.key == "name:SABLECRESTCAPITALMANAGEMENTNY"))
    assert sable == "NY"  # where most of its petitions are, not the first of two states with a row each
    assert {k: v for k, v in keys.items() if k.startswith("name:BEACON")} == {
        "name:BEACON#3581": 606,
        "name:BEACON#7777": 3,
    }
    assert {k for k in keys if k.startswith("name:LANTERN")} == {"name:LANTERN#1111", "name:LANTERN#2222"}
    assert {k: v for k, v in keys.items() if k.startswith("name:SABLECREST")} == {
        "name:SABLECRESTCAPITALMANAGEMENTNY": 4,
        "name:SABLECRESTCAPITALMGTPR": 1,
    }
    found = index.match("Quasar")
    assert found.outcome == "matched" and [m.name for m in found.matches] == ["QUASAR SEMICONDUCTOR INC"]


def test_match_index_is_saved_and_rebuilt_when_entities_change(db_url: str, tmp_path: Path) -> None:
    ingest_paths(db_url, [DOL / "lca_fy2024_q4.csv"], progress=False)
    engine = dbmod.get_engine(db_url)
    path = index_file(engine)
    assert (path is not None and path.exists()) == (engine.dialect.name == "sqlite")
    with dbmod.session_scope(db_url) as s:
        index, rebuilt = load_index(s)
    assert not rebuilt  # the ingest built and saved it, though no posting is stored yet
    assert index.match("Nimbus Robotics").outcome == "matched"
    with dbmod.session_scope(db_url) as s:
        s.execute(update(DolEntityName).where(DolEntityName.name == "NIMBUS ROBOTICS CORPORATION").values(filings=99))
    with dbmod.session_scope(db_url) as s:
        _, rebuilt = load_index(s)
        _, again = load_index(s)
    assert rebuilt and not again
    out = jobagg("--db", db_url, "employers", "match", "--json", "Nimbus Robotics", "Nobody Here At All")
    assert out.returncode == 0, out.stderr[-2000:]
    assert '"outcome": "matched"' in out.stdout and '"outcome": "none"' in out.stdout


def test_a_current_sqlite_index_is_read_without_sqlalchemy_and_a_stale_one_is_not(sqlite_url: str) -> None:
    ingest_paths(sqlite_url, [DOL / "lca_fy2024_q4.csv"], progress=False)
    with dbmod.session_scope(sqlite_url) as s:
        index, _ = load_index(s)
    fast = read_current_sqlite(sqlite_url)
    assert fast is not None
    for q in ("Nimbus Robotics", "Nobody Here At All"):
        assert fast.match(q).as_json() == index.match(q).as_json()
    with dbmod.session_scope(sqlite_url) as s:
        s.execute(update(DolEntityName).where(DolEntityName.name == "NIMBUS ROBOTICS CORPORATION").values(filings=7))
    assert read_current_sqlite(sqlite_url) is None  # stale: the usual path rebuilds it
    with dbmod.session_scope(sqlite_url) as s:
        load_index(s)
    assert read_current_sqlite(sqlite_url) is not None
    assert read_current_sqlite(sqlite_url + "?mode=ro") is None  # only plain file URLs


def test_a_current_index_is_read_through_the_driver_alone_on_both_databases(db_url: str) -> None:
    ingest_paths(db_url, [DOL / "lca_fy2024_q4.csv"], progress=False)
    with dbmod.session_scope(db_url) as s:
        index, _ = load_index(s)
    fast = read_current(db_url)
    assert fast is not None and fast.match("Nimbus Robotics").as_json() == index.match("Nimbus Robotics").as_json()
    with dbmod.session_scope(db_url) as s:
        s.execute(update(DolEntityName).where(DolEntityName.name == "NIMBUS ROBOTICS CORPORATION").values(filings=5))
    assert read_current(db_url) is None  # stale


def test_streamed_workbook_reads_dates_numbers_and_shared_strings(db_url: str, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(LCA_HEADER)
    row = lca_row("I-200-24001-777777", "Zephyr &amp; Co Labs, Inc.", "12-3456789")
    values: list[object] = [v or None for v in row]
    values[LCA_HEADER.index("DECISION_DATE")] = datetime(2024, 10, 3)  # a date cell: FY2025
    values[LCA_HEADER.index("WAGE_RATE_OF_PAY_FROM")] = 151234.5
    ws.append(values)
    for _ in range(30):
        ws.append([" "])
    ws.append(lca_row("I-200-24001-777778", "Zephyr &amp; Co Labs, Inc.", "12-3456789"))
    path = tmp_path / "LCA_Disclosure_Data_FY2025_Q1.xlsx"
    wb.save(path)
    summary = ingest_paths(db_url, [path], progress=False)[0]
    assert (summary.rows, summary.inserted) == (2, 2) and summary.blank_rows >= 30
    with dbmod.session_scope(db_url) as s:
        case = s.scalars(select(DolCase).where(DolCase.case_number == "I-200-24001-777777")).one()
    assert case.decision_date == date(2024, 10, 3) and case.fiscal_year == 2025
    assert case.wage_from == 151234.5 and case.employer_name == "Zephyr &amp; Co Labs, Inc."
    assert case.fein == "123456789"


def test_dol_status_lists_loaded_files(db_url: str) -> None:
    ingest_paths(db_url, [DOL / "perm_fy2022.csv"], progress=False)
    out = jobagg("--db", db_url, "dol", "status")
    assert out.returncode == 0, out.stderr[-2000:]
    sha = hashlib.sha256((DOL / "perm_fy2022.csv").read_bytes()).hexdigest()
    assert "perm_fy2022.csv" in out.stdout and sha[:16] in out.stdout and "2022" in out.stdout
    assert "1 file(s); 7 PERM and 0 LCA cases" in out.stdout
