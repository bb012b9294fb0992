"""Ingest into real SQLite and PostgreSQL: dedupe, blank rows, one transaction per file, entity building."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crawler import db as dbmod
from crawler.models import DolCase, DolEntity, DolEntityName, DolEntityYear, UscisEmployerYear
from matching.ingest import ingest_paths
from matching.readers import IngestError
from tests.conftest import pg_role, pg_schema
from tests.matching.conftest import DOL, csv_to_xlsx


def counts(url: str) -> tuple[int, int, int]:
    with dbmod.session_scope(url) as s:
        return (
            s.scalar(select(func.count()).select_from(DolCase)) or 0,
            s.scalar(select(func.count()).select_from(UscisEmployerYear)) or 0,
            s.scalar(select(func.count()).select_from(DolEntity)) or 0,
        )


def entity_by_fein(url: str, fein: str) -> tuple[DolEntity, list[str], dict[int, DolEntityYear]]:
    with dbmod.session_scope(url) as s:
        e = s.scalars(select(DolEntity).where(DolEntity.fein == fein)).one()
        names = sorted(s.scalars(select(DolEntityName.name).where(DolEntityName.entity_id == e.id)))
        years = {y.fiscal_year: y for y in s.scalars(select(DolEntityYear).where(DolEntityYear.entity_id == e.id))}
        return e, names, years


def test_ingest_every_layout(db_url: str, all_fixture_files: list[Path]) -> None:
    summaries = ingest_paths(db_url, all_fixture_files, progress=False)
    by_file = {Path(s.path).name: s for s in summaries}
    assert by_file["perm_fy2022.csv"].rows == 7 and by_file["perm_fy2022.csv"].blank_rows == 8
    assert by_file["perm_new_form_fy2025.csv"].blank_rows == 4
    assert by_file["lca_fy2024_q4.csv"].replaced == 1  # the case also in Q3, decided later
    with dbmod.session_scope(db_url) as s:
        statuses = dict(s.execute(select(DolCase.case_number, DolCase.status)).all())
        assert statuses["I-200-24001-000002"] == "certified"
        assert statuses["A-08123-45678"] == "certified"  # FY2009 spaces-in-header file
        assert statuses["A-11111-00001"] == "certified_expired"
        assert s.scalar(select(func.count()).select_from(DolCase).where(DolCase.case_number == "")) == 0
    cases, hub, _ = counts(db_url)
    assert cases == 2 + 1 + 3 + 7 + 2 + 3 + (2 + 8 - 1)
    assert hub == 3 + 2


def test_overlapping_releases_keep_latest_decision_in_any_order(db_url: str) -> None:
    ingest_paths(db_url, [DOL / "lca_fy2024_q4.csv"], progress=False)
    summary = ingest_paths(db_url, [DOL / "lca_fy2024_q3.csv"], progress=False)[0]
    assert summary.kept_existing == 1 and summary.inserted == 1
    with dbmod.session_scope(db_url) as s:
        status = s.scalar(select(DolCase.status).where(DolCase.case_number == "I-200-24001-000002"))
    assert status == "certified"
    before = counts(db_url)
    ingest_paths(db_url, [DOL / "lca_fy2024_q3.csv", DOL / "lca_fy2024_q4.csv"], progress=False)
    assert counts(db_url) == before  # re-ingesting is idempotent


def test_bad_file_leaves_database_untouched(db_url: str, tmp_path: Path) -> None:
    ingest_paths(db_url, [DOL / "perm_fy2022.csv"], progress=False)
    before = counts(db_url)
    for bad in ("not_a_dol_file.csv", "perm_missing_status.csv"):
        with pytest.raises(IngestError) as err:
            ingest_paths(db_url, [DOL / "lca_fy2024_q4.csv", DOL / bad], progress=False)
        assert bad in str(err.value)
        assert counts(db_url) == before


def test_failure_mid_file_rolls_that_file_back(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import matching.reading as reading_mod

    ingest_paths(db_url, [DOL / "perm_fy2022.csv"], progress=False)
    before = counts(db_url)
    monkeypatch.setattr(reading_mod, "BATCH", 1)  # flush row by row, so some rows are written before the failure
    real = reading_mod._case_record
    seen = []

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(1)
        if len(seen) == 3:
            raise IngestError("lca_fy2024_q4.csv: simulated failure on row 3")
        return real(*args, **kwargs)

    monkeypatch.setattr(reading_mod, "_case_record", explode)
    with pytest.raises(IngestError, match=r"lca_fy2024_q4\.csv"):
        ingest_paths(db_url, [DOL / "lca_fy2024_q4.csv"], progress=False)
    assert counts(db_url) == before


def _store(url: str) -> tuple[list[tuple], list[tuple]]:
    """Every case (in id order, with its entity's key) and every entity's yearly figures."""
    with dbmod.session_scope(url) as s:
        key = dict(s.execute(select(DolEntity.id, DolEntity.key)).all())
        cols = [c for c in DolCase.__table__.c if c.name not in ("id", "entity_id")]
        cases = [(*r[1:], key.get(r[0])) for r in s.execute(select(DolCase.entity_id, *cols).order_by(DolCase.id))]
        ycols = [c for c in DolEntityYear.__table__.c if c.name not in ("id", "entity_id")]
        years = sorted((key[r[0]], *r[1:]) for r in s.execute(select(DolEntityYear.entity_id, *ycols)))
    return cases, years


def test_the_next_file_read_on_the_other_core_changes_nothing(
    tmp_path: Path, all_fixture_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second reader reads each next file while the loader is on one; the store comes out row for row as with
    one reader, and each file after the first was started ahead."""
    from matching import reading as reading_mod
    from matching.reading import AHEAD_NEXT, CaseReader

    started: list[tuple[str, int]] = []
    real_start = CaseReader.start

    def start(self: CaseReader, path: Path, ahead: int = reading_mod.AHEAD) -> None:
        started.append((Path(path).name, ahead))
        real_start(self, path, ahead)

    monkeypatch.setattr(CaseReader, "start", start)
    two = f"sqlite:///{tmp_path / 'two.db'}"
    ingest_paths(two, all_fixture_files, progress=False)
    ahead = [name for name, n in started if n == AHEAD_NEXT]
    assert ahead == [p.name for p in all_fixture_files[1:]]
    one = f"sqlite:///{tmp_path / 'one.db'}"
    reader = CaseReader.fork()
    try:
        ingest_paths(one, all_fixture_files, progress=False, reader=reader)  # no spare: one reader, in turn
    finally:
        assert reader is not None
        reader.close()
    assert _store(two) == _store(one)
    assert len(_store(one)[0]) == counts(one)[0] > 0


def test_a_failure_while_the_next_file_is_read_ahead_keeps_the_files_before(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matching.reading as reading_mod

    real = reading_mod._case_record

    def explode(row, cols, layout, source):  # type: ignore[no-untyped-def]
        if source == "lca_fy2024_q4.csv":
            raise IngestError("lca_fy2024_q4.csv: simulated failure")
        return real(row, cols, layout, source)

    monkeypatch.setattr(reading_mod, "_case_record", explode)
    files = [DOL / "perm_fy2022.csv", DOL / "lca_fy2024_q4.csv", DOL / "lca_fy2018.csv"]
    with pytest.raises(IngestError, match=r"lca_fy2024_q4\.csv"):
        ingest_paths(db_url, files, progress=False)
    with dbmod.session_scope(db_url) as s:
        stored = set(s.scalars(select(DolCase.source_file)))
    assert stored == {"perm_fy2022.csv"}  # its own transaction; the file read ahead never went in


def test_xlsx_with_padding_rows(db_url: str, tmp_path: Path) -> None:
    xlsx = csv_to_xlsx(DOL / "perm_fy2022.csv", tmp_path / "PERM_Disclosure_Data_FY2022_Q4.xlsx", 50)
    summary = ingest_paths(db_url, [xlsx], progress=False)[0]
    assert (summary.layout, summary.rows, summary.inserted) == ("PERM FY2020-24", 7, 7)
    assert summary.blank_rows >= 50
    with dbmod.session_scope(db_url) as s:
        case = s.scalars(select(DolCase).where(DolCase.case_number == "G-100-21001-000001")).one()
    assert case.fein == "812345678" and case.wage_from == 185000.0 and case.fiscal_year == 2022 and case.is_ml


def test_uscis_hub_utf16_counts(db_url: str, tmp_path: Path) -> None:
    disguised = tmp_path / "export.csv"
    shutil.copy(DOL / "uscis_hub_fy2024_utf16.csv", disguised)
    ingest_paths(db_url, [disguised], progress=False)
    with dbmod.session_scope(db_url) as s:
        g = s.scalars(select(UscisEmployerYear).where(UscisEmployerYear.employer_name == "GOOGLE LLC")).one()
        n = s.scalars(select(UscisEmployerYear).where(UscisEmployerYear.employer_name == "NIMBUS ROBOTICS CORP")).one()
    # Initial = new employment + new concurrent; continuing = the other four kinds.
    assert (g.initial_approval, g.continuing_approval, g.tax_id) == (1204 + 15, 3310 + 410 + 655 + 80, "3581")
    assert n.initial_denial == 0 and n.continuing_denial == 0  # blank + zeros: blank is missing, not an error


def test_entities_fein_grouping_backfill_and_never_merging(db_url: str, all_fixture_files: list[Path]) -> None:
    ingest_paths(db_url, all_fixture_files, progress=False)
    _, names, years = entity_by_fein(db_url, "812345678")
    # FY2009 and FY2016 rows had no FEIN: back-filled because one FEIN owns the name.
    assert set(years) == {2009, 2016, 2022, 2025}
    assert years[2022].perm_certified == 1 and years[2022].perm_certified_expired == 1
    assert years[2022].perm_ml == 2 and years[2016].perm_ml_certified == 1
    assert "ACME AI" in names and "ACME HOLDINGS LLC" in names  # trade name kept as a variant
    # ASML US, LP and ASML US, LLC have different FEINs: two entities, never merged.
    lp, _, lp_years = entity_by_fein(db_url, "111111111")
    llc, _, llc_years = entity_by_fein(db_url, "222222222")
    assert lp.id != llc.id
    assert 2012 in lp_years and 2012 not in llc_years  # the FEIN-less "ASML US, LP" row went to the LP
    assert 2016 in llc_years  # and the FEIN-less "ASML US, LLC" row to the LLC
    # Two FEINs share "SHARED NAME INC" equally: the FEIN-less row is nobody's.
    with dbmod.session_scope(db_url) as s:
        shared = s.scalars(select(DolEntity).where(DolEntity.name == "SHARED NAME INC")).all()
        assert sorted(e.fein or "" for e in shared) == ["", "333333333", "444444444"]
        staff = s.scalars(select(DolEntity).where(DolEntity.fein == "666666666")).one()
        assert staff.is_staffing
    nimbus, nimbus_names, ny = entity_by_fein(db_url, "461029384")
    assert not nimbus.is_staffing
    assert ny[2018].lca_certified == 1 and ny[2018].lca_withdrawn == 1  # the E-3 LCA is not counted
    assert ny[2024].lca_certified == 3 and ny[2024].lca_ml_certified == 2
    # Hub rows join by FEIN last four + name; two cities in FY2023 are summed.
    assert ny[2023].uscis_initial_approval == 3 and ny[2023].uscis_continuing_approval == 4
    assert ny[2024].uscis_initial_approval == 3
    assert "NIMBUS ROBOTICS CORP" in nimbus_names


def test_case_repeated_within_a_file_keeps_its_latest_decision(db_url: str, tmp_path: Path) -> None:
    lines = (DOL / "lca_fy2024_q3.csv").read_text().splitlines()
    first = lines[1].split(",")
    later = [*first[:3], "2024-06-30", *first[4:]]
    later[1] = "Withdrawn"
    path = tmp_path / "lca_repeats.csv"
    path.write_text("\n".join([lines[0], ",".join(later), lines[1], *lines[2:]]) + "\n")
    summary = ingest_paths(db_url, [path], progress=False)[0]
    assert summary.duplicates_in_file == 1 and summary.inserted == 2
    with dbmod.session_scope(db_url) as s:
        status = s.scalar(select(DolCase.status).where(DolCase.case_number == first[0]))
    assert status == "withdrawn"  # decided later, though earlier in the file


def test_case_ids_follow_the_files_without_gaps_when_a_release_overlaps(db_url: str) -> None:
    ingest_paths(db_url, [DOL / "lca_fy2024_q3.csv"], progress=False)
    ingest_paths(db_url, [DOL / "lca_fy2024_q4.csv"], progress=False)  # shares a case with Q3
    with dbmod.session_scope(db_url) as s:
        ids = list(s.execute(select(DolCase.id, DolCase.case_number).order_by(DolCase.id)))
    assert [i for i, _ in ids] == list(range(1, len(ids) + 1))
    numbers = [cn for _, cn in ids]
    assert numbers[:2] == ["I-200-24001-000001", "I-200-24001-000002"]  # Q3's, the shared one kept its id
    assert numbers[2:] == sorted(numbers[2:])  # Q4's new cases in file order


KEYED = ("dol_cases", "dol_entities", "dol_entity_names", "dol_entity_years")


def keys_of(url: str) -> dict[str, object]:
    """Every index, unique and foreign key of the tables a first load fills, as the database reports them."""
    from sqlalchemy import inspect

    engine = dbmod.get_engine(url)
    with engine.connect() as conn:
        insp = inspect(conn)
        return {
            t: (
                sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)),
                sorted((u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(t)),
                sorted(
                    (f["name"], tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(t)
                ),
                insp.get_pk_constraint(t)["constrained_columns"],
            )
            for t in KEYED
        }


def test_first_load_builds_its_keys_after_the_rows_and_keeps_every_one(db_url: str, tmp_path: Path) -> None:
    migrated = keys_of(db_url)
    assert any(migrated["dol_cases"][0]) and migrated["dol_entity_names"][2]  # indexes and a foreign key to keep
    ingest_paths(db_url, [DOL / "lca_fy2024_q3.csv"], progress=False)
    assert keys_of(db_url) == migrated
    # The unique key still refuses a repeated case once it is built again.
    with pytest.raises(IntegrityError), dbmod.session_scope(db_url) as s:
        first = s.scalars(select(DolCase).limit(1)).one()
        s.execute(
            DolCase.__table__.insert().values(
                kind=first.kind,
                case_number=first.case_number,
                status="certified",
                employer_name="X",
                is_ml=False,
                layout=first.layout,
                source_file="x.csv",
            )
        )


def test_a_first_load_that_repeats_a_case_falls_back_with_every_key_in_place(db_url: str, tmp_path: Path) -> None:
    migrated = keys_of(db_url)
    lines = (DOL / "lca_fy2024_q3.csv").read_text().splitlines()
    path = tmp_path / "lca_twice.csv"
    path.write_text("\n".join([lines[0], lines[1], *lines[1:]]) + "\n")
    summary = ingest_paths(db_url, [path], progress=False)[0]
    assert summary.duplicates_in_file == 1 and summary.inserted == counts(db_url)[0] > 0
    assert keys_of(db_url) == migrated


def test_a_role_that_may_write_but_does_not_own_the_tables_loads_row_by_row() -> None:
    """Only an owner may drop and build keys: a writer role's first load takes the plain path, keys untouched."""
    writes = ["SELECT, INSERT, UPDATE, DELETE ON ALL TABLES", "USAGE, SELECT, UPDATE ON ALL SEQUENCES"]
    with pg_schema("jobagg_rw") as owner_url, pg_role(owner_url, "jobagg_rw", writes) as url:
        migrated = keys_of(owner_url)
        ingest_paths(url, [DOL / "lca_fy2024_q3.csv"], progress=False)
        cases, _, entities = counts(owner_url)
        assert cases > 0 and entities > 0
        assert keys_of(owner_url) == migrated


def _many_cases(src: Path, dest: Path, copies: int) -> Path:
    """`src`'s cases `copies` times over, each copy with its own case numbers, fiscal year, status and wage."""
    import csv

    with src.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    rows = [r for r in rows if r and r[0]]
    col = {name: header.index(name) for name in header}
    statuses = ["Certified", "Denied", "Withdrawn", "Certified - Withdrawn"]
    with dest.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        for i in range(copies):
            for j, row in enumerate(rows):
                row = list(row)
                row[0] = f"{row[0][:-6]}{i * 100 + j:06d}"
                row[col["CASE_STATUS"]] = statuses[(i + j) % len(statuses)]
                row[col["DECISION_DATE"]] = f"{2021 + i % 4}-0{1 + j % 9}-15"
                wage = "WAGE_RATE_OF_PAY_FROM" if "WAGE_RATE_OF_PAY_FROM" in col else "WAGE_OFFER_FROM"
                row[col[wage]] = str(90_000 + 1_000 * ((i * 7 + j) % 50))
                out.writerow(row)
    return dest


@pytest.mark.parametrize("fixture", ["lca_fy2024_q4.csv", "perm_fy2022.csv"])
def test_counting_ahead_while_reading_gives_the_same_yearly_figures(
    fixture: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staged cases counted a chunk at a time while the reader is behind add up to the build's own count."""
    from matching import entities, ingest
    from matching import reading as reading_mod

    path = _many_cases(DOL / fixture, tmp_path / fixture, copies=40)

    def figures(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        with dbmod.session_scope(url) as s:
            years = s.execute(select(DolEntityYear.__table__).order_by(DolEntityYear.id)).all()
            ents = s.execute(
                select(*(c for c in DolEntity.__table__.c if c.name != "built_at")).order_by(DolEntity.id)
            ).all()
        return [tuple(r) for r in years], [tuple(r) for r in ents]

    plain = f"sqlite:///{tmp_path / 'plain.db'}"
    ingest_paths(plain, [path], progress=False)

    # The reader sends small batches and the loader is idle before each one, so it counts ahead every time.
    monkeypatch.setattr(reading_mod, "BATCH", 7)
    monkeypatch.setattr(ingest, "COUNT_CHUNK", 10)
    original = reading_mod.CaseReader.batches

    def idle_first(self: reading_mod.CaseReader, idle: object = None) -> reading_mod.Batches:
        for item in original(self, None):
            while callable(idle) and idle():
                pass
            yield item

    chunks: list[int] = []
    counted = entities.count_ahead

    def spy(conn: object, table: str, done: int | None, upto: int) -> int:
        chunks.append(upto)
        return counted(conn, table, done, upto)  # type: ignore[arg-type]

    monkeypatch.setattr(reading_mod.CaseReader, "batches", idle_first)
    monkeypatch.setattr(ingest, "count_ahead", spy)
    ahead = f"sqlite:///{tmp_path / 'ahead.db'}"
    ingest_paths(ahead, [path], progress=False)
    assert len(chunks) >= 5 and chunks == sorted(chunks)
    assert figures(ahead) == figures(plain)
    assert figures(plain)[0]  # there are yearly figures to compare


def test_gzipped_files_load_as_their_plain_selves(db_url: str, tmp_path: Path) -> None:
    plain = [DOL / "perm_fy2022.csv", DOL / "uscis_hub_fy2024_utf16.csv"]
    ingest_paths(db_url, plain, progress=False)
    expected = counts(db_url)
    other = f"sqlite:///{tmp_path / 'gz.db'}"
    packed = []
    for path in plain:
        target = tmp_path / (path.name + ".gz")
        target.write_bytes(gzip.compress(path.read_bytes()))
        packed.append(target)
    ingest_paths(other, packed, progress=False)
    assert counts(other) == expected
    with dbmod.session_scope(other) as s:
        g = s.scalars(select(UscisEmployerYear).where(UscisEmployerYear.employer_name == "GOOGLE LLC")).one()
    assert g.initial_approval == 1204 + 15  # UTF-16 inside the gzip is still told from its BOM


def test_a_cut_gzip_names_the_file_and_stores_nothing_from_it(db_url: str, tmp_path: Path) -> None:
    ingest_paths(db_url, [DOL / "perm_fy2022.csv"], progress=False)
    before = counts(db_url)
    whole = gzip.compress((DOL / "lca_fy2024_q4.csv").read_bytes())
    cut = tmp_path / "lca_cut.csv.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(IngestError) as err:
        ingest_paths(db_url, [cut], progress=False)
    assert "lca_cut.csv.gz" in str(err.value)
    assert counts(db_url) == before
