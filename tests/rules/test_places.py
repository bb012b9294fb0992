"""Primary place and remote status from the location strings platforms show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.rules.places import Place, is_us, parse_place

DATA = Path(__file__).parents[1] / "data"


@pytest.mark.parametrize(
    ("locations", "expected"),
    [
        (["San Francisco, CA | New York City, NY"], Place("San Francisco", "CA", "US", None)),
        (["US-CA-Menlo Park"], Place("Menlo Park", "CA", "US", None)),
        (["USA.VA.Reston"], Place("Reston", "VA", "US", None)),
        (["Remote (US)"], Place(None, None, "US", "remote")),
        (["Remote - Canada"], Place(None, None, "CA", "remote")),
        (["3 Locations", "Seattle, WA"], Place("Seattle", "WA", "US", None)),
        (["Bengaluru, Karnataka, India"], Place("Bengaluru", "Karnataka", "IN", None)),
        (["New York, New York, United States"], Place("New York", "NY", "US", None)),
        (["Hybrid - Austin, TX"], Place("Austin", "TX", "US", "hybrid")),
        (["Toronto, ON"], Place("Toronto", "ON", "CA", None)),
        (["Berlin"], Place("Berlin", None, "DE", None)),
        (["USA"], Place(None, None, "US", None)),
        (["GB"], Place(None, None, "GB", None)),
        (["Munich, DE"], Place("Munich", None, "DE", None)),
        (["Dover, DE"], Place("Dover", "DE", "US", None)),
        (["Atlanta, Georgia"], Place("Atlanta", "GA", "US", None)),
        (["Tbilisi, Georgia"], Place("Tbilisi", None, "GE", None)),
        (["Remote - EMEA"], Place(None, None, None, "remote")),
        ([], Place(None, None, None, None)),
        # Boards that write places with spaces only, or add a site name.
        (["US PA Philadelphia"], Place("Philadelphia", "PA", "US", None)),
        (["US OR Beaverton"], Place("Beaverton", "OR", "US", None)),
        (["Pune Maharashtra India"], Place("Pune", "Maharashtra", "IN", None)),
        (["Smithfield VA Corporate Building"], Place("Smithfield", "VA", "US", None)),
        (["Englewood, CO CO RMN"], Place("Englewood", "CO", "US", None)),
        (["Tiedeman Road, Brooklyn, OH"], Place("Brooklyn", "OH", "US", None)),
        (["STORE SUPPORT CENTER, ATLANTA"], Place("Atlanta", "GA", "US", None)),
        (["Hyderabad, in"], Place("Hyderabad", "Telangana", "IN", None)),
        (["Campinas, SP, br"], Place("Campinas", "SP", "BR", None)),
        (["NTU Main Campus, Singapore"], Place("Singapore", None, "SG", None)),
        (["Berlin Germany"], Place("Berlin", None, "DE", None)),
        (["St. Louis, MO"], Place("St. Louis", "MO", "US", None)),
        # A two-letter code that is both a US state and a country is the state, unless the city says otherwise.
        (["San Francisco CA"], Place("San Francisco", "CA", "US", None)),
        (["Atlanta GA"], Place("Atlanta", "GA", "US", None)),
        (["Munich DE"], Place("Munich", None, "DE", None)),
        (["Paris FR"], Place("Paris", None, "FR", None)),
    ],
)
def test_shapes(locations: list[str], expected: Place) -> None:
    assert parse_place(locations) == expected


def test_platform_remote_value_wins() -> None:
    assert parse_place(["Remote (US)"], remote_hint="hybrid").remote == "hybrid"
    assert parse_place(["Seattle, WA"], remote_hint="remote") == Place("Seattle", "WA", "US", "remote")


def test_any_remote_location_makes_the_job_remote() -> None:
    assert parse_place(["Boston, MA or Remote"]) == Place("Boston", "MA", "US", "remote")


def test_is_us() -> None:
    assert is_us("US")
    assert is_us("PR") and is_us("GU")  # territories: H-1B and PERM apply there
    assert not is_us("CA")
    assert not is_us(None)


def test_labelled_places_of_the_development_set() -> None:
    cases = [json.loads(line) for line in (DATA / "eval_places.jsonl").read_text(encoding="utf-8").splitlines()]
    right = sum(
        parse_place(c["locations"], c["remote_hint"]) == (c["city"], c["region"], c["country"], c["remote"])
        for c in cases
    )
    assert right / len(cases) >= 0.90
    assert len(cases) >= 30
