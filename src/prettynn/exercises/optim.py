"""Chapter 06_cnn: the optimizers' update steps, ``sgd`` and ``adam``, as ``torch.optim`` takes them.

Both take lists of NumPy arrays (one entry per parameter tensor) and update the parameters
and the optimizer's state **in place**, returning ``None``. The references run one
``step()`` of ``torch.optim.SGD`` / ``torch.optim.Adam`` in float64 from the same state and
write what torch leaves in its parameters and its ``state`` back into the lists.
"""

from __future__ import annotations

import numpy as np

from ..model import Case, Exercise, Mistake, register
from . import _torch
from ._cases import normal, readable, shape_text, visible_rng

ASSIGNMENT = "06_cnn"
SHAPES = [(3, 2), (2,), (2, 1, 3, 3), (4,), (5, 3), (1,)]


# ---------------------------------------------------------------- torch references


def _leaves(params, grads) -> list:
    """float64 torch leaf tensors holding copies of ``params``, with ``grads`` as their ``.grad``."""
    leaves = []
    for param, grad in zip(params, grads):
        leaf = _torch.tensor(param, requires_grad=True)
        leaf.grad = _torch.tensor(grad)
        leaves.append(leaf)
    return leaves


def _write_back(arrays: list, index: int, tensor) -> None:
    """Store ``tensor``'s values in ``arrays[index]``: in place when it holds an array, else as a new one."""
    values = _torch.to_numpy(tensor)
    if arrays[index] is None:
        arrays[index] = values
    else:
        arrays[index][...] = values


def torch_sgd(params, grads, momentum_buffers, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """One ``torch.optim.SGD.step()`` from the given state (float64).

    - params, grads: lists of arrays of matching shapes; momentum_buffers: one array or ``None``
      (no buffer yet: the first step) per parameter
    - updates ``params`` and ``momentum_buffers`` in place (a ``None`` entry becomes a new array
      when momentum is used); returns ``None``
    """
    import torch

    leaves = _leaves(params, grads)
    optimizer = torch.optim.SGD(leaves, lr=lr, momentum=momentum, dampening=dampening,
                                weight_decay=weight_decay, nesterov=nesterov, foreach=False)
    for leaf, buffer in zip(leaves, momentum_buffers):
        if buffer is not None:
            optimizer.state[leaf]["momentum_buffer"] = _torch.tensor(buffer)
    optimizer.step()
    for index, leaf in enumerate(leaves):
        _write_back(params, index, leaf.detach())
        buffer = optimizer.state[leaf].get("momentum_buffer")
        if buffer is not None:
            _write_back(momentum_buffers, index, buffer)


def torch_adam(params, grads, exp_avgs, exp_avg_sqs, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One ``torch.optim.Adam.step()`` (L2 weight decay, not AdamW) from the given state (float64).

    - params, grads, exp_avgs, exp_avg_sqs: lists of arrays of matching shapes
    - step: the number t >= 1 of this update (torch's state holds t - 1 before the step)
    - updates ``params``, ``exp_avgs`` and ``exp_avg_sqs`` in place; returns ``None``
    """
    import torch

    leaves = _leaves(params, grads)
    optimizer = torch.optim.Adam(leaves, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=False)
    for leaf, exp_avg, exp_avg_sq in zip(leaves, exp_avgs, exp_avg_sqs):
        optimizer.state[leaf] = {"step": torch.tensor(float(step - 1), dtype=torch.float64),
                                 "exp_avg": _torch.tensor(exp_avg), "exp_avg_sq": _torch.tensor(exp_avg_sq)}
    optimizer.step()
    for index, leaf in enumerate(leaves):
        _write_back(params, index, leaf.detach())
        _write_back(exp_avgs, index, optimizer.state[leaf]["exp_avg"])
        _write_back(exp_avg_sqs, index, optimizer.state[leaf]["exp_avg_sq"])


# ---------------------------------------------------------------- known mistakes
# Each mistake is torch's step with one thing changed, so no right answer is written here in NumPy.


def _params_after_sgd(params, grads, momentum_buffers, lr, **options) -> list:
    """The parameters after torch's SGD step on copies of the inputs."""
    params, momentum_buffers = [p.copy() for p in params], list(momentum_buffers)
    torch_sgd(params, grads, momentum_buffers, lr, **options)
    return params


def sgd_first_buffer_zero(params, grads, momentum_buffers, lr, **options):
    """The first step's buffer started at zero and updated with the damped gradient."""
    zeros = [np.zeros_like(p, dtype=np.float64) if b is None else b for p, b in zip(params, momentum_buffers)]
    return _params_after_sgd(params, grads, zeros, lr, **options)


def sgd_decay_after_momentum(params, grads, momentum_buffers, lr, momentum=0.0, weight_decay=0.0, **options):
    """The momentum buffers left without the weight decay (added to the step after momentum instead): where
    the mistake shows on every step; ``None`` where it does not apply (no momentum, no decay)."""
    if not momentum or not weight_decay:
        return None
    buffers = [None if b is None else b.copy() for b in momentum_buffers]
    torch_sgd([p.copy() for p in params], grads, buffers, lr, momentum=momentum, **options)
    return buffers


def sgd_without_look_ahead(params, grads, momentum_buffers, lr, nesterov=False, **options):
    """Nesterov's step taken as plain momentum's."""
    return _params_after_sgd(params, grads, momentum_buffers, lr, **options)


def _params_after_adam(params, grads, exp_avgs, exp_avg_sqs, step, **options) -> list:
    """The parameters after torch's Adam step ``step`` on copies of the inputs."""
    params = [p.copy() for p in params]
    torch_adam(params, grads, [m.copy() for m in exp_avgs], [v.copy() for v in exp_avg_sqs], step, **options)
    return params


NO_CORRECTION_STEP = 10**9  # 0.9 ** step and 0.999 ** step are 0.0 in float64: the corrections divide by 1


def adam_without_correction(params, grads, exp_avgs, exp_avg_sqs, step, **options):
    """The averages used without bias correction."""
    return _params_after_adam(params, grads, exp_avgs, exp_avg_sqs, NO_CORRECTION_STEP, **options)


def adam_corrected_for_step(offset: int):
    """The mistake of correcting the averages for step ``step + offset`` (it does not apply where that
    step would be below 1)."""

    def params_after(params, grads, exp_avgs, exp_avg_sqs, step, **options):
        """The parameters after a step whose bias corrections use the wrong step number, or ``None``."""
        if step + offset < 1:
            return None
        return _params_after_adam(params, grads, exp_avgs, exp_avg_sqs, step + offset, **options)

    return params_after


def adam_eps_inside_root(params, grads, exp_avgs, exp_avg_sqs, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                         weight_decay=0.0):
    """eps added to the corrected second moment under the square root (torch's averages, the wrong division)."""
    m, v = [a.copy() for a in exp_avgs], [a.copy() for a in exp_avg_sqs]
    torch_adam([p.copy() for p in params], grads, m, v, step, lr, betas, eps, weight_decay)
    first, second = 1 - betas[0] ** step, 1 - betas[1] ** step
    return [p - lr * (mean / first) / np.sqrt(square / second + eps) for p, mean, square in zip(params, m, v)]


def adam_decoupled_decay(params, grads, exp_avgs, exp_avg_sqs, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                         weight_decay=0.0):
    """AdamW's step: the parameters shrunk by lr * weight_decay instead of the decay added to the gradient."""
    import torch

    leaves = _leaves(params, grads)
    optimizer = torch.optim.AdamW(leaves, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                  foreach=False)
    for leaf, exp_avg, exp_avg_sq in zip(leaves, exp_avgs, exp_avg_sqs):
        optimizer.state[leaf] = {"step": torch.tensor(float(step - 1), dtype=torch.float64),
                                 "exp_avg": _torch.tensor(exp_avg), "exp_avg_sq": _torch.tensor(exp_avg_sq)}
    optimizer.step()
    return [_torch.to_numpy(leaf) for leaf in leaves]


SGD_MISTAKES = (
    Mistake("first momentum buffer damped or started at zero",
            "on the first step (a None buffer) PyTorch starts the buffer from the gradient as it is, without "
            "dampening; a zero buffer updated as on later steps makes the first step too small.",
            sgd_first_buffer_zero, component="params"),
    Mistake("weight decay after momentum",
            "weight decay belongs to the gradient, before the momentum buffer is updated, so that the buffer "
            "averages it too; here it was added to the step after momentum.",
            sgd_decay_after_momentum, component="momentum_buffers"),
    Mistake("Nesterov's look-ahead missed",
            "with nesterov=True the step is not the updated buffer alone (that is plain momentum): PyTorch's "
            "Nesterov step also looks ahead; derive its form from the velocity form of the text.",
            sgd_without_look_ahead, component="params"),
)

ADAM_MISTAKES = (
    Mistake("no bias correction",
            "both averages start at zero and are biased towards it in the first steps: each needs its bias "
            "correction for the current step (Kingma & Ba 2015, Section 3).",
            adam_without_correction, component="params"),
    Mistake("bias correction for the next step",
            "`step` is already the number of this update (1 on the first): use it as it is in both bias "
            "corrections, not the number of the next update.",
            adam_corrected_for_step(+1), component="params"),
    Mistake("bias correction for the previous step",
            "`step` is already the number of this update (1 on the first): use it as it is in both bias "
            "corrections, not the number of the previous update.",
            adam_corrected_for_step(-1), component="params"),
    Mistake("eps inside the square root",
            "eps is added after the square root of the corrected second moment is taken, as PyTorch does; "
            "inside the root it changes the step most where the second moment is small.",
            adam_eps_inside_root, component="params"),
    Mistake("decoupled weight decay",
            "torch.optim.Adam adds weight_decay * param to the gradient (L2 regularisation) before the averages; "
            "shrinking the parameter directly is AdamW's rule (Loshchilov & Hutter 2019), another optimizer.",
            adam_decoupled_decay, component="params"),
)


# ---------------------------------------------------------------- cases


def _state(rng: np.random.Generator, shapes, make) -> list:
    """One array per shape, from ``make(rng, shape)``."""
    return [make(rng, shape) for shape in shapes]


def _shapes_text(shapes) -> str:
    """The parameters' shapes as a student reads them."""
    return ", ".join(shape_text(shape) for shape in shapes)


def sgd_case(rng, shapes, description, *, first_step, readable_values=False, **options) -> Case:
    """An SGD case: parameters of ``shapes``, their gradients, and buffers (``None`` on a first step)."""
    make = (lambda r, s: readable(r, s)) if readable_values else normal
    params, grads = _state(rng, shapes, make), _state(rng, shapes, make)
    buffers = [None] * len(shapes) if first_step else _state(rng, shapes, make)
    return Case(f"{description}; parameters of shapes {_shapes_text(shapes)}",
                (params, grads, buffers, options.pop("lr", 0.1)), options)


def sgd_visible_cases() -> list[Case]:
    """Plain SGD, momentum on a first and a later step, dampening, weight decay, Nesterov."""
    rng = visible_rng()
    shapes = [(2, 3), (3,)]
    return [
        sgd_case(rng, shapes, "plain SGD (no momentum), lr 0.1", first_step=True, readable_values=True),
        sgd_case(rng, shapes, "momentum 0.9, first step (buffers None)", first_step=True, readable_values=True,
                 momentum=0.9),
        sgd_case(rng, shapes, "momentum 0.9, a later step (buffers given)", first_step=False, readable_values=True,
                 momentum=0.9),
        sgd_case(rng, shapes, "momentum 0.9 and dampening 0.5, first step", first_step=True, readable_values=True,
                 momentum=0.9, dampening=0.5),
        sgd_case(rng, shapes, "momentum 0.5, weight decay 0.1, a later step", first_step=False,
                 readable_values=True, momentum=0.5, weight_decay=0.1),
        sgd_case(rng, shapes, "Nesterov momentum 0.9, a later step", first_step=False, readable_values=True,
                 momentum=0.9, nesterov=True),
    ]


def sgd_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Every combination of momentum, dampening, weight decay and Nesterov, first and later steps,
    one to six parameters of 1 to 4 axes, learning rates from 1e-3 to 1."""
    cases = []
    for i in range(30):
        shapes = [SHAPES[(i + j) % len(SHAPES)] for j in range(1 + i % 6)]
        momentum = (0.0, 0.9, 0.5, 0.99)[i % 4]
        nesterov = momentum > 0 and i % 5 in (1, 3)
        dampening = 0.0 if nesterov or momentum == 0 else (0.0, 0.3)[i // 4 % 2]
        weight_decay = (0.0, 1e-2, 0.5)[i % 3]
        lr = (0.1, 1e-3, 1.0, 0.03)[i // 3 % 4]
        first = momentum > 0 and i % 3 == 1
        description = (f"lr {lr:g}, momentum {momentum:g}, dampening {dampening:g}, weight decay {weight_decay:g}, "
                       f"{'Nesterov, ' if nesterov else ''}{'first step' if first else 'a later step'}")
        cases.append(sgd_case(rng, shapes, description, first_step=first, lr=lr, momentum=momentum,
                              dampening=dampening, weight_decay=weight_decay, nesterov=nesterov))
    return cases


def adam_case(rng, shapes, description, *, step, readable_values=False, **options) -> Case:
    """An Adam case at step ``step``: parameters, gradients and averages (zero on step 1)."""
    make = (lambda r, s: readable(r, s)) if readable_values else normal
    params, grads = _state(rng, shapes, make), _state(rng, shapes, make)
    if step == 1:
        exp_avgs, exp_avg_sqs = [np.zeros(s) for s in shapes], [np.zeros(s) for s in shapes]
    else:
        exp_avgs = _state(rng, shapes, lambda r, s: 0.1 * make(r, s))
        exp_avg_sqs = _state(rng, shapes, lambda r, s: np.round(0.01 * r.uniform(0, 2, size=s), 4))
    return Case(f"{description}; parameters of shapes {_shapes_text(shapes)}",
                (params, grads, exp_avgs, exp_avg_sqs, step), options)


def adam_visible_cases() -> list[Case]:
    """The first step, later steps, other betas and eps, weight decay."""
    rng = visible_rng()
    shapes = [(2, 3), (3,)]
    return [
        adam_case(rng, shapes, "step 1 (averages zero), default lr, betas and eps", step=1, readable_values=True),
        adam_case(rng, shapes, "step 2, lr 0.01", step=2, readable_values=True, lr=0.01),
        adam_case(rng, shapes, "step 10, betas (0.8, 0.99), eps 1e-3", step=10, readable_values=True,
                  betas=(0.8, 0.99), eps=1e-3),
        adam_case(rng, shapes, "step 3, weight decay 0.1", step=3, readable_values=True, weight_decay=0.1),
    ]


def adam_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Steps from 1 to 10,000, several learning rates, betas, eps and weight decays, one to six
    parameters of 1 to 4 axes."""
    cases = []
    for i in range(30):
        shapes = [SHAPES[(i + 2 * j) % len(SHAPES)] for j in range(1 + i % 6)]
        step = (1, 2, 5, 100, 10_000, 3)[i % 6]
        lr = (1e-3, 0.1, 3e-4)[i % 3]
        betas = ((0.9, 0.999), (0.5, 0.9), (0.95, 0.99))[i // 3 % 3]
        eps = (1e-8, 1e-3, 0.1)[i // 2 % 3]
        weight_decay = (0.0, 0.0, 1e-2, 0.3)[i % 4]
        cases.append(adam_case(rng, shapes, f"step {step}, lr {lr:g}, betas {betas}, eps {eps:g}, "
                                            f"weight decay {weight_decay:g}", step=step, lr=lr, betas=betas,
                               eps=eps, weight_decay=weight_decay))
    return cases


register(
    Exercise("sgd", ASSIGNMENT, 3, torch_sgd, (), sgd_visible_cases, sgd_hidden_cases, SGD_MISTAKES,
             updates=("params", "momentum_buffers")),
    Exercise("adam", ASSIGNMENT, 3, torch_adam, (), adam_visible_cases, adam_hidden_cases, ADAM_MISTAKES,
             updates=("params", "exp_avgs", "exp_avg_sqs")),
)
