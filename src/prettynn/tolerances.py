"""Tolerances for checking random outputs, chosen so that a correct solution rarely fails.

A statistical check compares an observed mean with its expectation. With ``n`` independent
values in an interval of width ``value_range``, Hoeffding's inequality bounds the chance
that their mean strays from the expectation by ``t`` or more:

    P(|mean - expectation| >= t) <= 2 exp(-2 n t^2 / value_range^2).

Solving ``2 exp(-2 n t^2 / value_range^2) = FALSE_FAILURE`` for ``t`` gives the margin a
check allows. The bound holds for every distribution on that interval, so no
approximation is involved. With ``FALSE_FAILURE = 1e-8`` per check, even a hundred
statistical checks in one verdict leave a correct solution a chance below 1e-6 of
failing any of them (the union bound).
"""

from __future__ import annotations

import math

FALSE_FAILURE = 1e-8


def hoeffding_margin(n: int, value_range: float = 1.0, failure: float = FALSE_FAILURE) -> float:
    """The largest deviation of a mean of ``n`` bounded values that a correct solution exceeds
    with probability below ``failure``: ``value_range * sqrt(log(2 / failure) / (2 n))``."""
    if n < 1:
        raise ValueError(f"need at least one value, not {n}")
    return value_range * math.sqrt(math.log(2.0 / failure) / (2.0 * n))


def mean_within(mean: float, expectation: float, n: int, value_range: float = 1.0) -> bool:
    """True when ``mean`` of ``n`` values in a range of width ``value_range`` is within the
    Hoeffding margin of ``expectation``."""
    return abs(mean - expectation) <= hoeffding_margin(n, value_range)
