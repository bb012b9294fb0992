"""`jobagg dol ingest|download`, `jobagg employers match`, `jobagg match` through click, on real databases."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

import crawler.cli.dol
import crawler.cli.matching  # noqa: F401  (registers the commands on `main`)
from crawler.cli import main
from tests.conftest import free_port
from tests.matching.conftest import DOL, csv_to_xlsx, lca_of
from tests.matching.test_idempotent import changes, snapshot


def run(db_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", db_url, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_employers_match_json_shape(db_url: str, all_fixture_files: list[Path], tmp_path: Path) -> None:
    code, out = run(db_url, "dol", "ingest", "--no-progress", *map(str, all_fixture_files))
    assert code == 0, out
    assert "DOL ingest" in out
    names = tmp_path / "names.txt"
    names.write_text("Nimbus Robotics\n\nZyxwv Quantum\n", encoding="utf-8")
    code, out = run(db_url, "employers", "match", "--json", "--file", str(names), "Acme AI")
    assert code == 0, out
    data = json.loads(out)
    assert [d["query"] for d in data] == ["Acme AI", "Nimbus Robotics", "Zyxwv Quantum"]
    acme = data[0]["match"]
    assert set(acme) == {"name", "fein", "score", "method"}
    assert acme["fein"] == "81-2345678" and acme["method"] == "exact" and isinstance(acme["score"], float)
    assert data[2]["match"] is None and isinstance(data[2]["alternatives"], list)
    code, out = run(db_url, "employers", "match", "Acme AI")
    assert code == 0 and "ACME" in out
    code, out = run(db_url, "match")
    assert code == 0 and "recomputed" in out


def test_ingest_again_reports_files_loaded_before_and_changes_nothing(db_url: str) -> None:
    lca, perm = DOL / "lca_fy2024_q4.csv", DOL / "perm_fy2022.csv"

    def ingest(*args: str) -> str:
        code, out = run(db_url, "dol", "ingest", "--no-progress", *args)
        assert code == 0, out
        return " ".join(out.split())  # the console wraps lines

    ingest(str(lca))
    before = snapshot(db_url)
    out = ingest(str(lca))
    assert "0 new, 0 updated" in out and "1 already loaded (same content), not read again" in out
    assert "Nothing new" in out and "rebuilt" not in out
    assert changes(before, snapshot(db_url)) == {}
    # One file loaded before and one new: the new one is read, the other still reported as loaded.
    out = ingest(str(lca), str(perm))
    assert "7 new" in out and "1 already loaded" in out and "rebuilt" in out
    assert "already loaded" not in ingest("--force", str(lca))


def test_a_run_stopped_by_a_later_file_is_finished_by_the_next_ingest(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files are committed one by one: when a later file fails, the earlier ones are stored but no entity build
    ran. Ingesting them again (all loaded before) builds the entities instead of saying nothing is new."""
    from sqlalchemy import func, select

    import matching.reading as reading_mod
    from crawler import db as dbmod
    from crawler.models import DolCase, DolEntity
    from matching.readers import IngestError

    real = reading_mod._case_record

    def explode(row, cols, layout, source):  # type: ignore[no-untyped-def]
        if source == "lca_fy2018.csv":
            raise IngestError("lca_fy2018.csv: simulated failure")
        return real(row, cols, layout, source)

    lca, perm = DOL / "lca_fy2024_q4.csv", DOL / "perm_fy2022.csv"
    with monkeypatch.context() as m:
        m.setattr(reading_mod, "_case_record", explode)
        code, out = run(db_url, "dol", "ingest", "--no-progress", str(lca), str(perm), str(DOL / "lca_fy2018.csv"))
    assert code == 1 and "lca_fy2018.csv" in out

    def unlinked() -> tuple[int, int]:
        with dbmod.session_scope(db_url) as s:
            loose = s.scalar(select(func.count()).select_from(DolCase).where(DolCase.entity_id.is_(None)))
            return loose or 0, s.scalar(select(func.count()).select_from(DolEntity)) or 0

    assert unlinked()[0] > 0
    code, out = run(db_url, "dol", "ingest", "--no-progress", str(lca), str(perm))
    assert code == 0, out
    flat = " ".join(out.split())
    assert "2 already loaded" in flat and "they are built now" in flat and "Nothing new" not in flat
    loose, entities = unlinked()
    assert loose == 0 and entities > 0
    code, out = run(db_url, "dol", "ingest", "--no-progress", str(lca), str(perm))
    assert "Nothing new" in " ".join(out.split())  # and from then on, nothing is


def test_entities_of_an_older_build_are_rebuilt_without_reading_the_files_again(db_url: str, tmp_path: Path) -> None:
    """An upgrade that groups filers differently reaches filings loaded before it: the next `jobagg match` (or
    ingest of the same files) rebuilds what an older build made, once."""
    from sqlalchemy import delete, func, select, update

    from crawler import db as dbmod
    from crawler.models import DolEntity, DolEntityName
    from matching.entities import BUILD_VERSION

    hub = tmp_path / "hub.csv"
    rows = [
        "2023,AGILE SPORTS TECH INC DBA HUDL,40,0,20,0,54,1234,NE,LINCOLN,68508",
        "2023,AGILE SPORTS TECH INC DBA HUDL,1,0,0,0,54,1243,NE,LINCOLN,68508",  # two digits swapped: a slip
    ]
    header = (DOL / "uscis_hub_fy2023.csv").read_text(encoding="utf-8").splitlines()[0]
    hub.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    code, out = run(db_url, "dol", "ingest", "--no-progress", str(hub))
    assert code == 0, out

    def names() -> set[tuple[str, str, str, int]]:
        with dbmod.session_scope(db_url) as s:
            rows = s.execute(
                select(DolEntity.key, DolEntityName.name, DolEntityName.source, DolEntityName.filings).join(
                    DolEntity, DolEntity.id == DolEntityName.entity_id
                )
            ).all()
        return {tuple(r) for r in rows}  # type: ignore[misc]

    before = names()
    assert len({key for key, *_ in before}) == 1  # the slipped Tax ID is the same employer

    def as_an_older_build_left_it() -> None:
        # What version 1 stored: each Tax ID its own entity, no trade name from the hub's d/b/a, no version.
        with dbmod.session_scope(db_url) as s:
            s.execute(delete(DolEntityName).where(DolEntityName.source == "trade"))
            s.execute(update(DolEntity).values(build_version=None))

    def state() -> tuple[set[int | None], int]:
        with dbmod.session_scope(db_url) as s:
            versions = set(s.scalars(select(DolEntity.build_version)))
            trades = s.scalar(select(func.count()).select_from(DolEntityName).where(DolEntityName.source == "trade"))
        return versions, trades or 0

    assert state() == ({BUILD_VERSION}, 1)
    as_an_older_build_left_it()
    code, out = run(db_url, "status")
    assert "built by an older version of jobagg: the next `jobagg match`" in " ".join(out.split()), out
    code, out = run(db_url, "match")
    assert code == 0 and "built by an older version" in out, out
    assert state() == ({BUILD_VERSION}, 1)
    code, out = run(db_url, "match")
    assert "older version" not in out  # once
    assert "older version" not in run(db_url, "status")[1]

    as_an_older_build_left_it()
    code, out = run(db_url, "dol", "ingest", "--no-progress", str(hub))
    flat = " ".join(out.split())
    assert code == 0 and "1 already loaded" in flat and "older version of jobagg; they are rebuilt now" in flat
    assert state() == ({BUILD_VERSION}, 1)
    assert names() == before  # the build it would make anew, the slip in its main Tax ID's entity
    code, out = run(db_url, "dol", "ingest", "--no-progress", str(hub))
    assert "Nothing new" in " ".join(out.split())


def test_employers_match_takes_the_postings_state(db_url: str, tmp_path: Path) -> None:
    filers = [("ORBIT LABS INC", "CA"), ("ORBIT HEALTH LLC", "TX"), ("VIREON BROOK FARM LLC", "WA")]
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", filers)
    code, out = run(db_url, "dol", "ingest", "--no-progress", str(lca))
    assert code == 0, out
    code, out = run(db_url, "employers", "match", "--json", "Orbit")
    assert json.loads(out)[0]["outcome"] == "unsure"
    code, out = run(db_url, "employers", "match", "--json", "--state", "tx", "Orbit")
    assert code == 0, out
    match = json.loads(out)[0]["match"]
    assert (match["name"], match["method"]) == ("ORBIT HEALTH LLC", "ad_place")
    result = CliRunner().invoke(main, ["--db", db_url, "employers", "match", "--state", "Texas", "Orbit"])
    assert result.exit_code == 2 and "--state" in result.output and "Texas" in result.output
    result = CliRunner().invoke(main, ["--db", db_url, "employers", "match", "--state", "ON", "Orbit"])
    assert result.exit_code == 2 and "'ON' is not a two-letter US state code" in result.output
    # The job board's token, or its URL, settles namesakes too.
    for board in ("orbitlabs", "https://jobs.lever.co/orbitlabs/1f2e"):
        code, out = run(db_url, "employers", "match", "--json", "--board", board, "Orbit")
        match = json.loads(out)[0]["match"]
        assert code == 0 and (match["name"], match["method"]) == ("ORBIT LABS INC", "ad_board"), out
    result = CliRunner().invoke(
        main, ["--db", db_url, "employers", "match", "--board", "https://acme.com/jobs", "Orbit"]
    )
    assert result.exit_code == 2 and "is no job board token" in result.output
    # An employer hiring only abroad is no small filer that merely begins with its word.
    code, out = run(db_url, "employers", "match", "--json", "Vireon")
    assert code == 0 and json.loads(out)[0]["match"]["name"] == "VIREON BROOK FARM LLC", out
    code, out = run(db_url, "employers", "match", "--json", "--abroad", "Vireon")
    assert code == 0 and json.loads(out)[0]["outcome"] == "unsure", out
    result = CliRunner().invoke(main, ["--db", db_url, "employers", "match", "--abroad", "--state", "WA", "Vireon"])
    assert result.exit_code == 2 and "--abroad" in result.output


def test_a_name_in_brackets_that_is_the_others_initials_is_filed_as_a_trade_name(db_url: str, tmp_path: Path) -> None:
    filers = [
        ("Environmental Systems Research Institute, Inc. (Esri)", "CA"),
        ("NYCEDC (New York City Economic Development Corporation)", "NY"),
        ("Digital Alchemy (North America) LLC", "TX"),
    ]
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", filers)
    code, out = run(db_url, "dol", "ingest", "--no-progress", str(lca))
    assert code == 0, out
    brands = ["Esri", "New York City Economic Development Corporation", "North America"]
    code, out = run(db_url, "employers", "match", "--json", *brands)
    assert code == 0, out
    got = {r["query"]: (r["outcome"], (r["match"] or {}).get("name")) for r in json.loads(out)}
    assert got["Esri"] == ("matched", "ENVIRONMENTAL SYSTEMS RESEARCH INSTITUTE, INC. (ESRI)")
    nycedc = "NYCEDC (NEW YORK CITY ECONOMIC DEVELOPMENT CORPORATION)"
    assert got["New York City Economic Development Corporation"] == ("matched", nycedc)
    assert got["North America"][0] != "matched"  # a place in brackets is no name


def test_employers_match_answers_alike_in_one_process_or_several(
    db_url: str, all_fixture_files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matching import batch

    code, out = run(db_url, "dol", "ingest", "--no-progress", *map(str, all_fixture_files))
    assert code == 0, out
    monkeypatch.setattr(batch, "PER_PROCESS_MIN", 5)
    names = tmp_path / "names.txt"
    brands = ["Acme AI", "Nimbus Robotics", "Quill Health", "Zyxwv Quantum"] + [f"Unknown Firm {i}" for i in range(20)]
    names.write_text("\n".join(brands * 2) + "\n", encoding="utf-8")
    code, one = run(db_url, "employers", "match", "--json", "--jobs", "1", "--file", str(names))
    assert code == 0, one
    code, two = run(db_url, "employers", "match", "--json", "--jobs", "2", "--file", str(names))
    assert code == 0, two
    assert two == one and [d["query"] for d in json.loads(two)] == brands * 2
    assert json.loads(one)[0]["match"]["method"] == "exact"
    result = CliRunner().invoke(main, ["--db", db_url, "employers", "match", "--jobs", "0", "Acme AI"])
    assert result.exit_code == 2 and "--jobs" in result.output


def test_ingest_bad_file_exits_with_message(db_url: str) -> None:
    result = CliRunner().invoke(
        main, ["--db", db_url, "dol", "ingest", "--no-progress", str(DOL / "not_a_dol_file.csv")]
    )
    assert result.exit_code == 1
    assert "not_a_dol_file.csv" in result.output and "ORDER_ID" in result.output


class _Server:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.agents: list[str] = []
        self.paths: list[str] = []


@pytest.fixture
def dol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, _Server]]:
    # A real workbook: downloads are verified (it must open, with a PERM header) before they are kept.
    book = csv_to_xlsx(DOL / "perm_fy2022.csv", tmp_path_factory.mktemp("dol") / "perm.xlsx").read_bytes()
    state = _Server({"/files/PERM_Disclosure_Data_FY2023_Q3.xlsx": book})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.agents.append(self.headers.get("User-Agent", ""))
            state.paths.append(self.path)
            if "Python-urllib" in self.headers.get("User-Agent", ""):
                self.send_error(403)  # what dol.gov does to Python's default agent
                return
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/files", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_download_from_local_server(dol_server: tuple[str, _Server], tmp_path: Path, sqlite_url: str) -> None:
    base, state = dol_server
    code, out = run(
        sqlite_url, "dol", "download", "--kind", "perm", "--fy", "2023", "--base-url", base, "--dest", str(tmp_path)
    )
    assert code == 0, out
    # Q4 is not published yet, so the latest quarter (Q3) is fetched.
    assert state.paths[:2] == [
        "/files/PERM_Disclosure_Data_FY2023_Q4.xlsx",
        "/files/PERM_Disclosure_Data_FY2023_Q3.xlsx",
    ]
    assert (tmp_path / "PERM_Disclosure_Data_FY2023_Q3.xlsx").read_bytes().startswith(b"PK")
    assert all("Mozilla/5.0" in a and "Python-urllib" not in a for a in state.agents)
    assert not list(tmp_path.glob("*.part"))


def test_download_nothing_published(dol_server: tuple[str, _Server], tmp_path: Path, sqlite_url: str) -> None:
    base, _ = dol_server
    result = CliRunner().invoke(
        main,
        [
            "--db",
            sqlite_url,
            "dol",
            "download",
            "--kind",
            "lca",
            "--fy",
            "2031",
            "--quarter",
            "2",
            "--base-url",
            base,
            "--dest",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1
    assert "LCA_Disclosure_Data_FY2031_Q2.xlsx" in result.output


def test_download_names() -> None:
    from matching.download import candidate_names

    assert candidate_names("perm", 2025, 1) == [
        ["PERM_Disclosure_Data_New_Form_FY2025_Q1.xlsx", "PERM_Disclosure_Data_FY2025_Q1.xlsx"]
    ]
    assert [g[0] for g in candidate_names("perm", 2024, 2)] == [
        "PERM_Disclosure_Data_New_Form_FY2024_Q2.xlsx",
        "PERM_Disclosure_Data_FY2024_Q2.xlsx",
    ]
    assert candidate_names("lca", 2022, 4) == [
        ["LCA_Disclosure_Data_FY2022_Q4.xlsx", "LCA_Dislclosure_Data_FY2022_Q4.xlsx"]
    ]
