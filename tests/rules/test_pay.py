"""Pay from text and pay-period normalisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.rules.pay import Salary, normalize_period, salary_from_text

DATA = Path(__file__).parents[1] / "data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The base salary range is $201,000 - $285,000.", Salary(201000, 285000, "USD", "year")),
        ("Compensation: $201K\u2013$285K + equity.", Salary(201000, 285000, "USD", "year")),
        ("Pay rate: USD 55/hour.", Salary(55, 55, "USD", "hour")),
        ("Salary: €80k\u201395k.", Salary(80000, 95000, "EUR", "year")),
        ("We offer £60,000 per annum plus bonus.", Salary(60000, 60000, "GBP", "year")),
        ("Range: CA$150,000 - CA$190,000.", Salary(150000, 190000, "CAD", "year")),
        ("Monthly salary: ₹2,50,000 - ₹3,50,000 per month.", Salary(250000, 350000, "INR", "month")),
    ],
)
def test_salary_from_text(text: str, expected: Salary) -> None:
    assert salary_from_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We raised $100M and are backed by $2B in funding.",
        "Enjoy a $1,500 learning stipend and a $500 home-office budget.",
        "No pay details here.",
        "",
    ],
)
def test_money_that_is_not_pay(text: str) -> None:
    assert salary_from_text(text) is None


def test_perk_next_to_pay_does_not_hide_the_salary() -> None:
    assert salary_from_text("Sign-on bonus of $10,000 and base salary of $150,000.") == Salary(
        150000, 150000, "USD", "year"
    )


@pytest.mark.parametrize(
    ("raw", "period"),
    [
        ("per-year-salary", "year"),
        ("YEAR", "year"),
        ("annual", "year"),
        ("HOURLY", "hour"),
        ("per-hour-wage", "hour"),
        ("per-month-salary", "month"),
        ("WEEKLY", "week"),
        ("DAILY", "day"),
        ("ONE_TIME", None),
        (None, None),
    ],
)
def test_normalize_period(raw: str | None, period: str | None) -> None:
    assert normalize_period(raw) == period


def test_labelled_pay() -> None:
    cases = [json.loads(line) for line in (DATA / "eval_pay.jsonl").read_text(encoding="utf-8").splitlines()]
    right = sum(
        (tuple(got) if (got := salary_from_text(c["text"])) else (None,) * 4)
        == (c["min"], c["max"], c["currency"], c["period"])
        for c in cases
    )
    assert right / len(cases) >= 0.90
