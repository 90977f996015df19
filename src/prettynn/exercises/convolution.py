"""Chapter 04_convolution: 2-D cross-correlation, the output-size rule, conv2d and its gradients."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..model import Case, Exercise, Mistake, register
from . import _torch
from ._cases import as_float32, normal, pair, readable, shape_text, visible_rng

ASSIGNMENT = "04_convolution"


# ---------------------------------------------------------------- torch references


def _contiguous(array):
    """A C-contiguous copy of an array (torch refuses NumPy views with negative strides, e.g. ``K[::-1]``)."""
    return None if array is None else np.ascontiguousarray(array)


def torch_corr2d(X, K):
    """``F.conv2d`` on one channel in float64: ``(H, W), (kH, kW) -> (H - kH + 1, W - kW + 1)``."""
    import torch.nn.functional as F

    out = F.conv2d(_torch.tensor(_contiguous(X))[None, None], _torch.tensor(_contiguous(K))[None, None])
    return _torch.to_numpy(out[0, 0])


def torch_conv2d_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """The length along one axis of ``F.conv2d``'s output, read from torch's own output shape."""
    import torch
    import torch.nn.functional as F

    out = F.conv2d(torch.zeros(1, 1, input_size, 1), torch.zeros(1, 1, kernel_size, 1),
                   stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1))
    return int(out.shape[2])


def torch_conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``F.conv2d`` in float64: ``(N, C_in, H, W), (C_out, C_in // groups, kH, kW) -> (N, C_out, H_out, W_out)``."""
    import torch.nn.functional as F

    with warnings.catch_warnings():  # torch warns that 'same' with an even kernel copies the input
        warnings.simplefilter("ignore")
        out = F.conv2d(*(_torch.tensor(_contiguous(a)) for a in (x, weight, bias)),
                       stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _torch.to_numpy(out)


def torch_conv2d_backward(grad_output, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Autograd of ``F.conv2d``: ``(grad_x, grad_weight, grad_bias or None)``."""
    import torch.nn.functional as F

    def forward(x_, weight_, bias_):
        return F.conv2d(x_, weight_, bias_, stride=stride, padding=padding, dilation=dilation, groups=groups)

    return _torch.gradients(forward, [_contiguous(a) for a in (x, weight, bias)], _contiguous(grad_output))


# ---------------------------------------------------------------- known mistakes
# Each is the torch reference called on changed arguments (a flipped kernel, other padding,
# permuted channels...): the package holds no NumPy solution of an exercise.


def _paddings(padding, kernel, dilation) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((top, bottom), (left, right))`` zero padding of an int, pair, 'valid' or 'same' argument
    (torch's documented rule: 'same' pads d(k - 1) in total, the extra one at the bottom/right)."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        totals = [d * (k - 1) for d, k in zip(pair(dilation), kernel)]
        return tuple((t // 2, t - t // 2) for t in totals)
    rows, columns = pair(padding)
    return (rows, rows), (columns, columns)


def _mistaken_conv2d(x, weight, bias, stride, padding, dilation, groups):
    """``torch_conv2d`` on a mistake's arguments; ``ValueError`` where torch rejects them (no output)."""
    try:
        return torch_conv2d(x, weight, bias, stride, padding, dilation, groups)
    except RuntimeError as error:
        raise ValueError(str(error)) from error


def _flipped(weight):
    """The kernel rotated by 180 degrees (flipped along both spatial axes)."""
    return np.ascontiguousarray(weight[..., ::-1, ::-1])


def _conv_padded(rows, columns, x, weight, bias, stride, dilation, groups):
    """The torch convolution of ``x`` padded explicitly with zero ``rows`` and ``columns`` (before, after)."""
    return _mistaken_conv2d(np.pad(x, ((0, 0), (0, 0), rows, columns)), weight, bias, stride, 0, dilation, groups)


def _conv_one_sided(side):
    """conv2d that pads each axis on the top/left only (``side`` 0) or the bottom/right only (``side`` 1)."""

    def output(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        pads = _paddings(padding, weight.shape[2:], dilation)
        if padding == "same":  # the whole total on one side
            pads = tuple((sum(p), 0) if side == 0 else (0, sum(p)) for p in pads)
        else:  # p on one side instead of p on both
            pads = tuple((p[0], 0) if side == 0 else (0, p[1]) for p in pads)
        return _conv_padded(*pads, x, weight, bias, stride, dilation, groups)

    return output


def _conv_same_extra_first(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """conv2d whose 'same' padding puts the extra row and column on the top/left."""
    if padding != "same":
        return _mistaken_conv2d(x, weight, bias, stride, padding, dilation, groups)
    rows, columns = (p[::-1] for p in _paddings(padding, weight.shape[2:], dilation))
    return _conv_padded(rows, columns, x, weight, bias, stride, dilation, groups)


def _conv_one_axis_stride(axis):
    """conv2d that applies the stride along rows only (``axis`` 0) or columns only (``axis`` 1)."""

    def output(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        rows, columns = pair(stride)
        return _mistaken_conv2d(x, weight, bias, (rows, 1) if axis == 0 else (1, columns), padding, dilation, groups)

    return output


def _conv_groups_interleaved(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """conv2d in which output channel ``o`` reads input group ``o % groups`` instead of ``o // (C_out / groups)``."""
    order = np.arange(weight.shape[0]).reshape(groups, -1).T.ravel()  # the output channels, listed group by group
    bias_ordered = None if bias is None else bias[order]
    return _mistaken_conv2d(x, weight[order], bias_ordered, stride, padding, dilation, groups)[:, np.argsort(order)]


def _conv_groups_ignored(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """conv2d that loops over the kernel's C_in // groups channels and reads the same input channels,
    so that every output channel sees the first group's inputs only."""
    return _mistaken_conv2d(x[:, :weight.shape[1]], weight, bias, stride, padding, dilation, 1)


def _conv_bias_per_input_channel(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """conv2d that adds the bias once for every input channel it sums (inside a loop over channels)."""
    out = _mistaken_conv2d(x, weight, None, stride, padding, dilation, groups)
    return out if bias is None else out + weight.shape[1] * bias[:, None, None]


FLIP_HINT = ("your output is what the kernel rotated by 180 degrees would give: torch's conv2d is a "
             "cross-correlation, which walks the kernel and the window in the same direction, without flipping.")
ONE_SIDE_HINT = ("your output matches zeros added on one side of each axis only: padding p goes on both sides, "
                 "at the top and the bottom, on the left and the right.")
STRIDE_AXIS_HINT = ("your output matches a stride applied along one axis only: the stride moves the window along "
                    "both the rows and the columns (an int s means the same stride for both).")
GROUPS_HINT = ("your output channels read the wrong input channels: with groups, each block of consecutive output "
               "channels reads only the block of consecutive input channels of its own group.")

CORR2D_MISTAKES = (
    Mistake("flipped kernel", FLIP_HINT,
            output=lambda X, K: torch_corr2d(X, _flipped(K))),
)


def _starts(input_size, kernel_size, padding, dilation):
    """How many positions a window can start from, minus one, read from torch (its count at stride 1):
    the mistakes below divide it by the stride in their own wrong ways."""
    return torch_conv2d_output_size(input_size, kernel_size, 1, padding, dilation) - 1


OUTPUT_SIZE_MISTAKES = (
    Mistake("ceil", "you counted one window too many where the stride does not fit evenly: the last window you "
                    "count sticks out past the end of the padded input, and every window must fit inside it.",
            output=lambda input_size, kernel_size, stride=1, padding=0, dilation=1:
            math.ceil(_starts(input_size, kernel_size, padding, dilation) / stride) + 1),
    Mistake("true division", "your size has a fractional part: it is a count of window positions, a whole number.",
            output=lambda input_size, kernel_size, stride=1, padding=0, dilation=1:
            _starts(input_size, kernel_size, padding, dilation) / stride + 1),
    Mistake("padding counted once", "you counted the padding zeros of one end of the axis only: padding p goes at "
                                    "both ends (some tutorials write P for the total of both ends instead).",
            output=lambda input_size, kernel_size, stride=1, padding=0, dilation=1:
            (_starts(input_size, kernel_size, padding, dilation) - padding) // stride + 1),
    Mistake("dilation ignored", "your count ignores the dilation: with dilation d the taps are d positions apart, "
                                "so a window spans more positions than the kernel has taps.",
            output=lambda input_size, kernel_size, stride=1, padding=0, dilation=1:
            _starts(input_size, kernel_size, padding, 1) // stride + 1),
)

CONV2D_MISTAKES = (
    Mistake("flipped kernel", FLIP_HINT,
            output=lambda x, w, bias=None, stride=1, padding=0, dilation=1, groups=1:
            _mistaken_conv2d(x, _flipped(w), bias, stride, padding, dilation, groups)),
    Mistake("padding on the top and left only", ONE_SIDE_HINT, output=_conv_one_sided(0)),
    Mistake("padding on the bottom and right only", ONE_SIDE_HINT, output=_conv_one_sided(1)),
    Mistake("'same' padding extra on the top and left",
            "when the total 'same' padding cannot be split evenly (an even kernel), your extra row and column are "
            "on the wrong side: torch puts them at the bottom and on the right.",
            output=_conv_same_extra_first),
    Mistake("stride along rows only", STRIDE_AXIS_HINT, output=_conv_one_axis_stride(0)),
    Mistake("stride along columns only", STRIDE_AXIS_HINT, output=_conv_one_axis_stride(1)),
    Mistake("dilation ignored", "your output matches adjacent taps: with dilation d, the kernel's taps read input "
                                "positions d apart, along both axes.",
            output=lambda x, w, bias=None, stride=1, padding=0, dilation=1, groups=1:
            _mistaken_conv2d(x, w, bias, stride, padding, 1, groups)),
    Mistake("groups interleaved", GROUPS_HINT, output=_conv_groups_interleaved),
    Mistake("groups ignored", GROUPS_HINT, output=_conv_groups_ignored),
    Mistake("bias added per input channel",
            "your bias is added once per input channel: output channel o gets its bias once, not once for "
            "each input channel it sums over.",
            output=_conv_bias_per_input_channel),
    Mistake("bias None not handled", "bias is optional: when it is None, add nothing.", raises=r"NoneType"),
)


def _grad_x_unflipped(g, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """grad_x correlated with the kernel as it is: the right computation for the flipped kernel."""
    return torch_conv2d_backward(g, x, _flipped(weight), None, stride, padding, dilation, groups)[0]


def _grad_weight_transposed(g, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """grad_weight with its two channel axes swapped within each group: ``(C_in, C_out // groups, kH, kW)``."""
    grad = torch_conv2d_backward(g, x, weight, None, stride, padding, dilation, groups)[1]
    c_out, c_group = weight.shape[:2]
    per_group = grad.reshape(groups, c_out // groups, c_group, *weight.shape[2:])
    return per_group.swapaxes(1, 2).reshape(groups * c_group, c_out // groups, *weight.shape[2:])


AVERAGED_HINT = ("your grad_bias is an average: the bias is added once at every output position of every "
                 "image, and each of those adds its gradient in full.")

CONV2D_BACKWARD_MISTAKES = (
    Mistake("grad_x without flipping the kernel",
            "your grad_x is the right one for the kernel rotated by 180 degrees: follow each input pixel to the "
            "outputs whose windows contain it, and check which tap meets it in each.",
            output=_grad_x_unflipped, component="grad_x"),
    Mistake("grad_weight with transposed channels",
            "grad_weight has weight's shape (C_out, C_in // groups, kH, kW): output channel first.",
            output=_grad_weight_transposed, component="grad_weight"),
    Mistake("grad_bias averaged over the batch", AVERAGED_HINT,
            output=lambda g, *args, **kwargs: g.sum(axis=(0, 2, 3)) / g.shape[0], component="grad_bias"),
    Mistake("grad_bias averaged", AVERAGED_HINT,
            output=lambda g, *args, **kwargs: g.mean(axis=(0, 2, 3)), component="grad_bias"),
    Mistake("grad_bias not None", "when bias is None there is no bias gradient: return None as grad_bias.",
            raises=r"NoneType"),
)


# ---------------------------------------------------------------- cases


def corr2d_visible_cases() -> list[Case]:
    """A 3x3 image with a 2x2 kernel, a rectangular kernel, a 1x1 kernel, a kernel as large as the image."""
    rng = visible_rng()
    return [
        Case("a 3x3 image and a 2x2 kernel",
             (np.arange(9.0).reshape(3, 3), np.array([[0.0, 1.0], [2.0, 3.0]]))),
        Case("a 4x5 image and a 2x3 kernel", (readable(rng, (4, 5)), readable(rng, (2, 3)))),
        Case("a 1x1 kernel (a scaled copy of the image)", (readable(rng, (3, 4)), np.array([[2.0]]))),
        Case("a kernel as large as the image (a 1x1 output)", (readable(rng, (3, 3)), readable(rng, (3, 3)))),
    ]


def corr2d_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random image and kernel sizes, square and rectangular, 1x1 kernels and full-size kernels."""
    cases = []
    for i in range(20):
        height, width = (int(v) for v in rng.integers(1, 10, size=2))
        if i % 5 == 0:
            kh, kw = 1, 1
        elif i % 5 == 1:
            kh, kw = height, width
        else:
            kh, kw = int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1))
        case = Case(f"image {shape_text((height, width))}, kernel {shape_text((kh, kw))}",
                    (normal(rng, (height, width)), normal(rng, (kh, kw))))
        cases.append(as_float32(case) if i % 7 == 3 else case)
    return cases


def _size_case(description, n, k, s=1, p=0, d=1) -> Case:
    """A conv2d_output_size case with every argument named."""
    return Case(description, (n, k), {"stride": s, "padding": p, "dilation": d})


def output_size_visible_cases() -> list[Case]:
    """Valid, padded, strided windows that do not fit evenly, dilated, and a 'same'-like configuration."""
    return [
        _size_case("no padding, stride 1 (valid)", 5, 3),
        _size_case("padding 1 with a 3-tap kernel (keeps the size)", 6, 3, p=1),
        _size_case("stride 2 where the windows do not fit evenly (floor)", 7, 2, s=2),
        _size_case("stride 3, padding 1, windows not fitting evenly", 12, 3, s=3, p=1),
        _size_case("dilation 2", 9, 3, d=2),
        _size_case("a 224-pixel image, 7-tap kernel, stride 2, padding 3 (a ResNet stem)", 224, 7, s=2, p=3),
    ]


def output_size_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random valid configurations, many where the stride does not divide the span (the floor)."""
    cases = []
    while len(cases) < 30:
        n = int(rng.integers(1, 300)) if len(cases) % 3 == 0 else int(rng.integers(1, 20))
        k, s, p, d = (int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(0, 4)),
                      int(rng.integers(1, 4)))
        span = n + 2 * p - d * (k - 1) - 1
        if span < 0:
            continue
        kind = "windows fit evenly" if span % s == 0 else "windows do not fit evenly"
        cases.append(_size_case(f"input {n}, kernel {k}, stride {s}, padding {p}, dilation {d}: {kind}",
                                n, k, s, p, d))
    return cases


def _conv_case(description, x, weight, bias, **options) -> Case:
    """A conv2d case: input, weight, bias (or None) and the keyword options."""
    return Case(description, (x, weight), {"bias": bias, **options})


def conv2d_visible_cases() -> list[Case]:
    """One readable case per argument: plain, channels and padding, stride, 'same' with an even kernel,
    dilation, groups, no bias."""
    rng = visible_rng()
    return [
        _conv_case("one 4x4 image, one channel, a 3x3 kernel, no padding", readable(rng, (1, 1, 4, 4)),
                   readable(rng, (1, 1, 3, 3)), readable(rng, (1,))),
        _conv_case("2 -> 3 channels, padding 1", readable(rng, (2, 2, 4, 5)), readable(rng, (3, 2, 3, 3)),
                   readable(rng, (3,)), padding=1),
        _conv_case("stride 2, a 6x6 image (the windows do not fit evenly)", readable(rng, (1, 2, 6, 6)),
                   readable(rng, (2, 2, 3, 3)), readable(rng, (2,)), stride=2),
        _conv_case("padding 'same' with an even 2x4 kernel (extra padding bottom/right)",
                   readable(rng, (1, 1, 4, 5)), readable(rng, (2, 1, 2, 4)), readable(rng, (2,)), padding="same"),
        _conv_case("dilation 2", readable(rng, (1, 1, 6, 6)), readable(rng, (1, 1, 2, 2)), readable(rng, (1,)),
                   dilation=2),
        _conv_case("groups 2: 4 -> 4 channels, each group 2 -> 2", readable(rng, (1, 4, 4, 4)),
                   readable(rng, (4, 2, 2, 2)), readable(rng, (4,)), groups=2),
        _conv_case("no bias (bias=None), stride (1, 2), padding (0, 1)", readable(rng, (2, 1, 4, 5)),
                   readable(rng, (2, 1, 2, 3)), None, stride=(1, 2), padding=(0, 1)),
    ]


def _random_configuration(rng: np.random.Generator, i: int, same_allowed: bool) -> dict:
    """Sizes and options of a random, valid convolution; ``i`` cycles through the kinds of case."""
    groups = (1, 1, 2, 3, "depthwise", 1)[i % 6]
    c_in = int(rng.integers(1, 5)) if groups == 1 else (2 * int(rng.integers(1, 3)) if groups == 2 else 3)
    if groups == "depthwise":
        c_in = groups = int(rng.integers(2, 5))
    c_out = groups * int(rng.integers(1, 3)) if groups > 1 else int(rng.integers(1, 5))
    kernel = (1, 1) if i % 9 == 4 else tuple(int(v) for v in rng.integers(1, 5, size=2))
    dilation = (1, 1, 2, (2, 1), (1, 3))[i % 5]
    stride = (1, 2, (2, 1), 3, (1, 2), 1, 1)[i % 7]
    padding = (0, 1, (2, 0), "valid", "same", 2)[i // 3 % 6]
    if padding == "same" and (not same_allowed or stride != 1):
        padding = (1, 2)
    if padding == "same" and i % 2 == 0:  # an even kernel: the extra padding row goes to the bottom
        kernel = (kernel[0] + kernel[0] % 2, kernel[1])
    reach = [d * (k - 1) + 1 for d, k in zip(pair(dilation), kernel)]
    pads = _paddings(padding, kernel, pair(dilation))
    size = [max(r - sum(p), 1) + int(rng.integers(0, 6)) for r, p in zip(reach, pads)]
    return dict(n=int(rng.integers(1, 3)), c_in=c_in, c_out=c_out, groups=groups, kernel=kernel,
                size=[min(s, 9) if r <= 9 else s for s, r in zip(size, reach)], stride=stride,
                padding=padding, dilation=dilation, bias=i % 4 != 2)


def _describe(config: dict) -> str:
    """A configuration as a student reads it (its kind, not its values)."""
    depthwise = " (depthwise)" if config["groups"] == config["c_in"] > 1 else ""
    return (f"N = {config['n']}, {config['c_in']} -> {config['c_out']} channels, groups {config['groups']}{depthwise}, "
            f"image {shape_text(config['size'])}, kernel {shape_text(config['kernel'])}, "
            f"stride {config['stride']!r}, padding {config['padding']!r}, dilation {config['dilation']!r}, "
            f"{'with' if config['bias'] else 'no'} bias")


def _options(config: dict) -> dict:
    """The keyword options of a configuration, each as an int or a pair as it was drawn."""
    return {key: config[key] for key in ("stride", "padding", "dilation", "groups")}


def conv2d_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random configurations covering every argument: int and pair forms, 'valid'/'same', even and 1x1
    kernels, dilation, groups (depthwise too), strides that do not divide, no bias, float32."""
    cases = []
    for i in range(30):
        config = _random_configuration(rng, i, same_allowed=True)
        x = normal(rng, (config["n"], config["c_in"], *config["size"]))
        weight = normal(rng, (config["c_out"], config["c_in"] // config["groups"], *config["kernel"]))
        bias = normal(rng, (config["c_out"],)) if config["bias"] else None
        case = _conv_case(_describe(config), x, weight, bias, **_options(config))
        cases.append(as_float32(case) if i % 8 == 5 else case)
    return cases


def _backward_case(description, x, weight, bias, draw, **options) -> Case:
    """A conv2d_backward case: a grad_output of the forward's output shape drawn by ``draw(shape)``."""
    grad_output = draw(torch_conv2d(x, weight, bias, **options).shape)
    return Case(description, (grad_output, x, weight), {"bias": bias, **options})


def conv2d_backward_visible_cases() -> list[Case]:
    """Plain, channels with padding and an uneven stride, dilation with groups, a rectangular kernel."""
    rng = visible_rng()

    def draw(shape):
        return readable(rng, shape)

    return [
        _backward_case("one 4x4 image, one channel, a 3x3 kernel",
                       draw((1, 1, 4, 4)), draw((1, 1, 3, 3)), draw((1,)), draw),
        _backward_case("2 -> 3 channels, padding 1, stride 2 (a 5x6 image: windows do not fit evenly)",
                       draw((2, 2, 5, 6)), draw((3, 2, 3, 3)), draw((3,)), draw, stride=2, padding=1),
        _backward_case("dilation 2, groups 2 (4 -> 2 channels), no bias",
                       draw((1, 4, 5, 5)), draw((2, 2, 2, 2)), None, draw, dilation=2, groups=2),
        _backward_case("3 -> 2 channels, a 2x3 kernel, stride (1, 2), padding (1, 0)",
                       draw((2, 3, 4, 5)), draw((2, 3, 2, 3)), draw((2,)), draw, stride=(1, 2), padding=(1, 0)),
    ]


def conv2d_backward_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random configurations as for conv2d, with int or pair padding, and random grad_output."""
    cases = []
    for i in range(24):
        config = _random_configuration(rng, i, same_allowed=False)
        if isinstance(config["padding"], str):
            config["padding"] = 0
        x = normal(rng, (config["n"], config["c_in"], *config["size"]))
        weight = normal(rng, (config["c_out"], config["c_in"] // config["groups"], *config["kernel"]))
        bias = normal(rng, (config["c_out"],)) if config["bias"] else None
        case = _backward_case(_describe(config), x, weight, bias, lambda shape: normal(rng, shape),
                              **_options(config))
        cases.append(as_float32(case) if i % 8 == 5 else case)
    return cases


register(
    Exercise("corr2d", ASSIGNMENT, 1, torch_corr2d, ("output",),
             corr2d_visible_cases, corr2d_hidden_cases, CORR2D_MISTAKES, sums_of_products=True),
    Exercise("conv2d_output_size", ASSIGNMENT, 1, torch_conv2d_output_size, ("size",),
             output_size_visible_cases, output_size_hidden_cases, OUTPUT_SIZE_MISTAKES, kind="integer"),
    Exercise("conv2d", ASSIGNMENT, 4, torch_conv2d, ("output",),
             conv2d_visible_cases, conv2d_hidden_cases, CONV2D_MISTAKES, uses=("corr2d", "conv2d_output_size"),
             sums_of_products=True),
    Exercise("conv2d_backward", ASSIGNMENT, 4, torch_conv2d_backward, ("grad_x", "grad_weight", "grad_bias"),
             conv2d_backward_visible_cases, conv2d_backward_hidden_cases, CONV2D_BACKWARD_MISTAKES,
             uses=("conv2d",), sums_of_products=True),
)
