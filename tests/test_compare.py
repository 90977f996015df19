"""prettynn.compare: tolerances, locating differences, relative error."""

import numpy as np
import pytest

from prettynn.compare import (allclose, allowed_error, as_float64, float32_sum_bound, preview, relative_error, within,
                              worst_violation)


def test_allclose_uses_tolerances_and_shapes():
    assert allclose(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
    assert not allclose(np.array([1.0, 2.0]), np.array([1.0, 2.1]))
    assert not allclose(np.zeros((2, 3)), np.zeros((3, 2)))
    assert allclose(np.float32(1.00001), 1.0, rtol=1e-4)


def test_nonfinite_values_match_only_with_equal_nan():
    got, expected = np.array([np.nan, 1.0]), np.array([np.inf, 1.0])
    assert not allclose(got, expected)
    assert allclose(got, expected, equal_nan=True)
    assert not allclose(np.array([np.nan]), np.array([1.0]), equal_nan=True)


def test_the_worst_violation_is_the_element_furthest_outside_its_tolerance_not_the_largest_error():
    expected = np.array([1000.0, 0.0])
    got = np.array([1000.0005, 1e-6])  # the largest error (5e-4) is within 1e-6 * 1000; 1e-6 at 0 is not
    allowed = allowed_error(expected)
    assert not within(got, expected, allowed)
    worst = worst_violation(got, expected, allowed)
    assert worst.index == (1,) and (worst.expected_value, worst.got_value) == (0.0, 1e-6)
    assert worst.allowed == pytest.approx(1e-8)


def test_worst_violation_treats_nan_as_infinite_error():
    expected = np.array([1.0, 0.0])
    assert worst_violation(np.array([np.nan, 0.0]), expected, allowed_error(expected)).max_abs_error == np.inf


def test_a_float32_sum_of_cancelling_products_is_within_its_bound():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200) * 1e3, rng.normal(size=200)
    b[-1] = -(a[:-1] @ b[:-1]) / a[-1]  # the exact sum is 0: a near-zero output of large terms
    exact = np.float64(a @ b)
    float32 = np.float64(a.astype(np.float32) @ b.astype(np.float32))
    assert not within(float32, exact, allowed_error(exact))  # a purely relative tolerance fails it
    magnitude = np.abs(a) @ np.abs(b)
    assert within(float32, exact, allowed_error(exact, magnitude=magnitude, terms=a.size + 2))
    assert not within(exact + 1e-3 * magnitude, exact, allowed_error(exact, magnitude=magnitude, terms=a.size + 2))
    assert float32_sum_bound(10) == pytest.approx(10 * 2.0 ** -24, rel=1e-6)


def test_preview_shows_first_values():
    assert preview(np.arange(6.0)) == "[0, 1, 2, 3, ...]"
    assert preview(np.float64(2.5)) == "2.5"


def test_as_float64_rejects_non_numbers():
    with pytest.raises(TypeError):
        as_float64(np.array(["a"]))
    with pytest.raises(TypeError):
        as_float64([None, 1])


def test_relative_error():
    assert relative_error(np.ones(3), np.ones(3)) == 0.0
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        relative_error(np.ones(2), np.ones(3))
