"""The first sanitize step of nbgrader autograde: rebuild the submission on the release (the
assignment's cells, metadata and kernel), with each exercise's code taken from the student's
notebook wherever it is, and a note for each thing that was repaired."""

from __future__ import annotations

import copy

from nbgrader.preprocessors import NbGraderPreprocessor

from . import notebook_regions, notebooks
from .grading_notes import NOTES_KEY, UNREADABLE_KEY, coursedir_of, release_notebook, set_notes


def _code_for(student, name: str) -> tuple[str | None, str]:
    """The code a student wrote for solution cell ``name``, and a note on where it was found.

    The last code cell that defines ``name`` wins, as when the notebook runs top to bottom;
    without one, the cell that carries the grade id; without that, ``None``.
    """
    code_cells = [cell for cell in student.cells if isinstance(cell, dict) and cell.get("cell_type") == "code"]
    defining = [cell for cell in code_cells if notebook_regions.defines(str(cell.get("source", "")), name)]
    tagged = [cell for cell in code_cells if notebooks.grade_id(cell) == name]
    if defining:
        chosen = defining[-1]
        if notebooks.grade_id(chosen) == name:
            return str(chosen.source), ""
        return str(chosen.source), f"`{name}` was graded from a cell without its grade id (the last cell that defines it)."
    if tagged:
        return str(tagged[-1].source), ""
    return None, f"no cell defines `{name}`: it was graded as not attempted."


def _structure_notes(student, release) -> list[str]:
    """Notes on what differs between the submission's structure and the release's."""
    notes = []
    expected = [notebooks.grade_id(cell) for cell in release.cells if notebooks.grade_id(cell)]
    found = [notebooks.grade_id(cell) for cell in student.cells if notebooks.grade_id(cell)]
    missing = [gid for gid in expected if gid not in found]
    if missing:
        notes.append(f"Cells missing from the submission were restored from the assignment: {', '.join(missing)}.")
    duplicated = sorted({gid for gid in found if found.count(gid) > 1})
    if duplicated:
        notes.append(f"Cells appear more than once: {', '.join(duplicated)}; each exercise was graded once.")
    unknown = sorted(set(found) - set(expected))
    if unknown:
        notes.append(f"Unknown grade ids were ignored: {', '.join(unknown)}.")
    order = [gid for gid in dict.fromkeys(found) if gid in expected]
    if order != [gid for gid in expected if gid in order]:
        notes.append("Cells were reordered; each exercise was graded from its own cell.")
    by_id = {notebooks.grade_id(cell): notebooks.nbgrader_metadata(cell) for cell in release.cells
             if notebooks.grade_id(cell)}
    edited = sorted({notebooks.grade_id(cell) for cell in student.cells if notebooks.grade_id(cell) in by_id
                     and any(notebooks.nbgrader_metadata(cell).get(key) != by_id[notebooks.grade_id(cell)].get(key)
                             for key in ("grade", "solution", "locked", "points"))})
    if edited:
        notes.append(f"The grading metadata of {', '.join(edited)} was edited; the assignment's was used.")
    kernelspec = student.get("metadata", {}).get("kernelspec", {})
    kernel = kernelspec.get("name") if isinstance(kernelspec, dict) else None
    wanted = release.metadata.get("kernelspec", {}).get("name")
    if kernel != wanted:
        notes.append(f"The notebook's kernel was {kernel!r}; it was graded as {wanted!r}.")
    return notes


class RebuildFromRelease(NbGraderPreprocessor):
    """Rebuild the submission on the release notebook, keeping only the student's exercise code."""

    def preprocess(self, nb, resources):
        """Return the release with each solution cell replaced by the student's code for it."""
        release = release_notebook(coursedir_of(self), resources)
        notes = list(resources.get(NOTES_KEY, []))
        rebuilt = copy.deepcopy(release)
        if not resources.get(UNREADABLE_KEY):
            try:
                notes += _structure_notes(nb, release) + self._fill_solutions(rebuilt, nb)
            except (AttributeError, TypeError, ValueError, KeyError) as error:  # a notebook broken beyond repair
                rebuilt = copy.deepcopy(release)
                notes.append(f"The notebook's structure could not be read ({type(error).__name__}: "
                             f"{str(error)[:200]}); nothing in it could be graded.")
        set_notes(rebuilt, notes)
        return rebuilt, resources

    @staticmethod
    def _fill_solutions(rebuilt, student) -> list[str]:
        """Put the student's code into ``rebuilt``'s solution cells; return notes on where it was found."""
        notes = []
        for cell in rebuilt.cells:
            if cell.cell_type == "code" and notebooks.is_solution(cell):
                code, note = _code_for(student, notebooks.grade_id(cell))
                if code is not None:
                    cell.source = code
                if note:
                    notes.append(note)
        return notes
