"""An operator's join overrides (`jobagg employers set|block|unset|overrides|review`), in the index and on real
databases through click."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

import crawler.cli.matching  # noqa: F401  (registers the commands on `main`)
from crawler import db as dbmod
from crawler.cli import main
from crawler.models import DolEntity, EmployerOverride, PostingSponsorship
from matching.join import EntityIndex, alias_key
from matching.matchindex import read_current
from matching.overrides import apply_overrides
from tests.matching.conftest import lca_of
from tests.matching.test_tagging import joined_by, loaded

ROWS = [
    (1, "ORBIT LABS INC", "123456789", "lca", 10, "CA"),  # FEINs are stored as nine digits
    (2, "ORBIT HEALTH LLC", None, "lca", 8, "TX"),
    (3, "QUARRY SOFTWARE INC", None, "lca", 4, "NY"),
]


def run(db_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", db_url, *args], catch_exceptions=False)
    return result.exit_code, result.output


def chosen(index: EntityIndex, name: str) -> list[tuple[str, str]]:
    return [(c.name, c.method) for c in index.match(name).matches]


def test_an_override_wins_over_the_alias_table_and_the_name_rules() -> None:
    index = EntityIndex.from_names(ROWS, {alias_key("Quarry"): ["ORBIT HEALTH LLC"]})
    assert chosen(index, "Orbit") == []  # two namesakes: unsure
    assert chosen(index, "Quarry") == [("ORBIT HEALTH LLC", "alias")]
    apply_overrides(
        index, [(alias_key("Orbit"), "ORBIT HEALTH LLC", 0), (alias_key("Quarry"), "QUARRY SOFTWARE INC", 0)]
    )
    assert chosen(index, "Orbit") == [("ORBIT HEALTH LLC", "override")]
    assert chosen(index, "Orbit, Inc.") == [("ORBIT HEALTH LLC", "override")]  # looked up by the legal key
    assert chosen(index, "Quarry") == [("QUARRY SOFTWARE INC", "override")]
    # Applied again (every look-up reads them afresh), overrides replace, never pile up.
    apply_overrides(
        index, [(alias_key("Orbit"), "FEIN:12-3456789", "0"), (alias_key("Orbit"), "ORBIT HEALTH LLC", "0")]
    )
    assert [(c.name, c.method) for c in index.match("Orbit").matches] == [
        ("ORBIT LABS INC", "override"),
        ("ORBIT HEALTH LLC", "override"),
    ]
    apply_overrides(index, [])
    assert chosen(index, "Orbit") == [] and chosen(index, "Quarry") == [("ORBIT HEALTH LLC", "alias")]


def test_a_block_rules_out_a_namesake_and_takes_back_an_alias_line() -> None:
    index = EntityIndex.from_names(
        ROWS, {alias_key("Quarry"): ["QUARRY SOFTWARE INC", "ORBIT LABS INC"], alias_key("Orb"): ["!ORBIT LABS INC"]}
    )
    assert chosen(index, "Quarry Software") == [("QUARRY SOFTWARE INC", "exact")]
    apply_overrides(index, [(alias_key("Quarry"), "ORBIT LABS INC", 1)])
    # The table's line for the blocked filer is dropped; its other line stands.
    assert chosen(index, "Quarry") == [("QUARRY SOFTWARE INC", "alias")]
    apply_overrides(
        index, [(alias_key("Quarry"), "QUARRY SOFTWARE INC", 1), (alias_key("Quarry"), "ORBIT LABS INC", 1)]
    )
    result = index.match("Quarry")
    # Both ruled out, neither is offered again as a candidate.
    assert result.outcome == "none" and result.matches == []
    assert not {"QUARRY SOFTWARE INC", "ORBIT LABS INC"} & {c.name for c in result.alternatives}
    # An operator's "is" beats the table's "is not".
    apply_overrides(index, [(alias_key("Orb"), "ORBIT LABS INC", 0)])
    assert chosen(index, "Orb") == [("ORBIT LABS INC", "override")]


def test_a_table_line_takes_back_its_own_ruling_out_of_the_same_legal_name() -> None:
    # "!ORBIT LABS" is meant for an unrelated filer, but "Orbit Labs, Inc." has the same legal name: one entity.
    rows = [ROWS[0], (1, "Orbit Labs, Inc.", None, "lca", 3, "CA"), *ROWS[1:]]
    table = {alias_key("Orb"): ["!ORBIT LABS", "Orbit Labs, Inc."]}
    index = EntityIndex.from_names(rows, table)
    assert [c.name for c in index.match("Orb").matches] == ["ORBIT LABS INC"]
    # An operator's block of that legal name still rules it out, table line or not.
    apply_overrides(index, [(alias_key("Orb"), "ORBIT LABS INC", 1)])
    result = index.match("Orb")
    assert result.matches == [] and "ORBIT LABS INC" not in {c.name for c in result.alternatives}


def test_set_block_and_unset_through_the_cli_rejoin_and_retag(db_url: str, tmp_path: Path) -> None:
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", [("ORBIT LABS INC", "CA"), ("ORBIT HEALTH LLC", "TX")])
    loaded(db_url, [lca], ["Orbit", "Orbit"])
    code, out = run(db_url, "match")
    assert code == 0, out
    with dbmod.session_scope(db_url) as s:
        assert joined_by(s) == []
        assert set(s.scalars(select(PostingSponsorship.tag).where(PostingSponsorship.visa == "h1b"))) == {"unknown"}

    code, out = run(db_url, "employers", "review", "--json")
    assert code == 0, out
    (row,) = json.loads(out)
    assert row["employer"] == "Orbit" and row["outcome"] == "unsure" and row["open_ml_postings"] == 2
    assert {f["name"] for f in row["filers"]} == {"ORBIT LABS INC", "ORBIT HEALTH LLC"}
    assert {f["state"] for f in row["filers"]} == {"CA", "TX"}
    assert all(f["years"] == [2024, 2024] for f in row["filers"])  # when each filed: FY2024 only

    code, out = run(db_url, "employers", "set", "Orbit", "ORBIT HEALTH LLC", "--note", "Austin robotics firm")
    assert code == 0, out
    with dbmod.session_scope(db_url) as s:
        assert joined_by(s) == [("ORBIT HEALTH LLC", "override")]
        # The tags were recomputed on the new join: the filer's certified LCA case now counts.
        assert "unknown" not in set(s.scalars(select(PostingSponsorship.tag).where(PostingSponsorship.visa == "h1b")))
    # A look-up through the database's own client library (the saved index) sees the override too.
    index = read_current(db_url)
    assert index is not None and index.overrides == {alias_key("Orbit"): ["ORBIT HEALTH LLC"]}
    code, out = run(db_url, "employers", "match", "--json", "Orbit")
    assert json.loads(out)[0]["match"]["method"] == "override"
    code, out = run(db_url, "employers", "overrides", "--json")
    assert json.loads(out) == [
        {
            "brand": "Orbit",
            "filer": "ORBIT HEALTH LLC",
            "blocked": False,
            "note": "Austin robotics firm",
            "loaded_filers": 1,
        }
    ]
    # Status counts what users see by join outcome: both ML postings now rest on a join, one override recorded.
    code, out = run(db_url, "status")
    table = out[out.index("Employer joins") :]
    assert code == 0 and "1 override(s) recorded" in table
    assert [[c.strip() for c in ln.split("│")[1:4]] for ln in table.splitlines() if "│ matched" in ln] == [
        ["matched", "1", "2"]
    ]
    # Decided employers leave the review queue; --all still shows them.
    assert json.loads(run(db_url, "employers", "review", "--json")[1]) == []
    (row,) = json.loads(run(db_url, "employers", "review", "--all", "--json")[1])
    assert row["override"] and row["method"] == "override"

    # The same pair again turns the "is" into an "is not": one row, never two.
    code, out = run(db_url, "employers", "block", "Orbit", "ORBIT HEALTH LLC", "--no-retag")
    assert code == 0 and "jobagg match" in out
    code, out = run(db_url, "match")
    with dbmod.session_scope(db_url) as s:
        assert joined_by(s) == []
        assert s.scalar(select(func.count()).select_from(EmployerOverride)) == 1

    code, out = run(db_url, "employers", "unset", "Orbit")
    assert code == 0 and "dropped 1" in out
    with dbmod.session_scope(db_url) as s:
        assert joined_by(s) == [] and s.scalar(select(func.count()).select_from(EmployerOverride)) == 0
    code, out = run(db_url, "employers", "unset", "Orbit")
    assert code == 1 and "no override for 'Orbit'" in out


def test_why_names_the_namesake_an_operator_ruled_out(db_url: str, tmp_path: Path) -> None:
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", [("QUARRY SOFTWARE INC", "NY")])
    loaded(db_url, [lca], ["Quarry Software"])
    assert run(db_url, "match")[0] == 0
    with dbmod.session_scope(db_url) as s:
        assert joined_by(s) == [("QUARRY SOFTWARE INC", "exact")]
    code, out = run(db_url, "employers", "block", "Quarry Software", "QUARRY SOFTWARE INC")
    assert code == 0, out
    code, out = run(db_url, "why", "1")
    # Not a bare "no DOL employer joined": the filer it is not, and who said so.
    assert code == 0 and "green card (PERM): unknown" in out
    assert "QUARRY SOFTWARE INC: a namesake, ruled out by the alias table or an override" in " ".join(out.split())
    evidence = json.loads(run(db_url, "why", "1", "--json")[1])
    assert evidence["h1b"]["employer"]["ruled_out"] == ["QUARRY SOFTWARE INC"]


def test_an_override_naming_no_loaded_filer_is_refused_and_stores_nothing(db_url: str, tmp_path: Path) -> None:
    code, out = run(db_url, "employers", "set", "Orbit", "ORBIT LABS INC")
    assert code == 1 and "no DOL or USCIS filings are loaded" in out
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", [("ORBIT LABS INC", "CA")])
    loaded(db_url, [lca], ["Orbit"])
    code, out = run(db_url, "employers", "set", "Orbit", "ORBIT LAMPS OF OHIO INC")
    assert code == 2
    assert "filer 'ORBIT LAMPS OF OHIO INC'" in out and "nearest: ORBIT LABS INC" in out
    code, out = run(db_url, "employers", "set", "(!)", "ORBIT LABS INC")
    assert code == 2 and "employer '(!)'" in out
    with dbmod.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(EmployerOverride)) == 0
    # An employer no posting shows yet may be answered for ahead of its first crawl.
    code, out = run(db_url, "employers", "set", "Orbit Robotics", "ORBIT LABS INC", "--no-retag")
    assert code == 0 and "no stored posting shows this employer yet" in out


def test_overrides_go_out_as_csv_and_come_back_in_all_or_none(db_url: str, tmp_path: Path) -> None:
    lca = lca_of(
        tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv",
        [("ORBIT LABS INC", "CA"), ("ORBIT HEALTH LLC", "TX"), ("QUARRY SOFTWARE INC", "NY")],
    )
    loaded(db_url, [lca], ["Orbit", "Quarry"])
    good = tmp_path / "overrides.csv"
    good.write_text(
        '# our team\'s answers\nbrand,filer,note\nOrbit,ORBIT HEALTH LLC,"Austin, TX"\nQuarry,!QUARRY SOFTWARE INC,\n',
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "brand,filer\nOrbit,ORBIT LABS INC\nQuarry,QUARRY HARDWARE CORP\n\n(!),ORBIT LABS INC\n", encoding="utf-8"
    )
    code, out = run(db_url, "employers", "import", str(bad))
    # Every wrong line named with its number; the good line before them is not kept either.
    assert code == 1 and "nothing imported, 2 wrong line(s)" in out
    assert f"{bad}:3: filer 'QUARRY HARDWARE CORP'" in out and f"{bad}:5: employer '(!)'" in out
    with dbmod.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(EmployerOverride)) == 0
    code, out = run(db_url, "employers", "import", str(tmp_path / "nothing.csv"))
    assert code == 2 and "does not exist" in out
    headless = tmp_path / "headless.csv"
    headless.write_text("employer,dol\nOrbit,ORBIT LABS INC\n", encoding="utf-8")
    code, out = run(db_url, "employers", "import", str(headless))
    assert code == 1 and f"{headless}:1: no brand or filer column in the header" in out

    code, out = run(db_url, "employers", "import", str(good))
    assert code == 0 and "imported 2 override(s)" in out
    with dbmod.session_scope(db_url) as s:
        assert joined_by(s) == [("ORBIT HEALTH LLC", "override")]
    code, out = run(db_url, "employers", "overrides", "--csv")
    assert out.splitlines() == [
        "brand,filer,note",
        'Orbit,ORBIT HEALTH LLC,"Austin, TX"',
        "Quarry,!QUARRY SOFTWARE INC,",
    ]
    # What it prints reads back unchanged, and in the shipped alias table's shape.
    again = tmp_path / "again.csv"
    again.write_text(out, encoding="utf-8")
    assert run(db_url, "employers", "import", "--no-retag", str(again))[0] == 0
    assert run(db_url, "employers", "overrides", "--csv")[1] == out
    from matching.join import load_aliases

    assert load_aliases(again) == {
        alias_key("Orbit"): ["ORBIT HEALTH LLC"],
        alias_key("Quarry"): ["!QUARRY SOFTWARE INC"],
    }


def test_beside_a_run_in_progress_an_override_is_stored_and_left_to_the_next_run(db_url: str, tmp_path: Path) -> None:
    from crawler.runlock import EXIT_LOCKED, run_lock

    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", [("ORBIT LABS INC", "CA"), ("ORBIT HEALTH LLC", "TX")])
    loaded(db_url, [lca], ["Orbit"])
    assert run(db_url, "match")[0] == 0
    with run_lock(db_url):  # what a scheduled `jobagg run` holds while it crawls and matches
        code, out = run(db_url, "employers", "set", "Orbit", "ORBIT LABS INC")
        assert code == 0 and "a `jobagg run` is in progress" in out
        with dbmod.session_scope(db_url) as s:
            # Recorded, but the join is the run's to recompute: two writers of it would race.
            assert s.scalar(select(func.count()).select_from(EmployerOverride)) == 1
            assert joined_by(s) == []
        result = CliRunner().invoke(main, ["--db", db_url, "match"])
        assert result.exit_code == EXIT_LOCKED and "not started" in result.stderr
    assert run(db_url, "match")[0] == 0
    with dbmod.session_scope(db_url) as s:
        assert joined_by(s) == [("ORBIT LABS INC", "override")]


def test_an_override_whose_filer_no_loaded_data_has_is_flagged(db_url: str, tmp_path: Path) -> None:
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", [("ORBIT LABS INC", "CA")])
    loaded(db_url, [lca], ["Orbit"])
    assert run(db_url, "employers", "set", "Orbit", "ORBIT LABS INC", "--no-retag")[0] == 0
    with dbmod.session_scope(db_url) as s:
        # As after the filings it named were dropped and reloaded without it (the override itself stays).
        s.add(
            EmployerOverride(brand="Quarry", brand_key=alias_key("Quarry"), filer="QUARRY SOFTWARE INC", blocked=False)
        )
    code, out = run(db_url, "employers", "overrides", "--json")
    assert [(o["brand"], o["loaded_filers"]) for o in json.loads(out)] == [("Orbit", 1), ("Quarry", 0)]
    code, out = run(db_url, "employers", "overrides")
    assert code == 0 and "1 override(s) name a filer no loaded data has" in out


def test_review_flags_the_kinds_of_join_most_often_wrong_and_not_the_plain_ones() -> None:
    from matching.join import posting_hints
    from matching.overrides import suspicion

    rows = [
        (1, "EXANTE DATA LLC", None, "lca", 1, "NY"),
        (2, "TWELVE TWENTY INC", None, "lca", 0, "PA"),
        (3, "QUARRY SOFTWARE INC", None, "lca", 2, "NY"),
        (4, "LATTICEWORKS ANALYTICS INC", None, "lca", 80, "CA"),
        (5, "ZORBLIX INC", None, "lca", 3, "TX"),
        (6, "MADRENA ENERGY HOLDINGS LLC", None, "lca", 40, "NY"),
        (7, "ARMOVA INC", None, "lca", 40, "CA"),
    ]
    index = EntityIndex.from_names(rows, {})

    def check(name: str, states: list[str] | None = None) -> str | None:
        hints = posting_hints(None, states=states) if states else None
        return suspicion(index, index.match(name, hints), hints)

    # A small filer whose name goes on to say what else it is: the registry's commonest wrong join.
    assert "a small filer (1 filings)" in (check("Exante") or "")
    # The brand's own letters, however spaced, and words saying only what kind of firm it is, say nothing more.
    assert check("TwelveTwenty") is None and check("Quarry") is None
    assert check("Latticeworks") is None  # the filer says more, but files 80 times: the brand's own
    assert "files in TX; the postings are in CA" in (check("Zorblix", ["CA"]) or "")
    assert check("Zorblix", ["TX"]) is None
    assert check("Latticeworks Analytic") == "a near spelling of the name, not the name"
    # A join on the employer's first words, leaving a unit or a place out; a field or a site ending says nothing.
    assert check("Madrena Energy Infrastructure") == (
        "joined on the employer's first words; Infrastructure is not in MADRENA ENERGY HOLDINGS LLC"
    )
    assert index.match("Armova Security").matches and check("Armova Security") is None
    assert index.match("Armova.com").matches and check("Armova.com") is None
    apply_overrides(index, [(alias_key("Exante"), "EXANTE DATA LLC", 0)])
    assert check("Exante") is None  # a person's answer already


def test_an_ingest_beside_a_run_loads_and_builds_but_leaves_the_re_tag_to_the_run(db_url: str, tmp_path: Path) -> None:
    from crawler.runlock import run_lock
    from matching.tagging import match_and_tag
    from tests.matching.test_tagging import add_posting

    with dbmod.session_scope(db_url) as s:
        add_posting(s, "Orbit", "not_mentioned", 1)
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", [("ORBIT LABS INC", "CA")])
    with run_lock(db_url):  # a scheduled `jobagg run` matching meanwhile
        code, out = run(db_url, "dol", "ingest", "--no-progress", str(lca))
        assert code == 0 and "a `jobagg run` is in progress" in out
    with dbmod.session_scope(db_url) as s:
        # The filings and entities are in (the load was not lost to a race); the join waits for its one writer.
        assert s.scalar(select(func.count()).select_from(DolEntity)) == 1
        assert joined_by(s) == []
        match_and_tag(s)
        assert joined_by(s) == [("ORBIT LABS INC", "leading")]


def test_review_tells_namesakes_apart_by_city_industry_and_years(db_url: str, tmp_path: Path) -> None:
    """Beside each candidate filer: the city most of its filings give, its industry (NAICS sector) and when it
    filed, from its DOL cases and its USCIS hub rows."""
    lca = lca_of(tmp_path / "LCA_Disclosure_Data_FY2024_Q4.csv", [("DAYLIGHT LABS INC", "CA")])
    header = (
        "Fiscal Year,Employer,Initial Approval,Initial Denial,Continuing Approval,Continuing Denial,NAICS,Tax ID,"
        "State,City,ZIP"
    )
    hub = tmp_path / "hub.csv"
    hub.write_text(
        "\n".join(
            [
                header,
                "2021,DAYLIGHT TRANSPORT LLC,1,0,1,0,484121,7001,CA,EL SEGUNDO,90245",
                "2022,DAYLIGHT TRANSPORT LLC,1,0,0,0,484121,7001,CA,EL SEGUNDO,90245",
                "2023,DAYLIGHT LABS INC,2,0,1,0,541511,8002,CA,SAN FRANCISCO,94107",
                "2023,DAYLIGHT LABS INC,1,0,0,0,541511,8002,CA,OAKLAND,94607",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    loaded(db_url, [lca, hub], ["Daylight", "Daylight"])
    code, out = run(db_url, "employers", "review", "--json")
    assert code == 0, out
    (row,) = json.loads(out)
    assert row["outcome"] == "unsure"
    about = {f["name"]: (f["city"], f["industry"], f["years"]) for f in row["filers"]}
    assert about == {
        "DAYLIGHT TRANSPORT LLC": ("El Segundo", "transportation", [2021, 2022]),
        "DAYLIGHT LABS INC": ("San Francisco", "professional services", [2023, 2024]),
    }
    code, out = run(db_url, "employers", "review")
    cells = " ".join(c.strip() for ln in out.splitlines() for c in ln.split("│")[4:5])  # the filers' column
    assert "DAYLIGHT TRANSPORT LLC (CA, 3; El Segundo; transportation; FY2021-22)" in " ".join(cells.split())
