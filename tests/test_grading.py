"""prettynn.grading: the harness judges what a function returns, raises, prints and touches."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from prettynn.exercise import get
from prettynn.grading import evaluate, grade, hidden_report, hidden_verdict


def visible(name, fn):
    exercise = get(name)
    return evaluate(exercise, fn, exercise.visible_cases())


def first_problem(name, fn) -> str:
    verdict = visible(name, fn)
    assert not verdict.all_passed
    return verdict.failures[0].problem


@pytest.mark.parametrize("returned, says", [
    (None, "is None: did you forget a `return`"),
    ([1.0, 2.0], "is a list, not a NumPy array"),
    ("text", "is a str, not a NumPy array"),
])
def test_wrong_return_types_get_one_sentence(returned, says):
    assert says in first_problem("relu", lambda x: returned)


def test_torch_tensor_returned_or_used_fails_the_case():
    import torch

    assert "called torch" in first_problem("relu", lambda x: torch.relu(torch.from_numpy(x)).numpy())
    assert "called torch" in first_problem("relu", lambda x: torch.from_numpy(np.maximum(x, 0)))


def test_torch_reached_through_importlib_is_caught():
    def sneaky(x):
        import importlib

        module = importlib.import_module("to" + "rch")
        return module.clamp(module.tensor(x), min=0).numpy()

    assert "called torch" in first_problem("relu", sneaky)


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


def test_sys_exit_fails_the_case_only():
    verdict = visible("relu", lambda x: sys.exit(3))
    assert verdict.passed == 0 and "SystemExit" in verdict.failures[0].problem


def test_modifying_the_input_fails_with_an_explanation():
    def in_place(x):
        x[x < 0] = 0
        return x

    assert "modified its input" in first_problem("relu", in_place)


def test_printing_and_warnings_of_a_correct_solution_are_swallowed(capsys):
    def noisy(x):
        print("debug", x.shape)
        print("to stderr", file=sys.stderr)
        warnings.warn("a warning", RuntimeWarning)
        np.log(np.zeros(1))  # NumPy's divide-by-zero warning
        return np.maximum(x, 0)

    assert visible("relu", noisy).all_passed
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


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


def test_grade_prints_report_and_returns_points(capsys, reference_solutions):
    assert grade("relu", reference_solutions["relu"]) == get("relu").points
    assert "all" in capsys.readouterr().out


def test_hidden_report_never_shows_inputs():
    def wrong(x):
        return np.abs(x)

    report = hidden_report(hidden_verdict("relu", wrong))
    assert "call:" not in report and "array(" not in report
    assert "test cases pass" in report


def test_a_correct_solution_that_computes_in_float32_keeps_its_points():
    """The contract grades values, not the dtype: float32 arithmetic on float64 inputs is right."""
    from prettynn.grading import hidden_verdict

    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        import torch
        import torch.nn.functional as F

        out = F.conv2d(torch.tensor(x, dtype=torch.float32), torch.tensor(weight, dtype=torch.float32),
                       None if bias is None else torch.tensor(bias, dtype=torch.float32),
                       stride, padding, dilation, groups)
        return out.numpy()

    from prettynn.grading import invisible_to_torch_watch
    verdict = hidden_verdict("conv2d", invisible_to_torch_watch(conv2d), seed=1)
    assert verdict.all_passed, [result.report() for result in verdict.failures[:2]]
