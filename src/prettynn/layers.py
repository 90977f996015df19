"""Layers built from the reader's functions: each computes nothing itself, it calls what it was given.

The package holds no NumPy solution of an exercise: every layer is built from functions
passed in, with ``torch.nn.functional`` semantics, that the reader wrote (the contracts are
in the chapters; the argument names are torch's):

- ``Linear``: ``linear`` and ``linear_backward`` (chapter 01)
- ``ReLU``: ``relu`` and ``relu_backward`` (chapter 01)
- ``Dropout``: ``dropout`` and ``dropout_backward`` (chapter 02)
- ``BatchNorm``, ``BatchNorm2d``: ``batch_norm`` and ``batch_norm_backward`` (chapter 03)
- ``Conv2d``: ``conv2d`` and ``conv2d_backward`` (chapter 04)
- ``MaxPool2d``: ``max_pool2d`` and ``max_pool2d_backward`` (chapter 05)
- ``Flatten`` is a reshape and needs no function.

The pooling chapter grades no backward pass of ``avg_pool2d`` or ``adaptive_avg_pool2d``,
so there is no average-pooling layer: its backward pass would be an answer written here.

A layer (see ``Layer``) has ``params`` and ``grads`` dicts (empty when it has none),
``forward(x, training=True)`` and ``backward(grad_output)``; ``prettynn.training.Sequential``
chains them. Running statistics are plain attributes, not ``params``: SGD updates ``params``.
Each class has the name and the shapes of its ``torch.nn`` counterpart (``BatchNorm``: of
``BatchNorm1d``, and it takes images too).
"""

from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

INITIALISATIONS = ("he", "xavier")


def init_std(init: str, fan_in: int, fan_out: int) -> float:
    """The standard deviation of a layer's initial weights: ``"he"`` sqrt(2 / fan_in), ``"xavier"``
    sqrt(2 / (fan_in + fan_out)); see ``Linear``.

    - fan_in, fan_out: the inputs and outputs each weight connects, counted as ``torch.nn.init``
      counts them: ``in_features`` and ``out_features`` for ``Linear``; ``C_in * kH * kW`` and
      ``C_out * kH * kW`` for ``Conv2d``
    """
    if init == "he":
        return float(np.sqrt(2.0 / fan_in))
    if init == "xavier":
        return float(np.sqrt(2.0 / (fan_in + fan_out)))
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

    Input ``(N, num_features)``, ``(N, num_features, L)`` or ``(N, num_features, H, W)``:
    statistics per feature over every other axis, as ``batch_norm`` takes them. Training
    normalizes with the batch's statistics, evaluation with the running ones. ``backward``
    follows a training-mode ``forward`` (the only one ``train`` differentiates).
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


class BatchNorm2d(BatchNorm):
    """``BatchNorm`` of images ``(N, C, H, W)``, statistics per channel over N, H and W: ``torch.nn.BatchNorm2d``.

    ``batch_norm`` already normalizes 4-D input per channel, so this is ``BatchNorm`` itself
    (``num_features`` is C); like torch's ``BatchNorm2d`` it refuses input of another rank,
    which would be a mistake in the network (a ``Flatten`` too early, say).
    """

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """``(N, C, H, W) ->`` the same shape, normalized per channel."""
        if np.ndim(x) != 4:
            raise ValueError(f"BatchNorm2d expects (N, C, H, W) input, got shape {np.shape(x)}")
        return super().forward(x, training)


class Conv2d:
    """2-D convolution of ``(N, C_in, H, W)`` images, from the reader's ``conv2d`` and ``conv2d_backward``.

    - params: weight ``(C_out, C_in, kH, kW)`` and, unless ``bias=False``, bias ``(C_out,)``
    - grads: the same keys and shapes, set by ``backward``
    - kernel_size: int or pair ``(kH, kW)``; stride and padding: int or pair, passed to the
      reader's functions as given (``conv2d_backward`` takes no ``'same'`` padding)

    The bias starts at zero and the weight is drawn as ``Linear``'s, with ``init_std(init,
    fan_in, fan_out)``, ``fan_in = C_in * kH * kW`` and ``fan_out = C_out * kH * kW``: each
    output element is a sum over ``fan_in`` inputs, as a linear layer's over ``in_features``,
    and these are the fans ``torch.nn.init`` computes for a convolution's weight. The default,
    ``"he"``, is ``torch.nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")``:
    the same initialisation as ``Linear``'s, for a layer followed by a ReLU. It is not
    ``torch.nn.Conv2d``'s own default, ``kaiming_uniform_`` with ``a=sqrt(5)``, i.e. uniform in
    ``±1 / sqrt(fan_in)`` (weight and bias), whose variance ``1 / (3 fan_in)`` is a sixth of He's.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 rng: np.random.Generator, *, conv2d: Callable, conv2d_backward: Callable,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0, bias: bool = True,
                 init: str = "he"):
        self.conv2d = conv2d
        self.conv2d_backward = conv2d_backward
        self.stride, self.padding = stride, padding
        height, width = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        std = init_std(init, in_channels * height * width, out_channels * height * width)
        self.params = {"weight": rng.normal(0.0, std, size=(out_channels, in_channels, height, width))}
        if bias:
            self.params["bias"] = np.zeros(out_channels)
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``; the same in training and evaluation."""
        self.x = x
        return self.conv2d(x, self.params["weight"], self.params.get("bias"),
                           stride=self.stride, padding=self.padding)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """``(N, C_out, H_out, W_out) -> (N, C_in, H, W)``, d loss / d x; stores the parameters' gradients."""
        grad_x, grad_weight, grad_bias = self.conv2d_backward(
            grad_output, self.x, self.params["weight"], self.params.get("bias"),
            stride=self.stride, padding=self.padding)
        self.grads = {"weight": grad_weight, **({"bias": grad_bias} if "bias" in self.params else {})}
        return grad_x


class MaxPool2d:
    """Max pooling of ``(N, C, H, W)`` images, from the reader's ``max_pool2d`` and ``max_pool2d_backward``.

    No parameters. kernel_size, stride (``None``: the kernel size) and padding (implicit
    ``-inf``): int or pair, passed to the reader's functions as given.
    """

    def __init__(self, kernel_size: int | tuple[int, int], *, max_pool2d: Callable, max_pool2d_backward: Callable,
                 stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0):
        self.max_pool2d = max_pool2d
        self.max_pool2d_backward = max_pool2d_backward
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """``(N, C, H, W) -> (N, C, H_out, W_out)``; the same in training and evaluation."""
        self.x = x
        return self.max_pool2d(x, self.kernel_size, stride=self.stride, padding=self.padding)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """``(N, C, H_out, W_out) -> (N, C, H, W)``: each window's gradient at its maximum."""
        return self.max_pool2d_backward(grad_output, self.x, self.kernel_size, stride=self.stride,
                                        padding=self.padding)


class Flatten:
    """``(N, *) -> (N, product of *)``, as ``torch.nn.Flatten()``: a reshape, no parameters."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """``(N, *) -> (N, D)``, remembering the input's shape."""
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """``(N, D) ->`` the last input's shape."""
        return grad_output.reshape(self.shape)
