"""MathJax for the feedback pages, from the course's own copy: feedback is read offline.

nbconvert's templates load MathJax from a CDN. The course's feedback template
(``templates/prettynn_feedback``) puts MathJax 3's single-file SVG build (``tex-svg.js``, fonts
included, about 2 MB) into each page instead, read from the npm package the book already
installs (``node_modules/mathjax``, ``make feedback`` installs it).
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "prettynn_feedback"
PLACES = ("node_modules/mathjax/es5", "book/vendor/mathjax")


def mathjax_file(name: str, root: Path | None = None) -> Path:
    """The MathJax build ``name`` in the course at ``root`` (the current directory by default)."""
    root = Path.cwd() if root is None else root
    for place in PLACES:
        path = root / place / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"MathJax's {name} was not found in {' or '.join(PLACES)} under {root}: "
                            "run `make feedback` (it installs MathJax with npm) from the course directory")


def offline_mathjax(name: str) -> str:
    """A Jinja filter: the source of MathJax's ``name``, to inline in a page."""
    return mathjax_file(name).read_text(encoding="utf-8")
