"""Degree requirement, EB-2/EB-3 hint and years of experience."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.rules.degree import read_degree

DATA = Path(__file__).parents[1] / "data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BS, MS, or PhD in Computer Science.", ("bachelor", "EB-3", None)),
        ("MS or PhD required.", ("master", "EB-2", None)),
        ("Master's, or Bachelor's plus 5 years of progressive experience.", ("bachelor", "EB-2", 5)),
        ("Bachelor's degree in CS and 3+ years of experience.", ("bachelor", "EB-3", 3)),
        ("PhD in Machine Learning or a related field.", ("phd", "EB-2", None)),
        ("Advanced degree (MS or PhD) in statistics.", ("master", "EB-2", None)),
        ("B.S. with 8+ years of experience, or M.S. with 6+ years of experience.", ("bachelor", "EB-2", 6)),
    ],
)
def test_lowest_degree_and_hint(text: str, expected: tuple[str | None, str | None, float | None]) -> None:
    assert tuple(read_degree(text)) == expected


def test_equivalent_experience_means_the_degree_is_not_required_for_eb2() -> None:
    assert tuple(read_degree("PhD in Computer Science, or equivalent practical experience.")) == ("phd", "EB-3", None)
    # A foreign-equivalent degree is still the degree.
    assert read_degree("Master's degree (or foreign equivalent) in CS required.").eb_category_hint == "EB-2"


def test_preferred_degrees_are_not_requirements() -> None:
    assert tuple(read_degree("PhD preferred. 4+ years of experience building ML systems.")) == (None, None, 4)
    assert tuple(read_degree("A Master's or PhD in a quantitative field is a plus.")) == (None, None, None)


def test_sections_decide_required_or_preferred() -> None:
    text = (
        "Minimum qualifications:\nBachelor's degree or equivalent practical experience.\n"
        "2 years of experience with machine learning.\nPreferred qualifications:\nPhD in Computer Science.\n"
        "5 years of experience with ML infrastructure."
    )
    assert tuple(read_degree(text)) == ("bachelor", "EB-3", 2)


@pytest.mark.parametrize(
    "heading",
    [
        "What we're looking for",
        "What We\u2019re Looking For",
        "You have",
        "Who you are",
        "About you:",
        "What it takes",
        "The ideal candidate has",
        "We'd love to hear from you if you have:",
        "Your background",
        "Requirements",
    ],
)
def test_any_heading_that_is_not_preferred_keeps_requirements_in_force(heading: str) -> None:
    # The heading before it was a responsibilities one; the new heading still starts a requirements section.
    text = f"What you'll do\n- Build ranking models.\n\n{heading}\n- MS in Computer Science\n- 3+ years of experience"
    assert tuple(read_degree(text)) == ("master", "EB-2", 3)


@pytest.mark.parametrize("heading", ["Nice to have", "Bonus points", "Ideally, you have", "Preferred qualifications"])
def test_preferred_headings_still_make_degrees_optional(heading: str) -> None:
    text = f"Requirements\n- 3+ years of experience\n\n{heading}\n- MS in Computer Science"
    assert tuple(read_degree(text)) == (None, None, 3)


def test_a_long_degree_line_under_a_preferred_heading_is_not_read_as_a_new_heading() -> None:
    text = "Requirements\n- 3+ years of experience\n\nPreferred\n- MS or PhD in Computer Science or related experience"
    assert tuple(read_degree(text)) == (None, None, 3)


def test_degrees_under_benefits_or_about_us_are_not_requirements() -> None:
    assert read_degree("What we offer\n- Tuition support for a Master's degree").degree_min is None
    assert read_degree("Perks\n- A paid PhD fellowship for employees").degree_min is None


def test_years_stated_apart_from_the_degree_apply_to_it() -> None:
    text = "Basic Qualifications\n- 5+ years of professional software development experience\n- Bachelor's degree"
    assert tuple(read_degree(text)) == ("bachelor", "EB-2", 5)


@pytest.mark.parametrize(
    "text",
    [
        "Currently pursuing a PhD in Computer Science.",
        "Degree in a quantitative field preferred but not required.",
        "Our team includes PhDs from Stanford and MIT.",
        "We have been building AI for 10 years.",
        "Proficient in MS Office.",
        "",
    ],
)
def test_no_requirement(text: str) -> None:
    assert tuple(read_degree(text)) == (None, None, None)


def test_degree_accuracy_meets_target_on_the_development_set() -> None:
    # The holdout is measured by bench/classify_eval.py only: no test reads it.
    cases = [json.loads(line) for line in (DATA / "eval_degree.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(cases) >= 60
    right = sum(read_degree(c["text"]).degree_min == c["degree_min"] for c in cases)
    assert right / len(cases) >= 0.90
