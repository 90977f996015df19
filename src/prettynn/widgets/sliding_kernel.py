"""The sliding-kernel widget (chapter 04): a kernel sliding over an image, step by step.

``SlidingKernel`` steps (or plays) through the output positions of a 2-D cross-correlation,
as ``F.conv2d`` computes it: the current window is highlighted on the zero-padded input, the
products of its entries with the kernel's and their sum are written out, and the output
fills in cell by cell. The reader chooses the image, the kernel, its height and width, the
padding (or ``'same'``), the stride and the dilation; a three-channel view shows how the
channel sums add up and that each output channel has its own kernel. Its backward mode
scatters each output's gradient back through the kernel onto the padded input positions its
window read, accumulating output by output.

Python only prepares data (the images, the kernels for each size); every convolution is
computed in the ES module ``sliding_kernel.js``, so each control works from the saved state
on a page with no kernel.
"""

from __future__ import annotations

import anywidget
import numpy as np
import traitlets

from prettynn.widgets import checked_modes, esm, range_validator

KERNEL_SIZES = range(1, 6)
# The lowest and highest value of each integer trait but channels.
RANGES = {"kernel_height": (KERNEL_SIZES[0], KERNEL_SIZES[-1]), "kernel_width": (KERNEL_SIZES[0], KERNEL_SIZES[-1]),
          "padding": (0, 3), "stride": (1, 3), "dilation": (1, 3), "position": (0, 10_000)}
MODES = ("forward", "backward")


def _digit(index: int) -> list[list[float]]:
    """Image ``index`` of scikit-learn's 8x8 digits, scaled to [0, 1] and rounded to one decimal."""
    from sklearn.datasets import load_digits

    image = load_digits().images[index] / 16.0
    return np.round(image, 1).tolist()


def default_images() -> dict[str, list[list[float]]]:
    """The images the reader chooses from: two digits, an edge, and a small grid of integers."""
    edge = np.ones((6, 8))
    edge[:, 2:6] = 0.0
    numbers = np.arange(1.0, 26.0).reshape(5, 5) % 7
    return {
        "digit 0 (8 x 8)": _digit(0),
        "digit 3 (8 x 8)": _digit(3),
        "dark stripe (6 x 8)": edge.tolist(),
        "numbers (5 x 5)": numbers.tolist(),
    }


def _vertical_edge(height: int, width: int) -> np.ndarray:
    """A (height, width) vertical-edge kernel: +1 in the left column, -1 in the right one (ones if width is 1)."""
    if width == 1:
        return np.ones((height, 1))
    kernel = np.zeros((height, width))
    kernel[:, 0], kernel[:, -1] = 1.0, -1.0
    return kernel


def default_kernels() -> dict[str, list[list[list[list[float]]]]]:
    """Kernel presets: ``kernels[name][height - 1][width - 1]`` is a (height, width) kernel, for every
    height and width in ``KERNEL_SIZES``."""
    presets = {
        "vertical edge": _vertical_edge,
        "horizontal edge": lambda h, w: _vertical_edge(w, h).T,
        "mean (blur)": lambda h, w: np.full((h, w), round(1.0 / (h * w), 3)),
        "top-left tap only": lambda h, w: np.eye(1, h * w).reshape(h, w),
        "integers": lambda h, w: (np.arange(h * w).reshape(h, w) % 3 - 1.0),
    }
    return {name: [[make(h, w).tolist() for w in KERNEL_SIZES] for h in KERNEL_SIZES]
            for name, make in presets.items()}


class SlidingKernel(anywidget.AnyWidget):
    """A kernel sliding over an image: the window, its products, their sum, the output filling in;
    or, in backward mode, each output's gradient scattered back onto the input.

    - images: name -> image, a 2-D list of numbers (H, W), 1 to 12 per axis.
    - image: the name of the image shown.
    - kernels: name -> kernels by size: ``kernels[name][kh - 1][kw - 1]`` is a (kh, kw) 2-D list,
      for kh and kw from 1 to 5.
    - kernel: the name of the kernel preset; kernel_height, kernel_width: 1 to 5.
    - padding: 0 to 3 zeros on every side; same: True for ``padding='same'`` (then ``padding`` is
      ignored: each axis is padded by dilation * (k - 1) in total, the extra one at the bottom or
      right, and torch rejects it with a stride > 1); stride: 1 to 3; dilation: 1 to 3.
    - position: the index of the current output entry, row by row (clamped in the browser).
    - channels: 1, or 3 for the multi-channel view (3 input channels, 2 output channels; forward only).
    - modes: the modes offered, a non-empty list drawn from ``MODES`` (leave out ``"backward"`` where
      the widget must not give away the backward pass); mode: one of them. In ``"backward"`` mode the
      output gradient is 1 at every output, and the gradient of the padded input accumulates, output by
      output, up to ``position``.
    """

    _esm = esm("sliding_kernel")

    images = traitlets.Dict(default_value=default_images()).tag(sync=True)
    image = traitlets.Unicode("digit 0 (8 x 8)").tag(sync=True)
    kernels = traitlets.Dict(default_value=default_kernels()).tag(sync=True)
    kernel = traitlets.Unicode("vertical edge").tag(sync=True)
    kernel_height = traitlets.Int(3).tag(sync=True)
    kernel_width = traitlets.Int(3).tag(sync=True)
    padding = traitlets.Int(1).tag(sync=True)
    same = traitlets.Bool(False).tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    dilation = traitlets.Int(1).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    channels = traitlets.Int(1).tag(sync=True)
    modes = traitlets.List(traitlets.Unicode(), default_value=list(MODES)).tag(sync=True)
    mode = traitlets.Unicode("forward").tag(sync=True)

    def __init__(self, mode: str = "forward", modes=MODES, **kwargs) -> None:
        """Build the widget; ``mode`` must be one of the ``modes`` offered."""
        offered = checked_modes(modes, MODES)
        super().__init__(modes=offered, mode=_one_of(mode, offered, "mode"), **kwargs)

    @traitlets.validate("images")
    def _validate_images(self, proposal: traitlets.Bunch) -> dict:
        images = proposal["value"]
        if not images:
            raise ValueError("images needs at least one image")
        for name, image in images.items():
            shape = np.shape(image)
            if len(shape) != 2 or not (1 <= shape[0] <= 12 and 1 <= shape[1] <= 12):
                raise ValueError(f"image {name!r} must be a 2-D grid of 1 to 12 rows and columns, got shape {shape}")
            if not np.all(np.isfinite(np.asarray(image, dtype=float))):
                raise ValueError(f"image {name!r} must hold finite numbers")
        return images

    @traitlets.validate("image")
    def _validate_image(self, proposal: traitlets.Bunch) -> str:
        return _one_of(proposal["value"], self.images, "image")

    @traitlets.validate("kernels")
    def _validate_kernels(self, proposal: traitlets.Bunch) -> dict:
        kernels = proposal["value"]
        expected = [[(h, w) for w in KERNEL_SIZES] for h in KERNEL_SIZES]
        for name, by_size in kernels.items():
            try:
                shapes = [[np.shape(kernel) for kernel in row] for row in by_size]
            except TypeError as error:
                raise ValueError(f"kernel {name!r} must be a list of lists of kernels") from error
            if shapes != expected:
                raise ValueError(f"kernel {name!r} must give a kh x kw kernel at [kh - 1][kw - 1] for each kh and "
                                 f"kw in 1..5, got shapes {shapes}")
        return kernels

    @traitlets.validate("kernel")
    def _validate_kernel(self, proposal: traitlets.Bunch) -> str:
        return _one_of(proposal["value"], self.kernels, "kernel")

    _validate_range = range_validator(RANGES)

    @traitlets.validate("channels")
    def _validate_channels(self, proposal: traitlets.Bunch) -> int:
        if proposal["value"] not in (1, 3):
            raise ValueError(f"channels must be 1 (one channel) or 3 (the multi-channel view), got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("modes")
    def _validate_modes(self, proposal: traitlets.Bunch) -> list[str]:
        offered = checked_modes(proposal["value"], MODES)
        _one_of(self.mode, offered, "mode")
        return offered

    @traitlets.validate("mode")
    def _validate_mode(self, proposal: traitlets.Bunch) -> str:
        return _one_of(proposal["value"], self.modes, "mode")


def _one_of(value: str, options, name: str) -> str:
    """``value`` if it is one of ``options`` (a dict's keys or a list); ``ValueError`` listing them otherwise."""
    if value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}")
    return value
