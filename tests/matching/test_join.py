"""The employer join: aliases, exact legal names, leading words, trade names, domain forms, filings, what the ad
says, fuzzy with blocking, subset traps, unsure, multi-filer brands."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from matching.join import EntityIndex, JoinHints, alias_key, load_aliases, posting_hints, site_domain, stated_entity
from matching.normalize import aside_name, clean_name, core_key, legal_key, split_dba, trade_name

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
    assert all(index.entity[eid] == names[eid] for eid in names)
    return index


@pytest.fixture(scope="module")
def index() -> EntityIndex:
    return make_index()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
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
    # "Lattice" and "Wave" alone are the leading words of one filer each here, so they now join (see below).
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
    idx = make_index({legal_key("Acme Labs"): ["FEIN:81-2345678"], legal_key("Nimbus"): ["Nimbus Robotics Corp."]})
    r = idx.match("Acme Labs")
    assert r.best and r.best.method == "fein" and r.best.name == "ACME ARTIFICIAL INTELLIGENCE, INC."
    assert idx.match("Nimbus").best.name == "NIMBUS ROBOTICS CORPORATION"  # type: ignore[union-attr]


def test_an_alias_line_answers_a_longer_brand_only_when_the_filer_has_the_extra_words() -> None:
    rows = [(1, "BLOCK INC", None), (2, "UNITY TECHNOLOGIES SF", None), (3, "UNITY HEALTH CARE INC", None)]
    rows.append((4, "BLOCK ONE LLC", None))  # so that BLOCK INC is no bare-name answer for "Block Labs" either
    idx = index_of(rows)
    idx.aliases = {legal_key("Block"): ["Block, Inc."], legal_key("Unity"): ["Unity Technologies SF"]}
    assert idx.match("Block").best.method == "alias"  # type: ignore[union-attr]
    assert idx.match("Block Labs").matches == []
    assert names(idx.match("Unity Technologies")) == ["UNITY TECHNOLOGIES SF"]
    # Words saying where or how the firm is organised are no such extra words.
    assert names(idx.match("Unity Group - US")) == ["UNITY TECHNOLOGIES SF"]
    assert idx.match("Unity Technologies").best.method == "alias"  # type: ignore[union-attr]


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
        ("Johnson & Johnson", "JOHNSON & JOHNSON SERVICES, INC.", "leading"),
        ("1WaySolutions", "1WAY SOLUTIONS, INC.", "exact"),
        ("Quill Health", "QUILL HEALTH TECHNOLOGIES, INC.", "leading"),
        ("Nimbus Robotics", "NIMBUS ROBOTICS CORPORATION", "exact"),
        ("Wave Computng", "WAVE COMPUTING, INC.", "fuzzy"),
    ],
)
def test_normalised_exact_and_fuzzy(index: EntityIndex, query: str, expected: str, method: str) -> None:
    r = index.match(query)
    assert r.best is not None and r.best.name == expected and r.best.method == method


def test_a_one_word_name_a_letter_off_is_shown_not_chosen(index: EntityIndex) -> None:
    r = index.match("Databriks")
    assert r.outcome == "unsure" and r.runner_up is not None and r.runner_up.name == "DATABRICKS, INC."


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
    # The hub cuts names at 34 characters, often inside the marker: a dangling D, DB or D/B after the legal form.
    full = "MEDECINS SANS FRONTIERES USA INC D B A DOCTORS WITHOUT BORDERS USA INC"
    for cut in ("MEDECINS SANS FRONTIERES USA INC D", "MEDECINS SANS FRONTIERES USA INC DB", "ACME INC D/B"):
        assert split_dba(cut)[1] is None and not legal_key(cut).endswith(("D", "DB"))
    assert legal_key("MEDECINS SANS FRONTIERES USA INC D") == legal_key(full)
    assert legal_key("VITAMIN D INC") == "VITAMIND" and legal_key("PLAN B LLC") == "PLANB"
    # "&" and an inner "AND" are one connective; a last "AND" is a name cut short, not a connective.
    assert legal_key("M BOOTH AND ASSOCIATES LLC") == legal_key("M Booth & Associates, LLC") == "MBOOTHASSOCIATES"
    assert legal_key("ABBOTT AND") != legal_key("ABBOTT")
    # A former or other name, however it is written, is no part of the legal name.
    for filed in (
        "EDCLUB INC FORMERLY SALESTRONG LLC",
        "EDCLUB INC F K A SALESTRONG",
        "EDCLUB INC FORMERLY KNOWN AS S",
    ):
        assert legal_key(filed) == "EDCLUB"


# Hand-written filer lists in the shapes real H-1B filer names take (USCIS upper case without punctuation, DOL as
# filed); the fifth field is the number of filings, the fourth the name's source ("trade": a d/b/a or trade name).
def index_of(rows: list[tuple], aliases: dict[str, list[str]] | None = None) -> EntityIndex:
    return EntityIndex.from_names(rows, aliases or {})


def names(result) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(m.name for m in result.matches)


def test_leading_words_of_one_rare_filer() -> None:
    idx = index_of([(1, "MARVELL SEMICONDUCTOR INC", None), (2, "MARVIN ENGINEERING CO", None)])
    r = idx.match("Marvell")
    assert r.outcome == "matched" and names(r) == ["MARVELL SEMICONDUCTOR INC"] and r.best.method == "leading"  # type: ignore[union-attr]


def test_leading_words_not_rare_is_unsure() -> None:
    # Another filer uses the word mid-name: the word is not rare, so the one filer leading with it is not the brand.
    idx = index_of([(1, "CORVID SYSTEMS LLC", None), (2, "BLUE CORVID CONSULTING INC", None)])
    r = idx.match("Corvid")
    assert r.outcome == "unsure" and r.matches == []
    assert "CORVID SYSTEMS LLC" in {a.name for a in r.alternatives}
    # Unless the filer leading with it files enough to name it (20) and ten times as much as those others.
    busy = index_of([(1, "CORVID SYSTEMS LLC", None, "lca", 46), (2, "BLUE CORVID CONSULTING INC", None, "lca", 1)])
    assert names(busy.match("Corvid")) == ["CORVID SYSTEMS LLC"]
    near = index_of([(1, "CORVID SYSTEMS LLC", None, "lca", 46), (2, "BLUE CORVID CONSULTING INC", None, "lca", 5)])
    assert near.match("Corvid").matches == []


def test_short_leading_words_never_name_a_filer() -> None:
    idx = index_of([(1, "ARC INTERNATIONAL NORTH AMERICA", None)])
    assert idx.match("Arc").matches == []


def test_several_filers_leading_with_the_brand_are_settled_by_filings_or_unsure() -> None:
    rows = [(1, "MARVELL SEMICONDUCTOR INC", None, "uscis", 729), (2, "MARVELL TECH LLC", None, "lca", 53)]
    assert names(index_of(rows).match("Marvell")) == ["MARVELL SEMICONDUCTOR INC"]
    # Without a filer that dwarfs the other, two filers leading with an everyday word stay unsure ...
    rows = [(1, "SUMMIT SEMICONDUCTOR INC", None, "uscis", 60), (2, "SUMMIT TECH LLC", None, "lca", 53)]
    r = index_of(rows).match("Summit")
    assert r.outcome == "unsure" and {a.name for a in r.alternatives} >= {"SUMMIT SEMICONDUCTOR INC", "SUMMIT TECH LLC"}
    # ... and those of a coined word do when neither files most of their filings.
    rows = [(1, "MARVELL SEMICONDUCTOR INC", None, "uscis", 60), (2, "MARVELL TECH LLC", None, "lca", 53)]
    rows.append((3, "MARVELL ASIA LLC", None, "lca", 50))
    assert index_of(rows).match("Marvell").outcome == "unsure"
    assert names(index_of(rows[:2]).match("Marvell")) == ["MARVELL SEMICONDUCTOR INC"]


def test_one_word_brand_shared_by_many_filers_is_unsure_not_a_bag_of_namesakes() -> None:
    rows = [
        (1, "DELTA GLOBAL SERVICES LLC", None, "lca", 25),
        (2, "DELTA GROUP USA INC", None, "uscis", 4),
        (3, "DELTA AIR LINES INC", None, "uscis", 421),
        (4, "DELTA DENTAL OF CALIFORNIA", None, "uscis", 223),
        (5, "DELTA SYSTEM & SOFTWARE INC", None, "uscis", 128),
        (6, "Delta Global Solutions, LLC", None, "lca", 3),
    ]
    r = index_of(rows).match("Delta")
    assert r.outcome == "unsure" and r.matches == []
    assert r.alternatives and r.alternatives[0].name == "DELTA AIR LINES INC"  # most filings first, for a person


def test_a_bare_name_filer_filing_more_than_every_namesake_is_the_brand_though_many_use_the_word() -> None:
    # KONG INC (24 petitions) beside small firms leading with the word and many only using it ("HONG KONG ..."):
    # the bare legal name outfiling every one of them is the brand, as a big one would be.
    rows = [
        (1, "KONG INC", None, "uscis", 24, "CA"),
        (2, "KONG ABSTRACT CO LLC", None, "uscis", 1, "NY"),
        (3, "KONG DRAGON CAPITAL INVESTMENT INC", None, "uscis", 1, "CA"),
        (4, "KONG STUDIOS INC", None, "uscis", 0, "CA"),
        *((10 + i, f"HONG KONG {w} LTD", None, "uscis", 2, "NY") for i, w in enumerate("ABCDEFGHIJ")),
    ]
    assert names(index_of(rows).match("Kong")) == ["KONG INC"]
    # Filing little more than they do, it stays a person's call.
    small = [(1, "KONG INC", None, "uscis", 8, "CA"), *rows[1:]]
    r = index_of(small).match("Kong")
    assert r.matches == [] and r.outcome == "unsure"


def test_descriptors_are_not_stripped_from_a_filer() -> None:
    # Two firms whose names differ only by "generic" words are two firms, not one brand.
    rows = [(1, "ZEPHYR INTERNATIONAL NORTH AMERICA LLC", None), (2, "ZEPHYR GLOBAL SERVICES INC", None)]
    r = index_of(rows).match("Zephyr")
    assert r.matches == [] and r.outcome == "unsure"
    # And a bare-name brand is not "DELTA GLOBAL SERVICES" by spelling either (the fuzzy path keeps descriptors).
    assert index_of([(1, "NORVANE GLOBAL SERVICES LLC", None), (2, "NORVANE INC", None)]).match(
        "Norvane"
    ).best.name == (  # type: ignore[union-attr]
        "NORVANE INC"
    )


def test_bare_name_namesake_with_few_filings_loses_to_the_filer_that_dwarfs_it() -> None:
    rows = [
        (1, "PELOTON INTERACTIVE INC", None, "uscis", 271),
        (2, "PELOTON INCORPORATED", None, "uscis", 2),
        (3, "PELOTON LAND SOLUTIONS INC", None, "uscis", 1),
    ]
    r = index_of(rows).match("Peloton")
    assert names(r) == ["PELOTON INTERACTIVE INC"] and r.best.method == "leading"  # type: ignore[union-attr]
    # Without filing counts the same legal name is the answer.
    assert names(index_of([row[:3] for row in rows]).match("Peloton")) == ["PELOTON INCORPORATED"]


def test_a_short_brand_keeps_its_own_legal_name_however_much_a_longer_namesake_files() -> None:
    rows = [(1, "GSK LLP", None, "uscis", 1), (2, "GSK SOLUTIONS INC", None, "uscis", 79)]
    assert names(index_of(rows).match("GSK")) == ["GSK LLP"]
    # Four letters or more, the filer that dwarfs the bare name still takes it ("Peloton" above).
    longer = [(1, "ORBIX LLP", None, "uscis", 1), (2, "ORBIX SOLUTIONS INC", None, "uscis", 79)]
    assert names(index_of(longer).match("Orbix")) == ["ORBIX SOLUTIONS INC"]


def test_a_brands_generic_words_are_dropped_only_down_to_a_name_no_one_else_uses() -> None:
    # "Block Labs" is not BLOCK INC when other filers lead with BLOCK too ...
    shared = [(1, "BLOCK INC", None), (2, "BLOCK ONE LLC", None), (3, "BLOCK BOND HOLDINGS INC", None)]
    assert index_of(shared).match("Block Labs").matches == []
    # ... but "Quill Health Systems" is QUILL HEALTH INC, the one filer with those words.
    assert names(index_of([(1, "QUILL HEALTH INC", None)]).match("Quill Health Systems")) == ["QUILL HEALTH INC"]
    # The same for a d/b/a: "Sand Tech Holdings" is no "D/B/A SAND" of a firm among many SAND filers.
    sand = [(1, "RISING STAR HOLDINGS LLC D/B/A SAND", None), (2, "SAND 9 INC", None), (3, "SAND CAPITAL LLC", None)]
    assert index_of(sand).match("Sand Tech Holdings").matches == []
    assert names(index_of(sand[:1]).match("Sand Tech Holdings")) == ["RISING STAR HOLDINGS LLC D/B/A SAND"]


def test_a_one_word_brand_is_not_a_filer_whose_word_is_a_letter_apart() -> None:
    assert index_of([(1, "SPARITY INC", None, "uscis", 44)]).match("Parity").matches == []
    assert index_of([(1, "VECTRA LLC", None, "uscis", 1)]).match("Vectara").matches == []
    # A letter more or less at the end is another word too, unless it is a plural.
    assert index_of([(1, "KARBONE INC", None, "uscis", 1)]).match("Karbon").matches == []
    assert index_of([(1, "KINEXO INC", None, "uscis", 1)]).match("Kinexon").matches == []
    assert names(index_of([(1, "WALGREEN CO", None, "uscis", 74)]).match("Walgreens")) == ["WALGREEN CO"]
    assert names(index_of([(1, "ALLBIRDS INC", None, "uscis", 8)]).match("Allbird")) == ["ALLBIRDS INC"]
    # Several words keep the usual tolerance for a slip.
    assert names(index_of([(1, "RENAISSANCE LEARING INC", None)]).match("Renaissance Learning")) == [
        "RENAISSANCE LEARING INC"
    ]


def test_domain_forms() -> None:
    rows = [(1, "FRAME.IO INC", None), (2, "A9 COM INC", None), (3, "GONG IO INC", None), (4, "GONG CHA TEA LLC", None)]
    idx = index_of(rows)
    assert names(idx.match("Frame")) == ["FRAME.IO INC"]  # the brand files under its domain
    assert idx.match("Frame").best.method == "exact"  # type: ignore[union-attr]
    assert names(idx.match("Frame.io")) == ["FRAME.IO INC"] and idx.match("Frame.io").best.method == "exact"  # type: ignore[union-attr]
    assert names(idx.match("A9.com")) == ["A9 COM INC"]  # USCIS writes the dot as a space
    # The brand's site form is its name, as a bare legal name would be; a namesake with other words is not.
    assert names(idx.match("Gong")) == ["GONG IO INC"]


def test_a_filer_named_brand_ai_is_the_brands_site_form() -> None:
    rows = [
        (1, "FIGURE AI INC", None, "lca", 1),
        (2, "FIGURE EIGHT TECHNOLOGIES INC", None, "lca", 5),
        (3, "FIGURE TECHNOLOGIES", None, "lca", 4),
        (4, "SAKANA INC", None, "lca", 3),
    ]
    idx = index_of(rows)
    assert names(idx.match("Figure")) == ["FIGURE AI INC"]
    # Only on the filer's side: a brand "Sakana AI" is not a filer SAKANA INC.
    assert idx.match("Sakana AI").matches == []
    # A site form with few filings among a crowd of filers using the word is a namesake like any other.
    crowd = [
        (i, f"FIGURE {w} LLC", None, "lca", 2)
        for i, w in enumerate(["ONE", "TWO", "SIX", "TEN", "RED", "BLUE", "GREEN", "GOLD"], 5)
    ]
    assert index_of([*rows, *crowd]).match("Figure").matches == []


def test_one_companys_entities_leading_with_the_brand_give_the_biggest() -> None:
    rows = [
        (1, "QUALCOMM TECHNOLOGIES INC", None, "uscis", 6235),
        (2, "QUALCOMM FLARION TECHNOLOGIES INC", None, "uscis", 17),
        (3, "QUALCOMM ATHEROS INC", None, "uscis", 716),
        (4, "QUALCOMM INNOVATION CENTER INC", None, "uscis", 389),
    ]
    r = index_of(rows).match("Qualcomm")
    assert names(r) == ["QUALCOMM TECHNOLOGIES INC"] and r.best.method == "leading"  # type: ignore[union-attr]
    # Not when another filer uses the word elsewhere and files beside it: the word is not one company's.
    stray = (5, "BLUE QUALCOMM CONSULTING LLC", None, "lca", 200)
    assert index_of([*rows, stray]).match("Qualcomm").matches == []
    # Nor when the biggest files well under most of all their filings (namesakes, not one family).
    split = [(1, "VERTEX PHARMACEUTICALS INC", None, "uscis", 425), (2, "VERTEX ANALYTICS INC", None, "lca", 300)]
    assert index_of(split).match("Vertex").matches == []
    # A coined word, unlike an everyday one, needs only a majority: its namesakes are rare.
    coined = [(1, "VONAGE BUSINESS INC", None, "uscis", 425), (2, "VONAGE AMERICA INC", None, "lca", 300)]
    assert names(index_of(coined).match("Vonage")) == ["VONAGE BUSINESS INC"]
    assert names(index_of([coined[0], (2, "VONAGE AMERICA INC", None, "lca", 500)]).match("Vonage")) == [
        "VONAGE AMERICA INC"
    ]
    # A brand of several words needs only a majority.
    depot = [
        (1, "HOME DEPOT PRODUCT AUTHORITY LLC", None, "uscis", 794),
        (2, "HOME DEPOT MANAGEMENT COMPANY LLC", None, "uscis", 301),
        (3, "HOME DEPOT U S A INC", None, "uscis", 217),
    ]
    assert names(index_of(depot).match("Home Depot")) == ["HOME DEPOT PRODUCT AUTHORITY LLC"]
    # Too few filings to tell a family from namesakes.
    assert index_of([(i, n, f, s, c // 20) for i, n, f, s, c in depot]).match("Home Depot").matches == []
    # Several words written later in a name are mostly the group's own arms: up to a tenth of the top's filings.
    arm = (4, "CCH INCORPORATED HOME DEPOT CO", None, "lca", 60)
    assert names(index_of([*depot, arm]).match("Home Depot")) == ["HOME DEPOT PRODUCT AUTHORITY LLC"]
    assert index_of([*depot, (*arm[:4], 90)]).match("Home Depot").matches == []


def test_every_filer_leading_with_several_uncommon_words_is_one_houses_entity() -> None:
    rows = [
        (1, "THOMSON REUTERS HOLDINGS INC", None, "uscis", 50),
        (2, "THOMSON REUTERS MARKETS LLC", None, "uscis", 48),
        (3, "THOMSON REUTERS TAX & ACCOUNTING INC", None, "uscis", 71),
        (4, "THOMSON REUTERS APPLICATIONS INC", None, "uscis", 6),
        (5, "GOLDEN STATE FOODS CORP", None, "uscis", 8),
        (6, "GOLDEN STATE MEDICAL SUPPLY INC", None, "uscis", 2),
    ]
    r = index_of(rows).match("Thomson Reuters")
    assert names(r) == [n for _, n, *_ in sorted(rows[:4], key=lambda row: row[1])]
    assert r.best.name == "THOMSON REUTERS TAX & ACCOUNTING INC"  # type: ignore[union-attr]  # the biggest first
    # Everyday words are shared by strangers.
    assert index_of(rows).match("Golden State").matches == []
    # So are words other filers write later in their names, when those file as much as a tenth of the house.
    stray = (7, "BLUE THOMSON REUTERS CONSULTING LLC", None, "uscis", 20)
    assert index_of([*rows, stray]).match("Thomson Reuters").matches == []


def test_a_few_filers_adding_only_where_or_how_they_are_organised_are_all_the_brand() -> None:
    rows = [(1, "OPTIVER US LLC", None, "lca", 3), (2, "OPTIVER SERVICES US LLC", None, "lca", 2)]
    r = index_of(rows).match("Optiver")
    assert names(r) == ["OPTIVER SERVICES US LLC", "OPTIVER US LLC"] and r.best.method == "leading"  # type: ignore[union-attr]
    delaware = [(1, "BOTTOMLINE TECHNOLOGIES INC", None), (2, "BOTTOMLINE TECHNOLOGIES DE INC", None)]
    assert len(index_of(delaware).match("Bottomline").matches) == 2
    # Words saying what a firm does make two firms: a startup's labs and another's technologies.
    assert (
        index_of([(1, "APERIA SOLUTIONS INC", None), (2, "APERIA TECHNOLOGIES INC", None)]).match("Aperia").matches
        == []
    )
    assert index_of([(1, "KARGO GLOBAL INC", None), (2, "KARGO TECHNOLOGIES CORP", None)]).match("Kargo").matches == []
    # Nor when a filer uses the word elsewhere, or too many filers lead with it, or it says more than that.
    stray = (3, "BLUE OPTIVER CONSULTING LLC", None)
    assert index_of([*rows, stray]).match("Optiver").matches == []
    many = [(i, f"OPTIVER {tail} LLC", None) for i, tail in enumerate(["US", "USA", "GLOBAL", "HOLDINGS"], 1)]
    assert index_of(many).match("Optiver").matches == []
    assert index_of([*rows[:1], (2, "OPTIVER TRADING US LLC", None)]).match("Optiver").matches == []


def test_filers_leading_with_a_coined_word_in_one_quiet_state_are_one_company() -> None:
    rows = [
        (1, "PAGAYA TECHNOLOGIES US LLC", None, "lca", 3, "NY"),
        (2, "PAGAYA INVESTMENTS US LLC", None, "lca", 1, "NY"),
    ]
    assert names(index_of(rows).match("Pagaya")) == ["PAGAYA INVESTMENTS US LLC", "PAGAYA TECHNOLOGIES US LLC"]
    # Two states, a state left blank, the busiest state, or an everyday word: namesakes as before.
    apart = [rows[0], (2, "PAGAYA INVESTMENTS US LLC", None, "lca", 1, "NJ")]
    assert index_of(apart).match("Pagaya").matches == []
    assert index_of([rows[0], (2, "PAGAYA INVESTMENTS US LLC", None, "lca", 1, "")]).match("Pagaya").matches == []
    west = [(1, "KIRA CARE INC", None, "lca", 1, "CA"), (2, "KIRA BIO INC", None, "lca", 0, "CA")]
    assert index_of(west).match("Kira").matches == []
    words = [(1, "HARBOR TECHNOLOGIES INC", None, "lca", 3, "NY"), (2, "HARBOR INVESTMENTS LLC", None, "lca", 1, "NY")]
    assert index_of(words).match("Harbor").matches == []


def test_a_coined_brand_with_its_field_joins_the_filer_of_the_coined_word_alone() -> None:
    rows = [
        (1, "ARMIS INC", None, "lca", 7, "CA"),
        (2, "BRIDGEBIO SERVICES INC", None, "lca", 5, "CA"),
        (3, "INSPIRA INC", None, "lca", 2, "NJ"),
        (4, "INSPIRA HEALTH", None, "lca", 9, "NJ"),
        (5, "HARBOR INC", None, "lca", 4, "NY"),
        (6, "NIRA BIOSCIENCES INC", None, "lca", 1, "MA"),
    ]
    idx = index_of(rows)
    assert names(idx.match("Armis Security")) == ["ARMIS INC"]
    assert names(idx.match("BridgeBio Pharma")) == ["BRIDGEBIO SERVICES INC"]
    # Another filer using the word, an everyday word, or a filer naming another field: the field is the tell.
    assert idx.match("Inspira Education").matches == []
    assert idx.match("Harbor Health").matches == []
    assert idx.match("Nira Energy").matches == []
    # An "AI" brand is a young firm: its coined word's older filer is it only where the employer posts.
    ai = index_of([(1, "WORKERA CORP", None, "lca", 4, "CA")])
    assert ai.match("Workera AI").matches == []
    assert ai.match("Workera AI", JoinHints(states=frozenset(["NY"]))).matches == []
    assert names(ai.match("Workera AI", JoinHints(states=frozenset(["CA"])))) == ["WORKERA CORP"]
    # A word saying only what kind of firm it is, too; but then the filer may add nothing but where it is organised.
    kind = index_of([(1, "APPNOVATION USA INC", None, "lca", 3, "GA"), (2, "ARLO TECHNOLOGIES INC", None, "lca", 56)])
    assert names(kind.match("Appnovation Technologies")) == ["APPNOVATION USA INC"]
    assert kind.match("Arlo Solutions LLC").matches == []


def test_a_trading_firms_brand_with_its_field_joins_the_coined_words_filer() -> None:
    # Brokers and trading houses name themselves by their field as coined brands do by theirs.
    rows = [(1, "QUANTAGREP AMERICA INC", None, "lca", 6, "IL"), (2, "VOLTRIX INC", None, "lca", 3, "NY")]
    idx = index_of(rows)
    assert names(idx.match("QuantaGrep Securities")) == ["QUANTAGREP AMERICA INC"]
    assert names(idx.match("Voltrix Trading")) == ["VOLTRIX INC"]


def test_a_brand_with_a_tail_saying_how_it_is_organised_joins_as_its_core() -> None:
    rows = [
        (1, "Episode Six North America Corporation", None, "lca", 3, "TX"),
        (2, "EXPEDIA INC", None, "uscis", 400, "WA"),
        (3, "EXPEDIA FINANCIAL GROUP INC", None, "lca", 2, "WA"),
        (4, "ARLO TECHNOLOGIES INC", None, "uscis", 56, "CA"),
    ]
    idx = index_of(rows)
    assert names(idx.match("Episode Six US")) == ["Episode Six North America Corporation"]
    assert names(idx.match("Expedia Group")) == ["EXPEDIA INC"]
    # Not a tail saying what the firm does; and a plain group only as its core's own legal name.
    assert idx.match("Arlo Solutions LLC").matches == []
    assert idx.match("Episode Six Group").matches == []
    # Nor a filer that goes on to say something else than how it is organised.
    assert index_of([(1, "CAHELTEK HALL INC", None, "lca", 2, "TX")]).match("Caheltek Global").matches == []


def test_a_brand_naming_a_unit_after_its_name_joins_the_one_filer_of_that_name() -> None:
    rows = [
        (1, "MADISON ENERGY HOLDINGS LLC", None, "lca", 4, "NY"),
        (2, "BAUER HOCKEY LLC", None, "lca", 6, "NH"),
        (3, "MILLION DOLLAR SMILE", None, "lca", 1, "TX"),
        (4, "APERA INSTRUMENTS INC", None, "lca", 2, "OH"),
        (5, "VANTOR SYSTEMS INC", None, "lca", 5, "CA"),
        (6, "NORTHSTAR VANTOR SYSTEMS LLC", None, "lca", 1, "TX"),
    ]
    idx = index_of(rows)
    assert names(idx.match("Madison Energy Infrastructure")) == ["MADISON ENERGY HOLDINGS LLC"]
    assert names(idx.match("Bauer Hockey/ Cascade Maverik Lacrosse")) == ["BAUER HOCKEY LLC"]
    # Everyday words alone need the whole name; one word never stands for a brand that says more.
    assert idx.match("Million Dollar Baby").matches == []
    assert idx.match("Apera AI Vision").matches == []
    # Another filer with the words inside its name: the tail may be what tells them apart.
    assert idx.match("Vantor Systems Europe").matches == []
    more = [
        (1, "QUORVEX HEALTH CARE INC", None, "lca", 3, "CA"),
        (2, "ZENTARO ENTERTAINMENT INC", None, "lca", 9, "TX"),
        (3, "YMCA OF GREATER TOLEDO", None, "lca", 2, "OH"),
        (4, "DRAVEK ENGINEERING LLC", None, "lca", 2, "NJ"),
    ]
    other = index_of(more)
    # A filer going on to say something else is another firm with those words; a cut last word is the filer's.
    assert other.match("Quorvex Health Analytics").matches == []
    assert names(other.match("Zentaro Entertainment Incorporat")) == ["ZENTARO ENTERTAINMENT INC"]
    # Never cut next to a joining word, nor a partners' name.
    assert other.match("YMCA of South Hampton Roads").matches == []
    assert other.match("Dravek Engineering & Consulting").matches == []


def test_a_filer_gluing_a_site_ending_onto_the_brand_is_its_site_form() -> None:
    rows = [(1, "SARDINEAI CORP", None, "lca", 2, "CA"), (2, "FIELDWIRELABS INC", None, "lca", 4, "CA")]
    idx = index_of(rows)
    assert names(idx.match("Sardine")) == ["SARDINEAI CORP"]
    assert names(idx.match("Fieldwire")) == ["FIELDWIRELABS INC"]
    # Where other filers lead with the word, a glued site name is one namesake more.
    crowd = [(1, "BLINKAI INC", None, "lca", 1, "CA"), (2, "BLINK HEALTH LLC", None, "lca", 30, "CA")]
    assert "BLINKAI INC" not in names(index_of(crowd).match("Blink"))


def test_two_giant_filers_sharing_a_brands_words_and_nearly_all_its_filings_are_its_entities() -> None:
    rows = [
        (1, "VISA TECH & OPERATIONS LLC", None, "uscis", 2535, "CA"),
        (2, "VISA U S A INC", None, "uscis", 1402, "CA"),
        (3, "VISA SERVICES INTERNATIONAL LLC", None, "lca", 0, "PA"),
    ]
    assert names(index_of(rows).match("Visa")) == ["VISA TECH & OPERATIONS LLC", "VISA U S A INC"]
    # A namesake filing more than a sliver beside them, or a second filer short of giant: unsure as before.
    assert index_of([*rows, (4, "VISA CONSULTING GROUP LLC", None, "lca", 90, "NJ")]).match("Visa").matches == []
    smaller = [rows[0], (2, "VISA U S A INC", None, "uscis", 900, "CA")]
    assert index_of(smaller).match("Visa").matches == []


def test_a_lone_filer_only_beginning_with_an_everyday_or_claimed_name_elsewhere_is_a_namesake() -> None:
    rows = [
        (1, "ALPACA TECHNOLOGY INC", None, "lca", 1, "NY"),
        (2, "COMPUNET SERVICES INC", None, "lca", 2, "GA"),
        (3, "CALENDLY TECHNOLOGIES LLC", None, "lca", 9, "GA"),
    ]
    idx = index_of(rows)
    west, idaho = JoinHints(states=frozenset(["CA"])), JoinHints(states=frozenset(["ID"]))
    # An everyday word, a filer elsewhere than the postings: a namesake; in the postings' state, the brand.
    assert idx.match("Alpaca", west).matches == []
    assert names(idx.match("Alpaca", JoinHints(states=frozenset(["NY"])))) == ["ALPACA TECHNOLOGY INC"]
    # A brand that writes a legal name no filer has is not a filer of another state adding words to it.
    assert idx.match("CompuNet, Inc.", idaho).matches == []
    assert names(idx.match("CompuNet", idaho)) == ["COMPUNET SERVICES INC"]
    # A coined word without rivals still names its one filer wherever that files.
    assert names(idx.match("Calendly", west)) == ["CALENDLY TECHNOLOGIES LLC"]


def test_an_employer_hiring_only_abroad_is_not_a_small_filer_merely_beginning_with_its_word() -> None:
    rows = [
        (1, "HELSING JUNCTION FARM CSA", None, "lca", 3, "WA"),
        (2, "MANYCHAT INC", None, "lca", 4, "CA"),
        (3, "KESTREL SYSTEMS INC", None, "lca", 80, "TX"),
    ]
    idx = index_of(rows)
    abroad = posting_hints(None, abroad=True)
    assert abroad.abroad and abroad
    assert idx.match("Helsing", abroad).matches == []
    # The same brand with no word on where it hires, or hiring in the filer's state, is still that filer.
    assert names(idx.match("Helsing")) == ["HELSING JUNCTION FARM CSA"]
    assert names(idx.match("Helsing", posting_hints(None, states=["WA"]))) == ["HELSING JUNCTION FARM CSA"]
    # A US state among the postings outweighs the flag: that employer hires in the US.
    assert not posting_hints(None, states=["WA"], abroad=True).abroad
    # The brand's own legal name is no namesake of it, nor is a filer filing too much to be a stranger's.
    assert names(idx.match("Manychat", abroad)) == ["MANYCHAT INC"]
    assert names(idx.match("Kestrel", abroad)) == ["KESTREL SYSTEMS INC"]
    # Unless the hub shows that bare name no petition: a namesake as often as a US arm. Named as an arm, it is one.
    bare = [
        (1, "MOLLIE LLC", None, "lca", 3, "CA"),
        (2, "RED BULL NA INC", None, "lca", 2, "CA"),
        (3, "XENDORA INCORPORATED", None, "lca", 2, "CA"),
    ]
    unfiled = EntityIndex.from_names(bare, {}, {3: (1, 0)})  # the hub: one petition decided, for XENDORA
    assert unfiled.match("Mollie", abroad).matches == []
    assert unfiled.match("Mollie", abroad).outcome == "unsure"
    assert names(unfiled.match("Mollie")) == ["MOLLIE LLC"]
    assert names(unfiled.match("Red Bull", abroad)) == ["RED BULL NA INC"]
    assert names(unfiled.match("Xendora", abroad)) == ["XENDORA INCORPORATED"]
    # With no hub loaded there is nothing to tell: the bare name stands.
    assert names(index_of(bare).match("Mollie", abroad)) == ["MOLLIE LLC"]
    # Initials tie a brand to a filer in no state it posts in only when that filer is big.
    initials = index_of([(1, "HRB PROFESSIONAL RESOURCES LLC", None, "lca", 120, "MO")])
    assert names(initials.match("HPR")) == ["HRB PROFESSIONAL RESOURCES LLC"]
    assert initials.match("HPR", abroad).matches == []


def test_an_everyday_word_leading_an_it_staffing_firms_name_is_not_a_product_brand() -> None:
    rows = [
        (1, "UNIFY SOLUTIONS INC", None, "uscis", 178, "MD"),
        (2, "UNIFY DENTAL PC", None, "uscis", 1, "NY"),
        (3, "COGNIZANT TECHNOLOGY SOLUTIONS US", None, "uscis", 5000, "NJ"),
    ]
    # The hub's petitions and denials: a staffing firm's record is denied far more often than a product company's.
    staffing = {1: (178, 11), 3: (5000, 900)}
    assert idx_match(rows, staffing, "Unify") == []
    assert idx_match(rows, {1: (178, 2)}, "Unify") == ["UNIFY SOLUTIONS INC"]
    assert idx_match(rows, {1: (40, 11)}, "Unify") == ["UNIFY SOLUTIONS INC"]  # too few petitions to tell
    # A giant is a name in its own right, however often it is denied.
    assert idx_match(rows, staffing, "Cognizant") == ["COGNIZANT TECHNOLOGY SOLUTIONS US"]


def idx_match(rows: list[tuple], hub: dict[int, tuple[int, int]], query: str) -> list[str]:
    return names(EntityIndex.from_names(rows, {}, hub).match(query))


def test_an_initials_brand_on_a_board_spelling_its_name_out_is_the_filer_of_that_name() -> None:
    rows = [
        (1, "HYANNIS PORT RESEARCH INC", None, "lca", 40, "MA"),
        (2, "HPR PARTNERS LLC D/B/A HUNTER", None, "lca", 3, "NY"),
        (3, "HUNTERS LLC", None, "lca", 2, "NY"),
    ]
    idx = index_of(rows)
    spelled = JoinHints(board="hyannisportresearch")
    assert names(idx.match("HPR", spelled)) == ["HYANNIS PORT RESEARCH INC"]
    # Only a filer whose initials the brand is, and only for a brand shown in capitals (a token shorter than a
    # spelled-out legal name needs, so only the initials could tie it to the brand).
    assert "HUNTERS LLC" not in names(idx.match("HPR", JoinHints(board="hunters")))


def test_a_board_spelling_out_another_legal_name_is_the_firm_behind_the_brand() -> None:
    rows = [
        (1, "SONY INTERACTIVE ENTERTAINMENT LLC", None, "lca", 700, "CA"),
        (2, "PLAYSTATION REPAIR SHOP LLC", None, "lca", 1, "FL"),
        (3, "ALLIANCE INC", None, "lca", 7, "MN"),
        (4, "LATITUDE LLC", None, "lca", 1, "TN"),
        (5, "LATITUDE CONSULTING GROUP INC", None, "lca", 2, "OH"),
        (6, "CAPITAL RX", None, "lca", 4, "NY"),
        (7, "LANTERN PHARMA INC", None, "lca", 2, "TX"),
        (8, "LANTERN HOUSE LLC", None, "lca", 1, "NY"),
        (9, "EMPLOYER DIRECT HEALTHCARE LLC", None, "lca", 9, "TX"),
        (10, "STACK EXCHANGE INC", None, "lca", 4, "NY"),
    ]
    idx = index_of(rows)
    # It outranks the one namesake in the posting's state, which the name alone would have chosen.
    texas = posting_hints(None, states=["TX"])
    assert names(idx.match("Lantern", texas)) == ["LANTERN PHARMA INC"]
    lantern = posting_hints(None, states=["TX"], board="employerdirecthealthcare")
    assert names(idx.match("Lantern", lantern)) == ["EMPLOYER DIRECT HEALTHCARE LLC"]
    playstation = idx.match("PlayStation Global", posting_hints(None, board="sonyinteractiveentertainmentglobal"))
    assert names(playstation) == ["SONY INTERACTIVE ENTERTAINMENT LLC"]
    assert playstation.matches[0].method == "ad_board"
    assert names(idx.match("Judi Health", JoinHints(board="capitalrx"))) == ["CAPITAL RX"]
    # One everyday word is no one's spelled-out name; a token holding the brand's own word leaves it to the name.
    assert idx.match("Nissan", JoinHints(board="alliance")).matches == []
    assert idx.match("Latitude AI", JoinHints(board="latitude")).matches == []
    # A legal name of several words is spelled out even when the brand shares one of them.
    assert names(idx.match("Stack Overflow", JoinHints(board="stackexchange"))) == ["STACK EXCHANGE INC"]
    # Without the board the brand alone names no one.
    assert idx.match("Judi Health").matches == []


def test_a_brands_arms_named_by_state_or_as_holdings_are_its_kin() -> None:
    by_state = [(1, "BOT AUTO CA INC", None, "lca", 2), (2, "BOT AUTO TX INC", None, "lca", 1)]
    assert names(index_of(by_state).match("Bot Auto")) == ["BOT AUTO CA INC", "BOT AUTO TX INC"]
    held = [(1, "LTSE HOLDINGS INC", None), (2, "LTSE SERVICES INC", None)]
    assert names(index_of(held).match("LTSE")) == ["LTSE HOLDINGS INC", "LTSE SERVICES INC"]
    # A state's code beside a word saying what the firm does is still two firms.
    assert index_of([*by_state[:1], (2, "BOT AUTO LABS TX INC", None)]).match("Bot Auto").matches == []
    # A chain's management and distribution companies are its own arms.
    arms = [
        (1, "DOLLAR TREE DISTRIBUTION INC", None, "lca", 1, "VA"),
        (2, "Dollar Tree Management, LLC", None, "lca", 0, "NC"),
    ]
    assert names(index_of(arms).match("Dollar Tree")) == ["DOLLAR TREE DISTRIBUTION INC", "Dollar Tree Management, LLC"]


def test_a_trade_name_written_after_the_filers_name_without_dba_is_the_same_filer() -> None:
    rows = [
        (1, "FUELCOMM INC DBA STACKLINE", None, "lca", 9, "WA"),
        (2, "FUELCOMM INC STACKLINE INC", None, "lca", 2, "WA"),
    ]
    r = index_of(rows).match("Stackline")
    assert names(r) == ["FUELCOMM INC DBA STACKLINE", "FUELCOMM INC STACKLINE INC"] and r.best.method == "trade"  # type: ignore[union-attr]
    # Another filer using the word is still a rival: the d/b/a does not win over it.
    rival = (3, "STACKLINE PARTNERS GROUP LLC", None, "lca", 1, "TX")
    assert "FUELCOMM INC DBA STACKLINE" not in names(index_of([*rows, rival]).match("Stackline"))


def test_a_filer_doing_business_under_another_name_is_no_one_word_brands_own() -> None:
    rows = [
        (1, "SMARTLY INC DBA BONUSLY", None, "lca", 6),
        (2, "REDPANDA INC DBA REDPAND", None, "uscis", 3),  # a d/b/a the hub cut short
        (3, "REDIS INC FKA REDIS LABS INC", None, "lca", 9),  # a former name, not a trade name
        (4, "CURTISS WRIGHT CORP DBA EST GROUP", None, "lca", 40),
        (5, "APPTRONIK INC DBA APPTRONIK SYSTEM", None, "uscis", 4),  # a trade name that begins with the brand
    ]
    idx = index_of(rows)
    assert names(idx.match("Apptronik")) == ["APPTRONIK INC DBA APPTRONIK SYSTEM"]
    r = idx.match("Smartly")
    assert r.outcome == "unsure" and [a.name for a in r.alternatives][:1] == ["SMARTLY INC DBA BONUSLY"]
    assert names(idx.match("Redpanda")) == ["REDPANDA INC DBA REDPAND"]
    assert names(idx.match("Redis")) == ["REDIS INC FKA REDIS LABS INC"]
    assert names(idx.match("Curtiss-Wright")) == ["CURTISS WRIGHT CORP DBA EST GROUP"]  # several words say more
    # Nor is the one filer leading with the brand's word when it trades under another name.
    assert index_of([(1, "SESO MEDIA GROUP LLC D/B/A A HUNDRED MONKEYS", None, "lca", 3)]).match("Seso").matches == []
    # However much it files beside the others leading with the word.
    mirage = [(1, "MIRAGE SOFTWARE INC DBA BOURNTEC", None, "uscis", 58), (2, "MIRAGE INDUSTRIES", None, "uscis", 1)]
    assert index_of(mirage).match("Mirage").matches == []
    plain = [(1, "MIRAGE SOFTWARE INC", None, "uscis", 58), mirage[1]]
    assert names(index_of(plain).match("Mirage")) == ["MIRAGE SOFTWARE INC"]


def test_an_everyday_word_needs_more_than_one_small_filer_saying_it_is_something_else() -> None:
    rows = [
        (1, "WINDMILL RICE COMPANY LLC", None, "lca", 2),
        (2, "HOOTSUITE MEDIA US INC", None, "lca", 4),
        (3, "HOMEWARD TECHNOLOGIES INC", None, "lca", 1),
        (4, "ABLY REAL TIME INC DBA ABLY", None, "lca", 3),
        (5, "TOSS MACHINE COMPONENTS INC", None, "lca", 120),
    ]
    idx = index_of(rows)
    r = idx.match("Windmill")
    assert r.outcome == "unsure" and [a.name for a in r.alternatives][:1] == ["WINDMILL RICE COMPANY LLC"]
    assert names(idx.match("Hootsuite")) == ["HOOTSUITE MEDIA US INC"]  # a coined word
    assert names(idx.match("Homeward")) == ["HOMEWARD TECHNOLOGIES INC"]  # only how it is organised
    assert names(idx.match("Ably")) == ["ABLY REAL TIME INC DBA ABLY"]  # it trades under the brand
    assert names(idx.match("Toss")) == ["TOSS MACHINE COMPONENTS INC"]  # files too much to be a stray namesake


def test_a_one_word_brand_is_not_a_small_namesake_filing_only_where_it_does_not_post() -> None:
    rows = [
        (1, "COGNITION LLC", None, "lca", 11, "CO"),
        (2, "STANDARD COGNITION CORP", None, "lca", 21, "CA"),
        (3, "CALENDLY LLC", None, "lca", 0, "CA"),
        (4, "TESLA INC", None, "lca", 3843, "CA"),
        (5, "TESLA ENERGY CONSULTING LLC", None, "lca", 2, "NJ"),
    ]
    idx = index_of(rows)
    assert names(idx.match("Cognition")) == ["COGNITION LLC"]  # nothing says where the brand is
    r = idx.match("Cognition", posting_hints(None, states=["CA"]))
    assert r.outcome == "unsure" and r.matches == [] and [a.name for a in r.alternatives] == ["COGNITION LLC"]
    assert names(idx.match("Cognition", posting_hints(None, states=["CO", "CA"]))) == ["COGNITION LLC"]
    # A word no other filer uses names its one filer wherever it files; a big filer is the brand anywhere.
    assert names(idx.match("Calendly", posting_hints(None, states=["GA"]))) == ["CALENDLY LLC"]
    assert names(idx.match("Tesla", posting_hints(None, states=["TX"]))) == ["TESLA INC"]
    # Only US codes count as places: a posting in Ontario ("ON") is no hint for a filer anywhere.
    assert posting_hints(None, states=[" ca", "ON", "BC", "XX", ""]).states == frozenset({"CA"})


@pytest.mark.parametrize(
    ("label", "brand"),
    [
        ("Rubrik Job Board", "Rubrik"),
        ("Careers at Tide", "Tide"),
        ("Five Rings LLC - Careers", "Five Rings LLC"),
        ("Cleo (US)", "Cleo"),
        ("Tomofun | Furbo Pet Camera", "Tomofun"),
        ("ATOMS Careers page", "ATOMS"),
        ("Astera Labs Early Career", "Astera Labs"),
        ("Xbowcareers", "Xbow"),
        ("Sony Music Careers - Asia & Middle East", "Sony Music"),
        ("AMP: AI-Powered Sortation for Waste and Recycling", "AMP"),
        ("Klaviyo Campus", "Klaviyo"),
        ("Jane Street Events", "Jane Street"),
        ("Walleye Capital Full Time", "Walleye Capital"),
        ("Acme Part-time", "Acme"),
        ("Veo Corporate Careers", "Veo"),
        ("Acme University Jobs", "Acme"),
        ("NeuraFlash, Part of Accenture", "NeuraFlash"),
        ("Acme, an Initech company", "Acme"),
        ("Lincoln Property Company through LinkedIn", "Lincoln Property Company"),
        ("Rithum LinkedIn Board", "Rithum"),
        ("Teneo external feed for LinkedIn", "Teneo"),
        ("Gelber Group Handshake", "Gelber Group"),
        ("Orion Innovation Naukri", "Orion Innovation"),
        ("Employment Opportunities at BuzzFeed, Inc.", "BuzzFeed, Inc"),
        ("mthree Recruiting Portal", "mthree"),
        ("Tenstorrent Unlisted/Referral Jobs", "Tenstorrent"),
        ("SpaceX_Global", "SpaceX"),
        ("ThoughtWorks_new", "ThoughtWorks"),
        ("Gunvor_Careers", "Gunvor"),
        ("Acme_Robotics", "Acme Robotics"),
        # Names that only look like labels stay whole.
        ("LinkedIn", "LinkedIn"),
        ("Handshake", "Handshake"),
        ("Unlisted/Stealth Robotics", "Unlisted/Stealth Robotics"),
        ("Good Job Games", "Good Job Games"),
        ("Job&Talent", "Job&Talent"),
        ("Hewlett-Packard", "Hewlett-Packard"),
        ("Private Job Board", "Private Job Board"),
        ("Summit Corporate", "Summit Corporate"),
    ],
)
def test_a_job_boards_label_is_read_as_the_employers_name(label: str, brand: str) -> None:
    from matching.normalize import board_brand

    assert board_brand(label) == brand


def test_a_board_label_joins_as_the_employer_it_names() -> None:
    idx = index_of([(1, "RUBRIK INC", None), (2, "FIVE RINGS LLC", None), (3, "CLEO AI INC", None)])
    for label, filer in [("Rubrik Job Board", "RUBRIK INC"), ("Five Rings LLC - Careers", "FIVE RINGS LLC")]:
        r = idx.match(label)
        assert r.query == label and names(r) == [filer]
    assert names(idx.match("Cleo (US)")) == ["CLEO AI INC"]
    # Only a name that joins nothing as written is read so: legal names have such words too.
    legal = index_of([(1, "CIRCULAR BOARD INC", None), (2, "CIRCULAR LLC", None), (3, "BESTWAY (USA) INC", None)])
    assert names(legal.match("Circular Board")) == ["CIRCULAR BOARD INC"]
    assert names(legal.match("Bestway (USA), Inc.")) == ["BESTWAY (USA) INC"]


def test_capitals_only_brand_is_the_filer_whose_initials_it_is_when_that_filer_dwarfs_the_rest() -> None:
    rows = [
        (1, "TATA CONSULTANCY SERVICES LIMITED", None, "uscis", 44626),
        (2, "TADA COGNITIVE SOLUTIONS LLC", None, "lca", 45),
        (3, "TCS HEALTHCARE TECHNOLOGIES", None, "lca", 12),
        (4, "ERP ANALYSTS INC", None, "uscis", 1327),
        (5, "ELECTRONIC ARTS INC", None, "uscis", 509),
    ]
    idx = index_of(rows)
    r = idx.match("TCS")
    assert names(r) == ["TATA CONSULTANCY SERVICES LIMITED"] and r.best.method == "acronym"  # type: ignore[union-attr]
    assert idx.match("EA").matches == []  # two big filers with those initials: unsure
    assert idx.match("Tcs").best is None or idx.match("Tcs").best.method != "acronym"  # type: ignore[union-attr]
    # Posting elsewhere than a mid-size filer with the initials: a thin link, unsure; a big one still is the brand.
    mid = index_of(
        [(1, "HRB PROFESSIONAL RESOURCES LLC", None, "lca", 167, "MO"), (2, "HPR PARTNERS LLC", None, "lca", 2, "NY")]
    )
    assert names(mid.match("HPR")) == ["HRB PROFESSIONAL RESOURCES LLC"]
    assert mid.match("HPR", posting_hints(None, states=["MA"])).matches == []
    assert names(mid.match("HPR", posting_hints(None, states=["MO"]))) == ["HRB PROFESSIONAL RESOURCES LLC"]
    assert names(idx.match("TCS", posting_hints(None, states=["NJ"]))) == ["TATA CONSULTANCY SERVICES LIMITED"]


def test_words_a_filer_writes_as_one() -> None:
    rows = [(1, "JPMORGAN CHASE & CO", None, "uscis", 11304), (2, "MORGAN STANLEY", None, "uscis", 900)]
    r = index_of(rows).match("J.P. Morgan")
    assert names(r) == ["JPMORGAN CHASE & CO"] and r.best.method == "leading"  # type: ignore[union-attr]


def test_one_dba_of_several_filers_when_no_legal_name_uses_the_words() -> None:
    rows = [(1, "0956588 BC LTD DBA PROCOGIA", None), (2, "0965688 BC LTD DBA PROCOGIA", None)]
    assert sorted(names(index_of(rows).match("Procogia"))) == [n for _i, n, _f in rows]
    # A filer whose legal name uses the words makes them namesakes.
    assert index_of([*rows, (3, "PROCOGIA HOLDINGS LLC", None)]).match("Procogia").best.name == "PROCOGIA HOLDINGS LLC"  # type: ignore[union-attr]


def test_trade_names_from_filings() -> None:
    rows = [
        (1, "ZENPAYROLL INC", None, "lca", 30),
        (1, "GUSTO", None, "trade"),  # LCA TRADE_NAME_DBA / PERM trade name, stored with source "trade"
        (2, "PEOPLE CENTER INC D/B/A RIPPLING", None, "uscis", 40),
        (3, "ANTHROPIC PBC D B A ANTHROPIC INC", None, "uscis", 9),
    ]
    idx = index_of(rows)
    r = idx.match("Gusto")
    assert names(r) == ["ZENPAYROLL INC"] and r.best.method == "trade"  # type: ignore[union-attr]
    assert names(idx.match("Rippling")) == ["PEOPLE CENTER INC D/B/A RIPPLING"]
    assert idx.match("Anthropic").best.method == "exact"  # type: ignore[union-attr]
    assert split_dba("ANTHROPIC PBC D B A ANTHROPIC INC") == ("ANTHROPIC PBC", "ANTHROPIC INC")
    # The words spelt out, as a few hub names write them.
    assert split_dba("WJL ARCHITECTURE ENGINEERING DPC DOING BUSINESS AS EWINGCOLE")[1] == "EWINGCOLE"
    assert split_dba("PROFDI INC TRADING AS GRISK") == ("PROFDI INC", "GRISK")
    # ... and a marker written twice is one.
    double = "LEAPFROG PRODUCT DEVELOPMENT LLC DOING BUSINESS AS DBA LEAPFROG BRANDS"
    assert split_dba(double)[1] == trade_name(double) == "LEAPFROG BRANDS"
    assert names(
        index_of([(4, "WJL ARCHITECTURE DPC DOING BUSINESS AS EWINGCOLE", None, "uscis", 5)]).match("EwingCole")
    ) == ["WJL ARCHITECTURE DPC DOING BUSINESS AS EWINGCOLE"]


def test_one_word_dba_of_another_filer_beats_a_legal_name_leading_with_the_brand_only_by_dwarfing_it() -> None:
    rows = [
        (1, "REDDY IT SOLUTIONS LLC DBA AURORA", None, "uscis", 40),
        (2, "AURORA OPERATIONS INC", None, "uscis", 300),
    ]
    r = index_of(rows).match("Aurora")
    assert names(r) == ["AURORA OPERATIONS INC"] and r.best.method == "leading"  # type: ignore[union-attr]
    # With no filer leading with the brand, the d/b/a is the answer.
    assert names(index_of(rows[:1]).match("Aurora")) == ["REDDY IT SOLUTIONS LLC DBA AURORA"]
    # A d/b/a filer with ten times the filings of every legal name leading with the brand (and 50 or more) is it.
    carta = [(1, "ESHARES INC D/B/A CARTA", None, "uscis", 135), (2, "CARTA HEALTHCARE INC", None, "uscis", 1)]
    r = index_of(carta).match("Carta")
    assert names(r) == ["ESHARES INC D/B/A CARTA"] and r.best.method == "trade"  # type: ignore[union-attr]
    assert names(index_of([carta[0], (2, "CARTA HEALTHCARE INC", None, "uscis", 14)]).match("Carta")) == [
        "CARTA HEALTHCARE INC"
    ]
    # A one-word d/b/a is also never a fuzzy winner: "Aurora" is not "AURORA OPERATIONS" by spelling.
    unity = [(1, "MEMORIAL HOSPITAL ASSO D/B/A UNITY", None), (2, "UNITY TECHNOLOGIES SF", None)]
    assert index_of([*unity, (3, "UNITY HEALTH CARE INC", None)]).match("Unity").matches == []


def test_multi_word_dba_wins() -> None:
    rows = [(1, "SCALE MANAGEMENT LLC D/B/A SCALE VENTURE PARTNERS", None), (2, "SCALE AI INC", None)]
    r = index_of(rows).match("Scale Venture Partners")
    assert names(r) == ["SCALE MANAGEMENT LLC D/B/A SCALE VENTURE PARTNERS"] and r.best.method == "trade"  # type: ignore[union-attr]


def test_spellings_of_one_filer_are_one_filer() -> None:
    rows = [
        (1, "ZOOM VIDEO COMMUNICATIONS INC", None, "uscis", 900),
        (2, "ZOOM VIDEO COMMUNCATIONS, INC.", None, "lca", 5),  # misspelt as filed
        (3, "MARVELL SEMICONDUCTO", None, "uscis", 1),  # cut at the hub's column width
        (4, "MARVELL SEMICONDUCTOR INC", None, "lca", 2),
    ]
    idx = index_of(rows)
    assert names(idx.match("Zoom Video")) == ["ZOOM VIDEO COMMUNCATIONS, INC.", "ZOOM VIDEO COMMUNICATIONS INC"]
    assert names(idx.match("Marvell")) == ["MARVELL SEMICONDUCTO", "MARVELL SEMICONDUCTOR INC"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We build robots. Acme Labs, Inc. is an equal opportunity employer.", "Acme Labs, Inc."),
        ("Delta Air Lines, Inc. is an Equal Opportunity Employer and values diversity.", "Delta Air Lines, Inc."),
        ("At Maplebear Inc. (d/b/a Instacart) is an Equal Opportunity Employer", "Maplebear Inc."),
        ("Northwind Data LLC and its affiliates are proud to be an equal opportunity employer.", "Northwind Data LLC"),
        (
            "Vertex Pharmaceuticals Incorporated is an equal opportunity employer.",
            "Vertex Pharmaceuticals Incorporated",
        ),
        ("Quill Health Corp. is an E-Verify employer.", "Quill Health Corp."),
        ("People Center, Inc. d/b/a Rippling is an equal opportunity employer.", "People Center, Inc."),
        ("JOIN US! ACME LABS, INC. IS AN EQUAL OPPORTUNITY EMPLOYER", "ACME LABS, INC."),
        ("Acme Labs, Inc. provides equal employment opportunities to all employees.", "Acme Labs, Inc."),
        ("Acme Labs, Inc. is committed to equal employment opportunity.", "Acme Labs, Inc."),
        ("Nimbus Robotics Corporation participates in E-Verify.", "Nimbus Robotics Corporation"),
        ("Quill Health LLC does not discriminate on the basis of race.", "Quill Health LLC"),
        ("We are an equal opportunity employer.", None),
        ("Acme does not discriminate.", None),
        ("Cognition is an equal opportunity employer.", None),
        ("Our clients include Google LLC and Amazon.com Services LLC.", None),
        ("", None),
    ],
)
def test_stated_entity(text: str, expected: str | None) -> None:
    assert stated_entity(text) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://careers.acme.com/jobs/123", "acme.com"),
        ("https://www.hudsonrivertrading.com/careers/job/?gh_jid=1", "hudsonrivertrading.com"),
        ("https://jobs.acme.co.uk/ml", "acme.co.uk"),
        ("https://frame.io/careers", "frame.io"),
        ("https://job-boards.greenhouse.io/anthropic/jobs/1", None),
        ("https://jobs.lever.co/acme/1", None),
        ("https://nvidia.wd5.myworkdayjobs.com/NVIDIAExternalCareerSite/job/1", None),
        ("http://127.0.0.1:8080/v1/boards/acme/jobs", None),
        (None, None),
    ],
)
def test_site_domain(url: str | None, expected: str | None) -> None:
    assert site_domain(url) == expected


def test_hints_from_the_posting_settle_a_namesake() -> None:
    rows = [
        (1, "DELTA AIR LINES INC", None, "uscis", 421),
        (2, "DELTA DENTAL OF CALIFORNIA", None, "uscis", 223),
        (3, "DELTA GLOBAL SERVICES LLC", None, "lca", 25),
        (4, "HUDSON RIVER TRADING LLC", None, "lca", 90),
        (5, "HRT INC", None, "lca", 1),
        (6, "COGNITION LLC", None, "lca", 11),
    ]
    idx = index_of(rows)
    assert idx.match("Delta").outcome == "unsure"
    hints = posting_hints("Delta Air Lines, Inc. is an Equal Opportunity Employer.", "https://delta.avature.net/x")
    r = idx.match("Delta", hints)
    assert names(r) == ["DELTA AIR LINES INC"] and r.best.method == "ad_name"  # type: ignore[union-attr]
    r = idx.match("HRT", JoinHints(domain="hudsonrivertrading.com"))
    assert names(r) == ["HUDSON RIVER TRADING LLC"] and r.best.method == "ad_site"  # type: ignore[union-attr]
    # A career domain no longer than the brand says less than the brand's own legal name.
    acme = index_of([(1, "ACME AI INC", None), (2, "ACME INC", None)])
    assert names(acme.match("Acme AI", JoinHints(domain="acme.com"))) == ["ACME AI INC"]
    assert acme.match("Acme", JoinHints(domain="acme.com")).best.method == "exact"  # type: ignore[union-attr]
    # The ad names a legal employer that no filing has: the brand's namesake is not taken for it.
    assert idx.match("Cognition").best is not None
    r = idx.match("Cognition", JoinHints(stated_entity="Cognition AI, Inc."))
    assert r.matches == [] and r.outcome == "unsure"
    assert idx.match_many(["Delta", "Delta"], {"Delta": hints})[1].best.name == "DELTA AIR LINES INC"  # type: ignore[union-attr]


def test_the_other_name_in_brackets_is_read_only_when_it_is_the_initials() -> None:
    assert aside_name("Environmental Systems Research Institute, Inc. (Esri)") == "Esri"
    assert aside_name("ENVIRONMENTAL SYSTEMS RESEARCH INSTITUTE INC ESRI") == "ESRI"  # the hub drops the brackets
    assert aside_name("NYCEDC (New York City Economic Development Corporation)") == (
        "New York City Economic Development Corporation"
    )
    for plain in ["Digital Alchemy (North America) LLC", "Chemtrade Logistics (US) Inc.", "ACME SOFTWARE INC",
                  "Abcam, Inc. (acquired by Danaher Corporation)", "GE (US)"]:  # fmt: skip
        assert aside_name(plain) is None, plain
    idx = index_of([(1, "ENVIRONMENTAL SYSTEMS RESEARCH INSTITUTE INC ESRI", None), (2, "DESRI HOLDINGS LP", None)])
    r = idx.match("Esri")
    assert names(r) == ["ENVIRONMENTAL SYSTEMS RESEARCH INSTITUTE INC ESRI"] and r.best.method == "trade"  # type: ignore[union-attr]


def test_a_brand_written_with_its_legal_form_names_the_filer_of_that_form() -> None:
    # Namesakes share the word: the bare name is unsure, the name with its form is the filer of that form.
    trades = ["SOFTWARE SOLUTIONS INC", "HEALTH MD LLC", "CONSULTING GROUP LLC", "REALTY LLC", "PHARMA INC"]
    trades += ["LOGISTICS INC", "CAPITAL LLC", "DENTAL PC", "TECH LLC", "FOODS INC"]
    rows = [(1, "NAVA PBC", None, "lca", 12, "DC")]
    rows += [(n, f"NAVA {t}", None, "lca", 5 * n, "NJ") for n, t in enumerate(trades, start=2)]
    idx = index_of(rows)
    assert idx.match("Nava").outcome == "unsure"
    r = idx.match("Nava PBC")
    assert names(r) == ["NAVA PBC"] and r.best.method == "exact"  # type: ignore[union-attr]
    assert names(idx.match("Nava, Incorporated")) == []  # a form no filer of the bare name has says nothing


def test_a_dba_the_hub_cut_short_still_names_the_brand() -> None:
    idx = index_of([(1, "THE ROCKET SCI GR LLC DBA MAILCHIM", None), (2, "MAIL CHIMERA LLC", None)])
    r = idx.match("Mailchimp")
    assert names(r) == ["THE ROCKET SCI GR LLC DBA MAILCHIM"] and r.best.method == "trade"  # type: ignore[union-attr]
    # Two letters lost is as often a shorter name ("... DBA CIRCLE" is not CircleCI); nor is a brand of several words.
    cut = index_of([(1, "CIRCLE SQUARE GROUP INC DBA CIRCLE", None), (2, "CIRCLE INTERNET SERVICES INC", None)])
    assert cut.match("CircleCI").matches == []
    assert idx.match("Mailchimpster").outcome != "matched"
    assert idx.match("Mailchimp Labs").outcome != "matched"
    # A whole everyday word is the d/b/a as written, not a cut of a longer brand.
    inspire = index_of([(1, "INSPIRE RESOURCES LLC DBA INSPIRE", None, "uscis", 32)])
    assert inspire.match("Inspiren").matches == []
    assert names(inspire.match("Inspire")) == ["INSPIRE RESOURCES LLC DBA INSPIRE"]


def test_the_postings_state_settles_namesakes_only_when_one_is_there() -> None:
    rows = [
        (1, "GLEAN TECHNOLOGIES INC", None, "lca", 6, "CA"),
        (2, "GLEAN ANALYTICS INC", None, "lca", 1, "NY"),
        (3, "HEXA LABS INC", None, "lca", 2, "MN"),
        (4, "HEXA TECHNOLOGIES INC", None, "lca", 1, "CA"),
        (5, "HEXA SYSTEMS LLC", None, "lca", 1, "CA"),
        (6, "ORBIT LABS INC", None, "lca", 2, "NY"),
        (7, "ORBIT HEALTH LLC", None, "lca", 1, "TX"),
        (8, "VINCENT ORBIT LLC", None, "lca", 5, "NY"),
        (9, "NOVA SOFT INC", None, "lca", 3, "CA"),
        (10, "NOVA HEALTH INC", None, "lca", 3, None),
    ]
    idx = index_of(rows)
    assert idx.match("Glean").outcome == "unsure"
    r = idx.match("Glean", posting_hints(None, states=["CA"]))
    assert names(r) == ["GLEAN TECHNOLOGIES INC"] and r.best.method == "ad_place"  # type: ignore[union-attr]
    assert names(idx.match("Glean", posting_hints(None, states=["ny", "WA"]))) == ["GLEAN ANALYTICS INC"]
    # Both namesakes where the employer posts, or none of them there: still a person's call.
    assert idx.match("Glean", posting_hints(None, states=["CA", "NY"])).outcome == "unsure"
    assert idx.match("Glean", posting_hints(None, states=["TX"])).outcome == "unsure"
    # Two namesakes in the one state stay namesakes.
    assert idx.match("Hexa", posting_hints(None, states=["CA"])).outcome == "unsure"
    # A filer there that uses the brand later in its name and files more is a rival; one that files less is not.
    assert idx.match("Orbit", posting_hints(None, states=["NY"])).outcome == "unsure"
    assert names(idx.match("Orbit", posting_hints(None, states=["TX"]))) == ["ORBIT HEALTH LLC"]
    # A namesake of unknown place could be the brand.
    assert idx.match("Nova", posting_hints(None, states=["CA"])).outcome == "unsure"
    # Only two-letter codes count as states.
    assert posting_hints(None, states=["California", "", " ca "]).states == frozenset({"CA"})
    # A lone filer the leading-words rule judged a namesake of an everyday word is not made the brand by its state.
    lone = index_of([(1, "FARTHER FARMS INC", None, "lca", 1, "NY"), (2, "CLAY LABS INC", None, "lca", 2, "NY")])
    assert lone.match("Farther", posting_hints(None, states=["NY"])).outcome == "unsure"
    assert names(lone.match("Clay", posting_hints(None, states=["NY"]))) == ["CLAY LABS INC"]


def test_alias_lines_of_brands_one_legal_key_holds_stay_apart(tmp_path: Path) -> None:
    # "Co Limited" reads as a legal form, so "Zip Co Limited" and "Zip" share a legal key but are two companies.
    table = _table(tmp_path, "brand,filer\nZip Co Limited,ZIP CO US INC\nZip Co Limited,QUADPAY INC\nZip,ZIPHQ INC\n")
    rows = [(1, "ZIP CO US INC", None), (2, "QUADPAY INC", None), (3, "ZIPHQ INC", None)]
    idx = index_of(rows, load_aliases(table))
    assert names(idx.match("Zip")) == ["ZIPHQ INC"]
    assert sorted(names(idx.match("Zip Co Limited"))) == ["QUADPAY INC", "ZIP CO US INC"]
    # Another spelling under the same key is neither brand for sure: the table says nothing of it.
    assert all(m.method != "alias" for m in idx.match("Zip Co Ltd").matches)
    # An operator's answer for the shared key still wins over either spelling's lines.
    idx.overrides = {alias_key("Zip"): ["QUADPAY INC"]}
    assert names(idx.match("Zip")) == ["QUADPAY INC"]
    # One brand's lines alone keep answering every spelling of its key, as before.
    single = index_of(rows, load_aliases(_table(tmp_path, "brand,filer\nZip Co Limited,QUADPAY INC\n")))
    assert names(single.match("Zip Co")) == ["QUADPAY INC"]


def _table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "one.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_alias_line_can_rule_out_a_namesake(tmp_path: Path) -> None:
    table = tmp_path / "aliases.csv"
    table.write_text('brand,filer\nCognition,!Cognition LLC\nNimbus,"Nimbus Robotics Corp."\n', encoding="utf-8")
    aliases = load_aliases(table)
    idx = index_of([(1, "COGNITION LLC", None), (2, "NIMBUS ROBOTICS CORPORATION", None)], aliases)
    r = idx.match("Cognition")
    # Its one namesake ruled out, the brand has no filer of its own: not a candidate to offer a person again.
    assert r.matches == [] and r.outcome == "none"
    assert "COGNITION LLC" not in {a.name for a in r.alternatives}
    # What was ruled out is said, so a tag's reason and `jobagg why` can name it; JSON carries it too.
    assert [c.name for c in r.ruled_out] == ["COGNITION LLC"]
    assert r.as_json()["ruled_out"][0]["name"] == "COGNITION LLC"
    assert json.loads(r.json_text()) == r.as_json()
    assert idx.match("Nimbus").best.method == "alias"  # type: ignore[union-attr]
    assert "ruled_out" not in idx.match("Nimbus").as_json()


def test_a_ruled_out_namesake_leaves_the_others_to_choose_from() -> None:
    rows = [(1, "ORBIT LABS INC", None, "lca", 10, "CA"), (2, "ORBIT HEALTH LLC", None, "lca", 8, "TX")]
    assert EntityIndex.from_names(rows, {}).match("Orbit").outcome == "unsure"  # two namesakes
    r = EntityIndex.from_names(rows, {alias_key("Orbit"): ["!ORBIT LABS INC"]}).match("Orbit")
    assert r.outcome == "unsure" and r.matches == []
    assert [a.name for a in r.alternatives] == ["ORBIT HEALTH LLC"]


def test_index_pickles_and_takes_seven_column_rows() -> None:
    # Rows as dol_entity_names stored them before `source` and `filings` were read.
    rows = [(1, "ACME LABS INC", None, "ACME LABS INC", core_key("ACME LABS INC"), legal_key("ACME LABS INC"), "ACME")]
    idx = EntityIndex(rows, {})
    again = pickle.loads(pickle.dumps(idx))
    assert again.match("Acme Labs").best.name == "ACME LABS INC"  # type: ignore[union-attr]


def test_a_saved_index_answers_as_the_fresh_one() -> None:
    # Saved packed (names joined into one string, ids in arrays); a name holding the joining character too.
    rows = [*FILERS, (40, "NUL\x00BYTE HOLDINGS LLC", None), (41, "NO FEIN WORKS LLC", None)]
    idx = EntityIndex.from_names(rows, load_aliases())
    again = pickle.loads(pickle.dumps(idx))
    for q in ["Lattice", "Wave Computing", "Nul Byte", "No Fein Works", "Amazon", "Google", "Northwind", "Nobody"]:
        assert again.match(q).as_json() == idx.match(q).as_json(), q
    assert again.entity[40] == ("NUL\x00BYTE HOLDINGS LLC", None) and again.entity[1][1] == "930835214"
    assert len(again) == len(idx) == len(FILERS) + 2


def test_a_saved_index_looks_up_rarely_used_maps_without_hashing_them() -> None:
    idx = pickle.loads(pickle.dumps(make_index()))
    assert idx.by_fein.get("930835214") == [1] and idx.by_core.get("NOSUCHKEY") is None
    assert "330000001" in idx.by_fein and "000000000" not in idx.by_fein
    assert idx.by_fein._pos is None  # a few look-ups bisect the sorted keys
    for _ in range(600):
        assert idx.by_fein.get("201665019") == [5]
    assert idx.by_fein._pos is not None and idx.by_fein.get("201665019") == [5]  # then a hash table
    assert idx.entity.states == [""] * len(idx) and idx.entity.state(1) == ""


def test_json_text_is_what_json_dumps_writes() -> None:
    # Names that need escaping, FEIN-less and unicode filers, every outcome, runner-ups.
    rows = [
        *FILERS,
        (50, 'QUOTE "Q" \\ BACKSLASH LLC', None),
        (51, "TAB\tAND\nNEWLINE LLC", "123456789"),
        (52, "ÉCOLE FRANÇAISE 学校 LLC", None),
    ]
    idx = EntityIndex.from_names(rows, load_aliases())
    queries = ["Lattice", "Quote Q Backslash", "Tab And Newline", "Ecole Francaise", "Amazon", "Northwind", "Nobody"]
    results = idx.match_many([*queries, 'Nobody "quoted" \\ é'])
    assert {r.outcome for r in results} == {"matched", "unsure", "none"}
    assert any(r.alternatives for r in results) and any(m.fein is None for r in results for m in r.matches)
    for r in results:
        assert r.json_text() == json.dumps(r.as_json(), ensure_ascii=False), r.query
        assert json.loads(r.json_text()) == r.as_json()


@pytest.mark.parametrize(
    ("url", "token", "label"),
    [
        ("https://job-boards.greenhouse.io/cobaltio/jobs/4512", "cobaltio", "cobaltio"),
        ("https://boards-api.greenhouse.io/v1/boards/emslinqinc/jobs", "emslinqinc", "emslinq"),
        ("https://jobs.lever.co/applytoaktos/1f2e", "applytoaktos", "aktos"),
        ("https://jobs.ashbyhq.com/teachablecareers", "teachablecareers", "teachable"),
        ("https://dollartree.wd5.myworkdayjobs.com/dollartreeca/job/x", "dollartree", "dollartree"),
        ("https://careers.smartrecruiters.com/Gunvor_Careers", "Gunvor_Careers", "gunvor"),
        ("https://boards.greenhouse.io/embed/job_app?for=cobaltio&token=4512", "cobaltio", "cobaltio"),
        ("https://jobs.ashbyhq.com/Jasper%20AI", "Jasper AI", "jasperai"),
        ("https://careers.acme.com/jobs/1", None, None),
    ],
)
def test_a_job_boards_token_is_read_from_its_url(url: str, token: str | None, label: str | None) -> None:
    from matching.join import ats_board, board_label

    assert ats_board(url) == token
    assert board_label(token) == label
    assert posting_hints(None, url).board == label


def test_a_registry_board_is_read_as_the_employers_name() -> None:
    from matching.join import board_label

    assert board_label("accenture.wd103/AccentureCareers") == "accenture"  # the Workday tenant, not its pod or site
    assert board_label("patch.io") == "patchio"  # a dotted token is a domain written whole
    assert board_label("Flock Safety") == "flocksafety"
    assert board_label(None) is None and board_label("/") is None


def test_a_board_token_that_says_more_than_the_brand_picks_among_namesakes() -> None:
    rows = [
        (1, "COBALT LABS INC D/B/A COBALT IO", None, "lca", 1, "CA"),
        (2, "Cobalt AI, LLC", None, "lca", 0, "CA"),
        (3, "COBALT ROBOTICS INC", None, "lca", 6, "CA"),
        (4, "MODERNA INC", None, "lca", 111, "MA"),
        (5, "MODERNATX INC", None, "lca", 115, "MA"),
        (6, "ONX, Inc.", None, "lca", 0, "TX"),
        (7, "ONXMAPS INC", None, "lca", 1, "MT"),
        (8, "OPTIVER US LLC", None, "lca", 40, "IL"),
        (9, "OPTIVER SERVICES US LLC", None, "lca", 30, "IL"),
    ]
    idx = index_of(rows)
    assert names(idx.match("Cobalt")) == ["Cobalt AI, LLC"]  # the name alone: the site form
    r = idx.match("Cobalt", posting_hints(None, "https://job-boards.greenhouse.io/cobaltio"))
    assert names(r) == ["COBALT LABS INC D/B/A COBALT IO"] and r.best.method == "ad_board"  # type: ignore[union-attr]
    # The brand's bare legal name in the board filer's state is kept beside it; in another state it is dropped.
    assert names(idx.match("Moderna", JoinHints(board="modernatx"))) == ["MODERNA INC", "MODERNATX INC"]
    assert names(idx.match("onX")) == ["ONX, Inc."]
    assert names(idx.match("onX", JoinHints(board="onxmaps"))) == ["ONXMAPS INC"]
    # Where the name alone chose the board's filer with its kin, the kin stay; a token equal to the brand is no hint.
    family = names(idx.match("Optiver"))
    assert family == ["OPTIVER SERVICES US LLC", "OPTIVER US LLC"]
    assert names(idx.match("Optiver", JoinHints(board="optiverus"))) == family
    assert names(idx.match("Cobalt", JoinHints(board="cobalt"))) == ["Cobalt AI, LLC"]


def test_a_group_joins_as_its_house_when_nothing_files_under_the_group_name() -> None:
    idx = index_of(
        [
            (1, "VOLEON CAPITAL MANAGEMENT LP", None, "lca", 30, "CA"),
            (2, "LANDIS &GYR TECHNOLOGY INC", None, "lca", 12, "GA"),
            (3, "HARPER GROUP INC", None, "lca", 2, "NY"),
            (4, "HARPER ENGINEERING LLC", None, "lca", 2, "WA"),
        ]
    )
    r = idx.match("The Voleon Group")
    assert names(r) == ["VOLEON CAPITAL MANAGEMENT LP"] and r.query == "The Voleon Group"
    assert idx.match("The LGT Group").outcome == "none"  # never the house's initials
    # Without the house style a name of that form is as often a firm of its own: no filer, no join.
    assert idx.match("Voleon Group").outcome == "none"
    assert names(idx.match("Harper Group")) == ["HARPER GROUP INC"]  # a filer of the group's name is the group


def test_a_brand_whose_words_a_rare_filer_spreads_out_joins_it() -> None:
    rows = [
        (1, "CURI RMB CAPITAL LLC", None, "lca", 3, "WI"),
        (2, "CURI BIO INC", None, "lca", 2, "WA"),
        (3, "CLEO AI INC", None, "lca", 4, "CA"),
        (4, "CLEO COMMUNICATIONS US LLC", None, "lca", 9, "IL"),
    ]
    idx = index_of(rows)
    assert names(idx.match("Curi Capital")) == ["CURI RMB CAPITAL LLC"]
    assert names(idx.match("Cleo (US)")) == ["CLEO AI INC"]  # a place word distinguishes nothing
    # A first word many filers lead with is no evidence.
    crowd = index_of([(i, f"APEX {w} CAPITAL LLC", None, "lca", 1, "NY") for i, w in enumerate("ABCDEFGHJK", 1)])
    assert crowd.match("Apex Capital").outcome != "matched"


def test_a_d_b_a_that_only_glues_the_brands_words_does_not_beat_the_filer_named_by_them() -> None:
    idx = index_of(
        [
            (1, "SYNERGISTIC SYSTEMS INC DBA SYNERG", None, "lca", 3, "TX"),
            (2, "SYNER-G PHARMA CONSULTING LLC", None, "lca", 5, "MA"),
        ]
    )
    assert names(idx.match("Syner-G")) == ["SYNER-G PHARMA CONSULTING LLC"]
    # A brand of several words that only a d/b/a uses is still that filer's.
    alone = index_of([(1, "SYNERGISTIC SYSTEMS INC DBA SYNERG", None, "lca", 3, "TX")])
    assert names(alone.match("Syner-G")) == ["SYNERGISTIC SYSTEMS INC DBA SYNERG"]


def test_name_forms_forget_everything_when_cleared_and_work_again() -> None:
    from matching.normalize import NameForms, clean_name

    forms = NameForms()
    forms.add({"ACME LABS INC DBA ACME", None}, filer=True)
    forms.add({"Acme Trade"}, filer=False)
    assert forms.work() is False
    assert forms.dba("ACME LABS INC DBA ACME") == "ACME"
    forms.clear()
    assert (forms._clean, forms._dba, forms._aside, forms._todo) == ({}, {}, {}, [])
    assert forms._queued == (set(), set())
    # Names queued before count as new again, and are worked out as before.
    forms.add({"ACME LABS INC DBA ACME"}, filer=True)
    assert forms.work(1) is False and forms.clean("ACME LABS INC") == clean_name("ACME LABS INC")


def test_an_everyday_words_small_bare_filer_is_unsure_beside_a_namesake_filing_ten_times_as_much() -> None:
    rows = [
        (1, "INTRINSIC LLC", None, "lca", 1, "CO"),
        (2, "INTRINSIC INNOVATION LLC", None, "lca", 29, "CA"),
        (3, "INTRINSIC VALUATION LLC", None, "lca", 1, "CO"),
    ]
    r = index_of(rows).match("Intrinsic")
    assert r.outcome == "unsure" and {a.name for a in r.alternatives} >= {"INTRINSIC LLC", "INTRINSIC INNOVATION LLC"}
    # Where the employer posts settles it, as for any namesakes.
    assert names(index_of(rows).match("Intrinsic", posting_hints(None, states=["CA"]))) == ["INTRINSIC INNOVATION LLC"]
    # Filing nine times as much, or a coined word, or a bare filer filing 20 or more: the bare legal name stands.
    nine = [rows[0], (2, "INTRINSIC INNOVATION LLC", None, "lca", 9, "CA"), rows[2]]
    assert names(index_of(nine).match("Intrinsic")) == ["INTRINSIC LLC"]
    coined = [(1, "ZORBLIX LLC", None, "lca", 1, "CO"), (2, "ZORBLIX INNOVATION LLC", None, "lca", 29, "CA")]
    assert names(index_of(coined).match("Zorblix")) == ["ZORBLIX LLC"]
    busy = [(1, "INTRINSIC LLC", None, "lca", 20, "CO"), (2, "INTRINSIC INNOVATION LLC", None, "lca", 150, "CA")]
    assert names(index_of(busy).match("Intrinsic")) == ["INTRINSIC LLC"]


def test_a_bare_name_filer_in_another_state_gives_way_to_the_one_namesake_where_the_employer_posts() -> None:
    rows = [
        (1, "ZORVANT INC", None, "lca", 0, "MA"),
        (2, "ZORVANT NORTH AMERICA INC", None, "uscis", 21, "NH"),
        (3, "QXR LLP", None, "lca", 0, "NY"),
        (4, "QXR CONSUMER HEALTH INC", None, "uscis", 30, "PA"),
    ]
    idx = index_of(rows)
    r = idx.match("Zorvant", posting_hints(None, states=["NH"]))
    assert names(r) == ["ZORVANT NORTH AMERICA INC"] and r.matches[0].method == "ad_place"
    # Without a word on where it posts, the bare legal name stands; posting where it files, it still does.
    assert names(idx.match("Zorvant")) == ["ZORVANT INC"]
    assert names(idx.match("Zorvant", posting_hints(None, states=["MA"]))) == ["ZORVANT INC"]
    # Posting where neither files: no one.
    assert idx.match("Zorvant", posting_hints(None, states=["TX"])).matches == []
    # Three letters name no one by leading words, wherever they post.
    assert idx.match("QXR", posting_hints(None, states=["PA"])).matches == []


def test_a_brand_naming_its_us_arm_joins_what_the_rest_of_its_name_joins() -> None:
    rows = [
        (1, "THINKWELL ACADEMY INTERNATIONAL EDUCATION INC", None, "uscis", 10, "CA"),
        (2, "THINKWELL ACADEMY INTERNATIONAL EDUCAT", None, "uscis", 7, "CA"),
        (3, "CAHELTEK HALL INC", None, "lca", 2, "TX"),
    ]
    idx = index_of(rows)
    assert set(names(idx.match("Thinkwell Academy US"))) == set(names(idx.match("Thinkwell Academy"))) != set()
    assert idx.match("Thinkwell Academy USA").matches != []
    # A tail that is no country still needs a filer adding nothing but how it is organised.
    assert idx.match("Caheltek Global").matches == []
    # What the core alone joins, its US arm joins too.
    assert names(idx.match("Caheltek US")) == names(idx.match("Caheltek")) == ["CAHELTEK HALL INC"]


def test_of_several_namesakes_where_the_employer_posts_one_filing_ten_times_the_rest_there_is_the_brand() -> None:
    rows = [
        (1, "ENIGMATA TECHNOLOGIES INC", None, "uscis", 21, "NY"),
        (2, "ENIGMATA LABS LLC", None, "lca", 1, "NY"),
        (3, "ENIGMATA DENTAL PLLC", None, "lca", 40, "TX"),
    ]
    ny = posting_hints(None, states=["NY"])
    r = index_of(rows).match("Enigmata", ny)
    assert names(r) == ["ENIGMATA TECHNOLOGIES INC"] and r.matches[0].method == "ad_place"
    # Out of state, the big namesake counts for nothing; with no state, the three are namesakes.
    assert index_of(rows).match("Enigmata").matches == []
    # Under 20 filings, or under ten times the others in the state together, it is not told apart.
    small = [(1, "ENIGMATA TECHNOLOGIES INC", None, "uscis", 19, "NY"), *rows[1:]]
    assert index_of(small).match("Enigmata", ny).matches == []
    close = [*rows, (4, "ENIGMATA PARTNERS LLC", None, "lca", 2, "NY")]
    assert index_of(close).match("Enigmata", ny).matches == []
    # A filer using the word later in its name, in the state, counts among the others.
    later = [*rows, (4, "THE ROYAL ENIGMATA CO", None, "lca", 2, "NY")]
    assert index_of(later).match("Enigmata", ny).matches == []


def test_of_several_namesakes_where_the_employer_posts_the_one_writing_the_brand_as_its_site_is_the_brand() -> None:
    rows = [
        (1, "SPANNIX IO INC", None, "uscis", 11, "CA"),
        (2, "SPANNIX CONSTRUCTION & ENGINEERING INC", None, "lca", 1, "CA"),
        (3, "SPANNIX ARCHITECTURE LLC", None, "lca", 4, "NY"),
        (4, "SPANNIX", None, "lca", 0, "NY"),  # a bare namesake elsewhere: the site form is no exact answer
    ]
    ca = posting_hints(None, states=["CA"])
    r = index_of(rows).match("Spannix", ca)
    assert names(r) == ["SPANNIX IO INC"] and r.matches[0].method == "ad_place"
    # Without the state the site form is no answer; nor with two site forms there, nor elsewhere.
    assert "SPANNIX IO INC" not in names(index_of(rows).match("Spannix"))
    two = [*rows, (5, "SPANNIX APP LLC", None, "lca", 1, "CA")]
    assert index_of(two).match("Spannix", ca).matches == []
    assert "SPANNIX IO INC" not in names(index_of(rows).match("Spannix", posting_hints(None, states=["TX"])))


def test_a_one_word_brand_a_filer_writes_as_several_words_joins_it_where_the_employer_posts() -> None:
    rows = [
        (1, "Y COMBINATOR MANAGEMENT LLC", None, "uscis", 2, "CA"),
        (2, "Nano Net Technologies Inc", None, "lca", 0, "CA"),
        (3, "BREEZE WAY LOGISTICS INC", None, "lca", 3, "CA"),
        (4, "PICASSO LABS INC DBA QUILLOREX", None, "uscis", 9, "NY"),
        (5, "QUILLO REX MEDIA", None, "lca", 0, "NY"),
    ]
    idx = index_of(rows)
    ca, ny = posting_hints(None, states=["CA"]), posting_hints(None, states=["NY"])
    assert names(idx.match("Ycombinator", ca)) == ["Y COMBINATOR MANAGEMENT LLC"]
    assert names(idx.match("Nanonets", ca)) == ["Nano Net Technologies Inc"]  # a plural forgiven
    # Run-together words name no one without the postings' state agreeing: other firms' names look so too.
    assert idx.match("Ycombinator").matches == []
    assert idx.match("Ycombinator", ny).matches == []
    # Not an everyday word ("breezeway"), whatever the state; and a d/b/a of the brand comes first.
    assert idx.match("Breezeway", ca).matches == []
    assert names(idx.match("Quillorex", ny)) == ["PICASSO LABS INC DBA QUILLOREX"]


def test_the_one_namesake_where_the_employer_posts_is_not_chosen_when_it_trades_under_another_name() -> None:
    rows = [
        (1, "UNDERBRUSH PHARMACEUTICALS INC", None, "lca", 1, "CA"),
        (2, "UNDERBRUSH TECHNOLOGIES INC DBA PINWHEEL", None, "lca", 1, "NY"),
        (3, "UNDERBRUSH STUDIOS LLC", None, "lca", 1, "TX"),
    ]
    idx = index_of(rows)
    assert idx.match("Underbrush", posting_hints(None, states=["NY"])).matches == []
    assert names(idx.match("Underbrush", posting_hints(None, states=["TX"]))) == ["UNDERBRUSH STUDIOS LLC"]


def test_an_employer_hiring_only_abroad_is_its_us_arm_that_adds_only_where_it_is() -> None:
    rows = [
        (1, "TYPEFLUX US LLC", None, "lca", 2, "NY"),
        (2, "ZOMATIX USA LLC", None, "lca", 1, "CA"),
        (3, "HELSKAR JUNCTION FARM CSA", None, "lca", 3, "WA"),
    ]
    idx = index_of(rows)
    abroad = posting_hints(None, abroad=True)
    assert names(idx.match("Typeflux", abroad)) == ["TYPEFLUX US LLC"]
    assert names(idx.match("Zomatix", abroad)) == ["ZOMATIX USA LLC"]
    # A filer going on to say something else is still a stranger's.
    assert idx.match("Helskar", abroad).matches == []
