"""Where the course's notebooks live, and reading/writing them the same way everywhere."""

from __future__ import annotations

from pathlib import Path

import nbformat

from .notebook_regions import strip_solution_delimiters

SOLUTIONS = "solutions"
RELEASE = "notebooks"
SUBMITTED = "autograde/submitted"
REPORTS = "autograde/reports"  # the protected autograde's JSON report per notebook, the class report


def chapters(root: Path) -> list[str]:
    """The assignment ids (chapter folder names) of the instructor source, sorted."""
    return sorted(p.name for p in (root / SOLUTIONS).iterdir() if (p / f"{p.name}.ipynb").is_file())


def source_path(root: Path, chapter: str) -> Path:
    """The instructor notebook of ``chapter``."""
    return root / SOLUTIONS / chapter / f"{chapter}.ipynb"


def release_path(root: Path, chapter: str) -> Path:
    """The student release notebook of ``chapter``."""
    return root / RELEASE / chapter / f"{chapter}.ipynb"


def read(path: Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat 4."""
    return nbformat.read(path, as_version=4)


def write(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Write ``notebook`` (validated) to ``path``, creating its folder."""
    nbformat.validate(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def nbgrader_metadata(cell) -> dict:
    """A cell's nbgrader metadata, or {} (also when a hand-edited notebook has something else there)."""
    metadata = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbgrader = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
    return nbgrader if isinstance(nbgrader, dict) else {}


def grade_id(cell) -> str:
    """The nbgrader ``grade_id`` of a cell, or ''."""
    return str(nbgrader_metadata(cell).get("grade_id", "") or "")


def is_solution(cell) -> bool:
    """True for an nbgrader solution cell."""
    return bool(nbgrader_metadata(cell).get("solution"))


def is_test(cell) -> bool:
    """True for an nbgrader graded code cell (a test cell)."""
    nbgrader = nbgrader_metadata(cell)
    return bool(nbgrader.get("grade")) and not nbgrader.get("solution") and cell.get("cell_type") == "code"


def solution_sources(notebook) -> dict[str, str]:
    """The code of each solution cell, without its delimiters, by grade_id."""
    return {grade_id(cell): strip_solution_delimiters(cell.source) for cell in notebook.cells if is_solution(cell)}
