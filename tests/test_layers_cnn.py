"""prettynn.layers' convolutional network, on the instructor's solutions, equals the same network in torch.

- each layer (``Conv2d``, ``BatchNorm2d``, ``MaxPool2d``, ``Flatten``) computes what its ``torch.nn``
  module computes, forward and backward, and ``Conv2d`` draws its weights as ``torch.nn.init`` would;
- the proof of equality: one training step of ``prettynn.training.lenet`` (conv, batch norm, ReLU,
  max pooling twice, flatten, dropout, two linear layers, cross-entropy) equals torch's on a batch of
  digits: the loss, every parameter's gradient, the input's gradient, the running statistics and
  every parameter after the update;
- ``layer_table`` lists the shapes and parameter counts of torch's modules;
- a few SGD steps of ``lenet`` lower the loss on digits.

The reader's functions are played by the instructor's NumPy solutions (``reference_solutions``);
torch runs in float64 on the same numbers.

The tolerance. Both sides compute in float64 (unit round-off u = 1.1e-16). Each value is a sum
of at most a few hundred rounded products (a convolution's 6 * 9 terms, a batch norm's 8 * 8 * 8
per channel) passed through a dozen layers, and the two sides sum in different orders, so they
may differ by up to some hundreds of u times the magnitudes involved, 1e-14 to 1e-13 of the
largest value (measured: 2e-15 at most). ``TOLERANCE = 1e-10`` leaves a thousandfold margin above
that bound, and is still a millionfold below a real mistake (a wrong index, a missing term),
which changes values by 1e-4 of their scale or more. The error is measured against the largest value of the array
(``max |got - expected| / max |expected|``), not elementwise: an element that is the sum of
terms cancelling to nearly zero keeps an absolute error of the size of its terms' round-off.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from prettynn.data import load_digits_split
from prettynn.layers import BatchNorm, BatchNorm2d, Conv2d, Dropout, Flatten, MaxPool2d
from prettynn.experiments import lenet_torch
from prettynn.experiments.lenet_torch import copy_layer
from prettynn.optimizers import SGD, Adam
from prettynn.training import (
    LENET_FUNCTIONS,
    CrossEntropyLoss,
    LayerRow,
    Sequential,
    layer_table,
    lenet,
    sgd_epoch,
    sgd_step,
)

TOLERANCE = 1e-10
LR = 0.1


def assert_equal_up_to_rounding(got, expected, what: str) -> None:
    """``got`` has ``expected``'s shape and ``max |got - expected| <= TOLERANCE * max |expected|``."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, torch {expected.shape}"
    error = np.max(np.abs(got - expected)) / np.max(np.abs(expected))
    assert error <= TOLERANCE, f"{what}: relative error {error:.1e} > {TOLERANCE:.0e}"


def numpy_of(tensor: torch.Tensor) -> np.ndarray:
    """A detached tensor's values."""
    return tensor.detach().numpy()


@pytest.fixture(scope="module")
def digits_batch() -> tuple[np.ndarray, np.ndarray]:
    """Eight digits ``(8, 1, 8, 8)`` (pixels in [0, 1], centred) and their labels ``(8,)``."""
    data = load_digits_split()
    return data.x_train[:8].reshape(8, 1, 8, 8), data.y_train[:8]


# ---------------------------------------------------------------- each layer against its torch module


def randomise_batch_norm(layer: BatchNorm, rng: np.random.Generator) -> None:
    """Give a fresh ``BatchNorm`` random weight, bias and running statistics (in place), so none is trivial."""
    size = layer.params["weight"].shape
    layer.params["weight"][...] = rng.normal(1.0, 0.3, size)
    layer.params["bias"][...] = rng.normal(0.0, 0.3, size)
    layer.running_mean[...] = rng.normal(0.0, 0.3, size)
    layer.running_var[...] = rng.uniform(0.5, 2.0, size)


def layer_cases(functions: dict) -> dict:
    """Name -> (NumPy layer, its torch module, input shape) of every kind of layer of the network."""
    rng = np.random.default_rng(3)
    conv = {"conv2d": functions["conv2d"], "conv2d_backward": functions["conv2d_backward"]}
    pool = {"max_pool2d": functions["max_pool2d"], "max_pool2d_backward": functions["max_pool2d_backward"]}
    batch_norm = BatchNorm2d(3, functions["batch_norm"], functions["batch_norm_backward"], momentum=0.2)
    randomise_batch_norm(batch_norm, rng)
    return {
        "Conv2d 3x2, stride 2, padding 1, bias": (
            Conv2d(3, 4, (3, 2), rng, stride=2, padding=1, **conv), nn.Conv2d(3, 4, (3, 2), stride=2, padding=1),
            (2, 3, 7, 6)),
        "Conv2d 3x3, no bias": (Conv2d(2, 5, 3, rng, bias=False, **conv), nn.Conv2d(2, 5, 3, bias=False),
                                (3, 2, 6, 6)),
        "MaxPool2d 2": (MaxPool2d(2, **pool), nn.MaxPool2d(2), (2, 3, 6, 8)),
        "MaxPool2d 3, stride 2, padding 1": (MaxPool2d(3, stride=2, padding=1, **pool),
                                             nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 7)),
        "BatchNorm2d": (batch_norm, nn.BatchNorm2d(3, momentum=0.2), (4, 3, 5, 5)),
        "Flatten": (Flatten(), nn.Flatten(), (2, 3, 4, 5)),
    }


LAYER_CASES = list(layer_cases(dict.fromkeys(LENET_FUNCTIONS)))


@pytest.mark.parametrize("case", LAYER_CASES)
def test_each_layer_computes_what_its_torch_module_computes(case, reference_solutions):
    layer, module, shape = layer_cases(reference_solutions)[case]
    module = module.double()
    copy_layer(layer, module)
    rng = np.random.default_rng(4)
    x = rng.normal(0.5, 2.0, size=shape)  # continuous: no ties in a pooling window
    x_torch = torch.tensor(x, requires_grad=True)
    out_torch = module(x_torch)
    grad_output = rng.standard_normal(out_torch.shape)
    out_torch.backward(torch.from_numpy(grad_output))

    assert_equal_up_to_rounding(layer.forward(x, training=True), numpy_of(out_torch), "output")
    assert_equal_up_to_rounding(layer.backward(grad_output), numpy_of(x_torch.grad), "input gradient")
    assert layer.grads.keys() == dict(module.named_parameters()).keys()
    for name, parameter in module.named_parameters():
        assert_equal_up_to_rounding(layer.grads[name], numpy_of(parameter.grad), f"{name} gradient")
    if isinstance(layer, BatchNorm):
        assert_equal_up_to_rounding(layer.running_mean, numpy_of(module.running_mean), "running mean")
        assert_equal_up_to_rounding(layer.running_var, numpy_of(module.running_var), "running var")


def test_batch_norm_2d_refuses_input_that_is_not_images(reference_solutions):
    layer = BatchNorm2d(3, reference_solutions["batch_norm"], reference_solutions["batch_norm_backward"])
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        layer.forward(np.zeros((4, 3)))


@pytest.mark.parametrize("init, torch_init", [
    ("he", lambda weight: nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")),
    ("xavier", nn.init.xavier_normal_),
])
def test_conv2d_draws_its_weights_as_torch_init_does_and_zero_bias(init, torch_init):
    """Same fans as torch.nn.init: the standard deviations of 18,432 draws agree within 3% (each
    estimate has a relative standard error of 1 / sqrt(2 * 18432) = 0.5%)."""
    layer = Conv2d(32, 64, (3, 3), np.random.default_rng(0), conv2d=None, conv2d_backward=None, init=init)
    weight = layer.params["weight"]
    torch.manual_seed(0)
    expected = torch_init(torch.empty(weight.shape, dtype=torch.float64))
    assert weight.shape == (64, 32, 3, 3)
    assert abs(weight.std() / expected.std().item() - 1) < 0.03
    assert abs(weight.mean()) < 0.03 * weight.std()
    assert np.array_equal(layer.params["bias"], np.zeros(64))


def test_conv2d_without_bias_has_and_reports_no_bias(reference_solutions):
    layer = Conv2d(2, 3, 3, np.random.default_rng(0), conv2d=reference_solutions["conv2d"],
                   conv2d_backward=reference_solutions["conv2d_backward"], bias=False)
    layer.forward(np.ones((1, 2, 4, 4)))
    layer.backward(np.ones((1, 3, 2, 2)))
    assert list(layer.params) == list(layer.grads) == ["weight"]


# ---------------------------------------------------------------- the network, its torch twin


def numpy_parameters(model: Sequential) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``"<layer index>.<name>"`` -> (parameter, gradient): torch's ``named_parameters`` names."""
    return {f"{index}.{name}": (layer.params[name], layer.grads[name])
            for index, layer in enumerate(model.layers) for name in layer.params}


def numpy_running_statistics(model: Sequential) -> dict[str, np.ndarray]:
    """``"<layer index>.running_mean"`` and ``running_var`` of every batch norm: torch's buffer names."""
    return {f"{index}.{name}": getattr(layer, name)
            for index, layer in enumerate(model.layers) if isinstance(layer, BatchNorm)
            for name in ("running_mean", "running_var")}


def torch_running_statistics(network: nn.Module) -> dict[str, np.ndarray]:
    """The running means and variances of ``network``'s batch norms, by buffer name."""
    return {name: numpy_of(buffer) for name, buffer in network.named_buffers() if ".running_" in name}


def lenet_and_its_torch_twin(functions: dict, seed: int = 0) -> tuple[Sequential, nn.Sequential]:
    """``lenet`` built from ``functions`` (its batch norms randomised) and the torch network holding
    the same parameters and running statistics, its dropout sharing the NumPy side's mask."""
    rng = np.random.default_rng(seed)
    model = lenet(rng, functions)
    for layer in model.layers:
        if isinstance(layer, BatchNorm):
            randomise_batch_norm(layer, rng)
    dropout = next(layer for layer in model.layers if isinstance(layer, Dropout))
    network = lenet_torch.network(dropout=lenet_torch.shared_mask(dropout))  # its architecture written apart
    for layer, module in zip(model.layers, network, strict=True):
        copy_layer(layer, module)
    return model, network


# Each update: the NumPy side (a model and the instructor's functions) and the torch side (a network), one step.
UPDATES = {
    "plain SGD": (lambda model, functions: sgd_step(model, LR),
                  lambda network: torch.optim.SGD(network.parameters(), lr=LR).step()),
    "SGD, Nesterov momentum and weight decay, the instructor's sgd": (
        lambda model, functions: SGD(model, functions["sgd"], lr=LR, momentum=0.9, weight_decay=1e-3,
                                     nesterov=True).step(),
        lambda network: torch.optim.SGD(network.parameters(), lr=LR, momentum=0.9, weight_decay=1e-3,
                                        nesterov=True).step()),
    "Adam with weight decay, the instructor's adam": (
        lambda model, functions: Adam(model, functions["adam"], lr=1e-3, weight_decay=1e-4).step(),
        lambda network: torch.optim.Adam(network.parameters(), lr=1e-3, weight_decay=1e-4).step()),
}


@pytest.mark.parametrize("update", UPDATES)
def test_one_training_step_of_lenet_equals_torch(update, reference_solutions, digits_batch):
    numpy_update, torch_update = UPDATES[update]
    model, network = lenet_and_its_torch_twin(reference_solutions)
    x, target = digits_batch
    loss = CrossEntropyLoss(reference_solutions["cross_entropy"], reference_solutions["cross_entropy_backward"])

    value = loss(model.forward(x, training=True), target)
    grad_x = model.backward(loss.backward())
    x_torch = torch.tensor(x, requires_grad=True)
    expected = F.cross_entropy(network.train()(x_torch), torch.from_numpy(target))
    expected.backward()

    mask = next(layer.mask for layer in model.layers if isinstance(layer, Dropout))
    assert set(np.unique(mask)) == {0.0, 1 / 0.75}  # p = 0.25, and the mask drops some, keeps some
    assert_equal_up_to_rounding(value, expected.item(), "loss")
    assert_equal_up_to_rounding(grad_x, numpy_of(x_torch.grad), "input gradient")
    parameters = numpy_parameters(model)
    assert list(parameters) == [name for name, _ in network.named_parameters()]
    for name, parameter in network.named_parameters():
        assert_equal_up_to_rounding(parameters[name][1], numpy_of(parameter.grad), f"{name} gradient")
    running = numpy_running_statistics(model)
    assert running.keys() == torch_running_statistics(network).keys()
    for name, statistic in torch_running_statistics(network).items():
        assert_equal_up_to_rounding(running[name], statistic, name)

    numpy_update(model, reference_solutions)
    torch_update(network)
    for name, parameter in network.named_parameters():
        assert_equal_up_to_rounding(parameters[name][0], numpy_of(parameter), f"{name} after the update")


def test_a_few_sgd_steps_of_lenet_lower_the_loss(reference_solutions):
    data = load_digits_split()
    x, y = data.x_train[:256].reshape(-1, 1, 8, 8), data.y_train[:256]
    rng = np.random.default_rng(0)
    model = lenet(rng, reference_solutions)
    loss = CrossEntropyLoss(reference_solutions["cross_entropy"], reference_solutions["cross_entropy_backward"])
    before = loss(model.forward(x, training=False), y)
    for _ in range(3):  # 3 epochs of 8 steps; the loss falls to 0.4 to 0.55 of its start (seeds 0 to 3)
        sgd_epoch(model, loss, x, y, lr=LR, batch_size=32, rng=rng)
    after = loss(model.forward(x, training=False), y)
    assert after < 0.75 * before, (before, after)


def test_lenet_names_the_functions_it_misses(reference_solutions):
    functions = {name: reference_solutions[name] for name in LENET_FUNCTIONS if not name.startswith("conv2d")}
    with pytest.raises(KeyError, match="conv2d, conv2d_backward"):
        lenet(np.random.default_rng(0), functions)


# ---------------------------------------------------------------- the layer table


@pytest.mark.parametrize("image_size", [8, 12])
def test_layer_table_gives_torchs_shapes_and_parameter_counts(image_size, reference_solutions):
    model = lenet(np.random.default_rng(0), reference_solutions, image_size=image_size)
    input_shape = (2, 1, image_size, image_size)
    table = layer_table(model, input_shape)
    assert table == lenet_torch.layer_rows(lenet_torch.network(image_size, p=0.25), input_shape)
    assert table[0] == LayerRow("Conv2d", (2, 6, image_size, image_size), 6 * 9)
    assert table[-1] == LayerRow("Linear", (2, 10), 32 * 10 + 10)


def test_layer_table_leaves_the_running_statistics_alone(reference_solutions):
    model = lenet(np.random.default_rng(0), reference_solutions)
    before = {name: value.copy() for name, value in numpy_running_statistics(model).items()}
    layer_table(model, (4, 1, 8, 8))
    after = numpy_running_statistics(model)
    assert all(np.array_equal(after[name], value) for name, value in before.items())
