"""How an exercise is declared, once, for its visible check, hidden tests and feedback.

An ``Exercise`` owns:

- ``reference``: the torch computation (float64) that defines the right answer;
- ``visible_cases``: a few small, fixed cases a student sees checked in the notebook;
- ``hidden_cases``: many random configurations drawn from a seeded generator;
- ``mistakes``: known wrong answers, each with the hint shown when a student's output
  matches it;
- ``points``: what the exercise is worth in nbgrader;
- ``uses``: the graded functions (of its own or an earlier chapter) a solution may call;
  the grader supplies them from the instructor's reference solutions, the visible check
  from stand-ins built on their torch references, never from the student's other cells;
- ``updates``: arguments the function must update in place (``batch_norm``'s running
  statistics), compared after the call with what the reference left in them;
- ``properties``: checks of outputs that have no single right value (random masks),
  run on what the function returned;
- ``kind``: what the function returns: arrays (``"array"``), one number (``"number"``)
  or one integer (``"integer"``, compared exactly).

A case may instead expect an exception (``Case.raises``): raising it is then the right answer;
or ask for two calls that must agree (``Case.twice``).

The declarations live in ``prettynn.exercises``; ``get(name)`` finds one by its
function name, which is also its nbgrader ``grade_id``.
"""

from __future__ import annotations

import copy
import inspect
import re
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
    ``raises`` names the exception class the call must raise (``"ValueError"``), if any.
    ``twice`` calls the function a second time on fresh copies of the same inputs (a seeded
    ``numpy.random.Generator`` included): both calls must return the same, so a random
    function must draw only from the generator it is given.
    """

    description: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    rtol: float = RTOL
    atol: float = ATOL
    raises: str = ""
    twice: bool = False

    def signature(self, names: list[str]) -> str:
        """The call's arguments, named by ``names``: ``x=array(4, 3) float64, bias=None``."""
        parts = [f"{name}={_describe_argument(value)}" for name, value in zip(names, self.args)]
        parts += [f"{key}={_describe_argument(value)}" for key, value in self.kwargs.items()]
        return ", ".join(parts)


def _describe_argument(value) -> str:
    """A short description of one argument: an array's shape and dtype, or the value (without the
    memory address in an object's repr, so that a message is the same on every run)."""
    if isinstance(value, np.ndarray):
        return f"array{value.shape} {value.dtype}"
    if isinstance(value, list):
        return f"[{', '.join(_describe_argument(item) for item in value)}]"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and the hint that names it.

    ``output(*args, **kwargs)`` computes the mistaken answer with NumPy (for the
    component ``component`` of a multi-output function, or the whole output; or, when
    ``component`` names an argument the exercise ``updates``, what the mistake leaves in
    that argument); a student's output that matches it gets ``hint``. ``raises`` is a regular expression matched
    against the message of an exception the student's function raised instead.
    """

    name: str
    hint: str
    output: Callable | None = None
    component: str | None = None
    raises: str | None = None


@dataclass(frozen=True)
class Property:
    """A check of what a function returned, for outputs that have no single right value.

    ``check(case, outputs)`` receives the case and the returned components (a tuple, in
    the order of ``Exercise.outputs``) and returns one sentence naming what is wrong, or
    ''. ``hint`` says what to fix. Statistical properties choose their tolerance with
    ``prettynn.tolerances`` so that a correct solution fails by chance with probability
    below ``tolerances.FALSE_FAILURE``.
    """

    name: str
    check: Callable
    hint: str = ""


KINDS = ("array", "number", "integer")


@dataclass(frozen=True)
class Exercise:
    """A graded function: its contract, its cases, its known mistakes and its points.

    ``outputs`` names what the function returns: one name for a single array, several
    for a tuple (``("grad_x", "grad_weight", "grad_bias")``), none for a function that
    returns ``None`` and only updates the arguments named by ``updates`` in place. ``reference`` may be
    ``None`` when ``properties`` alone judge the outputs (random outputs).
    ``stand_in``: for an exercise without a reference (random outputs), a function that
    follows the contract (torch-based), used where the reader's function is not written or
    fails its check (``prettynn.checks.stand_in``).
    ``sums_of_products``: every output element is a sum of products of input elements (a
    linear map of each input, as in a convolution and its gradients); an element may then
    also be off by the error bound of a float32 sum (``prettynn.compare``), so a solution
    that computes in float32 is graded on its values.
    """

    name: str
    assignment: str
    points: float
    reference: Callable | None
    outputs: tuple[str, ...]
    visible_cases: Callable[[], list[Case]]
    hidden_cases: Callable[[np.random.Generator], list[Case]]
    mistakes: tuple[Mistake, ...] = ()
    kind: str = "array"
    uses: tuple[str, ...] = ()
    updates: tuple[str, ...] = ()
    properties: tuple[Property, ...] = ()
    parameter_names: tuple[str, ...] = ()  # only when there is no reference to read them from
    sums_of_products: bool = False
    stand_in: Callable | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"exercise {self.name}: kind must be one of {KINDS}, not {self.kind!r}")
        if self.reference is None and not self.properties:
            raise ValueError(f"exercise {self.name}: without a reference, properties must judge the outputs")
        missing = set(self.updates) - set(self.parameters)
        if missing:
            raise ValueError(f"exercise {self.name}: updates names no parameter: {sorted(missing)}")

    @property
    def parameters(self) -> list[str]:
        """The function's parameter names, in order (read from the reference, else ``parameter_names``)."""
        if self.reference is None:
            return list(self.parameter_names)
        return list(inspect.signature(self.reference).parameters)

    @property
    def returns_tuple(self) -> bool:
        """True when the function returns several values."""
        return len(self.outputs) > 1

    def named_arguments(self, args: tuple, kwargs: dict) -> dict:
        """A call's arguments by parameter name (positional ones named by ``parameters``)."""
        return {**dict(zip(self.parameters, args)), **kwargs}

    def expected(self, case: Case) -> tuple:
        """The reference answer for ``case`` as a tuple of float64 arrays (or ``None``)."""
        return self.run_reference(case)[0]

    def run_reference(self, case: Case) -> tuple[tuple, dict]:
        """The reference's outputs on ``case`` and, by name, what it left in the ``updates`` arguments.

        The reference runs on copies of the inputs; an exercise without a reference expects
        nothing (``()``, ``{}``).
        """
        if self.reference is None:
            return (), {}
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
        result = self.reference(*args, **kwargs)
        if not self.returns_tuple:
            result = (result,)
        after = self.named_arguments(args, kwargs)
        outputs = tuple(None if value is None else np.asarray(value, dtype=np.float64) for value in result)
        return outputs, {name: after.get(name) for name in self.updates}


    def term_magnitudes(self, case: Case) -> tuple[tuple, int] | None:
        """For a ``sums_of_products`` exercise: the sum of the absolute terms behind each output
        element (the reference on the absolute values of the inputs) and the number of terms
        to allow for (the largest input's size plus 2); ``None`` for other exercises."""
        if not self.sums_of_products or self.reference is None:
            return None
        absolute = Case(case.description, tuple(_absolute(a) for a in case.args),
                        {k: _absolute(v) for k, v in case.kwargs.items()})
        arrays = [a for a in (*case.args, *case.kwargs.values()) if isinstance(a, np.ndarray)]
        return self.run_reference(absolute)[0], max((a.size for a in arrays), default=0) + 2


def _absolute(value):
    """A float array's absolute values; any other argument as it is."""
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
        return np.abs(value)
    return value


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


def definition_order(names) -> list[str]:
    """``names`` and every graded function they may call, directly or through another, each after
    those it calls itself (the order in which they must be defined)."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise ValueError(f"exercises use each other in a cycle: {' -> '.join(path + (name,))}")
        for used in get(name).uses:
            visit(used, path + (name,))
        if name not in order:
            order.append(name)

    for name in names:
        visit(name, ())
    return order


def dependencies(exercise: Exercise) -> list[str]:
    """Every graded function ``exercise`` may call, directly or through another, in definition order."""
    return definition_order(exercise.uses)


def all_exercises(assignment: str | None = None) -> list[Exercise]:
    """Every declared exercise, or those of one assignment, in declaration order."""
    from . import exercises  # noqa: F401

    return [e for e in _REGISTRY.values() if assignment is None or e.assignment == assignment]
