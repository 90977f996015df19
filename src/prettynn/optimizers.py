"""Optimizers built from the reader's update functions: each keeps the state, the reader's function does the step.

The package holds no NumPy solution of an exercise: like the layers of ``prettynn.layers``,
an optimizer computes nothing itself. It keeps what ``torch.optim`` keeps between steps
(momentum buffers; Adam's averages and step count), one entry per parameter in
``model.parameters()`` order, and on every ``step()`` calls the function it was given once,
for all parameters, with the contract of chapter 06:

- ``SGD``: ``sgd(params, grads, momentum_buffers, lr, momentum=0, dampening=0, weight_decay=0,
  nesterov=False)``
- ``Adam``: ``adam(params, grads, exp_avgs, exp_avg_sqs, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
  weight_decay=0)``

Both functions update the arrays of their lists in place and return ``None``. An optimizer
passes the model's own parameter arrays, so a function that rebinds a name or replaces a list
item instead of writing into the array leaves the model unchanged: nothing here makes up for it.

``prettynn.training.train(..., optimizer=Adam(model, adam))`` calls ``step()`` after every
minibatch's backward pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from .training import Sequential


def _parameters_and_gradients(model: Sequential) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The model's parameter arrays and their gradients, as two lists in ``model.parameters()`` order.

    Read anew at every step: a layer's ``backward`` may store new gradient arrays.
    """
    pairs = list(model.parameters())
    return [parameter for parameter, _ in pairs], [gradient for _, gradient in pairs]


class SGD:
    """Stochastic gradient descent with momentum, from the reader's ``sgd``: ``torch.optim.SGD``.

    - model: a ``prettynn.training.Sequential``; its parameters are updated in place
    - sgd: the reader's ``sgd(params, grads, momentum_buffers, lr, momentum, dampening, weight_decay,
      nesterov)``
    - lr, momentum, dampening, weight_decay, nesterov: as ``torch.optim.SGD``'s, checked as torch
      checks them
    - momentum_buffers: one entry per parameter, ``None`` until the first step with momentum puts
      an array of the parameter's shape there (torch's ``state[p]["momentum_buffer"]``)
    """

    def __init__(self, model: Sequential, sgd: Callable, *, lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        _check_at_least_zero(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires a momentum > 0 and zero dampening, "
                             f"got momentum {momentum} and dampening {dampening}")
        self.model, self.sgd = model, sgd
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.momentum_buffers: list[np.ndarray | None] = [None for _ in model.parameters()]

    def step(self) -> None:
        """One update of every parameter: a single call of ``sgd`` with the current gradients."""
        params, grads = _parameters_and_gradients(self.model)
        self.sgd(params, grads, self.momentum_buffers, self.lr, momentum=self.momentum, dampening=self.dampening,
                 weight_decay=self.weight_decay, nesterov=self.nesterov)


class Adam:
    """Adam (Kingma & Ba, 2015) with L2 weight decay, from the reader's ``adam``: ``torch.optim.Adam``.

    - model: a ``prettynn.training.Sequential``; its parameters are updated in place
    - adam: the reader's ``adam(params, grads, exp_avgs, exp_avg_sqs, step, lr, betas, eps, weight_decay)``
    - lr, betas, eps, weight_decay: as ``torch.optim.Adam``'s, checked as torch checks them
    - exp_avgs, exp_avg_sqs: the moving averages of the gradient and of its square, one array of
      the parameter's shape per parameter, starting at zero (torch's ``state[p]["exp_avg"]`` and
      ``state[p]["exp_avg_sq"]``)
    - t: the number of steps taken (torch's ``state[p]["step"]``): 0 before the first, whose call
      of ``adam`` gets ``step=1``
    """

    def __init__(self, model: Sequential, adam: Callable, *, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        _check_at_least_zero(lr=lr, eps=eps, weight_decay=weight_decay)
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"betas[{index}] must be in [0, 1), got {beta}")
        self.model, self.adam = model, adam
        self.lr, self.betas, self.eps, self.weight_decay = lr, tuple(betas), eps, weight_decay
        params, _ = _parameters_and_gradients(model)
        self.exp_avgs = [np.zeros_like(parameter) for parameter in params]
        self.exp_avg_sqs = [np.zeros_like(parameter) for parameter in params]
        self.t = 0

    def step(self) -> None:
        """Step ``t + 1``: a single call of ``adam`` for every parameter, with the current gradients."""
        params, grads = _parameters_and_gradients(self.model)
        self.t += 1
        self.adam(params, grads, self.exp_avgs, self.exp_avg_sqs, self.t, lr=self.lr, betas=self.betas,
                  eps=self.eps, weight_decay=self.weight_decay)


def _check_at_least_zero(**values: float) -> None:
    """``ValueError`` naming the first of ``values`` that is negative (torch refuses them too)."""
    for name, value in values.items():
        if not value >= 0.0:
            raise ValueError(f"{name} must be >= 0, got {value}")
