"""Chapter 05_pooling: max and average pooling, adaptive average pooling, max-pool backward."""

from __future__ import annotations

import numpy as np

from ..model import Case, Exercise, Mistake, register
from . import _torch
from ._cases import as_float32, pair, shape_text, visible_rng

ASSIGNMENT = "05_pooling"


def torch_pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                           ceil_mode: bool = False) -> int:
    """Output length of a max pooling along one axis, read from torch's own output shape; 0 when torch
    finds no window that fits (``padding`` must be at most half the kernel, as torch requires)."""
    import torch
    import torch.nn.functional as F

    try:
        out = F.max_pool1d(torch.zeros(1, 1, size), kernel, stride, padding, dilation, ceil_mode=ceil_mode)
    except RuntimeError as error:
        if "output size" not in str(error):
            raise
        return 0
    return int(out.shape[-1])


def ceil_size_kept(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """The ceil-mode length if a last window starting in the right padding were kept (torch drops it;
    a known mistake keeps it): rounding up the positions a window can start from, which torch counts
    with stride 1."""
    starts = torch_pool_output_size(size, kernel, 1, padding, dilation) - 1
    return -(-starts // stride) + 1


# ---------------------------------------------------------------- torch references


def torch_max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """``F.max_pool2d`` in float64: ``(N, C, H, W) -> (N, C, H_out, W_out)``."""
    import torch.nn.functional as F

    return _torch.to_numpy(F.max_pool2d(_torch.tensor(x), kernel_size, stride, padding, dilation, ceil_mode))


def torch_avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """``F.avg_pool2d`` in float64: ``(N, C, H, W) -> (N, C, H_out, W_out)``."""
    import torch.nn.functional as F

    return _torch.to_numpy(F.avg_pool2d(_torch.tensor(x), kernel_size, stride, padding, ceil_mode,
                                        count_include_pad))


def torch_adaptive_avg_pool2d(x, output_size):
    """``F.adaptive_avg_pool2d`` in float64: ``(N, C, H, W) -> (N, C, S_h, S_w)``."""
    import torch.nn.functional as F

    return _torch.to_numpy(F.adaptive_avg_pool2d(_torch.tensor(x), output_size))


def torch_max_pool2d_backward(grad_output, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Autograd of ``F.max_pool2d`` with respect to ``x``: ``(N, C, H, W)``."""
    import torch.nn.functional as F

    def forward(t):
        return F.max_pool2d(t, kernel_size, stride, padding, dilation, ceil_mode)

    return _torch.gradients(forward, [x], grad_output)[0]


# ---------------------------------------------------------------- the mistakes' outputs (torch with wrong arguments)


def _axes(kernel_size, stride, padding, dilation=1) -> list[tuple[int, int, int, int]]:
    """``(kernel, stride, padding, dilation)`` of each spatial axis; stride None means the kernel size."""
    return list(zip(pair(kernel_size), pair(kernel_size if stride is None else stride), pair(padding), pair(dilation)))


def _zero_padded_max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Mistake "zero padding": the reference's windows, reading zeros (not -inf) everywhere outside the
    input: in the declared padding and, in ceil mode, past it. Zero-pads with ``F.pad`` far enough for
    every window, pools without padding, and keeps the reference's output size."""
    import torch.nn.functional as F

    sizes = torch_max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode).shape[2:]
    axes = _axes(kernel_size, stride, padding, dilation)
    after = [max((o - 1) * s + d * (k - 1) + 1 - n - p, p) for o, n, (k, s, p, d) in zip(sizes, x.shape[2:], axes)]
    (kh, sh, ph, dh), (kw, sw, pw, dw) = axes
    padded = F.pad(_torch.tensor(x), (pw, after[1], ph, after[0]))
    out = F.max_pool2d(padded, (kh, kw), (sh, sw), 0, (dh, dw))
    return _torch.to_numpy(out[:, :, :sizes[0], :sizes[1]])


def _kept_sizes(x, kernel_size, stride, padding, dilation, ceil_mode) -> tuple[int, int]:
    """The output size when ceil mode keeps a last window that starts in the right padding."""
    return tuple(ceil_size_kept(n, *axis) if ceil_mode else torch_pool_output_size(n, *axis)
                 for n, axis in zip(x.shape[2:], _axes(kernel_size, stride, padding, dilation)))


def _grown(out, sizes, fill) -> np.ndarray:
    """``out`` ``(N, C, H_out, W_out)`` grown to ``sizes`` at the bottom and right; the added cells hold
    ``fill`` (a number, or an array of shape ``sizes``)."""
    grown = np.array(np.broadcast_to(fill, (*out.shape[:2], *sizes)), dtype=np.float64)
    grown[:, :, :out.shape[2], :out.shape[3]] = out
    return grown


def _kept_last_max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Mistake "last window in the padding kept" for max pooling: the reference, plus the dropped last
    window, which lies wholly past the input and so reads only -inf."""
    out = torch_max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)
    return _grown(out, _kept_sizes(x, kernel_size, stride, padding, dilation, ceil_mode), -np.inf)


def _kept_last_avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mistake "last window in the padding kept" for average pooling: the reference, plus the dropped
    last window. It lies wholly past the input, so its sum is 0, divided by its padded cells with
    count_include_pad=True (0 / 0 = nan if it has none), by its real inputs (none: nan) otherwise."""
    out = torch_avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad)
    sizes = _kept_sizes(x, kernel_size, stride, padding, 1, ceil_mode)
    counts = [np.clip(n + 2 * p - np.arange(o) * s, 0, k)
              for o, n, (k, s, p, _) in zip(sizes, x.shape[2:], _axes(kernel_size, stride, padding))]
    padded_cells = np.outer(*counts) if count_include_pad else np.zeros(sizes)
    return _grown(out, sizes, np.where(padded_cells > 0, 0.0, np.nan))


def _kernel_area_avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mistake "divisor always the kernel area": ``F.avg_pool2d`` with ``divisor_override = kH * kW``."""
    import torch.nn.functional as F

    kh, kw = pair(kernel_size)
    return _torch.to_numpy(F.avg_pool2d(_torch.tensor(x), kernel_size, stride, padding, ceil_mode, True, kh * kw))


def _floor_window_adaptive_avg_pool2d(x, output_size):
    """Mistake "floor at both ends": window ``i`` spans ``[floor(i L / S), floor((i + 1) L / S))``, the
    mean of a torch slice (an empty window gives nan)."""
    t = _torch.tensor(x)
    rows, cols = ([(i * n // s, (i + 1) * n // s) for i in range(s)] for n, s in zip(x.shape[2:], pair(output_size)))
    out = np.empty((*x.shape[:2], len(rows), len(cols)))
    for i, (top, bottom) in enumerate(rows):
        for j, (left, right) in enumerate(cols):
            out[:, :, i, j] = _torch.to_numpy(t[:, :, top:bottom, left:right].mean(dim=(2, 3)))
    return out


def _assigned_max_pool2d_backward(grad_output, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Mistake "no accumulation": each output's gradient assigned (not added) at its window's argmax,
    taken from ``F.max_pool2d(..., return_indices=True)``; where windows share a maximum, the last
    window in row-major order wins."""
    import torch.nn.functional as F

    _, indices = F.max_pool2d(_torch.tensor(x), kernel_size, stride, padding, dilation, ceil_mode,
                              return_indices=True)
    winners = indices.numpy().reshape(*x.shape[:2], -1)
    values = np.asarray(grad_output, dtype=np.float64).reshape(*x.shape[:2], -1)
    grad = np.zeros((*x.shape[:2], x.shape[2] * x.shape[3]))
    for k in range(winners.shape[2]):
        np.put_along_axis(grad, winners[:, :, k:k + 1], values[:, :, k:k + 1], axis=2)
    return grad.reshape(x.shape)


def _first_inside(out: int, kernel: int, stride: int, padding: int, dilation: int) -> np.ndarray:
    """Along one axis, the input coordinate of each window's first tap that is not padding: the window's
    start, moved on by whole dilation steps while it lies in the left padding."""
    start = np.arange(out) * stride - padding
    return start + dilation * np.maximum(-(start // dilation), 0)


def _first_element_max_pool2d_backward(grad_output, x, kernel_size, stride=None, padding=0, dilation=1,
                                       ceil_mode=False):
    """Mistake "routed to the first element": each output's gradient added at its window's first
    (top-left) position, skipping padded rows and columns, instead of at its argmax."""
    rows, cols = (_first_inside(o, *axis)
                  for o, axis in zip(np.shape(grad_output)[2:], _axes(kernel_size, stride, padding, dilation)))
    grad = np.zeros(x.shape)
    np.add.at(grad, (slice(None), slice(None), rows[:, None], cols[None, :]), grad_output)
    return grad


# ---------------------------------------------------------------- known mistakes

ZERO_PAD_HINT = ("max pooling pads with -inf, not zeros: a padded cell must never win, or an all-negative "
                 "window touching the border returns 0.")
STRIDE_HINT = "stride=None means stride = kernel_size, not 1."
CEIL_IGNORED_HINT = ("with ceil_mode=True the output size rounds up: one more window covers the leftover "
                     "rows/columns at the end.")
CEIL_KEPT_HINT = ("your output has one window too many with ceil_mode=True: torch drops a last window that "
                  "would start in the right padding (it would see no real input); see PyTorch's rule in "
                  "\"ceil_mode and the last window\".")
DIVISOR_HINT = ("the divisor at the borders: with count_include_pad=True it counts the padded zeros (but not "
                "the cells past the padding that ceil_mode adds); with False only the real inputs.")

MAX_POOL_MISTAKES = (
    Mistake("zero padding", ZERO_PAD_HINT, output=_zero_padded_max_pool2d),
    Mistake("stride defaults to 1", STRIDE_HINT,
            output=lambda x, kernel_size, stride=None, *a, **k: torch_max_pool2d(
                x, kernel_size, 1 if stride is None else stride, *a, **k)),
    Mistake("ceil_mode ignored", CEIL_IGNORED_HINT,
            output=lambda x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False: torch_max_pool2d(
                x, kernel_size, stride, padding, dilation, False)),
    Mistake("last window in the padding kept", CEIL_KEPT_HINT, output=_kept_last_max_pool2d),
)

AVG_POOL_MISTAKES = (
    Mistake("divisor always the kernel area", DIVISOR_HINT, output=_kernel_area_avg_pool2d),
    Mistake("divisor always the real inputs", DIVISOR_HINT,
            output=lambda x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True:
            torch_avg_pool2d(x, kernel_size, stride, padding, ceil_mode, False)),
    Mistake("stride defaults to 1", STRIDE_HINT,
            output=lambda x, kernel_size, stride=None, *a, **k: torch_avg_pool2d(
                x, kernel_size, 1 if stride is None else stride, *a, **k)),
    Mistake("ceil_mode ignored", CEIL_IGNORED_HINT,
            output=lambda x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True:
            torch_avg_pool2d(x, kernel_size, stride, padding, False, count_include_pad)),
    Mistake("last window in the padding kept", CEIL_KEPT_HINT, output=_kept_last_avg_pool2d),
)

ADAPTIVE_MISTAKES = (
    Mistake("floor at both ends",
            "the end of each window rounds up, not down: where i * L / S is not a whole number, torch's "
            "neighbouring windows share the cell on their boundary, and yours split the axis between them "
            "(with S > L some of your windows are even empty).",
            output=_floor_window_adaptive_avg_pool2d),
)

MAX_POOL_BACKWARD_MISTAKES = (
    Mistake("no accumulation",
            "where windows overlap, one input can be the maximum of several windows, and each of them "
            "sends it a gradient: your result keeps only one of them.",
            output=_assigned_max_pool2d_backward),
    Mistake("routed to the first element",
            "your gradient lands on each window's first element: ask which input of the window the "
            "output's value came from.",
            output=_first_element_max_pool2d_backward),
)


# ---------------------------------------------------------------- cases


def distinct(rng: np.random.Generator, shape, scale: float = 1.0) -> np.ndarray:
    """Values without ties (a random permutation of evenly spaced values, centred, times ``scale``),
    so that every window has a single maximum."""
    count = int(np.prod(shape))
    values = (rng.permutation(count) - (count - 1) / 2) / max(count, 1) * 4
    return (values * scale).reshape(shape)


def _visible_image(rng, shape, negative=False) -> np.ndarray:
    """A readable input without ties: a permutation of 0.1 steps, all negative if asked."""
    count = int(np.prod(shape))
    values = np.round(rng.permutation(count) * 0.1 + 0.1, 1)
    return (-values if negative else values - np.round(count * 0.05, 1)).reshape(shape)


def max_pool2d_visible_cases() -> list[Case]:
    """Stride None, zero vs -inf padding, both ceil-mode situations, pairs with dilation."""
    rng = visible_rng()
    return [
        Case("2x2 windows, stride None (= kernel size), one image and channel", (_visible_image(rng, (1, 1, 4, 4)), 2)),
        Case("all-negative input, 3x3 windows, stride 2, padding 1",
             (_visible_image(rng, (1, 2, 5, 5), negative=True), 3), {"stride": 2, "padding": 1}),
        Case("ceil_mode=True: a last, partial window is added",
             (_visible_image(rng, (1, 1, 5, 5)), 2), {"stride": 2, "ceil_mode": True}),
        Case("ceil_mode=True with padding 1: the last window would start in the right padding and is dropped",
             (_visible_image(rng, (1, 1, 5, 5)), 2), {"stride": 2, "padding": 1, "ceil_mode": True}),
        Case("pair kernel and stride, dilation 2, a batch of 2 with 3 channels",
             (_visible_image(rng, (2, 3, 7, 6)), (3, 2)), {"stride": (2, 1), "dilation": 2}),
    ]


def avg_pool2d_visible_cases() -> list[Case]:
    """Stride None, padding counted or not, both ceil-mode situations, pairs."""
    rng = visible_rng()
    return [
        Case("2x2 windows, stride None (= kernel size), one image and channel", (_visible_image(rng, (1, 1, 4, 4)), 2)),
        Case("3x3 windows, stride 2, padding 1, count_include_pad=True",
             (_visible_image(rng, (1, 2, 5, 5)), 3), {"stride": 2, "padding": 1}),
        Case("3x3 windows, stride 2, padding 1, count_include_pad=False",
             (_visible_image(rng, (1, 2, 5, 5)), 3), {"stride": 2, "padding": 1, "count_include_pad": False}),
        Case("ceil_mode=True: a last, partial window is added",
             (_visible_image(rng, (1, 1, 5, 5)), 2), {"stride": 2, "ceil_mode": True}),
        Case("ceil_mode=True with padding 1: the last window would start in the right padding and is dropped",
             (_visible_image(rng, (1, 1, 5, 5)), 2), {"stride": 2, "padding": 1, "ceil_mode": True}),
        Case("pair kernel, stride and padding, a batch of 2 with 3 channels",
             (_visible_image(rng, (2, 3, 7, 6)), (3, 2)), {"stride": (2, 1), "padding": (1, 0)}),
    ]


def adaptive_avg_pool2d_visible_cases() -> list[Case]:
    """An output size that divides the input, one that does not, a pair, and a 1x1 output."""
    rng = visible_rng()
    return [
        Case("output size 2 on a 4x4 input (windows of 2, no overlap)", (_visible_image(rng, (1, 1, 4, 4)), 2)),
        Case("output size 3 on a 5x5 input (overlapping windows of different sizes)",
             (_visible_image(rng, (1, 1, 5, 5)), 3)),
        Case("pair output size (3, 4) on a 5x7 input, a batch of 2 with 3 channels",
             (_visible_image(rng, (2, 3, 5, 7)), (3, 4))),
        Case("output size 1: global average pooling", (_visible_image(rng, (2, 3, 4, 3)), 1)),
    ]


def max_pool2d_backward_visible_cases() -> list[Case]:
    """Non-overlapping windows, overlapping windows, padding with ceil mode, pairs with dilation."""
    rng = visible_rng()

    def case(description, shape, kernel_size, **kwargs):
        x = _visible_image(rng, shape)
        out = torch_max_pool2d(x, kernel_size, **kwargs)
        grad_output = np.round(rng.uniform(0.5, 2.0, out.shape), 1)
        return Case(description, (grad_output, x, kernel_size), kwargs)

    return [
        case("2x2 windows, stride None, one image and channel", (1, 1, 4, 4), 2),
        case("3x3 windows, stride 1: overlapping windows share their maximum", (1, 1, 5, 5), 3, stride=1),
        case("3x3 windows, stride 2, padding 1, ceil_mode=True", (1, 2, 6, 6), 3, stride=2, padding=1, ceil_mode=True),
        case("pair kernel and stride, dilation 2, a batch of 2 with 3 channels", (2, 3, 7, 6), (3, 2),
             stride=(2, 1), dilation=2),
    ]


def _int_or_pair(values: tuple[int, int], as_pair: bool):
    """``values`` as a pair when ``as_pair`` (or when they differ), else as one int."""
    return values if as_pair or values[0] != values[1] else values[0]


def _pool_config(rng, index: int, dilated: bool) -> tuple[object, dict, tuple, str]:
    """A random valid pooling configuration: the kernel size, the other keyword arguments, the
    input shape and a description.

    ``index`` cycles through the situations to cover: int or pair arguments, stride None,
    padding up to half the kernel, dilation, ceil_mode with a dropped last window and with a
    kept partial one.
    """
    want_ceil = ("none", "dropped", "kept")[index % 3]
    as_pair, stride_none = index % 2 == 1, index % 4 == 0

    def draw(low, high):
        """One value per axis: two for pair arguments, one repeated otherwise."""
        if as_pair:
            return tuple(int(v) for v in rng.integers(low, high, size=2))
        return (int(rng.integers(low, high)),) * 2

    while True:
        kernel = draw(1, 5) if as_pair else draw(2, 5)
        stride = kernel if stride_none else draw(1, 4)
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
        padding = padding if as_pair else (padding[0],) * 2
        dilation = draw(1, 4) if dilated and index % 3 != 2 else (1, 1)
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(3, 10)), int(rng.integers(3, 10)))
        sizes = [(torch_pool_output_size(size, *args), torch_pool_output_size(size, *args, ceil_mode=True),
                  ceil_size_kept(size, *args))
                 for size, args in zip(shape[2:], zip(kernel, stride, padding, dilation))]
        if min(floor for floor, _, _ in sizes) < 1:
            continue
        ceil_differs = any(floor != ceil for floor, ceil, _ in sizes)
        drop_applies = any(ceil != kept for _, ceil, kept in sizes)
        if want_ceil == "dropped" and not drop_applies:
            continue
        if want_ceil == "kept" and not (ceil_differs and not drop_applies):
            continue
        break
    kwargs = {"stride": None if stride_none else _int_or_pair(stride, as_pair),
              "padding": _int_or_pair(padding, as_pair)}
    if dilated:
        kwargs["dilation"] = _int_or_pair(dilation, as_pair)
    kwargs["ceil_mode"] = want_ceil != "none"
    words = [f"{'pair' if as_pair else 'int'} arguments", "stride None" if stride_none else "explicit stride",
             "padding" if any(padding) else "no padding"]
    if max(dilation) > 1:
        words.append("dilation > 1")
    words.append({"none": "ceil_mode=False", "dropped": "ceil_mode=True, a last window in the padding dropped",
                  "kept": "ceil_mode=True, a last partial window kept"}[want_ceil])
    return _int_or_pair(kernel, as_pair), kwargs, shape, f"input of shape {shape_text(shape)}, " + ", ".join(words)


def _pool_input(rng, index: int, shape) -> tuple[np.ndarray, str]:
    """An input without ties at one of three scales, all negative every fifth case."""
    negative = index % 5 == 0
    x = distinct(rng, shape, (1.0, 1e-3, 1e3)[index % 3])
    return (x - np.abs(x).max() - 1.0 if negative else x), (", all-negative input" if negative else "")


def max_pool2d_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random configurations of every argument (``_pool_config``), inputs without ties at
    several scales, some all negative, some float32."""
    cases = []
    for i in range(24):
        kernel_size, kwargs, shape, description = _pool_config(rng, i, dilated=True)
        x, note = _pool_input(rng, i, shape)
        case = Case(description + note, (x, kernel_size), kwargs)
        cases.append(as_float32(case) if i % 6 == 5 else case)
    return cases


def avg_pool2d_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random configurations (``_pool_config`` without dilation), count_include_pad both ways,
    some float32."""
    cases = []
    for i in range(24):
        kernel_size, kwargs, shape, description = _pool_config(rng, i, dilated=False)
        include = i % 4 < 2
        kwargs["count_include_pad"] = include
        x, _ = _pool_input(rng, i + 1, shape)
        case = Case(f"{description}, count_include_pad={include}", (x, kernel_size), kwargs)
        cases.append(as_float32(case) if i % 6 == 5 else case)
    return cases


def adaptive_avg_pool2d_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random input sizes and output sizes that divide them, do not, equal 1, or exceed the input."""
    kinds = ("divides", "does not divide", "1x1", "pair", "larger than the input")
    cases = []
    for i in range(20):
        kind = kinds[i % len(kinds)]
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(2, 10)), int(rng.integers(2, 10)))
        height, width = shape[2:]
        if kind == "divides":
            divisors = [s for s in range(1, height + 1) if height % s == 0 and width % s == 0]
            output_size = int(rng.choice(divisors))
        elif kind == "does not divide":
            shape = (*shape[:2], height + 3, width + 3)
            output_size = int(rng.integers(2, min(shape[2:])))
            while output_size > 1 and shape[2] % output_size == 0 and shape[3] % output_size == 0:
                output_size -= 1
            if output_size == 1:  # every candidate divided both: one less than the smaller side never does
                output_size = min(shape[2:]) - 1
        elif kind == "1x1":
            output_size = 1 if i % 2 else (1, 1)
        elif kind == "pair":
            output_size = (int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1)))
        else:
            output_size = (height + int(rng.integers(1, 3)), width + int(rng.integers(1, 3)))
        case = Case(f"input of shape {shape_text(shape)}, output size {kind}",
                    (distinct(rng, shape, (1.0, 1e-3, 1e3)[i % 3]), output_size))
        cases.append(as_float32(case) if i % 6 == 5 else case)
    return cases


def _max_pool2d_backward_case(rng, description: str, x: np.ndarray, kernel_size, kwargs: dict) -> Case:
    """A case of ``max_pool2d_backward`` on ``x``, with a random grad_output of the pooled shape."""
    grad_output = rng.standard_normal(torch_max_pool2d(x, kernel_size, **kwargs).shape)
    return Case(description, (grad_output, x, kernel_size), kwargs)


def max_pool2d_backward_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """The configurations of ``max_pool2d``'s hidden cases (overlapping windows often), with a
    random grad_output; some float32. Then a small input whose last ceil-mode window reaches
    past the padding by more than the input's length less the padding (kernel 4, stride 3,
    padding 1 on 3x3): the -inf border a solution pads must be as deep as that window reaches
    (``prettynn-course strength`` found a solution sizing it from the input length surviving)."""
    cases = []
    for i in range(24):
        kernel_size, kwargs, shape, description = _pool_config(rng, i, dilated=True)
        x, _ = _pool_input(rng, i, shape)
        case = _max_pool2d_backward_case(rng, description, x, kernel_size, kwargs)
        cases.append(as_float32(case) if i % 6 == 5 else case)
    shape = (1, 2, 3, 3)
    cases.append(_max_pool2d_backward_case(
        rng, f"input of shape {shape_text(shape)}, int arguments, explicit stride, padding, ceil_mode=True, "
             "a last partial window kept, reaching far past the padding",
        distinct(rng, shape), 4, {"stride": 3, "padding": 1, "dilation": 1, "ceil_mode": True}))
    return cases


register(
    Exercise("max_pool2d", ASSIGNMENT, 2, torch_max_pool2d, ("output",),
             max_pool2d_visible_cases, max_pool2d_hidden_cases, MAX_POOL_MISTAKES),
    Exercise("avg_pool2d", ASSIGNMENT, 3, torch_avg_pool2d, ("output",),
             avg_pool2d_visible_cases, avg_pool2d_hidden_cases, AVG_POOL_MISTAKES, sums_of_products=True),
    Exercise("adaptive_avg_pool2d", ASSIGNMENT, 2, torch_adaptive_avg_pool2d, ("output",),
             adaptive_avg_pool2d_visible_cases, adaptive_avg_pool2d_hidden_cases, ADAPTIVE_MISTAKES,
             sums_of_products=True),
    Exercise("max_pool2d_backward", ASSIGNMENT, 3, torch_max_pool2d_backward, ("grad_x",),
             max_pool2d_backward_visible_cases, max_pool2d_backward_hidden_cases, MAX_POOL_BACKWARD_MISTAKES),
)
