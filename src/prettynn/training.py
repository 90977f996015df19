"""Training a network built from the reader's own functions: networks, loss, the training loop, history.

The package holds no NumPy solution of an exercise. The layers, in ``prettynn.layers``, are
built from functions the reader wrote; so is the loss, from chapter 01's
``cross_entropy(logits, target)`` and ``cross_entropy_backward(logits, target)``.

``Sequential`` chains layers and passes ``training`` down to every one, so a layer that
behaves differently in training and in evaluation (dropout, batch normalization) fits in
without changing ``Sequential`` or ``train``. ``mlp`` and ``lenet`` build the chapters'
networks, ``layer_table`` lists a network's layers with their output shapes and parameter
counts.

``train`` fits a model on a ``prettynn.data.Split``'s training part, with plain SGD
(``lr``) or an optimizer of ``prettynn.optimizers`` built from the reader's ``sgd`` or
``adam``, reports the validation part after every epoch (to a callback too, such as a
``prettynn.widgets.training_curves.TrainingCurves``) and never reads the test part.
"""

from __future__ import annotations

import html
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Protocol, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from .data import Split
from .layers import BatchNorm2d, Conv2d, Dropout, Flatten, Layer, Linear, MaxPool2d, ReLU

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class Sequential:
    """Layers applied one after the other; ``training`` reaches every layer's ``forward``."""

    def __init__(self, layers: Sequence[Layer]):
        self.layers = list(layers)

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """``(N, *) -> (N, C)`` logits (``*``: ``(D,)``, ``(C_in, H, W)``, ...); each layer caches what it needs."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """``(N, C)`` d loss / d logits -> ``(N, *)`` d loss / d input; fills every layer's grads."""
        for layer in reversed(self.layers):
            grad_output = layer.backward(grad_output)
        return grad_output

    def parameters(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every ``(parameter, gradient)`` pair, layer by layer, in a fixed order."""
        for layer in self.layers:
            for name, parameter in layer.params.items():
                yield parameter, layer.grads[name]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``(N, *) -> (N,)`` int classes: the largest logit, in evaluation mode."""
        return self.forward(x, training=False).argmax(axis=-1)


def mlp(sizes: Sequence[int], rng: np.random.Generator, *, linear: Callable, linear_backward: Callable,
        relu: Callable, relu_backward: Callable, init: str = "he") -> Sequential:
    """A multilayer perceptron: Linear, ReLU, ..., Linear, e.g. ``sizes=(64, 128, 10)``.

    - sizes: features of the input, of each hidden layer and of the output (at least two)
    - init: every ``Linear`` layer's initialisation, ``"he"`` or ``"xavier"`` (see ``Linear``)
    - returns: a ``Sequential`` mapping ``(N, sizes[0])`` to ``(N, sizes[-1])`` logits
    """
    layers: list[Layer] = []
    for index, (in_features, out_features) in enumerate(zip(sizes[:-1], sizes[1:])):
        if index > 0:
            layers.append(ReLU(relu, relu_backward))
        layers.append(Linear(in_features, out_features, rng, linear, linear_backward, init=init))
    return Sequential(layers)


LENET_FUNCTIONS = ("conv2d", "conv2d_backward", "batch_norm", "batch_norm_backward", "relu", "relu_backward",
                   "max_pool2d", "max_pool2d_backward", "dropout", "dropout_backward", "linear", "linear_backward")


def lenet(rng: np.random.Generator, functions: Mapping[str, Callable], *, in_channels: int = 1,
          image_size: int = 8, channels: tuple[int, int] = (6, 16), hidden: int = 32, classes: int = 10,
          p: float = 0.25) -> Sequential:
    """A small convolutional network: LeNet-5's outline with today's parts.

    LeNet-5 (LeCun et al., 1998) has 6, then 16 feature maps (the default ``channels``), each
    convolution followed by subsampling, then fully connected layers. Here each convolution is
    3x3 with padding 1 (the image keeps its size), then batch normalization, ReLU and 2x2 max
    pooling (halving it); with ``channels = (c1, c2)``:

    Conv2d(in_channels -> c1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
    -> Conv2d(c1 -> c2) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
    -> Flatten -> Dropout(p) -> Linear(c2 * (image_size // 4)**2 -> hidden) -> ReLU -> Linear(hidden -> classes)

    The convolutions have no bias: the batch normalization after each subtracts every
    channel's batch mean, which would cancel a bias (its gradient is zero); the batch
    normalization's own bias takes its place. All weights have He initialisation.

    - rng: draws the initial weights, then the dropout masks
    - functions: the reader's functions by name, at least ``LENET_FUNCTIONS``, e.g.
      ``{function.__name__: function for function in checked(conv2d, conv2d_backward, ...)}``
    - returns: a ``Sequential`` mapping ``(N, in_channels, image_size, image_size)`` images to
      ``(N, classes)`` logits
    """
    missing = [name for name in LENET_FUNCTIONS if name not in functions]
    if missing:
        raise KeyError(f"lenet needs the functions {', '.join(missing)}")
    first, second = channels
    features = second * (image_size // 4) ** 2
    return Sequential([
        *_convolution_block(in_channels, first, rng, functions),
        *_convolution_block(first, second, rng, functions),
        Flatten(),
        Dropout(p, rng, **_forward_and_backward(functions, "dropout")),
        Linear(features, hidden, rng, **_forward_and_backward(functions, "linear")),
        ReLU(**_forward_and_backward(functions, "relu")),
        Linear(hidden, classes, rng, **_forward_and_backward(functions, "linear")),
    ])


def _convolution_block(in_channels: int, out_channels: int, rng: np.random.Generator,
                       functions: Mapping[str, Callable]) -> list[Layer]:
    """Conv2d 3x3 (padding 1, no bias) -> BatchNorm2d -> ReLU -> MaxPool2d(2): ``(N, in_channels, H, W) ->
    (N, out_channels, H // 2, W // 2)``."""
    return [Conv2d(in_channels, out_channels, 3, rng, padding=1, bias=False,
                   **_forward_and_backward(functions, "conv2d")),
            BatchNorm2d(out_channels, **_forward_and_backward(functions, "batch_norm")),
            ReLU(**_forward_and_backward(functions, "relu")),
            MaxPool2d(2, **_forward_and_backward(functions, "max_pool2d"))]


def _forward_and_backward(functions: Mapping[str, Callable], name: str) -> dict[str, Callable]:
    """``{name: ..., name_backward: ...}`` of ``functions``: a layer's two keyword arguments."""
    return {name: functions[name], f"{name}_backward": functions[f"{name}_backward"]}


@dataclass(frozen=True)
class LayerRow:
    """One row of ``layer_table``: the layer's class name, its output's shape, its number of parameters."""

    layer: str
    output_shape: tuple[int, ...]
    parameters: int


def layer_table(model: Sequential, input_shape: tuple[int, ...]) -> list[LayerRow]:
    """Each layer of ``model``, the shape of its output for an input of ``input_shape`` (the batch
    axis included, e.g. ``(1, 1, 8, 8)``) and its number of parameters (the sizes of its ``params``).

    The shapes are those of one forward pass on zeros in evaluation mode: nothing is drawn or
    updated (no dropout mask, no running statistics), but each layer's cache of its input is
    replaced, so a ``backward`` must follow a new ``forward``.
    """
    rows, x = [], np.zeros(input_shape)
    for layer in model.layers:
        x = layer.forward(x, training=False)
        rows.append(LayerRow(type(layer).__name__, x.shape, sum(value.size for value in layer.params.values())))
    return rows


class CrossEntropyLoss:
    """Mean softmax cross-entropy, from the reader's ``cross_entropy`` and ``cross_entropy_backward``."""

    def __init__(self, cross_entropy: Callable, cross_entropy_backward: Callable):
        self.cross_entropy = cross_entropy
        self.cross_entropy_backward = cross_entropy_backward

    def __call__(self, logits: np.ndarray, target: np.ndarray) -> float:
        """``(N, C)`` logits and ``(N,)`` int targets -> the mean loss; remembered for ``backward``."""
        self.logits, self.target = logits, target
        return float(self.cross_entropy(logits, target))

    def backward(self) -> np.ndarray:
        """``(N, C)``: d loss / d logits of the last call."""
        return self.cross_entropy_backward(self.logits, self.target)


def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Index arrays ``(batch_size,)`` of a random permutation of ``range(n)``; the last may be shorter."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def sgd_step(model: Sequential, lr: float) -> None:
    """Update every parameter in place: ``parameter -= lr * gradient``."""
    for parameter, gradient in model.parameters():
        parameter -= lr * gradient


class Optimizer(Protocol):
    """What ``train`` needs of an optimizer (``prettynn.optimizers.SGD``, ``Adam``): ``step()`` updates
    the model's parameters in place from the gradients its last ``backward`` stored."""

    def step(self) -> None: ...


class _PlainSGD:
    """The optimizer of ``train(lr=...)``: ``sgd_step``, no state."""

    def __init__(self, model: Sequential, lr: float):
        self.model, self.lr = model, lr

    def step(self) -> None:
        """``parameter -= lr * gradient`` for every parameter."""
        sgd_step(self.model, self.lr)


def train_epoch(model: Sequential, loss: CrossEntropyLoss, x: np.ndarray, y: np.ndarray, *,
                optimizer: Optimizer, batch_size: int, rng: np.random.Generator) -> float:
    """One pass over ``x`` ``(N, *)`` (``(N, D)`` features, ``(N, C, H, W)`` images, ...), ``y`` ``(N,)``,
    in random minibatches, in training mode: forward, loss, backward, ``optimizer.step()``.

    - returns: the mean of the minibatch losses, each measured before its update
    """
    losses = []
    for batch in minibatches(len(y), batch_size, rng):
        losses.append(loss(model.forward(x[batch], training=True), y[batch]))
        model.backward(loss.backward())
        optimizer.step()
    return float(np.mean(losses))


def sgd_epoch(model: Sequential, loss: CrossEntropyLoss, x: np.ndarray, y: np.ndarray, *,
              lr: float, batch_size: int, rng: np.random.Generator) -> float:
    """One pass of minibatch SGD over ``x`` ``(N, *)``, ``y`` ``(N,)``: ``train_epoch`` whose step is
    ``sgd_step``.

    - returns: the mean of the minibatch losses, each measured before its update
    """
    return train_epoch(model, loss, x, y, optimizer=_PlainSGD(model, lr), batch_size=batch_size, rng=rng)


def accuracy(model: Sequential, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of ``x`` ``(N, *)`` whose predicted class equals ``y`` ``(N,)``."""
    return float(np.mean(model.predict(x) == y))


@dataclass
class History:
    """What ``train`` measured, one entry per epoch, plus the wall time it took.

    Both losses and accuracies are measured at the end of each epoch in evaluation mode,
    so training and validation values compare (the mean minibatch loss that
    ``train_epoch`` returns is measured while the weights change, and in training mode).
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0


def train(model: Sequential, loss: CrossEntropyLoss, data: Split, *, epochs: int, batch_size: int,
          rng: np.random.Generator, lr: float | None = None, optimizer: Optimizer | None = None,
          progress: bool = True, on_epoch: Callable[[int, int, History], object] | None = None) -> History:
    """Minibatch training on ``data.x_train``, measured on the training and validation parts per epoch.

    Each minibatch's backward pass is followed by one step: plain SGD with learning rate ``lr``
    (``parameter -= lr * gradient``), or ``optimizer.step()`` (e.g. ``prettynn.optimizers.Adam(model,
    adam)``); exactly one of ``lr`` and ``optimizer`` is given. The test part of ``data`` is never
    read. With ``progress`` one line, updated after every epoch, shows the epoch, losses and
    accuracies. ``on_epoch(epoch, epochs, history)`` is called after each epoch's measurements
    (``epoch`` from 1 to ``epochs``), e.g. ``TrainingCurves.update`` to draw them as they come.

    - data: a ``prettynn.data.Split`` with ``(N, *)`` inputs (``(N, 64)`` features, or ``(N, 1, 8, 8)``
      images from ``Split.as_images``) and ``(N,)`` int labels
    - returns: the ``History`` of the ``epochs`` epochs
    """
    optimizer = _chosen_optimizer(model, lr, optimizer)
    history = History()
    line = _ProgressLine() if progress else None
    start = time.perf_counter()
    with threadpool_limits(1):  # small matrices: a second BLAS thread only costs, most on a busy machine
        for epoch in range(1, epochs + 1):
            _train_and_measure(model, loss, data, optimizer, batch_size, rng, history)
            history.seconds = time.perf_counter() - start
            if line is not None:
                line.show(_progress_text(epoch, epochs, history), last=epoch == epochs)
            if on_epoch is not None:
                on_epoch(epoch, epochs, history)
    return history


def _chosen_optimizer(model: Sequential, lr: float | None, optimizer: Optimizer | None) -> Optimizer:
    """``optimizer``, or plain SGD with ``lr``: ``ValueError`` unless exactly one of the two is given."""
    if (lr is None) == (optimizer is None):
        given = "both" if optimizer is not None else "neither"
        raise ValueError(f"train needs exactly one of lr (plain SGD: parameter -= lr * gradient) and optimizer "
                         f"(an object with .step(), e.g. prettynn.optimizers.Adam(model, adam)), got {given}")
    if optimizer is None:
        return _PlainSGD(model, lr)
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step() method, got {optimizer!r}")
    return optimizer


def _train_and_measure(model: Sequential, loss: CrossEntropyLoss, data: Split, optimizer: Optimizer,
                       batch_size: int, rng: np.random.Generator, history: History) -> None:
    """One training epoch, then the losses and accuracies of both parts appended to ``history``."""
    train_epoch(model, loss, data.x_train, data.y_train, optimizer=optimizer, batch_size=batch_size, rng=rng)
    history.train_loss.append(loss(model.forward(data.x_train, training=False), data.y_train))
    history.train_accuracy.append(accuracy(model, data.x_train, data.y_train))
    history.val_loss.append(loss(model.forward(data.x_val, training=False), data.y_val))
    history.val_accuracy.append(accuracy(model, data.x_val, data.y_val))


def _progress_text(epoch: int, epochs: int, history: History) -> str:
    """One line: epoch k/K, the last losses and accuracies, and the time so far."""
    return (f"epoch {epoch}/{epochs}  "
            f"loss {history.train_loss[-1]:.4f} train, {history.val_loss[-1]:.4f} val  "
            f"accuracy {history.train_accuracy[-1]:.1%} train, {history.val_accuracy[-1]:.1%} val  "
            f"({history.seconds:.1f} s)")


class _ProgressLine:
    """One line of text shown in place: a display updated in a Jupyter kernel, else stdout rewritten with ``\\r``."""

    def __init__(self):
        self.handle = None
        self.width = 0
        self.in_kernel = _in_jupyter_kernel()

    def show(self, text: str, last: bool) -> None:
        """Replace the line by ``text``; on stdout, end it with a newline when ``last``."""
        if self.in_kernel:
            self._display(text)
        else:
            padded = text.ljust(self.width)  # covers a longer previous line
            self.width = len(padded)
            print("\r" + padded, end="\n" if last else "", flush=True)

    def _display(self, text: str) -> None:
        """Show ``text`` as plain text and HTML in one display, created on first use."""
        from IPython.display import display

        bundle = {"text/plain": text, "text/html": f"<pre>{html.escape(text)}</pre>"}
        if self.handle is None:
            self.handle = display(bundle, raw=True, display_id=True)
        else:
            self.handle.update(bundle, raw=True)


def _in_jupyter_kernel() -> bool:
    """Whether this runs in a Jupyter kernel, whose IPython shell (unlike a terminal's) has a kernel."""
    ipython = sys.modules.get("IPython")
    return ipython is not None and hasattr(ipython.get_ipython(), "kernel")


def plot_history(history: History, title: str | None = None) -> Figure:
    """Loss (log scale) and accuracy (%) per epoch, training and validation: a Figure with two axes.

    The figure is closed in pyplot, so a notebook shows it once, where it is a cell's value
    (or on ``display(figure)``), not again at the end of the cell; ``savefig`` still works.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, len(history.train_loss) + 1)
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
    plt.close(figure)
    loss_axes.semilogy(epochs, history.train_loss, label="training")
    loss_axes.semilogy(epochs, history.val_loss, label="validation")
    loss_axes.set(xlabel="epoch", ylabel="loss", title="Loss")
    accuracy_axes.plot(epochs, 100 * np.asarray(history.train_accuracy), label="training")
    accuracy_axes.plot(epochs, 100 * np.asarray(history.val_accuracy), label="validation")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    return figure
