"""Numerical gradients by central differences, to check a backward pass.

``numerical_gradient(f, x)`` estimates d f / d x for a scalar function ``f`` of one
array; compare it with an analytic gradient using ``prettynn.compare.relative_error``:
in float64 with ``h = 1e-6`` a correct gradient agrees to about 1e-7 or better.

``gradient_check(name, analytic, numerical)`` is what a notebook's gradient-check cell
calls: it compares each named gradient, prints a verdict per gradient against a stated
threshold, says "not attempted yet" while the exercise is a stub, and raises a
``CheckFailure`` (shown without a traceback) when a gradient disagrees.
"""

from __future__ import annotations

from typing import Callable, Mapping

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


DEFAULT_THRESHOLD = 1e-6


def gradient_check(name: str, analytic: Callable[[], Mapping[str, np.ndarray]],
                   numerical: Callable[[], Mapping[str, np.ndarray]], threshold: float = DEFAULT_THRESHOLD) -> None:
    """Compare the gradients ``analytic()`` returns with ``numerical()``'s, gradient by gradient.

    - name: the exercise whose backward is checked (named in the messages)
    - analytic, numerical: callables returning ``{"grad_x": array, ...}`` with the same keys
      and matching shapes (called here, so a stub's ``NotImplementedError`` is caught)
    - threshold: the largest relative error (``prettynn.compare.relative_error``) that passes
    - prints one line per gradient: ✔ or ✘, its relative error and the threshold; raises
      ``prettynn.checks.CheckFailure`` when any gradient fails
    """
    from .checks import CheckFailure
    from .compare import relative_error
    from .feedback import GREEN, RED, RESET

    try:
        computed, estimated = analytic(), numerical()
    except NotImplementedError:
        print(f"… {name}: not attempted yet (a function this check calls still raises NotImplementedError).")
        return
    failed = []
    for key, expected in estimated.items():
        if key not in computed:
            failed.append(f"{key}: not returned by {name}")
            continue
        error = relative_error(computed[key], expected)
        passes = bool(error < threshold)
        mark = f"{GREEN}✔{RESET}" if passes else f"{RED}✘{RESET}"
        print(f"{mark} {name}, {key}: relative error {error:.1e} "
              f"({'below' if passes else 'not below'} the threshold {threshold:.0e})")
        if not passes:
            failed.append(f"{key}: relative error {error:.1e} is not below {threshold:.0e}")
    if failed:
        raise CheckFailure(f"{name} disagrees with central differences:\n" + "\n".join(failed))
