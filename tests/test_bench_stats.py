"""The benchmarks' own arithmetic: a wrong interval would tell planners a target is in reach when it is not."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from join_accuracy import wilson


def test_wilson_interval_matches_published_values_and_stays_inside_zero_and_one() -> None:
    # Textbook values of the 95% score interval: 0 of 10 -> (0, 0.2775); 10 of 10 -> (0.7225, 1); 50 of 100 ->
    # (0.4038, 0.5962).
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    lo, hi = wilson(171, 179)
    assert lo < 171 / 179 < hi and hi < 0.99  # a precision of 0.955 on 179 joins does not reach 0.99
    assert wilson(0, 0) == (0.0, 1.0)
