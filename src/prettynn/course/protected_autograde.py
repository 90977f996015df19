"""nbgrader autograde, protected: the course's exporter and preprocessors.

``nbgrader_config.py`` puts these in place of nbgrader's defaults, so the instructor runs
the standard commands. Three small steps, one job each:

- ``TolerantNotebookExporter`` reads a submission that is not a notebook at all (invalid
  JSON, not nbformat) as the blank release, with a note saying why;
- ``RebuildFromRelease`` (first sanitize step) rebuilds the submission on the release:
  the assignment's cells, metadata and kernel, with each exercise's code taken from the
  student's notebook wherever it is, and a note for each thing that was repaired;
- ``GradeInSandbox`` (in place of ``Execute``) runs each exercise's solution cell alone
  in a sandbox (``prettynn.sandbox``), judges what came back in this process, which
  never runs student code, and writes the verdicts where nbgrader reads scores.

Every run also writes a JSON report per notebook under ``autograde/reports/``.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import nbformat
import numpy as np
from nbconvert.exporters import NotebookExporter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Integer

from ..exercise import get
from ..grading import CaseResult, Outcome, Verdict, hidden_report, judge
from ..sandbox.runner import Limits, SandboxRun, run_solution
from . import notebook_regions, notebooks, references

NOTES_KEY = "prettynn"
UNREADABLE_KEY = "prettynn_unreadable"
MAX_SOLUTION_CHARS = 200_000
LARGE_NOTEBOOK_BYTES = 20 << 20


def _coursedir(configurable) -> CourseDirectory:
    """The course directory of the nbgrader command that created ``configurable``."""
    parent = configurable
    while parent is not None:
        if isinstance(getattr(parent, "coursedir", None), CourseDirectory):
            return parent.coursedir
        parent = getattr(parent, "parent", None)
    return CourseDirectory(config=configurable.config)


def _release_notebook(coursedir: CourseDirectory, resources: dict) -> nbformat.NotebookNode:
    """The release version of the notebook being graded."""
    info = resources["nbgrader"]
    folder = coursedir.format_path(coursedir.release_directory, ".", info["assignment"])
    return notebooks.read(Path(folder) / f"{info['notebook']}.ipynb")


def _notes(nb) -> list[str]:
    """The grading notes carried in a notebook's metadata (a new list)."""
    return list(nb.metadata.get(NOTES_KEY, {}).get("notes", []))


def _set_notes(nb, notes: list[str]) -> None:
    """Store grading notes in a notebook's metadata."""
    nb.metadata.setdefault(NOTES_KEY, {})["notes"] = notes


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
            nb = _release_notebook(_coursedir(self), resources)
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
        release = _release_notebook(_coursedir(self), resources)
        notes = list(resources.get(NOTES_KEY, []))
        rebuilt = copy.deepcopy(release)
        if not resources.get(UNREADABLE_KEY):
            try:
                notes += _structure_notes(nb, release) + self._fill_solutions(rebuilt, nb)
            except (AttributeError, TypeError, ValueError, KeyError) as error:  # a notebook broken beyond repair
                rebuilt = copy.deepcopy(release)
                notes.append(f"The notebook's structure could not be read ({type(error).__name__}: "
                             f"{str(error)[:200]}); nothing in it could be graded.")
        _set_notes(rebuilt, notes)
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


def graded_calls(source: str) -> list[tuple[str, int]]:
    """The ``grade("name", fn, seed=S)`` calls of a test cell, as ``(name, seed)`` pairs."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "grade" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            seed = next((k.value.value for k in node.keywords if k.arg == "seed"
                         and isinstance(k.value, ast.Constant)), 0)
            calls.append((node.args[0].value, int(seed)))
    return calls


def _as_python(source: str) -> str:
    """A cell's code with IPython syntax (``%magic``, ``!cmd``) turned into plain Python."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # IPython's transformer chokes on some broken code: run it as written
        return source


def _stream(text: str) -> nbformat.NotebookNode:
    """A stdout stream output."""
    return nbformat.v4.new_output("stream", name="stdout", text=text.rstrip("\n") + "\n")


def _visible_message(verdict: Verdict) -> str:
    """What the check cell would have printed: a pass line, or the first failure in full."""
    from ..checks import failure_message, pass_message

    if verdict.all_passed:
        return f"✔ {pass_message(verdict)}"
    return "✘ visible check failed\n" + failure_message(verdict)


class GradeInSandbox(NbGraderPreprocessor):
    """Grade each exercise from its solution cell alone, run in a sandbox, judged here."""

    cell_seconds = Float(10.0, help="Time a solution cell may take to define its function.").tag(config=True)
    case_seconds = Float(5.0, help="Time one call of a student's function may take.").tag(config=True)
    total_seconds = Float(60.0, help="Wall-clock limit of one exercise's sandbox.").tag(config=True)
    memory_mib = Integer(2048, help="Address-space limit of a sandbox, in MiB.").tag(config=True)

    def limits(self) -> Limits:
        """The sandbox limits set in the configuration."""
        return Limits(cell_seconds=self.cell_seconds, case_seconds=self.case_seconds,
                      total_seconds=self.total_seconds, memory_bytes=self.memory_mib << 20)

    def preprocess(self, nb, resources):
        """Grade every ``grade(...)`` call of every test cell and write the verdicts into the notebook."""
        cells = {notebooks.grade_id(cell): cell for cell in nb.cells if notebooks.grade_id(cell)}
        report = {"notes": _notes(nb), "exercises": []}
        for cell in nb.cells:
            if not notebooks.is_test(cell):
                continue
            for name, seed in graded_calls(cell.source):
                entry, points = self._grade_exercise(name, seed, cells, cell)
                report["exercises"].append(entry)
                cell.outputs.append(nbformat.v4.new_output(
                    "execute_result", data={"text/plain": repr(points)}, execution_count=None))
        if report["notes"]:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                "**Grading notes**\n\n" + "\n".join(f"- {note}" for note in report["notes"])))
        self._write_report(resources, report)
        return nb, resources

    def _grade_exercise(self, name: str, seed: int, cells: dict, test_cell) -> tuple[dict, float]:
        """Run and judge one exercise; fill its check and test cells; return its report entry and points."""
        exercise = get(name)
        visible = exercise.visible_cases()
        cases = visible + exercise.hidden_cases(np.random.default_rng(seed))
        run = self._run(exercise, cells.get(name), cases)
        if run.problem:
            stopped = Outcome(problem=run.problem[0].upper() + run.problem[1:])
            results = tuple(self._judge(exercise, case, stopped) for case in cases)
        else:
            results = tuple(self._judge(exercise, case, outcome) for case, outcome in zip(cases, run.outcomes))
        verdict = Verdict.of(exercise, results)
        check_cell = cells.get(f"check_{name}")
        if check_cell is not None:
            check_cell.outputs = [_stream(_visible_message(Verdict.of(exercise, results[:len(visible)])))]
        test_cell.outputs.append(_stream(hidden_report(verdict)))
        entry = {
            "exercise": name, "points": verdict.points(), "max_points": float(exercise.points),
            "passed": verdict.passed, "total": verdict.total, "problem": run.problem,
            "mistakes": sorted({r.mistake for r in results if r.mistake}),
            "isolation": run.isolation, "seconds": round(run.seconds, 3),
        }
        return entry, verdict.points()

    def _run(self, exercise, solution, cases: list) -> SandboxRun:
        """Run the exercise's solution cell in a sandbox, with the reference functions it may call
        (a cell too large to run is refused)."""
        source = _as_python(str(solution.source)) if solution is not None else ""
        if len(source) > MAX_SOLUTION_CHARS:
            return SandboxRun(problem=f"the solution cell is larger than {MAX_SOLUTION_CHARS:,} characters.")
        try:
            supplied = references.supplied_for(Path(_coursedir(self).root), exercise)
        except references.MissingReference as error:
            self.log.error("%s", error)
            return SandboxRun(problem="the grader could not supply the functions this exercise may call; "
                                      "tell your instructor.")
        run = run_solution(source, exercise.name, cases, self.limits(), supplied=supplied, uses=exercise.uses)
        if not run.isolation.startswith("bubblewrap"):
            self.log.warning("%s graded with %s: install bubblewrap for the full sandbox",
                             exercise.name, run.isolation)
        return run

    def _judge(self, exercise, case, outcome) -> CaseResult:
        """``judge``, where a grader bug on one strange output fails that case, with a message, not the notebook."""
        try:
            return judge(exercise, case, outcome)
        except Exception as error:  # noqa: BLE001 (logged for the instructor)
            self.log.exception("judging %s on '%s' failed", exercise.name, case.description)
            return CaseResult(case, False, f"the grader could not judge this output ({type(error).__name__}); "
                                           "tell your instructor.")

    def _write_report(self, resources, report: dict) -> None:
        """Save this notebook's grading report for the instructor's class report."""
        info = resources["nbgrader"]
        root = Path(_coursedir(self).root)
        path = root / notebooks.REPORTS / info["assignment"] / info["student"] / f"{info['notebook']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1))

