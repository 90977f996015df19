"""Chapter 06's network in PyTorch: the same architecture as ``prettynn.training.lenet``, trained with
``torch.optim.Adam`` on the same digits, for the side-by-side comparison and the runs over seeds.

``network`` builds the torch twin of ``lenet``:

Conv2d(1 -> 6, 3x3, padding 1, no bias) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
-> Conv2d(6 -> 16, ...) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
-> Flatten -> Dropout(p) -> Linear(16 * (image_size // 4)**2 -> hidden) -> ReLU -> Linear(hidden -> 10)

with ``lenet``'s initialisation (He: ``kaiming_normal_`` with ``fan_in`` for every weight, zero biases,
batch norms at weight 1 and bias 0), not ``torch.nn``'s defaults.

``train_lenet`` follows the protocol of ``prettynn.training.train``: minibatches of a new random
permutation every epoch (drawn with NumPy's ``Generator.permutation``, as ``minibatches`` draws
them), one Adam step per minibatch, and at the end of every epoch the loss and the accuracy of
the training and the validation images in evaluation mode; the test images are read once, after
the last epoch. Its random numbers are not those of the NumPy run (torch draws the initial weights
and the dropout masks), so a seed here is a further, independent run, not a copy of the chapter's.
The time measured is that of the same work as ``train``'s: the epochs with their evaluations.

``twin`` builds, for any ``prettynn.training.Sequential`` of the layers of ``prettynn.layers``, the
torch network that holds the same parameters and running statistics, its dropout applying the
mask the NumPy side drew: the chapter's proof that one training step equals torch's.
``layer_rows`` lists a torch network's modules as ``prettynn.training.layer_table`` lists layers.

``random_shifts`` is the training-time augmentation of the chapter: every image moved by one pixel
up, down, left or right, or left in place, each with probability 1/5, the uncovered border
filled with blank paper. It is NumPy, so the reader's training loop and this one share it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..data import Split
from ..layers import BatchNorm, Dropout
from ..training import History, LayerRow, Sequential
from . import one_torch_thread

# (rows, columns) each image moves by: in place, up, down, left, right
SHIFTS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))


def random_shifts(images: np.ndarray, mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by one of ``SHIFTS``, drawn uniformly and independently, zeros filling the border.

    - images: ``(N, C, H, W)`` centred images (the training mean ``mean`` subtracted)
    - mean: ``(C, H, W)``, the mean that was subtracted: the shift moves the ink, so it is added back
      before the shift (blank paper is 0) and subtracted again after it
    - rng: draws one shift per image
    - returns: ``(N, C, H, W)`` centred, shifted images (a new array)
    """
    n, _, height, width = images.shape
    padded = np.pad(images + mean, ((0, 0), (0, 0), (1, 1), (1, 1)))
    choice = rng.integers(len(SHIFTS), size=n)
    shifted = np.empty_like(images)
    for index, (down, right) in enumerate(SHIFTS):
        chosen = choice == index
        # moving the image down by one row reads the padded image one row higher
        shifted[chosen] = padded[chosen, :, 1 - down:1 - down + height, 1 - right:1 - right + width]
    return shifted - mean


def network(image_size: int = 8, hidden: int = 32, classes: int = 10, p: float = 0.25, *,
            channels: tuple[int, int] = (6, 16), dropout=None, dtype=None, seed: int | None = None):
    """``lenet``'s architecture as a ``torch.nn.Sequential``, with ``lenet``'s initialisation.

    - dropout: the dropout module (default ``nn.Dropout(p)``), e.g. one that applies a given mask
    - dtype: ``torch.float64`` (default) or ``torch.float32``
    - seed: seeds the initial weights (``torch.Generator``); ``None`` leaves them as ``torch.nn`` drew them
    - returns: the network, mapping ``(N, 1, image_size, image_size)`` to ``(N, classes)`` logits
    """
    import torch
    from torch import nn

    def block(in_channels: int, out_channels: int) -> list:
        return [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels),
                nn.ReLU(), nn.MaxPool2d(2)]

    first, second = channels
    model = nn.Sequential(*block(1, first), *block(first, second), nn.Flatten(),
                          nn.Dropout(p) if dropout is None else dropout,
                          nn.Linear(second * (image_size // 4) ** 2, hidden), nn.ReLU(), nn.Linear(hidden, classes))
    model = model.to(torch.float64 if dtype is None else dtype)
    if seed is not None:
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for module in model:
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    fan_in = module.weight[0].numel()
                    module.weight.copy_(torch.randn(module.weight.shape, generator=generator, dtype=module.weight.dtype)
                                        * float(np.sqrt(2.0 / fan_in)))
                    if module.bias is not None:
                        module.bias.zero_()
    return model


def shared_mask(layer: Dropout):
    """A torch module that drops what ``layer`` (a NumPy ``Dropout``) dropped in its last forward pass in
    training mode: it multiplies by that mask (``0`` or ``1 / (1 - p)`` per element), and is the
    identity in evaluation mode, as ``torch.nn.Dropout``."""
    import torch
    from torch import nn

    class SharedMask(nn.Module):
        """Dropout with the mask of a NumPy ``Dropout`` layer's last forward pass."""

        def forward(self, x):
            return x * torch.as_tensor(layer.mask, dtype=x.dtype) if self.training else x

    return SharedMask()


def copy_layer(layer, module) -> None:
    """Set the torch ``module``'s parameters, and a batch norm's running statistics, to ``layer``'s values."""
    import torch

    with torch.no_grad():
        for name, value in layer.params.items():
            getattr(module, name).copy_(torch.from_numpy(np.asarray(value)))
        if isinstance(layer, BatchNorm):
            module.running_mean.copy_(torch.from_numpy(layer.running_mean))
            module.running_var.copy_(torch.from_numpy(layer.running_var))


def twin(model: Sequential, dtype=None):
    """The torch network computing what ``model`` computes, in float64 by default: a ``torch.nn.Sequential``
    with one module per layer (``Conv2d``, ``BatchNorm2d``, ``ReLU``, ``MaxPool2d``, ``Flatten``,
    ``Dropout``, ``Linear``), holding copies of the layers' parameters and running statistics.

    Its dropout module is ``shared_mask`` of ``model``'s ``Dropout`` layer, so run
    ``model.forward(x, training=True)`` first, then the twin on the same ``x``. Its parameters are
    named as ``torch.nn.Sequential`` names them, ``"<layer index>.weight"``.
    """
    import torch
    from torch import nn

    modules = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2d":
            out_channels, in_channels, height, width = layer.params["weight"].shape
            module = nn.Conv2d(in_channels, out_channels, (height, width), stride=layer.stride, padding=layer.padding,
                               bias="bias" in layer.params)
        elif kind in ("BatchNorm2d", "BatchNorm"):
            size = len(layer.params["weight"])
            module = (nn.BatchNorm2d if kind == "BatchNorm2d" else nn.BatchNorm1d)(size, eps=layer.eps,
                                                                                   momentum=layer.momentum)
        elif kind == "MaxPool2d":
            module = nn.MaxPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding)
        elif kind == "Linear":
            out_features, in_features = layer.params["weight"].shape
            module = nn.Linear(in_features, out_features)
        elif kind == "Dropout":
            module = shared_mask(layer)
        else:
            module = {"ReLU": nn.ReLU, "Flatten": nn.Flatten}[kind]()
        modules.append(module)
    network = nn.Sequential(*modules).to(torch.float64 if dtype is None else dtype)
    for layer, module in zip(model.layers, network):
        copy_layer(layer, module)
    return network


def layer_rows(network, input_shape: tuple[int, ...]) -> list[LayerRow]:
    """Each module of a ``torch.nn.Sequential``: its class name, the shape of its output for zeros of
    ``input_shape`` (evaluation mode, no gradient) and its number of parameters, as ``layer_table``."""
    import torch

    dtype = next(network.parameters()).dtype
    rows, x = [], torch.zeros(input_shape, dtype=dtype)
    training = network.training
    with torch.no_grad():
        for module in network.eval():
            x = module(x)
            name = "Dropout" if type(module).__name__ == "SharedMask" else type(module).__name__
            rows.append(LayerRow(name, tuple(x.shape), sum(parameter.numel() for parameter in module.parameters())))
    network.train(training)
    return rows


@dataclass
class TorchRun:
    """One training run of ``network``: its history, test accuracy and predictions.

    - history: a ``prettynn.training.History``, one entry per epoch; ``history.seconds`` is the wall
      time of the epochs and their evaluations, as ``train`` measures it
    - test_accuracy: fraction of the test images classified correctly, after the last epoch
    - test_probabilities: ``(N_test, 10)`` softmax outputs after the last epoch
    - model: the trained ``torch.nn.Sequential``
    """

    seed: int
    augment: bool
    history: History = field(default_factory=History)
    test_accuracy: float = float("nan")
    test_probabilities: np.ndarray | None = None
    model: object = None

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """``(N, 1, H, W)`` centred images -> ``(N, 10)`` softmax outputs of the trained network (evaluation mode)."""
        import torch

        dtype = next(self.model.parameters()).dtype
        with one_torch_thread(), torch.no_grad():
            return torch.softmax(self.model.eval()(torch.tensor(images, dtype=dtype)), dim=1).numpy()


def train_lenet(data: Split, *, epochs: int, batch_size: int, lr: float, seed: int, augment: bool = False,
                hidden: int = 32, p: float = 0.25, channels: tuple[int, int] = (6, 16), dtype=None,
                measure_training: bool = True) -> TorchRun:
    """Train ``network`` with ``torch.optim.Adam(lr)`` (default betas and eps) on ``data`` (images
    ``(N, 1, H, W)``, e.g. ``load_digits_split().as_images()``), on one torch thread.

    - augment: each minibatch goes through ``random_shifts`` before the step
    - dtype: ``torch.float64`` (default: the precision of the NumPy layers) or ``torch.float32``
    - measure_training: measure the training images after every epoch; without it the history's
      ``train_loss`` and ``train_accuracy`` stay empty and a run is faster (the validation images
      are measured either way)
    - returns: a ``TorchRun``
    """
    import torch
    import torch.nn.functional as F

    dtype = torch.float64 if dtype is None else dtype
    run = TorchRun(seed, augment)
    with one_torch_thread():
        torch.manual_seed(seed)  # dropout masks
        model = network(data.x_train.shape[-1], hidden, p=p, channels=channels, dtype=dtype, seed=seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        rng = np.random.default_rng(seed)
        tensors = {part: (torch.tensor(getattr(data, f"x_{part}"), dtype=dtype), torch.tensor(getattr(data, f"y_{part}")))
                   for part in ("train", "val", "test")}

        def measure(part: str) -> tuple[float, float]:
            x, y = tensors[part]
            with torch.no_grad():
                logits = model.eval()(x)
            return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).double().mean().item()

        start = time.perf_counter()
        x_train, y_train = tensors["train"]
        for _ in range(epochs):
            model.train()
            for batch in _minibatches(len(y_train), batch_size, rng):
                x = x_train[batch]
                if augment:
                    x = torch.tensor(random_shifts(data.x_train[batch], data.mean, rng), dtype=dtype)
                optimizer.zero_grad()
                F.cross_entropy(model(x), y_train[batch]).backward()
                optimizer.step()
            parts = [("train", run.history.train_loss, run.history.train_accuracy)] if measure_training else []
            for part, losses, accuracies in parts + [("val", run.history.val_loss, run.history.val_accuracy)]:
                loss, accuracy = measure(part)
                losses.append(loss)
                accuracies.append(accuracy)
            run.history.seconds = time.perf_counter() - start
        _, run.test_accuracy = measure("test")
        with torch.no_grad():
            run.test_probabilities = torch.softmax(model.eval()(tensors["test"][0]), dim=1).numpy()
    run.model = model
    return run


def _minibatches(n: int, batch_size: int, rng: np.random.Generator):
    """Index arrays of a random permutation of ``range(n)``, as ``prettynn.training.minibatches``."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def seed_runs(data: Split, seeds: tuple[int, ...], *, augment: tuple[bool, ...] = (False, True),
              **options) -> list[TorchRun]:
    """``train_lenet`` for every seed and every setting of ``augment`` (seed by seed), ``options`` passed on."""
    return [train_lenet(data, seed=seed, augment=flag, **options) for seed in seeds for flag in augment]
