"""prettynn.course.exercise_cells: a declaration and a solution cell make an exercise."""

from __future__ import annotations

import nbformat
import pytest

from prettynn.course import exercise_cells, notebooks
from prettynn.course.notebook_regions import graded_calls
from prettynn.model import all_exercises, get

NAMES = [exercise.name for exercise in all_exercises("01_linear")]


def solution_cell(name: str) -> nbformat.NotebookNode:
    """A bare solution cell as an author writes it: no metadata, just the function and the delimiters."""
    return nbformat.v4.new_code_cell(f"def {name}(*args):\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION")


def authored_notebook() -> nbformat.NotebookNode:
    """A chapter notebook with prose and one bare solution cell per 01_linear exercise."""
    cells = [nbformat.v4.new_markdown_cell("# A chapter")]
    for name in NAMES:
        cells += [nbformat.v4.new_markdown_cell(f"Write `{name}`."), solution_cell(name)]
    return nbformat.v4.new_notebook(cells=cells)


def test_sync_adds_metadata_and_grading_cells_worth_the_declared_points():
    synced = exercise_cells.sync(authored_notebook(), "01_linear")
    nbformat.validate(synced)
    order = [notebooks.grade_id(cell) for cell in synced.cells if notebooks.grade_id(cell)]
    assert order == [gid for name in NAMES for gid in (name, f"check_{name}", f"test_{name}")]
    tests = [cell for cell in synced.cells if notebooks.is_test(cell)]
    assert [cell.metadata.nbgrader["points"] for cell in tests] == [get(name).points for name in NAMES]
    seeds = [seed for cell in tests for _, seed in graded_calls(cell.source)]
    assert len(set(seeds)) == len(NAMES)


def test_sync_is_stable_and_keeps_seeds():
    once = exercise_cells.sync(authored_notebook(), "01_linear")
    assert exercise_cells.sync(once, "01_linear") == once


def test_stale_grading_cells_are_removed():
    notebook = exercise_cells.sync(authored_notebook(), "01_linear")
    stale = nbformat.v4.new_code_cell('check("softmax", softmax)')
    stale.metadata["nbgrader"] = {"grade": False, "grade_id": "check_softmax", "locked": True,
                                  "schema_version": 3, "solution": False}
    notebook.cells.insert(1, stale)
    assert exercise_cells.sync(notebook, "01_linear").cells[1].source == "Write `linear`."


def test_a_declared_exercise_without_a_solution_cell_is_named():
    notebook = authored_notebook()
    notebook.cells = [cell for cell in notebook.cells if "def relu(" not in cell.source]
    with pytest.raises(exercise_cells.AuthoringError, match="no solution cell defines relu"):
        exercise_cells.sync(notebook, "01_linear")


def test_points_table_lists_every_exercise_and_the_total():
    table = exercise_cells.points_table(["01_linear"])
    assert all(f"`{name}`" in table for name in NAMES)
    assert f"**{sum(get(name).points for name in NAMES):g}**" in table
