"""prettynn.calling: a student's function called in this process, its printing, exits and torch use caught."""

from __future__ import annotations

import sys
import warnings

import numpy as np

from prettynn.calling import call_student, invisible_to_torch_watch
from prettynn.model import get

from .verdicts import first_problem, visible


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


def test_sys_exit_fails_the_case_only():
    verdict = visible("relu", lambda x: sys.exit(3))
    assert verdict.passed == 0 and "SystemExit" in verdict.failures[0].problem


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


def test_an_outcome_holds_the_result_the_inputs_after_the_call_and_the_torch_calls():
    import torch

    case = get("relu").visible_cases()[0]

    def clipping_in_place(x):
        np.maximum(x, 0, out=x)
        return torch.relu(torch.from_numpy(x.copy())).numpy()

    outcome = call_student(clipping_in_place, case)
    assert not outcome.raised and outcome.torch_calls
    assert np.array_equal(outcome.args_after[0], np.maximum(case.args[0], 0))
    assert not np.array_equal(case.args[0], outcome.args_after[0]), "the case's own inputs must stay untouched"


def test_a_reference_wrapped_invisible_to_the_watch_is_not_recorded():
    import torch

    reference = invisible_to_torch_watch(lambda x: torch.relu(torch.from_numpy(x)).numpy())
    outcome = call_student(reference, get("relu").visible_cases()[0])
    assert outcome.torch_calls == () and isinstance(outcome.result, np.ndarray)


def test_an_exception_is_recorded_with_the_students_line():
    def broken(x):
        return x.reshape(3, -1)  # five numbers do not make three rows

    outcome = call_student(broken, get("relu").visible_cases()[0])
    assert outcome.raised and outcome.error_type == "ValueError" and "reshape(3, -1)" in outcome.where


def test_a_reference_wrapped_invisible_to_the_watch_runs_under_cprofile():
    """cProfile's profiler is not a Python function: the wrapper leaves it running instead of breaking it."""
    import cProfile

    import torch

    reference = invisible_to_torch_watch(lambda x: torch.relu(torch.from_numpy(x)).numpy())
    profiler = cProfile.Profile()
    x = np.array([-1.0, 2.0])
    result = profiler.runcall(lambda: [reference(x) for _ in range(2)])
    assert all(np.array_equal(r, [0.0, 2.0]) for r in result)
