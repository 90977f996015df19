"""The website: built by Jupyter Book from a copy of the repository, checked offline.

- no page loads a script, stylesheet, image, font or frame from another host (checked in
  the HTML and CSS, and again in Chromium, where every request is watched);
- hidden tests never appear and solutions are folded;
- the chapters' outputs are what their code should print.

The site is built once per test session (``tests/site.py``); tests/test_site_browser.py
looks at every page in Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup

from prettynn.course import notebook_regions, notebooks

from .course import hidden_lines

pytestmark = pytest.mark.slow
LOADING_ATTRIBUTES = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
                      "video": "src", "audio": "src", "embed": "src", "object": "data", "image": "href"}
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")


def pages(site: Path) -> list[Path]:
    """The site's HTML pages (Sphinx's search and index pages included)."""
    return sorted(site.rglob("*.html"))


def is_remote(url: str) -> bool:
    """True for a URL naming another host (http:, https:, protocol-relative //)."""
    parsed = urlparse(url.strip())
    return bool(parsed.netloc) or parsed.scheme not in ("", "data", "blob")


def remote_loads(html: str) -> list[str]:
    """URLs from other hosts that a page's markup or inline styles would load."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for tag, attribute in LOADING_ATTRIBUTES.items():
        for element in soup.find_all(tag):
            if tag == "link" and not set(element.get("rel", [])) & {"stylesheet", "preload", "icon", "modulepreload", "manifest"}:
                continue
            for name in (attribute, "srcset", "xlink:href"):
                value = element.get(name)
                if value and is_remote(value.split()[0]):
                    found.append(f"<{tag} {name}={value}>")
    for style in soup.find_all("style"):
        found += [url for url in CSS_URL.findall(style.get_text()) if is_remote(url)]
    return found


def test_the_chapter_pages_are_built(site):
    assert (site / "book" / "chapters" / "01_linear.html").exists()
    assert (site / "book" / "intro.html").exists()


def chapter_outputs(site: Path, chapter: str) -> str:
    """The text of every cell output of a built chapter page."""
    soup = BeautifulSoup((site / "book" / "chapters" / f"{chapter}.html").read_text(), "html.parser")
    return "\n".join(output.get_text() for output in soup.select("div.cell_output"))


def test_chapter_01_network_trains_and_passes_its_gradient_check(site):
    outputs = chapter_outputs(site, "01_linear")
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", outputs).group(1))
    assert accuracy >= 95.0
    verdicts = re.findall(r"(✔|✘) the two-layer network, d loss / d \w+: relative error ([\d.e+-]+)", outputs)
    assert len(verdicts) == 4 and all(mark == "✔" and float(error) < 1e-6 for mark, error in verdicts)
    assert "Using your own linear, linear_backward, relu, relu_backward, cross_entropy, cross_entropy_backward." in outputs
    assert "visible cases pass" not in outputs, "the course edition shows a check's ✔ under a stub"


def test_no_page_loads_anything_from_another_host(site):
    offenders = {str(p.relative_to(site)): remote_loads(p.read_text()) for p in pages(site)}
    for css in site.rglob("*.css"):
        offenders[str(css.relative_to(site))] = [u for u in CSS_URL.findall(css.read_text(errors="replace")) if is_remote(u)]
    offenders = {page: urls for page, urls in offenders.items() if urls}
    assert not offenders, offenders


def test_remote_load_detection_catches_cdn_tags():
    html = ('<script src="https://cdn.example.org/x.js"></script><link rel="stylesheet" href="//fonts.example.org/a.css">'
            '<img src="http://example.org/a.png"><style>@font-face{src:url(https://example.org/f.woff2)}</style>'
            '<a href="https://example.org/">a link loads nothing</a><script src="_static/local.js"></script>')
    assert len(remote_loads(html)) == 4


def test_hidden_tests_never_appear(site, root):
    secrets = hidden_lines(root) + ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION"]
    for page in pages(site):
        text = page.read_text()
        assert not [s for s in secrets if s in BeautifulSoup(text, "html.parser").get_text()], page


def solution_secrets(root: Path) -> tuple[set[str], set[str]]:
    """Every solution's body lines, and the identifiers only solutions use (for the search index)."""
    lines, shown = set(), []
    for chapter in notebooks.chapters(root):
        for cell in notebooks.read(notebooks.source_path(root, chapter)).cells:
            if notebooks.is_solution(cell):
                lines.update(notebook_regions.solution_lines(cell.source))
                shown.append(notebook_regions.solution_stub(cell.source))
            else:
                shown.append(cell.source)
    shown_text = "\n".join(shown)
    lines = {line for line in lines if len(line) >= 12 and line not in shown_text}
    words = {w.lower() for line in lines for w in re.findall(r"[A-Za-z_]\w*_\w+", line)}
    words = {w for w in words if w not in shown_text.lower()}
    return lines, words


def test_the_course_edition_has_no_solution_anywhere(site, root):
    """Not folded, not in the page source, not in the search index: the student's stubs instead."""
    lines, words = solution_secrets(root)
    assert len(lines) > 50, "too few solution lines to look for"
    found = {}
    for path in site.rglob("*"):
        if not path.is_file() or path.suffix not in {".html", ".js", ".json", ".txt", ".ipynb", ".md"}:
            continue
        raw = path.read_text(errors="replace")
        text = " ".join(BeautifulSoup(raw, "html.parser").get_text().split()) if path.suffix == ".html" else raw
        leaks = [line for line in lines if " ".join(line.split()) in text or line in raw]
        if path.name == "searchindex.js":
            leaks += [word for word in words if f'"{word}"' in raw]
        if leaks:
            found[str(path.relative_to(site))] = sorted(leaks)[:5]
    assert not found, found
    chapter = BeautifulSoup((site / "book" / "chapters" / "01_linear.html").read_text(), "html.parser")
    stub = next(block for block in chapter.select("div.highlight") if "def linear(" in block.get_text())
    assert "raise NotImplementedError()" in stub.get_text()
    assert not list((site / "_sources").rglob("*")) if (site / "_sources").exists() else True
