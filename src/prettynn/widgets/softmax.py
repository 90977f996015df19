"""The softmax and cross-entropy explorer (chapter 01): one example's logits, its target, and a scale.

The reader moves the logits ``z`` (shape ``(K,)``, ``K >= 2`` classes), picks the target class
and multiplies the logits by ``scale`` (1 to 1000 on a log slider). The browser draws, for the
scaled logits ``u = scale * z``, side by side:

- the naive computation, ``p = exp(u) / sum(exp(u))`` and ``loss = -log(p[target])``, which
  overflows to ``inf`` and ``NaN`` once ``u`` exceeds ``log(float64 max) ~ 709.78``;
- the max-shifted computation, ``p = exp(u - max u) / sum(exp(u - max u))`` and
  ``loss = -(u[target] - max u - log(sum(exp(u - max u))))``, which stays finite;

each as probability bars, the loss, and the gradient ``dloss/du = p - onehot(target)``.
Everything is computed in ``softmax.js`` (JavaScript numbers are IEEE float64, as
NumPy's), so the widget works from its saved state on a page with no kernel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import anywidget
import traitlets

from prettynn.widgets import esm

DEFAULT_LOGITS = (2.0, 1.0, 0.1, -1.0)


class SoftmaxExplorer(anywidget.AnyWidget):
    """Softmax, cross-entropy loss and its gradient for one example, naive vs max-shifted.

    - logits: the unscaled logits ``z`` of one example, shape ``(K,)`` with ``K >= 2``, finite.
    - target: the index of the true class, ``0 <= target < K``.
    - scale: the positive factor the logits are multiplied by before the softmax.

    Invalid values raise ``ValueError``, at construction and on later assignment. To change
    the number of classes and the target together, assign both inside
    ``widget.hold_trait_notifications()``.
    """

    _esm = esm("softmax")

    logits = traitlets.List(traitlets.Float(), default_value=list(DEFAULT_LOGITS)).tag(sync=True)
    target = traitlets.Int(0).tag(sync=True)
    scale = traitlets.Float(1.0).tag(sync=True)

    def __init__(
        self,
        logits: Sequence[float] = DEFAULT_LOGITS,
        target: int = 0,
        scale: float = 1.0,
        **kwargs,
    ) -> None:
        """Build the explorer; ``logits`` may be any sequence of numbers (list, tuple, 1-d array)."""
        try:
            values = [float(value) for value in logits]
        except (TypeError, ValueError) as error:
            raise ValueError(f"logits must be a sequence of numbers, got {logits!r}") from error
        values = _checked_logits(values)
        target = _checked_target(target, len(values))
        scale = _checked_scale(scale)
        super().__init__(logits=values, target=target, scale=scale, **kwargs)

    @traitlets.validate("logits")
    def _validate_logits(self, proposal: traitlets.Bunch) -> list[float]:
        values = _checked_logits(proposal["value"])
        if not 0 <= self.target < len(values):
            raise ValueError(
                f"target {self.target} is not a class of {len(values)} logits (0 to {len(values) - 1}); "
                "to change both, assign them inside widget.hold_trait_notifications()"
            )
        return values

    @traitlets.validate("target")
    def _validate_target(self, proposal: traitlets.Bunch) -> int:
        return _checked_target(proposal["value"], len(self.logits))

    @traitlets.validate("scale")
    def _validate_scale(self, proposal: traitlets.Bunch) -> float:
        return _checked_scale(proposal["value"])


def _checked_logits(values: Sequence[float]) -> list[float]:
    """``values`` as a list if it holds at least 2 finite numbers; ``ValueError`` otherwise."""
    values = list(values)
    if len(values) < 2:
        raise ValueError(f"logits needs at least 2 classes, got {len(values)}: {values}")
    bad = [value for value in values if not math.isfinite(value)]
    if bad:
        raise ValueError(f"logits must be finite, got {bad} in {values}")
    return values


def _checked_target(target: int, classes: int) -> int:
    """``target`` if it is a class index of ``classes`` classes; ``ValueError`` otherwise."""
    if not 0 <= target < classes:
        raise ValueError(f"target must be a class index from 0 to {classes - 1} for {classes} logits, got {target}")
    return int(target)


def _checked_scale(scale: float) -> float:
    """``scale`` as a float if it is finite and positive; ``ValueError`` otherwise."""
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0 (the slider spans 1 to 1000), got {scale}")
    return float(scale)
