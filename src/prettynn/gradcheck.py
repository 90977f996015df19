"""Numerical gradients by central differences, to check a backward pass.

``numerical_gradient(f, x)`` estimates d f / d x for a scalar function ``f`` of one
array; compare it with an analytic gradient using ``prettynn.compare.relative_error``:
in float64 with ``h = 1e-6`` a correct gradient agrees to about 1e-7 or better.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference estimate of the gradient of scalar ``f`` at ``x``.

    - f: function of one array of ``x``'s shape returning a number
    - x: float64 array of any shape; it is restored after each probe
    - returns: array of ``x``'s shape, ``(f(x + h e_i) - f(x - h e_i)) / 2h`` per entry
    """
    x = np.asarray(x, dtype=np.float64)
    probe = x.copy()
    grad = np.zeros_like(probe)
    for index in np.ndindex(probe.shape):
        saved = probe[index]
        probe[index] = saved + h
        plus = float(f(probe))
        probe[index] = saved - h
        minus = float(f(probe))
        probe[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_of_output(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, grad_output: np.ndarray, h: float = 1e-6
) -> np.ndarray:
    """Numerical gradient of ``sum(f(x) * grad_output)``: what a layer's backward returns for ``x``.

    - f: function of one array returning an array of ``grad_output``'s shape
    - returns: array of ``x``'s shape
    """
    return numerical_gradient(lambda probe: np.sum(f(probe) * grad_output), x, h)
