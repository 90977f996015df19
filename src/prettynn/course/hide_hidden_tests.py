"""Feedback preprocessor: remove hidden-test source before feedback is exported."""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from . import notebook_regions


class HideHiddenTests(NbGraderPreprocessor):
    """Replace each ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region by a note.

    nbgrader's feedback is an export of the autograded notebook, whose test cells hold the
    hidden tests (restored from the gradebook). This keeps their outputs (the verdict the
    student may see) and removes their code.
    """

    note = Unicode(
        "# Hidden tests ran here; their results are shown below.",
        help="The line that replaces a hidden-test region in the feedback.",
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        """Strip the hidden region of one code cell."""
        if cell.cell_type == "code":
            cell.source = notebook_regions.replace_hidden_tests(cell.source, self.note)
        return cell, resources
