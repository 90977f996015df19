"""Small helpers the torch references share: NumPy in, float64 tensors, NumPy out.

torch is imported lazily so that importing ``prettynn`` stays light.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def torch_on_one_thread():
    """torch, imported once and set to one thread: the references work on arrays of a few hundred
    numbers, where a second thread only costs (on a busy 2-core machine a call took 2-10 ms with two
    threads and under 0.1 ms with one; conv2d's hidden cases 1-3 s instead of 0.05 s). Used by the
    checks in a student's kernel and by the grader's judge alike."""
    import torch

    torch.set_num_threads(1)
    return torch


def tensor(array, requires_grad: bool = False):
    """A float64 torch tensor holding a copy of ``array`` (``None`` stays ``None``)."""
    torch = torch_on_one_thread()
    if array is None:
        return None
    return torch.tensor(np.array(array, dtype=np.float64, order="C"), requires_grad=requires_grad)


def index_tensor(array):
    """An int64 torch tensor holding a copy of integer ``array`` (class targets)."""
    torch = torch_on_one_thread()
    return torch.tensor(np.asarray(array, dtype=np.int64))


def to_numpy(value):
    """A tensor's values as a NumPy array (``None`` stays ``None``)."""
    return None if value is None else value.detach().numpy().copy()


def gradients(forward, inputs: list, grad_output=None) -> tuple:
    """``torch.autograd`` gradients of ``forward(*inputs)`` with respect to each input.

    ``inputs`` are NumPy arrays or ``None``; ``grad_output`` weights the output (omit it
    for a scalar output). Returns one NumPy array per input (``None`` for ``None``).
    """
    tensors = [tensor(value, requires_grad=True) for value in inputs]
    output = forward(*tensors)
    output.backward(None if grad_output is None else tensor(grad_output))
    return tuple(None if t is None else to_numpy(t.grad) for t in tensors)
