"""Broken submissions: each is graded for what can be graded, with a note, and nothing is lost.

One ``nbgrader autograde`` grades them all beside a correct submission. (Renamed and
missing notebooks are the batch command's business: tests/test_batch.py.)
"""

from __future__ import annotations

import copy
import json
import subprocess

import pytest

from prettynn.course import notebooks, samples
from prettynn.model import all_exercises

from .course import copy_course, environment, file_digests, graded_scores, nbgrader, nbgrader_command

pytestmark = pytest.mark.slow
CHAPTER = "01_linear"
FULL = sum(e.points for e in all_exercises(CHAPTER))
RELU_POINTS = next(e.points for e in all_exercises(CHAPTER) if e.name == "relu")


def without_relu(nb):
    """Delete the relu exercise's three cells."""
    nb.cells = [c for c in nb.cells if notebooks.grade_id(c) not in ("relu", "check_relu", "test_relu")]


def duplicated(nb):
    """Paste the linear cells twice."""
    index = next(i for i, c in enumerate(nb.cells) if notebooks.grade_id(c) == "linear")
    nb.cells[index:index] = copy.deepcopy(nb.cells[index:index + 3])


def reordered(nb):
    """Reverse the order of the cells."""
    nb.cells.reverse()


def edited_metadata(nb):
    """Rename relu's grade id, give test_relu 100 points and unlock check_relu."""
    for cell in nb.cells:
        meta = notebooks.nbgrader_metadata(cell)
        if meta.get("grade_id") == "relu":
            meta["grade_id"] = "my_relu"
        elif meta.get("grade_id") == "test_relu":
            meta["points"] = 100
        elif meta.get("grade_id") == "check_relu":
            meta["locked"] = False


def cleared_ids(nb):
    """Remove every cell id."""
    for cell in nb.cells:
        cell.pop("id", None)


def wrong_kernel(nb):
    """Save the notebook as if it ran in another kernel."""
    nb.metadata["kernelspec"] = {"name": "julia-1.10", "display_name": "Julia 1.10", "language": "julia"}


def huge(nb):
    """Keep a 100 MB output in the setup cell."""
    nb.cells[1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * (100 << 20)}]


EDITS = {"deleted-cells": without_relu, "duplicated-cells": duplicated, "reordered-cells": reordered,
         "edited-metadata": edited_metadata, "cleared-ids": cleared_ids, "wrong-kernel": wrong_kernel,
         "huge-notebook": huge}
# (expected score, a phrase the grading notes must contain)
EXPECTED = {
    "invalid-json": (0, "not a readable notebook"),
    "deleted-cells": (FULL - RELU_POINTS, "restored from the assignment"),
    "duplicated-cells": (FULL, "more than once"),
    "reordered-cells": (FULL, "reordered"),
    "edited-metadata": (FULL, "was edited"),
    "cleared-ids": (FULL, "Cell ids were missing"),
    "wrong-kernel": (FULL, "julia-1.10"),
    "huge-notebook": (FULL, "outputs were discarded"),
}


def hand_in(course, student: str, edit) -> None:
    """A correct submission changed by ``edit``, written as a student would save it."""
    sample = {"student": student, "assignment": CHAPTER, "fill": "solutions"}
    nb = samples.submission(notebooks.read(notebooks.release_path(course, CHAPTER)),
                            notebooks.read(notebooks.source_path(course, CHAPTER)), sample)
    edit(nb)
    path = samples.submission_path(course, sample)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1))


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    """The broken submissions graded in one batch with the correct sample."""
    course = copy_course(root, tmp_path_factory.mktemp("bad"))
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    for student, edit in EDITS.items():
        hand_in(course, student, edit)
    invalid = course / "autograde" / "submitted" / "invalid-json" / CHAPTER / f"{CHAPTER}.ipynb"
    invalid.parent.mkdir(parents=True)
    invalid.write_text('{"cells": [{"cell_type": "code", "source": "def linear(x')
    before = file_digests(course / "autograde" / "submitted")
    done = subprocess.run(nbgrader_command("autograde", CHAPTER), cwd=course, env=environment(),
                          capture_output=True, text=True, timeout=1800)
    return course, done, before


def total(course, student: str) -> float:
    """The student's autograded score."""
    return sum(graded_scores(course, CHAPTER, student).values())


def notes(course, student: str) -> str:
    """The grading notes of the student's report."""
    report = course / "autograde" / "reports" / CHAPTER / student / f"{CHAPTER}.json"
    return " ".join(json.loads(report.read_text())["notes"])


def test_nbgrader_exits_zero(graded):
    _, done, _ = graded
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_broken_submission_gets_a_score_and_a_note(graded, student):
    course, _, _ = graded
    score, phrase = EXPECTED[student]
    assert total(course, student) == pytest.approx(score)
    assert phrase in notes(course, student)


def test_the_rest_of_the_batch_is_unaffected(graded):
    course, _, _ = graded
    assert total(course, "sample-correct") == FULL
    assert total(course, "sample-blank") == 0


def test_submissions_are_not_modified(graded):
    course, _, before = graded
    assert file_digests(course / "autograde" / "submitted") == before


def test_feedback_shows_the_grading_notes(graded):
    course, _, _ = graded
    nbgrader(course, "generate_feedback", CHAPTER, "--student=deleted-cells")
    page = (course / "autograde" / "feedback" / "deleted-cells" / CHAPTER / f"{CHAPTER}.html").read_text()
    assert "Grading notes" in page and "restored from the assignment" in page
