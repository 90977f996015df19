"""Instructor grading of the sample submissions with the real nbgrader commands.

The course is copied to a temporary folder, the release is generated (which records the
tests in a fresh gradebook), every sample in autograde/submitted is autograded, and
feedback is generated. Expected scores come from autograde/samples/<chapter>.toml.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from prettynn.course import notebooks, samples
from prettynn.model import all_exercises

from .browser import LEFTOVER_TEX, MATH_TYPESET, browser, open_offline, settled  # noqa: F401  (browser: a fixture)
from .conftest import ROOT
from .course import copy_course, hidden_lines, nbgrader
from .site import serving

pytestmark = pytest.mark.slow
CHAPTERS = notebooks.chapters(ROOT)


@pytest.fixture(scope="module")
def graded_course(root, tmp_path_factory):
    """A copy of the course with every chapter's samples autograded (one nbgrader run per chapter)
    and their feedback generated."""
    course = copy_course(root, tmp_path_factory.mktemp("course"))
    for chapter in CHAPTERS:
        nbgrader(course, "generate_assignment", chapter, "--force")
        nbgrader(course, "autograde", chapter)
        nbgrader(course, "generate_feedback", chapter)
    return course


def exercise_scores(course, chapter: str, student: str) -> dict:
    """``{test cell grade_id: (score, max_score)}`` of one student's submission."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course}/autograde/gradebook.db") as gradebook:
        submission = gradebook.find_submission_notebook(chapter, chapter, student)
        return {grade.name: (grade.score, grade.max_score) for grade in submission.grades if grade.max_score}


SAMPLES = samples.load_spec(ROOT)


@pytest.mark.parametrize("sample", SAMPLES, ids=[f"{s['assignment']}-{s['student']}" for s in SAMPLES])
def test_sample_gets_its_expected_score(graded_course, sample):
    chapter = sample["assignment"]
    scores = exercise_scores(graded_course, chapter, sample["student"])
    assert len(scores) == len(all_exercises(chapter))
    losing = {f"test_{name}" for name in sample.get("loses", [])}
    for cell, (score, max_score) in scores.items():
        if sample["expect"] == "zero":
            assert score == 0, cell
        elif cell in losing:
            assert score < max_score, f"{cell} should lose points"
        else:
            assert score == max_score, f"{cell}: {score} of {max_score}"


def test_feedback_contains_no_hidden_test_source(graded_course, root):
    pages = sorted((graded_course / "autograde" / "feedback").glob("*/*/*.html"))
    assert len(pages) == len(SAMPLES)
    secrets = hidden_lines(root) + ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS"]
    assert secrets
    for page in pages:
        text = BeautifulSoup(page.read_text(), "html.parser").get_text()
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{page.relative_to(graded_course)} shows hidden tests: {leaked}"


def test_feedback_explains_a_failed_exercise(graded_course):
    page = graded_course / "autograde" / "feedback" / "sample-relu-grad-at-zero" / "01_linear" / "01_linear.html"
    text = BeautifulSoup(page.read_text(), "html.parser").get_text()
    assert "the mask is x > 0, not x >= 0" in text


def test_feedback_reads_offline_with_its_math_typeset(graded_course, browser):
    """A student opens feedback without internet: MathJax is in the page, nothing else is loaded."""
    feedback = graded_course / "autograde" / "feedback"
    with serving(feedback) as url:
        page, record = open_offline(browser, url)
        page.goto(f"{url}/sample-relu-grad-at-zero/01_linear/01_linear.html", wait_until="load")
        assert settled(page, MATH_TYPESET), "MathJax did not finish typesetting the feedback page"
        assert page.locator("mjx-container").count() > 10, "the feedback page shows no typeset math"
        assert page.evaluate(LEFTOVER_TEX) == []
        assert not record["foreign"] and not record["failed"], record
        page.close()
