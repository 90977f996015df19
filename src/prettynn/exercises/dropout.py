"""Chapter 02_dropout: inverted dropout and its gradient.

``dropout`` returns a random mask, so it has no single right output: its cases are judged
by properties of what it returns (``Property``), each with the hint of the mistake whose
signature it is. ``dropout_backward`` is deterministic and compared with torch.

How often a correct ``dropout`` fails by chance. Two kinds of check are random:

- *keep rate* and *mean preservation* compare the fraction of kept elements with
  ``1 - p`` and the mask's mean with 1. The mask entries of a correct solution are
  independent and bounded (in ``[0, 1]`` for the kept indicator, in ``[0, 1 / (1 - p)]``
  for the mask), so Hoeffding's inequality bounds the chance that their mean strays
  beyond ``tolerances.hoeffding_margin`` by ``tolerances.FALSE_FAILURE = 1e-8``;
- *rows mix* and *columns mix* ask every row (example) and every column (feature) of the
  mask, seen as ``(N, -1)``, to hold both kept and dropped elements. A line of ``m``
  independent elements is all kept or all dropped with probability ``(1 - p)**m + p**m``,
  so the check of ``k`` such lines fails a correct mask with probability at most
  ``k * ((1 - p)**m + p**m)`` (the union bound); it runs only where that bound is below
  ``FALSE_FAILURE`` (``mixing_is_checked``).

Each check thus fails a correct solution with probability below 1e-8. A verdict (visible
and hidden cases) runs ``statistical_checks`` of them per case, fewer than 100 in all
(tests/test_02_dropout.py counts them), so by the union bound a correct solution loses a
point by chance with probability below 100 * 1e-8 = 1e-6.
"""

from __future__ import annotations

import numpy as np

from .. import tolerances
from ..model import Case, Exercise, Mistake, Property, register
from . import _torch
from ._cases import as_float32, normal, readable, shape_text, visible_rng

ASSIGNMENT = "02_dropout"
PARAMETERS = ("x", "p", "training", "rng")
DEFAULTS = {"p": 0.5, "training": True, "rng": None}


# ---------------------------------------------------------------- the torch reference of the backward pass


def torch_dropout_backward(grad_output, mask):
    """Autograd of ``x * mask`` (what ``F.dropout`` computes with that mask) with respect to ``x``."""
    import torch

    kept = _torch.tensor(mask)
    x = np.zeros(np.shape(grad_output))
    return _torch.gradients(lambda t: torch.mul(t, kept), [x], grad_output)[0]


def torch_dropout_stand_in(x, p=0.5, training=True, rng=None):
    """What stands in for a reader's ``dropout`` that is not attempted yet or fails its check.

    ``dropout`` has no reference output (its mask is random), so the exercise declares no
    ``reference``; this is the contract's function built on ``torch.bernoulli``, its torch
    generator seeded from ``rng`` (one draw of ``rng`` per training call), so that a seeded
    ``rng`` reproduces a run. Returns ``(out, mask)`` of ``x``'s shape, NumPy arrays.
    """
    import torch

    if not 0 <= p <= 1:
        raise ValueError(f"the drop probability p must be in [0, 1], not {p}")
    x = np.asarray(x)
    if not training or p == 0:
        return x * 1.0, np.ones(x.shape)
    if p == 1:
        return x * 0.0, np.zeros(x.shape)
    rng = np.random.default_rng() if rng is None else rng
    generator = torch.Generator().manual_seed(int(rng.integers(2**63)))
    keep = torch.bernoulli(torch.full(x.shape, 1.0 - p, dtype=torch.float64), generator=generator).numpy()
    mask = keep / (1.0 - p)
    return x * mask, mask


# ---------------------------------------------------------------- reading a dropout case


def arguments(case: Case) -> dict:
    """The case's arguments by name, the contract's defaults filled in."""
    return {**DEFAULTS, **dict(zip(PARAMETERS, case.args)), **case.kwargs}


def _random_training(case: Case) -> bool:
    """True when a correct mask is random: training mode and ``0 < p < 1``."""
    named = arguments(case)
    return bool(named["training"]) and 0 < named["p"] < 1


def _lines(shape) -> tuple[int, int]:
    """``(N, M)``: the mask seen as ``N`` rows (examples) of ``M`` elements; a 1-D input is one row."""
    if len(shape) < 2:
        return 1, int(np.prod(shape, dtype=int))
    return int(shape[0]), int(np.prod(shape[1:], dtype=int))


def _unmixed_chance(p: float, count: int, length: int) -> float:
    """Union bound on the chance that one of ``count`` lines of ``length`` independent elements,
    each kept with probability ``1 - p``, is all kept or all dropped."""
    return count * ((1 - p) ** length + p ** length)


def mixing_is_checked(case: Case) -> tuple[bool, bool]:
    """Whether rows and whether columns are required to mix kept and dropped elements: only
    where a correct mask fails with probability below ``tolerances.FALSE_FAILURE``."""
    if not _random_training(case):
        return False, False
    p = arguments(case)["p"]
    rows, length = _lines(np.shape(arguments(case)["x"]))
    return (_unmixed_chance(p, rows, length) < tolerances.FALSE_FAILURE,
            _unmixed_chance(p, length, rows) < tolerances.FALSE_FAILURE)


def statistical_checks(case: Case) -> int:
    """How many checks of ``case`` can fail a correct solution by chance (each below 1e-8)."""
    return 2 * _random_training(case) + sum(mixing_is_checked(case))


# ---------------------------------------------------------------- properties of what dropout returns


def _close(got, expected, case: Case) -> np.ndarray:
    """Elementwise agreement within the case's tolerances (float32 outputs are accepted)."""
    return np.isclose(np.asarray(got, dtype=np.float64), expected, rtol=case.rtol, atol=case.atol)


def _values(array) -> str:
    """A few distinct values of ``array``, for a message."""
    distinct = np.unique(np.asarray(array, dtype=np.float64))
    shown = ", ".join(f"{v:.4g}" for v in distinct[:4])
    return shown + (", ..." if len(distinct) > 4 else "")


def _shapes(case, outputs) -> str:
    """``out`` and ``mask`` have x's shape."""
    shape = np.shape(arguments(case)["x"])
    for name, value in zip(("out", "mask"), outputs):
        if np.shape(value) != shape:
            return f"`{name}` has shape {np.shape(value)}, expected x's shape {shape}."
    return ""


def _everything_dropped(case, outputs) -> str:
    """In training with p = 1, ``out`` and ``mask`` are all zeros (finite)."""
    named = arguments(case)
    if not (named["training"] and named["p"] == 1):
        return ""
    out, mask = (np.asarray(v, dtype=np.float64) for v in outputs)
    for name, value in (("mask", mask), ("out", out)):
        if not np.all(np.isfinite(value)):
            return f"with p = 1, `{name}` contains nan or inf; it should be all zeros."
        if np.any(value != 0):
            return f"with p = 1 every element is dropped, but `{name}` has nonzero values ({_values(value)})."
    return ""


def _identity(case, outputs, when) -> str:
    """out == x and a mask of ones, checked on the cases where ``when(named)`` holds."""
    named = arguments(case)
    if not when(named):
        return ""
    out, mask = outputs
    if not np.all(_close(mask, 1.0, case)):
        return f"`mask` should be all ones here, but it holds {_values(mask)}."
    if not np.all(_close(out, np.asarray(named["x"], dtype=np.float64), case)):
        return "`out` should equal x here, but it differs."
    return ""


def _evaluation(case, outputs) -> str:
    """With training=False, out == x and the mask is all ones."""
    return _identity(case, outputs, lambda named: not named["training"])


def _nothing_dropped(case, outputs) -> str:
    """In training with p = 0, out == x and the mask is all ones."""
    return _identity(case, outputs, lambda named: named["training"] and named["p"] == 0)


def _product(case, outputs) -> str:
    """``out`` equals ``x * mask`` elementwise."""
    out, mask = outputs
    x = np.asarray(arguments(case)["x"], dtype=np.float64)
    if not np.all(_close(out, x * np.asarray(mask, dtype=np.float64), case)):
        return "`out` is not x * mask, elementwise."
    return ""


def _kept(mask) -> np.ndarray:
    """Where the mask keeps its element (a nonzero entry)."""
    return np.asarray(mask, dtype=np.float64) != 0


def _keep_rate(case, outputs) -> str:
    """The fraction of kept elements is 1 - p, within Hoeffding's margin (random cases only)."""
    if not _random_training(case):
        return ""
    p = arguments(case)["p"]
    kept = _kept(outputs[1])
    if not tolerances.mean_within(float(kept.mean()), 1 - p, kept.size):
        margin = tolerances.hoeffding_margin(kept.size)
        return (f"the mask keeps a fraction {kept.mean():.3f} of the elements; with p = {p:g} it should keep "
                f"about 1 - p = {1 - p:.3f} (within {margin:.3f}).")
    return ""


def _mask_values(case, outputs) -> str:
    """In training with p < 1, every mask entry is 0 or 1 / (1 - p)."""
    named = arguments(case)
    if not (named["training"] and named["p"] < 1):
        return ""
    mask = outputs[1]
    scale = 1 / (1 - named["p"])
    if not np.all(_close(mask, 0.0, case) | _close(mask, scale, case)):
        return f"`mask` holds {_values(mask)}; its values should be 0 and 1 / (1 - p) = {scale:.4g} only."
    return ""


def _mean_preserved(case, outputs) -> str:
    """The mask's mean is 1, within Hoeffding's margin for values in [0, 1 / (1 - p)] (random cases only)."""
    if not _random_training(case):
        return ""
    p = arguments(case)["p"]
    mask = np.asarray(outputs[1], dtype=np.float64)
    if not tolerances.mean_within(float(mask.mean()), 1.0, mask.size, value_range=1 / (1 - p)):
        return f"the mask's mean is {mask.mean():.3f}; it should be about 1, so that E[out] = x."
    return ""


def _mixing(case, outputs, axis) -> str:
    """Every row (``axis=1``) or column (``axis=0``) of the mask, seen as ``(N, -1)``, mixes kept and dropped."""
    if not mixing_is_checked(case)[1 - axis]:
        return ""
    kept = _kept(outputs[1]).reshape(_lines(np.shape(outputs[1])))
    unmixed = int(np.sum(kept.all(axis=axis) | ~kept.any(axis=axis)))
    if unmixed:
        what = "rows (examples)" if axis == 1 else "columns (features)"
        return f"{unmixed} {what} of the mask are all kept or all dropped; independent elements would mix."
    return ""


P_EQUALS_ONE_HINT = ("p = 1 drops every element: return zeros. Computing 1 / (1 - p) divides by zero there, "
                     "and 0 * inf is nan.")
EVALUATION_HINT = ("with training=False dropout is the identity: return x and a mask of ones, with no scaling "
                   "(inverted dropout does all its scaling during training).")
KEEP_RATE_HINT = ("p is the probability of dropping an element: keep each element, independently of the others, "
                  "with probability 1 - p.")
SCALE_HINT = ("the mask's values are off: in training, a dropped element's mask value is 0, and inverted dropout "
              "scales the kept ones so that the mask averages 1 (the derivation before the exercise gives the "
              "factor).")
PER_ELEMENT_HINT = ("draw one independent keep-or-drop decision for every element of x: a random array of "
                    "x's full shape")

DROPOUT_PROPERTIES = (
    Property("shapes", _shapes, "return (out, mask), both of x's shape: one mask entry per element of x."),
    Property("p = 1 gives zeros", _everything_dropped, P_EQUALS_ONE_HINT),
    Property("evaluation is the identity", _evaluation, EVALUATION_HINT),
    Property("p = 0 keeps everything", _nothing_dropped,
             "p = 0 drops nothing: every element is kept (with probability 1 - p = 1), and its scale is 1."),
    Property("out is x * mask", _product, "return out = x * mask, with the mask you return."),
    Property("rows mix", lambda case, outputs: _mixing(case, outputs, axis=1),
             PER_ELEMENT_HINT + ", not one decision per example (row)."),
    Property("columns mix", lambda case, outputs: _mixing(case, outputs, axis=0),
             PER_ELEMENT_HINT + ", not one mask of features shared by the whole batch."),
    Property("keep rate", _keep_rate, KEEP_RATE_HINT),
    Property("mask values", _mask_values, SCALE_HINT),
    Property("mean preservation", _mean_preserved,
             "the mask must average 1, so that the expected output equals x: the scale of the kept elements "
             "does not make up for the dropped ones."),
)

DROPOUT_MISTAKES = (
    Mistake("p = 1 divides by zero", P_EQUALS_ONE_HINT, raises=r"division by zero"),
    Mistake("rng None not handled",
            "rng is optional: when it is None, create a fresh generator with np.random.default_rng().",
            raises=r"'NoneType' object has no attribute"),
)

DROPOUT_BACKWARD_MISTAKES = (
    Mistake("scaled twice",
            "the gradient is scaled twice: the mask already holds the scale of the kept elements, so the "
            "backward pass must not apply it once more.",
            output=lambda g, mask: g * mask * mask),
    Mistake("kept indicator without the scale",
            "the gradient lacks the scale of the kept elements: the forward pass multiplied x by the mask's "
            "values, not by 0 or 1.",
            output=lambda g, mask: g * (mask != 0)),
    Mistake("mask returned alone",
            "the result does not depend on grad_output: by the chain rule the upstream gradient flows through "
            "the layer; the mask alone is only the layer's local derivative.",
            output=lambda g, mask: mask * np.ones_like(g)),
)


# ---------------------------------------------------------------- cases


def _seeded(rng: np.random.Generator) -> np.random.Generator:
    """A fresh generator seeded from ``rng``: the ``rng`` argument of one case."""
    return np.random.default_rng(int(rng.integers(2**32)))


def _call(description, x, p, training, generator, style="keywords", **case_options) -> Case:
    """A dropout case with its arguments passed by keyword, positionally, or with ``rng`` omitted."""
    if style == "positional":
        return Case(description, (x, p, training, generator), **case_options)
    if style == "default rng":
        return Case(description, (x,), {"p": p, "training": training}, **case_options)
    return Case(description, (x,), {"p": p, "training": training, "rng": generator}, **case_options)


def dropout_visible_cases() -> list[Case]:
    """A readable matrix, large batches (keep rate, independence), evaluation, p = 0 and 1,
    p outside [0, 1], and a seed used twice."""
    rng = visible_rng()
    return [
        _call("a (4, 5) matrix, p = 0.5", readable(rng, (4, 5)), 0.5, True, _seeded(rng)),
        _call("a (64, 64) batch, p = 0.5: rows and columns mix kept and dropped elements",
              readable(rng, (64, 64)), 0.5, True, _seeded(rng)),
        _call("a (64, 64) batch, p = 0.2: about 80% of the elements kept", readable(rng, (64, 64)), 0.2, True,
              _seeded(rng)),
        _call("a (64, 64) batch, p = 0.75: about 25% kept, scaled by 4", readable(rng, (64, 64)), 0.75, True,
              _seeded(rng)),
        _call("evaluation mode (training=False), p = 0.5: the identity", readable(rng, (3, 4)), 0.5, False,
              _seeded(rng)),
        _call("rng omitted: a fresh default generator, p = 0.5", readable(rng, (3, 4)), 0.5, True, None,
              "default rng"),
        _call("p = 0 in training: nothing dropped", readable(rng, (3, 4)), 0.0, True, _seeded(rng)),
        _call("p = 1 in training: everything dropped, no nan", readable(rng, (3, 4)), 1.0, True, _seeded(rng)),
        _call("p = -0.1, outside [0, 1]", readable(rng, (2, 3)), -0.1, True, _seeded(rng), raises="ValueError"),
        _call("p = 1.5, outside [0, 1]", readable(rng, (2, 3)), 1.5, True, _seeded(rng), raises="ValueError"),
        _call("a (20, 30) batch, p = 0.5, called twice with generators seeded alike: the same mask",
              readable(rng, (20, 30)), 0.5, True, _seeded(rng), twice=True),
    ]


RANDOM_SHAPES = [(64, 64), (32, 100), (100, 32), (2048,), (8, 4, 8, 8), (16, 3, 40), (1, 500), (500, 1)]
RANDOM_PS = [0.1, 0.25, 0.5, 0.75, 0.9]
STYLES = ["keywords", "positional", "keywords", "default rng"]


def _random_training_cases(rng: np.random.Generator, count: int) -> list[Case]:
    """Training cases of random shapes, drop probabilities and argument styles, some float32."""
    cases = []
    for i in range(count):
        shape = RANDOM_SHAPES[i % len(RANDOM_SHAPES)]
        p = RANDOM_PS[i % len(RANDOM_PS)] if i % 3 else float(np.round(rng.uniform(0.05, 0.95), 3))
        style = STYLES[i % len(STYLES)]
        rng_text = {"keywords": "a seeded generator", "positional": "arguments passed by position",
                    "default rng": "rng omitted (a fresh default generator)"}[style]
        case = _call(f"shape {shape_text(shape)}, p = {p:g}, training, {rng_text}",
                     normal(rng, shape), p, True, _seeded(rng), style)
        cases.append(as_float32(case) if i % 5 == 3 else case)
    return cases


def _edge_cases(rng: np.random.Generator) -> list[Case]:
    """Evaluation mode, p = 0 and p = 1 in both modes, rng=None, and p outside [0, 1]."""
    p_eval = float(np.round(rng.uniform(0.05, 0.95), 2))
    cases = [
        _call(f"evaluation mode, shape (16, 10), p = {p_eval:g}", normal(rng, (16, 10)), p_eval, False, _seeded(rng)),
        _call("evaluation mode, shape (2, 3, 4, 4), p = 0.9, rng=None", normal(rng, (2, 3, 4, 4)), 0.9, False, None),
        as_float32(_call("evaluation mode, shape (50,), p = 0.5", normal(rng, (50,)), 0.5, False, _seeded(rng))),
        _call("evaluation mode, p = 1: still the identity", normal(rng, (6, 7)), 1.0, False, _seeded(rng)),
        _call("p = 0 in training, shape (30, 20)", normal(rng, (30, 20)), 0.0, True, _seeded(rng)),
        _call("p = 0 in training, shape (3, 5, 5), rng omitted", normal(rng, (3, 5, 5)), 0.0, True, None,
              "default rng"),
        _call("p = 1 in training, shape (30, 20)", normal(rng, (30, 20)), 1.0, True, _seeded(rng)),
        as_float32(_call("p = 1 in training, shape (4, 2, 6)", normal(rng, (4, 2, 6)), 1.0, True, _seeded(rng))),
        _call("shape (40, 50), p = 0.5, training, rng=None (a fresh default generator)",
              normal(rng, (40, 50)), 0.5, True, None),
    ]
    for p in (-0.5, -1e-3, 1.01, 2.0):
        cases.append(_call("p outside [0, 1]", normal(rng, (3, 4)), p, True, _seeded(rng), raises="ValueError"))
    cases.append(_call("p outside [0, 1] in evaluation mode", normal(rng, (3, 4)), 1.5, False, _seeded(rng),
                       raises="ValueError"))
    return cases


def _repeated_cases(rng: np.random.Generator) -> list[Case]:
    """Cases called twice with generators seeded alike: the two masks must be equal."""
    cases = []
    for shape, p in (((32, 48), 0.5), ((5, 200), 0.3), ((4, 3, 8, 8), 0.6)):
        cases.append(_call(f"shape {shape_text(shape)}, p = {p:g}, called twice with generators seeded alike",
                           normal(rng, shape), p, True, _seeded(rng), twice=True))
    return cases


def dropout_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random shapes (1-D to 4-D), drop probabilities and argument styles; evaluation mode; p = 0 and 1;
    rng None or omitted; p outside [0, 1]; same-seed repeats; some float32."""
    return _random_training_cases(rng, 13) + _edge_cases(rng) + _repeated_cases(rng)


def _mask(rng: np.random.Generator, shape, p: float) -> np.ndarray:
    """Test data for the backward pass: a mask of ``shape`` holding 0 (with probability ``p``)
    and 1 / (1 - p); all zeros when ``p`` is 1. Drawn by torch (seeded from ``rng``), so that the
    package holds no NumPy dropout."""
    import torch

    if p == 1:
        return np.zeros(shape)
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    keep = torch.bernoulli(torch.full(tuple(shape), 1.0 - p, dtype=torch.float64), generator=generator)
    return keep.numpy() / (1.0 - p)


def dropout_backward_visible_cases() -> list[Case]:
    """Masks of several drop probabilities (so several scales), an image batch, an evaluation mask."""
    rng = visible_rng()
    return [
        Case("a (4, 5) mask of p = 0.5 (values 0 and 2)", (readable(rng, (4, 5)), _mask(rng, (4, 5), 0.5))),
        Case("a (3, 4) mask of p = 0.2 (values 0 and 1.25)", (readable(rng, (3, 4)), _mask(rng, (3, 4), 0.2))),
        Case("a (3, 4) mask of p = 0.75 (values 0 and 4)", (readable(rng, (3, 4)), _mask(rng, (3, 4), 0.75))),
        Case("an image batch (2, 3, 4, 4), p = 0.5", (readable(rng, (2, 3, 4, 4)), _mask(rng, (2, 3, 4, 4), 0.5))),
    ]


def dropout_backward_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random shapes, drop probabilities (0 and 1 included) and gradient scales, some float32."""
    shapes = [(1,), (9,), (4, 5), (32, 16), (3, 1, 6), (2, 3, 5, 5)]
    ps = [0.5, 0.1, 0.9, 0.0, 1.0, 0.3, 0.75]
    cases = []
    for i in range(21):
        shape, p = shapes[i % len(shapes)], ps[i % len(ps)]
        scale = (1.0, 1e-3, 1e3)[i % 3]
        case = Case(f"shape {shape_text(shape)}, mask of p = {p:g}, grad_output of scale {scale:g}",
                    (normal(rng, shape, scale), _mask(rng, shape, p)))
        cases.append(as_float32(case) if i % 6 == 4 else case)
    return cases


register(
    Exercise("dropout", ASSIGNMENT, 3, None, ("out", "mask"), dropout_visible_cases, dropout_hidden_cases,
             DROPOUT_MISTAKES, properties=DROPOUT_PROPERTIES, parameter_names=PARAMETERS,
             stand_in=torch_dropout_stand_in),
    Exercise("dropout_backward", ASSIGNMENT, 1, torch_dropout_backward, ("grad_x",),
             dropout_backward_visible_cases, dropout_backward_hidden_cases, DROPOUT_BACKWARD_MISTAKES),
)
