"""Chapter 04_convolution: what the generic tests do not cover.

- the hidden cases cover every argument of the contract;
- a solution may use the functions its exercise declares, and is graded with the instructor's
  versions of them, so a wrong conv2d_output_size does not cost conv2d anything;
- plain-loop solutions are graded well within the sandbox's limits;
- the chapter's claims: the parameter formula against torch, the learned edge kernel, the
  positions no tap reads, equivariance, the receptive field of stacked layers, the input's
  gradient as a transposed convolution;
- hints name what is wrong, never the formula to type.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from prettynn.course.references import reference_sources, supplied_for
from prettynn.model import get
from prettynn.feedback import case_report
from prettynn.judging import Verdict, judge
from prettynn.sandbox.runner import Limits, Supplied, run_solution

from .conftest import ROOT, instructor_functions

CHAPTER = "04_convolution"


def _cases(name: str):
    """The visible and (seeded) hidden cases of exercise ``name``."""
    exercise = get(name)
    return exercise.visible_cases() + exercise.hidden_cases(np.random.default_rng(0))


def _options(name: str, key: str, default) -> list:
    """The values of keyword ``key`` over the cases of exercise ``name`` (``default`` when not given)."""
    return [case.kwargs.get(key, default) for case in _cases(name)]


def test_conv2d_cases_cover_every_argument():
    cases = _cases("conv2d")
    paddings = [case.kwargs.get("padding", 0) for case in cases]
    assert {"valid", "same"} <= {p for p in paddings if isinstance(p, str)}
    assert any(isinstance(p, int) and p > 0 for p in paddings) and any(isinstance(p, tuple) for p in paddings)
    for key in ("stride", "dilation"):
        values = [case.kwargs.get(key, 1) for case in cases]
        assert any(isinstance(v, tuple) for v in values) and any(isinstance(v, int) and v > 1 for v in values)
    groups = [(case.kwargs.get("groups", 1), case.args[0].shape[1]) for case in cases]
    assert any(g > 1 for g, _ in groups) and any(g == c_in > 1 for g, c_in in groups)  # depthwise
    hidden = get("conv2d").hidden_cases(np.random.default_rng(5))
    assert any(case.kwargs["padding"] == "same" and case.args[1].shape[2] % 2 == 0 for case in hidden)
    kernels = [case.args[1].shape[2:] for case in cases]
    assert (1, 1) in kernels and any(k % 2 == 0 for shape in kernels for k in shape)
    assert any(case.kwargs.get("bias") is None for case in cases)
    assert any(case.args[0].dtype == np.float32 for case in cases)
    assert all(len(case.args[0]) <= 2 and max(case.args[0].shape[2:]) <= 15 for case in cases)  # loops stay fast


def test_strides_that_do_not_divide_appear_in_conv2d_and_its_backward():
    for name in ("conv2d", "conv2d_backward"):
        uneven = 0
        for case in _cases(name):
            x = case.args[1] if name == "conv2d_backward" else case.args[0]
            weight = case.args[2] if name == "conv2d_backward" else case.args[1]
            padding = case.kwargs.get("padding", 0)
            if isinstance(padding, str):
                continue
            stride, dilation, pad = (np.broadcast_to(case.kwargs.get(key, default), 2)
                                     for key, default in (("stride", 1), ("dilation", 1), ("padding", 0)))
            spans = np.array(x.shape[2:]) + 2 * pad - dilation * (np.array(weight.shape[2:]) - 1) - 1
            uneven += bool(np.any(spans % stride))
        assert uneven >= 3, name


def test_output_size_cases_include_the_floor_and_exact_fits():
    fits = [(n + 2 * kw["padding"] - kw["dilation"] * (k - 1) - 1) % kw["stride"] == 0
            for case in _cases("conv2d_output_size") for (n, k), kw in [(case.args, case.kwargs)]]
    assert fits.count(False) >= 10 and fits.count(True) >= 5


def test_backward_cases_use_int_or_pair_padding_only():
    assert all(not isinstance(p, str) for p in _options("conv2d_backward", "padding", 0))
    assert any(g > 1 for g in _options("conv2d_backward", "groups", 1))


def test_the_exercises_declare_what_they_may_use():
    assert get("conv2d").uses == ("corr2d", "conv2d_output_size")
    assert get("conv2d_backward").uses == ("conv2d",)
    assert get("conv2d_output_size").kind == "integer"


def _sandbox_verdict(name: str, source: str, supplied: tuple[Supplied, ...]) -> tuple[Verdict, float]:
    """Grade ``source`` for exercise ``name`` in the sandbox (no bubblewrap), with ``supplied`` functions."""
    exercise = get(name)
    cases = _cases(name)
    run = run_solution(source, name, cases, Limits(), bubblewrap=False, supplied=supplied, uses=exercise.uses)
    assert not run.problem, run.problem
    return Verdict.of(exercise, [judge(exercise, c, o) for c, o in zip(cases, run.outcomes)]), run.seconds


def test_conv2d_is_graded_with_the_instructors_output_size_not_the_students():
    sources = reference_sources(ROOT, CHAPTER)
    supplied = supplied_for(ROOT, get("conv2d"))
    assert [s.name for s in supplied] == ["corr2d", "conv2d_output_size"]
    assert "conv2d_output_size(" in sources["conv2d"]  # the reference really calls it
    verdict, _ = _sandbox_verdict("conv2d", sources["conv2d"], supplied)
    assert verdict.all_passed
    ceil = ("def conv2d_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):\n"
            "    return math.ceil((input_size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1\n")
    wrong, _ = _sandbox_verdict("conv2d_output_size", ceil, ())
    assert not wrong.all_passed and "sticks out" in wrong.failures[0].hint


def _loop_solutions() -> dict:
    spec = tomllib.loads((ROOT / "autograde" / "samples" / f"{CHAPTER}.toml").read_text())
    return next(entry["replace"] for entry in spec["sample"] if entry["student"] == "sample-alternative")


@pytest.mark.parametrize("name", ["corr2d", "conv2d_output_size", "conv2d", "conv2d_backward"])
def test_plain_loop_solutions_pass_well_within_the_limits(name):
    verdict, seconds = _sandbox_verdict(name, _loop_solutions()[name], supplied_for(ROOT, get(name)))
    assert verdict.all_passed, [case_report(r) for r in verdict.failures[:1]]
    assert seconds < Limits().total_seconds / 6


def test_gradient_descent_learns_the_edge_kernel():
    """The chapter's experiment, with the reference solutions: the kernel converges to [1, -1]."""
    f = instructor_functions(CHAPTER)
    rng = np.random.default_rng(0)
    images = rng.normal(size=(8, 1, 8, 8))
    targets = f["conv2d"](images, np.array([[[[1.0, -1.0]]]]))
    kernel = rng.normal(size=(1, 1, 1, 2))
    for _ in range(60):
        predictions = f["conv2d"](images, kernel)
        grad = 2 * (predictions - targets) / predictions.size
        kernel = kernel - 0.1 * f["conv2d_backward"](grad, images, kernel)[1]
    np.testing.assert_allclose(kernel.ravel(), [1.0, -1.0], atol=1e-3)


def test_worked_examples_of_the_text():
    corr2d = instructor_functions(CHAPTER)["corr2d"]
    X = np.arange(1.0, 10.0).reshape(3, 3)
    K = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    np.testing.assert_allclose(corr2d(X, K), [[-6]])
    np.testing.assert_allclose(corr2d(np.pad(X, 1), K), [[-4, -5, -6], [-6, -6, -6], [4, 5, 6]])
    stripe = np.ones((6, 8))
    stripe[:, 2:6] = 0
    np.testing.assert_allclose(corr2d(stripe, np.array([[1.0, -1.0]]))[0], [0, 1, 0, 0, 0, -1, 0])


def test_equivariance_holds_away_from_the_border_and_for_multiples_of_the_stride():
    corr2d = instructor_functions(CHAPTER)["corr2d"]
    rng = np.random.default_rng(4)
    image, kernel = rng.normal(size=(12, 12)), rng.normal(size=(3, 3))

    def shifted(values, down, right):
        out = np.zeros_like(values)
        out[down:, right:] = values[:values.shape[0] - down, :values.shape[1] - right]
        return out

    difference = np.abs(corr2d(shifted(image, 2, 3), kernel) - shifted(corr2d(image, kernel), 2, 3))
    assert difference[2:, 3:].max() < 1e-12 and difference[:2].max() > 0.1
    strided = lambda values: corr2d(values, kernel)[::2, ::2]  # noqa: E731
    assert np.abs(strided(shifted(image, 2, 0)) - shifted(strided(image), 1, 0))[1:].max() < 1e-12
    assert min(np.abs(strided(shifted(image, 1, 0)) - shifted(strided(image), r, 0))[1:].max() for r in (0, 1)) > 0.1


def test_three_3x3_layers_see_7x7_with_fewer_parameters():
    conv2d = instructor_functions(CHAPTER)["conv2d"]
    impulse = np.zeros((1, 1, 15, 15))
    impulse[0, 0, 7, 7] = 1.0
    stack = impulse
    for _ in range(3):
        stack = conv2d(stack, np.ones((1, 1, 3, 3)), padding=1)
    rows, columns = np.nonzero(stack[0, 0])
    assert (np.ptp(rows) + 1, np.ptp(columns) + 1) == (7, 7)
    np.testing.assert_array_equal(stack[0, 0, 4:11, 4:11], np.outer(*[[1, 3, 6, 7, 6, 3, 1]] * 2))  # paths
    assert 3 * (9 * 64 * 64 + 64) < 49 * 64 * 64 + 64


@pytest.mark.parametrize("config", [
    ((2, 2, 3, 1), (7, 8), (3, 2), (2, 2), (1, 1), (1, 1)),
    ((1, 4, 2, 2), (9, 10), (2, 3), (3, 3), (2, 0), (2, 2)),
    ((2, 3, 3, 3), (10, 6), (3, 3), (2, 3), (1, 0), (1, 2)),
    ((1, 2, 2, 1), (11, 5), (1, 2), (4, 1), (0, 1), (1, 1)),
])
def test_grad_x_is_the_transposed_convolution_with_output_padding(config):
    import torch
    import torch.nn.functional as F

    (n, c_in, c_out, groups), size, kernel, stride, padding, dilation = config
    f = instructor_functions(CHAPTER)
    rng = np.random.default_rng(6)
    x, weight = rng.normal(size=(n, c_in, *size)), rng.normal(size=(c_out, c_in // groups, *kernel))
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    g = rng.normal(size=f["conv2d"](x, weight, **options).shape)
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    output_padding = tuple((length + 2 * p - span) % s for length, p, span, s in zip(size, padding, spans, stride))
    transposed = F.conv_transpose2d(torch.tensor(g), torch.tensor(weight), output_padding=output_padding, **options)
    np.testing.assert_allclose(f["conv2d_backward"](g, x, weight, None, **options)[0], transposed.numpy(), atol=1e-12)


def test_hints_do_not_type_the_formulas():
    """A hint names what is wrong, not the expression to write (issue 14, item 3)."""
    from prettynn.exercises import convolution

    hints = [m.hint for m in convolution.OUTPUT_SIZE_MISTAKES + convolution.CONV2D_MISTAKES
             + convolution.CONV2D_BACKWARD_MISTAKES + convolution.CORR2D_MISTAKES]
    for typed in ("n + 2p", "d(k - 1)", "floor division", "X[i + a", "(r - a", "top = ", "i * stride"):
        assert not any(typed in hint for hint in hints), typed
