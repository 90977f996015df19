"""The instructor's reference solutions, supplied to exercises that build on other exercises.

A solution may call the graded functions its exercise ``uses`` (``prettynn.exercise``).
When grading, the sandbox defines them from the instructor's solution cells in
``solutions/``, never from the student's other cells, so a mistake costs only the exercise
that contains it. The NumPy reference solutions therefore stay in the course directory:
the package that students install holds none.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..exercise import Exercise, dependencies, get
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


def supplied_for(root: Path, exercise: Exercise) -> tuple[Supplied, ...]:
    """The reference functions ``exercise`` may call, in the order the sandbox defines them."""
    supplied = []
    for name in dependencies(exercise):
        used = get(name)
        source = reference_sources(Path(root), used.assignment).get(name)
        if source is None:
            raise MissingReference(f"`{exercise.name}` uses `{name}`, but solutions/{used.assignment} has no "
                                   f"solution cell for it")
        supplied.append(Supplied(name, source, used.uses))
    return tuple(supplied)
