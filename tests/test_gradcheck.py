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


def test_gradient_check_gives_a_verdict_per_gradient(capsys):
    import pytest

    from prettynn.checks import CheckFailure
    from prettynn.gradcheck import gradient_check

    x = np.random.default_rng(1).standard_normal((3, 4))
    numerical = lambda: {"grad_x": numerical_gradient(lambda v: np.sum(v ** 3), x)}  # noqa: E731
    gradient_check("cube", lambda: {"grad_x": 3 * x ** 2}, numerical, threshold=1e-6)
    assert "✔" in capsys.readouterr().out
    with pytest.raises(CheckFailure, match="grad_x: relative error"):
        gradient_check("cube", lambda: {"grad_x": 2 * x ** 2}, numerical, threshold=1e-6)
    assert "✘" in capsys.readouterr().out


def test_gradient_check_of_a_stub_says_not_attempted(capsys):
    from prettynn.gradcheck import gradient_check

    def stub():
        raise NotImplementedError()

    gradient_check("cube", lambda: {"grad_x": stub()}, lambda: {"grad_x": np.zeros(2)})
    assert "not attempted yet" in capsys.readouterr().out
