"""Every page of the website in Chromium, with every request but the local server's blocked.

For each page: no failed request, no request to another host, no console error, math
typeset (no raw ``$$`` or ``\\frac`` left in the text), nothing clipped at the column's edge,
and every widget rendered and responding to one interaction (its picture changes). Pages
and widgets are found, not listed, so a page or widget added later is covered as it is.
A screenshot of every page is saved in benchmarks/results/screenshots for review, and the
measurements (page weights, widget redraw times, build times) in benchmarks/results/site.md.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from prettynn.course.notebooks import chapters

from .browser import (LEFTOVER_TEX, MATH_TYPESET, WAIT_SECONDS, browser, open_offline,  # noqa: F401
                      picture_changes, settled)
from .site import book_copy, build, site_build_seconds

pytestmark = pytest.mark.slow
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
SCREENSHOTS = RESULTS / "screenshots"

# Visible elements that stick out of the article's column and are not in a scrolling box.
CLIPPED = """() => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main");
  if (!article) return [];
  const right = article.getBoundingClientRect().right + 2;
  const scrolls = e => { for (let a = e.parentElement; a && a !== article; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX; if (o === "auto" || o === "scroll") return true; } return false; };
  const out = [];
  article.querySelectorAll("img, svg, canvas, table, mjx-container, .prettynn-widget, .widget-subarea, .cell_output > *")
    .forEach(e => { const r = e.getBoundingClientRect();
      if (r.width > 0 && r.right > right && !scrolls(e)) out.push(`${e.tagName.toLowerCase()}.${e.className} ends at ${Math.round(r.right)} > ${Math.round(right)}`); });
  return out.slice(0, 5);
}"""

# Widget views the page should show: the saved view placeholders, and the widgets' own
# rendered elements (each widget's ES module marks its root .prettynn-widget when it has drawn).
WIDGETS = """() => ({
  expected: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
  rendered: document.querySelectorAll(".widget-subarea .prettynn-widget").length,
})"""
WIDGETS_RENDERED = f"() => {{ const w = ({WIDGETS})(); return w.rendered >= w.expected; }}"



REFRESH = re.compile(r"""<meta[^>]*http-equiv=["']refresh["'][^>]*url=([^"'>\s]+)""", re.I)


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the site, relative to its root (not the theme's template fragments in _static)."""
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html") if p.relative_to(site).parts[0] != "_static")


def redirect_target(site: Path, path: str) -> str | None:
    """The page a redirecting page (a meta refresh, like the site's index.html) sends the reader to."""
    found = REFRESH.search((site / path).read_text(errors="replace"))
    return str((Path(path).parent / found.group(1)).as_posix()) if found else None


def exercise_widgets(page) -> list[str]:
    """Interact once with each rendered widget; the problems found, and record redraw times."""
    problems = []
    roots = page.locator(".widget-subarea")
    for index in range(roots.count()):
        root = roots.nth(index)
        control = root.locator("input[type=range], button, select, input[type=radio], input[type=checkbox]").first
        if control.count() == 0:
            problems.append(f"widget {index + 1} has no control to interact with")
            continue
        root.scroll_into_view_if_needed()
        kind = control.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")

        def use_control():
            if kind == "input:range":
                control.focus()
                for _ in range(5):
                    control.press("ArrowRight")
            elif kind.startswith("select"):
                control.select_option(index=1)
            else:
                control.click()

        if not picture_changes(root, use_control):
            problems.append(f"widget {index + 1} did not change within {WAIT_SECONDS} s after its {kind} was used")
        timing = root.locator("[data-redraw-ms]")
        if timing.count():
            redraw_times.append(float(timing.first.get_attribute("data-redraw-ms")))
    return problems


redraw_times: list[float] = []
page_weights: dict[str, int] = {}


def test_rebuilding_reexecutes_only_the_edited_chapter(root, tmp_path):
    copy = book_copy(root, tmp_path)
    first = build(copy)
    assert first.returncode == 0, first.stdout[-3000:]
    assert executed_notebooks(first.stdout) == [f"book/chapters/{c}" for c in chapters(root)]
    assert executed_notebooks(build(copy).stdout) == []
    page = copy / "book" / "chapters" / "01_linear.ipynb"
    notebook = json.loads(page.read_text())
    notebook["cells"][0]["source"] = "".join(notebook["cells"][0]["source"]) + "\n\nAn edited sentence."
    page.write_text(json.dumps(notebook))
    assert executed_notebooks(build(copy).stdout) == [], "editing prose re-executed a chapter"
    code = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    code["source"] = "".join(code["source"]) + "\n# an edited line of code"
    page.write_text(json.dumps(notebook))
    started = time.perf_counter()
    edited = build(copy)
    site_build_seconds["after editing one chapter's code"] = time.perf_counter() - started
    assert edited.returncode == 0
    assert executed_notebooks(edited.stdout) == ["book/chapters/01_linear"]


def executed_notebooks(log: str) -> list[str]:
    """The chapter pages a build log says it executed."""
    return sorted(set(re.findall(r"(book/chapters/\w+)\.ipynb: Executing notebook", log)))


def test_every_page_is_whole_offline_and_its_widgets_respond(browser, site, served):
    problems = {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = site_pages(site)
    for path in pages:
        target = redirect_target(site, path)
        if target is not None:  # checked where it leads; here only that it leads somewhere
            if target not in pages:
                problems[path] = [f"redirects to {target}, which is not a page of the site"]
            continue
        page, record = open_offline(browser, served)
        page.goto(f"{served}/{path}", wait_until="load")
        math_done = settled(page, MATH_TYPESET)
        widgets_done = settled(page, WIDGETS_RENDERED)
        widgets = page.evaluate(WIDGETS)
        found = [f"request to another host: {url}" for url in record["foreign"]]
        found += [f"failed request: {failure}" for failure in record["failed"]]
        found += [f"console error: {text}" for text in record["console"]]
        found += [f"raw TeX in the text: {tex}" for tex in page.evaluate(LEFTOVER_TEX)]
        found += [f"clipped: {what}" for what in page.evaluate(CLIPPED)]
        if not math_done:
            found.append(f"MathJax had not finished typesetting after {WAIT_SECONDS} s")
        if not widgets_done:
            found.append(f"{widgets['expected']} widgets saved, {widgets['rendered']} rendered after {WAIT_SECONDS} s")
        found += exercise_widgets(page)
        page.screenshot(path=str(SCREENSHOTS / (path.replace("/", "-").removesuffix(".html") + ".png")), full_page=True)
        page_weights[path] = record["bytes"]
        page.close()
        if found:
            problems[path] = found
    write_measurements(site)
    assert not problems, json.dumps(problems, indent=1)


def test_search_works_offline(browser, served):
    page, record = open_offline(browser, served)
    page.goto(f"{served}/search.html?q=softmax", wait_until="load")
    page.wait_for_selector("#search-results li, ul.search li", timeout=WAIT_SECONDS * 1000)
    titles = page.locator("ul.search li").all_inner_texts()
    assert any("Linear layers" in title for title in titles), titles
    assert not record["foreign"] and not record["console"], record
    page.close()


def test_the_chapter_widget_is_on_the_page_with_its_saved_state(site):
    html = (site / "book" / "chapters" / "01_linear.html").read_text()
    state = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', html, re.S)
    assert state, "no widget state was saved in chapter 01"
    models = json.loads(state.group(1))["state"]
    assert any(model["model_name"] == "AnyModel" and "export default" in model["state"].get("_esm", "")
               for model in models.values())


def test_a_notebook_that_fails_fails_the_build_naming_the_cell_and_error(root, tmp_path):
    copy = book_copy(root, tmp_path)
    page = json.loads((copy / "book" / "chapters" / "01_linear.ipynb").read_text())
    broken = {"cell_type": "code", "execution_count": None, "id": "broken-cell", "metadata": {}, "outputs": [],
              "source": ["raise RuntimeError('this chapter is broken on purpose')"]}
    page["cells"] = page["cells"][:2] + [broken]
    (copy / "book" / "chapters" / "01_linear.ipynb").write_text(json.dumps(page))
    done = build(copy)
    assert done.returncode != 0
    log = done.stdout + done.stderr
    assert "this chapter is broken on purpose" in log and "RuntimeError" in log


def write_measurements(site: Path) -> None:
    """Save page weights, the site's size, widget redraw times and build times in benchmarks/results/site.md."""
    total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    heaviest = max(page_weights, key=page_weights.get)
    lines = ["# The website, measured by tests/test_site_browser.py", "",
             f"- site size: {total / 2**20:.1f} MiB in {sum(1 for p in site.rglob('*') if p.is_file())} files",
             f"- heaviest page, everything the browser loaded for it: {heaviest}, "
             f"{page_weights[heaviest] / 2**20:.1f} MiB"]
    lines += [f"  - {path}: {weight / 2**10:.0f} KiB" for path, weight in sorted(page_weights.items())]
    lines += [f"- build, {what}: {seconds:.0f} s" for what, seconds in site_build_seconds.items()]
    if redraw_times:
        lines.append(f"- widget redraw after one interaction, as measured in the browser: "
                     f"median {sorted(redraw_times)[len(redraw_times) // 2]:.1f} ms, max {max(redraw_times):.1f} ms "
                     f"({len(redraw_times)} widgets)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "site.md").write_text("\n".join(lines) + "\n")
