"""The one comparison every check and every hidden test uses.

Values are compared in float64 with ``|got - expected| <= atol + rtol * |expected|``
elementwise (NumPy's ``allclose`` rule). The default tolerances suit float64 inputs;
cases with float32 inputs declare looser ones (see ``prettynn.model.Case``).

The contract grades values, not the dtype, so a solution may compute in float32. Where an
output is a sum of products (a linear layer, a convolution, their gradients, an average),
an element near zero can be the sum of large terms that cancel, and float32's rounding of
those terms is then far above ``rtol * |expected|``. For such exercises an element may also
differ by the error bound of a float32 sum of ``n`` products (Higham 2002, §3.1):
``gamma_n * sum |terms|`` with ``gamma_n = n u / (1 - n u)``, ``u = 2**-24`` the unit
round-off of float32, ``sum |terms|`` the reference computed on the absolute values of the
inputs, and ``n`` the size of the largest input plus 2 (every term, its two rounded factors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RTOL = 1e-6
ATOL = 1e-8
FLOAT32_RTOL = 1e-4
FLOAT32_ATOL = 1e-5
FLOAT32_UNIT_ROUNDOFF = 2.0 ** -24


@dataclass(frozen=True)
class Difference:
    """Where two same-shaped arrays differ most.

    ``max_abs_error`` is ``inf`` when one side is not finite where the other is.
    ``index`` is the position of the worst element (``()`` for 0-d arrays); ``allowed`` is
    the error that element may have, when a tolerance chose it (``worst_violation``).
    """

    max_abs_error: float
    index: tuple
    expected_value: float
    got_value: float
    allowed: float = 0.0


def as_float64(value) -> np.ndarray:
    """Return ``value`` as a float64 array; raise ``TypeError`` if it is not numeric."""
    array = np.asarray(value)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise TypeError(f"not a numeric array (dtype {array.dtype})")
    return array.astype(np.float64)


def allclose(got, expected, rtol: float = RTOL, atol: float = ATOL, equal_nan: bool = False) -> bool:
    """True when ``got`` and ``expected`` have the same shape and agree within tolerance.

    ``equal_nan`` also counts non-finite values (nan or inf) at the same places as equal;
    it is used to recognise mistakes that overflow, whatever nan or inf they end in.
    """
    got, expected = as_float64(got), as_float64(expected)
    if got.shape != expected.shape:
        return False
    if equal_nan:
        same_nonfinite = ~np.isfinite(got) & ~np.isfinite(expected)
        close = np.isclose(got, expected, rtol=rtol, atol=atol)
        return bool(np.all(close | same_nonfinite))
    return bool(np.all(np.isclose(got, expected, rtol=rtol, atol=atol)))


def float32_sum_bound(terms: int) -> float:
    """``gamma_n``: the relative error bound of a float32 sum of ``terms`` rounded products."""
    nu = terms * FLOAT32_UNIT_ROUNDOFF
    return nu / (1 - nu) if nu < 1 else np.inf


def allowed_error(expected, rtol: float = RTOL, atol: float = ATOL, magnitude=None, terms: int = 0) -> np.ndarray:
    """The largest error each element of ``expected`` may have: ``atol + rtol * |expected|``, plus
    ``float32_sum_bound(terms) * magnitude`` where ``magnitude`` (the sum of the absolute terms
    behind each element) is given."""
    expected = as_float64(expected)
    allowed = atol + rtol * np.abs(expected)
    if magnitude is not None:
        allowed = allowed + float32_sum_bound(terms) * np.abs(as_float64(magnitude))
    return allowed


def within(got, expected, allowed) -> bool:
    """True when ``got`` has ``expected``'s shape and every element is within its ``allowed`` error."""
    got, expected = as_float64(got), as_float64(expected)
    if got.shape != expected.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(got - expected) <= allowed))


def worst_violation(got, expected, allowed) -> Difference:
    """The element of two same-shaped arrays that exceeds its ``allowed`` error by the largest factor."""
    got, expected = as_float64(got), as_float64(expected)
    allowed = np.broadcast_to(as_float64(allowed), expected.shape)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        error = np.abs(got - expected)
        excess = np.where(np.isnan(error), np.inf, error / np.maximum(allowed, 1e-300))
    flat = int(np.argmax(excess)) if excess.size else 0
    index = tuple(int(i) for i in np.unravel_index(flat, excess.shape)) if excess.ndim else ()
    return Difference(
        max_abs_error=float(np.where(np.isnan(error[index]), np.inf, error[index])) if error.size else 0.0,
        index=index,
        expected_value=float(expected[index]) if error.size else 0.0,
        got_value=float(got[index]) if error.size else 0.0,
        allowed=float(allowed[index]) if error.size else 0.0,
    )


def preview(array, count: int = 4) -> str:
    """The first ``count`` values of ``array`` (flattened), printed with 4 significant digits;
    a single number (0-d) is printed alone, with 6."""
    values = as_float64(array)
    if values.ndim == 0:
        return f"{float(values):.6g}"
    flat = values.ravel()
    shown = ", ".join(f"{v:.4g}" for v in flat[:count])
    more = ", ..." if flat.size > count else ""
    return f"[{shown}{more}]"


def relative_error(a, b) -> float:
    """Largest elementwise ``|a - b| / max(1e-12, |a| + |b|)``: the figure gradient checks print.

    About 1e-7 or less means two float64 computations agree; 1e-2 or more means a bug.
    """
    a, b = as_float64(a), as_float64(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))
