"""Chapter 02's dropout experiment repeated over seeds, in PyTorch: how much a gap varies from seed to seed.

The chapter trains one oversized MLP (``64 -> 1024 -> 1024 -> 10``, He initialisation, zero
biases) on the first 150 training digits, once without dropout and once with dropout on the
pixels (``p_input``) and after each hidden ReLU (``p_hidden``), with the reader's NumPy
functions and one seed. One run says nothing about how much of the difference between the
two networks another seed would change. ``gaps`` repeats the same protocol (minibatch SGD
without momentum, the same learning rate, batch size and epochs, inverted dropout, both
networks of a seed starting from the same weights) for other seeds, in float32 on one
thread, which is several times faster than the float64 NumPy layers. Its random numbers
come from torch, so no seed here reproduces the chapter's NumPy run: they are further,
independent runs of the same experiment.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from ..data import load_digits_split
from . import one_torch_thread


@dataclass(frozen=True)
class SeedConfig:
    """The chapter's experiment: data, network, optimiser, dropout rates."""

    train_images: int = 150
    sizes: tuple[int, ...] = (64, 1024, 1024, 10)
    epochs: int = 150
    lr: float = 0.05
    batch_size: int = 32
    p_input: float = 0.2
    p_hidden: float = 0.5


@dataclass
class SeedRun:
    """Final accuracies of one network trained from one seed (fractions in [0, 1])."""

    seed: int
    dropout: bool
    train_accuracy: float
    val_accuracy: float

    @property
    def gap(self) -> float:
        """Training minus validation accuracy."""
        return self.train_accuracy - self.val_accuracy


def _train_one(config: SeedConfig, seed: int, dropout: bool, data) -> SeedRun:
    """Train one network from ``seed`` (the same initial weights with and without dropout)."""
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(seed)
    x = torch.tensor(data.x_train, dtype=torch.float32)
    y = torch.tensor(data.y_train)
    weights = [(torch.randn(n_out, n_in, generator=generator) * float(np.sqrt(2.0 / n_in))).requires_grad_()
               for n_in, n_out in zip(config.sizes[:-1], config.sizes[1:])]
    biases = [torch.zeros(n_out, requires_grad=True) for n_out in config.sizes[1:]]
    parameters = weights + biases

    def drop(h, p):
        keep = torch.rand(h.shape, generator=generator) >= p
        return h * keep / (1.0 - p)

    def forward(h, training):
        if training and dropout:
            h = drop(h, config.p_input)
        for index, (weight, bias) in enumerate(zip(weights, biases)):
            if index > 0:
                h = torch.relu(h)
                if training and dropout:
                    h = drop(h, config.p_hidden)
            h = F.linear(h, weight, bias)
        return h

    n = len(y)
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, config.batch_size):
            batch = order[start:start + config.batch_size]
            loss = F.cross_entropy(forward(x[batch], True), y[batch])
            gradients = torch.autograd.grad(loss, parameters)
            with torch.no_grad():
                for parameter, gradient in zip(parameters, gradients):
                    parameter -= config.lr * gradient
    with torch.no_grad():
        train_accuracy = (forward(x, False).argmax(1) == y).float().mean().item()
        x_val = torch.tensor(data.x_val, dtype=torch.float32)
        val_accuracy = (forward(x_val, False).argmax(1) == torch.tensor(data.y_val)).float().mean().item()
    return SeedRun(seed, dropout, train_accuracy, val_accuracy)


def gaps(seeds: tuple[int, ...] = (1, 2, 3), config: SeedConfig = SeedConfig()) -> tuple[list[SeedRun], float]:
    """Both networks trained from each of ``seeds``; returns the runs (without, with dropout,
    seed by seed) and the seconds taken. One thread, float32, about 3 s a run here."""
    data = load_digits_split()
    data = dataclasses.replace(data, x_train=data.x_train[:config.train_images],
                               y_train=data.y_train[:config.train_images])
    start = time.perf_counter()
    with one_torch_thread():
        runs = [_train_one(config, seed, dropout, data) for seed in seeds for dropout in (False, True)]
    return runs, time.perf_counter() - start
