"""prettynn.gradcheck: central differences agree with known gradients."""

import numpy as np

from prettynn.compare import relative_error
from prettynn.gradcheck import numerical_gradient, numerical_gradient_of_output


def test_gradient_of_a_quadratic():
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert relative_error(numerical_gradient(lambda v: np.sum(v**2), x), 2 * x) < 1e-8


def test_input_is_left_unchanged():
    x = np.arange(4.0)
    numerical_gradient(lambda v: np.sum(np.sin(v)), x)
    assert np.array_equal(x, np.arange(4.0))


def test_gradient_of_a_layer_output():
    rng = np.random.default_rng(1)
    x, weight, grad_output = rng.standard_normal((5, 3)), rng.standard_normal((2, 3)), rng.standard_normal((5, 2))
    numeric = numerical_gradient_of_output(lambda v: v @ weight.T, x, grad_output)
    assert relative_error(numeric, grad_output @ weight) < 1e-8
