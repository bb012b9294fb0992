"""read_posting: which fields it always derives, and which it only fills when the platform left them empty."""

from __future__ import annotations

from pipelines.rules.read import DERIVED_FIELDS, read_posting

AD = (
    "About the role\nYou will train ranking models.\n"
    "Requirements\n- MS or PhD in Computer Science\n- 3+ years of experience with PyTorch\n"
    "The base salary range is $180,000 - $240,000.\nWe are unable to sponsor visas now or in the future."
)


def test_full_reading() -> None:
    out = read_posting({"title": "Senior ML Engineer, Ranking", "description_text": AD, "locations": ["Remote (US)"]})
    assert out == {
        "is_ml": True,
        "role_family": "recsys",
        "seniority": "senior",
        "sponsorship_statement": "refused",
        "sponsorship_sentence": "We are unable to sponsor visas now or in the future.",
        "degree_min": "master",
        "eb_category_hint": "EB-2",
        "years_experience_min": 3,
        "salary_min": 180000,
        "salary_max": 240000,
        "salary_currency": "USD",
        "salary_period": "year",
        "country": "US",
        "remote": "remote",
    }


def test_structured_values_are_not_overwritten() -> None:
    out = read_posting(
        {
            "title": "Data Scientist",
            "description_text": AD,
            "salary_min": 100000,
            "salary_max": None,
            "locations": ["Seattle, WA"],
            "city": "Seattle",
            "region": "WA",
            "country": "US",
            "remote": "onsite",
        }
    )
    assert not {"salary_min", "salary_max", "salary_currency", "salary_period"} & out.keys()
    assert not {"city", "region", "country", "remote"} & out.keys()


def test_gaps_are_filled_only_from_a_place_that_agrees() -> None:
    assert read_posting({"title": "x", "locations": ["Toronto, ON"], "country": "CA"})["city"] == "Toronto"
    assert "city" not in read_posting({"title": "x", "locations": ["Toronto, ON"], "country": "US"})


def test_without_a_description_only_the_title_is_read() -> None:
    out = read_posting({"title": "Staff Research Scientist", "locations": "Berlin"})
    assert out["is_ml"] is True
    assert out["seniority"] == "staff"
    assert {key: out[key] for key in DERIVED_FIELDS[3:]} == dict.fromkeys(DERIVED_FIELDS[3:])
    assert (out["city"], out["country"]) == ("Berlin", "DE")


def test_a_title_that_rules_out_visa_holders_is_read_as_a_refusal() -> None:
    body = "You will build perception models. We offer great benefits."
    out = read_posting({"title": "Machine Learning Engineer (TS/SCI Required)", "description_text": body})
    assert (out["sponsorship_statement"], out["sponsorship_sentence"]) == (
        "refused",
        "Machine Learning Engineer (TS/SCI Required)",
    )
    # ... with no body to read as well; a title saying nothing leaves the body's reading alone.
    bare = read_posting({"title": "ML Engineer, Public Sector (US Citizenship Required)"})
    assert bare["sponsorship_statement"] == "refused"
    offered = read_posting({"title": "Machine Learning Engineer", "description_text": "We sponsor H-1B visas."})
    assert offered["sponsorship_statement"] == "offered"
    # The body's own refusal is kept with its sentence.
    both = read_posting(
        {"title": "ML Engineer (TS/SCI Required)", "description_text": "We are unable to sponsor visas."}
    )
    assert both["sponsorship_sentence"] == "We are unable to sponsor visas."
