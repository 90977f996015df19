"""The website, built once per test session from a copy of the repository, and served on loopback."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from prettynn.course import book_pages

BOOK_FILES = ("_config.yml", "_toc.yml", "book", "solutions")
site_build_seconds: dict[str, float] = {}  # measured by the fixtures, reported by the site tests


def build(source: Path) -> subprocess.CompletedProcess:
    """Run ``jupyter-book build`` (warnings are errors) in ``source``."""
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", "--warningiserror", "--keep-going", "."]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(command, cwd=source, env=env, capture_output=True, text=True, timeout=1200)


def book_copy(root: Path, destination: Path) -> Path:
    """The book's sources copied to ``destination``, with its chapter pages made."""
    for name in BOOK_FILES:
        source = root / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, destination / name)
    shutil.rmtree(destination / "book" / "chapters", ignore_errors=True)
    book_pages.write_pages(destination)
    return destination


@pytest.fixture(scope="session")
def site(root, tmp_path_factory) -> Path:
    """The HTML of the book built from a copy of the repository."""
    if not (root / "book" / "vendor" / "mathjax" / "tex-chtml.js").exists():
        pytest.fail("book/vendor is missing: run the tests with `make test` (it vendors MathJax)")
    copy = book_copy(root, tmp_path_factory.mktemp("book"))
    started = time.perf_counter()
    done = build(copy)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    site_build_seconds["clean"] = time.perf_counter() - started
    return copy / "_build" / "html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        """Keep the test output clean."""


@contextlib.contextmanager
def serving(directory: Path):
    """``directory`` served on a free loopback port while the block runs; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def served(site):
    """The site served on a free loopback port; yields its base URL."""
    with serving(site) as url:
        yield url


