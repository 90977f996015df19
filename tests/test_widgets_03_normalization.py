"""prettynn.widgets.landscape: the loss-landscape explorer of chapter 03 (fast; the browser checks are elsewhere)."""

import json

import numpy as np
import pytest

from prettynn.experiments.landscape import LandscapeConfig, run_landscape
from prettynn.widgets import esm
from prettynn.widgets.landscape import CONTOUR_LEVELS, LandscapeExplorer, contour_lines

CONFIG = LandscapeConfig(depths=(2, 3), learning_rates=(0.05, 0.1), steps=20, grid=5)


@pytest.fixture(scope="module")
def result():
    return run_landscape(CONFIG)


def test_explorer_holds_every_run_and_shows_the_deepest_by_default(result):
    widget = LandscapeExplorer.from_result(result)
    assert len(widget.runs) == 2 * 2 * 2
    assert (widget.depth, widget.learning_rate, widget.batch_norm) == (3, 0.1, True)
    assert widget.span == CONFIG.span and widget.probe_sizes == list(CONFIG.probe_sizes)
    for run in widget.runs:
        assert np.array(run["slice_loss"], dtype=float).shape == (5, 5)
        assert len(run["line_loss_kept_norms"]) == 5
        assert [c["level"] for c in run["contours"]] == list(CONTOUR_LEVELS)


def test_explorer_sends_its_es_module_and_synced_traits(result):
    widget = LandscapeExplorer.from_result(result, depth=2, learning_rate=0.05, batch_norm=False)
    assert widget._esm == esm("landscape")
    for name in ("runs", "span", "probe_sizes", "levels", "depth", "learning_rate", "batch_norm"):
        assert widget.trait_metadata(name, "sync"), f"trait {name} is not synced"


def test_explorer_rejects_a_setting_it_has_no_run_for(result):
    widget = LandscapeExplorer.from_result(result)
    with pytest.raises(ValueError, match=r"depth must be one of the runs' depths \[2, 3\], got 8"):
        widget.depth = 8
    with pytest.raises(ValueError, match=r"learning_rate must be one of the runs' learning rates"):
        widget.learning_rate = 0.3
    widget.depth, widget.learning_rate = 2, 0.05
    assert (widget.depth, widget.learning_rate) == (2, 0.05)


def test_explorer_state_is_json_without_nan(result):
    state = LandscapeExplorer.from_result(result).get_state()
    text = json.dumps(state, allow_nan=False)
    assert len(text) < 400_000


def test_contour_lines_of_a_bowl_are_closed_circles():
    offsets = np.linspace(-1, 1, 21)
    a, b = np.meshgrid(offsets, offsets)
    grid = (0.01 + a ** 2 + b ** 2).tolist()
    grid[0][0] = None  # a diverged point counts as very high
    lines = {c["level"]: c["lines"] for c in contour_lines(grid, 1.0)}
    (circle,) = lines[0.3]
    radii = np.hypot(*np.array(circle).T)
    assert np.allclose(radii, np.sqrt(0.29), atol=0.02)
    (corner,) = lines[100.0]  # only around the missing point
    assert np.all(np.array(corner) < -0.9)


def test_slice_panel_states_the_scale_invariance_caveat():
    source = esm("landscape")
    assert "scale invariance" in source and "row norms kept" in source
    assert "line_loss_kept_norms" in source
