"""Time chapter 04's reference conv2d and conv2d_backward against torch, and the grading of loops vs vectorised code.

Usage (from the repository root, after `make setup`):

    .venv/bin/python benchmarks/bench_conv.py [--repeat 5]

1. Speed: the instructor's NumPy solutions (solutions/04_convolution, defined with the
   functions they use, as the grader does) and torch's F.conv2d / autograd, in float64 on
   one layer: N = 32 images of 32 x 32, 16 -> 32 channels, a 3 x 3 kernel, padding 1.
   Median wall-clock seconds of ``--repeat`` calls after one warm-up call.
2. Grading: the sandbox's wall-clock seconds (``run_solution``, without bubblewrap) for
   each exercise's visible and hidden cases, for the reference solutions (vectorised) and
   for the plain-loop solutions of the ``sample-alternative`` submission
   (autograde/samples/04_convolution.toml), against the limits of 5 s per call and 60 s
   per exercise.

Results are printed and saved to benchmarks/results/conv.json and conv.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import save  # noqa: E402
from prettynn.course.references import instructor_functions, reference_sources, supplied_for  # noqa: E402
from prettynn.model import get  # noqa: E402
from prettynn.judging import Verdict, judge  # noqa: E402
from prettynn.sandbox.runner import Limits, run_solution  # noqa: E402

CHAPTER = "04_convolution"
EXERCISES = ("corr2d", "conv2d_output_size", "conv2d", "conv2d_backward")
SHAPE = {"N": 32, "C_in": 16, "C_out": 32, "H": 32, "W": 32, "kernel": 3, "padding": 1}


def reference_functions() -> dict:
    """The instructor's solutions of the chapter, by name, defined as the grader defines them."""
    return instructor_functions(ROOT, EXERCISES)


def loop_sources() -> dict:
    """The plain-loop solutions of the ``sample-alternative`` submission, by name."""
    spec = tomllib.loads((ROOT / "autograde" / "samples" / f"{CHAPTER}.toml").read_text())
    return next(entry["replace"] for entry in spec["sample"] if entry["student"] == "sample-alternative")


def median_seconds(function, repeat: int) -> float:
    """Median wall-clock seconds of ``repeat`` calls of ``function()``, after one warm-up call."""
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_layer(repeat: int) -> dict:
    """Seconds of the reference NumPy forward and backward and of torch's, on the SHAPE layer."""
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    n, c_in, c_out, h, w, k, p = (SHAPE[key] for key in ("N", "C_in", "C_out", "H", "W", "kernel", "padding"))
    x, weight, bias = rng.normal(size=(n, c_in, h, w)), rng.normal(size=(c_out, c_in, k, k)), rng.normal(size=c_out)
    grad_output = rng.normal(size=(n, c_out, h + 2 * p - k + 1, w + 2 * p - k + 1))
    ours = reference_functions()
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    out = F.conv2d(xt, wt, bt, padding=p)
    gt = torch.tensor(grad_output)
    times = {
        "forward, NumPy reference": median_seconds(lambda: ours["conv2d"](x, weight, bias, padding=p), repeat),
        "forward, torch": median_seconds(lambda: F.conv2d(xt, wt, bt, padding=p), repeat),
        "backward, NumPy reference": median_seconds(
            lambda: ours["conv2d_backward"](grad_output, x, weight, bias, padding=p), repeat),
        "backward, torch autograd": median_seconds(
            lambda: torch.autograd.grad(out, (xt, wt, bt), gt, retain_graph=True), repeat),
    }
    return {name: round(seconds * 1e3, 2) for name, seconds in times.items()}


def time_grading() -> dict:
    """Per exercise and solution: cases, sandbox seconds, cases passed, and any problem."""
    references, loops = reference_sources(ROOT, CHAPTER), loop_sources()
    results = {}
    for name in EXERCISES:
        exercise = get(name)
        cases = exercise.visible_cases() + exercise.hidden_cases(np.random.default_rng(1))
        for label, source in (("vectorised", references[name]), ("loops", loops[name])):
            run = run_solution(source, name, cases, Limits(), bubblewrap=False,
                               supplied=supplied_for(ROOT, exercise), uses=exercise.uses)
            passed = Verdict.of(exercise, [judge(exercise, c, o) for c, o in zip(cases, run.outcomes)]).passed
            results[f"{name}, {label}"] = {"cases": len(cases), "seconds": round(run.seconds, 2),
                                           "passed": passed, "problem": run.problem}
    return results


def markdown(layer: dict, grading: dict, repeat: int) -> str:
    """The figures as a Markdown page."""
    shape = ", ".join(f"{key} = {value}" for key, value in SHAPE.items())
    lines = ["# Convolution benchmark (chapter 04)", "",
             "Generated by `.venv/bin/python benchmarks/bench_conv.py`; do not edit.", "",
             f"## One layer, float64 ({shape}); median of {repeat} calls", "",
             "| computation | ms |", "|---|---:|"]
    lines += [f"| {name} | {ms:.1f} |" for name, ms in layer.items()]
    lines += ["", "## Grading time in the sandbox (visible + hidden cases; limits 5 s per call, 60 s per exercise)",
              "", "| exercise, solution | cases | passed | seconds |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {r['cases']} | {r['passed']} | {r['seconds']:.2f} |" for name, r in grading.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="calls per timing (median)")
    args = parser.parse_args()
    layer = time_layer(args.repeat)
    for name, ms in layer.items():
        print(f"{name:<28} {ms:9.1f} ms")
    grading = time_grading()
    for name, result in grading.items():
        print(f"grading {name:<32} {result['cases']:3d} cases, {result['passed']:3d} passed, "
              f"{result['seconds']:6.2f} s {result['problem']}")
    save("conv", {"shape": SHAPE, "repeat": args.repeat, "layer_ms": layer, "grading": grading})
    out = ROOT / "benchmarks" / "results" / "conv.md"
    out.write_text(markdown(layer, grading, args.repeat))
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
