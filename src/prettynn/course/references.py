"""The instructor's reference solutions, supplied to exercises that build on other exercises.

A solution may call the graded functions its exercise ``uses`` (``prettynn.model``).
When grading, the sandbox defines them from the instructor's solution cells in
``solutions/``, never from the student's other cells, so a mistake costs only the exercise
that contains it. The NumPy reference solutions therefore stay in the course directory:
the package that students install holds none.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from ..model import Exercise, definition_order, dependencies, get
from ..sandbox.child import supplied_functions
from ..sandbox.runner import Supplied
from . import notebooks


class MissingReference(LookupError):
    """An exercise uses a function whose reference solution is not in the course directory."""


@functools.lru_cache(maxsize=None)
def reference_sources(root: Path, chapter: str) -> dict[str, str]:
    """The code of each solution cell of ``chapter``'s instructor notebook, by grade id."""
    path = notebooks.source_path(root, chapter)
    if not path.is_file():
        return {}
    return notebooks.solution_sources(notebooks.read(path))


def supplied(root: Path, names, needed_by: str = "") -> tuple[Supplied, ...]:
    """The instructor's solutions of ``names`` (in definition order: each after the functions it
    uses), as the sandbox receives them; ``needed_by`` names the exercise that asked, for the error."""
    entries = []
    for name in names:
        used = get(name)
        source = reference_sources(Path(root), used.assignment).get(name)
        if source is None:
            asker = f"`{needed_by}` uses `{name}`, but " if needed_by else ""
            raise MissingReference(f"{asker}solutions/{used.assignment} has no solution cell for `{name}`")
        entries.append(Supplied(name, source, used.uses))
    return tuple(entries)


def supplied_for(root: Path, exercise: Exercise) -> tuple[Supplied, ...]:
    """The reference functions ``exercise`` may call, in the order the sandbox defines them."""
    return supplied(root, dependencies(exercise), needed_by=exercise.name)


def instructor_functions(root: Path, names) -> dict:
    """The instructor's solutions of ``names``, by name, defined as the sandbox defines them (each in
    its own namespace, with the instructor's versions of the functions it uses): for tests,
    benchmarks and experiments that need the reference NumPy code."""
    entries = supplied(root, definition_order(names))
    functions = supplied_functions([dataclasses.asdict(entry) for entry in entries])
    return {name: functions[name] for name in names}
