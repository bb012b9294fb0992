"""Employment type from the platform's words: whole words only."""

from __future__ import annotations

import pytest

from pipelines.normalize import employment_type


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Full-time, International", "full_time"),
        ("International Assignment - Full Time", "full_time"),
        ("Internship", "intern"),
        ("Summer Interns", "intern"),
        ("FULL_TIME", "full_time"),
        ("Temp-to-hire", "temporary"),
        ("Contemporary Full-time", "full_time"),
        ("Contractor", "contract"),
        ("Co-op", "intern"),
        ("Regular", "full_time"),
        (["Full-time", "Remote"], "full_time"),
        ("Internal transfer", None),
    ],
)
def test_employment_words_match_as_words(raw: object, expected: str | None) -> None:
    assert employment_type(raw) == expected
