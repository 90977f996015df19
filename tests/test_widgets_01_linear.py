"""The softmax explorer's ES module in Chromium (a stand-in model, no kernel): what it says at each scale."""

from __future__ import annotations

import json

import pytest

from prettynn.widgets import esm
from prettynn.widgets.softmax import DEFAULT_LOGITS

from .browser import WIDGET_PAGE, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def explorer_text(browser, scale: float) -> str:  # noqa: F811
    """The explorer's text for the default logits, target 0, at ``scale``."""
    page = browser.new_page()
    traits = {"logits": list(DEFAULT_LOGITS), "target": 0, "scale": scale}
    page.set_content(WIDGET_PAGE % (json.dumps(esm("softmax")), json.dumps(traits)))
    page.wait_for_function("window.ready === true")
    text = page.locator("#root").inner_text()
    page.close()
    return text


def test_at_scale_1000_the_naive_column_overflows_and_the_shifted_one_does_not(browser):  # noqa: F811
    text = explorer_text(browser, 1000.0)
    assert "so exp(u) = inf and inf / inf = NaN" in text
    assert "Shifted: u \u2212 max u \u2264 0" in text


def test_at_scale_1_both_computations_agree(browser):  # noqa: F811
    text = explorer_text(browser, 1.0)
    assert "both computations agree" in text and "NaN" not in text.split("not finite")[0]
