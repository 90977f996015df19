"""prettynn.widgets: the widget classes and their ES modules (fast; the browser checks are elsewhere)."""

import json
import re

import numpy as np
import pytest

from prettynn.widgets import HERE, esm
from prettynn.widgets.softmax import DEFAULT_LOGITS, SoftmaxExplorer

ES_MODULES = sorted(HERE.glob("*.js"))


def test_softmax_explorer_builds_with_defaults():
    widget = SoftmaxExplorer()
    assert widget.logits == list(DEFAULT_LOGITS)
    assert (widget.target, widget.scale) == (0, 1.0)


def test_softmax_explorer_builds_with_arguments():
    widget = SoftmaxExplorer(logits=np.array([1, -2, 3]), target=2, scale=50)
    assert widget.logits == [1.0, -2.0, 3.0]
    assert all(type(value) is float for value in widget.logits)
    assert (widget.target, widget.scale) == (2, 50.0)


def test_softmax_explorer_sends_its_es_module_and_synced_traits():
    widget = SoftmaxExplorer()
    assert widget._esm == esm("softmax_explorer") == (HERE / "softmax_explorer.js").read_text(encoding="utf-8")
    assert "export default" in widget._esm
    for name in ("logits", "target", "scale"):
        assert widget.trait_metadata(name, "sync"), f"trait {name} is not synced"
        assert name in widget.keys


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"logits": [1.0]}, "at least 2 classes, got 1"),
        ({"logits": []}, "at least 2 classes, got 0"),
        ({"logits": [1.0, float("nan")]}, "logits must be finite"),
        ({"logits": [1.0, "a"]}, "sequence of numbers"),
        ({"target": 4}, "target must be a class index from 0 to 3 for 4 logits, got 4"),
        ({"target": -1}, "got -1"),
        ({"logits": [1.0, 2.0], "target": 2}, "from 0 to 1 for 2 logits, got 2"),
        ({"scale": 0.0}, "scale must be a finite number > 0"),
        ({"scale": -3.0}, "got -3.0"),
        ({"scale": float("inf")}, "scale must be a finite number > 0"),
    ],
)
def test_softmax_explorer_rejects_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SoftmaxExplorer(**kwargs)


def test_softmax_explorer_validates_later_assignments():
    widget = SoftmaxExplorer(target=3)
    with pytest.raises(ValueError, match="target 3 is not a class of 2 logits"):
        widget.logits = [0.0, 1.0]
    with pytest.raises(ValueError, match="scale must be"):
        widget.scale = 0.0
    with widget.hold_trait_notifications():
        widget.logits = [0.0, 1.0]
        widget.target = 1
    assert (widget.logits, widget.target) == ([0.0, 1.0], 1)


def test_softmax_explorer_state_round_trips_through_json():
    widget = SoftmaxExplorer(logits=[0.5, -0.25], target=1, scale=316.2)
    state = widget.get_state()
    text = json.dumps(state, allow_nan=False, sort_keys=True)
    restored = json.loads(text)
    assert json.dumps(restored, sort_keys=True) == text
    assert (restored["logits"], restored["target"], restored["scale"]) == ([0.5, -0.25], 1, 316.2)
    assert restored["_esm"] == widget._esm
    copy = SoftmaxExplorer()
    copy.set_state({name: restored[name] for name in ("logits", "target", "scale")})
    assert (copy.logits, copy.target, copy.scale) == (widget.logits, widget.target, widget.scale)


@pytest.mark.parametrize("path", ES_MODULES, ids=lambda path: path.name)
def test_es_modules_are_self_contained(path):
    source = path.read_text(encoding="utf-8")
    assert "export default" in source
    assert not re.search(r"^\s*import\b|\bimport\s*\(", source, re.MULTILINE), f"{path.name} imports a module"
    assert not re.search(r"https?:|//cdn|unpkg|jsdelivr", source), f"{path.name} names a URL"
