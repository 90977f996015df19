"""`make lab`, the README's first command, in a real browser: the student release opens in
JupyterLab, its cells run, a blank exercise's check says so kindly, the chapter's widget
renders and responds, and the server logs no error.

The course is copied to a temporary folder (its `.venv` linked), so that JupyterLab's
files (checkpoints, language-server documents) never land in the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .browser import WAIT_SECONDS, browser, picture_changes  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.slow
LAB_FILES = ("Makefile", "pyproject.toml", "README.md", "nbgrader_config.py", "jupyter", "notebooks", "solutions")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "screenshots"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(root, tmp_path_factory):
    """`make lab` running on a copy of the course: its URL with token, and its log (read at the end)."""
    course = tmp_path_factory.mktemp("lab")
    for name in LAB_FILES:
        (shutil.copytree if (root / name).is_dir() else shutil.copy2)(root / name, course / name)
    (course / ".venv").symlink_to(root / ".venv")
    log_path = course / "lab.log"
    port = free_port()
    with open(log_path, "w") as log:
        process = subprocess.Popen(["make", "lab", f"LAB_ARGS=--no-browser --port={port} --ServerApp.port_retries=0"],
                                   cwd=course, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, "JUPYTER_RUNTIME_DIR": str(course / "runtime")})
    try:
        url = wait_for_url(log_path, process)
        yield url, log_path
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """End the server and everything it started (a group that is already gone is fine)."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
            process.wait(timeout=20)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def wait_for_url(log_path: Path, process: subprocess.Popen, seconds: float = 120) -> str:
    """The server's URL with its token, once it is printed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.search(r"http://127\.0\.0\.1:\d+/lab\S*\?token=\w+", log_path.read_text())
        if found:
            return found.group(0)
        if process.poll() is not None:
            pytest.fail(f"make lab exited {process.returncode}:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"make lab printed no URL in {seconds} s:\n{log_path.read_text()[-3000:]}")


def test_the_release_opens_runs_and_the_server_logs_no_error(browser, lab):
    url, log_path = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=WAIT_SECONDS * 1000)
    assert page.get_by_role("tab", name="01_linear.ipynb").count() == 1
    # Run All before the kernel is connected loses the first cell's run: wait until it is idle
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).first.wait_for(
        state="attached", timeout=WAIT_SECONDS * 1000)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # JupyterLab renders cells out of view lazily: wait for outputs to exist, then look at them
    outputs = page.locator(".jp-OutputArea-output")
    outputs.filter(has_text="Ready (prettynn").first.wait_for(state="attached", timeout=2 * WAIT_SECONDS * 1000)
    outputs.filter(has_text="not attempted yet").first.wait_for(state="attached", timeout=2 * WAIT_SECONDS * 1000)
    assert outputs.filter(has_text="Ready (prettynn").count() == 1, "the setup cell said it is ready more than once"
    widget = page.locator(".prettynn-widget").first
    widget.wait_for(state="attached", timeout=WAIT_SECONDS * 1000)  # past the blank checks: tagged raises-exception
    widget.scroll_into_view_if_needed()
    slider = widget.locator("input[type=range]").first

    def press_right():
        slider.focus()
        for _ in range(5):
            slider.press("ArrowRight")

    assert picture_changes(widget, press_right), "the widget did not respond to the keyboard"
    assert page.locator("text=Error displaying widget").count() == 0
    address = urlsplit(url)
    settings = page.request.get(f"{address.scheme}://{address.netloc}/lab/api/settings/"
                                f"@jupyterlab/apputils-extension:notification?{address.query}").json()
    fetch_news = settings["settings"].get("fetchNews", settings["schema"]["properties"]["fetchNews"]["default"])
    assert fetch_news == "false", "JupyterLab would ask about fetching news (the course is offline)"
    assert page.locator("text=notified about official Jupyter news").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "jupyterlab-01_linear.png"))
    page.close()
    time.sleep(1)
    log = log_path.read_text()
    errors = [line for line in log.splitlines() if line.startswith("[E ") or "Traceback" in line]
    assert not errors, "\n".join(errors)
