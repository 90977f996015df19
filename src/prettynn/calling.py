"""Calling a student's function in this process: fresh copies of the inputs, printing and
warnings captured, and a watch for calls into torch (the exercises are NumPy only).

The visible checks call functions here; the course's autograde calls them in a sandbox
(``prettynn.sandbox``) instead. Either way the result is an ``Outcome``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import sys
import traceback
import warnings

import numpy as np

from .model import Case
from .outcome import Outcome
from .sandbox.child import list_items, replaced_items


def _is_torch_object(obj) -> bool:
    """True when ``obj`` (a function, method or descriptor) belongs to torch."""
    for candidate in (obj, getattr(obj, "__self__", None), getattr(obj, "__objclass__", None)):
        if candidate is None:
            continue
        module = getattr(candidate, "__module__", None) or getattr(type(candidate), "__module__", "")
        if isinstance(module, str) and (module == "torch" or module.startswith("torch.")):
            return True
    return False


@contextlib.contextmanager
def _torch_watch(record: list):
    """Record, in ``record``, any call into torch made while the block runs."""

    def profile(frame, event, arg):
        if event == "call":
            module = frame.f_globals.get("__name__", "")
            if module == "torch" or str(module).startswith("torch."):
                record.append(module)
        elif event == "c_call" and _is_torch_object(arg):
            name = getattr(arg, "__qualname__", repr(arg))
            record.append(name.replace("_VariableFunctionsClass.", "torch."))

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


def invisible_to_torch_watch(fn):
    """``fn`` wrapped so that its own calls into torch are not recorded (a reference, not the student).

    Only the torch watch (a Python function) is switched off: another profiler, such as cProfile's
    (not callable, and which ``sys.setprofile`` could not put back), is left running.
    """

    @functools.wraps(fn)
    def call(*args, **kwargs):
        profile = sys.getprofile()
        if not callable(profile):
            return fn(*args, **kwargs)
        sys.setprofile(None)
        try:
            return fn(*args, **kwargs)
        finally:
            sys.setprofile(profile)

    return call


def call_student(fn, case: Case) -> Outcome:
    """Call ``fn`` on copies of the case's inputs, capturing output, warnings and torch use."""
    args = copy.deepcopy(case.args)
    kwargs = copy.deepcopy(case.kwargs)
    before = list_items(args, kwargs)
    torch_calls: list = []
    sink = io.StringIO()
    with warnings.catch_warnings(), np.errstate(all="ignore"), \
            contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        try:
            with _torch_watch(torch_calls):
                result = fn(*args, **kwargs)
        except (Exception, SystemExit) as exc:  # a student's crash fails the case, not the run
            return Outcome(error_type=type(exc).__name__, error=str(exc), where=_student_frame(exc),
                           torch_calls=tuple(torch_calls), args_after=args, kwargs_after=kwargs,
                           replaced=_pairs(replaced_items(before, args, kwargs)))
    again = _call_again(fn, case) if case.twice else None
    return Outcome(result=result, torch_calls=tuple(torch_calls), args_after=args, kwargs_after=kwargs, again=again,
                   replaced=_pairs(replaced_items(before, args, kwargs)))


def _pairs(items: list) -> tuple:
    """``[[where, index], ...]`` as a tuple of pairs."""
    return tuple(tuple(item) for item in items)


def _call_again(fn, case: Case):
    """What ``fn`` returns on fresh copies of the case's inputs (an exception counts as ``None``)."""
    sink = io.StringIO()
    with warnings.catch_warnings(), np.errstate(all="ignore"), \
            contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        try:
            return fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        except (Exception, SystemExit):
            return None


def _student_frame(error: BaseException) -> str:
    """The last line of the traceback that is not in this package (the student's line)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "prettynn" not in f.filename]
    if not frames:
        return ""
    frame = frames[-1]
    return f"at line {frame.lineno}: {frame.line}" if frame.line else f"at line {frame.lineno}"
