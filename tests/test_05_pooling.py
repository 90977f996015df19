"""Chapter 05_pooling: what the generic tests don't cover.

- the hidden cases cover every argument of the contract and its edge cases;
- the inputs have no ties within a window, and respect torch's padding limit;
- the output-size rule (ceil mode and the dropped last window) is torch's;
- plain-loop solutions grade well within the sandbox's limits;
- the chapter's claims about TensorFlow's "SAME" padding, adaptive pooling and the experiment hold
  (the cells' own asserts, run with the instructor's solutions).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from prettynn.model import get
from prettynn.exercises._cases import pair
from prettynn.exercises.pooling import ceil_size_kept, torch_pool_output_size

from .conftest import all_samples

POOLS = ("max_pool2d", "avg_pool2d", "max_pool2d_backward")


def _cases(name, seed=0):
    exercise = get(name)
    return exercise.visible_cases() + exercise.hidden_cases(np.random.default_rng(seed))


def _input(name, case):
    return case.args[1] if name == "max_pool2d_backward" else case.args[0]


@pytest.mark.parametrize("name", POOLS)
def test_hidden_pooling_cases_cover_every_argument(name):
    cases = get(name).hidden_cases(np.random.default_rng(0))
    kernels = [case.args[2 if name == "max_pool2d_backward" else 1] for case in cases]
    assert any(isinstance(k, int) for k in kernels) and any(isinstance(k, tuple) for k in kernels)
    assert any(case.kwargs["stride"] is None for case in cases)
    assert any(isinstance(case.kwargs["stride"], tuple) for case in cases)
    assert any(pair(case.kwargs["padding"]) != (0, 0) for case in cases)
    assert any(isinstance(case.kwargs["padding"], tuple) for case in cases)
    assert any(_input(name, case).dtype == np.float32 for case in cases)
    if name != "avg_pool2d":
        assert any(max(pair(case.kwargs["dilation"])) > 1 for case in cases)
    else:
        assert {case.kwargs["count_include_pad"] for case in cases} == {True, False}
    descriptions = [case.description for case in cases]
    assert any("a last window in the padding dropped" in d for d in descriptions)
    assert any("a last partial window kept" in d for d in descriptions)
    assert any("ceil_mode=False" in d for d in descriptions)


@pytest.mark.parametrize("name", POOLS)
def test_ceil_mode_cases_are_what_their_description_says(name):
    for case in get(name).hidden_cases(np.random.default_rng(1)):
        x = _input(name, case)
        kernel = case.args[2 if name == "max_pool2d_backward" else 1]
        kw = case.kwargs
        stride = kernel if kw["stride"] is None else kw["stride"]
        axes = list(zip(x.shape[2:], pair(kernel), pair(stride), pair(kw["padding"]), pair(kw.get("dilation", 1))))
        ceil = [torch_pool_output_size(*axis, ceil_mode=True) for axis in axes]
        kept = [ceil_size_kept(*axis) for axis in axes]
        floor = [torch_pool_output_size(*axis) for axis in axes]
        if "dropped" in case.description:
            assert ceil != kept
        if "kept" in case.description:
            assert ceil == kept and ceil != floor


@pytest.mark.parametrize("name", POOLS)
def test_inputs_have_no_ties_and_padding_within_torchs_limit(name):
    for case in _cases(name, seed=2):
        x = _input(name, case)
        assert len(np.unique(x)) == x.size, case.description
        kernel = case.args[2 if name == "max_pool2d_backward" else 1]
        assert all(p <= k // 2 for p, k in zip(pair(case.kwargs.get("padding", 0)), pair(kernel)))


def test_adaptive_cases_cover_dividing_and_non_dividing_sizes():
    cases = _cases("adaptive_avg_pool2d")
    def divides(case):
        return all(length % size == 0 for length, size in zip(case.args[0].shape[2:], pair(case.args[1])))
    assert any(divides(case) for case in cases) and any(not divides(case) for case in cases)
    assert any(pair(case.args[1]) == (1, 1) for case in cases)
    assert any(isinstance(case.args[1], tuple) and case.args[1][0] != case.args[1][1] for case in cases)
    assert any(pair(case.args[1])[0] > case.args[0].shape[2] for case in cases)
    assert any(case.args[0].dtype == np.float32 for case in cases)


@pytest.mark.slow
@pytest.mark.parametrize("name", ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "max_pool2d_backward"))
def test_plain_loop_solution_grades_well_within_the_sandbox_limits(name):
    """The sample written with plain Python loops, in the grader's sandbox on every case: a tenth of the limits."""
    from prettynn.judging import Verdict, judge
    from prettynn.sandbox.runner import Limits, run_solution

    source = next(entry["replace"][name] for entry in all_samples()
                  if entry["assignment"] == "05_pooling" and entry["expect"] == "full"
                  and name in entry.get("replace", {}))
    exercise = get(name)
    cases = _cases(name, seed=1)
    run = run_solution(source, name, cases, Limits(), bubblewrap=False, uses=exercise.uses)
    assert run.problem == ""
    assert Verdict.of(exercise, [judge(exercise, c, o) for c, o in zip(cases, run.outcomes)]).all_passed
    assert run.seconds < Limits().total_seconds / 10


# The chapter's cells whose asserts back a sentence of its prose (the shift example, the receptive-field
# rule, TensorFlow's "SAME", when adaptive pooling is plain pooling, global average pooling, the digits
# experiment), run here with the instructor's solutions standing in for the reader's.
CLAIM_CELLS = ("shift-example", "receptive-field", "same-padding-compare", "adaptive-plain-pooling",
               "adaptive-any-size", "experiment")


@pytest.mark.parametrize("cell_id", CLAIM_CELLS)
def test_the_chapters_computed_claims_hold(cell_id, reference_solutions):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from prettynn.course import notebooks

    root = Path(__file__).parents[1]
    chapter = notebooks.read(notebooks.source_path(root, "05_pooling"))
    source = next(cell.source for cell in chapter.cells if cell.get("id") == cell_id)
    names = ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "max_pool2d_backward")
    namespace = {"np": np, "math": math, "plt": plt, **{name: reference_solutions[name] for name in names}}
    exec(compile(source, cell_id, "exec"), namespace)  # the cell's asserts are the test
    plt.close("all")


def test_the_chapter_names_the_claim_cells_its_prose_relies_on():
    from prettynn.course import notebooks

    root = Path(__file__).parents[1]
    chapter = notebooks.read(notebooks.source_path(root, "05_pooling"))
    sources = {cell.get("id"): cell.source for cell in chapter.cells}
    for cell_id in CLAIM_CELLS:
        assert "assert" in sources[cell_id], f"cell {cell_id} backs a sentence of the prose with no assert"
    for cell_id in ("same-padding-compare", "adaptive-any-size", "worked-example-backward", "experiment"):
        assert "checked(" in sources[cell_id], f"cell {cell_id} uses the reader's functions without checking them"


def test_chapter_samples_name_the_three_typical_mistakes():
    losers = {tuple(entry["loses"]) for entry in all_samples()
              if entry["assignment"] == "05_pooling" and entry["expect"] == "loses"}
    assert losers == {("max_pool2d",), ("max_pool2d_backward",), ("avg_pool2d",)}
    assert Path(__file__).parents[1].joinpath("autograde/samples/05_pooling.toml").is_file()
