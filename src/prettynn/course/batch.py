"""Grade every submission of an assignment with parallel ``nbgrader autograde`` runs (or, given a
``grade_pending`` such as ``prettynn.course.record.grade_as_jobs``, as jobs on Dask).

Students are graded in shards: one ``nbgrader autograde ASSIGNMENT`` process grades a
few students (nbgrader's start-up, about 4 s, is paid once per shard), started from the
course root by a pool of worker threads. A student whose graded notebook did not appear
is then graded alone, by its own ``nbgrader autograde --student=ID``, so one student's
failure never stops the others. The gradebook is SQLite, which has a single writer: the students are
created in it before the workers start, the configured ``?timeout=`` makes concurrent
writers wait, and a run that still fails with "database is locked" is retried once.

The batch is resumable: a student graded successfully gets a ``done.json`` holding a
fingerprint of its submission, and a later run skips it while that submission is unchanged
and the gradebook still holds its grades (unless forced).

``autograde/submitted`` is never modified. A notebook submitted under another name, or
not at all, is graded from a copy under ``autograde/staged``: the renamed notebook under
its expected name, or the blank release notebook, which scores zero (nbgrader stops with
"No notebooks were matched" when a student has none of the assignment's notebooks).

After grading, nbgrader's CSV export (``nbgrader export``'s default) writes ``autograde/grades.csv`` and the instructor's
class report is written (``class_report``). Outputs per student and per assignment go to
``autograde/reports/<assignment>/``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin
from sqlalchemy.engine import make_url
from traitlets.config.loader import PyFileConfigLoader

from . import class_report
from .notebooks import REPORTS

STAGED = "autograde/staged"
GRADES_CSV = "autograde/grades.csv"
TIMEOUT_SECONDS = 30 * 60
MAX_SHARD = 12
GLOB_OR_LIST = set("*?[],")
LOCKED = "database is locked"
STATUSES = ("graded", "skipped", "failed")


class GradingError(Exception):
    """A problem with the course or the assignment that stops the batch before it starts."""


@dataclasses.dataclass(frozen=True)
class Assignment:
    """One assignment of the course: its name, the course's nbgrader settings, its release notebooks."""

    root: Path
    name: str
    coursedir: CourseDirectory
    release: Path
    notebooks: tuple[str, ...]

    def folder(self, step: str, student: str) -> Path:
        """The student's folder of this assignment in an nbgrader step (``autograde/submitted``...)."""
        return Path(self.coursedir.format_path(step, student, self.name))

    def reports(self, student: str = "") -> Path:
        """``autograde/reports/<assignment>/``, or the student's folder in it."""
        return self.root / REPORTS / self.name / student


@dataclasses.dataclass
class StudentResult:
    """What happened to one student in this batch."""

    student: str
    status: str
    exit_code: int | None = None
    seconds: float = 0.0
    notes: list[str] = dataclasses.field(default_factory=list)
    log: str = ""


@dataclasses.dataclass
class Batch:
    """The result of grading an assignment: one result per student, and the files written."""

    results: list[StudentResult]
    seconds: float
    grades_csv: Path | None
    export_log: Path
    report: Path
    summary: Path


def course_directory(root: Path) -> CourseDirectory:
    """nbgrader's course settings, from the course's ``nbgrader_config.py``."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    return CourseDirectory(config=config, root=str(root))


def gradebook_url(coursedir: CourseDirectory) -> str:
    """The gradebook's database URL, a relative SQLite path made absolute from the course root."""
    url = make_url(coursedir.db_url)
    if url.get_backend_name() == "sqlite" and url.database and not os.path.isabs(url.database):
        url = url.set(database=os.path.join(coursedir.root, url.database))
    return url.render_as_string(hide_password=False)


def load_assignment(root: Path, name: str) -> Assignment:
    """The assignment ``name`` of the course at ``root``; its notebooks are those of the release."""
    coursedir = course_directory(root)
    release = Path(coursedir.format_path(coursedir.release_directory, ".", name))
    notebooks = tuple(sorted(path.stem for path in release.glob("*.ipynb")))
    if not notebooks:
        raise GradingError(f"no release notebook in {release}: run `nbgrader generate_assignment {name}` first")
    return Assignment(root, name, coursedir, release, notebooks)


def submitted_students(assignment: Assignment) -> list[str]:
    """The students who have a folder for the assignment under ``autograde/submitted``, sorted."""
    pattern = assignment.folder(assignment.coursedir.submitted_directory, "*")
    return sorted(Path(folder).parent.name for folder in glob.glob(str(pattern)) if os.path.isdir(folder))


def has_submissions(root: Path, name: str) -> bool:
    """True when some student has a folder for assignment ``name`` under ``autograde/submitted``."""
    coursedir = course_directory(root)
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", name)
    return any(os.path.isdir(folder) for folder in glob.glob(pattern))


def fingerprint(folder: Path) -> str:
    """sha256 over the relative path and bytes of every file in ``folder`` (symlinks not followed)."""
    digest = hashlib.sha256()
    for directory, subdirectories, files in os.walk(folder):
        subdirectories.sort()
        for name in sorted(files):
            path = Path(directory, name)
            digest.update(str(path.relative_to(folder)).encode(errors="surrogateescape") + b"\0")
            digest.update(os.readlink(path).encode(errors="surrogateescape") if path.is_symlink()
                          else path.read_bytes() if path.is_file() else b"")
            digest.update(b"\0")
    return digest.hexdigest()


def previous_run(assignment: Assignment, student: str) -> dict:
    """The student's ``done.json`` of an earlier successful run, or {} when there is none."""
    try:
        return json.loads((assignment.reports(student) / "done.json").read_text())
    except (OSError, ValueError):
        return {}


def record_assignment(assignment: Assignment) -> None:
    """Record the assignment's notebooks and tests in the gradebook, as ``nbgrader generate_assignment``
    does, without touching the release folder (the release it makes goes to a scratch folder)."""
    with tempfile.TemporaryDirectory(prefix="prettynn-release-") as scratch:
        log = Path(scratch) / "generate_assignment.log"
        arguments = ["generate_assignment", assignment.name, f"--CourseDirectory.release_directory={scratch}/release"]
        if run_nbgrader(assignment.root, arguments, log) != 0:
            raise GradingError(f"could not record {assignment.name} in the gradebook:\n{log.read_text()[-2000:]}")


def _knows(url: str, assignment: Assignment) -> bool:
    """True when the gradebook at ``url`` exists and has the assignment (a missing SQLite file is
    left for nbgrader's own command to create, with its migrations)."""
    database = make_url(url)
    if database.get_backend_name() == "sqlite" and not os.path.isfile(database.database or ""):
        return False
    with Gradebook(url, assignment.coursedir.course_id) as gradebook:
        try:
            gradebook.find_assignment(assignment.name)
            return True
        except MissingEntry:
            return False


def prepare_gradebook(assignment: Assignment, students: list[str]) -> set[str]:
    """Create every student in the gradebook, one at a time; return those already graded. An
    assignment the gradebook does not know yet is recorded first (the release is left as it is)."""
    url = gradebook_url(assignment.coursedir)
    if not _knows(url, assignment):
        record_assignment(assignment)
    with Gradebook(url, assignment.coursedir.course_id) as gradebook:
        record = gradebook.find_assignment(assignment.name)
        for student in students:
            gradebook.update_or_create_student(student)
        return {submission.student.id for submission in record.submissions}


def substitutes(assignment: Assignment, folder: Path) -> tuple[dict[str, Path], list[str]]:
    """The file to grade as each expected notebook the student's folder lacks, and notes saying so.

    A single missing notebook is taken from the single other ``.ipynb`` of the folder;
    a notebook that cannot be told apart is graded as the blank release notebook.
    """
    present = {path.name: path for path in folder.glob("*.ipynb") if path.is_file()}
    missing = [name for name in assignment.notebooks if f"{name}.ipynb" not in present]
    others = sorted(set(present) - {f"{name}.ipynb" for name in assignment.notebooks})
    if not missing:
        return {}, []
    if len(missing) == 1 and len(others) == 1:
        return ({missing[0]: present[others[0]]},
                [f"notebook was submitted as {others[0]}; graded as {missing[0]}.ipynb"])
    blanks = {name: assignment.release / f"{name}.ipynb" for name in missing}
    wanted = ", ".join(f"{name}.ipynb" for name in missing)
    if others:
        return blanks, [f"no notebook submitted as {wanted}; the other notebooks ({', '.join(others)}) could not "
                        f"be told apart, so none was picked: graded as the blank assignment notebook"]
    return blanks, [f"no notebook submitted ({wanted}): graded as the blank assignment notebook"]


def stage(assignment: Assignment, student: str, files: dict[str, Path]) -> None:
    """Copy the student's submission to ``autograde/staged`` with ``files`` under their expected names."""
    staged = assignment.folder(STAGED, student)
    shutil.copytree(assignment.folder(assignment.coursedir.submitted_directory, student), staged, symlinks=True)
    for name, source in files.items():
        target = staged / f"{name}.ipynb"
        target.unlink(missing_ok=True)
        shutil.copyfile(source, target)


def nbgrader_environment() -> dict[str, str]:
    """This environment with the venv's ``bin`` first on PATH (nbgrader calls ``alembic``) and one
    thread per numerical library: each worker is one core (the references are small tensors, and
    torch's default of a thread per core made two workers fight over both cores)."""
    single = dict.fromkeys(("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"), "1")
    return {**os.environ, **single, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_nbgrader(root: Path, arguments: list[str], log: Path, append: bool = False) -> int | None:
    """Run ``nbgrader ARGUMENTS`` from the course root, its output in ``log``; its exit code, None on timeout."""
    command = [str(Path(sys.executable).parent / "nbgrader"), *arguments]
    with open(log, "a" if append else "w") as output:
        output.write(f"$ {' '.join(command)}\n")
        output.flush()
        try:
            return subprocess.run(command, cwd=root, env=nbgrader_environment(), stdout=output,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  timeout=TIMEOUT_SECONDS).returncode
        except subprocess.TimeoutExpired:
            output.write(f"\nprettynn-course grade: nbgrader was stopped after {TIMEOUT_SECONDS} s\n")
            return None


def autograde_arguments(assignment: Assignment, student: str, force: bool, staged: bool) -> list[str]:
    """The arguments of ``nbgrader autograde`` for one student (its id escaped: nbgrader reads a glob)."""
    arguments = ["autograde", assignment.name, f"--student={glob.escape(student)}"]
    if force or assignment.folder(assignment.coursedir.autograded_directory, student).exists():
        arguments.append("--force")
    if staged:
        arguments.append(f"--CourseDirectory.submitted_directory={STAGED}")
    return arguments


def autograde_student(assignment: Assignment, student: str, force: bool, digest: str) -> StudentResult:
    """Grade one student with its own nbgrader process; record ``done.json`` when it succeeds."""
    started = time.monotonic()
    reports = assignment.reports(student)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "done.json").unlink(missing_ok=True)
    log = reports / "autograde.log"
    shutil.rmtree(assignment.folder(STAGED, student), ignore_errors=True)
    files, notes = substitutes(assignment, assignment.folder(assignment.coursedir.submitted_directory, student))
    if files:
        stage(assignment, student, files)
    exit_code = run_nbgrader(assignment.root, autograde_arguments(assignment, student, force, bool(files)), log)
    if exit_code != 0 and LOCKED in log.read_text(errors="replace"):
        notes.append(f"nbgrader was retried once after '{LOCKED}'")
        exit_code = run_nbgrader(assignment.root, autograde_arguments(assignment, student, force, bool(files)), log,
                                 append=True)
    if exit_code is None:
        notes.append(f"nbgrader was stopped after {TIMEOUT_SECONDS} s")
    if exit_code == 0:
        (reports / "done.json").write_text(json.dumps({"fingerprint": digest, "exit_code": 0, "notes": notes}))
    return StudentResult(student, "graded" if exit_code == 0 else "failed", exit_code,
                   round(time.monotonic() - started, 2), notes, log_path(assignment, student))


def autograde_safely(assignment: Assignment, student: str, force: bool, digest: str) -> StudentResult:
    """``autograde_student``, where an unexpected error fails that student only."""
    try:
        return autograde_student(assignment, student, force, digest)
    except Exception as error:  # noqa: BLE001 (one student's problem never stops the batch)
        return StudentResult(student, "failed", notes=[f"prettynn-course grade failed: {type(error).__name__}: {error}"],
                       log=log_path(assignment, student))


def log_path(assignment: Assignment, student: str) -> str:
    """The student's nbgrader log, relative to the course root."""
    return str((assignment.reports(student) / "autograde.log").relative_to(assignment.root))


def skipped(assignment: Assignment, student: str, digest: str, in_gradebook: set[str]) -> StudentResult | None:
    """The result of a student graded before from the same submission, whose grades are still there."""
    before = previous_run(assignment, student)
    if student not in in_gradebook or before.get("fingerprint") != digest or before.get("exit_code") != 0:
        return None
    return StudentResult(student, "skipped", 0, notes=before.get("notes", []), log=log_path(assignment, student))


def show_progress(counts: Counter, total: int) -> None:
    """Redraw the one-line progress bar on stderr: students done of total, by status."""
    done = sum(counts.values())
    width = 30
    filled = width * done // total if total else width
    tally = ", ".join(f"{counts[status]} {status}" for status in STATUSES)
    sys.stderr.write(f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({tally})")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def graded_alone(assignment: Assignment, student: str) -> bool:
    """True for a student who cannot share an nbgrader run: a staged submission, or an id that
    nbgrader's glob and comma-separated exclusion list would misread."""
    folder = assignment.folder(assignment.coursedir.submitted_directory, student)
    return (student != student.strip() or bool(GLOB_OR_LIST & set(student))
            or bool(substitutes(assignment, folder)[0]))


def shards(students: list[str], workers: int) -> list[list[str]]:
    """Split ``students`` into shards of nearly equal size, at most ``MAX_SHARD`` each, their number a
    multiple of ``workers`` so that every worker gets the same share."""
    if not students:
        return []
    count = workers * -(-len(students) // (workers * MAX_SHARD))
    size, extra = divmod(len(students), count)
    bounds = [index * size + min(index, extra) for index in range(count + 1)]
    return [students[start:stop] for start, stop in zip(bounds, bounds[1:]) if stop > start]


def graded_since(assignment: Assignment, student: str, moment: float) -> bool:
    """True when every notebook of the student was autograded after ``moment`` (nbgrader writes a
    graded notebook only once all its grading steps succeeded, and removes it on failure)."""
    folder = assignment.folder(assignment.coursedir.autograded_directory, student)
    paths = [folder / f"{notebook}.ipynb" for notebook in assignment.notebooks]
    return all(path.is_file() and path.stat().st_mtime >= moment for path in paths)


def autograde_shard(assignment: Assignment, shard: list[str], everyone: list[str], force: bool,
                digests: dict[str, str]) -> list[StudentResult]:
    """Grade the students of ``shard`` with one nbgrader process; grade alone any it did not grade."""
    if len(shard) == 1:
        return [autograde_safely(assignment, shard[0], force, digests[shard[0]])]
    started, moment = time.monotonic(), time.time() - 1
    for student in shard:
        assignment.reports(student).mkdir(parents=True, exist_ok=True)
        (assignment.reports(student) / "done.json").unlink(missing_ok=True)
    log = assignment.reports(shard[0]) / "autograde.log"
    others = sorted(set(everyone) - set(shard))
    arguments = ["autograde", assignment.name, "--student=*", f"--CourseDirectory.student_id_exclude={','.join(others)}"]
    if force or any(assignment.folder(assignment.coursedir.autograded_directory, s).exists() for s in shard):
        arguments.append("--force")
    run_nbgrader(assignment.root, arguments, log)
    seconds = round((time.monotonic() - started) / len(shard), 2)
    results = []
    for student in shard:
        if not graded_since(assignment, student, moment):
            results.append(autograde_safely(assignment, student, force, digests[student]))
            continue
        if student != shard[0]:
            shutil.copyfile(log, assignment.reports(student) / "autograde.log")
        (assignment.reports(student) / "done.json").write_text(
            json.dumps({"fingerprint": digests[student], "exit_code": 0, "notes": []}))
        results.append(StudentResult(student, "graded", 0, seconds, [], log_path(assignment, student)))
    return results


def grade_shard_safely(assignment: Assignment, shard: list[str], everyone: list[str], force: bool,
                       digests: dict[str, str]) -> list[StudentResult]:
    """``autograde_shard``, where an unexpected error grades each of its students alone."""
    try:
        return autograde_shard(assignment, shard, everyone, force, digests)
    except Exception:  # noqa: BLE001 (a shard's problem falls back to one process per student)
        return [autograde_safely(assignment, student, force, digests[student]) for student in shard]


def autograde_in_parallel(assignment: Assignment, digests: dict[str, str], everyone: list[str], force: bool,
                      workers: int, counts: Counter, total: int) -> list[StudentResult]:
    """Grade the students of ``digests`` (id -> submission fingerprint) with ``workers`` nbgrader processes."""
    alone = [[student] for student in digests if graded_alone(assignment, student)]
    shared = shards([student for student in digests if [student] not in alone], workers)
    results = []
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [executor.submit(grade_shard_safely, assignment, shard, everyone, force, digests)
                   for shard in shared + alone]
        for future in concurrent.futures.as_completed(futures):
            for result in future.result():
                results.append(result)
                counts[result.status] += 1
            show_progress(counts, total)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return results


def export_grades(assignment: Assignment) -> tuple[Path | None, Path]:
    """nbgrader's grades export (what ``nbgrader export`` runs) to ``autograde/grades.csv``, in this
    process; return its path (None if it failed) and the log that says why."""
    log = assignment.reports() / "export.log"
    destination = assignment.root / GRADES_CSV
    try:
        with Gradebook(gradebook_url(assignment.coursedir), assignment.coursedir.course_id) as gradebook:
            CsvExportPlugin(to=str(destination)).export(gradebook)
    except Exception as error:  # noqa: BLE001 (reported in the summary, with this log)
        log.write_text(f"export to {GRADES_CSV} failed: {type(error).__name__}: {error}\n")
        return None, log
    log.write_text(f"exported {GRADES_CSV}\n")
    return destination, log


def write_summary(assignment: Assignment, results: list[StudentResult], seconds: float) -> Path:
    """Write ``batch.json``: each student's status, exit code, seconds, notes and log."""
    path = assignment.reports() / "batch.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "assignment": assignment.name, "seconds": round(seconds, 2),
        "students": [dataclasses.asdict(result) for result in sorted(results, key=lambda o: o.student)],
    }, indent=1))
    return path


GradePending = Callable[[Assignment, dict[str, str], Counter, int], list[StudentResult]]


def autograde_class(root: Path, name: str, workers: int, force: bool = False,
                    grade_pending: GradePending | None = None) -> Batch:
    """Grade every submission of assignment ``name``, export the grades and write the class report.

    The students to grade (id -> submission fingerprint) go to ``grade_pending`` with the progress
    counts; by default ``autograde_in_parallel`` grades them with ``workers`` nbgrader processes
    (``prettynn.course.record.grade_as_jobs`` grades them as jobs, on Dask for example)."""
    started = time.monotonic()
    assignment = load_assignment(root, name)
    students = submitted_students(assignment)
    if not students:
        raise GradingError(f"no submission of {name}: no folder "
                           f"{assignment.folder(assignment.coursedir.submitted_directory, '<student>')}")
    in_gradebook = prepare_gradebook(assignment, students)
    digests = {student: fingerprint(assignment.folder(assignment.coursedir.submitted_directory, student))
               for student in students}
    results = [] if force else [result for student in students
                                 if (result := skipped(assignment, student, digests[student], in_gradebook))]
    counts = Counter(result.status for result in results)
    show_progress(counts, len(students))
    done = {result.student for result in results}
    pending = {student: digest for student, digest in digests.items() if student not in done}
    if grade_pending is None:
        results += autograde_in_parallel(assignment, pending, students, force, workers, counts, len(students))
    else:
        results += grade_pending(assignment, pending, counts, len(students))
    summary = write_summary(assignment, results, time.monotonic() - started)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as exporter:  # both only read the gradebook
        export = exporter.submit(export_grades, assignment)
        report = class_report.write_report(root, name, gradebook_url(assignment.coursedir),
                                           assignment.coursedir.course_id)
        grades_csv, export_log = export.result()
    return Batch(sorted(results, key=lambda o: o.student), round(time.monotonic() - started, 2),
                 grades_csv, export_log, report, summary)


def summary_lines(batch: Batch, root: Path) -> list[str]:
    """What the instructor reads after a batch: counts, failures with their logs, output files."""
    by_status = {status: [o for o in batch.results if o.status == status] for status in STATUSES}
    lines = [f"{len(batch.results)} students in {batch.seconds:.1f} s: "
             + ", ".join(f"{len(by_status[status])} {status}" for status in STATUSES)]
    for result in by_status["failed"]:
        reason = "; ".join(result.notes) if result.exit_code is None else f"exit code {result.exit_code}"
        lines.append(f"  failed: {result.student!r} ({reason}), log: {result.log}")
    if batch.grades_csv is None:
        lines.append(f"grades: nbgrader export failed, log: {batch.export_log.relative_to(root)}")
    else:
        lines.append(f"grades: {batch.grades_csv.relative_to(root)}")
    lines.append(f"report: {batch.report.relative_to(root)}")
    lines.append(f"batch:  {batch.summary.relative_to(root)}")
    return lines
