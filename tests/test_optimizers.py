"""prettynn.optimizers: SGD and Adam built from the graded functions equal torch.optim's on the same network."""

from __future__ import annotations

import numpy as np
import pytest

from prettynn.checks import stand_in
from prettynn.layers import Linear, ReLU
from prettynn.optimizers import SGD, Adam
from prettynn.training import CrossEntropyLoss, Sequential

from .conftest import instructor_functions

STEPS = 5
BATCH, FEATURES, HIDDEN, CLASSES = 8, 4, 6, 3


@pytest.fixture(scope="module")
def functions() -> dict:
    """Chapter 01's instructor solutions: the layers' and the loss's functions."""
    return instructor_functions("01_linear")


def small_network(functions: dict) -> Sequential:
    """Linear(4 -> 6) -> ReLU -> Linear(6 -> 3) of prettynn.layers, the biases made non-zero."""
    rng = np.random.default_rng(0)
    layers = [Linear(FEATURES, HIDDEN, rng, functions["linear"], functions["linear_backward"]),
              ReLU(functions["relu"], functions["relu_backward"]),
              Linear(HIDDEN, CLASSES, rng, functions["linear"], functions["linear_backward"])]
    for layer in layers[::2]:
        layer.params["bias"][...] = rng.normal(0.0, 0.1, size=layer.params["bias"].shape)
    return Sequential(layers)


def torch_copy(model: Sequential):
    """The same network in torch (float64), its weights copied from ``model``."""
    import torch

    first, second = model.layers[0], model.layers[2]
    network = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(),
                                  torch.nn.Linear(HIDDEN, CLASSES)).double()
    with torch.no_grad():
        for torch_layer, layer in ((network[0], first), (network[2], second)):
            torch_layer.weight.copy_(torch.from_numpy(layer.params["weight"]))
            torch_layer.bias.copy_(torch.from_numpy(layer.params["bias"]))
    return network


def batches() -> list[tuple[np.ndarray, np.ndarray]]:
    """``STEPS`` minibatches: inputs ``(BATCH, FEATURES)`` and int targets ``(BATCH,)``."""
    rng = np.random.default_rng(1)
    return [(rng.normal(size=(BATCH, FEATURES)), rng.integers(0, CLASSES, size=BATCH)) for _ in range(STEPS)]


def train_both(functions: dict, optimizer, torch_optimizer, model, network) -> None:
    """``STEPS`` steps of both optimizers; torch's parameters get the gradients ``model`` computed (checked
    against autograd's), so both optimizers start every step from the same parameters and gradients."""
    import torch
    import torch.nn.functional as F

    loss = CrossEntropyLoss(functions["cross_entropy"], functions["cross_entropy_backward"])
    for x, y in batches():
        loss(model.forward(x), y)
        model.backward(loss.backward())
        torch_optimizer.zero_grad()
        F.cross_entropy(network(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        for parameter, (_, gradient) in zip(network.parameters(), model.parameters()):
            np.testing.assert_allclose(parameter.grad.numpy(), gradient, rtol=1e-10, atol=1e-14)
            parameter.grad = torch.from_numpy(gradient.copy())
        optimizer.step()
        torch_optimizer.step()


def assert_parameters_equal(model: Sequential, network) -> None:
    """Every parameter of ``model`` equals torch's, in ``model.parameters()`` order."""
    for torch_parameter, (parameter, _) in zip(network.parameters(), model.parameters(), strict=True):
        np.testing.assert_allclose(parameter, torch_parameter.detach().numpy(), rtol=1e-12, atol=1e-15)


SGD_SETTINGS = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
    {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.1, "nesterov": True},
]


def settings_id(settings: dict) -> str:
    """A test id naming the settings, e.g. "lr 0.1, momentum 0.9"."""
    return ", ".join(f"{name} {value}" for name, value in settings.items()) or "defaults"


@pytest.mark.parametrize("settings", SGD_SETTINGS, ids=settings_id)
def test_sgd_equals_torchs_after_several_steps(functions, settings):
    import torch

    model = small_network(functions)
    network = torch_copy(model)
    optimizer = SGD(model, stand_in("sgd"), **settings)
    torch_optimizer = torch.optim.SGD(network.parameters(), **settings)
    train_both(functions, optimizer, torch_optimizer, model, network)
    assert_parameters_equal(model, network)
    for buffer, parameter in zip(optimizer.momentum_buffers, network.parameters(), strict=True):
        expected = torch_optimizer.state[parameter].get("momentum_buffer")
        if expected is None:
            assert buffer is None  # no momentum: torch keeps no buffer either
        else:
            np.testing.assert_allclose(buffer, expected.numpy(), rtol=1e-12, atol=1e-15)


ADAM_SETTINGS = [
    {},
    {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.02, "weight_decay": 0.1},
]


@pytest.mark.parametrize("settings", ADAM_SETTINGS, ids=settings_id)
def test_adam_equals_torchs_after_several_steps(functions, settings):
    import torch

    model = small_network(functions)
    network = torch_copy(model)
    optimizer = Adam(model, stand_in("adam"), **settings)
    torch_optimizer = torch.optim.Adam(network.parameters(), **settings)
    train_both(functions, optimizer, torch_optimizer, model, network)
    assert_parameters_equal(model, network)
    assert optimizer.t == STEPS
    for exp_avg, exp_avg_sq, parameter in zip(optimizer.exp_avgs, optimizer.exp_avg_sqs, network.parameters(),
                                              strict=True):
        state = torch_optimizer.state[parameter]
        assert float(state["step"]) == STEPS
        np.testing.assert_allclose(exp_avg, state["exp_avg"].numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(exp_avg_sq, state["exp_avg_sq"].numpy(), rtol=1e-12, atol=1e-18)


class Recorder:
    """An update function that records what each call received (copies) and updates nothing."""

    def __init__(self):
        self.calls: list[tuple[list, dict]] = []

    def __call__(self, *args, **options):
        self.calls.append(([list(arg) if isinstance(arg, list) else arg for arg in args], options))


def test_each_step_is_one_call_with_the_state_and_the_current_gradients(functions):
    model = small_network(functions)
    sgd, adam = Recorder(), Recorder()
    sgd_optimizer = SGD(model, sgd, lr=0.1, momentum=0.9)
    adam_optimizer = Adam(model, adam)
    assert adam_optimizer.t == 0 and sgd_optimizer.momentum_buffers == [None] * 4
    assert all(not average.any() and average.shape == parameter.shape
               for average, (parameter, _) in zip(adam_optimizer.exp_avgs, model.parameters()))
    for step in (1, 2):
        for layer in model.layers[::2]:  # what a backward pass does: new gradient arrays
            layer.grads = {name: np.full_like(value, step) for name, value in layer.params.items()}
        sgd_optimizer.step()
        adam_optimizer.step()
    assert len(sgd.calls) == len(adam.calls) == 2
    (params, grads, buffers, lr), options = sgd.calls[1]
    assert all(a is b for a, (b, _) in zip(params, model.parameters(), strict=True))  # the model's own arrays
    assert all((gradient == 2).all() for gradient in grads)  # read at this step, not at construction
    assert buffers == [None] * 4 and lr == 0.1
    assert options == {"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}
    (_, grads, exp_avgs, exp_avg_sqs, step), options = adam.calls[1]
    assert step == 2 and all((gradient == 2).all() for gradient in grads)
    assert all(a is b for a, b in zip(exp_avgs, adam_optimizer.exp_avgs, strict=True))
    assert all(a is b for a, b in zip(exp_avg_sqs, adam_optimizer.exp_avg_sqs, strict=True))
    assert options == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}


def sgd_rebinding_its_argument(params, grads, momentum_buffers, lr, **options):
    """A wrong ``sgd``: computes the step into a new list and drops it."""
    params = [parameter - lr * gradient for parameter, gradient in zip(params, grads)]  # noqa: F841


def adam_replacing_list_items(params, grads, exp_avgs, exp_avg_sqs, step, lr=1e-3, **options):
    """A wrong ``adam``: puts new arrays into the list instead of writing into the model's arrays."""
    for index, (parameter, gradient) in enumerate(zip(params, grads)):
        params[index] = parameter - lr * np.sign(gradient)


@pytest.mark.parametrize("make", [lambda model: SGD(model, sgd_rebinding_its_argument, lr=0.1),
                                  lambda model: Adam(model, adam_replacing_list_items, lr=0.1)],
                         ids=["sgd rebinding params", "adam replacing list items"])
def test_a_function_that_does_not_update_in_place_leaves_the_parameters_unchanged(functions, make):
    model = small_network(functions)
    before = [parameter.copy() for parameter, _ in model.parameters()]
    loss = CrossEntropyLoss(functions["cross_entropy"], functions["cross_entropy_backward"])
    x, y = batches()[0]
    loss(model.forward(x), y)
    model.backward(loss.backward())
    assert any(gradient.any() for _, gradient in model.parameters())
    make(model).step()
    for (parameter, _), original in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(parameter, original)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda model: SGD(model, stand_in("sgd"), lr=-0.1), "lr must be >= 0, got -0.1"),
        (lambda model: SGD(model, stand_in("sgd"), lr=0.1, momentum=-0.5), "momentum must be >= 0"),
        (lambda model: SGD(model, stand_in("sgd"), lr=0.1, weight_decay=-1.0), "weight_decay must be >= 0"),
        (lambda model: SGD(model, stand_in("sgd"), lr=0.1, nesterov=True),
         "requires a momentum > 0 and zero dampening"),
        (lambda model: SGD(model, stand_in("sgd"), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
         "got momentum 0.9 and dampening 0.1"),
        (lambda model: Adam(model, stand_in("adam"), lr=-1e-3), "lr must be >= 0"),
        (lambda model: Adam(model, stand_in("adam"), eps=-1e-8), "eps must be >= 0"),
        (lambda model: Adam(model, stand_in("adam"), betas=(0.9, 1.0)), r"betas\[1\] must be in \[0, 1\), got 1.0"),
        (lambda model: Adam(model, stand_in("adam"), betas=(-0.1, 0.999)), r"betas\[0\] must be in \[0, 1\)"),
    ],
)
def test_settings_torch_refuses_are_refused(functions, make, message):
    with pytest.raises(ValueError, match=message):
        make(small_network(functions))
