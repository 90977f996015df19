"""prettynn.course.notebook_regions: nbgrader's delimiters, the student's stub, the functions a cell defines."""

from __future__ import annotations

from prettynn.course import notebook_regions

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
