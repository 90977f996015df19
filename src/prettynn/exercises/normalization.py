"""Chapter 03_normalization: batch normalization (forward and backward) and layer normalization."""

from __future__ import annotations

import numpy as np

from ..model import Case, Exercise, Mistake, register
from . import _torch
from ._cases import as_float32, normal, readable, shape_text, visible_rng

ASSIGNMENT = "03_normalization"


# ---------------------------------------------------------------- torch references


def torch_batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                     eps=1e-5):
    """``F.batch_norm`` in float64; updates ``running_mean`` / ``running_var`` in place as torch does.

    - x: ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)``; running statistics, weight, bias: ``(C,)`` or ``None``
    - returns: the normalized output, of ``x``'s shape
    """
    import torch.nn.functional as F

    mean, var = _torch.tensor(running_mean), _torch.tensor(running_var)
    output = F.batch_norm(_torch.tensor(x), mean, var, _torch.tensor(weight), _torch.tensor(bias),
                          training=training, momentum=momentum, eps=eps)
    for array, updated in ((running_mean, mean), (running_var, var)):
        if array is not None:
            array[...] = _torch.to_numpy(updated)
    return _torch.to_numpy(output)


def torch_batch_norm_backward(grad_output, x, weight=None, eps=1e-5):
    """Autograd of ``F.batch_norm`` in training mode: ``(grad_x, grad_weight, grad_bias)``.

    ``weight`` ``None`` is differentiated as ones, and the bias as zeros, so ``grad_weight``
    and ``grad_bias`` always have shape ``(C,)``.
    """
    import torch.nn.functional as F

    channels = x.shape[1]
    gamma = np.ones(channels) if weight is None else weight
    return _torch.gradients(
        lambda x_, w_, b_: F.batch_norm(x_, None, None, w_, b_, training=True, eps=eps),
        [x, gamma, np.zeros(channels)], grad_output)


def torch_layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """``F.layer_norm`` in float64; an int ``normalized_shape`` means the last axis."""
    import torch.nn.functional as F

    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    return _torch.to_numpy(F.layer_norm(_torch.tensor(x), shape, _torch.tensor(weight), _torch.tensor(bias), eps))


# ---------------------------------------------------------------- known mistakes
# A mistake takes every part it gets right from torch (the references above, or torch's own
# statistics and normalizations) and computes in NumPy only the part that is wrong on purpose:
# the package holds no NumPy solution of an exercise. No helper below computes a right batch
# norm, batch norm backward or layer norm in NumPy, whatever its arguments.


def _channel_axes(ndim: int) -> tuple[int, ...]:
    """The axes batch norm averages over: every axis but the channel axis 1."""
    return (0, *range(2, ndim))


def _per_channel(values, ndim: int):
    """A ``(C,)`` array shaped ``(1, C, 1, ...)`` to broadcast against an ``ndim``-d input."""
    return np.reshape(values, (1, -1) + (1,) * (ndim - 2))


def _channel_count(x) -> int:
    """How many values each channel of ``x`` has: ``N`` times the size of the axes after the channel axis."""
    return x.size // x.shape[1]


def _torch_var_mean(x, axes, correction: int):
    """``torch.var_mean`` of ``x`` over ``axes`` in float64, axes kept: ``(variance, mean)`` as NumPy arrays.

    ``correction`` 0 gives the biased variance, 1 the unbiased one.
    """
    import torch

    var, mean = torch.var_mean(_torch.tensor(x), dim=tuple(axes), correction=correction, keepdim=True)
    return _torch.to_numpy(var), _torch.to_numpy(mean)


def _batch_statistics(x, correction: int):
    """The per-channel ``(variance, mean)`` of the batch ``x``, each of shape ``(C,)``, from torch."""
    var, mean = _torch_var_mean(x, _channel_axes(x.ndim), correction)
    return var.reshape(-1), mean.reshape(-1)


def _normalized_over(x, axes, eps):
    """``x`` normalized over ``axes`` by torch: those axes moved last, ``torch_layer_norm`` over them
    (no weight or bias), moved back. Over the channel axes this is batch norm's ``x_hat``; a mistake
    uses it over wrong axes, or for the part it gets right."""
    x = np.asarray(x, dtype=np.float64)
    axes = tuple(axis % x.ndim for axis in axes)
    last = tuple(range(x.ndim - len(axes), x.ndim))
    moved = np.moveaxis(x, axes, last)
    return np.moveaxis(torch_layer_norm(moved, moved.shape[last[0]:], eps=eps), last, axes)


def _batch_x_hat(x, eps):
    """The batch ``x`` normalized per channel with its biased statistics, as in training (torch).

    Not ``F.batch_norm`` itself, which refuses a channel of one value (an evaluation case of shape
    ``(1, C)`` that a mistake normalizes with the batch's statistics); the values are the same.
    """
    return _normalized_over(x, _channel_axes(x.ndim), eps)


def _per_channel_affine(x_hat, weight, bias):
    """``x_hat * weight + bias`` per channel (axis 1), either ``None``: ``torch_batch_norm`` in evaluation
    with running mean 0, running variance 1 and eps 0, which only scales and shifts."""
    channels = x_hat.shape[1]
    return torch_batch_norm(x_hat, np.zeros(channels), np.ones(channels), weight, bias, eps=0.0)


def _elementwise_affine(x_hat, weight, bias, k: int):
    """``x_hat * weight + bias`` for a weight and bias shaped like the last ``k`` axes of ``x_hat`` (layer
    norm's), either ``None``: ``_per_channel_affine`` on the rows of those axes flattened."""
    rows = x_hat.reshape(-1, int(np.prod(x_hat.shape[x_hat.ndim - k:])))
    weight, bias = (None if values is None else np.ravel(values) for values in (weight, bias))
    return _per_channel_affine(rows, weight, bias).reshape(x_hat.shape)


def _eps_outside(x, mean, var, eps):
    """``(x - mean) / (sqrt(var) + eps)``: eps outside the square root, wrong on purpose."""
    return (np.asarray(x, dtype=np.float64) - mean) / (np.sqrt(var) + eps)


def _eps_outside_over(x, axes, eps):
    """``_eps_outside`` with the mean and the biased variance of ``x`` over ``axes``, from torch."""
    var, mean = _torch_var_mean(x, axes, correction=0)
    return _eps_outside(x, mean, var, eps)


def _unbiased_standardized(x, axes, eps):
    """``x`` minus its mean over ``axes``, divided by ``sqrt(var + eps)`` with the UNBIASED variance over
    ``axes`` (wrong on purpose, always); the mean and the variance come from torch."""
    var, mean = _torch_var_mean(x, axes, correction=1)
    return (np.asarray(x, dtype=np.float64) - mean) / np.sqrt(var + eps)


def _batch_norm_mistake(wrong_training=None, wrong_evaluation=None):
    """A batch norm whose training and/or evaluation normalization is wrong.

    ``wrong_training(x, eps)`` and ``wrong_evaluation(x, running_mean, running_var, eps)`` return the
    mistaken normalized ``x``, which torch then scales and shifts; the mode a mistake gets right is
    torch's (the running statistics of the caller are left alone: a mistake is judged on the output).
    """

    def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                   eps=1e-5):
        """The mistaken batch norm's output."""
        wrong = wrong_training if training else wrong_evaluation
        if wrong is None:
            mean = None if running_mean is None else np.array(running_mean, dtype=np.float64)
            var = None if running_var is None else np.array(running_var, dtype=np.float64)
            return torch_batch_norm(x, mean, var, weight, bias, training, momentum, eps)
        x_hat = wrong(x, eps) if training else wrong(x, running_mean, running_var, eps)
        return _per_channel_affine(x_hat, weight, bias)

    return batch_norm


def _eps_outside_in_evaluation(x, running_mean, running_var, eps):
    """Evaluation's normalization with the running statistics, eps outside the square root."""
    return _eps_outside(x, _per_channel(running_mean, x.ndim), _per_channel(running_var, x.ndim), eps)


WRONG_AXES_HINT = ("batch norm keeps one mean and one variance per channel (axis 1), computed over every other "
                   "axis: axis 0 for (N, C), axes (0, 2) for (N, C, L), axes (0, 2, 3) for (N, C, H, W).")
EPS_OUTSIDE_HINT = ("eps goes inside the square root, added to the variance, as in the formula of the "
                    "transform; adding it to the standard deviation gives a different function.")
UNBIASED_HINT = ("normalize with the biased batch variance (divide by the number of values, np.var's default); "
                 "the unbiased one (divide by the number minus 1) is only for updating running_var.")
EVAL_BATCH_STATS_HINT = ("in evaluation (training=False) normalize with running_mean and running_var, not with "
                         "the statistics of the batch, so that an example's output does not depend on its batch.")

BIASED_RUNNING_VAR_HINT = ("running_var is updated with the unbiased batch variance (the sum of squared deviations "
                           "divided by the number of values per channel minus 1), as torch does; the output itself "
                           "is normalized with the biased one.")
MOMENTUM_REVERSED_HINT = ("momentum is the weight of the new batch statistic in the update, not the weight of the "
                          "old running value (the opposite of an optimiser's momentum).")


def _running_update_mistake(name: str, new_value):
    """What a mistaken update leaves in the argument ``name`` (``"running_mean"`` or ``"running_var"``).

    In training, ``new_value(old, x, momentum)`` (each wrong on purpose); in evaluation, the old
    value; ``None`` when the argument is ``None``.
    """

    def after_the_call(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                       eps=1e-5):
        """The mistaken value of the running statistic after the call."""
        old = running_mean if name == "running_mean" else running_var
        if old is None:
            return None
        if training:
            return np.asarray(new_value(old, np.asarray(x, dtype=np.float64), momentum), dtype=np.float64)
        return np.array(old, dtype=np.float64)

    return after_the_call


BATCH_NORM_MISTAKES = (
    Mistake("biased running variance", BIASED_RUNNING_VAR_HINT, component="running_var",
            output=_running_update_mistake("running_var", lambda old, x, momentum: (
                (1 - momentum) * old + momentum * _batch_statistics(x, correction=0)[0]))),
    Mistake("momentum reversed in running_mean", MOMENTUM_REVERSED_HINT, component="running_mean",
            output=_running_update_mistake("running_mean", lambda old, x, momentum: (
                momentum * old + (1 - momentum) * _batch_statistics(x, correction=0)[1]))),
    Mistake("momentum reversed in running_var", MOMENTUM_REVERSED_HINT, component="running_var",
            output=_running_update_mistake("running_var", lambda old, x, momentum: (
                momentum * old + (1 - momentum) * _batch_statistics(x, correction=1)[0]))),
    Mistake("statistics over axis 0 only", WRONG_AXES_HINT,
            output=_batch_norm_mistake(lambda x, eps: _normalized_over(x, (0,), eps))),
    Mistake("per-sample statistics", WRONG_AXES_HINT,
            output=_batch_norm_mistake(lambda x, eps: _normalized_over(x, range(1, x.ndim), eps))),
    Mistake("statistics over every axis", WRONG_AXES_HINT,
            output=_batch_norm_mistake(lambda x, eps: _normalized_over(x, range(x.ndim), eps))),
    Mistake("eps outside the square root", EPS_OUTSIDE_HINT, output=_batch_norm_mistake(
        lambda x, eps: _eps_outside_over(x, _channel_axes(x.ndim), eps), _eps_outside_in_evaluation)),
    Mistake("normalized with the unbiased variance", UNBIASED_HINT, output=_batch_norm_mistake(
        lambda x, eps: _unbiased_standardized(x, _channel_axes(x.ndim), eps))),
    Mistake("evaluation with batch statistics", EVAL_BATCH_STATS_HINT, output=_batch_norm_mistake(
        wrong_evaluation=lambda x, mean, var, eps: _batch_x_hat(x, eps))),
)


def _gamma_over_std(x, weight, eps, correction: int):
    """``weight / sqrt(var + eps)`` per channel (``weight`` ``None`` as ones), broadcast against ``x``,
    with the batch variance of ``correction`` from torch."""
    var, _ = _torch_var_mean(x, _channel_axes(x.ndim), correction)
    gamma = 1.0 if weight is None else _per_channel(np.asarray(weight, dtype=np.float64), x.ndim)
    return gamma / np.sqrt(var + eps)


def _path_term(scale, x_hat, g):
    """``scale * x_hat * mean(g * x_hat)`` per channel: the size of the term through the variance."""
    return scale * x_hat * (g * x_hat).mean(axis=_channel_axes(g.ndim), keepdims=True)


def _backward_terms(g, x, weight, eps):
    """``(grad_x, mean term, variance term)``: torch's input gradient, and the terms through the batch mean
    (``weight / std * mean of g``) and the batch variance that it subtracts, from torch's std and x_hat."""
    g = np.asarray(g, dtype=np.float64)
    grad_x = torch_batch_norm_backward(g, x, weight, eps)[0]
    scale = _gamma_over_std(x, weight, eps, correction=0)
    mean_term = scale * g.mean(axis=_channel_axes(g.ndim), keepdims=True)
    return grad_x, mean_term, _path_term(scale, _batch_x_hat(x, eps), g)


def _grad_x_without_mean_path(g, x, weight=None, eps=1e-5):
    """The input gradient without the term through the batch mean: torch's, plus that term back."""
    grad_x, mean_term, _ = _backward_terms(g, x, weight, eps)
    return grad_x + mean_term


def _grad_x_without_variance_path(g, x, weight=None, eps=1e-5):
    """The input gradient without the term through the batch variance: torch's, plus that term back."""
    grad_x, _, variance_term = _backward_terms(g, x, weight, eps)
    return grad_x + variance_term


def _grad_x_with_constant_statistics(g, x, weight=None, eps=1e-5):
    """The input gradient as if the mean and the variance did not depend on ``x``: ``g * weight / std``."""
    return _gamma_over_std(x, weight, eps, correction=0) * np.asarray(g, dtype=np.float64)


def _grad_x_variance_over_n_minus_1(g, x, weight=None, eps=1e-5):
    """The input gradient with the variance path's mean taken as a sum over ``count - 1``: torch's, minus
    the variance term over ``count - 1`` (its ``count / (count - 1)`` times, less once)."""
    grad_x, _, variance_term = _backward_terms(g, x, weight, eps)
    return grad_x - variance_term / (_channel_count(x) - 1)


def _grad_x_unbiased_exact(g, x, weight=None, eps=1e-5):
    """The input gradient of a batch norm that normalizes with the unbiased variance (wrong on purpose),
    by torch's autograd."""
    import torch

    axes = _channel_axes(x.ndim)
    gamma = np.ones(x.shape[1]) if weight is None else weight

    def unbiased_batch_norm(x_, weight_):
        """Training normalization with the unbiased variance, scaled by ``weight_``."""
        var, mean = torch.var_mean(x_, dim=axes, correction=1, keepdim=True)
        return (x_ - mean) / torch.sqrt(var + eps) * weight_.reshape(_per_channel(gamma, x.ndim).shape)

    return _torch.gradients(unbiased_batch_norm, [x, gamma], g)[0]


def _grad_x_unbiased(g, x, weight=None, eps=1e-5):
    """The three-path formula of the biased variance, evaluated with the unbiased one: the exact gradient
    of that batch norm (its variance term ``count / (count - 1)`` times), plus the variance term over
    ``count - 1``."""
    scale = _gamma_over_std(x, weight, eps, correction=1)
    x_hat = _unbiased_standardized(x, _channel_axes(x.ndim), eps)
    variance_term = _path_term(scale, x_hat, np.asarray(g, dtype=np.float64))
    return _grad_x_unbiased_exact(g, x, weight, eps) + variance_term / (_channel_count(x) - 1)


def _grad_weight_over_axis_0(g, x, weight=None, eps=1e-5):
    """``grad_output * x_hat`` (x_hat from torch) summed over axis 0 only."""
    return (np.asarray(g, dtype=np.float64) * _batch_x_hat(x, eps)).sum(axis=0)


MEAN_PATH_HINT = ("grad_x misses the mean path: the batch mean depends on every input of the channel, and every "
                  "output depends on the mean. Without that path grad_x's channel sum is not zero; with it, it is.")
VARIANCE_PATH_HINT = ("grad_x misses the variance path: the batch variance depends on every input of the channel "
                      "too, and every output depends on it. Differentiate the variance with respect to x_i and "
                      "follow that path to the loss.")
CONSTANT_STATISTICS_HINT = ("grad_x treats the batch mean and variance as constants, but in training they are computed "
                            "from the batch and depend on x: two paths are missing, through the mean and through "
                            "the variance.")
N_MINUS_ONE_HINT = ("training normalizes with the biased variance (divide by the number of values per channel, "
                    "not that number minus 1), and its derivative averages over the same number of values.")
PARAMETER_AXES_HINT = ("weight and bias are shared by every position of a channel: sum their gradients over every "
                       "axis but the channel axis 1, so that each has shape (C,).")

BATCH_NORM_BACKWARD_MISTAKES = (
    Mistake("missing the mean path", MEAN_PATH_HINT, output=_grad_x_without_mean_path, component="grad_x"),
    Mistake("missing the variance path", VARIANCE_PATH_HINT, output=_grad_x_without_variance_path,
            component="grad_x"),
    Mistake("statistics treated as constants", CONSTANT_STATISTICS_HINT, output=_grad_x_with_constant_statistics,
            component="grad_x"),
    Mistake("normalized with the unbiased variance", N_MINUS_ONE_HINT, output=_grad_x_unbiased,
            component="grad_x"),
    Mistake("normalized with the unbiased variance, differentiated exactly", N_MINUS_ONE_HINT,
            output=_grad_x_unbiased_exact, component="grad_x"),
    Mistake("variance path divided by N - 1", N_MINUS_ONE_HINT, output=_grad_x_variance_over_n_minus_1,
            component="grad_x"),
    Mistake("grad_weight summed over axis 0 only", PARAMETER_AXES_HINT, output=_grad_weight_over_axis_0,
            component="grad_weight"),
    Mistake("grad_bias summed over axis 0 only", PARAMETER_AXES_HINT,
            output=lambda g, x, weight=None, eps=1e-5: g.sum(axis=0), component="grad_bias"),
    Mistake("grad_bias summed over every axis", PARAMETER_AXES_HINT,
            output=lambda g, x, weight=None, eps=1e-5: g.sum(), component="grad_bias"),
)


def _trailing_count(normalized_shape) -> int:
    """How many trailing axes ``normalized_shape`` (an int or a tuple) names."""
    return 1 if isinstance(normalized_shape, int) else len(normalized_shape)


def _trailing(ndim: int, k: int) -> tuple[int, ...]:
    """The last ``k`` of ``ndim`` axes."""
    return tuple(range(ndim - k, ndim))


def _layer_norm_mistake(wrong_normalization):
    """A layer norm whose normalization ``wrong_normalization(x, k, eps)``, for ``k`` named trailing axes,
    is wrong on purpose; torch then applies the weight and bias elementwise."""

    def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
        """The mistaken layer norm's output."""
        k = _trailing_count(normalized_shape)
        return _elementwise_affine(wrong_normalization(np.asarray(x, dtype=np.float64), k, eps), weight, bias, k)

    return layer_norm


LAYER_NORM_AXES_HINT = ("layer norm normalizes each example over the trailing axes that normalized_shape "
                        "names: for x of shape (N, L, D) and normalized_shape D, over the last axis; for "
                        "(L, D), over the last two.")

LAYER_NORM_MISTAKES = (
    Mistake("leading axes", LAYER_NORM_AXES_HINT,
            output=_layer_norm_mistake(lambda x, k, eps: _normalized_over(x, range(k), eps))),
    Mistake("only the last axis", LAYER_NORM_AXES_HINT,
            output=_layer_norm_mistake(lambda x, k, eps: _normalized_over(x, (x.ndim - 1,), eps))),
    Mistake("eps outside the square root", EPS_OUTSIDE_HINT,
            output=_layer_norm_mistake(lambda x, k, eps: _eps_outside_over(x, _trailing(x.ndim, k), eps))),
    Mistake("unbiased variance", "normalize with the biased variance (divide by the number of values, np.var's "
                                 "default), as torch's layer_norm does.",
            output=_layer_norm_mistake(lambda x, k, eps: _unbiased_standardized(x, _trailing(x.ndim, k), eps))),
)


# ---------------------------------------------------------------- cases


def _statistics(rng, channels):
    """Running mean ``(C,)`` and positive running variance ``(C,)``, readable."""
    return readable(rng, (channels,), 1.0), np.round(rng.uniform(0.5, 2.0, size=channels), 1)


def _batch_norm_case(rng, description, shape, training, *, affine=True, running=True, **kwargs) -> Case:
    """A batch_norm case on ``x`` of ``shape`` with readable values."""
    channels = shape[1]
    mean, var = _statistics(rng, channels) if running else (None, None)
    weight = readable(rng, (channels,)) if affine else None
    bias = readable(rng, (channels,)) if affine else None
    return Case(description, (readable(rng, shape, 3.0), mean, var),
                {"weight": weight, "bias": bias, "training": training, **kwargs})


def batch_norm_visible_cases() -> list[Case]:
    """Training and evaluation, every rank, no affine parameters, no running statistics, small
    variances, a batch of one sequence, other eps and momentum."""
    rng = visible_rng()
    small = 5.0 + np.round(rng.uniform(-1, 1, size=(6, 2)), 1) * 3e-3
    return [
        _batch_norm_case(rng, "training, x of shape (4, 3), with weight, bias and running statistics", (4, 3), True),
        _batch_norm_case(rng, "training, an image batch (2, 3, 4, 4), momentum 0.2", (2, 3, 4, 4), True,
                         momentum=0.2),
        _batch_norm_case(rng, "training, x of shape (2, 3, 5), weight, bias and running statistics all None",
                         (2, 3, 5), True, affine=False, running=False),
        _batch_norm_case(rng, "evaluation, x of shape (4, 3): normalize with the running statistics", (4, 3),
                         False),
        _batch_norm_case(rng, "evaluation, an image batch (2, 2, 3, 3), no weight or bias", (2, 2, 3, 3), False,
                         affine=False),
        Case("training, small variances (about 1e-5, as large as eps), x of shape (6, 2)",
             (small, np.zeros(2), np.ones(2)), {"training": True}),
        _batch_norm_case(rng, "training, a single sequence (N = 1) of shape (1, 2, 6), eps 1e-3, momentum 0.5",
                         (1, 2, 6), True, eps=1e-3, momentum=0.5),
    ]


def batch_norm_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random ranks 2 to 4, N = 1 in evaluation and for sequences and images in training, with and
    without weight, bias and running statistics, several eps and momentum values, scales from 1e-3
    to 1e3 and offsets (small variances)."""
    shapes = [(8, 5), (3, 4, 6), (2, 3, 4, 5), (1, 3, 7), (16, 2), (1, 2, 3, 3), (5, 1, 4), (1, 6)]
    cases = []
    for i in range(32):
        shape = shapes[i % len(shapes)]
        training = i % 3 != 2 and shape[0] * int(np.prod(shape[2:])) > 1
        channels = shape[1]
        scale = (1.0, 1e-3, 1e3, 0.05)[i % 4]
        offset = float(rng.uniform(-10, 10)) if i % 5 == 1 else 0.0
        eps = (1e-5, 1e-3, 0.1, 1e-8)[i // 2 % 4]
        momentum = (0.1, 0.01, 0.5, 1.0, 0.0)[i % 5]
        affine = i % 4 != 3
        running = not training or i % 6 != 4
        x = offset + normal(rng, shape, scale) * rng.uniform(0.5, 2.0, size=(1, channels) + (1,) * (len(shape) - 2))
        mean = normal(rng, (channels,)) if running else None
        var = rng.uniform(0.2, 3.0, size=channels) if running else None
        parts = [("training" if training else "evaluation"), f"x of shape {shape_text(shape)}",
                 f"scale {scale:g}" + (" around an offset" if offset else ""), f"eps {eps:g}",
                 f"momentum {momentum:g}", "with weight and bias" if affine else "weight and bias None",
                 "with running statistics" if running else "running statistics None"]
        case = Case(", ".join(parts), (x, mean, var),
                    {"weight": normal(rng, (channels,)) if affine else None,
                     "bias": normal(rng, (channels,)) if affine else None,
                     "training": training, "momentum": momentum, "eps": eps})
        cases.append(as_float32(case) if i % 8 == 4 else case)
    return cases


def batch_norm_backward_visible_cases() -> list[Case]:
    """A matrix batch, an image batch, no weight, a small variance, a batch of one sequence."""
    rng = visible_rng()
    small = -2.0 + np.round(rng.uniform(-1, 1, size=(6, 2)), 1) * 3e-3
    return [
        Case("x of shape (4, 3), with weight",
             (readable(rng, (4, 3)), readable(rng, (4, 3), 3.0), readable(rng, (3,)))),
        Case("an image batch (2, 3, 4, 4), with weight",
             (readable(rng, (2, 3, 4, 4)), readable(rng, (2, 3, 4, 4), 3.0), readable(rng, (3,)))),
        Case("x of shape (3, 2, 5), weight None (differentiate as if it were ones)",
             (readable(rng, (3, 2, 5)), readable(rng, (3, 2, 5), 3.0)), {"weight": None}),
        Case("small variances (about 1e-5, as large as eps), x of shape (6, 2)",
             (readable(rng, (6, 2)), small, readable(rng, (2,)))),
        Case("a single sequence (N = 1) of shape (1, 2, 6), eps 1e-3",
             (readable(rng, (1, 2, 6)), readable(rng, (1, 2, 6), 3.0), readable(rng, (2,))), {"eps": 1e-3}),
    ]


def batch_norm_backward_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random ranks 2 to 4 (N = 1 for sequences and images), with and without weight, several eps,
    scales from 1e-3 to 1e3 and offsets."""
    shapes = [(8, 5), (3, 4, 6), (2, 3, 4, 5), (1, 3, 7), (32, 2), (1, 2, 3, 3), (5, 1, 4), (2, 6)]
    cases = []
    for i in range(24):
        shape = shapes[i % len(shapes)]
        channels = shape[1]
        scale = (1.0, 1e-3, 1e3)[i % 3]
        offset = float(rng.uniform(-10, 10)) if i % 4 == 1 else 0.0
        eps = (1e-5, 1e-3, 0.1, 1e-8)[i // 3 % 4]
        has_weight = i % 4 != 2
        case = Case(
            f"x of shape {shape_text(shape)}, scale {scale:g}{' around an offset' if offset else ''}, eps {eps:g}, "
            f"{'with weight' if has_weight else 'weight None'}",
            (normal(rng, shape), offset + normal(rng, shape, scale)),
            {"weight": normal(rng, (channels,)) if has_weight else None, "eps": eps})
        cases.append(as_float32(case) if i % 8 == 3 else case)
    return cases


def layer_norm_visible_cases() -> list[Case]:
    """An int and a tuple normalized_shape, no weight or bias, sequences, a small variance."""
    rng = visible_rng()
    small = 3.0 + np.round(rng.uniform(-1, 1, size=(2, 5)), 1) * 3e-3
    return [
        Case("x of shape (3, 4), normalized_shape an int (the last axis), with weight and bias",
             (readable(rng, (3, 4), 3.0), 4, readable(rng, (4,)), readable(rng, (4,)))),
        Case("sequences (2, 3, 4), normalized_shape an int, weight and bias None",
             (readable(rng, (2, 3, 4), 3.0), 4)),
        Case("x of shape (2, 3, 4), normalized_shape the tuple (3, 4), weight and bias of that shape",
             (readable(rng, (2, 3, 4), 3.0), (3, 4), readable(rng, (3, 4)), readable(rng, (3, 4)))),
        Case("small variances (about 1e-5, as large as eps), x of shape (2, 5)", (small, (5,))),
        Case("a single example of shape (1, 6), eps 1e-3", (readable(rng, (1, 6), 3.0), 6), {"eps": 1e-3}),
    ]


def layer_norm_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random shapes, int and tuple normalized_shape of 1 to 3 axes (all of x included), with and
    without weight and bias, several eps, scales from 1e-3 to 1e3 and offsets."""
    layouts = [((8, 5), 1), ((3, 4, 6), 1), ((2, 3, 4, 5), 2), ((1, 7), 1), ((4, 3, 2), 3), ((2, 6, 4), 2),
               ((5, 2, 3, 3), 3), ((9,), 1)]
    cases = []
    for i in range(24):
        shape, k = layouts[i % len(layouts)]
        normalized = shape[-k:]
        as_int = k == 1 and i % 2 == 0
        scale = (1.0, 1e-3, 1e3)[i % 3]
        offset = float(rng.uniform(-10, 10)) if i % 4 == 1 else 0.0
        eps = (1e-5, 1e-3, 0.1, 1e-8)[i // 3 % 4]
        affine = i % 5 != 3
        case = Case(
            f"x of shape {shape_text(shape)}, normalized_shape {'an int' if as_int else 'a tuple'} of {k} axes, "
            f"scale {scale:g}{' around an offset' if offset else ''}, eps {eps:g}, "
            f"{'with weight and bias' if affine else 'weight and bias None'}",
            (offset + normal(rng, shape, scale), normalized[0] if as_int else tuple(normalized)),
            {"weight": normal(rng, normalized) if affine else None, "bias": normal(rng, normalized) if affine else None,
             "eps": eps})
        cases.append(as_float32(case) if i % 8 == 6 else case)
    return cases


register(
    Exercise("batch_norm", ASSIGNMENT, 3, torch_batch_norm, ("output",),
             batch_norm_visible_cases, batch_norm_hidden_cases, BATCH_NORM_MISTAKES,
             updates=("running_mean", "running_var")),
    Exercise("batch_norm_backward", ASSIGNMENT, 4, torch_batch_norm_backward, ("grad_x", "grad_weight", "grad_bias"),
             batch_norm_backward_visible_cases, batch_norm_backward_hidden_cases, BATCH_NORM_BACKWARD_MISTAKES),
    Exercise("layer_norm", ASSIGNMENT, 2, torch_layer_norm, ("output",),
             layer_norm_visible_cases, layer_norm_hidden_cases, LAYER_NORM_MISTAKES),
)
