"""Training a network built from the reader's own layer functions: layers, loss, SGD, history.

The package holds no NumPy solution of an exercise: every layer is built from functions
passed in, with ``torch.nn.functional`` semantics, that the reader wrote in chapter 01:

- ``linear(x, weight, bias=None)`` and ``linear_backward(grad_output, x, weight, bias=None)``
- ``relu(x)`` and ``relu_backward(grad_output, x)``
- ``cross_entropy(logits, target)`` and ``cross_entropy_backward(logits, target)``

A layer (see ``Layer``) has ``params`` and ``grads`` dicts (empty when it has none),
``forward(x, training=True)`` and ``backward(grad_output)``. ``Sequential`` passes
``training`` down to every layer, so a layer that behaves differently in training and in
evaluation (dropout, batch normalization) fits in without changing ``Sequential`` or
``train``. Running statistics are plain attributes, not ``params``: SGD updates ``params``.

``train`` fits a model on a ``prettynn.data.Split``'s training part, reports the
validation part after every epoch and never reads the test part.
"""

from __future__ import annotations

import html
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Protocol, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from .data import Split

if TYPE_CHECKING:
    from matplotlib.figure import Figure


INITIALISATIONS = ("he", "xavier")


def init_std(init: str, in_features: int, out_features: int) -> float:
    """The standard deviation of a ``Linear`` layer's initial weights: ``"he"`` sqrt(2 / in_features),
    ``"xavier"`` sqrt(2 / (in_features + out_features)); see ``Linear``."""
    if init == "he":
        return float(np.sqrt(2.0 / in_features))
    if init == "xavier":
        return float(np.sqrt(2.0 / (in_features + out_features)))
    raise ValueError(f"init must be one of {INITIALISATIONS}, got {init!r}")


class Layer(Protocol):
    """What ``Sequential`` needs of a layer.

    - params: name -> parameter array, updated in place by the optimiser (empty if none)
    - grads: the same names and shapes, d loss / d parameter, filled by ``backward``
    - forward(x, training): output for input ``x``, caching what ``backward`` needs;
      ``training=False`` is evaluation mode and must be deterministic
    - backward(grad_output): d loss / d x (``x``'s shape) given d loss / d output
    """

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray: ...

    def backward(self, grad_output: np.ndarray) -> np.ndarray: ...


class Linear:
    """Fully connected layer ``x @ weight.T + bias``, from the reader's ``linear`` and ``linear_backward``.

    - params: weight ``(out_features, in_features)`` and bias ``(out_features,)``
    - grads: the same keys and shapes, set by ``backward``

    The bias starts at zero. The weight is drawn from a zero-mean normal distribution whose
    variance ``init`` chooses (see ``INITIALISATIONS``):

    - ``"he"`` (the default): 2 / in_features, the initialisation of He et al. (2015,
      "Delving deep into rectifiers", §2.2). The factor 2 makes up for a ReLU zeroing half
      of its input, so it is the right scale for a layer whose input comes out of a ReLU: the
      second moment of the pre-activations then stays the same from layer to layer, in
      expectation. For the first layer, whose input is the data, it is a convention.
    - ``"xavier"``: 2 / (in_features + out_features), the variance of the "normalized
      initialization" of Glorot & Bengio (2010, Eq. 16), drawn from a normal distribution
      instead of their uniform one (as ``torch.nn.init.xavier_normal_``). It is derived for
      activations that are linear around 0 (tanh), not for ReLUs.
    """

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator,
                 linear: Callable, linear_backward: Callable, init: str = "he"):
        self.linear = linear
        self.linear_backward = linear_backward
        weight = rng.normal(0.0, init_std(init, in_features, out_features), size=(out_features, in_features))
        self.params = {"weight": weight, "bias": np.zeros(out_features)}
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """``(N, in_features) -> (N, out_features)``; the same in training and evaluation."""
        self.x = x
        return self.linear(x, self.params["weight"], self.params["bias"])

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """``(N, out_features) -> (N, in_features)``, d loss / d x; stores the parameters' gradients."""
        grad_x, grad_weight, grad_bias = self.linear_backward(
            grad_output, self.x, self.params["weight"], self.params["bias"]
        )
        self.grads = {"weight": grad_weight, "bias": grad_bias}
        return grad_x


class ReLU:
    """Elementwise ``max(x, 0)``, from the reader's ``relu`` and ``relu_backward``; no parameters."""

    def __init__(self, relu: Callable, relu_backward: Callable):
        self.relu = relu
        self.relu_backward = relu_backward
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Any shape to the same shape; the same in training and evaluation."""
        self.x = x
        return self.relu(x)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """d loss / d x of the cached input's shape."""
        return self.relu_backward(grad_output, self.x)


class Dropout:
    """Inverted dropout, from the reader's ``dropout`` and ``dropout_backward``; no parameters.

    ``dropout(x, p, training, rng)`` returns ``(out, mask)`` and ``dropout_backward(grad_output,
    mask)`` the gradient (chapter 02). In training each forward call draws a new mask from
    ``rng``; in evaluation the layer is the identity. The mask is cached for ``backward``.
    """

    def __init__(self, p: float, rng: np.random.Generator, dropout: Callable, dropout_backward: Callable):
        self.p = p
        self.rng = rng
        self.dropout = dropout
        self.dropout_backward = dropout_backward
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Any shape to the same shape: ``x * mask`` in training, ``x`` in evaluation."""
        out, self.mask = self.dropout(x, self.p, training, self.rng)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """d loss / d x of the last forward's shape, through the cached mask."""
        return self.dropout_backward(grad_output, self.mask)


class BatchNorm:
    """Batch normalization per feature (axis 1), from the reader's ``batch_norm`` and ``batch_norm_backward``.

    - params: weight (starts at ones) and bias (starts at zeros), shape ``(num_features,)``
    - grads: the same keys and shapes, set by ``backward``
    - running_mean (zeros) and running_var (ones), ``(num_features,)``: plain attributes, not
      parameters; ``batch_norm`` updates these arrays in place in training, with ``momentum``

    Training normalizes with the batch's statistics, evaluation with the running ones.
    ``backward`` follows a training-mode ``forward`` (the only one ``train`` differentiates).
    """

    def __init__(self, num_features: int, batch_norm: Callable, batch_norm_backward: Callable,
                 momentum: float = 0.1, eps: float = 1e-5):
        self.batch_norm = batch_norm
        self.batch_norm_backward = batch_norm_backward
        self.momentum, self.eps = momentum, eps
        self.params = {"weight": np.ones(num_features), "bias": np.zeros(num_features)}
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """``(N, num_features, *) -> `` the same shape, normalized per feature."""
        self.x = x
        return self.batch_norm(x, self.running_mean, self.running_var, self.params["weight"], self.params["bias"],
                               training=training, momentum=self.momentum, eps=self.eps)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """d loss / d x of the cached input's shape; stores the weight's and the bias's gradients."""
        grad_x, grad_weight, grad_bias = self.batch_norm_backward(grad_output, self.x, self.params["weight"],
                                                                  eps=self.eps)
        self.grads = {"weight": grad_weight, "bias": grad_bias}
        return grad_x


class Sequential:
    """Layers applied one after the other; ``training`` reaches every layer's ``forward``."""

    def __init__(self, layers: Sequence[Layer]):
        self.layers = list(layers)

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """``(N, D) -> (N, C)`` logits, each layer caching what its backward needs."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """``(N, C)`` d loss / d logits -> ``(N, D)`` d loss / d input; fills every layer's grads."""
        for layer in reversed(self.layers):
            grad_output = layer.backward(grad_output)
        return grad_output

    def parameters(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every ``(parameter, gradient)`` pair, layer by layer, in a fixed order."""
        for layer in self.layers:
            for name, parameter in layer.params.items():
                yield parameter, layer.grads[name]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``(N, D) -> (N,)`` int classes: the largest logit, in evaluation mode."""
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


def sgd_epoch(model: Sequential, loss: CrossEntropyLoss, x: np.ndarray, y: np.ndarray, *,
              lr: float, batch_size: int, rng: np.random.Generator) -> float:
    """One pass of minibatch SGD over ``x`` ``(N, D)``, ``y`` ``(N,)``, in training mode.

    - returns: the mean of the minibatch losses, each measured before its update
    """
    losses = []
    for batch in minibatches(len(y), batch_size, rng):
        losses.append(loss(model.forward(x[batch], training=True), y[batch]))
        model.backward(loss.backward())
        sgd_step(model, lr)
    return float(np.mean(losses))


def accuracy(model: Sequential, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of ``x`` ``(N, D)`` whose predicted class equals ``y`` ``(N,)``."""
    return float(np.mean(model.predict(x) == y))


@dataclass
class History:
    """What ``train`` measured, one entry per epoch, plus the wall time it took.

    Both losses and accuracies are measured at the end of each epoch in evaluation mode,
    so training and validation values compare (the mean minibatch loss that
    ``sgd_epoch`` returns is measured while the weights change, and in training mode).
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0


def train(model: Sequential, loss: CrossEntropyLoss, data: Split, *, epochs: int, lr: float,
          batch_size: int, rng: np.random.Generator, progress: bool = True) -> History:
    """Minibatch SGD on ``data.x_train``, measured on the training and validation parts per epoch.

    The test part of ``data`` is never read. With ``progress`` one line, updated after
    every epoch, shows the epoch, losses and accuracies.

    - data: a ``prettynn.data.Split`` with ``(N, D)`` features and ``(N,)`` int labels
    - returns: the ``History`` of the ``epochs`` epochs
    """
    history = History()
    line = _ProgressLine() if progress else None
    start = time.perf_counter()
    with threadpool_limits(1):  # small matrices: a second BLAS thread only costs, most on a busy machine
        for epoch in range(1, epochs + 1):
            _train_epoch(model, loss, data, lr, batch_size, rng, history)
            history.seconds = time.perf_counter() - start
            if line is not None:
                line.show(_progress_text(epoch, epochs, history), last=epoch == epochs)
    return history


def _train_epoch(model: Sequential, loss: CrossEntropyLoss, data: Split, lr: float, batch_size: int,
                 rng: np.random.Generator, history: History) -> None:
    """One epoch of minibatch SGD, then the losses and accuracies of both parts appended to ``history``."""
    sgd_epoch(model, loss, data.x_train, data.y_train, lr=lr, batch_size=batch_size, rng=rng)
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
