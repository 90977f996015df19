"""Live training curves (chapter 06): what ``prettynn.training.train`` measured, drawn after every epoch.

Pass the widget's ``update`` as ``train``'s ``on_epoch``: after each epoch it copies the
``History`` into the traits, and the browser redraws. The widget shows a progress bar
("epoch k of K" and the seconds so far) and two plots side by side, the loss (log scale) and
the accuracy, each with the training and the validation curve against the epoch, on an x axis
fixed from 1 to the planned number of epochs, so the curves grow across it. The reader can
zoom the accuracy axis to its top and pick the epoch whose values are printed (the last one
until another is picked). Live in JupyterLab the curves grow while the cell runs; on the
book's static pages the saved state, every epoch, is drawn.

    curves = TrainingCurves(epochs=30, title="LeNet on digits, your layers")
    display(curves)
    train(model, loss, data, epochs=30, ..., on_epoch=curves.update, progress=False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anywidget
import traitlets

from prettynn.widgets import esm

if TYPE_CHECKING:
    from prettynn.training import History

MAX_EPOCHS = 10_000
SERIES = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")


class TrainingCurves(anywidget.AnyWidget):
    """Loss and accuracy per epoch, training and validation, with the training's progress.

    - epochs: the number of epochs planned, ``K`` (1 to ``MAX_EPOCHS``): the x axis spans 1 to K
    - train_loss, val_loss: ``(k,)`` mean cross-entropy after each of the ``k <= K`` epochs so far,
      ``None`` where it is not finite (a diverging run)
    - train_accuracy, val_accuracy: ``(k,)`` fractions in [0, 1]
    - seconds: the wall time of the training so far
    - title: shown above the plots ('' for none)

    The four lists always have the same length, ``k``; ``update`` sets them together. Invalid
    values raise ``ValueError``, at construction and on later assignment.
    """

    _esm = esm("training_curves")

    epochs = traitlets.Int(1).tag(sync=True)
    train_loss = traitlets.List(traitlets.Float(allow_none=True)).tag(sync=True)
    val_loss = traitlets.List(traitlets.Float(allow_none=True)).tag(sync=True)
    train_accuracy = traitlets.List(traitlets.Float()).tag(sync=True)
    val_accuracy = traitlets.List(traitlets.Float()).tag(sync=True)
    seconds = traitlets.Float(0.0).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    def update(self, epoch: int, epochs: int, history: History) -> None:
        """Show ``history`` after epoch ``epoch`` of ``epochs``: ``train``'s ``on_epoch``.

        ``history`` holds ``epoch`` entries per list; non-finite losses are sent as ``None``.
        The traits change together, in one message to the browser.
        """
        if len(history.train_loss) != epoch:
            raise ValueError(f"epoch {epoch} does not match the history, which holds {len(history.train_loss)} epochs")
        with self.hold_sync(), self.hold_trait_notifications():
            self.epochs = epochs
            self.train_loss = _finite_or_none(history.train_loss)
            self.val_loss = _finite_or_none(history.val_loss)
            self.train_accuracy = list(history.train_accuracy)
            self.val_accuracy = list(history.val_accuracy)
            self.seconds = history.seconds

    @traitlets.validate("train_loss", "val_loss")
    def _validate_losses(self, proposal: traitlets.Bunch) -> list[float | None]:
        name, values = proposal["trait"].name, list(proposal["value"])
        bad = [value for value in values if value is not None and not (math.isfinite(value) and value >= 0)]
        if bad:
            raise ValueError(f"{name} must hold losses >= 0 (None where not finite), got {bad}")
        self._check_lengths(name, len(values), self.epochs)
        return values

    @traitlets.validate("train_accuracy", "val_accuracy")
    def _validate_accuracies(self, proposal: traitlets.Bunch) -> list[float]:
        name, values = proposal["trait"].name, list(proposal["value"])
        bad = [value for value in values if not 0.0 <= value <= 1.0]
        if bad:
            raise ValueError(f"{name} must hold fractions from 0 to 1, got {bad}")
        self._check_lengths(name, len(values), self.epochs)
        return values

    @traitlets.validate("epochs")
    def _validate_epochs(self, proposal: traitlets.Bunch) -> int:
        epochs = proposal["value"]
        if not 1 <= epochs <= MAX_EPOCHS:
            raise ValueError(f"epochs must be an integer from 1 to {MAX_EPOCHS}, got {epochs}")
        self._check_lengths("epochs", len(self.train_loss), epochs)
        return epochs

    @traitlets.validate("seconds")
    def _validate_seconds(self, proposal: traitlets.Bunch) -> float:
        seconds = proposal["value"]
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds}")
        return float(seconds)

    def _check_lengths(self, name: str, length: int, epochs: int) -> None:
        """``ValueError`` unless the four lists (``name``'s ``length`` long) have one length, at most ``epochs``."""
        lengths = {series: length if series == name else len(getattr(self, series)) for series in SERIES}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"train_loss, val_loss, train_accuracy and val_accuracy need one value per epoch each, "
                             f"got lengths {lengths}: set them together with update(epoch, epochs, history)")
        if lengths[SERIES[0]] > epochs:
            raise ValueError(f"{lengths[SERIES[0]]} epochs measured but only {epochs} planned (epochs)")


def _finite_or_none(values: Sequence[float]) -> list[float | None]:
    """``values`` as floats, ``None`` in place of a NaN or an infinity (JSON has neither)."""
    return [float(value) if math.isfinite(value) else None for value in values]
