"""Chapter 06's graded optimizers, ``sgd`` and ``adam``: correct solutions written differently pass,
each known mistake gets its hint in the visible check and loses points in the hidden tests, and
lists updated in place are judged alike in this process and in the sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from prettynn.feedback import case_report
from prettynn.judging import Verdict, hidden_verdict, judge
from prettynn.model import get
from prettynn.sandbox.runner import Limits, run_solution

from .conftest import load_functions
from .verdicts import visible

SGD = """
def sgd(params, grads, momentum_buffers, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
    for i, (p, g) in enumerate(zip(params, grads)):
        g = g + weight_decay * p
        if momentum:
            if momentum_buffers[i] is None:
                momentum_buffers[i] = g.copy()
            else:
                momentum_buffers[i] *= momentum
                momentum_buffers[i] += (1 - dampening) * g
            g = g + momentum * momentum_buffers[i] if nesterov else momentum_buffers[i]
        p -= lr * g
"""

SGD_NUMPY_OUT = """
def sgd(params, grads, momentum_buffers, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
    for index in range(len(params)):
        d_p = np.add(grads[index], params[index] * weight_decay)
        if momentum != 0:
            buf = momentum_buffers[index]
            if buf is None:
                buf = momentum_buffers[index] = np.array(d_p, copy=True)
            else:
                np.multiply(buf, momentum, out=buf)
                np.add(buf, d_p * (1 - dampening), out=buf)
            d_p = d_p + buf * momentum if nesterov else buf
        np.subtract(params[index], lr * d_p, out=params[index])
"""

ADAM = """
def adam(params, grads, exp_avgs, exp_avg_sqs, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
    beta1, beta2 = betas
    for p, g, m, v in zip(params, grads, exp_avgs, exp_avg_sqs):
        g = g + weight_decay * p
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** step)
        v_hat = v / (1 - beta2 ** step)
        p -= lr * m_hat / (np.sqrt(v_hat) + eps)
"""

ADAM_TORCH_FORM = """
def adam(params, grads, exp_avgs, exp_avg_sqs, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
    beta1, beta2 = betas
    step_size = lr / (1 - beta1 ** step)
    root_correction = math.sqrt(1 - beta2 ** step)
    for p, g, m, v in zip(params, grads, exp_avgs, exp_avg_sqs):
        if weight_decay:
            g = g + weight_decay * p
        m[...] = beta1 * m + (1 - beta1) * g
        v[...] = beta2 * v + (1 - beta2) * np.square(g)
        p[...] = p - step_size * m / (np.sqrt(v) / root_correction + eps)
"""


def mutant(source: str, old: str, new: str) -> str:
    """``source`` with ``old`` replaced by ``new`` (which must occur)."""
    assert old in source, old
    return source.replace(old, new)


SGD_MISTAKES = {
    "first momentum buffer damped or started at zero": mutant(
        SGD, "momentum_buffers[i] = g.copy()", "momentum_buffers[i] = (1 - dampening) * g"),
    "weight decay after momentum": mutant(
        mutant(SGD, "g = g + weight_decay * p", "g = 1 * g"), "p -= lr * g", "p -= lr * (g + weight_decay * p)"),
    "Nesterov's look-ahead missed": mutant(
        SGD, "g + momentum * momentum_buffers[i] if nesterov else momentum_buffers[i]", "momentum_buffers[i]"),
}

ADAM_MISTAKES = {
    "no bias correction": mutant(mutant(ADAM, "m / (1 - beta1 ** step)", "m"), "v / (1 - beta2 ** step)", "v"),
    "bias correction for the next step": mutant(
        mutant(ADAM, "beta1 ** step", "beta1 ** (step + 1)"), "beta2 ** step", "beta2 ** (step + 1)"),
    "bias correction for the previous step": mutant(
        mutant(ADAM, "beta1 ** step", "beta1 ** (step - 1)"), "beta2 ** step", "beta2 ** (step - 1)"),
    "eps inside the square root": mutant(ADAM, "np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"),
    "decoupled weight decay": mutant(ADAM, "g = g + weight_decay * p", "p *= 1 - lr * weight_decay"),
}


def solution(name: str, source: str):
    """The function ``name`` defined by ``source``."""
    return load_functions(source)[name]


@pytest.mark.parametrize("name, source", [("sgd", SGD), ("sgd", SGD_NUMPY_OUT), ("adam", ADAM),
                                          ("adam", ADAM_TORCH_FORM)])
def test_correct_solutions_written_differently_get_full_marks(name, source):
    verdict = hidden_verdict(name, solution(name, source))
    assert verdict.all_passed, [case_report(r) for r in verdict.failures[:2]]
    assert verdict.total >= 30


@pytest.mark.parametrize("name, mistake, source", [("sgd", m, s) for m, s in SGD_MISTAKES.items()]
                         + [("adam", m, s) for m, s in ADAM_MISTAKES.items()])
def test_each_known_mistake_is_named_by_the_visible_check_and_loses_hidden_points(name, mistake, source):
    function = solution(name, source)
    named = {result.mistake for result in visible(name, function).failures}
    assert mistake in named, named
    hidden = hidden_verdict(name, function)
    assert hidden.points() < get(name).points
    assert any(result.mistake == mistake for result in hidden.failures)


def test_an_array_replaced_in_the_list_fails_with_its_index():
    source = mutant(SGD, "p -= lr * g", "params[i] = p - lr * g")
    failure = visible("sgd", solution("sgd", source)).failures[0]
    assert failure.problem == "`params[0]` was replaced by a new array instead of being updated in place."


def test_a_loop_variable_rebound_fails_as_not_updated_with_a_hint_about_the_name():
    source = mutant(SGD, "p -= lr * g", "p = p - lr * g")
    failure = visible("sgd", solution("sgd", source)).failures[0]
    assert failure.problem == "`params[0]` was not updated in place."
    assert "`p = p - ...` only rebinds the name `p`" in failure.hint


def test_a_new_buffer_not_stored_is_named():
    source = """
def sgd(params, grads, momentum_buffers, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
    for i, (p, g) in enumerate(zip(params, grads)):
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if momentum_buffers[i] is None else momentum_buffers[i]
            if momentum_buffers[i] is not None:
                buf *= momentum
                buf += (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p -= lr * g
"""
    problems = {f.problem for f in visible("sgd", solution("sgd", source)).failures}
    assert problems == {"`momentum_buffers[0]` is still None after the call."}


def test_gradients_changed_in_place_fail_the_case():
    source = mutant(SGD, "g = g + weight_decay * p", "g += weight_decay * p")
    problems = {f.problem for f in visible("sgd", solution("sgd", source)).failures}
    assert "sgd modified its input `grads` in place." in problems


def sandboxed(name: str, source: str) -> Verdict:
    """The verdict of ``source`` on the exercise's visible cases, run in the sandbox (without bubblewrap)."""
    exercise = get(name)
    cases = exercise.visible_cases()
    run = run_solution(source, name, cases, Limits(), bubblewrap=False)
    return Verdict.of(exercise, [judge(exercise, case, outcome) for case, outcome in zip(cases, run.outcomes)])


@pytest.mark.parametrize("source, problem", [
    (SGD, ""),
    (mutant(SGD, "p -= lr * g", "params[i] = p - lr * g"),
     "`params[0]` was replaced by a new array instead of being updated in place."),
    (mutant(SGD, "momentum_buffers[i] = g.copy()", "momentum_buffers[i] = (1 - dampening) * g"),
     "`params[0] after the call` has wrong values."),
])
def test_the_sandbox_reads_lists_back_as_the_check_sees_them(source, problem):
    in_process, in_sandbox = visible("sgd", solution("sgd", source)), sandboxed("sgd", source)
    assert [r.passed for r in in_sandbox.results] == [r.passed for r in in_process.results]
    assert [r.problem for r in in_sandbox.results] == [r.problem for r in in_process.results]
    assert [r.mistake for r in in_sandbox.results] == [r.mistake for r in in_process.results]
    if problem:
        assert any(r.problem.startswith(problem) for r in in_sandbox.failures)
    else:
        assert in_sandbox.all_passed


def test_the_mistakes_are_not_the_right_answer_on_the_cases_they_name():
    """A mistake's prediction differs from torch wherever the visible check names it."""
    for name, mistakes in (("sgd", SGD_MISTAKES), ("adam", ADAM_MISTAKES)):
        exercise = get(name)
        for declared in exercise.mistakes:
            differs = []
            for case in exercise.visible_cases():
                wrong = declared.output(*case.args, **case.kwargs)
                right = exercise.run_reference(case)[1][declared.component]
                if wrong is not None:
                    differs.append(any(w is not None and not np.allclose(w, r) for w, r in zip(wrong, right)))
            assert any(differs), declared.name
