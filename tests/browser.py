"""Headless Chromium for the browser tests: Debian's build, driven by Playwright, no network of its own."""

from __future__ import annotations

import os
import shutil
import time

import pytest


def chromium_path() -> str:
    """Debian's Chromium, or fail in CI / skip on a laptop without it."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI (make browser installs it)")
    pytest.skip("Chromium is not installed (make browser installs it)")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Playwright, with no network of its own."""
    from playwright.sync_api import sync_playwright

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=flags)
        yield instance
        instance.close()


# A page that renders one widget's ES module with a stand-in for anywidget's model (no kernel,
# no widget manager): fill in the module's source and the traits, both as JSON.
WIDGET_PAGE = """<!doctype html><html><body><div id="root"></div><script type="module">
const source = %s;
const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
const module = await import(url);
const traits = %s;
const handlers = {};
const model = {
  get: (name) => traits[name],
  set: (name, value) => { traits[name] = value; },
  save_changes: () => { for (const h of Object.values(handlers).flat()) h(); },
  on: (event, h) => { (handlers[event] = handlers[event] || []).push(h); },
  off: () => {},
};
window.widgetModel = model;
module.default.render({ model, el: document.getElementById("root") });
window.ready = true;
</script></body></html>"""


# Every wait in the browser tests is for what the test checks, bounded, never a fixed delay:
# a busy machine only makes them slower. The bound is generous (a loaded 2-core machine).
WAIT_SECONDS = 90


def wait_for(page, script: str, what: str, seconds: float = WAIT_SECONDS, arg=None):
    """Wait until ``script`` (a JS function of ``arg``) returns something truthy; fail naming ``what``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        return page.wait_for_function(script, arg=arg, timeout=seconds * 1000, polling=100).json_value()
    except PlaywrightTimeout:
        pytest.fail(f"{what}: not seen within {seconds:.0f} s")


def picture_changes(element, act, seconds: float = WAIT_SECONDS) -> bool:
    """Take a screenshot of ``element``, call ``act()``, then wait (bounded) until the element's
    picture differs from the first; True when it did."""
    before = element.screenshot()
    act()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if element.screenshot() != before:
            return True
    return False


# Text left after typesetting, outside code: raw TeX the page failed to render.
LEFTOVER_TEX = """() => {
  const body = document.querySelector("main") || document.body;
  const copy = body.cloneNode(true);
  copy.querySelectorAll("pre, code, script, style, mjx-container, .MathJax, textarea").forEach(e => e.remove());
  const text = copy.innerText;
  return ["$$", "\\\\frac", "\\\\begin{", "\\\\mathbb"].filter(s => text.includes(s));
}"""

# MathJax, when the page loads it (from a file or inline), has finished typesetting (its startup promise resolved).
MATH_TYPESET = """() => {
  if (!document.querySelector('script[src*="mathjax"]') && !window.MathJax) return true;
  if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return false;
  if (!window.__typeset) { window.__typeset = "pending"; MathJax.startup.promise.then(() => { window.__typeset = "done"; }); }
  return window.__typeset === "done";
}"""


def open_offline(browser, served: str):
    """A page in which every request to another host is aborted, with a record of what happened."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # its own cache: fair weights
    page = context.new_page()
    page.on("close", lambda _: context.close())
    record = {"foreign": [], "failed": [], "console": [], "bytes": 0}

    def route(request_route):
        if request_route.request.url.startswith(served) or request_route.request.url.startswith("data:"):
            request_route.continue_()
        else:
            record["foreign"].append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda request: record["failed"].append(f"{request.url} ({request.failure})"))
    page.on("response", lambda response: record["failed"].append(f"{response.url} ({response.status})")
            if response.status >= 400 else None)
    page.on("console", lambda message: record["console"].append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: record["console"].append(str(error)))
    page.on("requestfinished", lambda request: record.__setitem__(
        "bytes", record["bytes"] + max(request.sizes()["responseBodySize"], 0)))
    return page, record


def settled(page, script: str, seconds: float = WAIT_SECONDS) -> bool:
    """Wait (bounded) until ``script`` returns true on ``page``; False when it never did."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(script, timeout=seconds * 1000, polling=100)
        return True
    except PlaywrightTimeout:
        return False
