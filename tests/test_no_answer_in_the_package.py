"""The package a student installs holds no NumPy answer to a graded exercise.

Every module of ``prettynn`` is imported and every public function it defines is called on
every graded exercise's visible inputs, with torch unavailable: none may return the reference
answer. (Mistakes and tooling take their right parts from the torch references instead.)
"""

from __future__ import annotations

import copy
import importlib
import inspect
import pkgutil
import sys
import warnings

import numpy as np

import prettynn
from prettynn.compare import allclose
from prettynn.model import all_exercises

SKIPPED = {"main"}  # command-line entry points read sys.argv
# The code that runs inside the sandbox installs an audit hook for the whole process (it cannot be
# removed); it is the grader's, reads the student's function from a job folder, and holds no answer.
SKIPPED_MODULES = {"prettynn.sandbox.child"}


def public_functions():
    """``(qualified name, function)`` of every public function defined in a module of prettynn."""
    for module_info in pkgutil.walk_packages(prettynn.__path__, "prettynn."):
        if module_info.name in SKIPPED_MODULES:
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
                    and name not in SKIPPED):
                yield f"{module.__name__}.{name}", value


def equal(got, want) -> bool:
    """True when two values agree: arrays within the comparison's tolerance, lists item by item, None with None."""
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(equal(g, w) for g, w in zip(got, want))
    return allclose(got, want)


def answers_without_torch(function, exercise, case, monkeypatch) -> bool:
    """True when ``function``, with torch unavailable, gives the reference answer on ``case``: what the
    reference returns, or, for an exercise that returns nothing, what it leaves in the arguments it
    updates."""
    try:
        inspect.signature(function).bind(*case.args, **case.kwargs)
    except TypeError:
        return False
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    with monkeypatch.context() as patch, warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        patch.setitem(sys.modules, "torch", None)
        patch.setitem(sys.modules, "torch.nn.functional", None)
        try:
            got = function(*args, **kwargs)
        except Exception:  # noqa: BLE001 (a function that fails on these inputs gives no answer)
            return False
    expected, expected_after = exercise.run_reference(case)
    try:
        if not exercise.outputs:
            after = exercise.named_arguments(args, kwargs)
            return all(equal(after[name], want) for name, want in expected_after.items())
        outputs = got if isinstance(got, tuple) else (got,)
        return len(outputs) == len(expected) and all(equal(out, want) for out, want in zip(outputs, expected))
    except (TypeError, ValueError):
        return False


def test_no_public_function_returns_a_graded_answer_without_torch(monkeypatch):
    functions = list(public_functions())
    assert len(functions) > 50
    found = []
    for exercise in all_exercises():
        if exercise.reference is None:
            continue
        for case in exercise.visible_cases():
            if case.raises:
                continue
            found += [f"{name} answers {exercise.name} ({case.description})" for name, function in functions
                      if answers_without_torch(function, exercise, case, monkeypatch)]
    assert not found, "\n".join(sorted(set(found)))


def test_an_update_in_place_counts_as_an_answer(monkeypatch):
    """The check can fail for an exercise that returns nothing: plain SGD written in NumPy is found."""
    from prettynn.model import get

    def plain_sgd(params, grads, momentum_buffers, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        for param, grad in zip(params, grads):
            param -= lr * grad

    plain_case = get("sgd").visible_cases()[0]
    assert plain_case.kwargs == {}, "the first visible case of sgd is plain SGD"
    assert answers_without_torch(plain_sgd, get("sgd"), plain_case, monkeypatch)
    assert not answers_without_torch(lambda *args, **kwargs: None, get("sgd"), plain_case, monkeypatch)
