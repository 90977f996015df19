"""Helpers for tests that run nbgrader on a temporary copy of the course."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from prettynn.course import notebook_regions, notebooks

# Appended to a copy's nbgrader_config.py: plain nbgrader, its default exporter and
# preprocessors (tests run in the student's kernel), for comparisons with the course's.
PLAIN_CONFIG = '''
c.Autograde.exporter_class = "nbconvert.exporters.NotebookExporter"
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput", "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec", "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata"]
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute", "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata"]
c.Execute.timeout = 15
'''

COURSE_FILES = ("nbgrader_config.py", "solutions", "notebooks", "autograde/samples", "autograde/submitted")


def copy_course(root: Path, destination: Path) -> Path:
    """Copy what nbgrader needs of the course into ``destination``; return it."""
    for name in COURSE_FILES:
        source, target = root / name, destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    if (root / "node_modules").is_dir():  # MathJax for the feedback pages
        (destination / "node_modules").symlink_to(root / "node_modules")
    return destination


def environment() -> dict:
    """This process's environment with the virtual environment's bin first on PATH (nbgrader needs it)."""
    bin_dir = Path(sys.executable).parent
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def nbgrader_command(*args: str) -> list[str]:
    """The command line of ``nbgrader ARGS`` from this virtual environment."""
    return [str(Path(sys.executable).parent / "nbgrader"), *args]


def nbgrader(course: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course`` with this Python's environment; fail loudly on error."""
    done = subprocess.run(nbgrader_command(*args), cwd=course, env=environment(), capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done


def hidden_lines(root) -> list[str]:
    """Every non-empty line inside a hidden-test region of the instructor notebooks."""
    lines = []
    for chapter in notebooks.chapters(root):
        for cell in notebooks.read(notebooks.source_path(root, chapter)).cells:
            if notebook_regions.BEGIN_HIDDEN in cell.source:
                region = cell.source.split(notebook_regions.BEGIN_HIDDEN)[1].split(notebook_regions.END_HIDDEN)[0]
                lines += [line.strip() for line in region.splitlines() if line.strip()]
    return lines


def file_digests(path: Path, relative_to: Path | None = None) -> dict[str, str]:
    """sha256 of the file ``path``, or of every file under the folder ``path`` (its folders listed
    too), by relative path: two calls compare equal only if nothing was added, removed or changed."""
    base = relative_to or path
    paths = [path] if path.is_file() else sorted(path.rglob("*"))
    return {str(p.relative_to(base)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
            for p in paths}


def graded_scores(course: Path, chapter: str, student: str) -> dict[str, float]:
    """``{test cell: score}`` of a student's chapter notebook in the course's gradebook ({} if never graded)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course}/autograde/gradebook.db") as gradebook:
        try:
            submission = gradebook.find_submission_notebook(chapter, chapter, student)
        except MissingEntry:
            return {}
        return {grade.name: grade.score for grade in submission.grades if grade.max_score}


# Chapter 01 of the graded class also has a submission past its due date (graded with the
# "zero" late penalty) and a notebook saved under another name.
LATE, RENAMED = "late-student", "renamed"
DUE, SUBMITTED_AT = "2026-03-01 12:00:00 UTC", "2026-03-01 12:30:00 UTC"
LATE_CONFIG = '\nc.LateSubmissionPlugin.penalty_method = "zero"\n'


def add_late_and_renamed(course: Path, chapter: str) -> None:
    """A due date for ``chapter``, a correct submission past it, and one saved under another name."""
    from nbgrader.api import Gradebook

    from prettynn.course import batch

    assignment = batch.load_assignment(course, chapter)
    batch.record_assignment(assignment)
    with Gradebook(batch.gradebook_url(assignment.coursedir)) as gradebook:
        gradebook.update_or_create_assignment(chapter, duedate=DUE)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(LATE_CONFIG)
    submitted = course / "autograde/submitted"
    correct = submitted / "sample-correct" / chapter / f"{chapter}.ipynb"
    for student, name in [(LATE, f"{chapter}.ipynb"), (RENAMED, "my_work.ipynb")]:
        (submitted / student / chapter).mkdir(parents=True)
        shutil.copyfile(correct, submitted / student / chapter / name)
    (submitted / LATE / chapter / "timestamp.txt").write_text(SUBMITTED_AT + "\n")


def graded_class(root: Path, destination: Path, grade_pending=None) -> dict:
    """A copy of the course (with the late and renamed submissions) whose every chapter is graded
    by ``prettynn-course grade``'s batch, locally or with ``grade_pending``; its path and each
    chapter's ``Batch``."""
    import contextlib
    import io

    from prettynn.course import batch

    course = copy_course(root, destination)
    chapters = notebooks.chapters(course)
    add_late_and_renamed(course, chapters[0])
    batches = {}
    for chapter in chapters:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            batches[chapter] = batch.autograde_class(course, chapter, 2, False, grade_pending)
    return {"course": course, "batches": batches}

