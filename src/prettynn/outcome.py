"""What one call of a student's function produced, and what one case was judged to be.

Plain data, shared by every place a function runs (the visible check in the student's
kernel, the sandbox) and every place it is judged or reported: ``Outcome`` is what a call
produced, ``Foreign`` stands for a returned object the grader cannot hold, ``CaseResult``
is the judgement of one case.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .model import Case


@dataclass(frozen=True)
class Foreign:
    """A returned object the grader cannot hold itself (it came from a sandbox); ``kind`` names it."""

    kind: str


@dataclass(frozen=True)
class Outcome:
    """What one call of a student's function produced, wherever it ran.

    ``error_type``/``error`` describe the exception it raised ('' when none), ``where`` the
    student's line that raised it, ``torch_calls`` any call into torch, ``args_after`` and
    ``kwargs_after`` the inputs after the call (to catch in-place changes, and to read the
    arguments it must update). ``problem`` is set when the call produced nothing to judge
    (the sandbox stopped, its output was unreadable). ``again`` is what a second call on the
    same inputs returned, for a case that asks for two (``Case.twice``). ``replaced`` lists the
    items of list arguments that the call replaced by other objects instead of updating them in
    place, as ``(position or keyword, index)``.
    """

    result: object = None
    error_type: str = ""
    error: str = ""
    where: str = ""
    torch_calls: tuple = ()
    args_after: tuple = ()
    kwargs_after: dict = dataclasses.field(default_factory=dict)
    problem: str = ""
    again: object = None
    replaced: tuple = ()

    @property
    def raised(self) -> bool:
        """True when the call ended in an exception."""
        return bool(self.error_type)


@dataclass(frozen=True)
class CaseResult:
    """What happened on one case.

    ``problem`` is one sentence (empty when the case passed); ``detail`` gives expected
    vs got where values can be compared; ``hint`` and ``mistake`` name a recognised
    mistake. ``summary`` and ``hidden_problem`` are what a hidden case may show: no value
    that could echo its inputs (a returned input, an exception message).
    ``explains``/``contradicts`` name the known mistakes whose answer on this case is /
    is not what the function produced: a verdict names a mistake only when it explains a
    failed case and no case contradicts it.
    """

    case: Case
    passed: bool
    problem: str = ""
    detail: str = ""
    hint: str = ""
    not_attempted: bool = False
    call: str = ""
    mistake: str = ""
    summary: str = ""
    hidden_problem: str = ""
    explains: frozenset = frozenset()
    contradicts: frozenset = frozenset()
