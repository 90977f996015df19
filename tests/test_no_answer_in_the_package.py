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


def answers_without_torch(function, case, expected, monkeypatch) -> bool:
    """True when ``function`` returns ``expected`` on ``case`` with torch unavailable."""
    try:
        inspect.signature(function).bind(*case.args, **case.kwargs)
    except TypeError:
        return False
    with monkeypatch.context() as patch, warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        patch.setitem(sys.modules, "torch", None)
        patch.setitem(sys.modules, "torch.nn.functional", None)
        try:
            got = function(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        except Exception:  # noqa: BLE001 (a function that fails on these inputs gives no answer)
            return False
    outputs = got if isinstance(got, tuple) else (got,)
    try:
        return len(outputs) == len(expected) and all(
            (want is None and out is None) or (want is not None and out is not None and allclose(out, want))
            for out, want in zip(outputs, expected))
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
            expected = exercise.run_reference(case)[0]
            found += [f"{name} answers {exercise.name} ({case.description})" for name, function in functions
                      if answers_without_torch(function, case, expected, monkeypatch)]
    assert not found, "\n".join(sorted(set(found)))
