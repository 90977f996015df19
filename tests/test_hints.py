"""Feedback names a mistake only when the mistake explains the output (reported misses of chapter 01)."""

from __future__ import annotations

import numpy as np
import pytest

from prettynn.checks import CheckFailure, check
from prettynn.model import get
from prettynn.exercises import linear as declarations
from prettynn.calling import invisible_to_torch_watch
from prettynn.judging import evaluate, hidden_verdict

from .conftest import load_functions


def visible(name: str, source: str):
    """The visible verdict of the function ``name`` defined by ``source``."""
    exercise = get(name)
    return evaluate(exercise, load_functions(source)[name], exercise.visible_cases())


def hints(verdict) -> set[str]:
    return {result.hint for result in verdict.failures if result.hint}


def test_log_of_a_row_shifted_softmax_is_not_told_to_shift():
    source = '''
def cross_entropy(logits, target):
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(target)), target]).mean()
'''
    verdict = visible("cross_entropy", source)
    assert not verdict.all_passed
    assert hints(verdict) == {declarations.LOG_OF_SOFTMAX_HINT}


def test_a_shift_by_the_batch_maximum_fails_a_visible_case_with_its_hint():
    source = '''
def cross_entropy(logits, target):
    shifted = logits - logits.max()
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    return (log_norm - shifted[np.arange(len(target)), target]).mean()
'''
    verdict = visible("cross_entropy", source)
    assert hints(verdict) == {declarations.GLOBAL_SHIFT_HINT}


def test_no_shift_at_all_gets_the_shift_hint():
    source = '''
def cross_entropy(logits, target):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(target)), target]).mean()
'''
    assert hints(visible("cross_entropy", source)) == {declarations.MAX_SHIFT_HINT}


def test_a_matmul_error_of_a_correct_formula_is_not_a_transposed_weight():
    source = '''
def linear(x, weight, bias=None):
    out = (weight @ x.T).T
    return out if bias is None else out + bias
'''
    verdict = visible("linear", source)
    assert not verdict.all_passed  # wrong for extra batch axes
    assert hints(verdict) == set()


def test_a_transposed_weight_is_still_named():
    verdict = visible("linear", "def linear(x, weight, bias=None):\n    return x @ weight + (0 if bias is None else bias)\n")
    assert declarations.TRANSPOSED_WEIGHT_HINT in hints(verdict)


COLUMN_SHIFTED = "np.exp(logits - logits.max(0)) / np.exp(logits - logits.max(0)).sum(axis=0, keepdims=True)"


@pytest.mark.parametrize("normalise", ["e / e.sum(axis=0, keepdims=True)", COLUMN_SHIFTED])
def test_softmax_over_the_wrong_axis_in_the_backward_gets_its_hint(normalise):
    source = f'''
def cross_entropy_backward(logits, target):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = {normalise}
    p[np.arange(len(target)), target] -= 1
    return p / len(target)
'''
    assert hints(visible("cross_entropy_backward", source)) == {declarations.WRONG_AXIS_HINT}


def test_an_in_place_change_names_the_argument_with_a_general_fix():
    verdict = visible("linear", "def linear(x, weight, bias=None):\n    x += 0\n    x[...] = x @ weight.T if x.shape[-1] == weight.shape[0] else x\n    return x @ weight.T + (0 if bias is None else bias)\n")
    problems = [r.problem for r in verdict.failures]
    assert "linear modified its input `x` in place." in problems
    result = next(r for r in verdict.failures if r.problem.endswith("in place."))
    assert "argument" not in result.problem and "np.maximum" not in result.hint


def test_a_scalar_result_prints_as_a_number():
    with pytest.raises(CheckFailure) as failure:
        check("cross_entropy", lambda logits, target: np.float64(1e4))
    message = str(failure.value)
    assert "expected loss: " in message and "[" not in message.split("expected loss: ")[1].split("\n")[0]
    assert "index ()" not in message


def test_every_cross_entropy_mistake_still_loses_hidden_points():
    for mistake in declarations.CROSS_ENTROPY_MISTAKES:
        assert hidden_verdict("cross_entropy", invisible_to_torch_watch(mistake.output)).points() < get("cross_entropy").points, mistake.name


# Held-out mutants: each makes exactly one declared mistake and is right elsewhere. The hint of
# that mistake must survive the cases it passes (where the mistake does not apply) and a crash on
# another case (a different bug).
HELD_OUT_MUTANTS = {
    "bias gradient averaged": ("linear_backward", '''
def linear_backward(grad_output, x, weight, bias=None):
    grad_bias = None if bias is None else grad_output.mean(axis=0)
    return grad_output @ weight, grad_output.T @ x, grad_bias
'''),
    "transposed weight": ("linear", '''
def linear(x, weight, bias=None):
    out = x @ weight
    return out if bias is None else out + bias
'''),
    "biased running variance": ("batch_norm", '''
def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if x.ndim == 3:
        raise RuntimeError("a different bug: (N, C, L) inputs crash")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        if running_mean is not None:
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
        if running_var is not None:
            running_var[...] = (1 - momentum) * running_var + momentum * var
    else:
        mean, var = running_mean, running_var
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)
'''),
}


@pytest.mark.parametrize("mistake", sorted(HELD_OUT_MUTANTS))
def test_a_held_out_mutant_gets_its_mistakes_hint_in_the_check_and_the_hidden_tests(mistake):
    name, source = HELD_OUT_MUTANTS[mistake]
    exercise = get(name)
    hint = next(m.hint for m in exercise.mistakes if m.name == mistake)
    function = load_functions(source)[name]
    for verdict in (evaluate(exercise, function, exercise.visible_cases()), hidden_verdict(name, function, seed=3)):
        assert verdict.passed < verdict.total
        assert hint in hints(verdict), [result.hint for result in verdict.failures]
