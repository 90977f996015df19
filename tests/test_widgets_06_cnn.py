"""prettynn.widgets.training_curves: the class (fast), fed by train's epoch hook, and its ES module (in Chromium)."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

from prettynn.data import load_digits_split
from prettynn.exercises.linear import (
    torch_cross_entropy,
    torch_cross_entropy_backward,
    torch_linear,
    torch_linear_backward,
    torch_relu,
    torch_relu_backward,
)
from prettynn.training import CrossEntropyLoss, History, mlp, train
from prettynn.widgets import esm
from prettynn.widgets.training_curves import SERIES, TrainingCurves

from .browser import WIDGET_PAGE, browser, picture_changes  # noqa: F401  (fixture)

# Screenshots of the widget, to look at after a run (not compared with anything).
SCREENSHOTS = Path(tempfile.gettempdir()) / "prettynn-screenshots"
SCREENSHOTS.mkdir(exist_ok=True)
TRAITS = ("epochs", *SERIES, "seconds", "title")
# What tests/test_site_browser.py uses as a widget's first control.
CONTROLS = "input[type=range], button, select, input[type=radio], input[type=checkbox]"


@pytest.fixture(scope="module")
def history() -> History:
    """Three epochs of a small MLP on the digits, built from the torch references."""
    model = mlp((64, 32, 10), np.random.default_rng(0), linear=torch_linear, linear_backward=torch_linear_backward,
                relu=torch_relu, relu_backward=torch_relu_backward)
    loss = CrossEntropyLoss(torch_cross_entropy, torch_cross_entropy_backward)
    return train(model, loss, load_digits_split(), epochs=3, lr=0.1, batch_size=32, rng=np.random.default_rng(0),
                 progress=False)


def test_training_curves_build_with_a_plan_and_no_epoch_yet():
    widget = TrainingCurves(epochs=30, title="LeNet on digits, your layers")
    assert (widget.epochs, widget.title, widget.seconds) == (30, "LeNet on digits, your layers", 0.0)
    assert all(getattr(widget, name) == [] for name in SERIES)


def test_training_curves_send_their_es_module_and_synced_traits():
    widget = TrainingCurves(epochs=3)
    assert widget._esm == esm("training_curves")
    for name in TRAITS:
        assert widget.trait_metadata(name, "sync"), f"trait {name} is not synced"


def test_update_takes_the_history_as_train_reports_it(history):
    widget = TrainingCurves(epochs=3)
    model = mlp((64, 16, 10), np.random.default_rng(1), linear=torch_linear, linear_backward=torch_linear_backward,
                relu=torch_relu, relu_backward=torch_relu_backward)
    final = train(model, CrossEntropyLoss(torch_cross_entropy, torch_cross_entropy_backward), load_digits_split(),
                  epochs=2, lr=0.1, batch_size=64, rng=np.random.default_rng(0), progress=False, on_epoch=widget.update)
    assert widget.epochs == 2
    assert [getattr(widget, name) for name in SERIES] == [getattr(final, name) for name in SERIES]
    assert widget.seconds == final.seconds
    widget.update(3, 10, history)  # a new run replaces the old one
    assert (widget.epochs, widget.train_loss, widget.val_accuracy) == (10, history.train_loss, history.val_accuracy)


def test_update_sends_every_trait_in_one_message(history, monkeypatch):
    widget = TrainingCurves(epochs=3)
    monkeypatch.setattr(widget.comm, "kernel", object(), raising=False)  # as if a kernel were listening
    sent = []
    monkeypatch.setattr(widget, "send_state", lambda key=None: sent.append(key if isinstance(key, str) else set(key)))
    widget.update(3, 10, history)
    assert sent == [{"epochs", *SERIES, "seconds"}]


def test_update_sends_a_diverged_loss_as_none_and_the_state_is_json():
    diverged = History(train_loss=[2.0, math.nan], train_accuracy=[0.3, 0.1], val_loss=[2.1, math.inf],
                       val_accuracy=[0.2, 0.1], seconds=0.5)
    widget = TrainingCurves(epochs=5)
    widget.update(2, 5, diverged)
    assert (widget.train_loss, widget.val_loss) == ([2.0, None], [2.1, None])
    state = json.loads(json.dumps(widget.get_state(), allow_nan=False))
    copy = TrainingCurves(epochs=1)
    copy.set_state({name: state[name] for name in TRAITS})
    assert [getattr(copy, name) for name in TRAITS] == [getattr(widget, name) for name in TRAITS]


def test_update_refuses_an_epoch_the_history_does_not_hold(history):
    with pytest.raises(ValueError, match="epoch 2 does not match the history, which holds 3 epochs"):
        TrainingCurves(epochs=3).update(2, 3, history)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be an integer from 1 to 10000, got 0"),
        ({"epochs": 2, "train_loss": [1.0]}, "one value per epoch each, got lengths {'train_loss': 1, 'val_loss': 0"),
        ({"epochs": 1, "train_loss": [1.0, 0.5], "val_loss": [1.0, 0.5], "train_accuracy": [0.5, 0.6],
          "val_accuracy": [0.5, 0.6]}, "2 epochs measured but only 1 planned"),
        ({"train_loss": [-1.0]}, "train_loss must hold losses >= 0 (None where not finite), got [-1.0]"),
        ({"val_loss": [math.nan]}, "val_loss must hold losses >= 0"),
        ({"train_accuracy": [1.5]}, "train_accuracy must hold fractions from 0 to 1, got [1.5]"),
        ({"seconds": -1.0}, "seconds must be a finite number >= 0, got -1.0"),
    ],
)
def test_training_curves_reject_invalid_traits(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        TrainingCurves(**kwargs)


def test_a_later_assignment_of_one_list_alone_is_refused(history):
    widget = TrainingCurves(epochs=3)
    widget.update(3, 3, history)
    with pytest.raises(ValueError, match="set them together with update"):
        widget.train_loss = [1.0]
    with pytest.raises(ValueError, match="3 epochs measured but only 2 planned"):
        widget.epochs = 2
    assert (widget.train_loss, widget.epochs) == (history.train_loss, 3)


# ---------------------------------------------------------------- the ES module in Chromium


def _state(history: History, epochs: int) -> dict:
    """The traits a widget updated with ``history`` as epoch ``len(history)`` of ``epochs`` sends."""
    widget = TrainingCurves(epochs=epochs, title="a small MLP on digits")
    widget.update(len(history.train_loss), epochs, history)
    return {name: getattr(widget, name) for name in TRAITS}


def _open(browser, traits: dict):  # noqa: F811
    """A page showing the widget with ``traits``, through the harness's stand-in model."""
    page = browser.new_page(viewport={"width": 800, "height": 700})
    page.set_content(WIDGET_PAGE % (json.dumps(esm("training_curves")), json.dumps(traits)))
    page.wait_for_function("window.ready === true")
    return page


def _points(page, series: str) -> int:
    """The number of points the path of ``series`` (e.g. "loss-val") draws."""
    return len(re.findall(r"[ML]", page.get_attribute(f'path[data-series="{series}"]', "d")))


def _readout(page, panel: str) -> str:
    """The values printed under ``panel`` ("loss" or "accuracy")."""
    return page.text_content(f'[data-readout="{panel}"]')


@pytest.mark.slow
def test_the_widget_shows_the_progress_and_one_point_per_epoch(browser, history):  # noqa: F811
    page = _open(browser, _state(history, epochs=10))
    assert "epoch 3 of 10" in page.text_content(".pnn-progress")
    assert page.get_attribute("progress", "value") == "3" and page.get_attribute("progress", "max") == "10"
    for series in ("loss-train", "loss-val", "accuracy-train", "accuracy-val"):
        assert _points(page, series) == 3, series
    assert _readout(page, "loss") == (f"epoch 3: training {history.train_loss[-1]:#.3g}, "
                                      f"validation {history.val_loss[-1]:#.3g}")
    assert _readout(page, "accuracy") == (f"epoch 3: training {100 * history.train_accuracy[-1]:.1f} %, "
                                          f"validation {100 * history.val_accuracy[-1]:.1f} %")
    assert float(page.get_attribute(".prettynn-widget", "data-redraw-ms")) < 100
    page.locator(".pnn-tc").screenshot(path=str(SCREENSHOTS / "training-curves-3-of-10.png"))
    page.close()


@pytest.mark.slow
def test_the_curves_grow_with_each_epoch_and_break_where_the_loss_diverged(browser):  # noqa: F811
    page = _open(browser, _state(History(), epochs=4))
    assert "epoch 0 of 4" in page.text_content(".pnn-progress")
    assert page.locator("path[data-series]").count() == 0
    page.evaluate("""() => {
        const m = window.widgetModel;
        m.set("train_loss", [2.0, null, 0.5]); m.set("val_loss", [2.1, 1.5, null]);
        m.set("train_accuracy", [0.3, 0.5, 0.7]); m.set("val_accuracy", [0.2, 0.4, 0.6]);
        m.save_changes();
    }""")
    assert "epoch 3 of 4" in page.text_content(".pnn-progress")
    assert _points(page, "accuracy-train") == 3
    assert page.get_attribute('path[data-series="loss-train"]', "d").count("M") == 2  # broken at epoch 2
    assert _points(page, "loss-val") == 2
    assert _readout(page, "loss") == "epoch 3: training 0.500, validation diverged"
    page.close()


@pytest.mark.slow
def test_the_first_control_zooms_the_accuracy_axis(browser, history):  # noqa: F811
    traits = {**_state(history, epochs=3), "train_accuracy": [0.5, 0.93, 0.97], "val_accuracy": [0.45, 0.91, 0.95]}
    page = _open(browser, traits)
    ticks = 'els => els.map(e => e.textContent)'
    assert page.eval_on_selector_all('[data-panel="accuracy"] > text', ticks)[2:8] == ["0", "20", "40", "60", "80",
                                                                                        "100"]
    control = page.locator(CONTROLS).first
    assert control.get_attribute("type") == "checkbox"
    assert picture_changes(page.locator(".prettynn-widget"), control.click)
    assert page.eval_on_selector_all('[data-panel="accuracy"] > text', ticks)[2:8] == ["90", "92", "94", "96", "98",
                                                                                        "100"]
    page.locator(".pnn-tc").screenshot(path=str(SCREENSHOTS / "training-curves-zoomed.png"))
    page.close()


@pytest.mark.slow
def test_the_slider_and_the_pointer_pick_the_epoch_whose_values_are_printed(browser, history):  # noqa: F811
    page = _open(browser, _state(history, epochs=3))
    slider = page.get_by_label("values at epoch")
    slider.focus()
    slider.press("ArrowLeft")
    assert page.get_attribute("svg", "data-epoch") == "2"
    assert _readout(page, "accuracy").startswith(f"epoch 2: training {100 * history.train_accuracy[1]:.1f} %")
    box = page.locator("svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] * (58 + 5) / 700, box["y"] + box["height"] / 2)  # at epoch 1
    assert page.get_attribute("svg", "data-epoch") == "1" and slider.input_value() == "1"
    page.close()
