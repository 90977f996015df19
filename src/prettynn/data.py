"""The data sets the chapters use, all available offline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """A train/validation/test split: ``x_*`` float64 ``(N, D)`` features, ``y_*`` int64 ``(N,)`` labels.

    Train on ``x_train``, choose hyperparameters and stop on ``x_val``, and look at
    ``x_test`` once, at the end. ``mean`` ``(D,)`` is the training mean subtracted from all
    three ``x_*``; add it back to display the images.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray

    def as_images(self) -> "Split":
        """The same split with every ``x_*`` and ``mean`` as 8x8 one-channel images: ``(N, 1, 8, 8)``
        and ``(1, 8, 8)``, the layout of ``torch.nn.Conv2d``'s input."""
        image = (1, 8, 8)
        return Split(self.x_train.reshape(-1, *image), self.y_train, self.x_val.reshape(-1, *image), self.y_val,
                     self.x_test.reshape(-1, *image), self.y_test, self.mean.reshape(image))


def load_digits_split(test_fraction: float = 0.25, validation_fraction: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's 8x8 digits (1,797 images, 10 classes, bundled with scikit-learn).

    ``test_fraction`` of all images is held out for testing, then ``validation_fraction``
    of the rest for validation, both stratified by class. With the defaults: 1,077
    training, 270 validation and 450 test images. Pixels (0 to 16) are scaled to [0, 1]
    and each feature is centred by the training mean, so a fresh network starts in a
    reasonable regime. Features are ``(N, 64)``.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=validation_fraction, random_state=seed, stratify=y_rest
    )
    mean = x_train.mean(axis=0)
    return Split(x_train - mean, y_train, x_val - mean, y_val, x_test - mean, y_test, mean)
