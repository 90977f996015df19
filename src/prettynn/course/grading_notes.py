"""What the course's autograde steps share: the course directory, the release notebook being
graded, and the grading notes a submission carries from step to step (in its metadata)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory

from . import notebooks

NOTES_KEY = "prettynn"
UNREADABLE_KEY = "prettynn_unreadable"


def coursedir_of(configurable) -> CourseDirectory:
    """The course directory of the nbgrader command that created ``configurable``."""
    parent = configurable
    while parent is not None:
        if isinstance(getattr(parent, "coursedir", None), CourseDirectory):
            return parent.coursedir
        parent = getattr(parent, "parent", None)
    return CourseDirectory(config=configurable.config)


def release_notebook(coursedir: CourseDirectory, resources: dict) -> nbformat.NotebookNode:
    """The release version of the notebook being graded."""
    info = resources["nbgrader"]
    folder = coursedir.format_path(coursedir.release_directory, ".", info["assignment"])
    return notebooks.read(Path(folder) / f"{info['notebook']}.ipynb")


def notes_of(nb) -> list[str]:
    """The grading notes carried in a notebook's metadata (a new list)."""
    return list(nb.metadata.get(NOTES_KEY, {}).get("notes", []))


def set_notes(nb, notes: list[str]) -> None:
    """Store grading notes in a notebook's metadata."""
    nb.metadata.setdefault(NOTES_KEY, {})["notes"] = notes
