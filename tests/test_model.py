"""The exercise model beyond "outputs equal torch's": what chapters 02-05 need.

- arguments updated in place, compared after the call (batch_norm's running statistics);
- expected exceptions (dropout's ValueError);
- properties of random outputs, with Hoeffding tolerances (dropout's masks);
- integer results, compared exactly (conv2d_output_size);
- functions an exercise may use, supplied by the grader and by the check.

Each is judged the same in this process and, through the sandbox, by the grader.
"""

from __future__ import annotations

import numpy as np
import pytest

from prettynn import model as model_module
from prettynn import tolerances
from prettynn.checks import FailsWhenGraded, check
from prettynn.course import references
from prettynn.model import Case, Exercise, Mistake, Property, dependencies
from prettynn.feedback import case_report
from prettynn.judging import Verdict, evaluate, judge
from prettynn.sandbox.runner import Limits, Supplied, run_solution

from .cells import kernel, run_cell
from .conftest import ROOT

QUICK = Limits(cell_seconds=5, case_seconds=2, total_seconds=20)


def sandboxed(exercise: Exercise, source: str, cases: list[Case], **options) -> Verdict:
    """The verdict of the solution cell ``source`` as the grader reaches it: sandbox, then judge."""
    run = run_solution(source, exercise.name, cases, QUICK, bubblewrap=False, **options)
    assert not run.problem, run.problem
    return Verdict.of(exercise, [judge(exercise, case, outcome) for case, outcome in zip(cases, run.outcomes)])


def both(exercise: Exercise, source: str, cases: list[Case], **options) -> list[Verdict]:
    """The verdicts of ``source`` in this process and through the sandbox."""
    namespace = {"np": np, **options.get("functions", {})}
    exec(source, namespace)
    sandbox_options = {key: value for key, value in options.items() if key != "functions"}
    return [evaluate(exercise, namespace[exercise.name], cases), sandboxed(exercise, source, cases, **sandbox_options)]


# ---------------------------------------------------------------- in-place updates


def accumulate_reference(x, total, momentum=0.5):
    """Returns the mean of ``x``; blends the column sums into ``total`` in place."""
    total *= 1 - momentum
    total += momentum * x.sum(axis=0)
    return x.mean()


MOMENTUM_REVERSED = Mistake("momentum reversed", "the new value gets weight momentum, the old one 1 - momentum.",
                            output=lambda x, total, momentum=0.5: momentum * total + (1 - momentum) * x.sum(axis=0),
                            component="total")
ACCUMULATE = Exercise("accumulate", "test", 1, accumulate_reference, ("mean",), lambda: [], lambda rng: [],
                      mistakes=(MOMENTUM_REVERSED,), kind="number", updates=("total",))
ACCUMULATE_CASES = [Case("positional", (np.arange(6.0).reshape(3, 2), np.ones(2))),
                    Case("as keywords", (np.arange(4.0).reshape(2, 2),), {"total": np.ones(2), "momentum": 0.25})]


def test_an_argument_updated_in_place_is_compared_after_the_call():
    right = "def accumulate(x, total, momentum=0.5):\n    total[...] = (1 - momentum) * total + momentum * x.sum(0)\n    return x.mean()\n"
    for verdict in both(ACCUMULATE, right, ACCUMULATE_CASES):
        assert verdict.all_passed, [case_report(r) for r in verdict.failures]


def test_rebinding_instead_of_updating_is_named():
    rebinds = "def accumulate(x, total, momentum=0.5):\n    total = (1 - momentum) * total + momentum * x.sum(0)\n    return x.mean()\n"
    for verdict in both(ACCUMULATE, rebinds, ACCUMULATE_CASES):
        assert verdict.passed == 0
        assert verdict.failures[0].problem == "`total` was not updated in place."
        assert "`total = ...` only rebinds a local name" in verdict.failures[0].hint


def test_wrong_values_in_an_updated_argument_fail():
    wrong = "def accumulate(x, total, momentum=0.5):\n    total += momentum * x.sum(0)\n    return x.mean()\n"
    for verdict in both(ACCUMULATE, wrong, ACCUMULATE_CASES):
        assert verdict.passed == 0 and "`total after the call` has wrong values" in verdict.failures[0].problem


def test_a_mistake_in_an_updated_argument_is_named():
    reversed_momentum = ("def accumulate(x, total, momentum=0.5):\n"
                         "    total[...] = momentum * total + (1 - momentum) * x.sum(0)\n    return x.mean()\n")
    for verdict in both(ACCUMULATE, reversed_momentum, ACCUMULATE_CASES):
        assert verdict.passed == 1  # with momentum 0.5 the mistake gives the right answer
        assert {r.hint for r in verdict.failures} == {MOMENTUM_REVERSED.hint}


def test_an_input_modified_in_place_is_named_with_its_name():
    modifies = "def accumulate(x, total, momentum=0.5):\n    total[...] = (1 - momentum) * total + momentum * x.sum(0)\n    m = x.mean()\n    x *= 0\n    return m\n"
    for verdict in both(ACCUMULATE, modifies, ACCUMULATE_CASES):
        assert verdict.failures[0].problem == "accumulate modified its input `x` in place."
        assert "`x.copy()`" in verdict.failures[0].hint


# ---------------------------------------------------------------- expected exceptions


def keep_reference(p):
    """Returns ``1 - p``; ``p`` outside [0, 1] is an error."""
    if not 0 <= p <= 1:
        raise ValueError("p must be in [0, 1]")
    return np.float64(1 - p)


KEEP = Exercise("keep", "test", 1, keep_reference, ("kept",), lambda: [], lambda rng: [], kind="number")
KEEP_CASES = [Case("p = 0.25", (0.25,)), Case("p = 1.5, outside [0, 1]", (1.5,), raises="ValueError"),
              Case("p = -0.1, outside [0, 1]", (-0.1,), raises="ValueError")]


def test_raising_the_expected_exception_passes():
    right = "def keep(p):\n    if not 0 <= p <= 1:\n        raise ValueError(f'p={p}')\n    return 1 - p\n"
    for verdict in both(KEEP, right, KEEP_CASES):
        assert verdict.all_passed


def test_not_raising_fails_with_a_hint_and_another_exception_is_named():
    for verdict in both(KEEP, "def keep(p):\n    return 1 - p\n", KEEP_CASES):
        assert verdict.passed == 1
        assert verdict.failures[0].problem == "keep should raise ValueError here, but it returned a result."
        assert "raise ValueError(...)" in verdict.failures[0].hint
    for verdict in both(KEEP, "def keep(p):\n    assert 0 <= p <= 1\n    return 1 - p\n", KEEP_CASES):
        assert "should raise ValueError here, but it raised AssertionError" in verdict.failures[0].problem


# ---------------------------------------------------------------- properties of random outputs


def _kept_fraction(case, outputs):
    """The fraction of ones in the mask is 1 - p, within Hoeffding's margin."""
    (mask,) = outputs
    p = case.args[1]
    if mask.shape != case.args[0]:
        return f"`mask` has shape {mask.shape}, expected {case.args[0]}."
    if not tolerances.mean_within(float(np.mean(mask)), 1 - p, mask.size):
        return f"{np.mean(mask):.3f} of the mask is kept, expected {1 - p:.3f}."
    return ""


COIN = Exercise("coin", "test", 1, None, ("mask",), lambda: [], lambda rng: [],
                properties=(Property("keep rate", _kept_fraction, "keep each element with probability 1 - p."),),
                parameter_names=("shape", "p", "rng"))
COIN_CASES = [Case(f"shape (200, 50), p = {p}", ((200, 50), p, np.random.default_rng(seed)))
              for seed, p in enumerate((0.1, 0.5, 0.9))]


def test_a_correct_random_output_passes_its_statistical_property():
    right = "def coin(shape, p, rng):\n    return (rng.random(shape) >= p).astype(float)\n"
    for verdict in both(COIN, right, COIN_CASES):
        assert verdict.all_passed, [case_report(r) for r in verdict.failures]


def test_a_biased_random_output_fails_with_the_property_hint():
    reversed_rate = "def coin(shape, p, rng):\n    return (rng.random(shape) < p).astype(float)\n"
    for verdict in both(COIN, reversed_rate, COIN_CASES):
        assert verdict.passed == 1  # p = 0.5 cannot tell
        assert verdict.failures[0].hint == "keep each element with probability 1 - p."


REPEATED = [Case("shape (20, 30), p = 0.5, a seeded generator, called twice", ((20, 30), 0.5, np.random.default_rng(3)),
                 twice=True)]


def test_a_function_that_draws_from_its_generator_repeats_with_the_same_seed():
    right = "def coin(shape, p, rng):\n    return (rng.random(shape) >= p).astype(float)\n"
    for verdict in both(COIN, right, REPEATED):
        assert verdict.all_passed, [case_report(r) for r in verdict.failures]


def test_a_function_that_ignores_its_generator_is_told_to_use_it():
    ignores = "def coin(shape, p, rng):\n    return (np.random.default_rng().random(shape) >= p).astype(float)\n"
    for verdict in both(COIN, ignores, REPEATED):
        assert "returned different results" in verdict.failures[0].problem
        assert "draw every random number from the `rng`" in verdict.failures[0].hint


# ---------------------------------------------------------------- integer results


def windows_reference(size, kernel, stride=1):
    """How many windows of ``kernel`` fit in ``size`` at ``stride``."""
    return (size - kernel) // stride + 1


WINDOWS = Exercise("windows", "test", 1, windows_reference, ("count",), lambda: [], lambda rng: [], kind="integer")
WINDOWS_CASES = [Case("size 7, kernel 3, stride 2", (7, 3, 2)), Case("size 8, kernel 3, stride 2", (8, 3, 2))]


def test_an_integer_result_must_be_an_integer_and_exact():
    for verdict in both(WINDOWS, "def windows(size, kernel, stride=1):\n    return np.int64((size - kernel) // stride + 1)\n",
                        WINDOWS_CASES):
        assert verdict.all_passed
    for verdict in both(WINDOWS, "def windows(size, kernel, stride=1):\n    return (size - kernel) / stride + 1\n",
                        WINDOWS_CASES):
        assert "not an integer" in verdict.failures[0].problem and "`//`" in verdict.failures[0].problem
    for verdict in both(WINDOWS, "def windows(size, kernel, stride=1):\n    return -(-(size - kernel) // stride) + 1\n",
                        WINDOWS_CASES):
        assert verdict.passed == 1 and "expected count: 3" in verdict.failures[0].detail


# ---------------------------------------------------------------- exercises that use others


@pytest.fixture
def twice_relu():
    """An exercise registered for the test that may use ``relu``: ``relu(x) * 2``."""
    from prettynn.exercises.linear import torch_relu

    exercise = Exercise("twice_relu", "01_linear", 1, lambda x: torch_relu(x) * 2, ("output",),
                        lambda: [Case("a vector", (np.array([-1.0, 0.0, 2.0]),))], lambda rng: [], uses=("relu",))
    model_module.register(exercise)
    yield exercise
    del model_module._REGISTRY["twice_relu"]


def test_the_grader_supplies_the_instructors_solution_of_a_used_function(twice_relu):
    supplied = references.supplied_for(ROOT, twice_relu)
    assert [s.name for s in supplied] == ["relu"] and "np.maximum" in supplied[0].source
    verdict = sandboxed(twice_relu, "def twice_relu(x):\n    return 2 * relu(x)\n", twice_relu.visible_cases(),
                        supplied=supplied, uses=("relu",))
    assert verdict.all_passed


def test_a_wrong_function_of_the_student_elsewhere_does_not_matter(twice_relu):
    # the student's own relu is in another cell and wrong; the grader's relu is the instructor's
    supplied = references.supplied_for(ROOT, twice_relu)
    cell = "def twice_relu(x):\n    return 2 * relu(x)\n"
    assert sandboxed(twice_relu, cell, twice_relu.visible_cases(), supplied=supplied, uses=("relu",)).all_passed


def test_the_check_supplies_a_stand_in_of_a_used_function(twice_relu, capsys):
    namespace = kernel()
    run_cell("def relu(x):\n    return x  # wrong, but not what twice_relu is graded with\n", namespace)
    run_cell("def twice_relu(x):\n    return 2 * relu(x)\n", namespace)
    check("twice_relu", namespace["twice_relu"])
    assert "all 1 visible cases pass" in capsys.readouterr().out


def test_the_check_names_a_graded_function_not_declared_as_used(twice_relu):
    namespace = kernel()
    run_cell("def relu_backward(grad_output, x):\n    return grad_output * (x > 0)\n", namespace)
    run_cell("def twice_relu(x):\n    return 2 * relu_backward(np.ones_like(x), x) * x\n", namespace)
    with pytest.raises(FailsWhenGraded, match=r"calls `relu_backward`, another exercise .* \(it may use: relu\)"):
        check("twice_relu", namespace["twice_relu"])


def test_dependencies_are_ordered_and_cycles_refused(twice_relu):
    assert dependencies(twice_relu) == ["relu"]
    loop = Exercise("loop_a", "test", 1, abs, ("y",), lambda: [], lambda rng: [], uses=("loop_a",))
    model_module.register(loop)
    try:
        with pytest.raises(ValueError, match="cycle"):
            dependencies(loop)
    finally:
        del model_module._REGISTRY["loop_a"]


def test_supplied_functions_are_defined_in_order_in_the_sandbox():
    first = Supplied("double", "def double(x):\n    return 2 * x\n")
    second = Supplied("quadruple", "def quadruple(x):\n    return double(double(x))\n", ("double",))
    verdict = sandboxed(WINDOWS, "def windows(size, kernel, stride=1):\n    return int(quadruple(size)) // 4 - kernel + 1\n",
                        [Case("stride 1", (7, 3))], supplied=(first, second), uses=("quadruple",))
    assert verdict.all_passed


def test_a_call_is_described_the_same_on_every_run():
    case = Case("a generator", (np.zeros((2, 3)),), {"rng": np.random.default_rng(0), "p": 0.5})
    described = case.signature(["x"])
    assert described == "x=array(2, 3) float64, rng=Generator(PCG64), p=0.5"
