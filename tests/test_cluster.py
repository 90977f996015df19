"""``prettynn-course grade --cluster local:N``: each student a job on Dask, the gradebook written
by the coordinator alone, with the same grades as the local path.

Two copies of the course grade every sample of every chapter, one with the local path
(nbgrader processes: the shared ``graded_locally``) and one as jobs on a ``LocalCluster`` of two
workers. Chapter 01 also has a late submission (a due date, the "zero" penalty) and a renamed
notebook. Then 40 submissions
grade while one worker is killed, and hostile submissions (and ids that nbgrader's glob would
misread) grade on workers whose processes must survive them.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from prettynn.course import batch, cluster, notebooks, record
from prettynn.course.cli import main

from .attacks import ATTACKS
from .conftest import ROOT
from .course import LATE, RENAMED, copy_course, graded_class
from .test_attacks import hand_in

pytestmark = pytest.mark.slow
CHAPTERS = notebooks.chapters(ROOT)
FIRST = CHAPTERS[0]
SUBMITTED = Path("autograde/submitted")
HOSTILE = ("kill-parent", "os-exit", "fork-bomb", "infinite-loop")
ODD_IDS = ("x<script>*[1]", "trailing-space ", "a,b")


def gradebook_rows(course: Path, chapter: str) -> dict:
    """Every student's submission of ``chapter``: timestamp, late penalty, and each grade cell's
    scores and comment."""
    rows = {}
    with Gradebook(f"sqlite:///{course}/autograde/gradebook.db") as gradebook:
        for submission in gradebook.find_assignment(chapter).submissions:
            cells = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    cells[f"{notebook.name}/{grade.name}"] = (grade.auto_score, grade.score, grade.max_score)
                for comment in notebook.comments:
                    cells[f"{notebook.name}/{comment.name}/comment"] = comment.auto_comment
            rows[submission.student.id] = {"timestamp": str(submission.timestamp),
                                           "late_penalty": submission.late_submission_penalty,
                                           "score": submission.score, "cells": cells}
    return rows


def graded_notebooks(course: Path, chapter: str) -> dict:
    """Each student's graded notebooks, parsed."""
    folder = course / "autograde/autograded"
    return {str(path.relative_to(folder)): json.loads(path.read_text())
            for path in sorted(folder.glob(f"*/{chapter}/*.ipynb"))}


def sandbox_reports(course: Path, chapter: str) -> dict:
    """Each student's sandbox reports, without the seconds each exercise took."""
    reports = {}
    for path in sorted((course / "autograde/reports" / chapter).glob("*/*.json")):
        if path.name in ("done.json",):
            continue
        report = json.loads(path.read_text())
        for entry in report.get("exercises", []):
            entry.pop("seconds")
        reports[str(path.relative_to(course))] = report
    return reports


def outcome(course: Path, chapter: str) -> dict:
    """What a grading run leaves that the instructor reads."""
    exported = csv.DictReader(io.StringIO((course / batch.GRADES_CSV).read_text()))
    return {"grades.csv": [row for row in exported if row["assignment"] == chapter],
            "gradebook": gradebook_rows(course, chapter), "notebooks": graded_notebooks(course, chapter),
            "reports": sandbox_reports(course, chapter)}


def quietly(function, *args, **kwargs):
    """``function(*args, **kwargs)`` with its progress bar and summary kept off the test's output."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def both_paths(graded_locally, tmp_path_factory):
    """Every chapter graded by the local path (the shared ``graded_locally``) and, in another copy,
    as jobs on a LocalCluster of two workers."""
    with cluster.connect("local:2") as client:
        grade_pending = functools.partial(record.grade_as_jobs, runner=cluster.dask_runner(client))
        jobs = graded_class(ROOT, tmp_path_factory.mktemp("jobs"), grade_pending)
    local = graded_locally["course"]
    return {"local_course": local, "jobs_course": jobs["course"], "batches": jobs["batches"],
            "local": {chapter: outcome(local, chapter) for chapter in CHAPTERS},
            "jobs": {chapter: outcome(jobs["course"], chapter) for chapter in CHAPTERS}}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_jobs_on_dask_grade_as_the_local_path(both_paths, chapter):
    results = both_paths["batches"][chapter].results
    assert {result.status for result in results} == {"graded"}
    local, jobs = both_paths["local"][chapter], both_paths["jobs"][chapter]
    assert len(jobs["gradebook"]) == len(results) >= 6
    for kind in ("grades.csv", "gradebook", "notebooks", "reports"):
        assert jobs[kind] == local[kind], f"{kind} differs"


def test_a_late_submission_gets_the_same_penalty(both_paths):
    row = both_paths["jobs"][FIRST]["gradebook"][LATE]
    assert row["timestamp"].startswith("2026-03-01 12:30:00")
    assert row["late_penalty"] == row["score"] == 13  # the "zero" method takes every point
    assert row == both_paths["local"][FIRST]["gradebook"][LATE]
    exported = {line["student_id"]: line for line in both_paths["jobs"][FIRST]["grades.csv"]
                if line["assignment"] == FIRST}
    assert float(exported[LATE]["score"]) == 0 and float(exported["sample-correct"]["score"]) == 13


def test_a_renamed_notebook_is_graded_with_a_note(both_paths):
    result = next(r for r in both_paths["batches"][FIRST].results if r.student == RENAMED)
    assert result.status == "graded" and "submitted as my_work.ipynb" in " ".join(result.notes)
    assert both_paths["jobs"][FIRST]["gradebook"][RENAMED]["score"] == 13


def test_a_second_run_of_every_chapter_on_one_cluster_skips_everyone(both_paths, monkeypatch):
    course, connected = both_paths["jobs_course"], []
    connect = cluster.connect
    monkeypatch.setattr(cluster, "connect", lambda target: connected.append(target) or connect(target))
    exit_code = quietly(main, ["--root", str(course), "grade", "--all", "--cluster", "local:1"])
    statuses = {chapter: {entry["status"] for entry in json.loads(
        (course / "autograde/reports" / chapter / "batch.json").read_text())["students"]} for chapter in CHAPTERS}
    assert exit_code == 0 and statuses == {chapter: {"skipped"} for chapter in CHAPTERS}
    assert connected == ["local:1"], "one cluster for every chapter"


def only_copies_of_samples(course: Path, count: int) -> dict[str, str]:
    """Replace the course's submissions by ``count`` chapter-01 submissions, each a sample under a
    new id; return new id -> the sample's id."""
    samples = sorted(path.parent.name for path in (course / SUBMITTED).glob(f"sample-*/{FIRST}"))
    copies = {f"copy-{index:02d}": samples[index % len(samples)] for index in range(count)}
    for student, sample in copies.items():
        shutil.copytree(course / SUBMITTED / sample / FIRST, course / SUBMITTED / student / FIRST)
    for sample in samples:
        shutil.rmtree(course / SUBMITTED / sample)
    return copies


def killing_one_worker(client, runner):
    """``runner``, but one worker process is killed once the first result is in, while jobs run."""
    def run(bundle, submissions):
        pids = client.run(os.getpid)
        for position, item in enumerate(runner(bundle, submissions)):
            if position == 0:
                os.kill(next(iter(pids.values())), signal.SIGKILL)
            yield item
    return run


def test_a_killed_worker_costs_nothing(both_paths, root, tmp_path):
    course = copy_course(root, tmp_path)
    copies = only_copies_of_samples(course, 40)
    with cluster.connect("local:2") as client:
        before = set(client.run(os.getpid).values())
        runner = killing_one_worker(client, cluster.dask_runner(client))
        graded = quietly(batch.autograde_class, course, FIRST, 2, False,
                         functools.partial(record.grade_as_jobs, runner=runner))
        after = set(client.run(os.getpid).values())
    assert len(before - after) == 1, "one worker was killed and replaced"
    assert [result.status for result in graded.results] == ["graded"] * 40
    rows = gradebook_rows(course, FIRST)
    expected = both_paths["local"][FIRST]["gradebook"]
    assert sorted(rows) == sorted(copies)
    assert {student: rows[student]["cells"] for student in copies} == \
           {student: expected[sample]["cells"] for student, sample in copies.items()}
    assert graded.grades_csv is not None


def test_hostile_submissions_cost_their_exercise_and_never_a_worker(root, tmp_path):
    course = copy_course(root, tmp_path)
    correct = course / SUBMITTED / "sample-correct" / FIRST
    for student in ODD_IDS:  # ids nbgrader's glob or a path would misread: graded as any other
        shutil.copytree(correct, course / "odd" / student / FIRST)
    shutil.rmtree(course / SUBMITTED)
    (course / "odd").rename(course / SUBMITTED)
    attacks = [attack for attack in ATTACKS if attack.id in HOSTILE]
    for attack in attacks:
        hand_in(course, attack.student, attack.exercise, attack.code)
    with cluster.connect("local:2") as client:
        before = set(client.run(os.getpid).values())
        graded = quietly(batch.autograde_class, course, FIRST, 2, False,
                         functools.partial(record.grade_as_jobs, runner=cluster.dask_runner(client)))
        after = set(client.run(os.getpid).values())
    assert before == after, "a worker process died"
    assert {result.status for result in graded.results} == {"graded"}
    rows = gradebook_rows(course, FIRST)
    assert {student: rows[student]["score"] for student in ODD_IDS} == dict.fromkeys(ODD_IDS, 13)
    for attack in attacks:
        lost = {cell for cell, scores in rows[attack.student]["cells"].items()
                if not cell.endswith("/comment") and scores[1] < scores[2]}
        assert lost == {f"{FIRST}/test_{attack.exercise}"}, attack.id
