"""prettynn.grading: the nbgrader grade of one exercise, as a hidden-test cell calls it."""

from __future__ import annotations

from prettynn.grading import grade
from prettynn.model import get


def test_grade_prints_report_and_returns_points(capsys, reference_solutions):
    assert grade("relu", reference_solutions["relu"]) == get("relu").points
    assert "all" in capsys.readouterr().out
