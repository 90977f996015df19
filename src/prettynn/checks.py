"""Visible checks: what a student runs in a notebook to test an exercise.

``check("linear", linear)`` runs the exercise's visible cases through the grading
harness. It returns quietly after printing one line when every case passes, and
otherwise raises ``CheckFailure``: the failed case, what went wrong, expected vs got,
and a hint when the output matches a known mistake. In IPython the failure is shown as
that message alone, without a traceback.
"""

from __future__ import annotations

# The references are torch computations: load torch once, when the notebook's setup cell
# imports this module, so that each check cell runs in well under a second.
import torch  # noqa: F401

from .exercise import get
from .grading import Verdict, evaluate

RED, GREEN, BOLD, RESET = "\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[0m"


class CheckFailure(AssertionError):
    """A visible check failed; the message says which case and why."""

    headline = "✘ check failed"

    def _render_traceback_(self) -> list[str]:
        """IPython shows these lines instead of a traceback."""
        return [f"{RED}{BOLD}{self.headline}{RESET}", *str(self).splitlines()]


class NotAttempted(CheckFailure):
    """The exercise still raises ``NotImplementedError``."""

    headline = "… not attempted yet"


def failure_message(verdict: Verdict) -> str:
    """The message of a failed check: the first failed case in full, then a count."""
    first = verdict.failures[0]
    name = verdict.exercise.name
    lines = [f"{name}: case {verdict.results.index(first) + 1} of {verdict.total} failed.", first.report()]
    others = len(verdict.failures) - 1
    if others:
        lines.append(f"({others} other visible case{'s' if others > 1 else ''} failed too.)")
    return "\n".join(lines)


def check(name: str, fn) -> None:
    """Run the visible cases of exercise ``name`` on ``fn``; raise ``CheckFailure`` on failure."""
    exercise = get(name)
    verdict = evaluate(exercise, fn, exercise.visible_cases())
    if verdict.all_passed:
        print(f"{GREEN}✔{RESET} {name}: all {verdict.total} visible cases pass (grading tries many more).")
        return
    first = verdict.failures[0]
    error = NotAttempted if first.not_attempted else CheckFailure
    raise error(failure_message(verdict))
