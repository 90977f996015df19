"""Grading a class: seconds per notebook of the ways to grade, in one run, on this machine.

Usage (from the repository root, after `make setup sandbox`):

    .venv/bin/python benchmarks/bench_batch.py [--sizes 24 200] [--workers 2] [--ways local dask dask-all plain]

For each of two class sizes, the sample submissions are copied under new ids until there are
that many submissions, spread evenly over every chapter (each chapter's samples in turn). Each
way grades them in a fresh copy of the course, chapter by chapter, as an instructor would run it:

- local:  ``prettynn-course grade CHAPTER --workers W`` (shards of ``nbgrader autograde``);
- dask:   ``prettynn-course grade CHAPTER --cluster local:W`` (each student a job on Dask);
- plain:  ``nbgrader autograde CHAPTER`` (nbgrader's own loop, one process, the course's config;
  more cores do not make it faster);
- dask-all: ``prettynn-course grade --all --cluster local:W`` (every chapter in one command, on one
  cluster, started once).

Every way must give the same grades.csv. The two sizes give each way's fixed cost (start-up,
recording the assignment, export, class report) and its cost per notebook, which extrapolate to
a class of 100 (and 1,000) students x 6 chapters here, and on a 64-core node: the cost per
notebook per core divided by 64, but for jobs never less than the coordinator's time to record
each result (measured first, in this process). Printed and saved to
benchmarks/results/batch.json and batch.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import save  # noqa: E402
from prettynn.course import notebooks  # noqa: E402
from tests.course import copy_course, environment  # noqa: E402

SUBMITTED = Path("autograde/submitted")
BIN = Path(sys.executable).parent
GOAL_SECONDS = 600
WAYS = ("local", "dask", "dask-all", "plain")


def class_of(course: Path, students: int) -> dict[str, list[str]]:
    """Replace the course's submissions by ``students`` copies of the samples, spread over the
    chapters; return each chapter's students."""
    chapters = notebooks.chapters(course)
    samples = {chapter: sorted(p.parent.name for p in (course / SUBMITTED).glob(f"sample-*/{chapter}"))
               for chapter in chapters}
    staged = Path(tempfile.mkdtemp(prefix="bench-class-", dir=course))
    roster: dict[str, list[str]] = {chapter: [] for chapter in chapters}
    for index in range(students):
        chapter = chapters[index % len(chapters)]
        sample = samples[chapter][(index // len(chapters)) % len(samples[chapter])]
        student = f"bench-{index:04d}"
        shutil.copytree(course / SUBMITTED / sample / chapter, staged / student / chapter)
        roster[chapter].append(student)
    shutil.rmtree(course / SUBMITTED)
    staged.rename(course / SUBMITTED)
    return roster


def commands(way: str, chapter: str, workers: int, course: Path) -> list[list[str]]:
    """The command lines of one way of grading one chapter (plain nbgrader records the assignment
    first, with a release folder of its own, as the other ways do)."""
    if way == "local":
        return [[str(BIN / "prettynn-course"), "grade", chapter, "--workers", str(workers)]]
    if way == "dask":
        return [[str(BIN / "prettynn-course"), "grade", chapter, "--cluster", f"local:{workers}"]]
    if way == "dask-all":
        return [[str(BIN / "prettynn-course"), "grade", "--all", "--cluster", f"local:{workers}"]]
    return [[str(BIN / "nbgrader"), "generate_assignment", chapter,
             f"--CourseDirectory.release_directory={course}/bench-release"],
            [str(BIN / "nbgrader"), "autograde", chapter]]


def grade_class(way: str, course: Path, chapters: list[str], workers: int) -> dict[str, float]:
    """Seconds each chapter (for dask-all, the one command) took to grade ``way``; exits when a run fails."""
    seconds = {}
    for chapter in ["every chapter"] if way == "dask-all" else chapters:
        started = time.perf_counter()
        for line in commands(way, chapter, workers, course):
            done = subprocess.run(line, cwd=course, env=environment(), capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL)
            if done.returncode != 0:
                sys.exit(f"{' '.join(line)} exited {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}")
        seconds[chapter] = round(time.perf_counter() - started, 2)
        print(f"  {way:8s} {chapter:18s} {seconds[chapter]:7.1f} s", flush=True)
    if way == "plain":
        subprocess.run([str(BIN / "nbgrader"), "export", "--to=autograde/grades.csv"], cwd=course,
                       env=environment(), check=True, capture_output=True)
    return seconds


def fit(seconds: dict[int, float]) -> tuple[float, float]:
    """(fixed seconds of a class, seconds per notebook) from the runs of two class sizes."""
    (small, small_seconds), (large, large_seconds) = sorted(seconds.items())
    per_notebook = (large_seconds - small_seconds) / (large - small)
    return small_seconds - small * per_notebook, per_notebook


def coordinator_seconds(repeat: int) -> float:
    """Median seconds the coordinator takes to record one job's result (gradebook, graded folder,
    reports): the most students per second any number of workers can deliver."""
    from prettynn.course import batch, record

    with tempfile.TemporaryDirectory(prefix="bench-record-") as scratch:
        course = copy_course(ROOT, Path(scratch))
        assignment = batch.load_assignment(course, "01_linear")
        batch.prepare_gradebook(assignment, [])
        submissions = [record.submission_of(assignment, student) for student in batch.submitted_students(assignment)]
        jobs = list(record.grade_in_this_process(record.course_bundle(assignment), submissions))
        times = []
        for _ in range(repeat):
            for submission, result in jobs:
                started = time.perf_counter()
                record.record_result(assignment, submission, result)
                times.append(time.perf_counter() - started)
    return statistics.median(times)


def extrapolate(fixed: float, per_notebook: float, workers: int, record_seconds: float | None) -> dict[str, float]:
    """Minutes for classes of 1,000 and 100 students x 6 chapters, here and on 64 cores (where the
    coordinator's recording, for jobs, may be the limit; one process, ``workers`` = 1, gains nothing)."""
    on_64 = 6000 * per_notebook * workers / (64 if workers > 1 else 1)
    if record_seconds is not None:
        on_64 = max(on_64, 6000 * record_seconds)
    return {"1000x6, here (min)": round((fixed + 6000 * per_notebook) / 60, 1),
            "100x6, here (min)": round((fixed + 600 * per_notebook) / 60, 1),
            "1000x6, 64 cores (min)": round((fixed + on_64) / 60, 1)}


def table(report: dict) -> str:
    """The results as a Markdown table."""
    sizes = report["sizes"]
    lines = [f"# Grading a class on {report['workers']} workers ({report['cores']} cores)", "",
             f"`{report['command']}` (one run; every way gave the same grades.csv: "
             f"{report['same_grades']}). The coordinator records one job's result in "
             f"{report['record_seconds']:.3f} s (median).", "",
             "| way | " + " | ".join(f"{size} students (s)" for size in sizes)
             + " | fixed (s) | s per notebook | 100x6 here (min) | 1000x6 here (min) | 1000x6 on 64 cores (min) |",
             "|---|" + "---|" * (len(sizes) + 5)]
    for way, figures in report["ways"].items():
        guess = figures["extrapolated"]
        lines.append(f"| {way} | " + " | ".join(f"{figures['seconds'][str(size)]:.0f}" for size in sizes)
                     + f" | {figures['fixed']:.0f} | {figures['per_notebook']:.2f} | {guess['100x6, here (min)']} | "
                       f"{guess['1000x6, here (min)']} | {guess['1000x6, 64 cores (min)']} |")
    lines += ["", "Extrapolated: fixed + notebooks x seconds per notebook. On 64 cores: seconds per notebook x workers / 64; "
              "for the dask ways never less than the coordinator's recording, for plain no faster (one process), "
              "for local "
              "assuming 64 nbgrader processes never wait on the one SQLite gradebook's lock (not measured)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Grade the class each way at two sizes, compare the grades, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[24, 200])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ways", nargs="+", default=list(WAYS), choices=WAYS)
    args = parser.parse_args()
    report = {"command": " ".join([".venv/bin/python benchmarks/bench_batch.py", *sys.argv[1:]]),
              "sizes": sorted(args.sizes), "workers": args.workers, "cores": os.cpu_count(), "ways": {}}
    report["record_seconds"] = round(coordinator_seconds(repeat=5), 4)
    print(f"coordinator: {report['record_seconds']:.3f} s to record one result", flush=True)
    grades = {}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as scratch:
        for way in args.ways:
            seconds = {}
            for size in report["sizes"]:
                course = copy_course(ROOT, Path(scratch) / f"{way}-{size}")
                roster = class_of(course, size)
                per_chapter = grade_class(way, course, [chapter for chapter in roster if roster[chapter]],
                                          args.workers)
                seconds[size] = round(sum(per_chapter.values()), 1)
                grades[(way, size)] = (course / "autograde/grades.csv").read_text()
            fixed, per_notebook = fit(seconds)
            report["ways"][way] = {
                "seconds": {str(size): value for size, value in seconds.items()}, "fixed": round(fixed, 1),
                "per_notebook": round(per_notebook, 3),
                "extrapolated": extrapolate(fixed, per_notebook, 1 if way == "plain" else args.workers,
                                            report["record_seconds"] if way.startswith("dask") else None)}
    report["same_grades"] = all(len({grades[(way, size)] for way in args.ways}) == 1 for size in report["sizes"])
    for way, figures in report["ways"].items():
        print(f"{way:8s} {figures['seconds']} s: fixed {figures['fixed']} s + {figures['per_notebook']:.2f} s per "
              f"notebook; extrapolated {figures['extrapolated']}")
    print(f"same grades.csv every way: {report['same_grades']}")
    save("batch", report)
    (ROOT / "benchmarks/results/batch.md").write_text(table(report))


if __name__ == "__main__":
    main()
