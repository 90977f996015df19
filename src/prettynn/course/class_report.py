"""The instructor's class report of one assignment: ``autograde/reports/<assignment>/report.html``.

Scores come from the gradebook; recognised mistakes and grading notes from the JSON
reports of the protected autograder (``autograde/reports/<assignment>/<student>/*.json``),
and each student's batch status from ``batch.json`` (``prettynn-course grade``). The page
is self-contained: its plots are inline PNG images drawn by matplotlib's Agg backend, and
it loads no stylesheet, script or font. Student ids and notes are escaped: they are
written by students.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import statistics
from collections import Counter
from html import escape
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from nbgrader.api import Gradebook, MissingEntry

from .notebooks import REPORTS

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 75em; color: #222; }
figure { display: inline-block; margin: 0 1em 1em 0; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; vertical-align: top; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.full { background: #e6f4e6; }
tr.failed td { background: #fbe3e3; }
ul { margin: 0; padding-left: 1.2em; }
pre { margin: 0; white-space: pre-wrap; }
"""


@dataclasses.dataclass(frozen=True)
class Column:
    """One graded cell of the assignment: its notebook, grade id and maximum points."""

    notebook: str
    name: str
    max_score: float

    @property
    def label(self) -> str:
        """The exercise's name as the report shows it (``test_relu`` -> ``relu``)."""
        return self.name.removeprefix("test_")


@dataclasses.dataclass
class Row:
    """One student's line of the report."""

    student: str
    score: float | None
    points: dict[Column, float | None]
    notes: list[str]
    mistakes: set[str]
    batch: dict


def columns(gradebook: Gradebook, assignment: str) -> list[Column]:
    """The assignment's graded cells that carry points, in notebook order."""
    return [Column(notebook.name, cell.name, float(cell.max_score))
            for notebook in gradebook.find_assignment(assignment).notebooks
            for cell in notebook.grade_cells if cell.max_score]


def json_file(path: Path) -> dict:
    """A JSON object read from ``path``, or {} when it is missing or unreadable."""
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def batch_statuses(reports: Path) -> dict[str, dict]:
    """Each student's entry of ``batch.json`` (status, exit code, notes, log), by student id."""
    return {entry["student"]: entry for entry in json_file(reports / "batch.json").get("students", [])}


def total_score(gradebook: Gradebook, assignment: str, student: str) -> float | None:
    """The student's score after late penalty, as ``nbgrader export`` computes it; None without submission."""
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return None
    return max(0.0, submission.score - submission.late_submission_penalty)


def cell_points(gradebook: Gradebook, assignment: str, student: str, cols: list[Column]) -> dict[Column, float | None]:
    """The student's points on each graded cell (None where there is no grade)."""
    points: dict[Column, float | None] = {column: None for column in cols}
    for notebook in {column.notebook for column in cols}:
        try:
            grades = gradebook.find_submission_notebook(notebook, assignment, student).grades
        except MissingEntry:
            continue
        for grade in grades:
            column = Column(notebook, grade.name, float(grade.max_score or 0))
            if column in points and grade.score is not None:
                points[column] = float(grade.score)
    return points


def unique(items: list[str]) -> list[str]:
    """``items`` without repetitions, in their first order."""
    return list(dict.fromkeys(items))


def student_row(gradebook: Gradebook, assignment: str, student: str, cols: list[Column],
                reports: Path, batch: dict) -> Row:
    """Everything the report shows about one student."""
    notes = list(batch.get("notes", []))
    mistakes = set()
    for notebook in sorted({column.notebook for column in cols}):
        report = json_file(reports / student / f"{notebook}.json")
        notes += [str(note) for note in report.get("notes", [])]
        for exercise in report.get("exercises", []):
            mistakes |= {f"{exercise.get('exercise', '?')}: {mistake}" for mistake in exercise.get("mistakes", [])}
    return Row(student, total_score(gradebook, assignment, student),
               cell_points(gradebook, assignment, student, cols), unique(notes), mistakes, batch)


def png(figure: Figure) -> str:
    """The figure as an ``<img>`` source: a base64 PNG data URI."""
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def empty(axes, message: str) -> None:
    """Write ``message`` in the middle of axes that have nothing to show."""
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes, color="#666")
    axes.set_xticks([])
    axes.set_yticks([])


def score_histogram(scores: list[float], max_score: float) -> str:
    """Plot 1: how many students got each total score."""
    figure = Figure(figsize=(7, 3.5), layout="constrained")
    axes = figure.subplots()
    if scores and max_score > 0:
        bins = np.linspace(0, max_score, min(20, int(np.ceil(max_score))) + 1)
        axes.hist(scores, bins=bins, color="#4c72b0", edgecolor="white")
        axes.set_xlim(0, max_score)
        axes.set_xlabel(f"total score (out of {max_score:g})")
        axes.set_ylabel("students")
        axes.yaxis.get_major_locator().set_params(integer=True)
    else:
        empty(axes, "no graded submission")
    figure.suptitle("Score distribution")
    return png(figure)


def exercise_rates(rows: list[Row], cols: list[Column]) -> str:
    """Plot 2: per exercise, the share of students with full points and the mean share of points."""
    graded = [row for row in rows if row.score is not None]
    figure = Figure(figsize=(7, 1.4 + 0.45 * max(len(cols), 1)), layout="constrained")
    axes = figure.subplots()
    if graded and cols:
        full = [np.mean([row.points[c] == c.max_score for row in graded]) for c in cols]
        mean = [np.mean([(row.points[c] or 0.0) / c.max_score for row in graded]) for c in cols]
        places = np.arange(len(cols))
        axes.barh(places - 0.2, full, height=0.4, color="#55a868", label="full points")
        axes.barh(places + 0.2, mean, height=0.4, color="#c8c8c8", label="mean share of points")
        axes.set_yticks(places, [column.label for column in cols])
        axes.invert_yaxis()
        axes.set_xlim(0, 1)
        axes.xaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
        figure.legend(loc="outside lower center", ncols=2, fontsize="small")
    else:
        empty(axes, "no graded submission")
    figure.suptitle("Pass rate per exercise")
    return png(figure)


def mistake_counts(rows: list[Row], shown: int = 15) -> str:
    """Plot 3: the recognised mistakes made by the most students."""
    counts = Counter(mistake for row in rows for mistake in row.mistakes).most_common(shown)
    figure = Figure(figsize=(7, 1.2 + 0.4 * max(len(counts), 1)), layout="constrained")
    axes = figure.subplots()
    if counts:
        places = np.arange(len(counts))
        axes.barh(places, [count for _, count in counts], color="#dd8452")
        axes.set_yticks(places, [name for name, _ in counts])
        axes.invert_yaxis()
        axes.set_xlabel("students")
        axes.xaxis.get_major_locator().set_params(integer=True)
    else:
        empty(axes, "no recognised mistake")
    figure.suptitle("Most frequent recognised mistakes")
    return png(figure)


def points_cell(points: float | None, column: Column) -> str:
    """A table cell with a student's points on one exercise."""
    if points is None:
        return '<td class="number">–</td>'
    full = ' full' if points == column.max_score else ''
    return f'<td class="number{full}">{round(points, 2):g}</td>'


def status_text(batch: dict) -> str:
    """The student's batch status, with the exit code and log of a failure (escaped)."""
    status = batch.get("status", "")
    if status != "failed":
        return escape(status)
    code = batch.get("exit_code")
    reason = "did not finish" if code is None else f"exit code {code}"
    return f"failed ({escape(reason)}), log: {escape(str(batch.get('log', '')))}"


def table(rows: list[Row], cols: list[Column], max_score: float) -> str:
    """The students' table: status, total, points per exercise, grading notes and mistakes."""
    header = "".join(f"<th>{escape(column.label)} /{column.max_score:g}</th>" for column in cols)
    lines = [f"<table><tr><th>student</th><th>status</th><th>total /{max_score:g}</th>{header}"
             "<th>grading notes</th><th>recognised mistakes</th></tr>"]
    for row in rows:
        failed = ' class="failed"' if row.batch.get("status") == "failed" else ""
        total = "no submission" if row.score is None else f"{round(row.score, 2):g}"
        notes = "".join(f"<li>{escape(note)}</li>" for note in row.notes)
        mistakes = "".join(f"<li>{escape(mistake)}</li>" for mistake in sorted(row.mistakes))
        lines.append(f"<tr{failed}><td>{escape(row.student)}</td><td>{status_text(row.batch)}</td>"
                     f'<td class="number">{total}</td>'
                     + "".join(points_cell(row.points[column], column) for column in cols)
                     + f"<td><ul>{notes}</ul></td><td><ul>{mistakes}</ul></td></tr>")
    lines.append("</table>")
    return "\n".join(lines)


def page(assignment: str, rows: list[Row], cols: list[Column], max_score: float) -> str:
    """The whole HTML page."""
    scores = [row.score for row in rows if row.score is not None]
    failed = sum(row.batch.get("status") == "failed" for row in rows)
    figures = [(score_histogram(scores, max_score), "histogram of total scores"),
               (exercise_rates(rows, cols), "share of students with full points, per exercise"),
               (mistake_counts(rows), "number of students per recognised mistake")]
    stats = (f"mean {statistics.mean(scores):.2f}, median {statistics.median(scores):.2f} (out of {max_score:g})"
             if scores else "no score yet")
    return html_page(f"Class report: {assignment}", [
        f"<h1>Class report: {escape(assignment)}</h1>",
        f"<p>{len(scores)} submissions graded of {len(rows)} students; {stats}."
        + (f" <strong>{failed} failed to grade</strong> (see the table)." if failed else "") + "</p>",
        *(f'<figure><img src="{source}" alt="{alt}"></figure>' for source, alt in figures),
        "<h2>Students</h2>", table(rows, cols, max_score),
    ])


def html_page(title: str, body: list[str]) -> str:
    """A self-contained HTML page in the reports' style (``STYLE``): ``title`` (escaped here) and the
    parts of its body, one per line (the class report, ``prettynn.course.strength``'s report)."""
    return "\n".join(["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
                      f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>", *body, "</body></html>"])


def write_report(root: Path, assignment: str, db_url: str, course_id: str) -> Path:
    """Write ``autograde/reports/<assignment>/report.html``; return its path."""
    reports = root / REPORTS / assignment
    batch = batch_statuses(reports)
    with Gradebook(db_url, course_id) as gradebook:
        cols = columns(gradebook, assignment)
        max_score = float(gradebook.find_assignment(assignment).max_score or 0)
        students = sorted({student.id for student in gradebook.students} | set(batch))
        rows = [student_row(gradebook, assignment, student, cols, reports, batch.get(student, {}))
                for student in students]
    path = reports / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(assignment, rows, cols, max_score))
    return path
