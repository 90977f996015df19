"""Widgets: each an anywidget class plus one ES module that draws it and handles every interaction.

The pattern (see ``book/widgets.md`` for authors):

- Python holds the data as synced traits and computes anything heavy beforehand (e.g.
  training runs, sent as lists); it registers no callbacks.
- The class ``prettynn/widgets/<name>.py`` sends ``esm("<name>")``: ``common.js`` (the DOM
  helpers, base CSS and output-size rule every widget shares) followed by ``<name>.js``, which
  ends in ``export default { render({ model, el }) }``. So each widget is one ES module with no
  imports: it draws with SVG or canvas, reads and writes traits through ``model``, and redraws
  on every change, all in the browser.
- So the same object works live in JupyterLab and, from the state saved when the book is
  built, on a static page with no kernel.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import traitlets

HERE = Path(__file__).parent
SHARED = "common"  # the ES source every widget's module starts with


def esm(name: str) -> str:
    """Widget ``name``'s ES module as anywidget sends it: ``common.js`` followed by ``<name>.js``."""
    return "".join((HERE / f"{part}.js").read_text(encoding="utf-8") for part in (SHARED, name))


def range_validator(ranges: dict[str, tuple[int, int]]) -> traitlets.ValidateHandler:
    """A validator, to assign in a widget class, of the integer traits named in ``ranges``: each value must lie in
    its trait's ``(lowest, highest)``, or ``ValueError`` names the allowed range."""

    @traitlets.validate(*ranges)
    def _validate_range(self, proposal: traitlets.Bunch) -> int:
        name, value = proposal["trait"].name, proposal["value"]
        low, high = ranges[name]
        if not low <= value <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}, got {value}")
        return value

    return _validate_range


def checked_modes(modes: Iterable[str], allowed: tuple[str, ...]) -> list[str]:
    """``modes`` as a list if it is a non-empty list of distinct entries of ``allowed``."""
    offered = list(modes)
    if not offered or len(set(offered)) != len(offered) or not set(offered) <= set(allowed):
        raise ValueError(f"modes must be a non-empty list of distinct modes from {allowed}, got {modes!r}")
    return offered
