"""prettynn.course.notebook_regions: nbgrader's delimiters, the student's stub, the functions a cell defines."""

from __future__ import annotations

import pytest

from prettynn.course import notebook_regions, notebooks
from prettynn.course.notebook_regions import graded_calls
from prettynn.model import all_exercises

from .conftest import ROOT

CELL = '''def relu(x):
    """Doc."""
    ### BEGIN SOLUTION
    out = np.maximum(x, 0)
    return out
    ### END SOLUTION


def helper(y):
    return y
'''


def test_the_stub_replaces_the_solution_region_at_its_indentation():
    stub = notebook_regions.solution_stub(CELL)
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()" in stub
    assert "np.maximum" not in stub and "def helper(y):" in stub


def test_solution_lines_are_the_answer_only():
    assert notebook_regions.solution_lines(CELL) == ["out = np.maximum(x, 0)", "return out"]


def test_the_functions_a_cell_defines_at_top_level():
    source = CELL + "    def nested(z):\n        return z\nclass Layer:\n    def forward(self):\n        pass\n"
    assert notebook_regions.defined_functions(source) == ["relu", "helper"]
    assert notebook_regions.defines(source, "relu") and not notebook_regions.defines(source, "nested")


@pytest.mark.parametrize("chapter", notebooks.chapters(ROOT))
def test_the_hidden_test_cells_name_their_exercise_and_seed(chapter):
    source = notebooks.read(notebooks.source_path(ROOT, chapter))
    calls = [call for cell in source.cells if notebooks.is_test(cell) for call in graded_calls(cell.source)]
    assert [name for name, _ in calls] == [exercise.name for exercise in all_exercises(chapter)]
    assert len({seed for _, seed in calls}) == len(calls)


def test_graded_calls_ignore_code_that_does_not_parse():
    assert graded_calls("grade('relu', relu, seed=1") == []
