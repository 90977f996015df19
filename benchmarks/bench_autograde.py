"""Time nbgrader's autograde of one 01_linear notebook, of the blank release, and each visible check.

Usage (from the repository root, after `make setup`):

    .venv/bin/python benchmarks/bench_autograde.py [--repeat 3]

Autograde times are wall-clock seconds of `nbgrader autograde 01_linear --student=ID`
in a temporary copy of the course; the blank release measures nbgrader's fixed overhead
(kernel start, sanitising, saving grades). Visible checks run in this process with the
reference solutions: the first call (importing torch) and the median of later calls.
Results are printed and saved to benchmarks/results/autograde.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import save  # noqa: E402
from tests.course import copy_course, nbgrader  # noqa: E402

CHAPTER = "01_linear"
STUDENTS = {"complete, correct notebook": "sample-correct", "blank release (fixed overhead)": "sample-blank"}


def time_autograde(course: Path, student: str, repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` autogrades of one student's notebook."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        nbgrader(course, "autograde", CHAPTER, f"--student={student}", "--force")
        times.append(time.perf_counter() - start)
    return times


def time_checks(repeat: int) -> dict:
    """Per exercise: seconds of the first visible check (in a fresh process) and the median of later ones."""
    results = {}
    for name in ("linear", "linear_backward", "relu", "relu_backward", "cross_entropy", "cross_entropy_backward"):
        script = (
            "import time, json, sys; sys.path.insert(0, %r)\n"
            "from tests.conftest import instructor_functions\n"
            "from prettynn.checks import check\n"
            "import contextlib, io\n"
            "fn = instructor_functions(%r)[%r]\n"
            "times = []\n"
            "for _ in range(%d):\n"
            "    start = time.perf_counter()\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        check(%r, fn)\n"
            "    times.append(time.perf_counter() - start)\n"
            "print(json.dumps(times))\n"
        ) % (str(ROOT), CHAPTER, name, repeat + 1, name)
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        times = json.loads(done.stdout)
        results[name] = {"first_s": times[0], "median_later_s": statistics.median(times[1:])}
    return results


def main() -> None:
    """Run the measurements, print a table, save JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    report = {"autograde": {}, "visible_checks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        course = copy_course(ROOT, Path(tmp))
        nbgrader(course, "generate_assignment", CHAPTER, "--force")
        for label, student in STUDENTS.items():
            times = time_autograde(course, student, args.repeat)
            report["autograde"][label] = {"median_s": statistics.median(times), "runs_s": times}
            print(f"autograde, {label:32s} median {statistics.median(times):6.2f} s  runs {[round(t, 2) for t in times]}")
    report["visible_checks"] = time_checks(args.repeat * 3)
    for name, figures in report["visible_checks"].items():
        print(f"visible check {name:24s} first {figures['first_s']:.3f} s, later median {figures['median_later_s']:.4f} s")
    save("autograde", report)


if __name__ == "__main__":
    main()
