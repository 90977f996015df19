"""Instructor grading of the sample submissions with the real nbgrader commands.

The course is copied to a temporary folder, the release is generated (which records the
tests in a fresh gradebook), every sample in autograde/submitted is autograded, and
feedback is generated. Expected scores come from autograde/samples.toml.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from prettynn.course import samples

from .conftest import ROOT
from .course import copy_course, hidden_lines, nbgrader

pytestmark = pytest.mark.slow
CHAPTER = "01_linear"


@pytest.fixture(scope="module")
def graded_course(root, tmp_path_factory):
    """A copy of the course with every sample autograded and its feedback generated."""
    course = copy_course(root, tmp_path_factory.mktemp("course"))
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    nbgrader(course, "autograde", CHAPTER)
    nbgrader(course, "generate_feedback", CHAPTER)
    return course


def exercise_scores(course, student: str) -> dict:
    """``{test cell grade_id: (score, max_score)}`` of one student's submission."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course}/autograde/gradebook.db") as gradebook:
        submission = gradebook.find_submission_notebook(CHAPTER, CHAPTER, student)
        return {grade.name: (grade.score, grade.max_score) for grade in submission.grades if grade.max_score}


SAMPLES = [s for s in samples.load_spec(ROOT) if s["assignment"] == CHAPTER]


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["student"] for s in SAMPLES])
def test_sample_gets_its_expected_score(graded_course, sample):
    scores = exercise_scores(graded_course, sample["student"])
    assert len(scores) == 6
    losing = {f"test_{name}" for name in sample.get("loses", [])}
    for cell, (score, max_score) in scores.items():
        if sample["expect"] == "zero":
            assert score == 0, cell
        elif cell in losing:
            assert score < max_score, f"{cell} should lose points"
        else:
            assert score == max_score, f"{cell}: {score} of {max_score}"


def test_feedback_contains_no_hidden_test_source(graded_course, root):
    pages = sorted((graded_course / "autograde" / "feedback").glob(f"*/{CHAPTER}/*.html"))
    assert len(pages) == len(SAMPLES)
    secrets = hidden_lines(root) + ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS"]
    assert secrets
    for page in pages:
        text = BeautifulSoup(page.read_text(), "html.parser").get_text()
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{page.relative_to(graded_course)} shows hidden tests: {leaked}"


def test_feedback_explains_a_failed_exercise(graded_course):
    page = graded_course / "autograde" / "feedback" / "sample-relu-grad-at-zero" / CHAPTER / f"{CHAPTER}.html"
    text = BeautifulSoup(page.read_text(), "html.parser").get_text()
    assert "the mask is x > 0, not x >= 0" in text
