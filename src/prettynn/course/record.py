"""The coordinator's side of grading as jobs: what the jobs receive, and the gradebook written
from what they return.

``course_bundle`` packs the course once per batch; ``submission_of`` packs one student's
folder (the renamed or missing notebook substituted as the local batch does, symlinks left
out). ``grade_as_jobs`` hands the submissions to a runner (``prettynn.course.cluster``, or
any function that yields each submission with its ``JobResult``) and records each result as
it arrives, in this process and thread only: the gradebook keeps a single writer.
``record_result`` writes what ``nbgrader autograde`` would have: the student and the
submission with its timestamp, then nbgrader's own ``SaveAutoGrades`` and
``AssignLatePenalties`` on each graded notebook, the graded folder, the sandbox's reports,
the log and, last, ``done.json``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades
from sqlalchemy.exc import SAWarning

from .batch import (Assignment, StudentResult, fingerprint, gradebook_url, log_path, run_nbgrader, show_progress,
                    substitutes)
from .gradejob import TEMPLATE_GRADEBOOK, CourseBundle, JobResult, Submission, read_files

MAX_SUBMISSION_BYTES = 64 << 20
Runner = Callable[[CourseBundle, list[Submission]], Iterable[tuple[Submission, JobResult]]]


class BundleError(Exception):
    """The course could not be packed for the workers."""


def template_gradebook(assignment: Assignment) -> bytes:
    """A gradebook that knows the assignment (its notebooks, cells and checksums) and no student,
    made by ``nbgrader generate_assignment`` with a scratch release folder and database."""
    with tempfile.TemporaryDirectory(prefix="prettynn-template-") as scratch:
        database, log = Path(scratch) / "gradebook.db", Path(scratch) / "generate_assignment.log"
        arguments = ["generate_assignment", assignment.name, f"--CourseDirectory.release_directory={scratch}/release",
                     f"--CourseDirectory.db_url=sqlite:///{database}"]
        if run_nbgrader(assignment.root, arguments, log) != 0:
            raise BundleError(f"could not record {assignment.name} in a template gradebook:\n{log.read_text()[-2000:]}")
        return database.read_bytes()


def course_bundle(assignment: Assignment) -> CourseBundle:
    """The course files a worker needs to grade ``assignment``, as one ``CourseBundle``."""
    root = assignment.root
    files = {"nbgrader_config.py": (root / "nbgrader_config.py").read_bytes()}
    for folder in (root / assignment.coursedir.source_directory, assignment.release):
        prefix = folder.resolve().relative_to(root)
        for name, data in read_files(folder).items():
            if ".ipynb_checkpoints" not in name:
                files[(prefix / name).as_posix()] = data
    files[TEMPLATE_GRADEBOOK] = template_gradebook(assignment)
    return CourseBundle.of(assignment.name, files)


def submission_of(assignment: Assignment, student: str) -> Submission:
    """The student's submitted folder as a ``Submission``: a notebook under another name, or none,
    replaced as the local batch stages it; symlinks are left out, with a note."""
    folder = assignment.folder(assignment.coursedir.submitted_directory, student)
    files = read_files(folder)
    notes = [f"{path.relative_to(folder)} is a symbolic link; it was not graded"
             for path in sorted(folder.rglob("*")) if path.is_symlink()]
    replaced, staging_notes = substitutes(assignment, folder)
    for name, path in replaced.items():
        files[f"{name}.ipynb"] = path.read_bytes()
    return Submission(student, files, fingerprint(folder), tuple(staging_notes + notes))


def replace_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Make ``folder`` hold exactly ``files``: written beside it, then moved into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    for name, data in files.items():
        (incoming / name).parent.mkdir(parents=True, exist_ok=True)
        (incoming / name).write_bytes(data)
    shutil.rmtree(folder, ignore_errors=True)
    incoming.rename(folder)


def save_grades(assignment: Assignment, student: str, graded: dict[str, bytes]) -> None:
    """Record the submission and every graded notebook's scores as ``nbgrader autograde`` does."""
    url = gradebook_url(assignment.coursedir)
    submitted = assignment.folder(assignment.coursedir.submitted_directory, student)
    timestamp = assignment.coursedir.get_existing_timestamp(str(submitted))
    config = assignment.coursedir.config
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own command prints the same ones
        with Gradebook(url, assignment.coursedir.course_id) as gradebook:
            gradebook.update_or_create_student(student)
            gradebook.update_or_create_submission(assignment.name, student,
                                                  **({"timestamp": timestamp} if timestamp else {}))
        for name in assignment.notebooks:
            notebook = nbformat.reads(graded[f"{name}.ipynb"].decode(), as_version=nbformat.NO_CONVERT)
            resources = {"nbgrader": {"notebook": name, "assignment": assignment.name, "student": student,
                                      "db_url": url}}
            for step in (SaveAutoGrades(config=config), AssignLatePenalties(config=config)):
                notebook, resources = step.preprocess(notebook, resources)


def record_result(assignment: Assignment, submission: Submission, result: JobResult) -> StudentResult:
    """Write one job's result: the gradebook, the graded folder, the reports, the log, ``done.json``."""
    student = submission.student
    reports = assignment.reports(student)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "done.json").unlink(missing_ok=True)
    notes = list(submission.notes)
    header = f"graded on {result.worker} in {result.seconds:.2f} s\n" if result.worker else ""
    (reports / "autograde.log").write_text(header + result.log)
    missing = [name for name in assignment.notebooks if f"{name}.ipynb" not in result.graded]
    if result.ok and missing:
        result = JobResult(student, False, log=result.log, problem=f"no graded notebook {', '.join(missing)}")
    if not result.ok:
        return StudentResult(student, "failed", None, result.seconds, notes + [result.problem],
                             log_path(assignment, student))
    save_grades(assignment, student, result.graded)
    replace_folder(assignment.folder(assignment.coursedir.autograded_directory, student), result.graded)
    for name, data in result.reports.items():
        (reports / name).write_bytes(data)
    (reports / "done.json").write_text(json.dumps({"fingerprint": submission.fingerprint, "exit_code": 0,
                                                   "notes": notes}))
    return StudentResult(student, "graded", 0, result.seconds, notes, log_path(assignment, student))


def failed(assignment: Assignment, student: str, problem: str) -> StudentResult:
    """The result of a student whose submission could not be sent to a job."""
    reports = assignment.reports(student)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "done.json").unlink(missing_ok=True)
    (reports / "autograde.log").write_text(f"prettynn-course grade: {problem}\n")
    return StudentResult(student, "failed", None, 0.0, [problem], log_path(assignment, student))


def packed(assignment: Assignment, students: Iterable[str]) -> Iterator[Submission | StudentResult]:
    """Each student's ``Submission``, or the failure of one that cannot be sent."""
    for student in students:
        try:
            submission = submission_of(assignment, student)
        except OSError as error:
            yield failed(assignment, student, f"its submission could not be read: {error}")
            continue
        if submission.size > MAX_SUBMISSION_BYTES:
            yield failed(assignment, student, f"its submission is {submission.size / 2**20:.0f} MiB, over the "
                                              f"{MAX_SUBMISSION_BYTES >> 20} MiB a job accepts")
        else:
            yield submission


def grade_as_jobs(assignment: Assignment, pending: dict[str, str], counts: Counter, total: int,
                  runner: Runner) -> list[StudentResult]:
    """Grade the students of ``pending`` as jobs of ``runner``, recording each result as it arrives."""
    try:
        bundle = course_bundle(assignment)
    except (BundleError, OSError) as error:
        return [failed(assignment, student, f"the course could not be sent to the workers: {error}")
                for student in pending]
    results, submissions = [], []
    for item in packed(assignment, pending):
        if isinstance(item, StudentResult):
            results.append(item)
            counts[item.status] += 1
        else:
            submissions.append(item)
    show_progress(counts, total)
    for submission, job in runner(bundle, submissions):
        try:
            result = record_result(assignment, submission, job)
        except Exception as error:  # noqa: BLE001 (one student's record fails that student only)
            result = StudentResult(submission.student, "failed", None, job.seconds,
                                   [f"its grades could not be recorded: {type(error).__name__}: {error}"],
                                   log_path(assignment, submission.student))
        results.append(result)
        counts[result.status] += 1
        show_progress(counts, total)
    return results


def grade_in_this_process(bundle: CourseBundle, submissions: list[Submission],
                          allow_unsandboxed: bool = False) -> Iterator[tuple[Submission, JobResult]]:
    """A runner that grades the jobs one after the other in this process (tests, debugging)."""
    from .gradejob import grade_submission

    for submission in submissions:
        yield submission, grade_submission(bundle, submission, allow_unsandboxed)
