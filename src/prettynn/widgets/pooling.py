"""The pooling explorer (chapter 05): a window sliding over a small input grid, step by step.

The reader picks a mode (``"max"``, ``"avg"`` or ``"backward"``, among the ``modes`` offered),
the input's size, the kernel size, stride, padding, dilation, ``ceil_mode`` and
``count_include_pad``, and steps through the windows (or plays them). The browser draws the
input grid with its padding ring and any cells that ceil mode adds past the padding, the
current window (its taps, when dilated), and the output grid filled up to the current window:

- max: the window's winning input is highlighted; padding holds ``-inf``;
- avg: the window's sum and divisor are shown, the cells counted in the divisor marked
  (the padding counts only with ``count_include_pad``; cells past the padding never do);
  average pooling has no dilation, so the dilation control is disabled;
- backward: every output's gradient is 1 and flows to its window's maximum; the input
  grid accumulates the gradients, so a cell that wins several overlapping windows shows
  their count.

When ``ceil_mode`` would add a last window that starts in the right padding, the picture
outlines that window and says that PyTorch drops it. Changing the input's size draws a new
grid of distinct values in the browser.

Everything is computed in ``pooling.js`` (output sizes by torch's rule, ceil mode included, in
``common.js``), so the widget works from its saved state on a page with no kernel.
"""

from __future__ import annotations

import math

import anywidget
import numpy as np
import traitlets

from prettynn.widgets import checked_modes, esm

MODES = ("max", "avg", "backward")
MAX_SIDE = 8
MAX_KERNEL = 4
MAX_STRIDE = 4
MAX_DILATION = 3


def default_grid(size: int = 6, seed: int = 5) -> list[list[float]]:
    """A ``size`` x ``size`` grid of distinct integers around 0 (no ties, some negative)."""
    values = np.random.default_rng(seed).permutation(size * size) - size * size // 2
    return values.reshape(size, size).astype(float).tolist()


class PoolingExplorer(anywidget.AnyWidget):
    """Max pooling, average pooling and the max-pool backward pass, one window at a time.

    - grid: the input, a list of ``H`` rows of ``W`` finite numbers, ``2 <= H, W <= 8``
      (distinct values, so that each window has a single maximum).
    - modes: the modes the reader can choose, a non-empty list drawn from ``MODES``
      (leave out ``"backward"`` where the widget must not give away the backward pass).
    - mode: ``"max"``, ``"avg"`` or ``"backward"``, one of ``modes``.
    - kernel_size: 1 to 4; stride: 1 to 4; padding: 0 to ``kernel_size // 2`` (torch's limit);
      dilation: 1 to 3 (max pooling and its backward only).
    - ceil_mode, count_include_pad: as in ``torch.nn.functional.max_pool2d`` / ``avg_pool2d``.

    Invalid values raise ``ValueError``.
    """

    _esm = esm("pooling")

    grid = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    modes = traitlets.List(traitlets.Unicode(), default_value=list(MODES)).tag(sync=True)
    mode = traitlets.Unicode("max").tag(sync=True)
    kernel_size = traitlets.Int(2).tag(sync=True)
    stride = traitlets.Int(2).tag(sync=True)
    padding = traitlets.Int(0).tag(sync=True)
    dilation = traitlets.Int(1).tag(sync=True)
    ceil_mode = traitlets.Bool(False).tag(sync=True)
    count_include_pad = traitlets.Bool(True).tag(sync=True)

    def __init__(self, grid=None, mode: str = "max", kernel_size: int = 2, stride: int = 2, padding: int = 0,
                 dilation: int = 1, ceil_mode: bool = False, count_include_pad: bool = True, modes=MODES,
                 **kwargs) -> None:
        """Build the explorer; ``grid`` may be a 2-d array or nested lists (default: a 6x6 grid)."""
        rows = _checked_grid(default_grid() if grid is None else grid)
        offered = checked_modes(modes, MODES)
        _checked_geometry(kernel_size, stride, padding, dilation)
        super().__init__(grid=rows, modes=offered, mode=_checked_mode(mode, offered), kernel_size=kernel_size,
                         stride=stride, padding=padding, dilation=dilation, ceil_mode=bool(ceil_mode),
                         count_include_pad=bool(count_include_pad), **kwargs)

    @traitlets.validate("grid")
    def _validate_grid(self, proposal: traitlets.Bunch) -> list[list[float]]:
        return _checked_grid(proposal["value"])

    @traitlets.validate("modes")
    def _validate_modes(self, proposal: traitlets.Bunch) -> list[str]:
        offered = checked_modes(proposal["value"], MODES)
        _checked_mode(self.mode, offered)
        return offered

    @traitlets.validate("mode")
    def _validate_mode(self, proposal: traitlets.Bunch) -> str:
        return _checked_mode(proposal["value"], self.modes)

    @traitlets.validate("kernel_size", "stride", "padding", "dilation")
    def _validate_geometry(self, proposal: traitlets.Bunch) -> int:
        values = {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                  "dilation": self.dilation, proposal["trait"].name: proposal["value"]}
        _checked_geometry(values["kernel_size"], values["stride"], values["padding"], values["dilation"])
        return int(proposal["value"])


def _checked_grid(grid) -> list[list[float]]:
    """``grid`` as nested lists of floats if it is a finite 2-d grid of 2 to 8 rows and columns."""
    try:
        array = np.asarray(grid, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"grid must be a rectangular 2-d grid of numbers, got {grid!r}") from error
    if array.ndim != 2 or not (2 <= array.shape[0] <= MAX_SIDE and 2 <= array.shape[1] <= MAX_SIDE):
        raise ValueError(f"grid must be 2-d with 2 to {MAX_SIDE} rows and columns, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("grid must hold finite numbers")
    return array.tolist()


def _checked_mode(mode: str, offered=MODES) -> str:
    """``mode`` if it is one of the ``offered`` modes."""
    if mode not in offered:
        raise ValueError(f"mode must be one of {tuple(offered)}, got {mode!r}")
    return mode


def _checked_geometry(kernel_size: int, stride: int, padding: int, dilation: int = 1) -> None:
    """Raise ``ValueError`` unless 1 <= kernel_size <= 4, 1 <= stride <= 4, 0 <= padding <= kernel_size // 2
    and 1 <= dilation <= 3."""
    if not 1 <= kernel_size <= MAX_KERNEL:
        raise ValueError(f"kernel_size must be from 1 to {MAX_KERNEL}, got {kernel_size}")
    if not 1 <= stride <= MAX_STRIDE:
        raise ValueError(f"stride must be from 1 to {MAX_STRIDE}, got {stride}")
    if not 0 <= padding <= math.floor(kernel_size / 2):
        raise ValueError(f"padding must be from 0 to kernel_size // 2 = {kernel_size // 2} (torch's limit), "
                         f"got {padding}")
    if not 1 <= dilation <= MAX_DILATION:
        raise ValueError(f"dilation must be from 1 to {MAX_DILATION}, got {dilation}")
