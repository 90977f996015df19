"""The nbgrader grade of one exercise: what a notebook's hidden-test cell calls.

``grade("linear", linear, seed=...)`` judges the function on the exercise's visible and
seeded hidden cases (``prettynn.judging``), prints what a student may see of it
(``prettynn.feedback.hidden_report``) and returns the points, which nbgrader reads as the
cell's partial credit. The course's autograde does not run this call in the student's
kernel: it reads the exercise and the seed from it and grades in a sandbox
(``prettynn.course.gradeinsandbox``); plain nbgrader would run it.
"""

from __future__ import annotations

from .feedback import hidden_report
from .judging import HIDDEN_CASES_SEED, hidden_verdict


def grade(name: str, fn, seed: int = HIDDEN_CASES_SEED) -> float:
    """Print the hidden-test report of ``fn`` as exercise ``name``; return the points earned."""
    verdict = hidden_verdict(name, fn, seed)
    print(hidden_report(verdict))
    return verdict.points()
