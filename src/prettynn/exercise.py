"""How an exercise is declared, once, for its visible check, hidden tests and feedback.

An ``Exercise`` owns:

- ``reference``: the torch computation (float64) that defines the right answer;
- ``visible_cases``: a few small, fixed cases a student sees checked in the notebook;
- ``hidden_cases``: many random configurations drawn from a seeded generator;
- ``mistakes``: known wrong answers, each with the hint shown when a student's output
  matches it;
- ``points``: what the exercise is worth in nbgrader.

The declarations live in ``prettynn.exercises``; ``get(name)`` finds one by its
function name, which is also its nbgrader ``grade_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .compare import ATOL, RTOL


@dataclass(frozen=True)
class Case:
    """One call of an exercise function.

    ``description`` says what kind of case it is ("no bias, batch shape (2, 3, 4)"); it is
    shown to students for hidden cases too, so it names the kind, never the values.
    ``args``/``kwargs`` are what the function receives (NumPy arrays and plain values).
    """

    description: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    rtol: float = RTOL
    atol: float = ATOL

    def signature(self, names: list[str]) -> str:
        """The call's arguments, named by ``names``: ``x=array(4, 3) float64, bias=None``."""
        parts = [f"{name}={_describe_argument(value)}" for name, value in zip(names, self.args)]
        parts += [f"{key}={_describe_argument(value)}" for key, value in self.kwargs.items()]
        return ", ".join(parts)


def _describe_argument(value) -> str:
    """A short description of one argument: an array's shape and dtype, or the value."""
    if isinstance(value, np.ndarray):
        return f"array{value.shape} {value.dtype}"
    return repr(value)


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and the hint that names it.

    ``output(*args, **kwargs)`` computes the mistaken answer with NumPy (for the
    component ``component`` of a multi-output function, or the whole output); a student's
    output that matches it gets ``hint``. ``raises`` is a regular expression matched
    against the message of an exception the student's function raised instead.
    """

    name: str
    hint: str
    output: Callable | None = None
    component: str | None = None
    raises: str | None = None


@dataclass(frozen=True)
class Exercise:
    """A graded function: its contract, its cases, its known mistakes and its points.

    ``outputs`` names what the function returns: one name for a single array, several
    for a tuple (``("grad_x", "grad_weight", "grad_bias")``). ``scalar`` marks a function
    that returns one number (a float or a 0-d array).
    """

    name: str
    assignment: str
    points: float
    reference: Callable
    outputs: tuple[str, ...]
    visible_cases: Callable[[], list[Case]]
    hidden_cases: Callable[[np.random.Generator], list[Case]]
    mistakes: tuple[Mistake, ...] = ()
    scalar: bool = False
    mutable_args: tuple[int, ...] = ()

    @property
    def returns_tuple(self) -> bool:
        """True when the function returns several values."""
        return len(self.outputs) > 1

    def expected(self, case: Case) -> tuple:
        """The reference answer for ``case`` as a tuple of float64 arrays (or ``None``)."""
        result = self.reference(*case.args, **case.kwargs)
        if not self.returns_tuple:
            result = (result,)
        return tuple(None if value is None else np.asarray(value, dtype=np.float64) for value in result)


_REGISTRY: dict[str, Exercise] = {}


def register(*exercises: Exercise) -> None:
    """Add exercises to the registry; a name may be declared only once."""
    for exercise in exercises:
        if exercise.name in _REGISTRY:
            raise ValueError(f"exercise {exercise.name!r} is declared twice")
        _REGISTRY[exercise.name] = exercise


def get(name: str) -> Exercise:
    """The exercise whose function is called ``name``."""
    from . import exercises  # noqa: F401  (importing registers every declaration)

    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"no exercise is called {name!r}; known exercises: {known}") from None


def all_exercises(assignment: str | None = None) -> list[Exercise]:
    """Every declared exercise, or those of one assignment, in declaration order."""
    from . import exercises  # noqa: F401

    return [e for e in _REGISTRY.values() if assignment is None or e.assignment == assignment]
