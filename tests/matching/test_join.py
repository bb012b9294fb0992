"""The employer join: aliases, normalised exact, fuzzy with blocking, subset traps, unsure, multi-filer brands."""

from __future__ import annotations

import pytest

from matching.join import EntityIndex, load_aliases
from matching.normalize import clean_name, core_key, split_dba

FILERS = [
    # (entity id, legal name, FEIN)
    (1, "LATTICE SEMICONDUCTOR CORPORATION", "930835214"),
    (2, "WAVE COMPUTING, INC.", "471234567"),
    (3, "FORD MOTOR COMPANY", "380549190"),
    (4, "METABASE, INC.", "812223334"),
    (5, "META PLATFORMS, INC.", "201665019"),
    (6, "SAPIENT CORPORATION", "043130648"),
    (7, "SAP AMERICA, INC.", "232359345"),
    (8, "SCALE COMPUTING, INC.", "263334445"),
    (9, "SCALE AI, INC.", "815556667"),
    (10, "AMAZON.COM SERVICES LLC", "820544687"),
    (11, "AMAZON WEB SERVICES, INC.", "201938082"),
    (12, "A9.COM, INC.", "201223344"),
    (13, "AMAZON DEVELOPMENT CENTER U.S., INC.", "263456789"),
    (14, "DATABRICKS, INC.", "461234567"),
    (15, "NORTHWIND DATA INC", "111000111"),
    (16, "NORTHWIND DATUM LLC", "222000222"),
    (17, "ASML US, LP", "111111111"),
    (18, "ASML US, LLC", "222222222"),
    (19, "E.L.F. COSMETICS, INC.", "330000001"),
    (20, "AT&AMP;T SERVICES, INC.", "330000002"),
    (21, "1WAY SOLUTIONS, INC.", "330000003"),
    (22, "ACME ARTIFICIAL INTELLIGENCE, INC.", "812345678"),
    (23, "QUILL HEALTH TECHNOLOGIES, INC.", "834455667"),
    (24, "NIMBUS ROBOTICS CORPORATION", "461029384"),
    (25, "GOOGLE LLC", "770493581"),
    (26, "INTERNATIONAL BUSINESS MACHINES CORPORATION", "130871985"),
    (27, "JOHNSON & JOHNSON SERVICES, INC.", "221024240"),
    (28, "LEE & WHITE CONSULTING LLP", "330000004"),
]
EXTRA_VARIANTS = [(22, "ACME AI"), (14, "DATABRICKS INC")]


def make_index(aliases: dict[str, list[str]] | None = None) -> EntityIndex:
    names = {eid: (name, fein) for eid, name, fein in FILERS}
    rows = list(FILERS) + [(eid, variant, names[eid][1]) for eid, variant in EXTRA_VARIANTS]
    index = EntityIndex.from_names(sorted(rows, key=lambda r: r[0]), load_aliases() if aliases is None else aliases)
    # Variants are looked up under their entity's legal name, as the database stores it.
    index.entity.update(names)
    return index


@pytest.fixture(scope="module")
def index() -> EntityIndex:
    return make_index()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Lattice", None),
        ("Wave", None),
        ("Ford Health", None),
        ("Metabase", "METABASE, INC."),
        ("Meta", "META PLATFORMS, INC."),
        ("SAP", "SAP AMERICA, INC."),
        ("Sapient", "SAPIENT CORPORATION"),
        ("Scale AI", "SCALE AI, INC."),
        ("Scale Computing", "SCALE COMPUTING, INC."),
        ("Lattice Semiconductor", "LATTICE SEMICONDUCTOR CORPORATION"),
        ("Ford", "FORD MOTOR COMPANY"),
    ],
)
def test_subset_traps(index: EntityIndex, query: str, expected: str | None) -> None:
    result = index.match(query)
    assert (result.best.name if result.best else None) == expected
    if expected:
        assert [m.name for m in result.matches] == [expected]


def test_alias_renamed_company(index: EntityIndex) -> None:
    r = index.match("Facebook")
    assert r.outcome == "matched" and r.best and r.best.name == "META PLATFORMS, INC." and r.best.method == "alias"
    assert index.match("Alphabet").best.name == "GOOGLE LLC"  # type: ignore[union-attr]
    assert index.match("IBM").best.fein == "130871985"  # type: ignore[union-attr]


def test_alias_by_fein_and_one_line_extension() -> None:
    idx = make_index({core_key("Acme Labs"): ["FEIN:81-2345678"], core_key("Nimbus"): ["Nimbus Robotics Corp."]})
    r = idx.match("Acme Labs")
    assert r.best and r.best.method == "fein" and r.best.name == "ACME ARTIFICIAL INTELLIGENCE, INC."
    assert idx.match("Nimbus").best.name == "NIMBUS ROBOTICS CORPORATION"  # type: ignore[union-attr]


def test_multi_filer_brand(index: EntityIndex) -> None:
    r = index.match("Amazon")
    assert r.outcome == "matched"
    assert {m.name for m in r.matches} == {
        "AMAZON.COM SERVICES LLC",
        "AMAZON WEB SERVICES, INC.",
        "A9.COM, INC.",
        "AMAZON DEVELOPMENT CENTER U.S., INC.",
    }
    assert [m.name for m in index.match("Amazon Web Services").matches] == ["AMAZON WEB SERVICES, INC."]


def test_same_name_different_feins_both_returned_not_merged(index: EntityIndex) -> None:
    r = index.match("ASML US")
    assert sorted(m.fein or "" for m in r.matches) == ["111111111", "222222222"]


@pytest.mark.parametrize(
    ("query", "expected", "method"),
    [
        ("Acme AI", "ACME ARTIFICIAL INTELLIGENCE, INC.", "exact"),
        ("e.l.f. Cosmetics", "E.L.F. COSMETICS, INC.", "exact"),
        ("AT&T", "AT&AMP;T SERVICES, INC.", "alias"),
        ("Johnson & Johnson", "JOHNSON & JOHNSON SERVICES, INC.", "exact"),
        ("1WaySolutions", "1WAY SOLUTIONS, INC.", "exact"),
        ("Quill Health", "QUILL HEALTH TECHNOLOGIES, INC.", "exact"),
        ("Nimbus Robotics", "NIMBUS ROBOTICS CORPORATION", "exact"),
        ("Databriks", "DATABRICKS, INC.", "fuzzy"),
    ],
)
def test_normalised_exact_and_fuzzy(index: EntityIndex, query: str, expected: str, method: str) -> None:
    r = index.match(query)
    assert r.best is not None and r.best.name == expected and r.best.method == method


def test_unsure_says_so_instead_of_guessing(index: EntityIndex) -> None:
    r = index.match("Northwind Dat")
    assert r.outcome == "unsure" and r.best is None
    assert {a.name for a in r.alternatives[:2]} == {"NORTHWIND DATA INC", "NORTHWIND DATUM LLC"}


def test_reordered_words_are_not_the_same_firm(index: EntityIndex) -> None:
    r = index.match("White & Lee Consulting")
    assert r.best is None and r.alternatives and r.alternatives[0].name == "LEE & WHITE CONSULTING LLP"
    assert index.match("Lee & White Consulting").best.name == "LEE & WHITE CONSULTING LLP"  # type: ignore[union-attr]


def test_no_candidate_at_all(index: EntityIndex) -> None:
    r = index.match("Zyxwv Quantum")
    assert r.outcome == "none" and r.best is None and r.alternatives == []


def test_runner_up_reported(index: EntityIndex) -> None:
    r = index.match("Scale AI")
    assert r.runner_up is not None and r.runner_up.name == "SCALE COMPUTING, INC."


def test_dba_and_subsidiary_clauses() -> None:
    assert split_dba("WIDGETCO LLC D/B/A WIDGET LABS") == ("WIDGETCO LLC", "WIDGET LABS")
    assert clean_name("ABBVIE BIORESEARCH CENTER, A WHOLLY-OWNED SUBSIDIARY OF ABBVIE INC.") == (
        "ABBVIE BIORESEARCH CENTER"
    )
    assert core_key("A9.com, Inc.") == core_key("A9 COM INC")  # USCIS turns punctuation into spaces
