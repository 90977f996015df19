"""The cost of protected grading, and its throughput at class scale.

Usage (from the repository root, after `make setup`):

    .venv/bin/python benchmarks/bench_protected.py [--copies 7] [--repeat 2]

Three figures, all in one run on the same submissions (the sample submissions of
autograde/submitted, each handed in ``--copies`` times under new student ids):

1. per-notebook autograde time with the course's configuration (sandboxed solution
   cells, no kernel) vs plain nbgrader's ``Execute`` (the whole notebook in a kernel):
   one ``nbgrader autograde 01_linear`` over every submission with each configuration;
2. batch throughput of ``prettynn-course grade`` with 2 workers vs 1;
3. the time 100 students x 5 chapters would take on this machine with 2 workers,
   extrapolated from (2) (5 chapters assumed to cost what chapter 01 costs).

Results are printed and saved to benchmarks/results/protected.json.
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
from tests.course import PLAIN_CONFIG, copy_course, environment, nbgrader  # noqa: E402

CHAPTER = "01_linear"
SUBMITTED = Path("autograde/submitted")


def hand_in_copies(course: Path, copies: int) -> int:
    """Give every sample ``copies`` - 1 twins under new student ids; return the number of submissions."""
    originals = sorted(p for p in (course / SUBMITTED).iterdir() if p.is_dir())
    for copy in range(1, copies):
        for original in originals:
            shutil.copytree(original, course / SUBMITTED / f"{original.name}-{copy}")
    return len(originals) * copies


def prepared_course(folder: Path, copies: int, plain: bool = False) -> tuple[Path, int]:
    """A course copy with the release generated and the submissions in place."""
    course = copy_course(ROOT, folder)
    if plain:
        with open(course / "nbgrader_config.py", "a") as config:
            config.write(PLAIN_CONFIG)
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    return course, hand_in_copies(course, copies)


def reset_grades(course: Path) -> None:
    """Forget earlier autograding so that the next run grades everything again."""
    for name in ("autograde/autograded", "autograde/reports"):
        shutil.rmtree(course / name, ignore_errors=True)


def timed(command: list[str], course: Path) -> float:
    """Wall-clock seconds of ``command`` run in ``course`` (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, cwd=course, env=environment(), check=True, capture_output=True)
    return time.perf_counter() - start


def per_notebook(course: Path, count: int, repeat: int) -> dict:
    """Seconds per notebook of one ``nbgrader autograde`` over all ``count`` submissions."""
    runs = []
    for _ in range(repeat):
        reset_grades(course)
        runs.append(timed([str(Path(sys.executable).parent / "nbgrader"), "autograde", CHAPTER], course) / count)
    return {"median_s_per_notebook": statistics.median(runs), "runs_s_per_notebook": runs}


def batch(course: Path, count: int, workers: int) -> dict:
    """Wall-clock seconds and throughput of ``prettynn-course grade`` with ``workers`` workers."""
    reset_grades(course)
    command = [str(Path(sys.executable).parent / "prettynn-course"), "grade", CHAPTER, "--workers", str(workers), "--force"]
    seconds = timed(command, course)
    return {"workers": workers, "seconds": seconds, "notebooks_per_minute": 60 * count / seconds}


def main() -> None:
    """Run the three measurements, print them, save JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=7, help="times each sample is handed in (6 samples each)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each per-notebook measurement")
    args = parser.parse_args()
    report = {"cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        protected, count = prepared_course(Path(tmp) / "protected", args.copies)
        plain, _ = prepared_course(Path(tmp) / "plain", args.copies, plain=True)
        report["submissions"] = count
        ours = per_notebook(protected, count, args.repeat)
        theirs = per_notebook(plain, count, args.repeat)
        ratio = ours["median_s_per_notebook"] / theirs["median_s_per_notebook"]
        report["per_notebook"] = {"protected": ours, "plain_execute": theirs, "ratio": ratio}
        print(f"{count} submissions; per notebook: protected {ours['median_s_per_notebook']:.2f} s, "
              f"plain Execute {theirs['median_s_per_notebook']:.2f} s, ratio {ratio:.2f} (target <= 1.5)")
        one, two = batch(protected, count, 1), batch(protected, count, 2)
        speedup = one["seconds"] / two["seconds"]
        report["batch"] = {"one_worker": one, "two_workers": two, "speedup": speedup}
        print(f"batch of {count}: 1 worker {one['seconds']:.1f} s, 2 workers {two['seconds']:.1f} s, "
              f"speed-up {speedup:.2f} (target >= 1.7)")
        class_minutes = 100 * 5 * two["seconds"] / count / 60
        report["extrapolated_100_students_5_chapters_minutes"] = class_minutes
        print(f"100 students x 5 chapters with 2 workers: {class_minutes:.1f} min (target <= 30)")
    save("protected", report)


if __name__ == "__main__":
    main()
