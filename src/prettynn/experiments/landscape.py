"""Batch norm and the loss landscape: a small CPU version of Santurkar et al. (2018), Fig. 4.

The same deep ReLU MLP (``depth`` hidden layers of ``width`` units, He initialisation) is
trained on the digits with minibatch SGD, once plain and once with batch normalization
after every hidden linear layer (before its ReLU). Every ``probe_every`` steps, at the
current weights ``w`` and on the current minibatch, with gradient ``g``, the loss and its
gradient are measured at ``w - s * g`` for each probe step size ``s`` (0.05 to 0.4):

- (a) the loss at each probe (its range, max - min, says how much the loss changes along
  the gradient direction);
- (b) *gradient predictiveness*: ``||grad(w - s g) - g||``, how far the gradient moves;
- (c) *effective beta-smoothness*: ``||grad(w - s g) - g|| / ||s g||``, the gradient's change
  per distance moved (its maximum over the probes estimates a local Lipschitz constant
  of the gradient).

After training, a 2-D slice of the loss around the final weights (Li et al., 2018) is
evaluated on a grid, along two random Gaussian directions normalised filter by filter
(each row of each weight matrix rescaled to that row's norm; zero for biases and batch
norm parameters). Such a move also lengthens every weight row (by ``sqrt(1 + a^2 + b^2)``
for nearly orthogonal directions), which a plain ReLU network passes on, layer after layer,
to its logits, while batch norm divides it out of every hidden layer (scale invariance).
To separate the two, the loss along the first direction is also evaluated with every moved
row rescaled back to its trained norm. Everything is float64, seeded, and deterministic on
one machine.
Batch norm uses the batch's statistics throughout (training mode), so no running
statistics are involved.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..data import load_digits_split
from . import one_torch_thread


@dataclass(frozen=True)
class LandscapeConfig:
    """What to run: every depth x learning rate, each plain and with batch norm."""

    depths: tuple[int, ...] = (4, 8)
    learning_rates: tuple[float, ...] = (0.02, 0.05, 0.1)
    width: int = 64
    steps: int = 300
    probe_every: int = 10
    probe_sizes: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
    batch_size: int = 64
    grid: int = 21
    span: float = 1.0
    seed: int = 0


@dataclass
class Run:
    """One training run's probes (one entry per probed step) and its final loss slice.

    ``loss``, ``grad_change`` and ``beta`` hold, per probed step, ``(min, max)`` over the
    probe sizes; ``slice_loss`` is ``grid x grid`` (row ``i``: second direction, column
    ``j``: first direction), ``None`` where the loss is not finite. ``line_loss_kept_norms`` (``G``)
    is the loss along the first direction alone (the slice's middle row) with every moved weight
    row rescaled back to its norm in the trained weights: what is left of the slice once the
    perturbation no longer changes the rows' norms.
    """

    depth: int
    learning_rate: float
    batch_norm: bool
    steps: list[int] = field(default_factory=list)
    loss: list[tuple[float, float]] = field(default_factory=list)
    grad_change: list[tuple[float, float]] = field(default_factory=list)
    beta: list[tuple[float, float]] = field(default_factory=list)
    final_loss: float = math.nan
    slice_loss: list[list[float | None]] = field(default_factory=list)
    line_loss_kept_norms: list[float | None] = field(default_factory=list)

    def summary(self) -> dict:
        """Mean over probed steps of the loss range and of the largest gradient change and beta."""
        return {
            "loss_range": _mean(hi - lo for lo, hi in self.loss),
            "grad_change": _mean(hi for _, hi in self.grad_change),
            "beta": _mean(hi for _, hi in self.beta),
        }


def _mean(values) -> float:
    """The mean of finite values, ``inf`` if any is not finite (a run that diverged)."""
    values = list(values)
    return float(np.mean(values)) if all(math.isfinite(v) for v in values) else math.inf


def init_parameters(depth: int, width: int, batch_norm: bool, generator) -> list:
    """Parameters of ``64 -> width x depth -> 10``: per hidden layer weight, bias (and BN weight, bias);
    then the output layer. Weights from N(0, 2 / fan_in) (He et al., 2015), biases 0, BN scale 1."""
    import torch

    sizes = [64] + [width] * depth + [10]
    parameters = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        weight = torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64) * math.sqrt(2.0 / fan_in)
        parameters += [weight, torch.zeros(fan_out, dtype=torch.float64)]
        if batch_norm and index < depth:
            parameters += [torch.ones(fan_out, dtype=torch.float64), torch.zeros(fan_out, dtype=torch.float64)]
    return [p.requires_grad_() for p in parameters]


def forward(parameters: list, x, depth: int, batch_norm: bool):
    """``(N, 64) -> (N, 10)`` logits; batch norm (batch statistics) between each hidden linear layer and its ReLU."""
    import torch.nn.functional as F

    h, i = x, 0
    for _ in range(depth):
        h = F.linear(h, parameters[i], parameters[i + 1])
        i += 2
        if batch_norm:
            h = F.batch_norm(h, None, None, parameters[i], parameters[i + 1], training=True)
            i += 2
        h = F.relu(h)
    return F.linear(h, parameters[i], parameters[i + 1])


def _loss_and_gradient(parameters, x, y, depth, batch_norm):
    """The mean cross-entropy on ``(x, y)`` and its gradient, one tensor per parameter (detached)."""
    import torch
    import torch.nn.functional as F

    loss = F.cross_entropy(forward(parameters, x, depth, batch_norm), y)
    return loss.item(), [g.detach() for g in torch.autograd.grad(loss, parameters)]


def _norm(tensors) -> float:
    """The l2 norm of a list of tensors taken as one vector."""
    return math.sqrt(sum(float((t * t).sum()) for t in tensors))


def _probe(parameters, gradient, x, y, depth, batch_norm, sizes) -> tuple[list, list, list]:
    """Losses, gradient changes and their ratio to the distance moved at ``w - s * gradient`` per size ``s``."""
    import torch

    losses, changes, betas = [], [], []
    step_norm = _norm(gradient)
    for size in sizes:
        with torch.no_grad():
            moved = [(p - size * g).requires_grad_() for p, g in zip(parameters, gradient)]
        loss, moved_gradient = _loss_and_gradient(moved, x, y, depth, batch_norm)
        change = _norm([a - b for a, b in zip(moved_gradient, gradient)])
        losses.append(loss)
        changes.append(change)
        betas.append(change / (size * step_norm) if step_norm > 0 else math.nan)
    return losses, changes, betas


def _min_max(values) -> tuple[float, float]:
    """``(min, max)`` of values; ``(inf, inf)`` when any is not finite."""
    if not all(math.isfinite(v) for v in values):
        return math.inf, math.inf
    return float(min(values)), float(max(values))


def filter_normalized_direction(parameters: list, generator) -> list:
    """A random direction in parameter space as Li et al. (2018) draw it: Gaussian, each row of
    each weight matrix rescaled to the norm of that row of the weights; zero for 1-d parameters
    (biases, batch norm's scale and shift)."""
    import torch

    direction = []
    for p in parameters:
        if p.dim() < 2:
            direction.append(torch.zeros_like(p))
            continue
        d = torch.randn(p.shape, generator=generator, dtype=p.dtype)
        d *= p.detach().norm(dim=1, keepdim=True) / d.norm(dim=1, keepdim=True)
        direction.append(d)
    return direction


def loss_slice(parameters, x, y, depth, batch_norm, generator, grid: int, span: float) -> list[list[float | None]]:
    """The loss at ``w + a d1 + b d2`` for ``a, b`` on a ``grid x grid`` lattice of ``[-span, span]``,
    along two directions drawn by ``filter_normalized_direction``.

    Row ``i`` is ``b``, column ``j`` is ``a``; non-finite losses are ``None``.
    """
    first = filter_normalized_direction(parameters, generator)
    second = filter_normalized_direction(parameters, generator)
    return _slice(parameters, first, second, x, y, depth, batch_norm, grid, span)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _slice(parameters, first, second, x, y, depth, batch_norm, grid: int, span: float) -> list[list[float | None]]:
    """The loss at ``w + a first + b second`` on a ``grid x grid`` lattice of ``[-span, span]`` (row: ``b``)."""
    import torch
    import torch.nn.functional as F

    offsets = np.linspace(-span, span, grid)
    rows = []
    with torch.no_grad():
        for b in offsets:
            row = []
            for a in offsets:
                moved = [p + a * d1 + b * d2 for p, d1, d2 in zip(parameters, first, second)]
                row.append(_finite_or_none(F.cross_entropy(forward(moved, x, depth, batch_norm), y).item()))
            rows.append(row)
    return rows


def line_keeping_norms(parameters, direction, x, y, depth, batch_norm, grid: int, span: float) -> list[float | None]:
    """The loss at ``w + a direction`` for ``grid`` values of ``a`` in ``[-span, span]``, with every row of
    every moved weight matrix rescaled to its norm in ``w`` (1-d parameters are not moved)."""
    import torch
    import torch.nn.functional as F

    line = []
    with torch.no_grad():
        for a in np.linspace(-span, span, grid):
            moved = []
            for p, d in zip(parameters, direction):
                q = p + a * d
                if p.dim() >= 2:
                    q = q * (p.norm(dim=1, keepdim=True) / q.norm(dim=1, keepdim=True))
                moved.append(q)
            line.append(_finite_or_none(F.cross_entropy(forward(moved, x, depth, batch_norm), y).item()))
    return line


def train_and_probe(depth: int, learning_rate: float, batch_norm: bool, config: LandscapeConfig, data) -> Run:
    """One SGD run with probes every ``config.probe_every`` steps, then its loss slice.

    The initial weights, the minibatches and the slice's directions depend on ``config.seed``
    and the depth only, so the plain and the batch-norm network see the same batches.
    """
    import torch

    generator = torch.Generator().manual_seed(config.seed + depth)
    parameters = init_parameters(depth, config.width, batch_norm, generator)
    x_all = torch.from_numpy(data.x_train)
    y_all = torch.from_numpy(data.y_train)
    order_rng = np.random.default_rng(config.seed)
    run = Run(depth, learning_rate, batch_norm)
    order = np.empty(0, dtype=np.int64)
    for step in range(config.steps):
        if len(order) < config.batch_size:
            order = order_rng.permutation(len(y_all))
        batch, order = torch.from_numpy(order[:config.batch_size]), order[config.batch_size:]
        x, y = x_all[batch], y_all[batch]
        loss, gradient = _loss_and_gradient(parameters, x, y, depth, batch_norm)
        if not math.isfinite(loss):
            break
        if step % config.probe_every == 0:
            losses, changes, betas = _probe(parameters, gradient, x, y, depth, batch_norm, config.probe_sizes)
            run.steps.append(step)
            run.loss.append(_min_max(losses))
            run.grad_change.append(_min_max(changes))
            run.beta.append(_min_max(betas))
        with torch.no_grad():
            for p, g in zip(parameters, gradient):
                p -= learning_rate * g
    run.final_loss, _ = _loss_and_gradient(parameters, x_all, y_all, depth, batch_norm)
    first = filter_normalized_direction(parameters, generator)
    second = filter_normalized_direction(parameters, generator)
    run.slice_loss = _slice(parameters, first, second, x_all, y_all, depth, batch_norm, config.grid, config.span)
    run.line_loss_kept_norms = line_keeping_norms(parameters, first, x_all, y_all, depth, batch_norm,
                                                  config.grid, config.span)
    return run


@dataclass
class LandscapeResult:
    """Every run of a ``LandscapeConfig`` and the wall time the whole experiment took."""

    config: LandscapeConfig
    runs: list[Run]
    seconds: float

    def run(self, depth: int, learning_rate: float, batch_norm: bool) -> Run:
        """The run of one setting."""
        return next(r for r in self.runs
                    if (r.depth, r.learning_rate, r.batch_norm) == (depth, learning_rate, batch_norm))

    def ratios(self) -> list[dict]:
        """Per depth and learning rate: plain / batch norm for the loss range, gradient change and beta."""
        rows = []
        for depth in self.config.depths:
            for lr in self.config.learning_rates:
                plain = self.run(depth, lr, False).summary()
                normed = self.run(depth, lr, True).summary()
                rows.append({"depth": depth, "learning_rate": lr,
                             **{f"{key}_plain": plain[key] for key in plain},
                             **{f"{key}_bn": normed[key] for key in normed},
                             **{f"{key}_ratio": plain[key] / normed[key] for key in plain}})
        return rows

    def as_traits(self) -> list[dict]:
        """The runs as JSON-safe dicts (non-finite numbers as ``None``), for a widget's traits."""
        return [_json_safe(asdict(run)) for run in self.runs]


def _json_safe(value):
    """``value`` with every non-finite float replaced by ``None`` (JSON has no inf or NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def run_landscape(config: LandscapeConfig = LandscapeConfig()) -> LandscapeResult:
    """Every run of ``config``: each depth x learning rate, plain and with batch norm.

    torch runs on one thread meanwhile (restored afterwards): these matrices are so small
    that a second thread only adds synchronisation, which costs a lot on a busy machine.
    """
    data = load_digits_split()
    start = time.perf_counter()
    with one_torch_thread():
        runs = [train_and_probe(depth, lr, bn, config, data)
                for depth in config.depths for lr in config.learning_rates for bn in (False, True)]
    return LandscapeResult(config, runs, time.perf_counter() - start)
