"""Chapter 02_dropout: what the generic tests cannot see.

``dropout`` is judged by properties (no reference output), so its typical mistakes are
written out here as student functions: each must fail a visible case with its hint and
lose hidden points. The statistical checks are tested for their false-failure rate, and
the ``Dropout`` layer of ``prettynn.layers`` for using the reader's functions.
"""

from __future__ import annotations

import numpy as np
import pytest

from prettynn import tolerances
from prettynn.model import get
from prettynn.exercises import dropout as declarations
from prettynn.feedback import case_report
from prettynn.judging import evaluate, hidden_verdict
from prettynn.layers import Dropout

from .conftest import load_functions

EXERCISE = get("dropout")

# Each mistaken dropout differs from a correct one only where its name says.
START = '''
def dropout(x, p=0.5, training=True, rng=None):
    if not 0 <= p <= 1:
        raise ValueError("p must be in [0, 1]")
    if not training:
        return x * 1.0, np.ones(np.shape(x))
    if rng is None:
        rng = np.random.default_rng()
'''
SCALE = "(0.0 if p == 1 else 1 / (1 - p))"

MISTAKES = {
    "keeps with probability p": (START + f'''
    mask = (rng.random(x.shape) < p) * {SCALE}
    return x * mask, mask
''', declarations.KEEP_RATE_HINT),
    "no inverted scaling, scaled at evaluation instead": ('''
def dropout(x, p=0.5, training=True, rng=None):
    if not 0 <= p <= 1:
        raise ValueError("p must be in [0, 1]")
    if not training:
        return x * (1 - p), np.full(x.shape, 1.0 - p)
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p).astype(float)
    return x * mask, mask
''', declarations.SCALE_HINT),
    "scaling applied in evaluation mode": ('''
def dropout(x, p=0.5, training=True, rng=None):
    if not 0 <= p <= 1:
        raise ValueError("p must be in [0, 1]")
    scale = 0.0 if p == 1 else 1 / (1 - p)
    if not training:
        return x * scale, np.full(x.shape, scale)
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) * scale
    return x * mask, mask
''', declarations.EVALUATION_HINT),
    "p = 1 gives nan": (START + '''
    mask = (rng.random(x.shape) >= p) / np.float64(1 - p)
    return x * mask, mask
''', declarations.P_EQUALS_ONE_HINT),
    "p = 1 divides by zero": (START + '''
    scale = 1 / (1 - p)
    mask = (rng.random(x.shape) >= p) * scale
    return x * mask, mask
''', declarations.P_EQUALS_ONE_HINT),
    "one decision per row": (START + f'''
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    mask = (rng.random(shape) >= p) * {SCALE} * np.ones(x.shape)
    return x * mask, mask
''', declarations.PER_ELEMENT_HINT + ", not one decision per example (row)."),
    "one mask shared by the batch": (START + f'''
    mask = (rng.random(x.shape[1:]) >= p) * {SCALE} * np.ones(x.shape)
    return x * mask, mask
''', declarations.PER_ELEMENT_HINT + ", not one mask of features shared by the whole batch."),
    "np.random instead of rng": ('''
def dropout(x, p=0.5, training=True, rng=None):
    if not 0 <= p <= 1:
        raise ValueError("p must be in [0, 1]")
    if not training:
        return x * 1.0, np.ones(x.shape)
    mask = (np.random.random(x.shape) >= p) * (0.0 if p == 1 else 1 / (1 - p))
    return x * mask, mask
''', "draw every random number from the `rng` you are given"),
    "rng None not handled": ('''
def dropout(x, p=0.5, training=True, rng=None):
    if not 0 <= p <= 1:
        raise ValueError("p must be in [0, 1]")
    if not training:
        return x * 1.0, np.ones(x.shape)
    mask = (rng.random(x.shape) >= p) * (0.0 if p == 1 else 1 / (1 - p))
    return x * mask, mask
''', "np.random.default_rng()"),
    "p not checked": ('''
def dropout(x, p=0.5, training=True, rng=None):
    if not training:
        return x * 1.0, np.ones(x.shape)
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) * (0.0 if p == 1 else 1 / (1 - p))
    return x * mask, mask
''', "raise ValueError(...)"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_typical_wrong_dropout_fails_a_visible_case_with_its_hint_and_loses_points(mistake):
    source, hint = MISTAKES[mistake]
    student = load_functions(source)["dropout"]
    visible = evaluate(EXERCISE, student, EXERCISE.visible_cases())
    assert not visible.all_passed, f"no visible case catches {mistake!r}"
    assert any(hint in result.hint for result in visible.failures), [case_report(r) for r in visible.failures]
    assert hidden_verdict("dropout", student).points() < EXERCISE.points


def test_a_correct_dropout_never_fails_the_statistical_checks_in_200_verdicts(reference_solutions):
    # 200 verdicts on different hidden cases and masks; a false failure has probability < 1e-6 each
    dropout = reference_solutions["dropout"]
    failed = [seed for seed in range(200) if not hidden_verdict("dropout", dropout, seed=seed).all_passed]
    assert failed == []


def test_a_verdict_runs_fewer_than_100_statistical_checks_so_a_false_failure_is_below_one_in_a_million():
    for seed in range(20):
        cases = EXERCISE.visible_cases() + EXERCISE.hidden_cases(np.random.default_rng(seed))
        checks = sum(declarations.statistical_checks(case) for case in cases)
        assert checks * tolerances.FALSE_FAILURE < 1e-6, checks


def test_mixing_is_checked_only_where_a_correct_mask_rarely_fails():
    visible = {case.description: case for case in EXERCISE.visible_cases()}
    large = next(case for name, case in visible.items() if "rows and columns mix" in name)
    assert declarations.mixing_is_checked(large) == (True, True)
    # p = 0.2 and rows of 64: a correct row is all kept with probability 0.8**64, too often for the check
    rate = next(case for name, case in visible.items() if "80%" in name)
    assert declarations.mixing_is_checked(rate) == (False, False)


def test_the_keep_rate_margin_tells_p_from_one_minus_p_on_the_visible_batch():
    margin = tolerances.hoeffding_margin(64 * 64)
    assert margin < 0.05 < abs((1 - 0.2) - 0.2) / 2


def test_hidden_cases_cover_the_contract():
    cases = EXERCISE.hidden_cases(np.random.default_rng(0))
    named = [declarations.arguments(case) for case in cases]
    assert any(not n["training"] for n in named)
    assert any(n["training"] and n["p"] == 0 for n in named)
    assert any(n["training"] and n["p"] == 1 for n in named)
    assert any(n["rng"] is None and "rng" in case.kwargs for n, case in zip(named, cases))
    assert any(len(case.args) == 1 and "rng" not in case.kwargs for case in cases)  # rng omitted
    assert any(len(case.args) == 4 for case in cases)  # passed by position
    assert {"ValueError"} == {case.raises for case in cases if case.raises}
    assert sum(bool(case.raises) for case in cases) >= 5
    assert sum(case.twice for case in cases) >= 3
    assert {1, 2, 3, 4} <= {np.ndim(n["x"]) for n in named}
    assert any(np.asarray(n["x"]).dtype == np.float32 for n in named)
    assert all(isinstance(n["rng"], np.random.Generator) for n in named if n["rng"] is not None)


def test_dropout_backward_cases_include_every_scale_and_the_edge_masks():
    cases = get("dropout_backward").hidden_cases(np.random.default_rng(0))
    masks = [case.args[1] for case in cases]
    assert any(np.all(mask == 0) for mask in masks)  # p = 1
    assert any(np.all(mask == 1) for mask in masks)  # p = 0 or evaluation
    assert len({float(mask.max()) for mask in masks}) >= 5


def test_the_dropout_layer_uses_the_readers_functions_and_caches_the_mask(reference_solutions):
    dropout, dropout_backward = reference_solutions["dropout"], reference_solutions["dropout_backward"]
    layer = Dropout(0.5, np.random.default_rng(0), dropout, dropout_backward)
    x = np.arange(1.0, 41.0).reshape(4, 10)
    out = layer.forward(x, training=True)
    assert set(np.unique(layer.mask)) <= {0.0, 2.0}
    np.testing.assert_array_equal(out, x * layer.mask)
    grad = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(grad), layer.mask)
    second = layer.forward(x, training=True)
    assert not np.array_equal(second, out)  # a new mask at every forward pass
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(grad), grad)
    assert layer.params == {} and layer.grads == {}


# ---------------------------------------------------------------- the second edition's additions


def test_the_torch_stand_in_for_dropout_passes_every_visible_and_hidden_case():
    # what stands in for a reader's dropout that is not attempted yet (dropout has no reference output)
    from prettynn.checks import invisible_to_torch_watch

    stand_in = invisible_to_torch_watch(declarations.torch_dropout_stand_in)  # as checks.stand_in wraps a reference
    assert evaluate(EXERCISE, stand_in, EXERCISE.visible_cases()).all_passed
    assert hidden_verdict("dropout", stand_in).all_passed
    first = stand_in(np.ones((50, 40)), 0.3, True, np.random.default_rng(5))
    again = stand_in(np.ones((50, 40)), 0.3, True, np.random.default_rng(5))
    np.testing.assert_array_equal(first[1], again[1])  # a seeded rng reproduces the mask


def test_the_dropout_hints_name_what_is_wrong_without_the_formula():
    hints = [m.hint for m in get("dropout_backward").mistakes]
    hints += [declarations.SCALE_HINT, declarations.EVALUATION_HINT]
    hints += [prop.hint for prop in declarations.DROPOUT_PROPERTIES if prop.name == "mean preservation"]
    for hint in hints:
        for formula in ("1 / (1 - p)", "grad_output * mask", "grad_output times the mask", "multiply grad_output by"):
            assert formula not in hint, (formula, hint)


def _chapter_cells():
    from prettynn.course import notebooks

    from .conftest import ROOT

    notebook = notebooks.read(notebooks.source_path(ROOT, "02_dropout"))
    return notebook.cells, {cell.get("id"): index for index, cell in enumerate(notebook.cells)}


def test_the_backward_exercise_is_not_answered_before_it_and_its_derivation_folds_after_it():
    cells, at = _chapter_cells()
    exercise = at["dropout-backward"]
    before = "\n".join(cell.source for cell in cells[:exercise] if cell.cell_type == "markdown")
    for answer in (r"G \odot m", r"G_a\, m_a", "grad_output * mask", "caches it"):
        assert answer not in before, answer
    derivation = cells[at["derivation-dropout-backward"]]
    assert at["derivation-dropout-backward"] > at["check-dropout_backward"]
    assert derivation.source.startswith("<details>") and derivation.source.rstrip().endswith("</details>")
    assert r"G \odot m" in derivation.source


def test_experiment_cells_use_this_chapters_functions_only_through_checked():
    cells, at = _chapter_cells()
    experiment = cells[at["code-experiment"]].source
    assert "dropout_fn" in experiment and "Dropout(p_hidden, rng, dropout," not in experiment
    assert "checked(dropout, dropout_backward)" in cells[at["code-stand-ins"]].source
    for cell in cells[at["code-stand-ins"]:]:
        if cell.cell_type == "code":
            assert "dropout(" not in cell.source.replace("dropout_fn(", "").replace("checked(dropout", ""), cell.id


def test_the_seed_study_runs_the_chapters_protocol_on_a_small_network():
    from prettynn.experiments.dropout_seeds import SeedConfig, gaps

    config = SeedConfig(train_images=40, sizes=(64, 32, 10), epochs=3)
    runs, seconds = gaps(seeds=(1, 2), config=config)
    assert [(run.seed, run.dropout) for run in runs] == [(1, False), (1, True), (2, False), (2, True)]
    assert all(0 <= run.val_accuracy <= 1 and -1 <= run.gap <= 1 for run in runs)
    again, _ = gaps(seeds=(1,), config=config)
    assert again[0].val_accuracy == runs[0].val_accuracy  # seeded
