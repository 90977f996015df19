"""Check = grade: the visible check runs a solution cell on its own, as the grader will.

Each situation that works in a notebook but fails at grading fails the check with one
sentence naming the fix; tests/test_check_agrees_with_autograde.py shows the grader agrees.
"""

from __future__ import annotations

import pytest

from prettynn.checks import CheckFailure, FailsAlsoWhenGraded, FailsWhenGraded, check

from .cells import BACKWARD_WITH_HELPER, SOFTMAX_CELL, kernel, run_cell

def failure(name: str, *cells: str) -> CheckFailure:
    """Run ``cells`` in a fresh notebook namespace, then the check of ``name``; return its failure."""
    namespace = kernel()
    for source in cells:
        run_cell(source, namespace)
    with pytest.raises(CheckFailure) as raised:
        check(name, namespace[name])
    return raised.value


def test_a_helper_from_another_cell_is_named_with_the_fix():
    error = failure("cross_entropy_backward", SOFTMAX_CELL, BACKWARD_WITH_HELPER)
    assert isinstance(error, FailsWhenGraded)
    assert str(error) == ("`cross_entropy_backward` uses `softmax`, which is defined in another cell: the grader "
                          "runs this cell on its own, so define `softmax` in this cell.")


def test_the_same_helper_in_the_same_cell_passes(capsys):
    namespace = kernel()
    run_cell(SOFTMAX_CELL + BACKWARD_WITH_HELPER, namespace)
    check("cross_entropy_backward", namespace["cross_entropy_backward"])
    assert "all 6 visible cases pass" in capsys.readouterr().out


def test_a_module_the_grader_does_not_have_is_named():
    cell = '''
from scipy.special import logsumexp

def cross_entropy(logits, target):
    return np.mean(logsumexp(logits, axis=1) - logits[np.arange(len(target)), target])
'''
    error = failure("cross_entropy", cell)
    assert isinstance(error, FailsWhenGraded)
    assert str(error) == ("`cross_entropy`'s cell imports scipy, which the grader does not have: "
                          "use only NumPy and Python's standard library.")


def test_an_import_inside_the_function_is_named_too():
    cell = "def relu(x):\n    import scipy.special\n    return np.maximum(x, 0)\n"
    assert "imports scipy, which the grader does not have" in str(failure("relu", cell))


def test_torch_imported_in_another_cell_is_named():
    error = failure("relu", "import torch", "def relu(x):\n    return torch.relu(torch.from_numpy(x)).numpy()\n")
    assert str(error) == "`relu` uses torch, which the grader does not have: compute it with NumPy only."


def test_torch_imported_in_the_cell_is_named():
    error = failure("relu", "import torch\n\ndef relu(x):\n    return torch.relu(torch.from_numpy(x)).numpy()\n")
    assert str(error) == "`relu` imports torch, which the grader does not have: compute it with NumPy only."


def test_calling_another_exercise_that_is_not_supplied_is_named():
    relu = "def relu(x):\n    return np.maximum(x, 0)\n"
    backward = "def relu_backward(grad_output, x):\n    return grad_output * (relu(x) > 0)\n"
    error = failure("relu_backward", relu, backward)
    assert str(error).startswith("`relu_backward` calls `relu`, another exercise that the grader does not give it")


def test_a_global_from_another_cell_is_named():
    error = failure("relu", "THRESHOLD = 0.0", "def relu(x):\n    return np.maximum(x, THRESHOLD)\n")
    assert "`relu` uses `THRESHOLD`, which is defined in another cell" in str(error)


def test_a_cell_that_fails_on_its_own_at_definition_is_named():
    error = failure("relu", "LIMIT = 0.0", "floor = LIMIT\ndef relu(x):\n    return np.maximum(x, floor)\n")
    assert "`relu` uses `LIMIT`, which is defined in another cell" in str(error)


def test_the_headline_says_whether_it_passes_here():
    wrong = "def relu(x):\n    return np.maximum(x, OFFSET) + 1\n"
    error = failure("relu", "OFFSET = 0.0", wrong)
    assert isinstance(error, FailsAlsoWhenGraded) and "would fail when graded" in error.headline


def test_a_typo_fails_as_an_ordinary_failure_with_the_grader_hint():
    error = failure("relu", "def relu(x):\n    return np.maximum(xx, 0)\n")
    assert type(error) is CheckFailure
    assert "raised NameError: name 'xx' is not defined" in str(error)


def test_printing_in_the_cell_is_not_repeated_by_the_check(capsys):
    namespace = kernel()
    run_cell("print('defining relu')\ndef relu(x):\n    return np.maximum(x, 0)\n", namespace)
    capsys.readouterr()
    check("relu", namespace["relu"])
    assert "defining relu" not in capsys.readouterr().out


def test_a_function_from_a_module_is_checked_as_it_is(capsys):
    import numpy as np

    check("relu", lambda x: np.maximum(x, 0))
    assert "all 3 visible cases pass" in capsys.readouterr().out
