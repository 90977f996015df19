"""prettynn.data: the digits split is stratified, disjoint and centred by the training mean."""

from __future__ import annotations

import numpy as np

from prettynn.data import load_digits_split


def test_default_sizes():
    data = load_digits_split()
    assert [len(data.y_train), len(data.y_val), len(data.y_test)] == [1077, 270, 450]
    assert data.x_train.shape == (1077, 64) and data.x_val.shape == (270, 64) and data.x_test.shape == (450, 64)


def test_every_part_is_centred_by_the_training_mean():
    data = load_digits_split()
    assert np.allclose(data.x_train.mean(axis=0), 0.0)
    assert np.allclose(data.mean, (data.x_train + data.mean).mean(axis=0))
    for x in (data.x_train, data.x_val, data.x_test):
        pixels = x + data.mean
        assert pixels.min() >= 0.0 and pixels.max() <= 1.0


def test_parts_are_disjoint_and_stratified():
    data = load_digits_split()
    pixels = np.concatenate([data.x_train, data.x_val, data.x_test]) + data.mean
    images = {row.tobytes() for row in np.round(pixels * 16).astype(np.int8)}
    assert len(images) == len(pixels) == 1797  # the 1,797 digits images are all different
    for y in (data.y_train, data.y_val, data.y_test):
        shares = np.bincount(y, minlength=10) / len(y)
        assert np.all(np.abs(shares - 0.1) < 0.02)


def test_as_images_keeps_every_pixel_in_place():
    data = load_digits_split()
    images = data.as_images()
    assert images.x_train.shape == (1077, 1, 8, 8) and images.x_test.shape == (450, 1, 8, 8)
    assert images.mean.shape == (1, 8, 8)
    row, column = 3, 5  # pixel 29 of the flat features is row 3, column 5 of the image
    assert np.array_equal(images.x_val[:, 0, row, column], data.x_val[:, 8 * row + column])
    assert np.array_equal(images.y_test, data.y_test)
