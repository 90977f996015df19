"""prettynn.tolerances: Hoeffding margins for statistical checks of random outputs."""

from __future__ import annotations

import numpy as np
import pytest

from prettynn import tolerances


def test_hoeffding_margin_gives_the_promised_false_failure_rate():
    # 2 exp(-2 n t^2) at the margin is the chosen probability (value range 1)
    n = 10_000
    t = tolerances.hoeffding_margin(n)
    assert 2 * np.exp(-2 * n * t**2) == pytest.approx(tolerances.FALSE_FAILURE)
    assert tolerances.hoeffding_margin(n, value_range=2.0) == pytest.approx(2 * t)


def test_a_correct_solution_fails_the_statistical_check_rarely():
    # 2,000 correct draws of 10,000 fair coins: the margin (about 0.043) is never exceeded
    rng = np.random.default_rng(5)
    means = (rng.random((2000, 10_000)) < 0.5).mean(axis=1)
    assert all(tolerances.mean_within(m, 0.5, 10_000) for m in means)
    assert not tolerances.mean_within(0.45, 0.5, 10_000)
