"""Layer objects: parameters, a forward pass that remembers its input, and a backward pass.

Each layer's ``forward(x)`` returns its output and keeps what ``backward`` needs;
``backward(dout)`` returns the gradient with respect to the input and stores the gradients of
the parameters in ``layer.grads`` (same keys as ``layer.params``), overwriting earlier ones.
The layers only wire up the functional core (cnnlib.conv, .pool, .linear, .activations), so a
whole network's gradients can be compared with torch.autograd in one test.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from .activations import relu, relu_backward
from .conv import conv2d, conv2d_backward
from .linear import flatten, flatten_backward, linear, linear_backward
from .pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

IntOrPair = int | Sequence[int]


class Layer:
    """Base class: no parameters; ``train()`` / ``eval()`` switch ``training``.

    ``input_grad``: whether ``backward`` returns the input's gradient (only a Conv2d built with
    input_grad=False, or a Sequential that starts with one, says False and returns None).
    """

    input_grad = True

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True
        self._x: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _input(self) -> np.ndarray:
        if self._x is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._x

    def train(self, mode: bool = True) -> "Layer":
        self.training = mode
        return self

    def eval(self) -> "Layer":
        return self.train(False)

    def parameters(self) -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
        """(name, value, gradient or None) for each parameter."""
        for k, v in self.params.items():
            yield k, v, self.grads.get(k)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, dtype: type) -> np.ndarray:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default initialization for Conv2d and Linear."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


class Conv2d(Layer):
    """Like torch.nn.Conv2d: weight (out_channels, in_channels, KH, KW), bias (out_channels,).

    input_grad=False: ``backward`` returns None instead of the input's gradient and skips that
    work, for a network's first layer, whose input (the images) needs no gradient, as in torch.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrPair, stride: IntOrPair = 1,
                 padding: IntOrPair = 0, bias: bool = True, rng: np.random.Generator | None = None,
                 dtype: type = np.float32, input_grad: bool = True) -> None:
        super().__init__()
        self.input_grad = input_grad
        rng = rng or np.random.default_rng()
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        fan_in = in_channels * kh * kw
        self.params["weight"] = _uniform(rng, (out_channels, in_channels, kh, kw), fan_in, dtype)
        if bias:
            self.params["bias"] = _uniform(rng, (out_channels,), fan_in, dtype)
        self.stride, self.padding = stride, padding

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return conv2d(x, self.params["weight"], self.params.get("bias"), self.stride, self.padding)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dw, db = conv2d_backward(dout, self._input(), self.params["weight"], self.stride, self.padding,
                                     input_grad=self.input_grad)
        self.grads["weight"] = dw
        if "bias" in self.params:
            self.grads["bias"] = db
        return dx if self.input_grad else None

    def __repr__(self) -> str:
        f, c, kh, kw = self.params["weight"].shape
        extra = "" if self.input_grad else ", input_grad=False"
        return f"Conv2d({c}, {f}, kernel_size=({kh}, {kw}), stride={self.stride}, padding={self.padding}{extra})"


class Linear(Layer):
    """Like torch.nn.Linear: weight (out_features, in_features), bias (out_features,)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: np.random.Generator | None = None, dtype: type = np.float32) -> None:
        super().__init__()
        rng = rng or np.random.default_rng()
        self.params["weight"] = _uniform(rng, (out_features, in_features), in_features, dtype)
        if bias:
            self.params["bias"] = _uniform(rng, (out_features,), in_features, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return linear(x, self.params["weight"], self.params.get("bias"))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dw, db = linear_backward(dout, self._input(), self.params["weight"])
        self.grads["weight"] = dw
        if "bias" in self.params:
            self.grads["bias"] = db
        return dx

    def __repr__(self) -> str:
        out_f, in_f = self.params["weight"].shape
        return f"Linear({in_f}, {out_f})"


class ReLU(Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return relu(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return relu_backward(dout, self._input())


class _Pool(Layer):
    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size})"


class MaxPool2d(_Pool):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return max_pool2d(x, self.kernel_size, self.stride)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return max_pool2d_backward(dout, self._input(), self.kernel_size, self.stride)


class AvgPool2d(_Pool):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return avg_pool2d(x, self.kernel_size, self.stride)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return avg_pool2d_backward(dout, self._input(), self.kernel_size, self.stride)


class Flatten(Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return flatten(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return flatten_backward(dout, self._input())


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse, chaining the gradients.

    ``backward`` returns the input's gradient, or None when the first layer was built with
    input_grad=False (only the first layer may be: every other layer's input gradient is needed).
    """

    def __init__(self, *layers: Layer) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"layer {i} is a {type(layer).__name__}, not a cnnlib Layer")
            if i > 0 and not layer.input_grad:
                raise ValueError(f"layer {i} ({layer!r}) has input_grad=False, but layer {i - 1} needs its input "
                                 f"gradient: only layer 0 may skip it")
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    @property
    def input_grad(self) -> bool:
        return self.layers[0].input_grad if self.layers else True

    def train(self, mode: bool = True) -> "Sequential":
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def parameters(self) -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
        """(name, value, gradient) with names like '0.weight', as in torch's state_dict."""
        for i, layer in enumerate(self.layers):
            for k, v, g in layer.parameters():
                yield f"{i}.{k}", v, g

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
