"""Max and average pooling over 2-D windows, forward and backward.

x: (N, C, H, W) -> (N, C, H', W') with H' = (H - KH) // SH + 1 (no padding); kernel_size and
stride are an int or an (h, w) pair; stride defaults to kernel_size. Windows may overlap
(stride < kernel_size). Graded in 04_pooling (forward) and 06_backprop (backward).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ._validate import as_pair, float_array

IntOrPair = int | Sequence[int]


def pool2d_args(x: object, kernel_size: IntOrPair, stride: IntOrPair | None) -> tuple[np.ndarray, tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Check pooling arguments; return (x, (KH, KW), (SH, SW), (H', W'))."""
    x = float_array("x", x, 4)
    k = as_pair("kernel_size", kernel_size, 1)
    s = k if stride is None else as_pair("stride", stride, 1)
    for axis, (n, kk) in enumerate(zip(x.shape[2:], k)):
        if kk > n:
            which = "height" if axis == 0 else "width"
            raise ValueError(f"kernel_size {which} {kk} is larger than the input {which} {n} (x {x.shape})")
    out = ((x.shape[2] - k[0]) // s[0] + 1, (x.shape[3] - k[1]) // s[1] + 1)
    return x, k, s, out


def _windows(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], out: tuple[int, int]):
    """Yield (m, n, view): for each offset (m, n) in the window, the strided view of x it reads."""
    (kh, kw), (sh, sw), (ho, wo) = k, s, out
    for m in range(kh):
        for n in range(kw):
            yield m, n, (slice(None), slice(None), slice(m, m + sh * (ho - 1) + 1, sh), slice(n, n + sw * (wo - 1) + 1, sw))


def _check_dout(dout: object, x: np.ndarray, out: tuple[int, int]) -> np.ndarray:
    dout = float_array("dout", dout, 4)
    expected = (*x.shape[:2], *out)
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    if dout.dtype != x.dtype:
        raise ValueError(f"dout is {dout.dtype} but x is {x.dtype}: use one floating dtype")
    return dout


def max_pool2d(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Maximum over each window: out[n, c, i, j] = max_{m, k} x[n, c, i*SH + m, j*SW + k].

    x: (N, C, H, W). Returns (N, C, H', W'), same dtype.
    """
    x, k, s, out = pool2d_args(x, kernel_size, stride)
    # YOUR CODE HERE
    raise NotImplementedError("max_pool2d is not written yet: see its docstring in cnnlib/pool.py")


def max_pool2d_backward(dout: np.ndarray, x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Gradient of max_pool2d: each window's dout goes to its maximum (the first one, in
    row-major order, on ties, as PyTorch does); overlapping windows add up.

    dout: (N, C, H', W'); x: (N, C, H, W), the forward input. Returns dx (N, C, H, W).
    """
    x, k, s, out = pool2d_args(x, kernel_size, stride)
    dout = _check_dout(dout, x, out)
    # YOUR CODE HERE
    raise NotImplementedError("max_pool2d_backward is not written yet: see its docstring in cnnlib/pool.py")


def avg_pool2d(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Mean over each window: out[n, c, i, j] = mean_{m, k} x[n, c, i*SH + m, j*SW + k].

    x: (N, C, H, W). Returns (N, C, H', W'), same dtype.
    """
    x, k, s, out = pool2d_args(x, kernel_size, stride)
    # YOUR CODE HERE
    raise NotImplementedError("avg_pool2d is not written yet: see its docstring in cnnlib/pool.py")


def avg_pool2d_backward(dout: np.ndarray, x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Gradient of avg_pool2d: each window spreads dout / (KH*KW) over its pixels; overlaps add.

    dout: (N, C, H', W'); x: (N, C, H, W). Returns dx (N, C, H, W).
    """
    x, k, s, out = pool2d_args(x, kernel_size, stride)
    dout = _check_dout(dout, x, out)
    # YOUR CODE HERE
    raise NotImplementedError("avg_pool2d_backward is not written yet: see its docstring in cnnlib/pool.py")
