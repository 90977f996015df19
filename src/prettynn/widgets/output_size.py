"""The output-size widget (chapter 04): padding, stride and dilation vs the output size.

``OutputSizeExplorer`` draws, along one axis, every window position for an input size, kernel
size, stride, padding (or ``'same'``) and dilation, marks which positions each tap reads and
which positions no tap reads, and, on request, evaluates the output-size formula on those
numbers. Everything is computed in the ES module ``output_size.js``, so each control works
from the saved state on a page with no kernel.
"""

from __future__ import annotations

import anywidget
import traitlets

from prettynn.widgets import esm, range_validator

# The lowest and highest value of each integer trait.
RANGES = {"input_size": (1, 16), "kernel_size": (1, 7), "stride": (1, 4), "padding": (0, 4), "dilation": (1, 3)}


class OutputSizeExplorer(anywidget.AnyWidget):
    """Every window position along one axis, the positions each tap reads and those no tap reads, and
    (on request) the output-size formula evaluated on the reader's numbers.

    - input_size: 1 to 16; kernel_size: 1 to 7; stride: 1 to 4; padding: 0 to 4 per side;
      dilation: 1 to 3.
    - same: True for ``padding='same'`` (the padding slider is then ignored: the total padding is
      dilation * (kernel_size - 1), the extra one at the end); torch rejects it with stride > 1.
    - show_formula: False hides the formula (the reader derives it first: an exercise of chapter 04);
      a checkbox in the widget shows it.
    """

    _esm = esm("output_size")

    input_size = traitlets.Int(7).tag(sync=True)
    kernel_size = traitlets.Int(3).tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    padding = traitlets.Int(0).tag(sync=True)
    dilation = traitlets.Int(1).tag(sync=True)
    same = traitlets.Bool(False).tag(sync=True)
    show_formula = traitlets.Bool(False).tag(sync=True)

    _validate_range = range_validator(RANGES)
