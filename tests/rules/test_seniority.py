"""Seniority from titles: levels, ranges, and the words that look like levels but are not."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipelines.rules.seniority import LEVELS, read_seniority, seniority

DATA = Path(__file__).parents[1] / "data"


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("Machine Learning Intern (Summer 2026)", "intern"),
        ("New Grad Software Engineer", "junior"),
        ("Machine Learning Engineer I", "junior"),
        ("Associate Data Scientist", "junior"),
        ("Applied Scientist II", "mid"),
        ("Data Scientist III, Marketplace", "mid"),
        ("Data Scientist IV", "senior"),
        ("Sr. Machine Learning Engineer", "senior"),
        ("Lead Data Scientist", "senior"),
        ("Staff Machine Learning Engineer", "staff"),
        ("Sr Staff Machine Learning Engineer", "senior_staff"),
        ("Senior Principal Scientist", "principal"),
        ("Distinguished Engineer, Machine Learning", "distinguished"),
        ("Senior Engineering Manager, Perception", "manager"),
        ("Head of Machine Learning", "director"),
        ("Senior Director, AI Research", "director"),
        ("VP of Machine Learning", "executive"),
        ("Chief AI Officer", "executive"),
        ("Machine Learning Engineer", None),
        ("Research Scientist - World Models - Global Frontier Tech Recruitment Program - 2027 Start - PhD", "junior"),
        ("Machine Learning Engineer Intern - Search Ads - 2026 Fall - BS/MS", "intern"),
        ("SEB Tech Trainee Programme 2026-27: QA Specialist", "junior"),
        ("Data Engineer, Analytics (University Grad)", "junior"),
        ("Early in Career Data Analyst", "junior"),
        ("Early Careers Rotational Program - Software Engineer", "junior"),
        ("Quant Researcher - 2027 Grads", "junior"),
        ("Machine Learning Research Associate Program - PhD", "junior"),
        ("Associate, Quantitative Developer", "junior"),
        ("AI Policy Fellow", "junior"),
        ("Model Risk Officer I", "junior"),
        ("Research Scientist ll, Perception", "mid"),
        ("Assoc. Dir, Data Science", "director"),
    ],
)
def test_levels(title: str, level: str | None) -> None:
    assert seniority(title) == level
    assert level is None or level in LEVELS


@pytest.mark.parametrize(
    "title",
    [
        "Member of Technical Staff",
        "Chief of Staff, AI Research",
        "Account Executive, AI",
        "Executive Assistant to the VP of AI",
        "Product Manager, Machine Learning",
        "International Tax Analyst",
        "Customer Operations Associate",
        "Implementation Manager",
        "Subject Matter Expert - AI for Finance - Mid 2026",
        "Applied AI & Analytics Associate Opportunities",
        "Data Scientist - Core Data - PhD - 2026",
        "Market Risk Analytics Associate, Stress Testing",
    ],
)
def test_words_that_are_not_levels(title: str) -> None:
    assert seniority(title) is None


def test_member_of_technical_staff_keeps_its_own_level_word() -> None:
    assert seniority("Senior Member of Technical Staff") == "senior"
    assert seniority("Principal Member of Technical Staff, ML") == "principal"


@pytest.mark.parametrize(
    ("title", "level", "levels"),
    [
        ("Senior / Staff Machine Learning Engineer", "senior", ("senior", "staff")),
        ("Sr/Staff Perception ML Engineer", "senior", ("senior", "staff")),
        ("Staff/Senior Staff Software Engineer, ML Infrastructure", "staff", ("staff", "senior_staff")),
    ],
)
def test_ranges_keep_the_lower_bound_and_say_so(title: str, level: str, levels: tuple[str, ...]) -> None:
    assert read_seniority(title) == (level, True, levels)


def test_a_lead_next_to_a_level_is_not_a_range() -> None:
    assert read_seniority("Staff Machine Learning Engineer (Tech Lead)") == ("staff", False, ("staff",))


def test_seniority_meets_target_on_labelled_titles() -> None:
    with (DATA / "eval_titles.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    right = sum(seniority(row["title"]) == (row["seniority"] or None) for row in rows)
    assert right / len(rows) >= 0.90
