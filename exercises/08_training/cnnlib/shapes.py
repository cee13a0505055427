"""Sizes and padding: how stride, padding and kernel size decide a convolution's output.

Chapter 2 of the book. ``conv_output_size``, ``pad2d`` and ``receptive_field`` are graded in
assignment 02_stride_padding.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ._validate import as_pair, float_array


def _positive_int(name: str, value: object, minimum: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Length of a convolution's (or pooling's) output along one axis.

    size: input length n (>= 1); kernel_size: k (>= 1); stride: s (>= 1); padding: p zeros
    added on *each* side (>= 0). Returns floor((n + 2p - k) / s) + 1, the number of positions at
    which the window fits inside the padded input. Raises ValueError if k > n + 2p.
    """
    n = _positive_int("size", size, 1)
    k = _positive_int("kernel_size", kernel_size, 1)
    s = _positive_int("stride", stride, 1)
    p = _positive_int("padding", padding, 0)
    if k > n + 2 * p:
        raise ValueError(f"kernel_size {k} is larger than the padded input {n} + 2*{p} = {n + 2 * p}")
    # YOUR CODE HERE
    raise NotImplementedError("conv_output_size is not written yet: see its docstring in cnnlib/shapes.py")


def same_padding(kernel_size: int) -> int:
    """Padding per side that keeps the output size equal to the input size at stride 1.

    Only odd kernels can do this symmetrically: p = (k - 1) / 2. An even kernel would need one
    more zero on one side than the other (PyTorch's ``padding='same'`` does that internally).
    """
    k = _positive_int("kernel_size", kernel_size, 1)
    if k % 2 == 0:
        raise ValueError(
            f"kernel_size {k} is even: 'same' output needs {k - 1} zeros in all, which cannot be "
            "split evenly between the two sides"
        )
    return (k - 1) // 2


def pad2d(x: np.ndarray, padding: int | Sequence[int]) -> np.ndarray:
    """Zero-pad the two spatial axes of a batch of images, the same amount on both sides.

    x: (N, C, H, W) floating array; padding: p or (ph, pw), each >= 0.
    Returns (N, C, H + 2*ph, W + 2*pw) with the same dtype as x; x sits in the middle.
    """
    x = float_array("x", x, 4)
    ph, pw = as_pair("padding", padding, 0)
    # YOUR CODE HERE
    raise NotImplementedError("pad2d is not written yet: see its docstring in cnnlib/shapes.py")


def receptive_field(kernel_sizes: Sequence[int], strides: Sequence[int] | None = None) -> int:
    """Side length of the input region seen by one output unit after a stack of layers.

    kernel_sizes: k_1..k_L of the layers, first layer first; strides: s_1..s_L (default all 1).
    Each layer widens the region by (k_l - 1) times the product of the strides before it:
    r = 1 + sum_l (k_l - 1) * s_1 * ... * s_{l-1}. Returns r (an int >= 1).
    """
    ks = [_positive_int(f"kernel_sizes[{i}]", k, 1) for i, k in enumerate(kernel_sizes)]
    if strides is None:
        strides = [1] * len(ks)
    ss = [_positive_int(f"strides[{i}]", s, 1) for i, s in enumerate(strides)]
    if len(ss) != len(ks):
        raise ValueError(f"strides has {len(ss)} entries but kernel_sizes has {len(ks)}")
    # YOUR CODE HERE
    raise NotImplementedError("receptive_field is not written yet: see its docstring in cnnlib/shapes.py")
