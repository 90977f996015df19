"""Building blocks for case generators, shared by every chapter's declarations."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..compare import FLOAT32_ATOL, FLOAT32_RTOL
from ..model import Case

VISIBLE_SEED = 20261123


def visible_rng() -> np.random.Generator:
    """The generator of the visible cases: fixed, so a student sees the same cases each run."""
    return np.random.default_rng(VISIBLE_SEED)


def readable(rng: np.random.Generator, shape, scale: float = 2.0) -> np.ndarray:
    """Random float64 values rounded to one decimal, easy to read in a failure message."""
    return np.round(rng.uniform(-scale, scale, size=shape), 1)


def normal(rng: np.random.Generator, shape, scale: float = 1.0) -> np.ndarray:
    """Float64 normal values with standard deviation ``scale``."""
    return rng.standard_normal(shape) * scale


def with_zeros(rng: np.random.Generator, x: np.ndarray, fraction: float = 0.2) -> np.ndarray:
    """A copy of ``x`` with about ``fraction`` of its entries set to exactly 0."""
    x = x.copy()
    x[rng.random(x.shape) < fraction] = 0.0
    return x


def as_float32(case: Case) -> Case:
    """The same case with its float arrays in float32 and float32 tolerances."""

    def convert(value):
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
            return value.astype(np.float32)
        return value

    return dataclasses.replace(
        case,
        description=f"{case.description}, float32 inputs",
        args=tuple(convert(value) for value in case.args),
        kwargs={key: convert(value) for key, value in case.kwargs.items()},
        rtol=FLOAT32_RTOL,
        atol=FLOAT32_ATOL,
    )


def pair(value) -> tuple[int, int]:
    """An "int or pair" argument as a pair of ints: ``3 -> (3, 3)``, ``(3, 2) -> (3, 2)``."""
    if isinstance(value, (tuple, list, np.ndarray)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def shape_text(shape) -> str:
    """A shape as a student reads it: ``(2, 3)``, or ``(3,)``."""
    return str(tuple(int(s) for s in shape))
