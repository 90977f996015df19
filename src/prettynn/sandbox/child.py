"""Run one solution cell on the grader's cases and record what the function returned.

This file runs inside the sandbox, in a process where the student's code runs too, so it
never judges anything: it writes each call's result, exception and inputs-after-call to
the job folder, and the grader (another process) reads them. Only the standard library
and NumPy are imported. Usage: ``python child.py JOB_DIR [READABLE_DIR ...]``.
"""

import copy
import json
import math
import os
import pickle
import signal
import sys
import traceback
import warnings

import numpy as np

CELL_NAME = "solution cell"
BLOCKED_IMPORTS = frozenset({"torch", "torchvision", "tensorflow", "jax", "jaxlib", "keras", "flax",
                             "mxnet", "paddle", "cupy", "chainer", "theano", "_posixsubprocess"})
FORBIDDEN_EVENTS = ("socket.", "subprocess.", "os.exec", "os.fork", "os.posix_spawn", "os.spawn",
                    "os.system", "os.kill", "os.killpg", "signal.pthread_kill", "ctypes.", "pty.",
                    "os.setuid", "os.setgid", "os.chroot", "shutil.chown", "os.chown")
PATH_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "os.remove", "os.rename", "os.mkdir",
                         "os.rmdir", "os.symlink", "os.link", "os.truncate", "os.chmod", "os.utime",
                         "os.chdir", "shutil.rmtree", "shutil.copyfile", "shutil.move"})
WRITING_EVENTS = PATH_EVENTS - {"open", "os.listdir", "os.scandir", "os.chdir"}
PROTECTED_ATTRIBUTES = frozenset({"__code__", "__defaults__", "__kwdefaults__", "__closure__", "__globals__"})
MAX_TEXT = 400


class CaseTimeout(BaseException):
    """One case (or the cell) ran longer than its time limit; ``clock`` says which: "cpu" or "wall"."""

    def __init__(self, clock):
        super().__init__(clock)
        self.clock = clock


class Ignored:
    """What ``get_ipython()`` returns here: every attribute and call does nothing."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self


def install_guard(writable, readable):
    """Refuse, from now on, process creation, signals, sockets, ctypes, deep-learning imports
    and file access outside ``readable`` (reading) and ``writable`` (writing).

    An audit hook cannot be removed; its state lives in default arguments, which the hook
    itself forbids changing. It backs up the operating-system sandbox, it does not replace it.
    """

    def inside(path, roots, _realpath=os.path.realpath, _fspath=os.fspath, _sep=os.sep):
        if isinstance(path, int):
            return True
        try:
            full = _realpath(_fspath(path))
        except (TypeError, ValueError):
            return False
        if isinstance(full, bytes):
            full = full.decode("utf-8", "replace")
        return any(full == root or full.startswith(root + _sep) for root in roots)

    def guard(event, args, _inside=inside, _writable=(writable,), _readable=tuple(readable) + (writable,),
              _forbidden=FORBIDDEN_EVENTS, _paths=PATH_EVENTS, _writing=WRITING_EVENTS,
              _blocked=BLOCKED_IMPORTS, _protected=PROTECTED_ATTRIBUTES, _error=PermissionError):
        if event.startswith(_forbidden):
            raise _error(f"not allowed while grading: {event}")
        if event == "import" and str(args[0]).partition(".")[0] in _blocked:
            raise _error(f"{args[0]} is not available while grading: use NumPy only")
        if event == "object.__setattr__" and len(args) > 1 and args[1] in _protected:
            raise _error("not allowed while grading: changing a function's code")
        if event in _paths and args:
            writing = event in _writing or (event == "open" and len(args) > 1 and args[1] is not None
                                            and any(c in str(args[1]) for c in "wax+"))
            if event == "open" and len(args) > 2 and isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR):
                writing = True
            if not _inside(args[0], _writable if writing else _readable):
                raise _error(f"not allowed while grading: {event} {str(args[0])[:200]}")

    sys.addaudithook(guard)


def refuse(*args, **kwargs):
    """Stands in for ``_posixsubprocess.fork_exec``, which raises no audit event of its own."""
    raise PermissionError("not allowed while grading: starting a process")


def switch_off_fork_exec():
    """Load ``_posixsubprocess`` now, with its process creation switched off: ``subprocess`` (which
    ``numpy.testing`` imports) then loads, and a later import of it is refused by the guard."""
    import _posixsubprocess

    _posixsubprocess.fork_exec = refuse


def short(text):
    """``text`` cut to a length the grader will accept."""
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def describe_error(exc):
    """The exception as ``{error_type, error, where}``, ``where`` being the student's line."""
    try:
        message = str(exc)
    except Exception:  # a student's exception class may not print
        message = "(the exception could not be printed)"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == CELL_NAME]
    where = ""
    if frames:
        where = f"at line {frames[-1].lineno}"
    return {"error_type": short(type(exc).__name__), "error": short(message), "where": where}


def encode(value, arrays, key, top=True):
    """Describe ``value`` as JSON, moving arrays into ``arrays`` under keys starting with ``key``."""
    if value is None:
        return {"none": True}
    if type(value) in (bool, int, float):
        return {"python": value if not (type(value) is float and not math.isfinite(value)) else repr(value)}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"foreign": "a NumPy array of Python objects"}
        arrays[key] = np.array(value)
        return {"array": key}
    if isinstance(value, np.generic):
        arrays[key] = np.asarray(value)
        return {"generic": key}
    if top and type(value) in (tuple, list):
        return {"sequence": type(value).__name__,
                "items": [encode(item, arrays, f"{key}_{i}", top=False) for i, item in enumerate(value)]}
    name = type(value).__name__
    return {"foreign": short(f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}")}


def list_items(args, kwargs):
    """The items of every list argument by ``(position or keyword, index)``: kept before a call, to
    see afterwards which items are no longer the objects that were passed in."""
    named = list(enumerate(args)) + sorted(kwargs.items())
    return {(where, index): item for where, value in named if type(value) is list for index, item in enumerate(value)}


def replaced_items(before, args, kwargs):
    """``[position or keyword, index]`` of each list item that is another object after the call than
    before it (an array replaced instead of updated in place)."""
    now = list_items(args, kwargs)
    return [[where, index] for (where, index), item in before.items()
            if item is not None and now.get((where, index), item) is not item]


def argument_after(value, arrays, key):
    """What an argument holds after the call, for the grader: an array's key, a list of arrays
    (or ``None``) encoded, or ``None`` for anything else."""
    if isinstance(value, np.ndarray) and value.dtype != object:
        arrays[key] = np.array(value)
        return key
    if type(value) is list and all(item is None or isinstance(item, np.ndarray) for item in value):
        return encode(value, arrays, key)
    return None


def call_case(fn, args, kwargs, seconds, wall_factor, twice=False):
    """Call ``fn`` under a time limit of ``seconds`` of CPU time (``start_timers``; a second time on
    fresh copies when ``twice``); return the record and its arrays."""
    arrays = {}
    fresh = copy.deepcopy((args, kwargs)) if twice else None
    before = list_items(args, kwargs)
    start_timers(seconds, wall_factor)
    try:
        result = fn(*args, **kwargs)
        again = fn(*fresh[0], **fresh[1]) if twice else None
        stop_timers()
        record = {"result": encode(result, arrays, "result")}
        if twice:
            record["again"] = encode(again, arrays, "again")
    except CaseTimeout as stop:
        record = timeout_record(seconds, wall_factor, stop)
    except BaseException as exc:  # the student's exception (SystemExit included) fails this case only
        stop_timers()
        record = describe_error(exc)
    record["args_after"] = [argument_after(arg, arrays, f"arg{position}") for position, arg in enumerate(args)]
    record["kwargs_after"] = {}
    for position, (key, value) in enumerate(sorted(kwargs.items())):
        after = argument_after(value, arrays, f"kwarg{position}")
        if after is not None:
            record["kwargs_after"][key] = after
    record["replaced"] = replaced_items(before, args, kwargs)
    return record, arrays


def save(out, index, record, arrays):
    """Write one case's record: the arrays first, then the JSON that says the case is done."""
    if arrays:
        with open(os.path.join(out, f"{index}.npz"), "wb") as handle:
            np.savez(handle, **arrays)
    with open(os.path.join(out, f"{index}.json"), "w") as handle:
        json.dump(record, handle)


def on_timer(signum, frame):
    """The per-case alarm: stop the student's function, saying which clock ran out."""
    raise CaseTimeout("cpu" if signum == signal.SIGPROF else "wall")


def start_timers(seconds, wall_factor):
    """Stop what runs now after ``seconds`` of this process's CPU time, or after ``wall_factor`` times as
    long on the clock: a grade must not depend on how busy the machine is, and the wall clock is only a
    backstop for code that waits without computing (``time.sleep``)."""
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, seconds * wall_factor)


def stop_timers():
    """Switch both timers off."""
    signal.setitimer(signal.ITIMER_PROF, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)


def timeout_record(limit, wall_factor, stop):
    """What a case or the cell that ran out of time records: its CPU limit, the clock that ran out and
    the wall-clock backstop."""
    return {"timeout": limit, "clock": stop.clock, "wall_limit": limit * wall_factor}


def base_namespace():
    """What every cell starts with: NumPy, math, and a ``get_ipython`` that does nothing."""
    return {"__name__": "__main__", "np": np, "numpy": np, "math": math, "get_ipython": Ignored()}


def supplied_functions(supplied):
    """Define the instructor's reference functions the exercise may call, each in its own namespace
    (with the functions it may call itself), in the order given; return them by name."""
    functions = {}
    for entry in supplied:
        namespace = base_namespace()
        namespace.update({name: functions[name] for name in entry["uses"]})
        exec(compile(entry["source"], f"reference {entry['name']}", "exec"), namespace)
        functions[entry["name"]] = namespace[entry["name"]]
    return functions


def main(job, readable):
    """Run the job in ``job``: the cell, then every case, writing results as they come."""
    with open(os.path.join(job, "spec.json")) as handle:
        spec = json.load(handle)
    with open(os.path.join(job, "cases.pkl"), "rb") as handle:
        cases = pickle.load(handle)
    with open(os.path.join(job, "solution.py")) as handle:
        source = handle.read()
    out = os.path.join(job, "out")
    os.makedirs(out, exist_ok=True)
    signal.signal(signal.SIGALRM, on_timer)
    signal.signal(signal.SIGPROF, on_timer)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # the student's printing is not graded
    switch_off_fork_exec()
    install_guard(os.path.realpath(out), [os.path.realpath(path) for path in readable])
    os.chdir(out)
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    wall_factor = spec["wall_factor"]
    start_timers(spec["cell_seconds"], wall_factor)
    try:
        functions = supplied_functions(spec.get("supplied", []))
        namespace = base_namespace()
        namespace.update({name: functions[name] for name in spec.get("uses", [])})
        exec(compile(source, CELL_NAME, "exec"), namespace)
        stop_timers()
    except CaseTimeout as stop:
        save(out, "cell", timeout_record(spec["cell_seconds"], wall_factor, stop), {})
        return
    except BaseException as exc:  # the cell's own crash: every case of this exercise fails
        stop_timers()
        save(out, "cell", describe_error(exc), {})
        return
    fn = namespace.get(spec["name"])
    save(out, "cell", {"defined": fn is not None, "callable": callable(fn),
                       "kind": encode(fn, {}, "fn", top=False) if not callable(fn) else {}}, {})
    if not callable(fn):
        return
    for index, (args, kwargs, twice) in enumerate(cases):
        record, arrays = call_case(fn, args, kwargs, spec["case_seconds"], wall_factor, twice)
        try:
            save(out, index, record, arrays)
        except Exception as exc:  # e.g. an output larger than the file-size limit
            save(out, index, {"unsaved": short(f"{type(exc).__name__}: {exc}"), "args_after": []}, {})
        if "timeout" in record:  # a function that hangs once would hang again: spare the others' time
            for rest in range(index + 1, len(cases)):
                save(out, rest, {"skipped": spec["case_seconds"], "args_after": []}, {})
            return


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
