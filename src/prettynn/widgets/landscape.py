"""Batch norm and the loss landscape (chapter 03): the precomputed runs of ``prettynn.experiments.landscape``.

The reader picks a learning rate, a depth and batch norm on or off. The browser draws, for
that run, against the training step:

- (a) the loss at the probes along the gradient direction (a band from its minimum to its
  maximum over the probe step sizes),
- (b) the gradient's change ``||grad(w - s g) - g||`` over the probes,
- (c) the effective beta-smoothness, that change divided by the distance moved,

each on a log scale shared by the plain and the batch-norm run of the same depth and
learning rate (the other one drawn as a grey line, for comparison), and the 2-D slice of
the loss around the final weights as a heat map with contour lines, under which a caveat
says that moving along the slice's directions lengthens the weight rows, which batch norm
divides out (scale invariance); the table beside it gives the largest loss on the slice,
along its first direction, and along that direction with the rows' norms kept. Nothing is
computed in the browser but the drawing and those maxima: every run is sent as traits.
"""

from __future__ import annotations

import math

import anywidget
import numpy as np
import traitlets

from prettynn.widgets import esm

# Loss values of the contour lines; the heat map's colour scale spans the same range (log).
CONTOUR_LEVELS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def _rounded(value, digits: int = 4):
    """``value`` (nested lists of floats) rounded to ``digits`` significant digits, ``None`` kept."""
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    return value


def contour_lines(grid: list[list[float | None]], span: float, levels=CONTOUR_LEVELS) -> list[dict]:
    """Contour lines of a ``G x G`` loss grid on ``[-span, span]^2``: per level, polylines of ``[a, b]`` points.

    Missing (non-finite) losses count as larger than every level.
    """
    from contourpy import contour_generator

    z = np.array([[np.inf if v is None else v for v in row] for row in grid], dtype=float)
    z = np.where(np.isfinite(z), z, 10 * max(levels))
    offsets = np.linspace(-span, span, z.shape[0])
    generator = contour_generator(offsets, offsets, np.log10(z))
    return [{"level": level,
             "lines": [np.round(line, 3).tolist() for line in generator.lines(math.log10(level))]}
            for level in levels]


class LandscapeExplorer(anywidget.AnyWidget):
    """Loss range, gradient predictiveness, beta-smoothness and a loss slice, with and without batch norm.

    - runs: one dict per run (``Run`` of ``prettynn.experiments.landscape`` as a dict, plus its
      ``contours``): depth, learning_rate, batch_norm, steps ``(P,)``, loss / grad_change /
      beta ``(P, 2)`` (min, max over the probes), final_loss, slice_loss ``(G, G)``,
      line_loss_kept_norms ``(G,)``.
    - span: the slice covers ``[-span, span]`` along each direction.
    - probe_sizes: the probe step sizes, as multiples of the gradient.
    - depth, learning_rate, batch_norm: the run shown; a depth and a learning rate of the runs.
    """

    _esm = esm("landscape")

    runs = traitlets.List(traitlets.Dict()).tag(sync=True)
    span = traitlets.Float(1.0).tag(sync=True)
    probe_sizes = traitlets.List(traitlets.Float()).tag(sync=True)
    levels = traitlets.List(traitlets.Float(), default_value=list(CONTOUR_LEVELS)).tag(sync=True)
    depth = traitlets.Int(8).tag(sync=True)
    learning_rate = traitlets.Float(0.05).tag(sync=True)
    batch_norm = traitlets.Bool(True).tag(sync=True)

    @classmethod
    def from_result(cls, result, depth: int | None = None, learning_rate: float | None = None,
                    batch_norm: bool = True) -> "LandscapeExplorer":
        """The explorer of a ``LandscapeResult``, showing its deepest network at its middle learning rate
        unless told otherwise."""
        config = result.config
        runs = []
        for run in result.as_traits():
            run["contours"] = contour_lines(run["slice_loss"], config.span)
            runs.append(_rounded(run))
        rates = config.learning_rates
        return cls(runs=runs, span=config.span, probe_sizes=list(config.probe_sizes),
                   depth=max(config.depths) if depth is None else depth,
                   learning_rate=rates[len(rates) // 2] if learning_rate is None else learning_rate,
                   batch_norm=batch_norm)

    @traitlets.validate("depth")
    def _validate_depth(self, proposal: traitlets.Bunch) -> int:
        depths = sorted({run["depth"] for run in self.runs})
        if self.runs and proposal["value"] not in depths:
            raise ValueError(f"depth must be one of the runs' depths {depths}, got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("learning_rate")
    def _validate_learning_rate(self, proposal: traitlets.Bunch) -> float:
        rates = sorted({run["learning_rate"] for run in self.runs})
        if self.runs and proposal["value"] not in rates:
            raise ValueError(f"learning_rate must be one of the runs' learning rates {rates}, got {proposal['value']}")
        return proposal["value"]
