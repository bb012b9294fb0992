"""The holdout under bench/ measures the rules; a test that read it would make it a development set."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).parents[1]


def test_no_test_reads_the_holdout() -> None:
    marker = "/".join(("data", "holdout"))  # built here so this file does not match itself
    readers = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path != Path(__file__) and marker in path.read_text(encoding="utf-8")
    ]
    assert readers == []


def test_holdout_files_are_not_in_the_tests_tree() -> None:
    assert not list((TESTS / "data").glob("holdout*"))
