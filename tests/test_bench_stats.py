"""The benchmarks' own arithmetic: a wrong interval would tell planners a target is in reach when it is not."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from join_accuracy import db_universe, figures, loaded_labels, read_labels, score, wilson
from tag_agreement import entity_years


def test_wilson_interval_matches_published_values_and_stays_inside_zero_and_one() -> None:
    # Textbook values of the 95% score interval: 0 of 10 -> (0, 0.2775); 10 of 10 -> (0.7225, 1); 50 of 100 ->
    # (0.4038, 0.5962).
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    lo, hi = wilson(171, 179)
    assert lo < 171 / 179 < hi and hi < 0.99  # a precision of 0.955 on 179 joins does not reach 0.99
    assert wilson(0, 0) == (0.0, 1.0)


def test_labels_carry_the_sample_they_were_drawn_in(tmp_path: Path) -> None:
    # Holdout figures are reported per sample: a row must land in the block whose heading precedes it.
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "# header comment, not a sample\n"
        "brand,kind,split,gold,accept,ad,url,place\n"
        "Acme,plain,holdout,ACME INC,,,,CA\n"
        "# probe: development rows\n"
        "Zeta,none,tune,,,,,\n"
        "# probe 2 (today): development rows\n"
        '"Beta, Inc.",plain,tune,BETA INC,,,,\n'
        "# holdout 3 (today): a random sample\n"
        "# labelled before the join ran, set aside as a\n"
        "# holdout, reported in total only (a wrapped line that begins with a block's word starts no block)\n"
        "Gamma,none,holdout,,,,,\n"
        "Delta,none,holdout,,,,,\n"
        "# shipped 2 (today): development rows\n"
        "Epsilon,plain,tune,EPSILON LLC,,,,\n",
        encoding="utf-8",
    )
    rows = read_labels(labels)
    assert [(r["brand"], r["block"]) for r in rows] == [
        ("Acme", "hand-picked"),
        ("Zeta", "probe"),
        ("Beta, Inc.", "probe 2"),
        ("Gamma", "holdout 3"),
        ("Delta", "holdout 3"),
        ("Epsilon", "shipped 2"),
    ]


def test_the_run_without_the_place_gives_the_join_no_state_to_settle_namesakes_by() -> None:
    # Labellers often read a brand's state off its filer's filings, so one run leaves that hint out: there the
    # posting's state must not reach the join, and a brand only the state tells apart stays unjoined.
    from matching.join import EntityIndex
    from matching.normalize import legal_key

    rows = [(1, "QUORLIX ROBOTICS INC", None, "lca", 3, "CA"), (2, "QUORLIX CAPITAL LLC", None, "lca", 3, "NY")]
    index = EntityIndex.from_names(rows, {}, {})
    index.aliases = {}
    ids = {legal_key(name): {eid} for eid, name, *_ in rows}
    label = {"brand": "Quorlix", "kind": "leading", "split": "tune", "gold": "QUORLIX ROBOTICS INC", "accept": "",
             "ad": "", "url": "", "place": "CA", "block": "hand-picked"}  # fmt: skip
    placed, _errors, _secs = score(index, [label], ids, use_hints=True)
    unplaced, _errors, _secs = score(index, [label], ids, use_hints=True, use_place=False)
    assert placed["tune"]["right"] == 1 and placed["tune"]["path:ad_place"] == 1
    # Each path's joins and wrong joins are counted, for its own precision.
    assert placed["tune"]["joined:ad_place"] == 1 and placed["tune"]["wrong:ad_place"] == 0
    namesake = {**label, "kind": "negative", "gold": ""}  # the brand has no filing: the CA namesake is wrong
    wrong, _errors, _secs = score(index, [namesake], ids, use_hints=True)
    assert wrong["tune"]["joined:ad_place"] == 1 and wrong["tune"]["wrong:ad_place"] == 1
    assert unplaced["tune"]["right"] == 0 and unplaced["tune"]["missed"] == 1


def test_a_join_to_only_the_companys_other_entities_is_neither_wrong_nor_a_hit() -> None:
    from collections import Counter

    # 8 right, 1 to the company's other entity only, 1 wrong, of 12 brands with filings.
    s = Counter(right=8, other=1, wrong=1, positives=12)
    precision, recall = figures(s)
    assert precision == pytest.approx(9 / 10) and recall == pytest.approx(8 / 12)
    assert figures(Counter(positives=3)) == (1.0, 0.0)  # nothing joined: no wrong join


def test_tag_scenarios_get_the_yearly_figures_the_entity_build_stores(sqlite_url: str) -> None:
    # The tag benchmark builds each scenario's yearly figures itself; they must be what a real load stores, or the
    # rules reading them (history before the lookback, first H-1B year) are measured on something else.
    from sqlalchemy import select

    from crawler import db as dbmod
    from crawler.models import DolEntityYear
    from matching.entities import HUB_COLS
    from matching.evidence import load_filings
    from matching.ingest import ingest_paths
    from matching.tagging import YEAR_COUNTS

    dol = Path(__file__).parent / "fixtures" / "dol"
    names = [
        "perm_fy2012.csv", "perm_fy2016.csv", "perm_fy2022.csv", "perm_new_form_fy2025.csv", "lca_fy2018.csv",
        "lca_fy2024_q3.csv", "lca_fy2024_q4.csv", "uscis_hub_fy2023.csv", "uscis_hub_fy2024_utf16.csv",
    ]  # fmt: skip
    dbmod.upgrade(dbmod.make_engine(sqlite_url))
    ingest_paths(sqlite_url, [dol / n for n in names], progress=False)
    # LCAs of other visas (E-3, H-1B1) are stored apart and never reach H-1B evidence: not in the scenarios.
    counted = [c for c in YEAR_COUNTS if c != "lca_secondary"] + list(HUB_COLS)
    with dbmod.session_scope(sqlite_url) as s:
        stored = list(s.scalars(select(DolEntityYear)))
        ids = sorted({y.entity_id for y in stored})
        filings = load_filings(s, ids, 0)
        compared = 0
        for eid in ids:
            f = filings[eid]
            rows = [[g.kind, g.fiscal_year, g.status, g.is_ml, g.title, g.wage_level, g.count] for g in f.groups]
            built = {y.fiscal_year: y for y in entity_years(rows, f.uscis)}
            for y in (y for y in stored if y.entity_id == eid):
                for col in counted:
                    mine = getattr(built[y.fiscal_year], col) if y.fiscal_year in built else 0
                    assert (getattr(y, col) or 0) == (mine or 0), (eid, y.fiscal_year, col)
                    compared += 1
    assert len(ids) >= 10 and compared > 200


def test_tag_scenarios_flag_ml_cases_as_ingest_does() -> None:
    # A scenario's writer flags the occupation; ingest also counts a computer-occupation filing with an ML title.
    from tag_agreement import filings_of

    from matching.values import is_ml_case

    titles = ["Software Engineer, Machine Learning", "Software Engineer", "Senior ML Engineer", "Accountant", ""]
    rows = [["lca", 2026, "certified", False, t, "II", 1] for t in titles]
    got = [row[3] for row in filings_of({"filings": rows})]
    assert got == [is_ml_case("15-1252", t) for t in titles] == [True, False, True, False, False]
    assert all(
        row[3] for row in filings_of({"filings": [["perm", 2026, "certified", True, "Data Scientist", None, 1]]})
    )


def test_a_malformed_label_file_is_named_with_its_line_and_field(tmp_path: Path) -> None:
    from tag_agreement import LabelError, read

    good = {
        "id": "p1",
        "posting": {"title": "ML Engineer"},
        "filings": [],
        "expect": {"green_card": "likely", "h1b": None},
    }
    cases = {
        "not json\n": "bad.jsonl:1: not JSON",
        json.dumps(
            {**good, "filings": [["perm", 2026, "certified", True, "ML Engineer", "II"]]}
        ): "bad.jsonl:1 (p1): 'filings[0]'",
        json.dumps({**good, "expect": {"green_card": "probably", "h1b": None}}): "'expect.green_card' must be",
        json.dumps({k: v for k, v in good.items() if k != "expect"}): "missing field 'expect'",
        "\n" + json.dumps({**good, "uscis": {"2026": [1, 2]}}): "bad.jsonl:2 (p1): 'uscis.2026' must be four counts",
        json.dumps({**good, "votes": {"r1": {"green_card": "sure", "h1b": None}}}): "'votes' must map each reader",
        "": "bad.jsonl: no scenarios",
    }
    for text, message in cases.items():
        path = tmp_path / "bad.jsonl"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(LabelError, match=re.escape(message)):
            read(path)
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert [s["id"] for s in read(path)] == ["p1"]


def test_readers_and_jobagg_are_held_to_the_same_leave_one_out_majorities() -> None:
    from tag_agreement import jobagg_tags, reader_ceiling

    # A posting abroad: jobagg gives neither US tag (None), so what each reader is held to is known in advance.
    abroad = {"id": "a1", "posting": {"title": "ML Engineer", "country": "GB"}, "filings": [], "expect": {}}
    assert jobagg_tags(abroad) == {"green_card": None, "h1b": None}
    both = {"green_card": None, "h1b": None}
    votes = {"r1": both, "r2": both, "r3": both, "r4": {"green_card": "likely", "h1b": None}}
    got = reader_ceiling([{**abroad, "votes": votes}])
    assert got is not None
    by_reader, ours = got
    # r4's green card is against three; each other reader's green card has a 2-1 majority of None among the rest.
    assert by_reader == {"r1": (2, 2), "r2": (2, 2), "r3": (2, 2), "r4": (1, 2)}
    assert ours == (8, 8)
    # Two against two among the others: no majority, so neither the reader nor jobagg is scored on that pair.
    split = {"r1": both, "r2": both, "r3": {**both, "h1b": "likely"}, "r4": {**both, "h1b": "likely"}, "r5": both}
    by_reader, ours = reader_ceiling([{**abroad, "votes": split}]) or ({}, (0, 0))
    # r1's, r2's and r5's H-1B others tie; r3's and r4's others are three None to one "likely".
    assert by_reader == {"r1": (1, 1), "r2": (1, 1), "r3": (1, 2), "r4": (1, 2), "r5": (1, 1)}
    assert ours == (7, 7)
    assert reader_ceiling([abroad]) is None


def test_the_join_is_scored_through_what_ingest_stored(sqlite_url: str, tmp_path: Path) -> None:
    """`--db` scores the index jobagg loads from an ingested database: a hub name's d/b/a is found there only if
    ingest files it, and a brand whose filer was never loaded is left out rather than counted as missed."""
    from matching.ingest import ingest_paths

    hub = tmp_path / "hub.csv"
    header = (
        "Fiscal Year,Employer,Initial Approval,Initial Denial,Continuing Approval,Continuing Denial,"
        "NAICS,Tax ID,State,City,ZIP"
    )
    hub.write_text(
        header + "\n2023,AGILE SPORTS TECH INC DBA HUDL,4,0,2,0,54,1234,NE,LINCOLN,68508\n", encoding="utf-8"
    )
    ingest_paths(sqlite_url, [hub], progress=False)
    index, by_legal = db_universe(sqlite_url)
    rows = [
        {"brand": "Hudl", "gold": "AGILE SPORTS TECH INC DBA HUDL", "accept": "AGILE SPORTS LLC", "split": "tune"},
        {"brand": "Ghost Filer", "gold": "GHOST FILER INC", "accept": "", "split": "tune"},
        {"brand": "Nobody", "gold": "", "accept": "", "split": "holdout", "block": "holdout 1"},
    ]
    rows = [{"ad": "", "url": "", "place": "", "block": "probe", **r} for r in rows]
    kept, dropped = loaded_labels(rows, by_legal)
    assert dropped == 1 and [r["brand"] for r in kept] == ["Hudl", "Nobody"]
    assert kept[0]["accept"] == ""  # a filer not loaded is neither gold nor acceptable
    stats, _errors, _secs = score(index, kept, by_legal, use_hints=False)
    assert stats["tune"]["right"] == 1 and stats["holdout"]["rejected"] == 1


def test_the_join_benchmark_ingests_files_itself_and_scores_them(tmp_path: Path) -> None:
    import subprocess

    hub = tmp_path / "hub.csv"
    hub.write_text(
        "Fiscal Year,Employer,Initial Approval,Initial Denial,Continuing Approval,Continuing Denial,NAICS,Tax ID,"
        "State,City,ZIP\n2023,AGILE SPORTS TECH INC DBA HUDL,4,0,2,0,54,1234,NE,LINCOLN,68508\n",
        encoding="utf-8",
    )
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "brand,kind,split,gold,accept,ad,url,place\nHudl,dba,tune,AGILE SPORTS TECH INC DBA HUDL,,,,NE\n",
        encoding="utf-8",
    )
    bench = Path(__file__).resolve().parent.parent / "bench" / "join_accuracy.py"
    out = subprocess.run(
        [sys.executable, str(bench), "--ingest", str(hub), "--labels", str(labels)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "ingested 1 file(s)" in out.stdout and "1 labelled brands scored, 0 left out" in out.stdout
    assert "all targets met" in out.stdout
