"""Time the reference conv2d, conv2d_backward and max_pool2d(_backward) against torch; time the grading in the sandbox.

Usage (from the repository root, after `make setup`):

    .venv/bin/python benchmarks/bench_conv.py [--repeat 15]
    .venv/bin/python benchmarks/bench_conv.py --profile

1. Speed: the instructor's NumPy solutions (solutions/04_convolution and 05_pooling, defined
   with the functions they use, as the grader does) against torch, in float64 and float32,
   first on one thread (``torch.set_num_threads(1)`` and threadpoolctl's
   ``threadpool_limits(1)`` for NumPy's BLAS), then on all cores:
   - ``conv2d`` forward (torch: ``F.conv2d`` under ``no_grad``), and ``conv2d`` followed by
     ``conv2d_backward`` (torch: ``F.conv2d`` and ``torch.autograd.grad``), on N = 32
     images of 32 x 32, 16 -> 32 channels, a 3 x 3 kernel, padding 1;
   - ``max_pool2d`` followed by ``max_pool2d_backward`` (torch: ``F.max_pool2d`` and
     autograd), on N = 32 images of 32 x 32, 32 channels, kernel 2.
   Median wall-clock milliseconds of ``--repeat`` calls after one warm-up call, and the ratio
   NumPy / torch. Issue 16's target: conv2d + conv2d_backward within 3x torch on one thread.
2. Grading: the sandbox's wall-clock seconds (``run_solution``, without bubblewrap) for
   each exercise's visible and hidden cases, for the reference solutions (vectorised) and
   for the plain-loop solutions of the ``sample-alternative`` submission
   (autograde/samples/04_convolution.toml), against the limits of 5 s per call and 60 s
   per exercise.

Results are printed and saved to benchmarks/results/conv.json and conv.md.

``--profile`` instead prints cProfile's top functions, by cumulative time, of five calls of
the NumPy conv2d + conv2d_backward on the layer above (float64, one thread), and saves nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import save  # noqa: E402
from benchmarks.timing import median_ms  # noqa: E402
from prettynn.course.references import instructor_functions, reference_sources, supplied_for  # noqa: E402
from prettynn.model import get  # noqa: E402
from prettynn.judging import Verdict, judge  # noqa: E402
from prettynn.sandbox.runner import Limits, run_solution  # noqa: E402

CHAPTER = "04_convolution"
EXERCISES = ("corr2d", "conv2d_output_size", "conv2d", "conv2d_backward")
TIMED = ("conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward")
CONV = {"N": 32, "C_in": 16, "C_out": 32, "H": 32, "W": 32, "kernel": 3, "padding": 1}
POOL = {"N": 32, "C": 32, "H": 32, "W": 32, "kernel": 2}
DTYPES = ("float64", "float32")
TARGET = ("conv2d + conv2d_backward", 3.0)  # issue 16: at most 3x torch on one thread
PROFILED_FUNCTIONS = 25
PROFILED_CALLS = 5


def reference_functions() -> dict:
    """The instructor's solutions of the timed functions, by name, defined as the grader defines them."""
    return instructor_functions(ROOT, TIMED)


def loop_sources() -> dict:
    """The plain-loop solutions of the ``sample-alternative`` submission, by name."""
    spec = tomllib.loads((ROOT / "autograde" / "samples" / f"{CHAPTER}.toml").read_text())
    return next(entry["replace"] for entry in spec["sample"] if entry["student"] == "sample-alternative")


def all_cores() -> int:
    """The number of cores this process may run on."""
    return len(os.sched_getaffinity(0))


@contextlib.contextmanager
def threads(count: int):
    """Run torch (intra-op threads) and NumPy's BLAS (threadpoolctl) on ``count`` threads."""
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        with threadpool_limits(count):
            yield
    finally:
        torch.set_num_threads(previous)


def conv_layer(dtype: str) -> dict:
    """Random input, weight, bias and output gradient of the CONV layer, in ``dtype``."""
    rng = np.random.default_rng(0)
    n, c_in, c_out, h, w, k, p = (CONV[key] for key in ("N", "C_in", "C_out", "H", "W", "kernel", "padding"))
    shapes = {"x": (n, c_in, h, w), "weight": (c_out, c_in, k, k), "bias": (c_out,),
              "grad_output": (n, c_out, h + 2 * p - k + 1, w + 2 * p - k + 1)}
    return {name: rng.normal(size=shape).astype(dtype) for name, shape in shapes.items()}


def pool_layer(dtype: str) -> dict:
    """Random input and output gradient of the POOL layer, in ``dtype``."""
    rng = np.random.default_rng(1)
    n, c, h, w, k = (POOL[key] for key in ("N", "C", "H", "W", "kernel"))
    return {"x": rng.normal(size=(n, c, h, w)).astype(dtype),
            "grad_output": rng.normal(size=(n, c, h // k, w // k)).astype(dtype)}


def numpy_computations(functions: dict, dtype: str) -> dict:
    """Each timed computation of the reference NumPy solutions, as a function of no arguments."""
    conv, pool, p, k = conv_layer(dtype), pool_layer(dtype), CONV["padding"], POOL["kernel"]

    def conv_forward():
        return functions["conv2d"](conv["x"], conv["weight"], conv["bias"], padding=p)

    def conv_forward_backward():
        conv_forward()
        return functions["conv2d_backward"](conv["grad_output"], conv["x"], conv["weight"], conv["bias"], padding=p)

    def pool_forward_backward():
        functions["max_pool2d"](pool["x"], k)
        return functions["max_pool2d_backward"](pool["grad_output"], pool["x"], k)

    return {"conv2d": conv_forward, "conv2d + conv2d_backward": conv_forward_backward,
            "max_pool2d + max_pool2d_backward": pool_forward_backward}


def torch_computations(dtype: str) -> dict:
    """The same computations in torch: forward under ``no_grad``, backward by ``torch.autograd.grad``."""
    import torch
    import torch.nn.functional as F

    conv = {name: torch.tensor(array) for name, array in conv_layer(dtype).items()}
    pool = {name: torch.tensor(array) for name, array in pool_layer(dtype).items()}
    parameters = tuple(conv[name].requires_grad_() for name in ("x", "weight", "bias"))
    pool["x"].requires_grad_()
    p, k = CONV["padding"], POOL["kernel"]

    def conv_forward():
        with torch.no_grad():
            return F.conv2d(*parameters, padding=p)

    def conv_forward_backward():
        return torch.autograd.grad(F.conv2d(*parameters, padding=p), parameters, conv["grad_output"])

    def pool_forward_backward():
        return torch.autograd.grad(F.max_pool2d(pool["x"], k), pool["x"], pool["grad_output"])

    return {"conv2d": conv_forward, "conv2d + conv2d_backward": conv_forward_backward,
            "max_pool2d + max_pool2d_backward": pool_forward_backward}


def time_layers(functions: dict, repeat: int) -> list[dict]:
    """One row per dtype, thread count and computation: NumPy and torch milliseconds, and their ratio."""
    rows = []
    for label, count in (("1 thread", 1), (f"all cores ({all_cores()})", all_cores())):
        for dtype in DTYPES:
            ours, theirs = numpy_computations(functions, dtype), torch_computations(dtype)
            with threads(count):
                for name in ours:
                    numpy_ms, torch_ms = median_ms(ours[name], repeat), median_ms(theirs[name], repeat)
                    rows.append({"threads": label, "dtype": dtype, "computation": name,
                                 "numpy_ms": round(numpy_ms, 2), "torch_ms": round(torch_ms, 2),
                                 "ratio": round(numpy_ms / torch_ms, 2)})
    return rows


def target_met(rows: list[dict]) -> bool:
    """Whether conv2d + conv2d_backward is within TARGET's ratio of torch on one thread, in every dtype."""
    name, ratio = TARGET
    return all(row["ratio"] <= ratio for row in rows if row["computation"] == name and row["threads"] == "1 thread")


def layer_table(rows: list[dict]) -> list[str]:
    """The timings as the lines of a Markdown table."""
    lines = ["| threads | dtype | computation | NumPy ms | torch ms | NumPy / torch |", "|---|---|---|---:|---:|---:|"]
    lines += [f"| {r['threads']} | {r['dtype']} | {r['computation']} | {r['numpy_ms']:.1f} | {r['torch_ms']:.1f} "
              f"| {r['ratio']:.1f} |" for r in rows]
    return lines


def profile(functions: dict) -> None:
    """Print cProfile's top functions, by cumulative time, of PROFILED_CALLS calls of the NumPy
    conv2d + conv2d_backward (float64, one thread, after one warm-up call)."""
    computation = numpy_computations(functions, "float64")["conv2d + conv2d_backward"]
    profiler = cProfile.Profile()
    with threads(1):
        computation()
        for _ in range(PROFILED_CALLS):
            profiler.runcall(computation)
    pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(PROFILED_FUNCTIONS)


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


def markdown(rows: list[dict], grading: dict, repeat: int) -> str:
    """The figures as a Markdown page."""
    conv = ", ".join(f"{key} = {value}" for key, value in CONV.items())
    pool = ", ".join(f"{key} = {value}" for key, value in POOL.items())
    name, ratio = TARGET
    lines = ["# Convolution and pooling benchmark (chapters 04 and 05)", "",
             "Generated by `.venv/bin/python benchmarks/bench_conv.py`; do not edit.", "",
             f"## Reference NumPy solutions vs torch; median of {repeat} calls after a warm-up", "",
             f"Convolution: {conv}. Max pooling: {pool}. torch's forward alone runs under `no_grad`; "
             "its backward is `torch.autograd.grad`.", ""]
    lines += layer_table(rows)
    lines += ["", f"Target (issue 16): {name} at most {ratio:g}x torch on one thread: "
              f"{'met' if target_met(rows) else 'NOT met'}."]
    lines += ["", "## Grading time in the sandbox (visible + hidden cases; limits 5 s per call, 60 s per exercise)",
              "", "| exercise, solution | cases | passed | seconds |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {r['cases']} | {r['passed']} | {r['seconds']:.2f} |" for name, r in grading.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="calls per timing (median)")
    parser.add_argument("--profile", action="store_true",
                        help="print cProfile's top functions of the NumPy forward + backward, and stop")
    args = parser.parse_args()
    if args.profile:
        profile(reference_functions())
        return
    rows = time_layers(reference_functions(), args.repeat)
    print("\n".join(layer_table(rows)))
    print(f"target {TARGET[0]} <= {TARGET[1]:g}x torch on one thread: {'met' if target_met(rows) else 'NOT met'}")
    grading = time_grading()
    for name, result in grading.items():
        print(f"grading {name:<32} {result['cases']:3d} cases, {result['passed']:3d} passed, "
              f"{result['seconds']:6.2f} s {result['problem']}")
    save("conv", {"conv": CONV, "pool": POOL, "repeat": args.repeat, "layers": rows, "grading": grading})
    out = ROOT / "benchmarks" / "results" / "conv.md"
    out.write_text(markdown(rows, grading, args.repeat))
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
