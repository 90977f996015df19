"""Helpers for tests that judge a function on an exercise's visible cases."""

from __future__ import annotations

from prettynn.judging import Verdict, evaluate
from prettynn.model import get


def visible(name: str, fn) -> Verdict:
    """The verdict of ``fn`` on exercise ``name``'s visible cases."""
    exercise = get(name)
    return evaluate(exercise, fn, exercise.visible_cases())


def first_problem(name: str, fn) -> str:
    """The problem of the first failed visible case (the verdict must have one)."""
    verdict = visible(name, fn)
    assert not verdict.all_passed
    return verdict.failures[0].problem
