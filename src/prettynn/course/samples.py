"""Make the sample submissions under ``autograde/submitted`` from ``autograde/samples/<chapter>.toml``.

A sample is the student release with its solution cells filled in: from the instructor
source (``fill = "solutions"``), left as released (``fill = "none"``), and with some
cells replaced by the code given in the sample's ``replace`` table (grade_id -> source).
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

from . import notebooks

SPECS = "autograde/samples"


def load_spec(root: Path) -> list[dict]:
    """The sample declarations of every chapter (``autograde/samples/<chapter>.toml``), in chapter order."""
    declared = []
    for path in sorted((root / SPECS).glob("*.toml")):
        with open(path, "rb") as handle:
            entries = tomllib.load(handle).get("sample", [])
        wrong = [entry["student"] for entry in entries if entry.get("assignment") != path.stem]
        if wrong:
            raise ValueError(f"{path.relative_to(root)}: samples of another assignment: {', '.join(wrong)}")
        declared += entries
    return declared


def submission(release, source, sample: dict):
    """The notebook a student following ``sample`` would hand in."""
    solutions = notebooks.solution_sources(source)
    replace = sample.get("replace", {})
    unknown = set(replace) - set(solutions)
    if unknown:
        raise ValueError(f"sample {sample['student']}: no solution cell has grade_id {sorted(unknown)}")
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        if not notebooks.is_solution(cell):
            continue
        cell_id = notebooks.grade_id(cell)
        if cell_id in replace:
            cell.source = replace[cell_id].strip("\n")
        elif sample["fill"] == "solutions":
            cell.source = solutions[cell_id]
    return notebook


def submission_path(root: Path, sample: dict) -> Path:
    """Where nbgrader expects the sample: ``autograde/submitted/<student>/<chapter>/<chapter>.ipynb``."""
    chapter = sample["assignment"]
    return root / notebooks.SUBMITTED / sample["student"] / chapter / f"{chapter}.ipynb"


def write_samples(root: Path) -> list[Path]:
    """Write every sample submission of the chapters that have a student release; return their paths."""
    written = []
    for sample in load_spec(root):
        chapter = sample["assignment"]
        if not notebooks.release_path(root, chapter).is_file():
            raise FileNotFoundError(f"{chapter} has no student release yet: run `make release CHAPTER={chapter}` first")
        notebook = submission(
            notebooks.read(notebooks.release_path(root, chapter)),
            notebooks.read(notebooks.source_path(root, chapter)),
            sample,
        )
        path = submission_path(root, sample)
        notebooks.write(notebook, path)
        written.append(path)
    return written
