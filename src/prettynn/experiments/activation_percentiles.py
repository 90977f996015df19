"""One unit's input distribution over training, with and without batch norm (Ioffe & Szegedy, 2015, Fig. 1).

As in the paper's MNIST experiment, an MLP with three hidden layers of 100 sigmoid units,
initialised with small Gaussian weights (standard deviation ``1 / sqrt(fan_in)`` here), is
trained with minibatch SGD (batches of 60), once plain and once with batch normalization
before every sigmoid, from the same initial weights on the same minibatches (the digits
stand in for MNIST). Every ``record_every`` steps, the inputs of the last hidden layer's
sigmoids are computed on the whole validation set, and their 15th, 50th and 85th percentiles
kept for every unit, with the validation accuracy. Batch norm normalizes with the statistics
of the batch it is given, here the validation set (no running statistics are kept).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..data import load_digits_split
from . import one_torch_thread

PERCENTILES = (15, 50, 85)


@dataclass(frozen=True)
class PercentileConfig:
    """The network (``depth`` sigmoid layers of ``width``), its SGD settings and how often to record."""

    width: int = 100
    depth: int = 3
    learning_rate: float = 0.5
    steps: int = 1200
    record_every: int = 20
    batch_size: int = 60
    seed: int = 0


@dataclass
class PercentileRun:
    """One run: the recorded ``steps (T,)``, the ``percentiles (T, 3, width)`` of the last hidden
    layer's sigmoid inputs over the validation set, and the ``val_accuracy (T,)``."""

    batch_norm: bool
    steps: np.ndarray
    percentiles: np.ndarray
    val_accuracy: np.ndarray

    def median_drift(self) -> np.ndarray:
        """Per unit, ``(width,)``: how far its median moved over training (max minus min over the records)."""
        median = self.percentiles[:, 1, :]
        return median.max(axis=0) - median.min(axis=0)


def _train(batch_norm: bool, config: PercentileConfig, data) -> PercentileRun:
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(config.seed)
    sizes = [64] + [config.width] * config.depth + [10]
    parameters = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        weight = torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64) / math.sqrt(fan_in)
        parameters += [weight, torch.zeros(fan_out, dtype=torch.float64)]
        if batch_norm and index < config.depth:
            parameters += [torch.ones(fan_out, dtype=torch.float64), torch.zeros(fan_out, dtype=torch.float64)]
    for p in parameters:
        p.requires_grad_()

    def forward(x):
        h, i, last_input = x, 0, None
        for _ in range(config.depth):
            h = F.linear(h, parameters[i], parameters[i + 1])
            i += 2
            if batch_norm:
                h = F.batch_norm(h, None, None, parameters[i], parameters[i + 1], training=True)
                i += 2
            last_input = h
            h = torch.sigmoid(h)
        return F.linear(h, parameters[i], parameters[i + 1]), last_input

    x_train, y_train = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    x_val = torch.from_numpy(data.x_val)
    order_rng = np.random.default_rng(config.seed)
    order = np.empty(0, dtype=np.int64)
    steps, records, accuracies = [], [], []
    for step in range(config.steps + 1):
        if step % config.record_every == 0:
            with torch.no_grad():
                logits, inputs = forward(x_val)
            steps.append(step)
            records.append(np.percentile(inputs.numpy(), PERCENTILES, axis=0))
            accuracies.append(float((logits.argmax(dim=1).numpy() == data.y_val).mean()))
        if step == config.steps:
            break
        if len(order) < config.batch_size:
            order = order_rng.permutation(len(y_train))
        batch, order = torch.from_numpy(order[:config.batch_size]), order[config.batch_size:]
        loss = F.cross_entropy(forward(x_train[batch])[0], y_train[batch])
        gradient = torch.autograd.grad(loss, parameters)
        with torch.no_grad():
            for p, g in zip(parameters, gradient):
                p -= config.learning_rate * g
    return PercentileRun(batch_norm, np.array(steps), np.array(records), np.array(accuracies))


@dataclass
class PercentileResult:
    """Both runs of a ``PercentileConfig`` and the wall time they took."""

    config: PercentileConfig
    plain: PercentileRun
    batch_norm: PercentileRun
    seconds: float


def run_percentiles(config: PercentileConfig = PercentileConfig()) -> PercentileResult:
    """Both runs of ``config`` (torch on one thread meanwhile)."""
    data = load_digits_split()
    start = time.perf_counter()
    with one_torch_thread():
        plain, normed = _train(False, config, data), _train(True, config, data)
    return PercentileResult(config, plain, normed, time.perf_counter() - start)
