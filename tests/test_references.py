"""prettynn.course.references: the instructor's solutions, defined in dependency order, as the sandbox
defines them."""

from __future__ import annotations

import numpy as np
import pytest

from prettynn import model
from prettynn.course import notebooks, references
from prettynn.model import definition_order, dependencies

from .conftest import ROOT


def test_every_declared_use_names_a_graded_function_with_a_reference_solution():
    for chapter in notebooks.chapters(ROOT):
        for declared in model.all_exercises(chapter):
            supplied = references.supplied_for(ROOT, declared)  # raises MissingReference otherwise
            assert [s.name for s in supplied] == dependencies(declared)


def test_functions_come_after_the_functions_they_use():
    order = definition_order(["conv2d_backward", "corr2d"])
    assert order.index("corr2d") < order.index("conv2d") < order.index("conv2d_backward")
    assert order.index("conv2d_output_size") < order.index("conv2d")
    assert [entry.name for entry in references.supplied(ROOT, order)] == order


def test_instructor_functions_use_the_instructors_versions_of_what_they_call():
    functions = references.instructor_functions(ROOT, ["conv2d"])
    assert list(functions) == ["conv2d"]
    rng = np.random.default_rng(0)
    x, weight = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 2))
    corr2d = references.instructor_functions(ROOT, ["corr2d"])["corr2d"]
    expected = np.stack([[sum(corr2d(x[n, c], weight[o, c]) for c in range(3)) for o in range(4)] for n in range(2)])
    np.testing.assert_allclose(functions["conv2d"](x, weight), expected, atol=1e-12)
    assert functions["conv2d"].__globals__["corr2d"].__code__.co_filename == "reference corr2d"


def test_a_used_function_without_a_solution_cell_is_named(monkeypatch):
    monkeypatch.setattr(references, "reference_sources", lambda root, chapter: {})
    with pytest.raises(references.MissingReference, match="`conv2d` uses `corr2d`, but solutions/04_convolution"):
        references.supplied_for(ROOT, model.get("conv2d"))
