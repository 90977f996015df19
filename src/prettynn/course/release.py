"""Regenerate a chapter's student release, never over a student's work.

``nbgrader generate_assignment --force`` deletes the release folder before writing it
again. In a student's clone that folder holds their work, so ``prettynn-course release``
(run by ``make release``) first looks at the release notebooks: a solution cell that no
longer holds the stub, or a code cell that has been run, is work, and the release is
then not regenerated unless the author asks to discard it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from . import notebook_regions, notebooks


class ReleaseError(Exception):
    """The release was not regenerated; the message says why and what to do."""


def student_work(path: Path) -> list[str]:
    """What in the release notebook at ``path`` is a student's work: exercises written, cells run."""
    notebook = notebooks.read(path)
    written = [notebooks.grade_id(cell) or f"cell {index}" for index, cell in enumerate(notebook.cells)
               if notebooks.is_solution(cell) and cell.cell_type == "code"
               and notebook_regions.CODE_STUB.split("\n")[-1] not in cell.source]
    run = sum(1 for cell in notebook.cells if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")))
    work = [f"exercise {name} written" for name in written]
    if run:
        work.append(f"{run} cell{'s' if run > 1 else ''} run")
    return work


def release(root: Path, chapter: str, discard_work: bool = False) -> None:
    """Regenerate ``chapter``'s release with nbgrader, unless its folder holds a student's work."""
    folder = notebooks.release_path(root, chapter).parent
    work = {path.name: student_work(path) for path in sorted(folder.glob("*.ipynb"))} if folder.is_dir() else {}
    work = {name: found for name, found in work.items() if found}
    if work and not discard_work:
        listed = "; ".join(f"{name}: {', '.join(found)}" for name, found in work.items())
        raise ReleaseError(
            f"{folder.relative_to(root)} holds work ({listed}), and regenerating the release deletes that folder. "
            f"Nothing was changed. Move your notebook out of {folder.relative_to(root)} to keep it, or discard it "
            f"with `make release CHAPTER={chapter} DISCARD_WORK=1`.")
    nbgrader = Path(sys.executable).with_name("nbgrader")
    done = subprocess.run([str(nbgrader), "generate_assignment", chapter, "--force"], cwd=root)
    if done.returncode != 0:
        raise ReleaseError(f"nbgrader generate_assignment {chapter} failed (exit {done.returncode})")
