"""nbgrader autograde's grading step, in place of ``Execute``: each exercise's solution cell runs
alone in a sandbox (``prettynn.sandbox``), what came back is judged in this process, which never
runs student code, and the verdicts go where nbgrader reads scores; a JSON report per notebook is
written under ``autograde/reports/``."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Integer

from ..feedback import hidden_report, visible_message
from ..judging import Verdict, judge
from ..model import get
from ..outcome import CaseResult, Outcome
from ..sandbox.runner import Limits, SandboxRun, run_solution
from . import notebooks, references
from .grading_notes import coursedir_of, notes_of
from .notebook_regions import graded_calls

MAX_SOLUTION_CHARS = 200_000


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


class GradeInSandbox(NbGraderPreprocessor):
    """Grade each exercise from its solution cell alone, run in a sandbox, judged here."""

    cell_seconds = Float(10.0, help="CPU seconds a solution cell may take to define its function.").tag(config=True)
    case_seconds = Float(5.0, help="CPU seconds one call of a student's function may take.").tag(config=True)
    total_seconds = Float(60.0, help="CPU seconds one exercise's sandbox may use.").tag(config=True)
    wall_clock_factor = Float(4.0, help="Each time limit's wall-clock backstop, in multiples of it (for code "
                                        "that waits without computing).").tag(config=True)
    memory_mib = Integer(2048, help="Address-space limit of a sandbox, in MiB.").tag(config=True)

    def limits(self) -> Limits:
        """The sandbox limits set in the configuration."""
        return Limits(cell_seconds=self.cell_seconds, case_seconds=self.case_seconds,
                      total_seconds=self.total_seconds, wall_clock_factor=self.wall_clock_factor,
                      memory_bytes=self.memory_mib << 20)

    def preprocess(self, nb, resources):
        """Grade every ``grade(...)`` call of every test cell and write the verdicts into the notebook."""
        cells = {notebooks.grade_id(cell): cell for cell in nb.cells if notebooks.grade_id(cell)}
        report = {"notes": notes_of(nb), "exercises": []}
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
            check_cell.outputs = [_stream(visible_message(Verdict.of(exercise, results[:len(visible)])))]
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
            supplied = references.supplied_for(Path(coursedir_of(self).root), exercise)
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
        root = Path(coursedir_of(self).root)
        path = root / notebooks.REPORTS / info["assignment"] / info["student"] / f"{info['notebook']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1))
