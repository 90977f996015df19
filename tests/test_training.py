"""prettynn.training: an MLP of prettynn.layers matches torch autograd, SGD and batching are exact, it learns digits."""

from __future__ import annotations

import dataclasses
import io

import matplotlib
import numpy as np
import pytest

from prettynn.compare import relative_error
from prettynn.data import load_digits_split
from prettynn.exercises.linear import (
    torch_cross_entropy,
    torch_cross_entropy_backward,
    torch_linear,
    torch_linear_backward,
    torch_relu,
    torch_relu_backward,
)
from prettynn.layers import Flatten, Linear, ReLU, init_std
from prettynn.training import (
    CrossEntropyLoss,
    History,
    Sequential,
    accuracy,
    minibatches,
    mlp,
    plot_history,
    sgd_epoch,
    sgd_step,
    train,
)

# The reader's layer functions, played by the torch references (NumPy in, NumPy out).
LAYER_FUNCTIONS = {
    "linear": torch_linear,
    "linear_backward": torch_linear_backward,
    "relu": torch_relu,
    "relu_backward": torch_relu_backward,
}


def cross_entropy_loss() -> CrossEntropyLoss:
    """The loss built from the torch references."""
    return CrossEntropyLoss(torch_cross_entropy, torch_cross_entropy_backward)


def small_mlp(sizes, seed: int = 0) -> Sequential:
    """An MLP of the given sizes built from the torch references."""
    return mlp(sizes, np.random.default_rng(seed), **LAYER_FUNCTIONS)


@pytest.fixture(scope="module")
def digits():
    """The default digits split."""
    return load_digits_split()


class RecordingLayer:
    """Identity layer without parameters that records the ``training`` flag of every forward."""

    def __init__(self):
        self.params: dict = {}
        self.grads: dict = {}
        self.flags: list[bool] = []

    def forward(self, x, training=True):
        self.flags.append(training)
        return x

    def backward(self, grad_output):
        return grad_output


def test_mlp_is_linear_relu_linear_relu_linear():
    model = small_mlp((5, 7, 6, 4))
    assert [type(layer) for layer in model.layers] == [Linear, ReLU, Linear, ReLU, Linear]
    assert [layer.params["weight"].shape for layer in model.layers[::2]] == [(7, 5), (6, 7), (4, 6)]


def test_he_initialisation_scale_and_zero_bias():
    layer = Linear(200, 300, np.random.default_rng(0), torch_linear, torch_linear_backward)
    assert abs(layer.params["weight"].var() - 2 / 200) < 0.05 * 2 / 200
    assert np.array_equal(layer.params["bias"], np.zeros(300))


def test_xavier_initialisation_scale_and_zero_bias():
    layer = Linear(200, 300, np.random.default_rng(0), torch_linear, torch_linear_backward, init="xavier")
    assert abs(layer.params["weight"].var() - 2 / 500) < 0.05 * 2 / 500
    assert np.array_equal(layer.params["bias"], np.zeros(300))


def test_init_std_names_the_two_initialisations_and_refuses_others():
    assert init_std("he", 64, 10) == pytest.approx(np.sqrt(2 / 64))
    assert init_std("xavier", 64, 10) == pytest.approx(np.sqrt(2 / 74))
    with pytest.raises(ValueError, match="init must be one of"):
        init_std("glorot", 64, 10)


def test_mlp_passes_init_to_every_layer_and_he_stays_the_default():
    default = mlp((64, 64, 10), np.random.default_rng(0), **LAYER_FUNCTIONS)
    he = mlp((64, 64, 10), np.random.default_rng(0), init="he", **LAYER_FUNCTIONS)
    xavier = mlp((64, 64, 10), np.random.default_rng(0), init="xavier", **LAYER_FUNCTIONS)
    for plain, named in zip(default.layers[::2], he.layers[::2]):
        assert np.array_equal(plain.params["weight"], named.params["weight"])
    # the same draws, scaled: xavier / he = sqrt(in / ((in + out) / 2)) per layer
    for layer_he, layer_xavier in zip(he.layers[::2], xavier.layers[::2]):
        out_features, in_features = layer_he.params["weight"].shape
        ratio = init_std("xavier", in_features, out_features) / init_std("he", in_features, out_features)
        np.testing.assert_allclose(layer_xavier.params["weight"], ratio * layer_he.params["weight"])


def test_xavier_halves_the_second_moment_per_relu_layer_and_he_keeps_it():
    """The chapter's claim, on a wide network where the finite-width fluctuations are small."""
    x = np.random.default_rng(1).standard_normal((512, 256))
    steps = {}
    for init in ("he", "xavier"):
        model = mlp((256,) * 12, np.random.default_rng(2), init=init, **LAYER_FUNCTIONS)
        second_moments, h = [], x
        for layer in model.layers:
            h = layer.forward(h)
            if isinstance(layer, Linear):
                second_moments.append(np.mean(h ** 2))
        steps[init] = np.mean(np.diff(np.log2(second_moments)))
    assert abs(steps["he"]) < 0.1, steps
    assert abs(steps["xavier"] + 1) < 0.1, steps


def test_gradients_match_torch_autograd():
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(1)
    x, target = rng.standard_normal((8, 5)), rng.integers(0, 4, size=8)
    model, loss = small_mlp((5, 7, 6, 4)), cross_entropy_loss()
    value = loss(model.forward(x), target)
    grad_x = model.backward(loss.backward())

    linears = [layer for layer in model.layers if isinstance(layer, Linear)]
    weights = [{name: torch.tensor(p, requires_grad=True) for name, p in layer.params.items()} for layer in linears]
    hidden = torch.tensor(x, requires_grad=True)
    out = hidden
    for index, w in enumerate(weights):
        out = F.linear(out if index == 0 else F.relu(out), w["weight"], w["bias"])
    expected = F.cross_entropy(out, torch.tensor(target))
    expected.backward()

    assert value == pytest.approx(expected.item(), rel=1e-12)
    assert relative_error(grad_x, hidden.grad.numpy()) < 1e-12
    for layer, w in zip(linears, weights):
        for name in ("weight", "bias"):
            assert relative_error(layer.grads[name], w[name].grad.numpy()) < 1e-12, name


def test_parameters_pairs_every_parameter_with_its_gradient():
    model = small_mlp((5, 7, 4))
    pairs = list(model.parameters())
    expected = [(layer.params[name], layer.grads[name]) for layer in model.layers[::2] for name in ("weight", "bias")]
    assert len(pairs) == 4
    assert all(p is q and g is h for (p, g), (q, h) in zip(pairs, expected))


def test_sgd_step_moves_every_parameter_by_minus_lr_times_gradient():
    rng = np.random.default_rng(2)
    model = small_mlp((5, 7, 4))
    for layer in model.layers[::2]:
        layer.grads = {name: rng.standard_normal(p.shape) for name, p in layer.params.items()}
    before = [(p.copy(), g.copy()) for p, g in model.parameters()]
    sgd_step(model, lr=0.3)
    after = [p for p, _ in model.parameters()]
    assert all(np.array_equal(new, old - 0.3 * grad) for new, (old, grad) in zip(after, before))


def test_minibatches_cover_every_index_once_per_epoch():
    rng = np.random.default_rng(3)
    for _ in range(2):
        batches = list(minibatches(10, 4, rng))
        assert [len(batch) for batch in batches] == [4, 4, 2]
        order = np.concatenate(batches)
        assert np.array_equal(np.sort(order), np.arange(10))
        assert not np.array_equal(order, np.arange(10))


def test_training_flag_reaches_every_layer(digits):
    first, last = RecordingLayer(), RecordingLayer()
    hidden = small_mlp((64, 16, 10)).layers
    model = Sequential([first, *hidden, last])
    sgd_epoch(model, cross_entropy_loss(), digits.x_train[:64], digits.y_train[:64],
              lr=0.1, batch_size=32, rng=np.random.default_rng(0))
    assert first.flags == last.flags == [True, True]
    model.predict(digits.x_val)
    accuracy(model, digits.x_val, digits.y_val)
    assert first.flags[2:] == last.flags[2:] == [False, False]


def test_mlp_learns_digits(digits):
    history = train(small_mlp((64, 64, 10)), cross_entropy_loss(), digits,
                    epochs=8, lr=0.1, batch_size=32, rng=np.random.default_rng(0), progress=False)
    assert all(len(values) == 8 for values in (history.train_loss, history.train_accuracy,
                                               history.val_loss, history.val_accuracy))
    assert history.val_accuracy[-1] > 0.9, history.val_accuracy
    assert history.train_loss[-1] < 0.5 * history.train_loss[0], history.train_loss
    assert history.val_loss[-1] < history.val_loss[0], history.val_loss
    assert 0 < history.seconds < 60


def test_sgd_epoch_returns_the_mean_minibatch_loss_and_it_decreases(digits):
    model, loss, rng = small_mlp((64, 32, 10)), cross_entropy_loss(), np.random.default_rng(0)
    losses = [sgd_epoch(model, loss, digits.x_train, digits.y_train, lr=0.1, batch_size=64, rng=rng)
              for _ in range(3)]
    assert all(isinstance(value, float) for value in losses)
    assert losses[2] < losses[0] < np.log(10) * 1.5


def test_train_never_reads_the_test_set(digits):
    poisoned = dataclasses.replace(digits, x_test=np.full_like(digits.x_test, np.nan),
                                   y_test=np.full_like(digits.y_test, -1))
    history = train(small_mlp((64, 32, 10)), cross_entropy_loss(), poisoned,
                    epochs=2, lr=0.1, batch_size=32, rng=np.random.default_rng(0), progress=False)
    assert np.all(np.isfinite(history.train_loss + history.val_loss))
    assert history.val_accuracy[-1] > 0.5


def test_validation_measures_the_validation_set(digits):
    model = small_mlp((64, 32, 10))
    history = train(model, cross_entropy_loss(), digits,
                    epochs=1, lr=0.1, batch_size=32, rng=np.random.default_rng(0), progress=False)
    assert history.val_accuracy == [accuracy(model, digits.x_val, digits.y_val)]
    assert history.train_accuracy == [accuracy(model, digits.x_train, digits.y_train)]


def test_no_progress_prints_nothing(capsys, digits):
    train(small_mlp((64, 16, 10)), cross_entropy_loss(), digits,
          epochs=2, lr=0.1, batch_size=64, rng=np.random.default_rng(0), progress=False)
    assert capsys.readouterr().out == ""


def test_progress_rewrites_one_line_outside_ipython(capsys, digits):
    train(small_mlp((64, 16, 10)), cross_entropy_loss(), digits,
          epochs=3, lr=0.1, batch_size=64, rng=np.random.default_rng(0))
    out = capsys.readouterr().out
    assert out.count("\r") == 3 and out.count("\n") == 1 and out.endswith("\n")
    final = out.split("\r")[-1]
    assert "epoch 3/3" in final and "val" in final and "%" in final


class CountingSGD:
    """An optimizer with ``step()`` that takes plain SGD steps and counts them."""

    def __init__(self, model: Sequential, lr: float):
        self.model, self.lr, self.steps = model, lr, 0

    def step(self):
        self.steps += 1
        sgd_step(self.model, self.lr)


def test_train_with_an_optimizer_steps_it_after_every_minibatch_as_lr_would(digits):
    by_lr, by_optimizer = small_mlp((64, 16, 10)), small_mlp((64, 16, 10))
    optimizer = CountingSGD(by_optimizer, lr=0.1)
    options = {"epochs": 2, "batch_size": 100, "progress": False}
    expected = train(by_lr, cross_entropy_loss(), digits, lr=0.1, rng=np.random.default_rng(0), **options)
    history = train(by_optimizer, cross_entropy_loss(), digits, optimizer=optimizer, rng=np.random.default_rng(0),
                    **options)
    assert optimizer.steps == 2 * -(-len(digits.y_train) // 100)
    assert (history.train_loss, history.val_accuracy) == (expected.train_loss, expected.val_accuracy)
    for (a, _), (b, _) in zip(by_lr.parameters(), by_optimizer.parameters()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("choice", "given"), [({}, "neither"), ({"lr": 0.1, "optimizer": "any"}, "both")])
def test_train_needs_exactly_one_of_lr_and_optimizer(digits, choice, given):
    with pytest.raises(ValueError, match=f"exactly one of lr .* and optimizer .*, got {given}"):
        train(small_mlp((64, 16, 10)), cross_entropy_loss(), digits, epochs=1, batch_size=64,
              rng=np.random.default_rng(0), progress=False, **choice)


def test_train_refuses_an_optimizer_without_step(digits):
    with pytest.raises(TypeError, match="optimizer must have a step"):
        train(small_mlp((64, 16, 10)), cross_entropy_loss(), digits, epochs=1, batch_size=64,
              rng=np.random.default_rng(0), optimizer=0.1, progress=False)


def test_on_epoch_sees_each_epochs_measurements(digits):
    seen = []

    def on_epoch(epoch, epochs, history):
        seen.append((epoch, epochs, len(history.train_loss), len(history.val_accuracy), history.seconds))

    history = train(small_mlp((64, 16, 10)), cross_entropy_loss(), digits, epochs=3, lr=0.1, batch_size=64,
                    rng=np.random.default_rng(0), progress=False, on_epoch=on_epoch)
    assert [entry[:4] for entry in seen] == [(1, 3, 1, 1), (2, 3, 2, 2), (3, 3, 3, 3)]
    assert 0 < seen[0][4] <= seen[1][4] <= seen[2][4] == history.seconds


def test_train_takes_images(digits):
    images = digits.as_images()
    model = Sequential([Flatten(), *small_mlp((64, 32, 10)).layers])
    history = train(model, cross_entropy_loss(), images, epochs=2, lr=0.1, batch_size=32,
                    rng=np.random.default_rng(0), progress=False)
    assert images.x_train.shape[1:] == (1, 8, 8)
    assert history.val_accuracy[-1] > 0.5


def test_plot_history_draws_loss_and_accuracy():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = History(train_loss=[2.0, 1.0, 0.5], train_accuracy=[0.5, 0.8, 0.9],
                      val_loss=[2.1, 1.2, 0.7], val_accuracy=[0.45, 0.75, 0.85], seconds=1.0)
    figure = plot_history(history, title="digits")
    loss_axes, accuracy_axes = figure.axes
    assert loss_axes.get_yscale() == "log"
    assert [line.get_label() for line in loss_axes.get_lines()] == ["training", "validation"]
    assert np.array_equal(accuracy_axes.get_lines()[1].get_ydata(), [45.0, 75.0, 85.0])
    assert loss_axes.get_legend() is not None and accuracy_axes.get_legend() is not None
    figure.savefig(io.BytesIO(), format="png")
    assert not plt.fignum_exists(figure.number)  # closed in pyplot: a notebook shows it once
