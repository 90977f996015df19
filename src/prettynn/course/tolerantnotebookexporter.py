"""nbgrader autograde's exporter, tolerant: a submission that is not a notebook at all (invalid JSON,
not nbformat) is read as the blank release, with a note saying why. ``nbgrader_config.py`` sets
it as ``Autograde.exporter_class``."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter

from .grading_notes import NOTES_KEY, UNREADABLE_KEY, coursedir_of, release_notebook

LARGE_NOTEBOOK_BYTES = 20 << 20


class TolerantNotebookExporter(NotebookExporter):
    """A notebook exporter that turns an unreadable submission into the blank release, with a note."""

    def from_filename(self, filename, resources=None, **kw):
        """Read ``filename`` leniently; if it is not a notebook at all, export the blank release instead."""
        if not resources or "nbgrader" not in resources:
            return super().from_filename(filename, resources=resources, **kw)
        path = Path(filename)
        notes = []
        size = path.stat().st_size
        if size > LARGE_NOTEBOOK_BYTES:
            notes.append(f"The submitted notebook is {size / 2**20:.0f} MB; its outputs were discarded.")
        try:
            text = path.read_text(encoding="utf-8")
            notes += _raw_notes(json.loads(text))
            nb = nbformat.reads(text, as_version=4)  # not validated: RebuildFromRelease repairs what it can
            if not isinstance(nb.get("cells"), list):
                raise ValueError("it has no list of cells")
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as error:
            nb = release_notebook(coursedir_of(self), resources)
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            notes.append(f"The submitted file {path.name} is not a readable notebook "
                         f"({type(error).__name__}: {reason}); nothing in it could be graded.")
            resources[UNREADABLE_KEY] = True
        resources[NOTES_KEY] = notes
        resources["metadata"] = {"name": path.stem, "path": str(path.parent)}
        return self.from_notebook_node(nb, resources=resources, **kw)


def _raw_notes(raw) -> list[str]:
    """Notes on what nbformat silently repairs when it reads a file (so only the raw JSON shows it)."""
    cells = raw.get("cells") if isinstance(raw, dict) else None
    if not isinstance(cells, list):
        return []
    ids = [cell.get("id") if isinstance(cell, dict) else None for cell in cells]
    if any(not cell_id for cell_id in ids) or len(set(ids)) != len(ids):
        return ["Cell ids were missing or repeated; the assignment's were used."]
    return []
