"""Widgets: each an anywidget class plus one ES module that draws it and handles every interaction.

The pattern (see ``book/widgets.md`` for authors):

- Python holds the data as synced traits and computes anything heavy beforehand (e.g.
  training runs, sent as lists); it registers no callbacks.
- ``prettynn/widgets/<name>.js`` is one ES module, ``export default { render({ model, el }) }``,
  with no imports: it draws with SVG or canvas, reads and writes traits through ``model``,
  and redraws on every change, all in the browser.
- So the same object works live in JupyterLab and, from the state saved when the book is
  built, on a static page with no kernel.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def esm(name: str) -> str:
    """The ES module of widget ``name`` (``prettynn/widgets/<name>.js``) as text, as anywidget sends it."""
    return (HERE / f"{name}.js").read_text(encoding="utf-8")
