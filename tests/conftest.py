"""Shared fixtures: the repository root, and implementations loaded from the course's own files."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .site import served, site  # noqa: F401, E402  (session fixtures: one built site for every test)

ROOT = Path(__file__).resolve().parents[1]


def load_functions(source: str, supplied: dict | None = None) -> dict:
    """Execute Python source defining functions (with ``np``, ``math`` and ``supplied`` available, as
    when graded); return its namespace."""
    namespace = {"np": np, "math": math, **(supplied or {})}
    exec(compile(source, "<submission>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="session", autouse=True)
def busy_cores():
    """With ``PRETTYNN_BUSY_CORES=N``, N processes spin for the whole session: the suite must pass on
    a busy machine (``PRETTYNN_BUSY_CORES=1 pytest tests/test_site_browser.py`` proves the waits)."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(int(os.environ.get("PRETTYNN_BUSY_CORES", "0")))]
    yield len(spinners)
    for spinner in spinners:
        spinner.kill()
        spinner.wait()


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root (the nbgrader course directory)."""
    return ROOT


def instructor_functions(chapter: str | None = None) -> dict:
    """The instructor's solutions (of one chapter, or all), by function name, from solutions/,
    defined as the grader defines them (``prettynn.course.references.instructor_functions``)."""
    from prettynn.course import notebooks, references

    chapters = [chapter] if chapter else notebooks.chapters(ROOT)
    names = [name for each in chapters for name in references.reference_sources(ROOT, each)]
    return references.instructor_functions(ROOT, names)


@pytest.fixture(scope="session")
def graded_locally(tmp_path_factory) -> dict:
    """Every chapter of a course copy graded by the local batch (``tests.course.graded_class``):
    one grading shared by the tests of grading, feedback and the Dask path."""
    from .course import graded_class

    return graded_class(ROOT, tmp_path_factory.mktemp("graded-locally"))


@pytest.fixture(scope="session")
def reference_solutions() -> dict:
    """The instructor's solutions of every chapter, by function name."""
    return instructor_functions()


def all_samples() -> list[dict]:
    """Every sample declaration of autograde/samples/*.toml."""
    from prettynn.course.samples import load_spec

    return load_spec(ROOT)


@pytest.fixture(scope="session")
def alternative_solutions() -> dict:
    """Correct solutions written differently (loops, einsum, logaddexp), of every chapter: the
    replaced cells of each sample expected to get full marks. Each runs in a namespace of its
    own plus the instructor's solutions of the functions its exercise may use."""
    from prettynn.model import get

    references = instructor_functions()
    namespace: dict = {}
    for entry in all_samples():
        if entry["expect"] == "full":
            for name, source in entry.get("replace", {}).items():
                supplied = {used: references[used] for used in get(name).uses}
                namespace[name] = load_functions(source, supplied)[name]
    return namespace
