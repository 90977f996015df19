"""Batch norm's payoff (chapter 03): a learning-rate sweep on the digits, plain vs batch norm.

The deep ReLU MLP of ``prettynn.experiments.landscape`` (``depth`` hidden layers of ``width``
units, He initialisation) is trained with minibatch SGD for a few epochs at each learning
rate, once plain and once with batch normalization between every hidden linear layer and
its ReLU, from the same initial weights and on the same minibatches, for a few seeds. Batch
norm keeps PyTorch's running statistics (momentum 0.1) and is evaluated with them.

Each run records its final training loss (over the whole training set, evaluation mode) and
its validation accuracy; a run whose minibatch loss stops being finite is marked diverged
(loss ``inf``, accuracy ``nan``). Everything is float64 and seeded.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..data import load_digits_split
from . import one_torch_thread
from .landscape import init_parameters


@dataclass(frozen=True)
class SweepConfig:
    """Which runs: every learning rate x seed, each plain and with batch norm."""

    learning_rates: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 2.0)
    seeds: tuple[int, ...] = (0, 1, 2)
    depth: int = 6
    width: int = 64
    epochs: int = 5
    batch_size: int = 32
    momentum: float = 0.1


@dataclass(frozen=True)
class SweepRun:
    """One run's outcome: final training loss (``inf`` if diverged) and validation accuracy (``nan`` then)."""

    learning_rate: float
    batch_norm: bool
    seed: int
    train_loss: float
    val_accuracy: float

    @property
    def diverged(self) -> bool:
        return not math.isfinite(self.train_loss)


def forward(parameters: list, running: list, x, depth: int, batch_norm: bool, training: bool):
    """``(N, 64) -> (N, 10)`` logits. ``parameters`` laid out as ``landscape.init_parameters`` makes them;
    ``running``: one ``(mean, var)`` pair of ``(width,)`` tensors per hidden layer, updated in place in
    training (PyTorch's rule), used for normalization in evaluation."""
    import torch.nn.functional as F

    h, i = x, 0
    for layer in range(depth):
        h = F.linear(h, parameters[i], parameters[i + 1])
        i += 2
        if batch_norm:
            mean, var = running[layer]
            h = F.batch_norm(h, mean, var, parameters[i], parameters[i + 1], training=training)
            i += 2
        h = F.relu(h)
    return F.linear(h, parameters[i], parameters[i + 1])


def train_once(learning_rate: float, batch_norm: bool, seed: int, config: SweepConfig, data) -> SweepRun:
    """One SGD run; the initial weights and the minibatch order depend on ``seed`` only."""
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(seed)
    parameters = init_parameters(config.depth, config.width, batch_norm, generator)
    running = [(torch.zeros(config.width, dtype=torch.float64), torch.ones(config.width, dtype=torch.float64))
               for _ in range(config.depth)]
    x_train, y_train = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    order_rng = np.random.default_rng(seed)
    size = config.batch_size
    for _ in range(config.epochs):
        order = order_rng.permutation(len(y_train))
        for start in range(0, len(order) - size + 1, size):
            batch = torch.from_numpy(order[start:start + size])
            loss = F.cross_entropy(forward(parameters, running, x_train[batch], config.depth, batch_norm, True),
                                   y_train[batch])
            if not torch.isfinite(loss):
                return SweepRun(learning_rate, batch_norm, seed, math.inf, math.nan)
            gradient = torch.autograd.grad(loss, parameters)
            with torch.no_grad():
                for p, g in zip(parameters, gradient):
                    p -= learning_rate * g
    with torch.no_grad():
        logits = forward(parameters, running, x_train, config.depth, batch_norm, False)
        train_loss = F.cross_entropy(logits, y_train).item()
        val_logits = forward(parameters, running, torch.from_numpy(data.x_val), config.depth, batch_norm, False)
        val_accuracy = (val_logits.argmax(dim=1).numpy() == data.y_val).mean()
    if not math.isfinite(train_loss):
        return SweepRun(learning_rate, batch_norm, seed, math.inf, math.nan)
    return SweepRun(learning_rate, batch_norm, seed, train_loss, float(val_accuracy))


@dataclass
class SweepResult:
    """Every run of a ``SweepConfig`` and the wall time the sweep took."""

    config: SweepConfig
    runs: list[SweepRun]
    seconds: float

    def select(self, learning_rate: float, batch_norm: bool) -> list[SweepRun]:
        """The runs (one per seed) of one setting."""
        return [r for r in self.runs if r.learning_rate == learning_rate and r.batch_norm == batch_norm]


def run_sweep(config: SweepConfig = SweepConfig()) -> SweepResult:
    """Every learning rate x seed, plain and with batch norm (torch on one thread meanwhile)."""
    data = load_digits_split()
    start = time.perf_counter()
    with one_torch_thread():
        runs = [train_once(lr, bn, seed, config, data)
                for lr in config.learning_rates for bn in (False, True) for seed in config.seeds]
    return SweepResult(config, runs, time.perf_counter() - start)
