"""prettynn.judging: what a function returns, raises and touches, judged case by case against torch."""

from __future__ import annotations

import numpy as np
import pytest

from prettynn.calling import invisible_to_torch_watch
from prettynn.feedback import case_report
from prettynn.judging import evaluate, hidden_verdict
from prettynn.model import get

from .verdicts import first_problem, visible


@pytest.mark.parametrize("returned, says", [
    (None, "is None: did you forget a `return`"),
    ([1.0, 2.0], "is a list, not a NumPy array"),
    ("text", "is a str, not a NumPy array"),
])
def test_wrong_return_types_get_one_sentence(returned, says):
    assert says in first_problem("relu", lambda x: returned)


def test_wrong_shape_is_named():
    problem = first_problem("relu", lambda x: np.maximum(x, 0).T[None])
    assert "has shape" in problem and "expected" in problem


def test_wrong_tuple_length_is_named():
    problem = first_problem("linear_backward", lambda g, x, w, bias=None: (g @ w, g.T @ x))
    assert "should return 3 values" in problem


def test_exception_is_reported_with_the_students_line():
    def broken(x):
        return x.no_such_method()

    verdict = visible("relu", broken)
    result = verdict.failures[0]
    assert "raised AttributeError" in result.problem
    assert "x.no_such_method()" in result.detail


def test_not_implemented_counts_as_not_attempted():
    def stub(x):
        raise NotImplementedError()

    result = visible("relu", stub).failures[0]
    assert result.not_attempted and "not implemented yet" in result.problem


def test_modifying_the_input_fails_with_an_explanation():
    def in_place(x):
        x[x < 0] = 0
        return x

    assert "modified its input" in first_problem("relu", in_place)


def test_not_a_function():
    verdict = evaluate(get("relu"), None, get("relu").visible_cases())
    assert "not a function" in verdict.failures[0].problem


def test_partial_credit_is_proportional_and_never_full_when_wrong():
    def wrong_on_small_values(x):
        out = np.maximum(x, 0)
        return out if np.abs(x).max() > 1e-2 else out + 1

    verdict = hidden_verdict("relu", wrong_on_small_values)
    assert 0 < verdict.passed < verdict.total
    assert 0 < verdict.points() < get("relu").points


def test_a_correct_solution_that_computes_in_float32_keeps_its_points():
    """The contract grades values, not the dtype: float32 arithmetic on float64 inputs is right."""
    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        import torch
        import torch.nn.functional as F

        out = F.conv2d(torch.tensor(x, dtype=torch.float32), torch.tensor(weight, dtype=torch.float32),
                       None if bias is None else torch.tensor(bias, dtype=torch.float32),
                       stride, padding, dilation, groups)
        return out.numpy()

    verdict = hidden_verdict("conv2d", invisible_to_torch_watch(conv2d), seed=1)
    assert verdict.all_passed, [case_report(result) for result in verdict.failures[:2]]
