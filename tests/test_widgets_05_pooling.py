"""prettynn.widgets.pooling: the class (fast) and its ES module's arithmetic against torch (in Chromium)."""

import json
import re

import numpy as np
import pytest

from prettynn.widgets import HERE, esm
from prettynn.widgets.pooling import PoolingExplorer, default_grid

from .browser import WIDGET_PAGE, browser  # noqa: F401  (fixture)


def test_pooling_explorer_builds_with_defaults():
    widget = PoolingExplorer()
    assert widget.grid == default_grid()
    values = np.array(widget.grid).ravel()
    assert len(set(values)) == values.size  # no ties: one maximum per window
    assert (widget.mode, widget.kernel_size, widget.stride, widget.padding) == ("max", 2, 2, 0)
    assert (widget.ceil_mode, widget.count_include_pad) == (False, True)


def test_pooling_explorer_builds_with_arguments():
    widget = PoolingExplorer(grid=np.arange(12).reshape(3, 4), mode="backward", kernel_size=3, stride=1,
                             padding=1, ceil_mode=True, count_include_pad=False)
    assert widget.grid == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]
    assert (widget.mode, widget.kernel_size, widget.stride, widget.padding) == ("backward", 3, 1, 1)
    assert (widget.ceil_mode, widget.count_include_pad) == (True, False)


def test_pooling_explorer_sends_its_es_module_and_synced_traits():
    widget = PoolingExplorer()
    assert widget._esm == esm("pooling") == (HERE / "pooling.js").read_text(encoding="utf-8")
    for name in ("grid", "mode", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"):
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

SETTINGS = [
    ("max", 2, 2, 0, False, True),
    ("max", 3, 2, 1, True, True),
    ("max", 2, 4, 1, True, True),   # the last window would start in the padding: dropped
    ("max", 3, 1, 1, False, True),
    ("avg", 3, 2, 1, False, True),
    ("avg", 3, 2, 1, False, False),
    ("avg", 3, 2, 1, True, True),   # a last window past the padding: those cells never count
    ("avg", 4, 3, 2, True, False),
    ("backward", 3, 1, 1, False, True),
    ("backward", 2, 2, 1, True, True),
]


def _torch_answer(grid, mode, k, s, p, ceil, include):
    """What torch computes for the widget's setting: the output, or the input gradient for ones."""
    import torch
    import torch.nn.functional as F

    x = torch.tensor(np.array(grid)[None, None], dtype=torch.float64, requires_grad=True)
    if mode == "avg":
        return F.avg_pool2d(x, k, s, p, ceil, include)[0, 0].detach().numpy()
    out = F.max_pool2d(x, k, s, p, 1, ceil)
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


@pytest.mark.slow
def test_the_widget_computes_what_torch_computes(browser):  # noqa: F811
    grid = default_grid()
    page = browser.new_page()
    traits = {"grid": grid, "mode": "max", "kernel_size": 2, "stride": 2, "padding": 0,
              "ceil_mode": False, "count_include_pad": True}
    page.set_content(WIDGET_PAGE % (json.dumps(esm("pooling")), json.dumps(traits)))
    page.wait_for_function("window.ready === true")
    for mode, k, s, p, ceil, include in SETTINGS:
        page.evaluate("""([mode, k, s, p, ceil, include]) => {
            const m = window.widgetModel;
            m.set("mode", mode); m.set("kernel_size", k); m.set("stride", s); m.set("padding", p);
            m.set("ceil_mode", ceil); m.set("count_include_pad", include); m.save_changes();
        }""", [mode, k, s, p, ceil, include])
        page.get_by_role("button", name="all windows").click()
        expected = _torch_answer(grid, mode, k, s, p, ceil, include)
        attribute = "data-grad" if mode == "backward" else "data-output"
        got = _read_grid(page, attribute, expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=f"{mode} k={k} s={s} p={p} ceil={ceil}")
        assert float(page.get_attribute(".prettynn-widget", "data-redraw-ms")) < 100
    page.close()
