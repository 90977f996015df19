"""prettynn.course.book_pages: the chapter pages of both editions, and the intro's chapter list."""

from __future__ import annotations

import pytest

from prettynn.course import book_pages, notebook_regions, notebooks

from .conftest import ROOT

CHAPTERS = notebooks.chapters(ROOT)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_course_edition_shows_the_students_stub_and_runs_the_solution_unseen(chapter):
    source = notebooks.read(notebooks.source_path(ROOT, chapter))
    release = {notebooks.grade_id(c): c.source for c in notebooks.read(notebooks.release_path(ROOT, chapter)).cells
               if notebooks.is_solution(c)}
    page = book_pages.page(source, chapter, "course")
    solutions = [c for c in source.cells if notebooks.is_solution(c)]
    assert solutions
    for cell in solutions:
        index = next(i for i, c in enumerate(page.cells) if c.id == cell.id)
        shown, hidden = page.cells[index - 1], page.cells[index]
        assert shown.cell_type == "markdown" and "remove-input" in hidden.metadata["tags"]
        assert shown.source == f"```python\n{release[notebooks.grade_id(cell)]}\n```", "the stub is not the release's"
        for line in notebook_regions.solution_lines(cell.source):
            assert line in hidden.source
        check = page.cells[index + 1]
        assert check.source.startswith("check(") and "remove-output" in check.metadata["tags"]
    assert not any(notebooks.is_test(c) or "nbgrader" in c.metadata for c in page.cells)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_self_study_edition_folds_the_solutions(chapter):
    source = notebooks.read(notebooks.source_path(ROOT, chapter))
    page = book_pages.page(source, chapter, "self-study")
    ids = {c.id for c in source.cells if notebooks.is_solution(c)}
    folded = [c for c in page.cells if c.id in ids]
    assert len(folded) == len(ids) and all("hide-input" in c.metadata["tags"] for c in folded)
    assert len(page.cells) == len(source.cells) - len([c for c in source.cells if notebooks.is_test(c)])


def test_the_intro_lists_every_chapter_by_its_title():
    intro = (ROOT / book_pages.INTRO).read_text()
    titles = {c: book_pages.chapter_title(notebooks.read(notebooks.source_path(ROOT, c))) for c in CHAPTERS}
    assert book_pages.with_intro_chapters(intro, titles) == intro, "run `prettynn-course book-pages` (make book)"
    assert all(f"(chapters/{chapter}.ipynb)" in intro for chapter in CHAPTERS)


def test_an_unknown_edition_is_refused():
    with pytest.raises(ValueError, match="edition"):
        book_pages.page(notebooks.read(notebooks.source_path(ROOT, CHAPTERS[0])), CHAPTERS[0], "teacher")
