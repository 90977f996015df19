"""prettynn.compare: tolerances, locating differences, relative error."""

import numpy as np
import pytest

from prettynn.compare import allclose, as_float64, largest_difference, preview, relative_error


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


def test_largest_difference_reports_position_and_values():
    diff = largest_difference(np.array([[1.0, 2.0], [3.0, 9.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert diff.index == (1, 1)
    assert diff.max_abs_error == 5.0
    assert (diff.expected_value, diff.got_value) == (4.0, 9.0)


def test_largest_difference_treats_nan_as_infinite_error():
    assert largest_difference(np.array([np.nan, 0.0]), np.array([1.0, 0.0])).max_abs_error == np.inf


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
