"""Chapter 01_linear: linear layer, ReLU, softmax cross-entropy, and their gradients."""

from __future__ import annotations

import numpy as np

from ..model import Case, Exercise, Mistake, register
from . import _torch
from ._cases import as_float32, normal, readable, shape_text, visible_rng, with_zeros

ASSIGNMENT = "01_linear"
SHAPE_ERROR = r"matmul|shapes? .* not aligned|mismatch|could not be broadcast|operands could not"


# ---------------------------------------------------------------- torch references


def torch_linear(x, weight, bias=None):
    """``F.linear`` in float64: ``(*, in) , (out, in), (out,) -> (*, out)``."""
    import torch.nn.functional as F

    return _torch.to_numpy(F.linear(_torch.tensor(x), _torch.tensor(weight), _torch.tensor(bias)))


def torch_linear_backward(grad_output, x, weight, bias=None):
    """Autograd of ``F.linear``: ``(grad_x, grad_weight, grad_bias or None)``."""
    import torch.nn.functional as F

    return _torch.gradients(F.linear, [x, weight, bias], grad_output)


def torch_relu(x):
    """``F.relu`` in float64."""
    import torch.nn.functional as F

    return _torch.to_numpy(F.relu(_torch.tensor(x)))


def torch_relu_backward(grad_output, x):
    """Autograd of ``F.relu`` with respect to ``x`` (0 at ``x == 0``)."""
    import torch.nn.functional as F

    return _torch.gradients(F.relu, [x], grad_output)[0]


def torch_cross_entropy(logits, target):
    """``F.cross_entropy`` (mean reduction) in float64, as a 0-d array."""
    import torch.nn.functional as F

    return _torch.to_numpy(F.cross_entropy(_torch.tensor(logits), _torch.index_tensor(target)))


def torch_cross_entropy_backward(logits, target):
    """Autograd of ``F.cross_entropy`` with respect to ``logits``: ``(N, C)``."""
    import torch.nn.functional as F

    targets = _torch.index_tensor(target)
    return _torch.gradients(lambda z: F.cross_entropy(z, targets), [logits])[0]


def torch_per_sample_losses(logits, target):
    """``F.cross_entropy`` without reduction: the ``(N,)`` losses of the examples."""
    import torch.nn.functional as F

    return _torch.to_numpy(F.cross_entropy(_torch.tensor(logits), _torch.index_tensor(target), reduction="none"))


# ---------------------------------------------------------------- known mistakes
# Each is computed from NumPy pieces that are wrong on purpose, or from the torch
# references: the package holds no NumPy solution of an exercise.


def _softmax(z, axis):
    """Softmax along ``axis`` with the max shift."""
    shifted = np.exp(z - z.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def _one_hot(target, classes):
    """``(N,)`` integer targets as an ``(N, C)`` one-hot matrix."""
    return np.eye(classes)[target]


def _unshifted_per_sample_losses(logits, target):
    """The per-sample losses as log-sum-exp minus the target logit, without any shift."""
    log_sum_exp = np.log(np.exp(logits).sum(axis=1))
    return log_sum_exp - logits[np.arange(len(target)), target]


def _globally_shifted_per_sample_losses(logits, target):
    """The per-sample losses with one shift, the maximum of the whole batch, for every row."""
    shifted = logits - logits.max()
    log_sum_exp = np.log(np.exp(shifted).sum(axis=1))
    return log_sum_exp - shifted[np.arange(len(target)), target]


def _log_of_probability(probabilities, target):
    """``-log p[n, target[n]]`` for each ``n``, taking the logarithm of the probabilities."""
    return -np.log(probabilities[np.arange(len(target)), target])


def _softmax_unshifted(z, axis):
    """Softmax along ``axis`` without any shift (overflows for large logits)."""
    return np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)


def _softmax_global_shift(z):
    """Softmax over each row, shifted by the maximum of the whole batch."""
    e = np.exp(z - z.max())
    return e / e.sum(axis=1, keepdims=True)


def _softmax_columns_of_row_shifted(z):
    """Rows shifted by their own maximum, then normalized over each column (axis 0)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


TRANSPOSED_WEIGHT_HINT = ("weight has torch's layout (out_features, in_features), one row per output feature: "
                          "each output sums over in_features, the last axis of both x and weight.")

LINEAR_MISTAKES = (
    Mistake(
        "transposed weight",
        TRANSPOSED_WEIGHT_HINT,
        output=lambda x, weight, bias=None: x @ weight + (0 if bias is None else bias),
        raises=SHAPE_ERROR,
    ),
    Mistake(
        "bias ignored",
        "the bias is missing from the output: when one is given, each output feature j has its own offset bias[j], "
        "the same for every example.",
        output=lambda x, weight, bias=None: x @ weight.T,
    ),
    Mistake(
        "bias None not handled",
        "bias is optional: None means a layer without an offset, a case to handle before using bias.",
        raises=r"NoneType",
    ),
)

LINEAR_BACKWARD_MISTAKES = (
    Mistake(
        "bias gradient averaged",
        "grad_bias is N times too small: the bias is shared by the N examples, so each example's contribution "
        "counts in full; the 1/N of a mean loss is already inside grad_output.",
        output=lambda g, x, weight, bias=None: g.mean(axis=0),
        component="grad_bias",
    ),
    Mistake(
        "weight gradient transposed",
        "grad_weight is transposed: it has weight's shape (out_features, in_features), one row per output feature.",
        output=lambda g, x, weight, bias=None: x.T @ g,
        component="grad_weight",
    ),
    Mistake(
        "input gradient with transposed weight",
        "grad_x has x's shape (N, in_features), and its sum runs over the output features: check which axis of "
        "weight (out_features is axis 0) your product sums over.",
        output=lambda g, x, weight, bias=None: g @ weight.T,
        component="grad_x",
        raises=SHAPE_ERROR,
    ),
    Mistake(
        "grad_bias not None",
        "when bias is None there is no bias gradient: return None as grad_bias.",
        raises=r"NoneType",
    ),
)

RELU_MISTAKES = (
    Mistake(
        "np.max instead of np.maximum",
        "np.max(x, 0) reduces x along axis 0 instead of acting on each entry: the output must have x's shape.",
        output=lambda x: np.max(x, 0),
    ),
    Mistake(
        "mask returned",
        "this returns 0 or 1 per entry, a mask; relu returns the entries' values where they are positive.",
        output=lambda x: (x > 0).astype(float),
    ),
)

RELU_BACKWARD_MISTAKES = (
    Mistake(
        ">= at zero",
        "at x == 0 torch uses the subgradient 0: the mask is x > 0, not x >= 0.",
        output=lambda g, x: g * (x >= 0),
    ),
    Mistake(
        "mask not multiplied by grad_output",
        "the result does not depend on grad_output: the chain rule carries the upstream gradient through each active "
        "entry.",
        output=lambda g, x: (x > 0).astype(float),
    ),
    Mistake(
        "mask of grad_output",
        "the mask depends on the layer's input x, not on grad_output.",
        output=lambda g, x: g * (g > 0),
    ),
)

MAX_SHIFT_HINT = ("exp of a large logit overflows to inf, and NaN follows: apply the shift of the section "
                  "'Overflow and the log-sum-exp shift' before exponentiating.")
GLOBAL_SHIFT_HINT = ("one shift for the whole batch is not enough: in a row of much smaller logits every exp(...) "
                     "underflows to 0. Each row is one example's softmax and needs a shift of its own.")
LOG_OF_SOFTMAX_HINT = ("a tiny probability underflows to 0 and log(0) = -inf: never form the target's "
                       "probability; compute its logarithm directly, in the log-sum-exp form of the section.")
WRONG_AXIS_HINT = "softmax normalizes each row (over the classes, axis=1), not each column."

CROSS_ENTROPY_MISTAKES = (
    Mistake("missing max shift", MAX_SHIFT_HINT,
            output=lambda z, t: _log_of_probability(_softmax_unshifted(z, 1), t).mean()),
    Mistake("missing max shift, log-sum-exp form", MAX_SHIFT_HINT,
            output=lambda z, t: _unshifted_per_sample_losses(z, t).mean()),
    Mistake("shift by the batch maximum", GLOBAL_SHIFT_HINT,
            output=lambda z, t: _globally_shifted_per_sample_losses(z, t).mean()),
    Mistake("shift by the batch maximum, log of softmax", GLOBAL_SHIFT_HINT,
            output=lambda z, t: _log_of_probability(_softmax_global_shift(z), t).mean()),
    Mistake("log of softmax", LOG_OF_SOFTMAX_HINT,
            output=lambda z, t: _log_of_probability(_softmax(z, axis=1), t).mean()),
    Mistake(
        "sum instead of mean",
        "the loss is N times too large: F.cross_entropy averages the examples' losses over the batch.",
        output=lambda z, t: torch_per_sample_losses(z, t).sum(),
    ),
    Mistake(
        "per-example losses returned",
        "return the mean over the batch (one number), not one loss per example.",
        output=torch_per_sample_losses,
    ),
    Mistake("softmax over the wrong axis", WRONG_AXIS_HINT,
            output=lambda z, t: _log_of_probability(_softmax(z, axis=0), t).mean()),
    Mistake("softmax over the wrong axis, rows shifted", WRONG_AXIS_HINT,
            output=lambda z, t: _log_of_probability(_softmax_columns_of_row_shifted(z), t).mean()),
    Mistake(
        "sign flipped",
        "the loss came out negative: it is the negative log-likelihood of the targets, which is never negative.",
        output=lambda z, t: -torch_cross_entropy(z, t),
    ),
)

CROSS_ENTROPY_BACKWARD_MISTAKES = (
    Mistake(
        "missing 1/N",
        "the gradient is N times too large: the loss is a mean over the N examples, not a sum.",
        output=lambda z, t: torch_cross_entropy_backward(z, t) * len(t),
    ),
    Mistake("softmax over the wrong axis", WRONG_AXIS_HINT,
            output=lambda z, t: (_softmax(z, 0) - _one_hot(t, z.shape[1])) / len(t)),
    Mistake("softmax over the wrong axis, rows shifted", WRONG_AXIS_HINT,
            output=lambda z, t: (_softmax_columns_of_row_shifted(z) - _one_hot(t, z.shape[1])) / len(t)),
    Mistake(
        "sign flipped",
        "the gradient points towards a higher loss: raising the target's logit lowers the loss, "
        "so the target's entry is negative.",
        output=lambda z, t: -torch_cross_entropy_backward(z, t),
    ),
    Mistake("missing max shift", MAX_SHIFT_HINT,
            output=lambda z, t: (_softmax_unshifted(z, 1) - _one_hot(t, z.shape[1])) / len(t)),
    Mistake("shift by the batch maximum", GLOBAL_SHIFT_HINT,
            output=lambda z, t: (_softmax_global_shift(z) - _one_hot(t, z.shape[1])) / len(t)),
)


# ---------------------------------------------------------------- cases


def linear_visible_cases() -> list[Case]:
    """A batch with bias, a square weight, no bias, and extra batch dimensions."""
    rng = visible_rng()
    return [
        Case("batch of 4, 3 -> 2 features, with bias",
             (readable(rng, (4, 3)), readable(rng, (2, 3)), readable(rng, (2,)))),
        Case("square weight, 3 -> 3 features, with bias",
             (readable(rng, (2, 3)), readable(rng, (3, 3)), readable(rng, (3,)))),
        Case("no bias (bias=None), 3 -> 2 features",
             (readable(rng, (4, 3)), readable(rng, (2, 3))), {"bias": None}),
        Case("x of shape (2, 3, 4): batch dimensions (2, 3) before the features",
             (readable(rng, (2, 3, 4)), readable(rng, (5, 4)), readable(rng, (5,)))),
    ]


def linear_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random batch shapes (none, N=1, several axes), feature sizes, scales, with and without bias."""
    batch_shapes = [(), (1,), (7,), (2, 3), (2, 1, 4), (16,)]
    cases = []
    for i in range(24):
        batch = batch_shapes[i % len(batch_shapes)]
        n_in, n_out = (int(v) for v in rng.integers(1, 9, size=2))
        scale = (1.0, 1e-3, 1e3)[i % 3]
        has_bias = i % 4 != 1
        x = normal(rng, (*batch, n_in), scale)
        weight = normal(rng, (n_out, n_in))
        bias = normal(rng, (n_out,)) if has_bias else None
        case = Case(
            f"{'with' if has_bias else 'no'} bias, x of shape {shape_text(x.shape)}, "
            f"{n_in} -> {n_out} features, inputs of scale {scale:g}",
            (x, weight), {"bias": bias},
        )
        cases.append(as_float32(case) if i % 8 == 7 else case)
    return cases


def linear_backward_visible_cases() -> list[Case]:
    """A batch with bias, a square weight, no bias, and a single example."""
    rng = visible_rng()
    return [
        Case("batch of 4, 3 -> 2 features, with bias",
             (readable(rng, (4, 2)), readable(rng, (4, 3)), readable(rng, (2, 3)), readable(rng, (2,)))),
        Case("square weight, 3 -> 3 features, with bias",
             (readable(rng, (2, 3)), readable(rng, (2, 3)), readable(rng, (3, 3)), readable(rng, (3,)))),
        Case("no bias (bias=None): grad_bias must be None",
             (readable(rng, (4, 2)), readable(rng, (4, 3)), readable(rng, (2, 3))), {"bias": None}),
        Case("a single example (N = 1), 5 -> 4 features, with bias",
             (readable(rng, (1, 4)), readable(rng, (1, 5)), readable(rng, (4, 5)), readable(rng, (4,)))),
    ]


def linear_backward_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random N (including 1), feature sizes and scales, with and without bias."""
    cases = []
    for i in range(24):
        n = (1, 2, 5, 32)[i % 4]
        n_in, n_out = (int(v) for v in rng.integers(1, 9, size=2))
        has_bias = i % 3 != 2
        scale = (1.0, 1e-2, 1e2)[i % 3]
        case = Case(
            f"{'with' if has_bias else 'no'} bias, N = {n}, {n_in} -> {n_out} features, scale {scale:g}",
            (normal(rng, (n, n_out)), normal(rng, (n, n_in), scale), normal(rng, (n_out, n_in))),
            {"bias": normal(rng, (n_out,)) if has_bias else None},
        )
        cases.append(as_float32(case) if i % 8 == 5 else case)
    return cases


def relu_visible_cases() -> list[Case]:
    """A vector with negative, zero and positive entries, a matrix, an image batch."""
    rng = visible_rng()
    return [
        Case("a vector with negative, zero and positive entries", (np.array([-2.0, -0.5, 0.0, 0.5, 2.0]),)),
        Case("a (3, 4) matrix with some zeros", (with_zeros(rng, readable(rng, (3, 4))),)),
        Case("an image batch of shape (2, 3, 4, 4)", (readable(rng, (2, 3, 4, 4)),)),
    ]


def relu_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random shapes from 0-d to 4-d, with exact zeros, at several scales."""
    shapes = [(), (1,), (9,), (4, 5), (3, 1, 6), (2, 3, 5, 5)]
    cases = []
    for i in range(18):
        shape = shapes[i % len(shapes)]
        scale = (1.0, 1e-4, 1e4)[i % 3]
        case = Case(f"shape {shape_text(shape)}, scale {scale:g}, with exact zeros",
                    (with_zeros(rng, np.asarray(normal(rng, shape, scale))),))
        cases.append(as_float32(case) if i % 6 == 4 else case)
    return cases


def relu_backward_visible_cases() -> list[Case]:
    """Zeros in ``x`` (where torch's gradient is 0), a matrix, an image batch."""
    rng = visible_rng()
    return [
        Case("x with negative, zero and positive entries",
             (np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([-2.0, -0.5, 0.0, 0.5, 2.0]))),
        Case("a (3, 4) matrix, x with some zeros",
             (readable(rng, (3, 4)), with_zeros(rng, readable(rng, (3, 4))))),
        Case("an image batch of shape (2, 3, 4, 4)", (readable(rng, (2, 3, 4, 4)), readable(rng, (2, 3, 4, 4)))),
    ]


def relu_backward_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random shapes with exact zeros in ``x`` and grad_output of both signs."""
    shapes = [(1,), (9,), (4, 5), (3, 1, 6), (2, 3, 5, 5), ()]
    cases = []
    for i in range(18):
        shape = shapes[i % len(shapes)]
        scale = (1.0, 1e-4, 1e4)[i % 3]
        x = with_zeros(rng, np.asarray(normal(rng, shape, scale)), 0.3)
        case = Case(f"shape {shape_text(shape)}, scale {scale:g}, with exact zeros in x",
                    (np.asarray(normal(rng, shape)), x))
        cases.append(as_float32(case) if i % 6 == 4 else case)
    return cases


def _classification_case(rng, description, n, classes, scale) -> Case:
    """Logits ``(n, classes)`` of the given scale and random integer targets."""
    logits = normal(rng, (n, classes), scale)
    target = rng.integers(0, classes, size=n)
    return Case(description, (logits, target))


def cross_entropy_visible_cases() -> list[Case]:
    """Small logits, one example, large logits, a tiny target probability, rows of very different
    sizes, ten classes: each numerical mistake fails a case of its own."""
    rng = visible_rng()
    return [
        Case("4 examples, 3 classes", (readable(rng, (4, 3)), np.array([0, 2, 1, 2]))),
        Case("a single example (N = 1), 5 classes", (readable(rng, (1, 5)), np.array([3]))),
        Case("logits near 1e4 (exp overflows unless the logits are shifted)",
             (np.array([[1e4, 1e4 - 1, 1e4 - 3], [1e4 - 0.5, 1e4, 1e4 - 2]]), np.array([1, 2]))),
        Case("a target with a tiny probability, about e**-805 (its log is large but finite)",
             (np.array([[0.0, -800.0, 5.0]]), np.array([1]))),
        Case("rows of very different sizes (each row needs its own shift)",
             (np.array([[700.0, 0.0, 1.0], [-100.0, -101.0, -99.0]]), np.array([0, 1]))),
        Case("8 examples, 10 classes", (readable(rng, (8, 10), 4.0), rng.integers(0, 10, size=8))),
    ]


def _far_apart_rows_case(rng, n, classes) -> Case:
    """Rows offset by hundreds from each other, with one target far below its row's maximum."""
    logits = normal(rng, (n, classes), 3.0) + rng.uniform(-700, 700, size=(n, 1))
    target = rng.integers(0, classes, size=n)
    logits[0, target[0]] = logits[0].max() - rng.uniform(750, 900)
    return Case(f"N = {n}, {classes} classes, rows offset by hundreds, a target of tiny probability",
                (logits, target))


def cross_entropy_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random N (including 1), class counts (including 2), logit scales up to 1e4, rows of very
    different sizes and targets of tiny probability."""
    cases = []
    for i in range(24):
        n = (1, 3, 16, 64)[i % 4]
        classes = (2, 3, 10, 7)[i // 6 % 4]
        scale = (1.0, 10.0, 1e4, 1e-3)[i % 4 if i % 5 else 2]
        case = _classification_case(rng, f"N = {n}, {classes} classes, logits of scale {scale:g}", n, classes, scale)
        cases.append(as_float32(case) if i % 8 == 3 else case)
    cases += [_far_apart_rows_case(rng, n, classes) for n, classes in ((2, 3), (5, 10), (16, 4))]
    return cases


# The gradient is small and the same cases serve both functions.
cross_entropy_backward_visible_cases = cross_entropy_visible_cases
cross_entropy_backward_hidden_cases = cross_entropy_hidden_cases


register(
    Exercise("linear", ASSIGNMENT, 2, torch_linear, ("output",),
             linear_visible_cases, linear_hidden_cases, LINEAR_MISTAKES, sums_of_products=True),
    Exercise("linear_backward", ASSIGNMENT, 3, torch_linear_backward, ("grad_x", "grad_weight", "grad_bias"),
             linear_backward_visible_cases, linear_backward_hidden_cases, LINEAR_BACKWARD_MISTAKES,
             sums_of_products=True),
    Exercise("relu", ASSIGNMENT, 1, torch_relu, ("output",),
             relu_visible_cases, relu_hidden_cases, RELU_MISTAKES),
    Exercise("relu_backward", ASSIGNMENT, 1, torch_relu_backward, ("grad_x",),
             relu_backward_visible_cases, relu_backward_hidden_cases, RELU_BACKWARD_MISTAKES),
    Exercise("cross_entropy", ASSIGNMENT, 3, torch_cross_entropy, ("loss",),
             cross_entropy_visible_cases, cross_entropy_hidden_cases, CROSS_ENTROPY_MISTAKES, kind="number"),
    Exercise("cross_entropy_backward", ASSIGNMENT, 3, torch_cross_entropy_backward, ("grad_logits",),
             cross_entropy_backward_visible_cases, cross_entropy_backward_hidden_cases,
             CROSS_ENTROPY_BACKWARD_MISTAKES),
)
