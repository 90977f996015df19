"""The grading job's edges: what it refuses, what the coordinator records of a failed job, how a
scheduler that cannot be reached is reported, and jobs that raise or kill their worker."""

from __future__ import annotations

import contextlib
import gc
import http.server
import io
import os
import re
import socket
import threading
import time
import warnings

import numpy as np
import pytest

from prettynn.course import batch, cluster, gradejob, record
from prettynn.course.cli import main
from prettynn.sandbox import runner

from .course import copy_course


@pytest.mark.parametrize("name", ["../escape.ipynb", "/etc/passwd", "a/../../b", "", "./x", "a//b"])
def test_a_file_name_that_leaves_the_submission_is_refused(name):
    with pytest.raises(gradejob.Refused, match="does not stay inside"):
        gradejob.safe_relative(name)


def test_nested_file_names_are_kept():
    assert str(gradejob.safe_relative("data/part-1.csv")) == "data/part-1.csv"


def test_bundles_of_the_same_files_share_a_digest():
    one = gradejob.CourseBundle.of("a", {"x": b"1", "y": b"2"})
    assert one.digest == gradejob.CourseBundle.of("a", {"y": b"2", "x": b"1"}).digest
    assert one.digest != gradejob.CourseBundle.of("a", {"x": b"1", "y": b"3"}).digest
    assert one.digest != gradejob.CourseBundle.of("b", {"x": b"1", "y": b"2"}).digest


def test_a_worker_without_bubblewrap_refuses_unless_allowed(monkeypatch):
    monkeypatch.setattr(runner, "bubblewrap_works", lambda: False)
    submission = gradejob.Submission("s", {"01_linear.ipynb": b"{}"}, "f")
    result = gradejob.grade_submission(gradejob.CourseBundle.of("01_linear", {}), submission)
    assert not result.ok and "cannot start the bubblewrap sandbox" in result.problem
    assert "--allow-unsandboxed" in result.problem and result.worker.endswith(f":{os.getpid()}")
    allowed = gradejob.grade_submission(gradejob.CourseBundle.of("01_linear", {}), submission, allow_unsandboxed=True)
    assert "bubblewrap" not in allowed.problem and not allowed.ok  # it went on (and the empty bundle failed)


def test_a_failed_job_writes_no_grade_and_no_done_file(root, tmp_path):
    course = copy_course(root, tmp_path)
    assignment = batch.load_assignment(course, "01_linear")
    submission = record.submission_of(assignment, "sample-correct")
    failed = gradejob.JobResult("sample-correct", False, log="the log\n", problem="it broke", worker="w:1")
    result = record.record_result(assignment, submission, failed)
    assert result.status == "failed" and result.notes == ["it broke"]
    reports = assignment.reports("sample-correct")
    assert not (reports / "done.json").exists() and "the log" in (reports / "autograde.log").read_text()
    assert not (course / "autograde/gradebook.db").exists()


def test_a_submission_is_sent_with_its_substitute_and_without_its_symlinks(root, tmp_path):
    course = copy_course(root, tmp_path)
    folder = course / "autograde/submitted/linked/01_linear"
    folder.mkdir(parents=True)
    (folder / "mine.ipynb").write_text("{}")
    (folder / "secret").symlink_to("/etc/hostname")
    submission = record.submission_of(batch.load_assignment(course, "01_linear"), "linked")
    assert set(submission.files) == {"mine.ipynb", "01_linear.ipynb"}
    assert any("symbolic link" in note for note in submission.notes)
    assert any("submitted as mine.ipynb" in note for note in submission.notes)


def closed_port() -> int:
    """A local port where nothing listens."""
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return probe_socket.getsockname()[1]


@contextlib.contextmanager
def silent_server():
    """A port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@contextlib.contextmanager
def http_server():
    """A port where a web server answers."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def timed_probe(address: str, seconds: float) -> tuple[str, float]:
    """The message of the probe's ``SchedulerUnreachable`` and how long it took."""
    started = time.monotonic()
    with pytest.raises(cluster.SchedulerUnreachable) as error:
        cluster.probe(address, seconds)
    return str(error.value), time.monotonic() - started


def test_nothing_listening_is_reported_within_the_probe_time():
    message, seconds = timed_probe(f"tcp://127.0.0.1:{closed_port()}", 1.0)
    assert "nothing answered at" in message and "ConnectionRefusedError" in message and seconds < 10


def test_a_port_that_never_answers_is_reported_within_the_probe_time():
    with silent_server() as port:
        message, seconds = timed_probe(f"tcp://127.0.0.1:{port}", 1.0)
    assert "did not answer as a Dask scheduler within 1 s" in message and seconds < 10


def test_a_web_server_is_reported_as_not_a_scheduler():
    with http_server() as port:
        message, _ = timed_probe(f"tcp://127.0.0.1:{port}", 2.0)
    assert "something listens at" in message and "did not answer as a Dask scheduler" in message


@pytest.mark.parametrize(("address", "seconds", "error", "message"), [
    ("tcp://127.0.0.1:1", float("nan"), ValueError, "must be a positive number of seconds, not nan"),
    ("tcp://127.0.0.1:1", 0, ValueError, "must be a positive number of seconds, not 0"),
    (8786, 1.0, TypeError, "a scheduler's address is a string like tcp://HOST:8786, not int"),
])
def test_a_probe_of_bad_arguments_says_so(address, seconds, error, message):
    with pytest.raises(error, match=re.escape(message)):
        cluster.probe(address, seconds)


def test_a_step_whose_time_limit_fails_leaves_no_coroutine_unawaited():
    """A time limit that cannot be compared (an array, as another test's arguments once gave the
    probe) fails before the step's coroutine is made, so none is left for the garbage collector
    to warn about in whichever test runs next."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError):
            cluster._within(np.array([1.0, 2.0]), lambda: cluster._listening("tcp://127.0.0.1:1"))
        gc.collect()
    assert not [warning for warning in caught if "was never awaited" in str(warning.message)]


def test_grading_on_an_unreachable_scheduler_stops_with_a_clear_message(root, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cluster, "PROBE_SECONDS", 1.0)
    address = f"tcp://127.0.0.1:{closed_port()}"
    with pytest.raises(SystemExit) as stopped:
        main(["--root", str(copy_course(root, tmp_path)), "grade", "01_linear", "--scheduler", address])
    assert stopped.value.code == 2
    assert f"prettynn-course grade: error: nothing answered at {address}" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["local:0", "local:x", "remote:2"])
def test_a_malformed_local_cluster_is_an_argument_error(root, option, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--root", str(root), "grade", "01_linear", "--cluster", option])
    assert stopped.value.code == 2 and "--cluster" in capsys.readouterr().err


@pytest.mark.parametrize("address", ["nonsense", "tcp://host", "host:8786"])
def test_a_malformed_scheduler_address_is_an_argument_error(root, address, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--root", str(root), "grade", "01_linear", "--scheduler", address])
    assert stopped.value.code == 2 and "is not a scheduler's address" in capsys.readouterr().err


def test_unsandboxed_grading_needs_a_cluster(root, capsys):
    with pytest.raises(SystemExit):
        main(["--root", str(root), "grade", "01_linear", "--allow-unsandboxed"])
    assert "--allow-unsandboxed goes with --cluster or --scheduler" in capsys.readouterr().err


def kill_with_a_neighbour_held(seconds: float = 10.0) -> None:
    """End this worker process; in the batch's first pass, once the worker holds another job of it
    (waiting at most ``seconds``), so that Dask counts the death against that neighbour too."""
    from distributed import get_worker

    worker = get_worker()
    mine = worker.get_current_task()
    deadline = time.monotonic() + seconds
    while mine.startswith("grade-") and time.monotonic() < deadline and not any(
            key != mine and str(key).startswith("grade-") for key in worker.state.tasks):
        time.sleep(0.05)
    os.kill(os.getpid(), 9)


@pytest.mark.slow
def test_a_job_that_raises_or_kills_its_worker_fails_only_its_student():
    """One worker holds the killer's neighbour in the queue each time the killer ends it, so Dask
    gives up on both; the neighbour is graded when run alone, and the killer fails alone too."""
    def job(bundle, submission, allow_unsandboxed):
        if submission.student == "killer":
            kill_with_a_neighbour_held()
        if submission.student == "raiser":
            raise ValueError("broken on purpose")
        return gradejob.JobResult(submission.student, True, worker=gradejob.worker_name())

    students = ["killer", "a", "raiser", "b", "c"]
    submissions = [gradejob.Submission(student, {}, student) for student in students]
    with cluster.connect("local:1") as client:
        results = [(submission.student, result) for submission, result in
                   cluster.dask_runner(client, job=job)(gradejob.CourseBundle.of("x", {}), submissions)]
    assert sorted(student for student, _ in results) == sorted(students), "each student comes back once"
    results = dict(results)
    assert [student for student in students if results[student].ok] == ["a", "b", "c"]
    assert results["killer"].problem == ("its job ended the worker process that ran it, "
                                         "again on each retry and when run alone")
    assert results["raiser"].problem == "its job failed on the worker: ValueError: broken on purpose"


def test_two_local_clusters_at_once_start_without_a_warning():
    """A second batch on the same machine (or anything on port 8787) is no reason to warn."""
    with warnings.catch_warnings(record=True) as caught, contextlib.ExitStack() as both:
        warnings.simplefilter("always")
        clients = [both.enter_context(cluster.connect("local:1")) for _ in range(2)]
        assert [client.submit(sum, [1, 2], pure=False).result() for client in clients] == [3, 3]
    assert not [str(warning.message) for warning in caught if "already in use" in str(warning.message)]


def test_a_scheduler_without_workers_is_reached_and_said_to_have_none(capsys):
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, dashboard_address=None) as scheduler:
        cluster.probe(scheduler.scheduler_address, 5.0)
        with cluster.connect(scheduler.scheduler_address) as client:
            assert client.scheduler_info()["workers"] == {}
    assert "has no worker yet; the jobs wait for workers to join" in capsys.readouterr().err
