"""prettynn.course.release: regenerating a release never deletes a student's work."""

from __future__ import annotations

import shutil

import pytest

from prettynn.course import notebooks, release

from .conftest import ROOT

CHAPTER = notebooks.chapters(ROOT)[0]


def release_copy(tmp_path):
    """A course folder with the committed release of CHAPTER (nbgrader is never reached in these tests)."""
    path = notebooks.release_path(tmp_path, CHAPTER)
    path.parent.mkdir(parents=True)
    shutil.copy2(notebooks.release_path(ROOT, CHAPTER), path)
    return path


def test_the_committed_release_holds_no_work(tmp_path):
    assert release.student_work(release_copy(tmp_path)) == []


def test_a_written_exercise_and_run_cells_are_work_and_the_release_is_refused(tmp_path, monkeypatch):
    path = release_copy(tmp_path)
    notebook = notebooks.read(path)
    cell = next(c for c in notebook.cells if notebooks.is_solution(c))
    cell.source = cell.source.replace("raise NotImplementedError()", "return 42  # my answer")
    cell.execution_count = 3
    notebooks.write(notebook, path)
    work = release.student_work(path)
    assert work == [f"exercise {notebooks.grade_id(cell)} written", "1 cell run"]
    monkeypatch.setattr(release.subprocess, "run", lambda *a, **k: pytest.fail("nbgrader must not run"))
    with pytest.raises(release.ReleaseError, match="holds work .* Nothing was changed"):
        release.release(tmp_path, CHAPTER)
    assert "my answer" in path.read_text()
