"""prettynn.course.rebuildfromrelease: where a student's code is found, and what the notes say."""

from __future__ import annotations

import nbformat

from prettynn.course import notebooks
from prettynn.course.rebuildfromrelease import _code_for, _structure_notes

from .conftest import ROOT


def release():
    """The 01_linear release notebook."""
    return notebooks.read(notebooks.release_path(ROOT, "01_linear"))


def code_cell(source: str, grade_id: str = "") -> nbformat.NotebookNode:
    """A code cell, tagged as a solution cell when ``grade_id`` is given."""
    cell = nbformat.v4.new_code_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": True, "grade": False, "locked": False}
    return cell


def test_the_last_definition_wins_as_when_the_notebook_runs():
    nb = nbformat.v4.new_notebook(cells=[code_cell("def relu(x):\n    raise NotImplementedError", "relu"),
                                         code_cell("def relu(x):\n    return x * (x > 0)")])
    code, note = _code_for(nb, "relu")
    assert "x > 0" in code and "without its grade id" in note


def test_a_missing_exercise_is_graded_as_not_attempted():
    code, note = _code_for(nbformat.v4.new_notebook(), "relu")
    assert code is None and "not attempted" in note


def test_a_faithful_submission_gets_no_notes():
    assert _structure_notes(release(), release()) == []


def test_metadata_that_is_not_a_dictionary_is_survived():
    nb = release()
    nb.cells[3].metadata["nbgrader"] = "hacked"
    assert any("missing" in note for note in _structure_notes(nb, release()))
