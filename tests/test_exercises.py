"""Every declared exercise: references, cases, and known mistakes, checked as properties.

- the instructor's solution and a differently written correct one get full marks;
- every known mistake fails its visible check, names itself in a hint, and loses points;
- hidden cases are seeded (same seed, same cases) and cover the contract's edge cases.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from prettynn.model import all_exercises, get
from prettynn.calling import invisible_to_torch_watch
from prettynn.feedback import case_report
from prettynn.judging import evaluate, hidden_verdict

EXERCISES = [exercise.name for exercise in all_exercises()]


@pytest.mark.parametrize("name", EXERCISES)
def test_reference_solution_gets_full_marks(name, reference_solutions):
    verdict = hidden_verdict(name, reference_solutions[name], seed=7)
    assert verdict.all_passed, [case_report(r) for r in verdict.failures[:2]]
    assert verdict.points() == get(name).points


@pytest.mark.parametrize("name", EXERCISES)
def test_differently_written_solution_gets_full_marks(name, alternative_solutions):
    assert name in alternative_solutions, f"no sample with expect = 'full' in autograde/samples/ replaces {name}"
    verdict = hidden_verdict(name, alternative_solutions[name], seed=7)
    assert verdict.all_passed, [case_report(r) for r in verdict.failures[:2]]


FLOAT_EXERCISES = [exercise.name for exercise in all_exercises() if exercise.kind != "integer" and exercise.outputs]


@pytest.mark.parametrize("name", FLOAT_EXERCISES)
def test_float32_output_is_accepted(name, reference_solutions):
    def in_float32(*args, **kwargs):
        result = reference_solutions[name](*args, **kwargs)
        if isinstance(result, tuple):
            return tuple(None if r is None else np.asarray(r, dtype=np.float32) for r in result)
        return np.asarray(result, dtype=np.float32)

    assert hidden_verdict(name, in_float32, seed=3).all_passed


def _overwrite(argument, values) -> None:
    """Write ``values`` into an array argument, or into each array of a list argument, in place."""
    if isinstance(argument, list):
        for index, value in enumerate(values):
            if argument[index] is None:
                argument[index] = value
            else:
                argument[index][...] = value
    else:
        argument[...] = values


def _mistaken(exercise, mistake, solution):
    """A student function that makes ``mistake`` and is otherwise ``solution`` (a mistake may be
    computed with the torch references: that is not the student calling torch)."""
    if mistake.component in exercise.updates:

        def updates_wrongly(*args, **kwargs):
            wrong = mistake.output(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            result = solution(*args, **kwargs)
            if wrong is not None:  # None: the argument was None, nothing to update
                _overwrite(exercise.named_arguments(args, kwargs)[mistake.component], wrong)
            return result

        return invisible_to_torch_watch(updates_wrongly)
    if not exercise.returns_tuple:
        return invisible_to_torch_watch(mistake.output)

    def student(*args, **kwargs):
        result = list(solution(*args, **kwargs))
        result[exercise.outputs.index(mistake.component)] = mistake.output(*args, **kwargs)
        return tuple(result)

    return invisible_to_torch_watch(student)


MISTAKES = [(e.name, m.name) for e in all_exercises() for m in e.mistakes if m.output is not None]


@pytest.mark.parametrize("name, mistake_name", MISTAKES)
def test_known_mistake_fails_with_its_hint(name, mistake_name, reference_solutions):
    exercise = get(name)
    mistake = next(m for m in exercise.mistakes if m.name == mistake_name)
    student = _mistaken(exercise, mistake, reference_solutions[name])
    visible = evaluate(exercise, student, exercise.visible_cases())
    assert not visible.all_passed, f"no visible case catches {mistake_name!r}"
    assert any(result.hint == mistake.hint for result in visible.failures), \
        f"no visible failure names {mistake_name!r}: {[case_report(r) for r in visible.failures]}"
    assert hidden_verdict(name, student).points() < exercise.points


@pytest.mark.parametrize("name", EXERCISES)
def test_hidden_cases_are_seeded_and_many(name):
    exercise = get(name)
    first = exercise.hidden_cases(np.random.default_rng(11))
    again = exercise.hidden_cases(np.random.default_rng(11))
    other = exercise.hidden_cases(np.random.default_rng(12))
    assert len(first) >= 15
    assert [c.description for c in first] == [c.description for c in again]
    assert all(np.array_equal(a, b) for c, d in zip(first, again) for a, b in zip(c.args, d.args)
               if isinstance(a, np.ndarray))
    assert any(not np.array_equal(c.args[0], d.args[0]) for c, d in zip(first, other))


def test_linear_hidden_cases_cover_the_contract():
    cases = get("linear").hidden_cases(np.random.default_rng(0))
    x_dims = {case.args[0].ndim for case in cases}
    assert {1, 2, 3} <= x_dims  # (in,), (N, in) and extra batch axes
    assert any(case.kwargs["bias"] is None for case in cases)
    assert any(case.args[0].shape[:1] == (1,) for case in cases)
    assert any(case.args[0].dtype == np.float32 for case in cases)


def test_cross_entropy_hidden_cases_include_large_logits_and_single_examples():
    cases = get("cross_entropy").hidden_cases(np.random.default_rng(0))
    assert any(np.abs(case.args[0]).max() > 1e3 for case in cases)
    assert any(len(case.args[1]) == 1 for case in cases)
    assert any(case.args[0].shape[1] == 2 for case in cases)


def test_relu_cases_contain_exact_zeros():
    for name in ("relu", "relu_backward"):
        cases = get(name).visible_cases() + get(name).hidden_cases(np.random.default_rng(0))
        assert sum(np.any(case.args[-1] == 0) for case in cases) >= len(cases) // 2
