"""The reader's own functions from an earlier chapter, reused to build the networks of this one.

``own_functions("01_linear", "linear", "relu")`` reads the notebook of chapter 01 next to
this one (``../01_linear/01_linear.ipynb`` for the course's ``notebooks/<chapter>/``
folders, ``./01_linear.ipynb`` for the book's pages), runs each function's own cell alone,
as the grader does, and checks it on its visible cases. A function that passes is the
reader's own; one that is missing or does not pass yet is replaced by a stand-in built on
the torch reference (``prettynn.checks.stand_in``), and a line says which is which, so a
later chapter works before an earlier one is finished.

``checked(batch_norm, batch_norm_backward)`` does the same for functions of the current
chapter, defined in this notebook: each is checked as graded, and a stand-in takes the place
of one that is not attempted yet or fails its check, so an experiment never runs silently on a
wrong function, and Run All on a blank notebook still reads well.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

from .checks import CheckFailure, NotAttempted, as_graded, check, stand_in
from .course.notebook_regions import defines
from .model import get
from .judging import evaluate


def chapter_notebook(chapter: str, here: Path | None = None) -> Path | None:
    """The notebook of ``chapter`` beside the current one, or ``None``."""
    here = Path.cwd() if here is None else here
    for candidate in (here.parent / chapter / f"{chapter}.ipynb", here / f"{chapter}.ipynb"):
        if candidate.is_file():
            return candidate
    return None


def _cell_defining(notebook: Path, name: str) -> str | None:
    """The code of the last code cell of ``notebook`` that defines ``name``, or ``None``."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    sources = ["".join(cell.get("source", "")) for cell in cells if cell.get("cell_type") == "code"]
    defining = [source for source in sources if defines(source, name)]
    return defining[-1] if defining else None


def _own_function(notebook: Path | None, name: str):
    """The reader's ``name`` from ``notebook`` if it passes its visible check, else ``None``."""
    source = _cell_defining(notebook, name) if notebook else None
    if source is None:
        return None
    exercise = get(name)
    try:
        with redirect_stdout(io.StringIO()):
            function = as_graded(exercise, source, f"<{notebook.name}: {name}>")
    except Exception:  # noqa: BLE001 (a cell that does not run on its own is not used)
        return None
    if function is None or not evaluate(exercise, function, exercise.visible_cases()).all_passed:
        return None
    return function


def own_functions(chapter: str, *names: str, here: Path | None = None) -> tuple:
    """The functions ``names`` of ``chapter``: the reader's own where they pass their check, stand-ins
    elsewhere; prints one line saying which."""
    notebook = chapter_notebook(chapter, here)
    functions, own, standing_in = [], [], []
    for name in names:
        function = _own_function(notebook, name)
        (own if function is not None else standing_in).append(name)
        functions.append(function if function is not None else stand_in(name))
    parts = []
    if own:
        parts.append(f"your own {', '.join(own)} from {chapter}")
    if standing_in:
        parts.append(f"reference stand-ins for {', '.join(standing_in)} (not found in {chapter}'s notebook, "
                     "or not passing its check yet)")
    print("Using " + "; ".join(parts) + ".")
    return tuple(functions)


def _why_not_used(function) -> str:
    """'' when ``function`` passes its visible check as graded, else why not ('not attempted yet', ...)."""
    try:
        with redirect_stdout(io.StringIO()):
            check(function.__name__, function)
    except NotAttempted:
        return "not attempted yet"
    except CheckFailure:
        return "its check fails: run its check cell to see why"
    return ""


def checked(*functions) -> tuple:
    """The reader's ``functions`` (graded exercises of this chapter, by their names) where each
    passes its visible check as graded; a torch-based stand-in for each that does not.
    Prints one line saying which is which."""
    chosen, own, standing_in = [], [], []
    for function in functions:
        name = function.__name__
        get(name)  # a KeyError names a function that is not a graded exercise
        reason = _why_not_used(function)
        if reason:
            standing_in.append(f"{name} ({reason})")
            chosen.append(stand_in(name))
        else:
            own.append(name)
            chosen.append(function)
    parts = []
    if own:
        parts.append(f"Using your own {', '.join(own)}.")
    if standing_in:
        parts.append(f"The reference stands in for {', '.join(standing_in)}.")
    print(" ".join(parts))
    return tuple(chosen)
