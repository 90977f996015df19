"""Shared fixtures: the repository root, and implementations loaded from the course's own files."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_functions(source: str) -> dict:
    """Execute Python source defining functions (with ``np`` available); return its namespace."""
    namespace = {"np": np}
    exec(compile(source, "<submission>", "exec"), namespace)
    return namespace


def sample(student: str) -> dict:
    """One sample declaration of autograde/samples.toml."""
    with open(ROOT / "autograde" / "samples.toml", "rb") as handle:
        samples = tomllib.load(handle)["sample"]
    return next(s for s in samples if s["student"] == student)


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root (the nbgrader course directory)."""
    return ROOT


def instructor_functions(chapter: str | None = None) -> dict:
    """The instructor's solutions (of one chapter, or all), by function name, from solutions/."""
    from prettynn.course import notebooks

    namespace: dict = {}
    for name in [chapter] if chapter else notebooks.chapters(ROOT):
        for source in notebooks.solution_sources(notebooks.read(notebooks.source_path(ROOT, name))).values():
            namespace.update(load_functions(source))
    return namespace


@pytest.fixture(scope="session")
def reference_solutions() -> dict:
    """The instructor's solutions of every chapter, by function name."""
    return instructor_functions()


@pytest.fixture(scope="session")
def alternative_solutions() -> dict:
    """Correct solutions written differently (loops, einsum, logaddexp): sample-alternative."""
    namespace: dict = {}
    for source in sample("sample-alternative")["replace"].values():
        namespace.update(load_functions(source))
    return namespace
