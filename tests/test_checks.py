"""prettynn.checks: what a student sees when a visible check passes or fails."""

from __future__ import annotations

import numpy as np
import pytest

from prettynn.checks import CheckFailure, NotAttempted, check


def test_passing_check_prints_one_line(capsys, reference_solutions):
    check("linear", reference_solutions["linear"])
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "all 4 visible cases pass" in out


def test_failure_names_case_expected_got_and_hint():
    with pytest.raises(CheckFailure) as failure:
        check("relu_backward", lambda g, x: g * (x >= 0))
    message = str(failure.value)
    assert "case 1 of 3 failed" in message
    assert "call: relu_backward(grad_output=array(5,) float64, x=array(5,) float64)" in message
    assert "expected grad_x:" in message and "got      grad_x:" in message
    assert "outside the tolerance at index" in message
    assert "x > 0, not x >= 0" in message


def test_failure_renders_without_traceback_in_ipython():
    with pytest.raises(CheckFailure) as failure:
        check("relu", lambda x: None)
    lines = failure.value._render_traceback_()
    assert "check failed" in lines[0]
    assert not any("Traceback" in line for line in lines)
    assert any("did you forget a `return`" in line for line in lines)


def test_stub_raises_not_attempted():
    def relu(x):
        raise NotImplementedError()

    with pytest.raises(NotAttempted, match="not implemented yet"):
        check("relu", relu)


def test_unknown_exercise_lists_known_names():
    with pytest.raises(KeyError, match="known exercises: .*linear"):
        check("lineer", np.maximum)


def test_a_failed_check_lists_every_visible_case():
    from prettynn.model import get

    with pytest.raises(CheckFailure) as failure:
        check("linear_backward", lambda g, x, w, bias=None: (g @ w, g.T @ x, None if bias is None else g.mean(0)))
    message = str(failure.value)
    cases = get("linear_backward").visible_cases()
    assert f"2 of {len(cases)} visible cases pass" in message
    for number, case in enumerate(cases, 1):
        assert f" {number}. {case.description}" in message
    assert message.count("✔") == 2 and message.count("✘") == len(cases) - 2
