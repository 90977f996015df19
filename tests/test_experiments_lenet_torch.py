"""prettynn.experiments.lenet_torch: chapter 06's network in torch (its twin of a NumPy network, its
layer table, its training runs) and the one-pixel shifts of the augmentation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from prettynn.data import load_digits_split
from prettynn.experiments.lenet_torch import (
    SHIFTS,
    layer_rows,
    network,
    random_shifts,
    seed_runs,
    train_lenet,
    twin,
)
from prettynn.layers import Dropout
from prettynn.training import layer_table, lenet


@pytest.fixture(scope="module")
def digits():
    """The digits as images, the training part cut to 128 images (quick runs)."""
    data = load_digits_split().as_images()
    return dataclasses.replace(data, x_train=data.x_train[:128], y_train=data.y_train[:128])


# ---------------------------------------------------------------- random_shifts


def shifted_by(images: np.ndarray, down: int, right: int) -> np.ndarray:
    """``images`` (N, C, H, W) moved ``down`` rows and ``right`` columns, zeros coming in (written out by hand)."""
    out = np.zeros_like(images)
    height, width = images.shape[2:]
    rows_out = slice(max(down, 0), height + min(down, 0))
    rows_in = slice(max(-down, 0), height - max(down, 0))
    cols_out = slice(max(right, 0), width + min(right, 0))
    cols_in = slice(max(-right, 0), width - max(right, 0))
    out[:, :, rows_out, cols_out] = images[:, :, rows_in, cols_in]
    return out


def test_random_shifts_moves_each_image_by_one_of_the_five_shifts_with_blank_paper_coming_in():
    rng = np.random.default_rng(0)
    pixels = rng.uniform(0.1, 1.0, size=(500, 1, 8, 8))  # no blank pixel: every moved-in zero shows
    mean = pixels.mean(axis=0)
    centred = pixels - mean
    before = centred.copy()
    shifted = random_shifts(centred, mean, np.random.default_rng(1)) + mean
    assert np.array_equal(centred, before), "the input must not change"
    candidates = np.stack([shifted_by(pixels, down, right) for down, right in SHIFTS])  # (5, N, 1, 8, 8)
    matches = np.all(np.isclose(candidates, shifted[None]), axis=(2, 3, 4))  # (5, N)
    assert np.all(matches.sum(axis=0) == 1), "each image should be exactly one of the five versions"
    counts = matches.sum(axis=1)
    assert np.all(counts > 500 / 5 - 4 * np.sqrt(500 * 0.2 * 0.8)), f"the five shifts are not drawn uniformly: {counts}"


def test_shifts_are_in_place_up_down_left_right():
    assert SHIFTS == ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
    image = np.zeros((1, 1, 3, 3))
    image[0, 0, 1, 1] = 1.0
    assert shifted_by(image, -1, 0)[0, 0, 0, 1] == 1.0  # "up" moves the ink to the row above


# ---------------------------------------------------------------- network, layer_rows, twin


def test_network_has_lenets_layer_table(reference_solutions):
    model = lenet(np.random.default_rng(0), reference_solutions)
    assert layer_rows(network(), (2, 1, 8, 8)) == layer_table(model, (2, 1, 8, 8))


def test_network_with_wider_blocks_has_the_widths_it_was_given():
    rows = layer_rows(network(hidden=64, channels=(16, 32)), (1, 1, 8, 8))
    assert rows[0].output_shape == (1, 16, 8, 8) and rows[0].parameters == 16 * 9
    assert rows[4].output_shape == (1, 32, 4, 4) and rows[4].parameters == 32 * 16 * 9
    assert rows[10].output_shape == (1, 64) and rows[10].parameters == 32 * 4 * 64 + 64


def test_network_draws_he_initial_weights_from_its_seed_and_zero_biases():
    first, again, other = network(seed=3), network(seed=3), network(seed=4)
    weights = [module.weight for module in first if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear))]
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values()))
    assert not torch.equal(first[0].weight, other[0].weight)
    for weight in weights[1:]:  # the first convolution has only 54 weights
        fan_in = weight[0].numel()
        assert abs(weight.std().item() / np.sqrt(2 / fan_in) - 1) < 0.2
    assert all(not module.bias.any() for module in first if isinstance(module, torch.nn.Linear))
    assert first[0].weight.dtype == torch.float64


def test_twin_is_the_written_network_holding_the_numpy_networks_numbers(reference_solutions):
    """The twin read off a NumPy network has the architecture written out in ``network``, the same
    parameters and running statistics, and computes the same logits, with the shared dropout mask in
    training mode and without dropout in evaluation mode (its gradients: tests/test_layers_cnn.py)."""
    model = lenet(np.random.default_rng(0), reference_solutions, channels=(4, 8), hidden=16)
    written = network(channels=(4, 8), hidden=16)
    copy = twin(model)
    assert [type(module).__name__ for module in copy] == [
        "SharedMask" if isinstance(module, torch.nn.Dropout) else type(module).__name__ for module in written]
    assert {name: value.shape for name, value in copy.state_dict().items()} == {
        name: value.shape for name, value in written.state_dict().items()}
    for (parameter, _), twin_parameter in zip(model.parameters(), copy.parameters(), strict=True):
        assert np.array_equal(parameter, twin_parameter.detach().numpy())
    x = load_digits_split().as_images().x_train[:16]
    training = model.forward(x, training=True)
    mask = next(layer.mask for layer in model.layers if isinstance(layer, Dropout))
    assert 0 < np.mean(mask == 0) < 1
    with torch.no_grad():
        assert np.allclose(training, copy.train()(torch.from_numpy(x)).numpy(), rtol=1e-12, atol=1e-12)
        assert np.allclose(model.forward(x, training=False), copy.eval()(torch.from_numpy(x)).numpy(),
                           rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- train_lenet, seed_runs


def test_train_lenet_is_seeded_and_measures_every_epoch(digits):
    options = dict(epochs=2, batch_size=32, lr=3e-3, dtype=torch.float32)
    first, again = train_lenet(digits, seed=5, **options), train_lenet(digits, seed=5, **options)
    assert first.history.val_accuracy == again.history.val_accuracy
    assert first.history.train_loss == again.history.train_loss
    assert len(first.history.train_accuracy) == len(first.history.val_loss) == 2
    assert first.history.seconds > 0 and 0 <= first.test_accuracy <= 1
    probabilities = first.probabilities(digits.x_test)
    assert probabilities.shape == (len(digits.y_test), 10)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert np.allclose(probabilities, first.test_probabilities)
    assert first.test_accuracy == pytest.approx(np.mean(probabilities.argmax(axis=1) == digits.y_test))


def test_train_lenet_without_measuring_training_keeps_only_the_validation_curve(digits):
    run = train_lenet(digits, seed=0, epochs=2, batch_size=64, lr=3e-3, measure_training=False,
                      dtype=torch.float32)
    assert run.history.train_loss == run.history.train_accuracy == []
    assert len(run.history.val_accuracy) == 2


def test_a_few_epochs_learn_the_digits():
    run = train_lenet(load_digits_split().as_images(), seed=0, epochs=3, batch_size=64, lr=1e-2,
                      channels=(16, 32), hidden=64, dtype=torch.float32, measure_training=False)
    assert run.history.val_loss[-1] < run.history.val_loss[0]
    assert run.test_accuracy > 0.8


def test_seed_runs_gives_each_seed_without_then_with_augmentation(digits):
    runs = seed_runs(digits, (1, 2), epochs=1, batch_size=64, lr=1e-3, dtype=torch.float32, measure_training=False)
    assert [(run.seed, run.augment) for run in runs] == [(1, False), (1, True), (2, False), (2, True)]
    assert runs[0].history.val_loss != runs[1].history.val_loss  # the shifts changed the training
