"""prettynn.course.hide_hidden_tests: feedback keeps a hidden-test cell's verdict and drops its code."""

from __future__ import annotations

import nbformat

from prettynn.course.hide_hidden_tests import HideHiddenTests

TEST_CELL = ('check("relu", relu)\n'
             "### BEGIN HIDDEN TESTS\n"
             'from prettynn.grading import grade\n'
             'grade("relu", relu, seed=7)\n'
             "### END HIDDEN TESTS")


def feedback_of(*cells) -> nbformat.NotebookNode:
    """The notebook made of ``cells`` after the preprocessor."""
    notebook = nbformat.v4.new_notebook(cells=list(cells))
    processed, _ = HideHiddenTests().preprocess(notebook, {})
    return processed


def test_the_hidden_region_becomes_the_note_and_the_verdict_stays():
    cell = nbformat.v4.new_code_cell(TEST_CELL)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="relu: 30 of 41 test cases pass.\n")]
    processed = feedback_of(cell).cells[0]
    assert processed.source == 'check("relu", relu)\n' + HideHiddenTests().note
    assert "seed=7" not in processed.source and "grade(" not in processed.source
    assert processed.outputs[0].text == "relu: 30 of 41 test cases pass.\n"


def test_markdown_and_cells_without_hidden_tests_are_left_alone():
    markdown = nbformat.v4.new_markdown_cell("### BEGIN HIDDEN TESTS is how nbgrader marks them")
    code = nbformat.v4.new_code_cell("x = 1")
    processed = feedback_of(markdown, code)
    assert [c.source for c in processed.cells] == [markdown.source, "x = 1"]


def test_the_note_is_configurable():
    processed, _ = HideHiddenTests(note="# (hidden)").preprocess(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TEST_CELL)]), {})
    assert processed.cells[0].source.endswith("# (hidden)")
