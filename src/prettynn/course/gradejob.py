"""One student's submission graded by a plain function that any worker can run.

The job is the expensive, isolated part of grading: every solution cell run in the sandbox,
judged against torch, and the graded notebooks written by nbgrader's own ``Autograde``
converter, in this process. It needs only the course package installed and what travels
with it as bytes: the course's files (``CourseBundle``, sent once per worker) and the
student's files (``Submission``). It returns plain data (``JobResult``): the graded files,
the sandbox's reports and the log. It writes nothing the coordinator reads; the coordinator
alone records the result in the gradebook (``prettynn.course.record``), so a job that dies
leaves nothing half-written.

On the worker, the course is laid out once per process and bundle, in a temporary folder.
nbgrader changes the process's working directory, so a process grades one submission at a
time (a lock makes sure of it). The student is graded there under a neutral id, so that
nothing a student chose for an id (a glob, a slash, a trailing space) reaches a path or
nbgrader's glob on the worker. A worker without a working bubblewrap refuses the job unless
it is allowed to grade with the audit hook only.
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import io
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import warnings
from pathlib import Path, PurePosixPath

TEMPLATE_GRADEBOOK = "autograde/gradebook.db"
WORKER_STUDENT = "student"
GRADED_STEPS = ("autograde/submitted", "autograde/autograded", "autograde/reports", "autograde/feedback")
_ONE_JOB_AT_A_TIME = threading.Lock()
_LAID_OUT: dict[str, Path] = {}


@dataclasses.dataclass(frozen=True)
class CourseBundle:
    """What a worker needs of the course to grade one assignment, as bytes by relative path:
    ``nbgrader_config.py``, every instructor notebook (an exercise may use another chapter's
    reference), the assignment's release, and a gradebook that knows only the assignment."""

    assignment: str
    files: dict[str, bytes]
    digest: str

    @classmethod
    def of(cls, assignment: str, files: dict[str, bytes]) -> CourseBundle:
        """The bundle of ``files``, named by a digest of their paths and bytes."""
        digest = hashlib.sha256(assignment.encode())
        for path in sorted(files):
            digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
        return cls(assignment, files, digest.hexdigest())


@dataclasses.dataclass(frozen=True)
class Submission:
    """One student's submitted files (relative path -> bytes), with the notebooks the
    coordinator substituted already in place, and what the coordinator noted about them."""

    student: str
    files: dict[str, bytes]
    fingerprint: str
    notes: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """The submission's size in bytes."""
        return sum(len(data) for data in self.files.values())


@dataclasses.dataclass(frozen=True)
class JobResult:
    """What grading one submission produced: ``ok`` when nbgrader graded every notebook;
    the graded folder's files, the sandbox's JSON report of each notebook, the log, and
    where and how long it ran. ``problem`` says why a job that is not ok failed."""

    student: str
    ok: bool
    graded: dict[str, bytes] = dataclasses.field(default_factory=dict)
    reports: dict[str, bytes] = dataclasses.field(default_factory=dict)
    log: str = ""
    problem: str = ""
    worker: str = ""
    seconds: float = 0.0


class Refused(Exception):
    """The job cannot run here, or on this input; its message is the student's failure note."""


def worker_name() -> str:
    """This process, as the instructor finds it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def safe_relative(path: str) -> PurePosixPath:
    """``path`` as a relative path that stays inside its folder; ``Refused`` otherwise."""
    if any(part in ("", ".", "..") for part in path.replace("\\", "/").split("/")):
        raise Refused(f"the file name {path!r} does not stay inside the submission's folder")
    return PurePosixPath(path)


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative path -> bytes) under ``folder``."""
    for name, data in files.items():
        target = folder / safe_relative(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def read_files(folder: Path) -> dict[str, bytes]:
    """Every regular file under ``folder`` (symlinks not followed), by relative path."""
    if not folder.is_dir():
        return {}
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()}


def laid_out_course(bundle: CourseBundle) -> Path:
    """This process's copy of the bundle's course (laid out on first use, removed at exit): one
    folder per bundle keeps the instructor's references cached between jobs."""
    if bundle.digest not in _LAID_OUT:
        folder = Path(tempfile.mkdtemp(prefix=f"prettynn-course-{bundle.digest[:12]}-"))
        atexit.register(shutil.rmtree, folder, True)
        write_files(folder, bundle.files)
        _LAID_OUT[bundle.digest] = folder
    return _LAID_OUT[bundle.digest]


def fresh_job(course: Path, bundle: CourseBundle, submission: Submission) -> None:
    """Empty the course's grading folders, restore the template gradebook and put the submission in place."""
    for step in GRADED_STEPS:
        shutil.rmtree(course / step, ignore_errors=True)
    (course / TEMPLATE_GRADEBOOK).write_bytes(bundle.files[TEMPLATE_GRADEBOOK])
    write_files(course / "autograde/submitted" / WORKER_STUDENT / bundle.assignment, submission.files)


def captured_log(stream: io.StringIO) -> logging.Logger:
    """A logger of its own that writes nbgrader's messages into ``stream``."""
    log = logging.getLogger(f"prettynn.gradejob.{os.getpid()}")
    log.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("[%(name)s | %(levelname)s] %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    return log


def run_autograde(course: Path, assignment: str, log: logging.Logger) -> None:
    """nbgrader's ``Autograde`` converter on the job's student, in this process, with the
    course's configuration (``NbGraderException`` when a notebook could not be graded)."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from sqlalchemy.exc import SAWarning
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / TEMPLATE_GRADEBOOK}"
    config.CourseDirectory.assignment_id = assignment
    config.CourseDirectory.student_id = WORKER_STUDENT
    coursedir = CourseDirectory(config=config, root=str(course))
    working_directory = os.getcwd()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)  # nbgrader's own command prints the same ones
            Autograde(coursedir=coursedir, config=config, log=log).start()
    finally:
        os.chdir(working_directory)


def refuse_unsandboxed(allow_unsandboxed: bool) -> None:
    """``Refused`` when bubblewrap cannot start the sandbox here and that was not allowed."""
    from ..sandbox.runner import bubblewrap_works

    if not allow_unsandboxed and not bubblewrap_works():
        raise Refused(f"the worker {worker_name()} cannot start the bubblewrap sandbox (install bubblewrap "
                      "there), so it refused to grade; --allow-unsandboxed grades with the audit hook only")


def warm_up() -> str:
    """Import what grading needs (nbgrader, torch, the sandbox) and check bubblewrap, so that a
    worker's first job does not pay for it; this process's name."""
    from nbgrader.converters import Autograde  # noqa: F401

    from ..exercises._torch import torch_on_one_thread
    from ..sandbox.runner import bubblewrap_works
    from . import gradeinsandbox  # noqa: F401

    torch_on_one_thread()
    bubblewrap_works()
    return worker_name()


def grade_submission(bundle: CourseBundle, submission: Submission, allow_unsandboxed: bool = False) -> JobResult:
    """Grade one submission; never raises: a problem is a ``JobResult`` with ``ok=False``."""
    started = time.monotonic()
    stream = io.StringIO()
    with _ONE_JOB_AT_A_TIME:
        try:
            refuse_unsandboxed(allow_unsandboxed)
            course = laid_out_course(bundle)
            fresh_job(course, bundle, submission)
            run_autograde(course, bundle.assignment, captured_log(stream))
            graded = read_files(course / "autograde/autograded" / WORKER_STUDENT / bundle.assignment)
            reports = read_files(course / "autograde/reports" / bundle.assignment / WORKER_STUDENT)
            problem = "" if graded else "nbgrader wrote no graded notebook"
        except Refused as error:
            graded, reports, problem = {}, {}, str(error)
        except Exception as error:  # noqa: BLE001 (NbGraderException and any other: this student's failure)
            graded, reports, problem = {}, {}, f"nbgrader could not grade it: {type(error).__name__}: {error}"
    log = stream.getvalue() + (f"\nprettynn-course grade: {problem}\n" if problem else "")
    return JobResult(submission.student, not problem, graded, reports, log, problem, worker_name(),
                     round(time.monotonic() - started, 3))
