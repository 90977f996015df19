"""``prettynn-course grade``: every submission graded by parallel nbgrader runs, resumably.

A copy of the course gets, besides the samples, a student whose notebook was renamed,
one who handed in no notebook, one with a hostile id and one that nbgrader cannot grade
(nbgrader strips the space that ends its id, so it finds no submission). The batch runs
three times with two workers: first, again (everyone graded is skipped), and forced.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from prettynn.course import batch, class_report
from prettynn.course.cli import main

from .course import copy_course, file_digests

pytestmark = pytest.mark.slow
CHAPTER = "01_linear"
SUBMITTED = Path("autograde/submitted")
RENAMED, MISSING, HOSTILE, UNGRADABLE = "renamed", "no-notebook", "x<script>", "trailing-space "
REPORTS = Path("autograde/reports") / CHAPTER


def add_students(course: Path) -> None:
    """The extra submissions: renamed notebook, no notebook, hostile id, ungradable id."""
    correct = course / SUBMITTED / "sample-correct" / CHAPTER / f"{CHAPTER}.ipynb"
    for student, name in [(RENAMED, "my_work.ipynb"), (HOSTILE, f"{CHAPTER}.ipynb"), (UNGRADABLE, f"{CHAPTER}.ipynb")]:
        (course / SUBMITTED / student / CHAPTER).mkdir(parents=True)
        shutil.copyfile(correct, course / SUBMITTED / student / CHAPTER / name)
    (course / SUBMITTED / MISSING / CHAPTER).mkdir(parents=True)
    (course / SUBMITTED / MISSING / CHAPTER / "answers.txt").write_text("I did it on paper.\n")


def scores(course: Path) -> dict[str, float]:
    """Each student's total score of the assignment in the gradebook."""
    with Gradebook(f"sqlite:///{course}/autograde/gradebook.db", "pretty-neural-networks") as gradebook:
        return {submission.student.id: submission.score
                for submission in gradebook.find_assignment(CHAPTER).submissions}


def grade(course: Path, *options: str) -> dict:
    """Run ``prettynn-course grade`` in-process; its exit code, output, seconds, batch.json and scores."""
    output = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()):
        exit_code = main(["--root", str(course), "grade", CHAPTER, "--workers", "2", *options])
    seconds = time.monotonic() - started
    batch = json.loads((course / REPORTS / "batch.json").read_text())
    statuses = {entry["student"]: entry for entry in batch["students"]}
    return {"exit_code": exit_code, "output": output.getvalue(), "seconds": seconds,
            "students": statuses, "scores": scores(course)}


@pytest.fixture(scope="module")
def runs(root, tmp_path_factory):
    """The course copy, the hash of its submissions and release, and the three batch runs. No
    ``nbgrader generate_assignment`` first: grading records the assignment itself."""
    course = copy_course(root, tmp_path_factory.mktemp("course"))
    add_students(course)
    submitted = file_digests(course / SUBMITTED)
    released = file_digests(course / "notebooks")
    first = grade(course)
    assert file_digests(course / "notebooks") == released, "grading changed the release folder"
    second = grade(course)
    forced = grade(course, "--force")
    return {"course": course, "submitted": submitted, "first": first, "second": second, "forced": forced}


def samples(course: Path) -> list[str]:
    """The sample students of the course copy who handed in this chapter."""
    return sorted(path.parent.name for path in (course / SUBMITTED).glob(f"sample-*/{CHAPTER}"))


def test_every_gradable_student_is_graded(runs):
    first = runs["first"]
    students = samples(runs["course"]) + [RENAMED, MISSING, HOSTILE]
    assert {s: first["students"][s]["status"] for s in students} == dict.fromkeys(students, "graded")
    assert first["scores"]["sample-correct"] == 13
    assert first["scores"]["sample-blank"] == 0


def test_one_failure_does_not_stop_the_batch(runs):
    first = runs["first"]
    failed = first["students"][UNGRADABLE]
    assert failed["status"] == "failed" and failed["exit_code"] != 0
    assert (runs["course"] / failed["log"]).is_file()
    assert first["exit_code"] == 1
    assert f"failed: {UNGRADABLE!r}" in first["output"] and failed["log"] in first["output"]


def test_renamed_notebook_is_graded_under_its_expected_name(runs):
    first = runs["first"]
    assert first["scores"][RENAMED] == 13
    note = f"notebook was submitted as my_work.ipynb; graded as {CHAPTER}.ipynb"
    assert first["students"][RENAMED]["notes"] == [note]


def test_missing_notebook_scores_zero_with_a_note(runs):
    first = runs["first"]
    assert first["scores"][MISSING] == 0
    assert first["students"][MISSING]["notes"][0].startswith("no notebook submitted")


def test_submissions_are_left_unchanged(runs):
    assert file_digests(runs["course"] / SUBMITTED) == runs["submitted"]


def test_grades_csv_has_a_row_per_student(runs):
    with open(runs["course"] / "autograde" / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["student_id"] for row in rows) == sorted(runs["first"]["students"])
    assert {row["student_id"]: float(row["score"]) for row in rows}[RENAMED] == 13


def test_second_run_skips_everyone_graded(runs):
    second = runs["second"]
    statuses = {student: entry["status"] for student, entry in second["students"].items()}
    assert statuses.pop(UNGRADABLE) == "failed"
    assert set(statuses.values()) == {"skipped"}
    assert second["students"][RENAMED]["notes"] == runs["first"]["students"][RENAMED]["notes"]
    assert second["seconds"] < runs["first"]["seconds"] / 2
    assert second["scores"] == runs["first"]["scores"]


def test_forced_run_regrades_with_identical_scores(runs):
    forced = runs["forced"]
    statuses = {student: entry["status"] for student, entry in forced["students"].items()}
    assert statuses.pop(UNGRADABLE) == "failed"
    assert set(statuses.values()) == {"graded"}
    assert forced["scores"] == runs["first"]["scores"]


def test_report_is_self_contained_and_escapes_student_text(runs):
    html = (runs["course"] / REPORTS / "report.html").read_text()
    assert html.count('<img src="data:image/png;base64,') >= 3
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert "x&lt;script&gt;" in html and "<script" not in html
    assert "notebook was submitted as my_work.ipynb" in html
    assert "failed (exit code 1)" in html


def test_report_survives_students_without_report_or_submission(runs, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(runs["course"] / "autograde", course / "autograde")
    shutil.rmtree(course / REPORTS / "sample-correct")
    url = f"sqlite:///{course}/autograde/gradebook.db"
    with Gradebook(url, "pretty-neural-networks") as gradebook:
        gradebook.update_or_create_student("never-submitted")
    html = class_report.write_report(course, CHAPTER, url, "pretty-neural-networks").read_text()
    assert "never-submitted</td><td></td><td class=\"number\">no submission" in html


def test_unknown_assignment_is_a_clear_error(runs, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--root", str(runs["course"]), "grade", CHAPTER, "99_unknown"])
    assert stopped.value.code == 2
    assert "grade: no chapter '99_unknown'; chapters: 01_linear, 02_dropout" in capsys.readouterr().err


def test_grade_needs_chapters_or_all(root, capsys):
    for arguments in ([], [CHAPTER, "--all"]):
        with pytest.raises(SystemExit) as stopped:
            main(["--root", str(root), "grade", *arguments])
        assert stopped.value.code == 2
        assert "name one or more chapters, or give --all" in capsys.readouterr().err


def fake_batch(course: Path, failed: bool) -> batch.Batch:
    """What ``autograde_class`` returns, with one student graded or failed."""
    student = batch.StudentResult("someone", "failed" if failed else "graded")
    paths = [course / "autograde" / name for name in ("grades.csv", "export.log", "report.html", "batch.json")]
    return batch.Batch([student], 0.1, *paths)


def test_several_chapters_are_graded_in_turn_and_one_that_cannot_start_stops_no_other(root, tmp_path, monkeypatch,
                                                                                       capsys):
    course = copy_course(root, tmp_path)
    graded = []

    def autograde_class(course_root, name, workers, force, grade_pending):
        graded.append(name)
        if name == "02_dropout":
            raise batch.GradingError("no submission of 02_dropout")
        return fake_batch(course_root, failed=name == "05_pooling")

    monkeypatch.setattr(batch, "autograde_class", autograde_class)
    assert main(["--root", str(course), "grade", "03_normalization", "02_dropout", "01_linear"]) == 2
    assert graded == ["03_normalization", "02_dropout", "01_linear"]
    out, err = capsys.readouterr()
    assert out.startswith("03_normalization:\n1 students") and "\n01_linear:\n1 students" in out
    assert "prettynn-course grade: error: no submission of 02_dropout" in err
    assert main(["--root", str(course), "grade", "05_pooling", "01_linear"]) == 1, "a failed student: exit 1"


def test_all_is_every_chapter_with_a_submission(root, tmp_path, monkeypatch, capsys):
    course = copy_course(root, tmp_path)
    for folder in (course / "autograde/submitted").glob("*/04_convolution"):
        shutil.rmtree(folder)
    graded = []
    monkeypatch.setattr(batch, "autograde_class", lambda course_root, name, *_: graded.append(name)
                        or fake_batch(course_root, failed=False))
    assert main(["--root", str(course), "grade", "--all"]) == 0
    assert graded == ["01_linear", "02_dropout", "03_normalization", "05_pooling", "06_cnn"]
    shutil.rmtree(course / "autograde/submitted")
    with pytest.raises(SystemExit) as stopped:
        main(["--root", str(course), "grade", "--all"])
    assert stopped.value.code == 2 and "no chapter has a submission" in capsys.readouterr().err


def test_locked_database_is_retried_once(root, tmp_path, monkeypatch):
    course = copy_course(root, tmp_path / "course")
    exit_codes = iter([1, 0])

    def fake_nbgrader(course_root, arguments, log, append=False):
        with open(log, "a" if append else "w") as output:
            output.write("sqlite3.OperationalError: database is locked\n" if not append else "graded\n")
        return next(exit_codes)

    monkeypatch.setattr(batch, "run_nbgrader", fake_nbgrader)
    assignment = batch.load_assignment(course, CHAPTER)
    result = batch.autograde_student(assignment, "sample-correct", False, "digest")
    assert (result.status, result.exit_code) == ("graded", 0)
    assert result.notes == ["nbgrader was retried once after 'database is locked'"]
    assert json.loads((course / REPORTS / "sample-correct" / "done.json").read_text())["fingerprint"] == "digest"


def test_a_student_a_shard_did_not_grade_is_graded_alone(root, tmp_path, monkeypatch):
    course = copy_course(root, tmp_path / "course")
    assignment = batch.load_assignment(course, CHAPTER)
    shard = ["sample-blank", "sample-correct", "sample-alternative"]
    calls = []

    def fake_nbgrader(course_root, arguments, log, append=False):
        """Grade everyone but sample-correct in the shard run; grade it when run alone."""
        calls.append(arguments)
        log.write_text("log\n")
        graded = [s for s in shard if s != "sample-correct"] if "--student=*" in arguments else ["sample-correct"]
        for student in graded:
            notebook = course / "autograde" / "autograded" / student / CHAPTER / f"{CHAPTER}.ipynb"
            notebook.parent.mkdir(parents=True, exist_ok=True)
            notebook.write_text("{}")
        return 0 if len(graded) > 1 or "--student=*" not in arguments else 1

    monkeypatch.setattr(batch, "run_nbgrader", fake_nbgrader)
    results = batch.autograde_shard(assignment, shard, shard + ["someone-else"], False, dict.fromkeys(shard, "d"))
    assert [(o.student, o.status) for o in results] == [(s, "graded") for s in shard]
    assert calls[0][2] == "--student=*" and calls[0][3].endswith("=someone-else")
    assert calls[1][2] == "--student=sample-correct"
    assert len(calls) == 2


@pytest.mark.parametrize("count, workers", [(1, 4), (5, 2), (42, 1), (42, 2), (100, 3), (500, 2)])
def test_shards_balance_the_workers(count, workers):
    students = [f"s{i}" for i in range(count)]
    parts = batch.shards(students, workers)
    sizes = [len(part) for part in parts]
    assert sum(parts, []) == students
    assert max(sizes) <= batch.MAX_SHARD and max(sizes) - min(sizes) <= 1
    assert len(parts) % workers == 0 or count < workers
