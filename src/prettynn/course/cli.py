"""``prettynn-course``: the course's own steps around nbgrader and Jupyter Book."""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import sys
from pathlib import Path

from . import (batch, book_pages, cluster, exercise_cells, notebooks, record, release, samples, strength,
               strength_report)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand from the course root (the current directory by default)."""
    parser = argparse.ArgumentParser(prog="prettynn-course", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course directory")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sync", help="make each exercise's grading cells in solutions/ and the points table "
                        "of book/instructors.md from the exercise declarations")
    pages = commands.add_parser("book-pages", help="make book/chapters/*.ipynb from solutions/")
    pages.add_argument("--edition", choices=book_pages.EDITIONS, default="course",
                       help="course: the student's stub where each solution is (the default); "
                            "self-study: the solutions, folded")
    commands.add_parser("samples", help="make autograde/submitted/* from autograde/samples/*.toml")
    released = commands.add_parser("release", help="regenerate the student release of an assignment with nbgrader, "
                                   "unless its folder holds a student's work")
    released.add_argument("assignment", help="the assignment id, e.g. 01_linear")
    released.add_argument("--discard-work", action="store_true",
                          help="regenerate even when the release folder holds work (it is deleted)")
    grade = commands.add_parser("grade", help="autograde every submission of an assignment in parallel, "
                                "export grades.csv and write the class report")
    grade.add_argument("assignments", nargs="*", metavar="assignment",
                       help="the assignment id, e.g. 01_linear; several are graded one after another (on one "
                            "cluster, started once)")
    grade.add_argument("--all", action="store_true", help="every chapter that has a submission")
    where = grade.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive, default=os.cpu_count() or 1,
                       help="students graded at the same time by nbgrader processes on this machine "
                            "(default: the number of CPUs)")
    where.add_argument("--cluster", metavar="local:N", type=local_cluster,
                       help="grade each student as a job on a Dask cluster of N worker processes started here")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", type=scheduler_address,
                       help="grade each student as a job on the Dask cluster of this scheduler (its workers need "
                            "the course's package and bubblewrap)")
    grade.add_argument("--allow-unsandboxed", action="store_true",
                       help="with --cluster or --scheduler: let a worker without bubblewrap grade with the audit "
                            "hook only (it refuses by default)")
    grade.add_argument("--force", action="store_true", help="regrade students whose submission has not changed")
    strong = commands.add_parser("strength", help="mutation testing of the instructor's solutions: how many mutants "
                                 "the visible check and the hidden tests kill; writes autograde/reports/CHAPTER/"
                                 "strength.html and .json and the chapter's rows of book/instructors.md's table")
    strong.add_argument("assignment", nargs="?", help="the assignment id, e.g. 01_linear")
    strong.add_argument("--all", action="store_true", help="every chapter (and the whole table)")
    args = parser.parse_args(argv)
    if not (args.root / "nbgrader_config.py").is_file():
        parser.error(f"{args.root} is not the course directory (no nbgrader_config.py); run from the repository root")
    if args.command == "grade":
        return grade_assignment(parser, args)
    if args.command == "strength":
        return measure_strength(parser, args)
    if args.command == "release":
        try:
            release.release(args.root, args.assignment, args.discard_work)
        except release.ReleaseError as error:
            parser.exit(2, f"prettynn-course release: error: {error}\n")
        return 0
    if args.command == "sync":
        try:
            written = exercise_cells.write(args.root)
        except exercise_cells.AuthoringError as error:
            parser.exit(2, f"prettynn-course sync: error: {error}\n")
    elif args.command == "book-pages":
        written = book_pages.write_pages(args.root, args.edition)
    else:
        try:
            written = samples.write_samples(args.root)
        except (FileNotFoundError, ValueError) as error:
            parser.exit(2, f"prettynn-course samples: error: {error}\n")
    for path in written:
        print(f"wrote {path.relative_to(args.root)}")
    return 0


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def local_cluster(text: str) -> str:
    """An argparse type: ``local:N`` with N at least 1."""
    try:
        if cluster.local_workers(text) is not None:
            return text
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    raise argparse.ArgumentTypeError(f"{text!r} is not local:N (N worker processes); "
                                     "a cluster of your own is --scheduler tcp://HOST:PORT")


def scheduler_address(text: str) -> str:
    """An argparse type: a scheduler's address, ``PROTOCOL://HOST:PORT``."""
    if not re.fullmatch(r"[a-z]+://\S+:\d+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a scheduler's address such as tcp://HOST:8786")
    return text


def grade_assignment(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run ``grade`` on each chapter named (locally, or as jobs on one Dask cluster): print each
    summary; exit 2 when grading could not start (for any chapter), else 1 when a student or an
    export failed."""
    root = args.root.resolve()
    target = args.cluster or args.scheduler
    if args.allow_unsandboxed and not target:
        parser.error("grade: --allow-unsandboxed goes with --cluster or --scheduler")
    chapters = chapters_to_grade(parser, root, args.assignments, args.all)
    exit_codes = []
    try:
        with contextlib.ExitStack() as stack:
            grade_pending = None
            if target:
                client = stack.enter_context(cluster.connect(target))
                runner = cluster.dask_runner(client, args.allow_unsandboxed)
                grade_pending = functools.partial(record.grade_as_jobs, runner=runner)
            for chapter in chapters:
                exit_codes.append(grade_chapter(root, chapter, args, grade_pending, titled=len(chapters) > 1))
    except cluster.SchedulerUnreachable as error:
        parser.exit(2, f"prettynn-course grade: error: {error}\n")
    except KeyboardInterrupt:
        print("prettynn-course grade: interrupted; students graded so far are kept, run again to resume",
              file=sys.stderr)
        return 130
    return max(exit_codes)


def chapters_to_grade(parser: argparse.ArgumentParser, root: Path, named: list[str], every: bool) -> list[str]:
    """The chapters ``grade`` was given, each known, in the order given; with ``--all``, every
    chapter that has a submission."""
    known = notebooks.chapters(root)
    if every == bool(named):
        parser.error("grade: name one or more chapters, or give --all")
    unknown = [chapter for chapter in named if chapter not in known]
    if unknown:
        parser.error(f"grade: no chapter {', '.join(map(repr, unknown))}; chapters: {', '.join(known)}")
    if named:
        return list(dict.fromkeys(named))
    submitted = [chapter for chapter in known if batch.has_submissions(root, chapter)]
    if not submitted:
        parser.exit(2, "prettynn-course grade: error: no chapter has a submission under autograde/submitted\n")
    return submitted


def grade_chapter(root: Path, chapter: str, args: argparse.Namespace, grade_pending, titled: bool) -> int:
    """Grade one chapter and print its summary (under its name when ``titled``); its exit code."""
    if titled:
        print(f"{chapter}:")
    try:
        result = batch.autograde_class(root, chapter, args.workers, args.force, grade_pending)
    except batch.GradingError as error:
        print(f"prettynn-course grade: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(batch.summary_lines(result, root)))
    return 1 if result.grades_csv is None or any(o.status == "failed" for o in result.results) else 0


def measure_strength(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run ``strength``: print each chapter's summary and write its reports and table rows; exit 1 when an
    exercise misses a goal (the hidden tests kill fewer than 95 % of the counted mutants, the check fewer
    than half)."""
    known = notebooks.chapters(args.root)
    if args.all == bool(args.assignment):
        parser.error("strength: name one chapter or give --all")
    if args.assignment and args.assignment not in known:
        parser.error(f"strength: no chapter {args.assignment!r}; chapters: {', '.join(known)}")
    results = []
    try:
        for chapter in known if args.all else [args.assignment]:
            chapter_results = strength.chapter_strength(args.root, chapter)
            print(f"{chapter}:")
            print("\n".join(f"  {line}" for line in strength_report.summary_lines(chapter_results)))
            for path in strength_report.write_reports(args.root, chapter, chapter_results):
                print(f"wrote {path.relative_to(args.root)}")
            results += chapter_results
    except strength.StrengthError as error:
        parser.exit(2, f"prettynn-course strength: error: {error}\n")
    for path in strength_report.write_table(args.root, results):
        print(f"wrote {path.relative_to(args.root)}")
    return 0 if all(strength.meets_goals(result) for result in results) else 1
