"""Sentence splitting keeps sentences exact and does not break at abbreviations."""

from __future__ import annotations

from pipelines.rules.text import lines_with, sentences


def test_sentences_respect_abbreviations_lines_and_bullets() -> None:
    text = "Must be a U.S. citizen. We sponsor visas!\n- Ph.D. in ML preferred. J. Smith leads\u2022 BS required"
    assert sentences(text) == [
        "Must be a U.S. citizen.",
        "We sponsor visas!",
        "Ph.D. in ML preferred.",
        "J. Smith leads",
        "BS required",
    ]


def test_lines_with_finds_each_line_once_in_order() -> None:
    text = "alpha visa\nbeta\nvisa sponsor visa\ngamma"
    assert lines_with(text, ("visa", "sponsor")) == [(0, "alpha visa"), (16, "visa sponsor visa")]
