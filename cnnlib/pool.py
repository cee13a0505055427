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
    ### BEGIN SOLUTION
    result = None
    for _, _, view in _windows(x, k, s, out):
        result = x[view].copy() if result is None else np.maximum(result, x[view], out=result)
    return result
    ### END SOLUTION


def max_pool2d_backward(dout: np.ndarray, x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Gradient of max_pool2d: each window's dout goes to its maximum (the first one, in
    row-major order, on ties, as PyTorch does); overlapping windows add up.

    dout: (N, C, H', W'); x: (N, C, H, W), the forward input. Returns dx (N, C, H, W).
    """
    x, k, s, out = pool2d_args(x, kernel_size, stride)
    dout = _check_dout(dout, x, out)
    ### BEGIN SOLUTION
    views = [view for _, _, view in _windows(x, k, s, out)]
    # taps[t] holds, for every window, its pixel at offset t: one strided copy per offset, so
    # that the comparisons below run on contiguous arrays (faster than re-reading strided views).
    taps = np.stack([x[view] for view in views])  # (KH*KW, N, C, H', W')
    best = taps.max(axis=0)  # the forward output
    # Windows that do not overlap write each pixel once: assign instead of add. If they also
    # tile x exactly, every pixel is written and dx needs no zeros first.
    disjoint = s[0] >= k[0] and s[1] >= k[1]
    tiled = s == k and x.shape[2:] == (out[0] * k[0], out[1] * k[1])
    dx = np.empty_like(x) if tiled else np.zeros_like(x)
    unclaimed = np.ones(best.shape, dtype=bool)  # windows whose maximum is not yet found
    has_nan = np.isnan(best).any()  # like torch, a NaN is a window's maximum and takes its gradient
    for tap, view in zip(taps, views):  # offsets in row-major order
        hit = (tap == best) | np.isnan(tap) if has_nan else tap == best
        first = hit & unclaimed
        grad = dout * first  # dout where first, else 0 (several times faster than np.where)
        if disjoint:
            dx[view] = grad
        else:
            dx[view] += grad
        unclaimed &= ~first
    return dx
    ### END SOLUTION


def avg_pool2d(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Mean over each window: out[n, c, i, j] = mean_{m, k} x[n, c, i*SH + m, j*SW + k].

    x: (N, C, H, W). Returns (N, C, H', W'), same dtype.
    """
    x, k, s, out = pool2d_args(x, kernel_size, stride)
    ### BEGIN SOLUTION
    total = np.zeros((*x.shape[:2], *out), dtype=x.dtype)
    for _, _, view in _windows(x, k, s, out):
        total += x[view]
    return total / x.dtype.type(k[0] * k[1])
    ### END SOLUTION


def avg_pool2d_backward(dout: np.ndarray, x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Gradient of avg_pool2d: each window spreads dout / (KH*KW) over its pixels; overlaps add.

    dout: (N, C, H', W'); x: (N, C, H, W). Returns dx (N, C, H, W).
    """
    x, k, s, out = pool2d_args(x, kernel_size, stride)
    dout = _check_dout(dout, x, out)
    ### BEGIN SOLUTION
    share = dout / dout.dtype.type(k[0] * k[1])
    dx = np.zeros_like(x)
    for _, _, view in _windows(x, k, s, out):
        dx[view] += share
    return dx
    ### END SOLUTION
