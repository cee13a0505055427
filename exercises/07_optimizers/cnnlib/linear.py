"""Fully connected layers and flattening.

Layouts follow torch.nn.Linear: x (N, in), w (out, in), b (out,), y = x w^T + b, (N, out).
Graded in 05_dense_softmax (forward) and 06_backprop (backward).
"""
from __future__ import annotations

import numpy as np

from ._validate import float_array, layer_args, same_dtype


def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """y = x w^T + b. x: (N, in); w: (out, in); b: (out,) or None. Returns (N, out)."""
    x, w, b = layer_args(x, w, b, 2)
    # YOUR CODE HERE
    raise NotImplementedError("linear is not written yet: see its docstring in cnnlib/linear.py")


def linear_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of linear. dout: (N, out); x: (N, in); w: (out, in).

    Returns (dx, dw, db) with shapes (N, in), (out, in), (out,); dw and db sum over the batch.
    """
    x, w, _ = layer_args(x, w, None, 2)
    dout = float_array("dout", dout, 2)
    same_dtype(dout=dout, x=x)
    if dout.shape != (x.shape[0], w.shape[0]):
        raise ValueError(f"dout must have the forward output's shape {(x.shape[0], w.shape[0])}, got {dout.shape}")
    # YOUR CODE HERE
    raise NotImplementedError("linear_backward is not written yet: see its docstring in cnnlib/linear.py")


def flatten(x: np.ndarray) -> np.ndarray:
    """(N, d1, d2, ...) -> (N, d1*d2*...), in C order like torch.flatten(x, 1)."""
    x = float_array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x must have a batch axis and at least one more, got shape {x.shape}")
    return x.reshape(x.shape[0], -1)


def flatten_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of flatten: dout (N, D) reshaped to x's shape."""
    x = float_array("x", x)
    dout = float_array("dout", dout, 2)
    same_dtype(dout=dout, x=x)
    if dout.size != x.size or dout.shape[0] != x.shape[0]:
        raise ValueError(f"dout {dout.shape} does not match flatten({x.shape})")
    return dout.reshape(x.shape)
