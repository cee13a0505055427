"""Parameter counts of convolutional layers, by formula (no framework needed).

A 2-D convolution from c_in to c_out channels with a KH x KW kernel in ``groups`` groups has
weights of shape (c_out, c_in / groups, KH, KW), plus c_out biases: each output channel sees
only the c_in / groups input channels of its group. A depthwise separable convolution
(MobileNet) is a depthwise K x K convolution (groups = c_in, one filter per input channel)
followed by a pointwise 1 x 1 convolution from c_in to c_out.

Graded in 09_architectures: ``conv2d_params`` and ``depthwise_separable_params``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

IntOrPair = int | Sequence[int]


def _positive(name: str, value: object) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def kernel_pair(kernel_size: IntOrPair) -> tuple[int, int]:
    """(KH, KW) from an int K or a pair (KH, KW); raises ValueError naming kernel_size."""
    if isinstance(kernel_size, (int, np.integer)) and not isinstance(kernel_size, bool):
        pair = (int(kernel_size), int(kernel_size))
    elif isinstance(kernel_size, (tuple, list)) and len(kernel_size) == 2:
        pair = (_positive("kernel_size[0]", kernel_size[0]), _positive("kernel_size[1]", kernel_size[1]))
    else:
        raise ValueError(f"kernel_size must be an int or a pair (KH, KW), got {kernel_size!r}")
    if min(pair) < 1:
        raise ValueError(f"kernel_size must be positive, got {kernel_size!r}")
    return pair


def conv2d_params(c_in: int, c_out: int, kernel_size: IntOrPair, groups: int = 1, bias: bool = True) -> int:
    """Number of parameters of torch.nn.Conv2d(c_in, c_out, kernel_size, groups=groups, bias=bias).

    c_in, c_out: channels, both divisible by groups; kernel_size: K or (KH, KW). Returns an int:
    the weights (c_out, c_in / groups, KH, KW) plus c_out biases when bias is True.
    """
    c_in, c_out, groups = _positive("c_in", c_in), _positive("c_out", c_out), _positive("groups", groups)
    kh, kw = kernel_pair(kernel_size)
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide c_in={c_in} and c_out={c_out}")
    # YOUR CODE HERE
    raise NotImplementedError("conv2d_params is not written yet: see its docstring in cnnlib/param_counts.py")


def depthwise_separable_params(c_in: int, c_out: int, kernel_size: IntOrPair, bias: bool = True) -> int:
    """Parameters of a depthwise separable convolution (MobileNet): a depthwise K x K convolution
    (c_in -> c_in, groups = c_in) then a pointwise 1 x 1 convolution (c_in -> c_out), each with
    its biases when bias is True. kernel_size: K or (KH, KW). Returns an int.
    """
    c_in, c_out = _positive("c_in", c_in), _positive("c_out", c_out)
    kernel_pair(kernel_size)
    # YOUR CODE HERE
    raise NotImplementedError("depthwise_separable_params is not written yet: see its docstring in cnnlib/param_counts.py")


def conv2d_mult_adds(c_in: int, c_out: int, kernel_size: IntOrPair, out_size: IntOrPair, groups: int = 1) -> int:
    """Multiply-adds of one convolution on one image: every output value (c_out x H' x W') is a
    sum of (c_in / groups) * KH * KW products. out_size: H' or (H', W'). Biases are not counted.
    """
    kh, kw = kernel_pair(kernel_size)
    ho, wo = (out_size, out_size) if isinstance(out_size, (int, np.integer)) else tuple(out_size)
    if min(ho, wo) < 1:
        raise ValueError(f"out_size must be positive, got {out_size!r}")
    return c_out * ho * wo * (c_in // _positive("groups", groups)) * kh * kw
