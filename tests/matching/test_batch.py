"""Look-ups in several processes give what one process gives, in the same order, and survive a failed child."""

from __future__ import annotations

import os
import pickle

import pytest

from matching import batch
from matching.join import EntityIndex, posting_hints
from tests.matching.test_join import make_index

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the platform cannot fork")


@pytest.fixture(scope="module")
def index() -> EntityIndex:
    return make_index()


def queries() -> list[str]:
    """Brand forms, legal names, repeats and names no filer has, shuffled deterministically."""
    names = ["Databricks", "Google", "Acme AI", "IBM", "Johnson & Johnson", "Northwind", "Nimbus Robotics", "ASML"]
    names += [f"Nobody Such Company {i}" for i in range(40)] + ["Databricks", "Google"] * 5
    return [names[(i * 7) % len(names)] for i in range(len(names))]


def texts(results: list) -> list[str]:
    return [r.json_text() for r in results]


@pytest.mark.parametrize("jobs", [2, 3])
def test_several_processes_answer_as_one_does(index: EntityIndex, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    monkeypatch.setattr(batch, "PER_PROCESS_MIN", 5)
    qs = queries()
    assert batch.processes_for(len(set(qs)), jobs) == jobs  # the batch really is split
    assert texts(batch.match_batch(index, qs, jobs=jobs)) == texts(index.match_many(qs))


def test_hints_reach_every_process(index: EntityIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "PER_PROCESS_MIN", 5)
    qs = queries()
    hints = dict.fromkeys(qs, posting_hints(None, states=["CA"]))
    assert texts(batch.match_batch(index, qs, hints, jobs=2)) == texts(index.match_many(qs, hints))


def test_a_small_batch_stays_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert batch.processes_for(999, 2) == 1
    assert batch.processes_for(2000, 2) == 2
    assert batch.processes_for(50_000, 1) == 1


def test_a_child_that_fails_is_answered_here(index: EntityIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that cannot send its answers exits non-zero: its part is answered by this process after all."""
    monkeypatch.setattr(batch, "PER_PROCESS_MIN", 5)

    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise MemoryError("the child ran out of memory")

    monkeypatch.setattr(pickle, "dumps", broken)  # only the children pickle
    qs = queries()
    assert texts(batch.match_batch(index, qs, jobs=2)) == texts(index.match_many(qs))
