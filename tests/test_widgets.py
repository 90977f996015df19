"""prettynn.widgets: the widget classes and their ES modules (fast), and the shared output-size rule against
torch (in Chromium)."""

import importlib
import inspect
import json
import math
import re

import anywidget
import numpy as np
import pytest

from prettynn.widgets import HERE, SHARED, esm
from prettynn.widgets.softmax import DEFAULT_LOGITS, SoftmaxExplorer

from .browser import browser  # noqa: F401  (fixture)

SHARED_SOURCE = (HERE / f"{SHARED}.js").read_text(encoding="utf-8")
WIDGET_MODULES = sorted(path.stem for path in HERE.glob("*.js") if path.stem != SHARED)


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
    assert widget._esm == esm("softmax")
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


@pytest.mark.parametrize("name", WIDGET_MODULES)
def test_es_modules_are_self_contained(name):
    source = esm(name)
    assert len(re.findall(r"^export default\b", source, re.MULTILINE)) == 1, f"{name} needs one export default"
    assert not re.search(r"^\s*export\b", SHARED_SOURCE, re.MULTILINE), f"{SHARED}.js exports a name"
    assert not re.search(r"^\s*import\b|\bimport\s*\(", source, re.MULTILINE), f"{name} imports a module"
    assert not re.search(r"https?:|//cdn|unpkg|jsdelivr", source), f"{name} names a URL"


def top_level_names(source: str) -> set[str]:
    """The names an ES source declares at its top level (``function``, ``class``, ``const``, ``let`` and
    ``var`` at the start of a line, every name of a ``const A = 1, B = 2`` list)."""
    names = set()
    for keyword, rest in re.findall(r"^(function\*?|class|const|let|var)\s+(.*)$", source, re.MULTILINE):
        if keyword in ("const", "let", "var"):
            while re.search(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}", rest):  # drop what brackets hold
                rest = re.sub(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}", "", rest)
            names.update(re.findall(r"(?:^|,)\s*([A-Za-z_$][\w$]*)\s*=", rest))
        else:
            names.add(re.match(r"[A-Za-z_$][\w$]*", rest).group())
    return names


def test_top_level_names_are_found():
    source = "const A = f(1, 2), B = { c: 3, d: 4 };\nlet n = 0;\nfunction g(x) {\n  const inner = 1;\n}\n"
    assert top_level_names(source) == {"A", "B", "n", "g"}
    assert {"SVG", "h", "s", "baseCss", "outputSize"} <= top_level_names(SHARED_SOURCE)


@pytest.mark.parametrize("name", WIDGET_MODULES)
def test_every_widget_module_starts_with_the_shared_source_and_redeclares_none_of_its_names(name):
    own = (HERE / f"{name}.js").read_text(encoding="utf-8")
    assert esm(name) == SHARED_SOURCE + own
    assert not top_level_names(SHARED_SOURCE) & top_level_names(own), f"{name}.js redeclares a name of {SHARED}.js"
    assert "prettynn-widget" in own and "redrawMs" in own


def test_every_es_module_has_its_class_in_the_python_module_of_its_name():
    assert sorted(path.stem for path in HERE.glob("*.py") if path.stem != "__init__") == WIDGET_MODULES
    for name in WIDGET_MODULES:
        module = importlib.import_module(f"prettynn.widgets.{name}")
        classes = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                   if issubclass(cls, anywidget.AnyWidget) and cls.__module__ == module.__name__]
        assert classes and all(cls._esm == esm(name) for cls in classes), name
        assert f'esm("{name}")' in (HERE / f"{name}.py").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the shared output-size rule in Chromium

def _torch_output_size(n, k, s, p, d, ceil):
    """The output length torch gives along one axis (max_pool2d with ceil_mode, else conv2d); 0 where it
    raises because no window fits."""
    import torch
    import torch.nn.functional as F

    x = torch.zeros(1, 1, n, 1)
    try:
        if ceil:
            return F.max_pool2d(x, (k, 1), (s, 1), (p, 0), (d, 1), ceil_mode=True).shape[2]
        return F.conv2d(x, torch.zeros(1, 1, k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1)).shape[2]
    except RuntimeError:
        return 0


@pytest.mark.slow
def test_the_shared_output_size_rule_is_torchs(browser):  # noqa: F811
    # (n, k, s, p, d, ceil_mode); max pooling allows a padding of at most half the kernel
    cases = [[n, k, s, p, d, ceil] for n in range(1, 11) for k in range(1, 6) for s in range(1, 5) for p in range(4)
             for d in range(1, 4) for ceil in (False, True) if not (ceil and 2 * p > k)]
    expected = [_torch_output_size(*case) for case in cases]
    # the last window ceil mode would add starts in the right padding: torch drops it (n 5, k 2, s 2, p 1: 3, not 4)
    dropped = [i for i, (n, k, s, p, d, ceil) in enumerate(cases)
               if ceil and math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1 > expected[i]]
    assert [5, 2, 2, 1, 1, True] in [cases[i] for i in dropped] and len(dropped) > 20
    assert any(ceil and n + 2 * p < d * (k - 1) + 1 and size == 1  # ceil mode: a window larger than the padded input
               for (n, k, s, p, d, ceil), size in zip(cases, expected))
    page = browser.new_page()
    got, kept = page.evaluate(
        "(cases) => {" + SHARED_SOURCE + """
        return [cases.map((c) => outputSize(...c)), cases.map((c) => outputSize(...c, true))]; }""", cases)
    page.close()
    wrong = [(case, want, have) for case, want, have in zip(cases, expected, got) if want != have]
    assert not wrong, f"(n, k, s, p, d, ceil_mode), torch, JS: {wrong[:10]} ({len(wrong)} of {len(cases)})"
    assert all(kept[i] == expected[i] + 1 for i in dropped)  # keepWindowInRightPadding counts the dropped window
    assert sum(a != b for a, b in zip(kept, got)) == len(dropped)
