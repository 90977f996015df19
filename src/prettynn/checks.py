"""Visible checks: what a student runs in a notebook to test an exercise.

``check("linear", linear)`` runs the exercise's visible cases through the grading
harness, on the function **as the grader will see it**: the check takes the code of the
cell that defined ``linear`` and runs it again on its own, with only ``np``, ``math`` and
the graded functions the exercise may call (stand-ins built on their torch references,
which give the same values as the instructor's solutions the grader supplies), and with
only NumPy and Python's standard library importable. So a ✔ here means the grader will
agree; a helper or a global from another cell, a module the grader does not have, or
torch fails the check with one sentence that names the fix.

It returns quietly after printing one line when every case passes, and otherwise raises
``CheckFailure``: the failed case, what went wrong, expected vs got, and a hint when the
output matches a known mistake. In IPython the failure is shown as that message alone,
without a traceback.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import linecache
import re
import sys


from . import __version__
from .calling import invisible_to_torch_watch
from .feedback import BOLD, GREEN, RED, RESET, failure_message, pass_message
from .judging import UNDEFINED_NAME, Verdict, evaluate
from .exercises._torch import torch_on_one_thread
from .model import Exercise, get

GRADED_MODULES = frozenset(sys.stdlib_module_names) | {"numpy"}
MISSING_MODULE = re.compile(r"No module named '(\w+)")


class CheckFailure(AssertionError):
    """A visible check failed; the message says which case and why."""

    headline = "✘ check failed"

    def _render_traceback_(self) -> list[str]:
        """IPython shows these lines instead of a traceback."""
        return [f"{RED}{BOLD}{self.headline}{RESET}", *str(self).splitlines()]


class NotAttempted(CheckFailure):
    """The exercise still raises ``NotImplementedError``."""

    headline = "… not attempted yet"


class FailsWhenGraded(CheckFailure):
    """The function works in this notebook but would not when graded (its cell alone)."""

    headline = "✘ passes here, but would fail when graded"


class FailsAlsoWhenGraded(CheckFailure):
    """The function fails here, and its cell on its own would fail for another reason too."""

    headline = "✘ would fail when graded"


def ready() -> None:
    """Print the line that tells a student the notebook's setup worked."""
    print(f"{GREEN}✔{RESET} Ready (prettynn {__version__}): write each exercise, then run its check.")


# ---------------------------------------------------------------- the cell, as graded


def cell_source(fn) -> str | None:
    """The whole code of the notebook cell that defined ``fn``, or ``None`` when it was not
    defined in a notebook cell (IPython keeps each cell's code in ``linecache``, undated)."""
    code = getattr(fn, "__code__", None)
    entry = linecache.cache.get(code.co_filename) if code is not None else None
    if not entry or len(entry) < 4 or entry[1] is not None:
        return None
    return "".join(entry[2])


def _graded_import(name, globals=None, locals=None, fromlist=(), level=0):
    """``__import__`` as the grader allows it: NumPy and Python's standard library only."""
    top = name.partition(".")[0]
    if level == 0 and top not in GRADED_MODULES:
        raise ModuleNotFoundError(f"No module named '{top}' (only NumPy and the standard library when graded)")
    return builtins.__import__(name, globals, locals, fromlist, level)


class _NothingIPython:
    """What ``get_ipython()`` returns in a graded cell: every attribute and call does nothing."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self


def references_ready() -> None:
    """Import torch for the references, once, on one thread (``exercises._torch.torch_on_one_thread``).

    Importing ``prettynn.checks`` stays light; the first check (or stand-in) pays for torch.
    """
    torch_on_one_thread()


def stand_in(name: str):
    """A stand-in for graded function ``name``: its torch reference (or, for random outputs, its
    declared ``stand_in``), NumPy in and out, invisible to the torch watch (the student did not
    call torch)."""
    references_ready()
    exercise = get(name)
    if exercise.reference is None and exercise.stand_in is None:
        raise ValueError(f"exercise {name} has no reference and declares no stand_in: nothing can stand in for it")
    call = invisible_to_torch_watch(exercise.reference or exercise.stand_in)
    call.__name__ = call.__qualname__ = name
    return call


def graded_namespace(exercise: Exercise) -> dict:
    """What a solution cell starts with when graded: ``np``, ``math`` and the functions it may use."""
    import math

    import numpy as np

    graded_builtins = dict(vars(builtins), __import__=_graded_import)
    namespace = {"__name__": "__main__", "__builtins__": graded_builtins, "np": np, "numpy": np, "math": math,
                 "get_ipython": _NothingIPython()}
    namespace.update({name: stand_in(name) for name in exercise.uses})
    return namespace


def as_graded(exercise: Exercise, source: str, filename: str):
    """Run ``source`` (a cell's code) on its own as the grader does, its printing discarded;
    return what it defines as ``exercise.name``, or raise what the cell raised."""
    namespace = graded_namespace(exercise)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 (the student's own cell, in their kernel)
    return namespace.get(exercise.name)


# ---------------------------------------------------------------- what would differ when graded


def _import_problem(name: str, module: str) -> str:
    """The sentence for a cell that imports a module the grader does not have."""
    if module == "torch":
        return f"`{name}` imports torch, which the grader does not have: compute it with NumPy only."
    return (f"`{name}`'s cell imports {module}, which the grader does not have: "
            "use only NumPy and Python's standard library.")


def _undefined_problem(exercise: Exercise, missing: str, kernel_globals: dict) -> str:
    """The sentence for a name the cell uses but only another cell defines ('' if no cell does)."""
    if missing not in kernel_globals:
        return ""
    name = exercise.name
    value = kernel_globals[missing]
    if missing == "torch" or getattr(value, "__name__", "").startswith("torch"):
        return f"`{name}` uses torch, which the grader does not have: compute it with NumPy only."
    try:
        get(missing)
        is_exercise = missing != name
    except KeyError:
        is_exercise = False
    if is_exercise:
        allowed = f" (it may use: {', '.join(exercise.uses)})" if exercise.uses else ""
        return (f"`{name}` calls `{missing}`, another exercise that the grader does not give it{allowed}: "
                f"compute what you need in this cell.")
    return (f"`{name}` uses `{missing}`, which is defined in another cell: the grader runs this cell on its own, "
            f"so define `{missing}` in this cell.")


def _problem_of_error(exercise: Exercise, error_text: str, kernel_globals: dict) -> str:
    """The one-sentence fix for an error that comes from running the cell on its own, or ''."""
    missing = UNDEFINED_NAME.search(error_text)
    if missing:
        return _undefined_problem(exercise, missing.group(1), kernel_globals)
    module = MISSING_MODULE.search(error_text)
    if module:
        return _import_problem(exercise.name, module.group(1))
    return ""


def _grading_problem(exercise: Exercise, verdict: Verdict, kernel_globals: dict) -> str:
    """The sentence for the first failure that only grading causes, or ''."""
    for result in verdict.failures:
        problem = _problem_of_error(exercise, result.problem, kernel_globals)
        if problem:
            return problem
    return ""


def _raise_for(verdict: Verdict) -> None:
    """Raise the failure of ``verdict``: not attempted, or a failed case."""
    first = verdict.failures[0]
    error = NotAttempted if first.not_attempted else CheckFailure
    raise error(failure_message(verdict))


def _raise_grading_problem(exercise: Exercise, fn, problem: str) -> None:
    """Raise ``problem``, saying whether the function passes in this notebook's own namespace."""
    here = evaluate(exercise, fn, exercise.visible_cases())
    error = FailsWhenGraded if here.all_passed else FailsAlsoWhenGraded
    raise error(problem)


def check(name: str, fn) -> None:
    """Run the visible cases of exercise ``name`` on ``fn`` as it will be graded; raise
    ``CheckFailure`` on failure."""
    references_ready()
    exercise = get(name)
    source = cell_source(fn)
    graded = fn
    if source is not None:
        kernel_globals = getattr(fn, "__globals__", {})
        try:
            graded = as_graded(exercise, source, fn.__code__.co_filename)
        except Exception as error:  # noqa: BLE001 (the cell, run alone, failed: say why)
            text = f"{type(error).__name__}: {error}"
            problem = _problem_of_error(exercise, text, kernel_globals) or (
                f"`{name}`'s cell raised {text} when run on its own, as the grader runs it.")
            _raise_grading_problem(exercise, fn, problem)
    verdict = evaluate(exercise, graded, exercise.visible_cases())
    if verdict.all_passed:
        print(f"{GREEN}✔{RESET} {pass_message(verdict)}")
        return
    if source is not None:
        problem = _grading_problem(exercise, verdict, kernel_globals)
        if problem:
            _raise_grading_problem(exercise, fn, problem)
    _raise_for(verdict)
