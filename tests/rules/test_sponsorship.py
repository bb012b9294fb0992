"""Sponsorship statements: offers, refusals, look-alikes, conflicts, and the exact sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.rules.sponsorship import read_sponsorship

DATA = Path(__file__).parents[1] / "data"


@pytest.mark.parametrize(
    "sentence",
    [
        "We sponsor visas.",
        "H-1B transfers welcome.",
        "Visa sponsorship is available for this position.",
        "We can sponsor work visas (H-1B, O-1, TN) for this role.",
        "Visa sponsorship: Yes",
        "We provide immigration and relocation support for employees moving to the US.",
        "We can support your green card application once you join.",
    ],
)
def test_offers(sentence: str) -> None:
    assert read_sponsorship(f"About us: we train models.\n{sentence}\nBenefits: lots.") == ("offered", sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "We are unable to sponsor now or in the future.",
        "Applicants must be currently authorized to work in the US on a full-time basis; we will not sponsor.",
        "Candidates must be authorized to work in the U.S. without sponsorship.",
        "No visa sponsorship is available for this role.",
        "This position requires U.S. citizenship due to government contract requirements.",
        "Active TS/SCI clearance with polygraph is required.",
        "Due to ITAR requirements, candidates must be U.S. Persons.",
        "Applicants must not require sponsorship for employment visa status now or in the future.",
        "Only candidates with permanent work authorization in the U.S. will be considered.",
        "Must be a U.S. citizen or green card holder.",
        "TS/SCI required.",
        "Open to cleared (TS/SCI) engineers only.",
    ],
)
def test_refusals(sentence: str) -> None:
    assert read_sponsorship(f"You will build ranking models. {sentence} We offer great benefits.") == (
        "refused",
        sentence,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Our research is funded by sponsored research agreements.",
        "We offer medical, dental and vision insurance, plus a company-sponsored 401(k).",
        "Help merchants accept payments with Visa and Mastercard.",
        "Each project has an executive sponsor.",
        "We participate in E-Verify to confirm that you are authorized to work in the U.S.",
        "Must be legally authorized to work in the United States.",
        "Security clearance is a plus but not required.",
        "Experience with TS/SCI networks is a plus.",
        "We support cleared veterans moving into tech.",
        "Do you require visa sponsorship?",
        "Please tell us in your application whether you will need visa sponsorship.",
        "We welcome green card holders.",
        "",
    ],
)
def test_look_alikes_say_nothing(text: str) -> None:
    assert read_sponsorship(text) == ("not_mentioned", None)


def test_a_titles_clearance_shorthand_is_a_refusal() -> None:
    for title in ("Machine Learning Engineer (TS/SCI Required)", "Machine Learning Engineer - Cleared (TS/SCI)"):
        assert read_sponsorship(title) == ("refused", title)


def test_later_clause_wins_within_a_sentence() -> None:
    assert read_sponsorship("We sponsor H-1B visas, but not for this role.").statement == "refused"
    assert read_sponsorship("We cannot sponsor new H-1B petitions, but H-1B transfers are welcome.").statement == (
        "offered"
    )


def test_refusal_outranks_an_offer_elsewhere() -> None:
    text = "We offer visa sponsorship for most positions. This position, however, is not eligible for sponsorship."
    assert read_sponsorship(text) == ("refused", "This position, however, is not eligible for sponsorship.")


def test_a_hedge_is_not_a_refusal() -> None:
    text = "We sponsor visas! However, we aren't able to sponsor visas for every role and every candidate."
    assert read_sponsorship(text) == ("offered", "We sponsor visas!")


def test_statement_accuracy_meets_target_on_the_development_set() -> None:
    cases = [json.loads(line) for line in (DATA / "eval_sponsorship.jsonl").read_text(encoding="utf-8").splitlines()]
    right = sum(read_sponsorship(c["text"]).statement == c["statement"] for c in cases)
    assert right / len(cases) >= 0.95


def test_development_set_has_enough_sentences_of_each_kind() -> None:
    cases = [json.loads(line) for line in (DATA / "eval_sponsorship.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(cases) >= 60
    assert {c["statement"] for c in cases} == {"offered", "refused", "not_mentioned"}
