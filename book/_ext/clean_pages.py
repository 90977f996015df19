"""Sphinx extension of the book: pages on which the browser logs no error.

- Jupyter Book always loads sphinx-thebe, which adds its inline configuration script twice
  (the browser then logs "Identifier 'THEBE_JS_URL' has already been declared") and names
  a CDN. The book runs no live code on the site, so Thebe's scripts are dropped, and any
  script added twice is kept once.
- The theme logs "Got invalid theme mode" when the page names no default colour mode
  (sphinx-book-theme does not accept pydata's ``default_mode`` option); the book's is light.
- The site publishes no page source (``html_copy_source`` is off: a page's notebook runs the
  solutions), so the theme's download buttons, which link to those sources, are switched off.
"""

from __future__ import annotations


def _script_key(script) -> tuple:
    """What makes two script entries the same: the file and the inline body."""
    filename = getattr(script, "filename", script)
    body = getattr(script, "attributes", {}).get("body", "")
    return str(filename), str(body)


def _is_thebe(script) -> bool:
    """True for sphinx-thebe's file or inline configuration."""
    filename, body = _script_key(script)
    return "thebe" in filename.lower() or "THEBE_JS_URL" in body


def keep_own_scripts_once(app, pagename, templatename, context, doctree) -> None:
    """Drop Thebe's scripts and repeated scripts from the page about to be written; light mode
    unless the reader chose another."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        key = _script_key(script)
        if _is_thebe(script) or key in seen:
            continue
        seen.add(key)
        kept.append(script)
    context["script_files"] = kept
    if not context.get("default_mode"):
        context["default_mode"] = "light"


def no_download_buttons(app, config) -> None:
    """Switch off the theme's download buttons (they link to page sources the site does not have)."""
    config.html_theme_options = {**config.html_theme_options, "use_download_button": False}


def setup(app):
    """Register the handlers (the page's after every extension added its scripts)."""
    app.connect("config-inited", no_download_buttons)
    app.connect("html-page-context", keep_own_scripts_once, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
