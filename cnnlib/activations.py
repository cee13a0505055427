"""Element-wise activation functions and their gradients.

Every function takes an array of any shape and returns one of the same shape and dtype.
Backward functions take the upstream gradient ``dout`` and the forward input ``x``.
Graded in 03_activations (forward) and 06_backprop (backward).
"""
from __future__ import annotations

import numpy as np

from ._validate import float_array, same_shape


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0), element-wise. x: any shape; returns the same shape and dtype."""
    x = float_array("x", x)
    ### BEGIN SOLUTION
    return np.maximum(x, 0).astype(x.dtype, copy=False)
    ### END SOLUTION


def relu_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of relu at x: dout where x > 0, else 0 (0 at x == 0, as PyTorch). Shapes as x."""
    dout, x = same_shape(dout=dout, x=x)
    ### BEGIN SOLUTION
    if np.isfinite(dout).all():  # dout * mask is several times faster than np.where ...
        return dout * (x > 0)
    return np.where(x > 0, dout, dout.dtype.type(0))  # ... but would turn inf * 0 into NaN
    ### END SOLUTION


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """x where x > 0, negative_slope * x elsewhere. Same shape and dtype as x."""
    x = float_array("x", x)
    ### BEGIN SOLUTION
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))
    ### END SOLUTION


def leaky_relu_backward(dout: np.ndarray, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """Gradient of leaky_relu: dout where x > 0, negative_slope * dout elsewhere (x == 0 included)."""
    dout, x = same_shape(dout=dout, x=x)
    ### BEGIN SOLUTION
    return np.where(x > 0, dout, dout * dout.dtype.type(negative_slope))
    ### END SOLUTION


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), computed without overflow for large |x|. Same shape and dtype as x."""
    x = float_array("x", x)
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(x))  # never overflows: the exponent is <= 0
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
    ### END SOLUTION


def sigmoid_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of sigmoid: dout * s * (1 - s) with s = sigmoid(x)."""
    dout, x = same_shape(dout=dout, x=x)
    ### BEGIN SOLUTION
    s = sigmoid(x)
    return dout * s * (1 - s)
    ### END SOLUTION


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, element-wise. Same shape and dtype as x."""
    x = float_array("x", x)
    ### BEGIN SOLUTION
    return np.tanh(x)
    ### END SOLUTION


def tanh_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of tanh: dout * (1 - tanh(x)**2)."""
    dout, x = same_shape(dout=dout, x=x)
    ### BEGIN SOLUTION
    t = np.tanh(x)
    return dout * (1 - t * t)
    ### END SOLUTION
