"""prettynn.widgets.pooling: the class (fast) and its ES module's arithmetic against torch (in Chromium)."""

import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

from prettynn.widgets import esm
from prettynn.widgets.pooling import PoolingExplorer, default_grid

from .browser import WIDGET_PAGE, browser  # noqa: F401  (fixture)

# Screenshots of the explorer, to look at after a run (not compared with anything).
SCREENSHOTS = Path(tempfile.gettempdir()) / "prettynn-screenshots"
SCREENSHOTS.mkdir(exist_ok=True)


def test_pooling_explorer_builds_with_defaults():
    widget = PoolingExplorer()
    assert widget.grid == default_grid()
    values = np.array(widget.grid).ravel()
    assert len(set(values)) == values.size  # no ties: one maximum per window
    assert (widget.mode, widget.kernel_size, widget.stride, widget.padding, widget.dilation) == ("max", 2, 2, 0, 1)
    assert (widget.ceil_mode, widget.count_include_pad) == (False, True)
    assert widget.modes == ["max", "avg", "backward"]


def test_pooling_explorer_builds_with_arguments():
    widget = PoolingExplorer(grid=np.arange(12).reshape(3, 4), mode="backward", kernel_size=3, stride=1,
                             padding=1, dilation=2, ceil_mode=True, count_include_pad=False)
    assert widget.grid == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]
    assert (widget.mode, widget.kernel_size, widget.stride, widget.padding, widget.dilation) == ("backward", 3, 1, 1, 2)
    assert (widget.ceil_mode, widget.count_include_pad) == (True, False)


def test_pooling_explorer_can_leave_out_the_backward_mode():
    widget = PoolingExplorer(modes=("max", "avg"), mode="avg")
    assert (widget.modes, widget.mode) == (["max", "avg"], "avg")
    with pytest.raises(ValueError, match="mode must be one of \\('max', 'avg'\\), got 'backward'"):
        widget.mode = "backward"
    with pytest.raises(ValueError, match="got 'avg'"):
        widget.modes = ["max", "backward"]  # the current mode would no longer be offered


def test_pooling_explorer_sends_its_es_module_and_synced_traits():
    widget = PoolingExplorer()
    assert widget._esm == esm("pooling")
    for name in ("grid", "modes", "mode", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                 "count_include_pad"):
        assert widget.trait_metadata(name, "sync"), f"trait {name} is not synced"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grid": [[1.0, 2.0]]}, "2 to 8 rows and columns, got shape (1, 2)"),
        ({"grid": np.zeros((9, 3))}, "got shape (9, 3)"),
        ({"grid": [[1.0, float("nan")], [0.0, 1.0]]}, "finite"),
        ({"grid": [[1.0, 2.0], [3.0]]}, "rectangular"),
        ({"mode": "min"}, "mode must be one of"),
        ({"kernel_size": 5}, "kernel_size must be from 1 to 4, got 5"),
        ({"stride": 0}, "stride must be from 1 to 4, got 0"),
        ({"kernel_size": 3, "padding": 2}, "padding must be from 0 to kernel_size // 2 = 1"),
        ({"dilation": 4}, "dilation must be from 1 to 3, got 4"),
        ({"modes": []}, "modes must be a non-empty list"),
        ({"modes": ["max", "min"]}, "modes must be a non-empty list"),
        ({"modes": ["avg"]}, "mode must be one of ('avg',), got 'max'"),
    ],
)
def test_pooling_explorer_rejects_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        PoolingExplorer(**kwargs)


def test_pooling_explorer_validates_later_assignments_together():
    widget = PoolingExplorer(kernel_size=4, padding=2)
    with pytest.raises(ValueError, match="padding must be from 0 to kernel_size // 2 = 1"):
        widget.kernel_size = 2 + 1
    with widget.hold_trait_notifications():  # what the front end sends when the kernel shrinks
        widget.padding = 1
        widget.kernel_size = 3
    assert (widget.kernel_size, widget.padding) == (3, 1)


def test_pooling_explorer_state_round_trips_through_json():
    widget = PoolingExplorer(mode="avg", kernel_size=3, padding=1, count_include_pad=False)
    state = json.loads(json.dumps(widget.get_state(), allow_nan=False))
    copy = PoolingExplorer()
    copy.set_state({name: state[name] for name in ("grid", "mode", "kernel_size", "padding", "count_include_pad")})
    assert (copy.grid, copy.mode, copy.kernel_size, copy.padding, copy.count_include_pad) == \
        (widget.grid, "avg", 3, 1, False)


# ---------------------------------------------------------------- the ES module in Chromium

# (mode, kernel, stride, padding, dilation, ceil_mode, count_include_pad)
SETTINGS = [
    ("max", 2, 2, 0, 1, False, True),
    ("max", 3, 2, 1, 1, True, True),
    ("max", 2, 4, 1, 1, True, True),   # the last window would start in the padding: dropped
    ("max", 3, 1, 1, 1, False, True),
    ("max", 2, 1, 1, 2, True, True),   # dilation
    ("max", 3, 2, 1, 2, True, True),
    ("max", 2, 3, 1, 3, False, True),
    ("avg", 3, 2, 1, 1, False, True),
    ("avg", 3, 2, 1, 1, False, False),
    ("avg", 3, 2, 1, 1, True, True),   # a last window past the padding: those cells never count
    ("avg", 4, 3, 2, 2, True, False),  # the dilation trait is ignored: average pooling has none
    ("backward", 3, 1, 1, 1, False, True),
    ("backward", 2, 2, 1, 1, True, True),
    ("backward", 3, 1, 1, 2, False, True),
    ("max", 4, 4, 1, 3, True, True),       # ceil mode keeps one window larger than the padded input
    ("backward", 4, 4, 1, 3, True, True),
]


def _torch_answer(grid, mode, k, s, p, d, ceil, include):
    """What torch computes for the widget's setting: the output, or the input gradient for ones."""
    import torch
    import torch.nn.functional as F

    x = torch.tensor(np.array(grid)[None, None], dtype=torch.float64, requires_grad=True)
    if mode == "avg":
        return F.avg_pool2d(x, k, s, p, ceil, include)[0, 0].detach().numpy()
    out = F.max_pool2d(x, k, s, p, d, ceil)
    if mode == "max":
        return out[0, 0].detach().numpy()
    out.backward(torch.ones_like(out))
    return x.grad[0, 0].numpy()


def _read_grid(page, attribute, shape):
    """The values the widget wrote into ``attribute`` (``"row,col,value"``) as an array of ``shape``."""
    values = np.full(shape, np.nan)
    for text in page.eval_on_selector_all(f"[{attribute}]", f"els => els.map(e => e.getAttribute('{attribute}'))"):
        row, col, value = text.split(",")
        values[int(row), int(col)] = float(value)
    return values


def _open(browser, **changes):  # noqa: F811
    """A page showing the explorer with the default traits, updated by ``changes``."""
    traits = {"grid": default_grid(), "modes": ["max", "avg", "backward"], "mode": "max", "kernel_size": 2,
              "stride": 2, "padding": 0, "dilation": 1, "ceil_mode": False, "count_include_pad": True, **changes}
    page = browser.new_page(viewport={"width": 800, "height": 900})
    page.set_content(WIDGET_PAGE % (json.dumps(esm("pooling")), json.dumps(traits)))
    page.wait_for_function("window.ready === true")
    return page


def _set(page, **traits):
    page.evaluate("""(traits) => {
        const m = window.widgetModel;
        for (const [key, value] of Object.entries(traits)) m.set(key, value);
        m.save_changes();
    }""", traits)


@pytest.mark.slow
def test_the_widget_computes_what_torch_computes(browser):  # noqa: F811
    page = _open(browser)
    for grid in (default_grid(), default_grid(5, seed=2)):
        _set(page, grid=grid)
        for mode, k, s, p, d, ceil, include in SETTINGS:
            _set(page, mode=mode, kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil,
                 count_include_pad=include)
            page.get_by_role("button", name="all windows").click()
            expected = _torch_answer(grid, mode, k, s, p, d, ceil, include)
            attribute = "data-grad" if mode == "backward" else "data-output"
            got = _read_grid(page, attribute, expected.shape)
            np.testing.assert_allclose(got, expected, rtol=1e-12,
                                       err_msg=f"{len(grid)}x{len(grid)} {mode} k={k} s={s} p={p} d={d} ceil={ceil}")
            assert float(page.get_attribute(".prettynn-widget", "data-redraw-ms")) < 100
    page.close()


@pytest.mark.slow
def test_the_reader_reaches_the_dropped_last_window_with_the_size_control(browser):  # noqa: F811
    """The chapter's worked example (L = 5, k = 2, s = 2, padding 1): ceil_mode would add a fourth
    window starting in the right padding, and the widget outlines it and says PyTorch drops it."""
    page = _open(browser, kernel_size=2, stride=2, padding=1, ceil_mode=True)
    assert page.locator("[data-dropped]").count() == 0  # on the 6x6 grid nothing is dropped
    page.get_by_label("input H").fill("5")
    page.get_by_label("input H").dispatch_event("change")
    page.get_by_label("W", exact=True).fill("5")
    page.get_by_label("W", exact=True).dispatch_event("change")
    grid = page.evaluate("window.widgetModel.get('grid')")
    assert np.array(grid).shape == (5, 5) and len(np.unique(grid)) == 25  # a new grid, no ties
    assert page.locator("[data-dropped]").count() == 2  # the last row and the last column of windows
    assert "PyTorch drops it" in page.locator("svg").get_attribute("aria-label")
    page.get_by_role("button", name="all windows").click()
    expected = _torch_answer(grid, "max", 2, 2, 1, 1, True, True)
    assert expected.shape == (3, 3)
    np.testing.assert_array_equal(_read_grid(page, "data-output", (3, 3)), expected)
    page.locator(".pnn-pool").screenshot(path=str(SCREENSHOTS / "pooling-dropped.png"))
    page.get_by_label("dilation").fill("2")
    page.get_by_label("dilation").dispatch_event("change")
    assert page.evaluate("window.widgetModel.get('dilation')") == 2
    page.locator(".pnn-pool").screenshot(path=str(SCREENSHOTS / "pooling-dilated.png"))
    page.close()


@pytest.mark.slow
def test_the_backward_mode_is_offered_only_when_asked(browser):  # noqa: F811
    page = _open(browser, modes=["max", "avg"])
    assert page.eval_on_selector_all("select option", "els => els.map(e => e.value)") == ["max", "avg"]
    before = page.locator("svg").inner_html()
    page.locator("select").select_option(index=1)  # what the site test does with the first control
    assert page.evaluate("window.widgetModel.get('mode')") == "avg"
    assert page.locator("svg").inner_html() != before
    assert page.get_by_label("dilation").is_disabled()  # average pooling has no dilation
    page.close()
    page = _open(browser, mode="backward", kernel_size=3, stride=1, padding=1)
    assert page.eval_on_selector_all("select option", "els => els.map(e => e.value)") == ["max", "avg", "backward"]
    page.get_by_role("button", name="all windows").click()
    grad = _read_grid(page, "data-grad", (6, 6))
    winners = grad[grad > 0]
    assert np.sum(winners >= 2) > len(winners) / 2, "the chapter says most maxima win several windows here"
    page.locator(".pnn-pool").screenshot(path=str(SCREENSHOTS / "pooling-backward.png"))
    page.close()
