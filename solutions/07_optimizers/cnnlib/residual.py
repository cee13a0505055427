"""The residual block of ResNet (He et al. 2016) in NumPy: forward and backward.

    out = relu(conv2(relu(conv1(x))) + x)

Both convolutions keep the shape: C input and C output channels, a square K x K kernel with K
odd, stride 1 and padding K // 2 ("same"), so that the skip connection can add x unchanged
(the identity shortcut). Batch normalization, which ResNet puts after each convolution, is left
out here: the book's PyTorch models have it. The skip is added BEFORE the last ReLU.

Graded in 09_architectures: ``residual_block`` and ``residual_block_backward``. Both use the
student's own ``conv2d``, ``conv2d_backward``, ``relu`` and ``relu_backward``.
"""
from __future__ import annotations

import numpy as np

from ._validate import float_array, same_dtype
from .activations import relu, relu_backward
from .conv import conv2d, conv2d_backward


def residual_args(x: object, w1: object, b1: object, w2: object, b2: object) -> int:
    """Check the arguments of a residual block; return the padding K // 2.

    x: (N, C, H, W); w1, w2: (C, C, K, K) with K odd; b1, b2: (C,) or None; one floating dtype.
    """
    x = float_array("x", x, 4)
    c = x.shape[1]
    for name, w in (("w1", w1), ("w2", w2)):
        w = float_array(name, w, 4)
        k = w.shape[2]
        if w.shape != (c, c, k, k) or k % 2 == 0:
            raise ValueError(f"{name} must have shape (C, C, K, K) = ({c}, {c}, K, K) with K odd, so that the "
                             f"block keeps the shape of x {x.shape}; got {w.shape}")
    if w1.shape != w2.shape:  # type: ignore[union-attr]
        raise ValueError(f"w1 {w1.shape} and w2 {w2.shape} must have the same shape")  # type: ignore[union-attr]
    for name, b in (("b1", b1), ("b2", b2)):
        if b is not None and float_array(name, b, 1).shape != (c,):
            raise ValueError(f"{name} must have shape ({c},) or be None, got {b.shape}")  # type: ignore[union-attr]
    same_dtype(x=x, w1=w1, w2=w2, b1=b1, b2=b2)  # type: ignore[arg-type]
    return w1.shape[2] // 2  # type: ignore[union-attr]


def residual_block(x: np.ndarray, w1: np.ndarray, b1: np.ndarray | None, w2: np.ndarray,
                   b2: np.ndarray | None) -> np.ndarray:
    """Forward pass of a basic residual block: relu(conv2d(relu(conv2d(x, w1, b1)), w2, b2) + x).

    x: (N, C, H, W); w1, w2: (C, C, K, K), K odd; b1, b2: (C,) or None. Both convolutions use
    stride 1 and padding K // 2. Returns (N, C, H, W), in the dtype of x.
    """
    p = residual_args(x, w1, b1, w2, b2)
    # YOUR CODE HERE
    raise NotImplementedError("residual_block is not written yet: see its docstring in cnnlib/residual.py")


def residual_block_backward(dout: np.ndarray, x: np.ndarray, w1: np.ndarray, b1: np.ndarray | None,
                            w2: np.ndarray, b2: np.ndarray | None
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of ``residual_block``, given the upstream gradient and the forward inputs.

    dout: (N, C, H, W), the gradient of the loss with respect to the block's output; x, w1, b1,
    w2, b2 as in ``residual_block``. Returns (dx, dw1, db1, dw2, db2) with the shapes of x, w1,
    (C,), w2, (C,); db1 and db2 are returned even when b1 or b2 is None (the gradient that a
    bias would receive). dx adds the two paths that x takes: through the convolutions and
    through the skip connection.
    """
    p = residual_args(x, w1, b1, w2, b2)
    dout = float_array("dout", dout, 4)
    same_dtype(dout=dout, x=x)
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape} (the block keeps the shape), got {dout.shape}")
    # YOUR CODE HERE
    raise NotImplementedError("residual_block_backward is not written yet: see its docstring in cnnlib/residual.py")
