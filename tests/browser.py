"""Headless Chromium for the browser tests: Debian's build, driven by Playwright, no network of its own."""

from __future__ import annotations

import os
import shutil

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
