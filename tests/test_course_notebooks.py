"""The course's notebooks agree with the exercise declarations and with what generates them."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from prettynn.course import book_pages, exercise_cells, notebook_regions, notebooks, samples
from prettynn.model import all_exercises

from .conftest import ROOT
from .course import copy_course, nbgrader

CHAPTERS = notebooks.chapters(ROOT)


def notebook_cells(root, chapter) -> list:
    return notebooks.read(notebooks.source_path(root, chapter)).cells


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_grading_cells_are_what_the_declarations_make(root, chapter):
    committed = notebooks.read(notebooks.source_path(root, chapter))
    assert exercise_cells.sync(committed, chapter) == committed, (
        f"solutions/{chapter} differs from its exercise declarations: run `make release CHAPTER={chapter}`")


def test_table_of_contents_lists_every_chapter(root):
    toc = (root / book_pages.TOC).read_text()
    assert book_pages.with_chapters(toc, CHAPTERS) == toc, "run `prettynn-course book-pages` (make book)"


def test_points_table_is_what_the_declarations_make(root):
    page = (root / exercise_cells.INSTRUCTORS_PAGE).read_text()
    assert exercise_cells.with_points_table(page, CHAPTERS) == page, "run `prettynn-course sync`"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_its_three_cells_in_order(root, chapter):
    order = [notebooks.grade_id(cell) for cell in notebook_cells(root, chapter)]
    for exercise in all_exercises(chapter):
        name = exercise.name
        assert order.index(name) + 2 == order.index(f"check_{name}") + 1 == order.index(f"test_{name}")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_graded_cells_are_only_the_declared_exercises(root, chapter):
    notebook = notebooks.read(notebooks.source_path(root, chapter))
    graded = {notebooks.grade_id(c) for c in notebook.cells if notebooks.is_test(c)}
    assert graded == {f"test_{e.name}" for e in all_exercises(chapter)}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_committed_notebooks_have_no_outputs_and_stable_ids(root, chapter):
    for path in (notebooks.source_path(root, chapter), notebooks.release_path(root, chapter)):
        notebook = notebooks.read(path)
        nbformat.validate(notebook)
        assert not any(cell.get("outputs") for cell in notebook.cells), f"{path} has outputs"
        assert not any(cell.get("execution_count") for cell in notebook.cells if cell.cell_type == "code")
        ids = [cell.id for cell in notebook.cells]
        assert len(ids) == len(set(ids))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_release_has_no_solutions_or_hidden_tests(root, chapter):
    release = notebooks.read(notebooks.release_path(root, chapter))
    source = notebooks.read(notebooks.source_path(root, chapter))
    text = json.dumps(release)
    assert not notebook_regions.has_marker(text)
    for cell in source.cells:
        if notebooks.is_test(cell):
            hidden = cell.source.split(notebook_regions.BEGIN_HIDDEN)[1].split(notebook_regions.END_HIDDEN)[0]
            for line in filter(None, (line.strip() for line in hidden.splitlines())):
                assert line not in text, f"hidden test line {line!r} is in the release"


@pytest.mark.slow
def test_committed_release_is_what_the_source_generates(root, tmp_path):
    course = copy_course(root, tmp_path)
    for chapter in CHAPTERS:
        notebooks.release_path(course, chapter).unlink()
        nbgrader(course, "generate_assignment", chapter, "--force")
        generated = notebooks.release_path(course, chapter).read_text()
        committed = notebooks.release_path(root, chapter).read_text()
        assert generated == committed, (
            f"notebooks/{chapter} is out of date with solutions/{chapter}: run `make release CHAPTER={chapter}`"
        )


def test_committed_samples_are_what_the_spec_generates(root, tmp_path):
    course = copy_course(root, tmp_path)
    for path in samples.write_samples(course):
        committed = root / path.relative_to(course)
        assert path.read_text() == committed.read_text(), f"{committed} is out of date: run `make samples`"


MYST_ONLY = {
    "a colon fence (:::)": re.compile(r"^\s*:::", re.M),
    "a directive (```{...})": re.compile(r"^\s*(```|~~~)\s*\{", re.M),
    "a role ({name}`...`)": re.compile(r"\{[a-z][\w:-]*\}`"),
    "a target ((label)=)": re.compile(r"^\s*\([\w-]+\)=\s*$", re.M),
    "a directive option (:class: ...)": re.compile(r"^\s*:[a-z-]+:\s", re.M),
}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_markdown_has_no_myst_only_syntax(root, chapter):
    """JupyterLab shows MyST-only syntax as literal text (a folded derivation would show, answer and
    all): markdown that students read is CommonMark and HTML (<details> folds in both places)."""
    found = []
    for path in (notebooks.source_path(root, chapter), notebooks.release_path(root, chapter)):
        for index, cell in enumerate(notebooks.read(path).cells):
            if cell.cell_type == "markdown":
                found += [f"{path.relative_to(root)} cell {index}: {what}" for what, pattern in MYST_ONLY.items()
                          if pattern.search(cell.source)]
    assert not found, "\n".join(found)
