"""Time one training step of chapter 06's network built from the instructor's NumPy solutions against PyTorch.

Usage (from the repository root, after `make setup`):

    .venv/bin/python benchmarks/bench_training_step.py [--repeat 30] [--profile]

One step on a batch of 64 digits (8x8, one channel), float64 on both sides: forward, cross-entropy,
backward and one Adam step, for the network of the chapter (``lenet`` with the chosen widths (16, 32)
and 64 hidden units) and with LeNet-5's widths (6, 16). The NumPy side is ``prettynn.training.lenet``
built from the instructor's solutions of chapters 01-06 (``prettynn.course.references``) with
``prettynn.optimizers.Adam``; the PyTorch side is its twin (``prettynn.experiments.lenet_torch.twin``)
with ``torch.optim.Adam``. Each library is timed in its own block, first on one thread
(``torch.set_num_threads(1)``, ``threadpool_limits(1)`` for NumPy's BLAS), then on all cores: the
median of ``--repeat`` steps after three warm-up steps (``benchmarks.timing``). ``--profile`` prints cProfile's top functions
of 20 NumPy steps on one thread. Results are printed and saved to benchmarks/results/training_step.json.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import save  # noqa: E402
from benchmarks.timing import median_ms  # noqa: E402
from prettynn.course.references import instructor_functions  # noqa: E402
from prettynn.data import load_digits_split  # noqa: E402
from prettynn.experiments.lenet_torch import twin  # noqa: E402
from prettynn.optimizers import Adam  # noqa: E402
from prettynn.training import LENET_FUNCTIONS, CrossEntropyLoss, lenet  # noqa: E402

NETWORKS = {"chapter 06 (16, 32), hidden 64": dict(channels=(16, 32), hidden=64),
            "LeNet-5's widths (6, 16), hidden 32": dict(channels=(6, 16), hidden=32)}
BATCH = 64
TARGET = 5.0  # issue 16: one training step within 5x torch


def numpy_step(options: dict, functions: dict, x: np.ndarray, y: np.ndarray):
    """A function taking one Adam step of a fresh ``lenet`` on ``(x, y)`` with the instructor's functions."""
    model = lenet(np.random.default_rng(0), functions, **options)
    loss = CrossEntropyLoss(functions["cross_entropy"], functions["cross_entropy_backward"])
    optimizer = Adam(model, functions["adam"], lr=1e-3)

    def step():
        loss(model.forward(x, training=True), y)
        model.backward(loss.backward())
        optimizer.step()

    return step, model


def torch_step(model, x: np.ndarray, y: np.ndarray):
    """A function taking one ``torch.optim.Adam`` step of ``model``'s torch twin on ``(x, y)``."""
    import torch
    import torch.nn.functional as F

    model.forward(x, training=True)  # draws the dropout mask the twin applies
    network = twin(model)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(network(inputs), targets).backward()
        optimizer.step()

    return step


def time_both(threads: int, repeat: int, functions: dict, x: np.ndarray, y: np.ndarray) -> list[dict]:
    """One row per network: NumPy and torch milliseconds per step with ``threads`` threads each."""
    import torch
    from threadpoolctl import threadpool_limits

    rows = []
    for name, options in NETWORKS.items():
        step, model = numpy_step(options, functions, x, y)
        with threadpool_limits(threads):
            numpy_ms = median_ms(step, repeat, warmups=3)
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            torch_ms = median_ms(torch_step(model, x, y), repeat, warmups=3)
        finally:
            torch.set_num_threads(previous)
        rows.append({"network": name, "threads": threads, "numpy_ms": round(numpy_ms, 2),
                     "torch_ms": round(torch_ms, 2), "ratio": round(numpy_ms / torch_ms, 2)})
    return rows


def profile(functions: dict, x: np.ndarray, y: np.ndarray) -> None:
    """cProfile's top functions by cumulative time over 20 NumPy steps of the chapter's network, one thread."""
    from threadpoolctl import threadpool_limits

    step, _ = numpy_step(NETWORKS["chapter 06 (16, 32), hidden 64"], functions, x, y)
    step()
    profiler = cProfile.Profile()
    with threadpool_limits(1):
        profiler.runcall(lambda: [step() for _ in range(20)])
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)


def main() -> None:
    """Time the steps, print the table, save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed steps per measurement")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions and stop")
    args = parser.parse_args()
    functions = instructor_functions(ROOT, [*LENET_FUNCTIONS, "cross_entropy", "cross_entropy_backward", "adam"])
    data = load_digits_split().as_images()
    x, y = data.x_train[:BATCH], data.y_train[:BATCH]
    if args.profile:
        profile(functions, x, y)
        return
    rows = time_both(1, args.repeat, functions, x, y) + time_both(os.cpu_count() or 1, args.repeat, functions, x, y)
    print(f"one training step, batch {BATCH}, float64, forward + loss + backward + Adam step (median of {args.repeat})")
    print("| network | threads | NumPy ms | torch ms | NumPy / torch |\n|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['network']} | {row['threads']} | {row['numpy_ms']} | {row['torch_ms']} | {row['ratio']} |")
    worst = max(row["ratio"] for row in rows if row["threads"] == 1)
    print(f"target one step <= {TARGET:g}x torch on one thread: {'met' if worst <= TARGET else 'NOT met'} "
          f"(largest ratio {worst})")
    save("training_step", {"batch": BATCH, "repeat": args.repeat, "rows": rows, "target": TARGET})


if __name__ == "__main__":
    main()
