"""Shared fixtures: the repository root, and implementations loaded from the course's own files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .site import served, site  # noqa: F401, E402  (session fixtures: one built site for every test)

ROOT = Path(__file__).resolve().parents[1]


def load_functions(source: str, supplied: dict | None = None) -> dict:
    """Execute Python source defining functions (with ``np`` and ``supplied`` available); return its namespace."""
    namespace = {"np": np, **(supplied or {})}
    exec(compile(source, "<submission>", "exec"), namespace)
    return namespace


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


def all_samples() -> list[dict]:
    """Every sample declaration of autograde/samples/*.toml."""
    from prettynn.course.samples import load_spec

    return load_spec(ROOT)


@pytest.fixture(scope="session")
def alternative_solutions() -> dict:
    """Correct solutions written differently (loops, einsum, logaddexp), of every chapter: the
    replaced cells of each sample expected to get full marks. Each runs in a namespace of its
    own plus the instructor's solutions of the functions its exercise may use."""
    from prettynn.exercise import get

    references = instructor_functions()
    namespace: dict = {}
    for entry in all_samples():
        if entry["expect"] == "full":
            for name, source in entry.get("replace", {}).items():
                supplied = {used: references[used] for used in get(name).uses}
                namespace[name] = load_functions(source, supplied)[name]
    return namespace
