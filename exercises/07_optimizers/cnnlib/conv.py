"""2-D convolution (really cross-correlation, as in every deep-learning library), forward and backward.

Layouts follow PyTorch: x (N, C, H, W), w (F, C, KH, KW), b (F,), output (N, F, H', W').
Two implementations of the same operation:

- ``conv2d_loops`` spells the formula out, one output value at a time (for reading, and slow);
- ``conv2d`` gathers every window into one matrix (im2col) and does one matrix product
  (a chunk of images at a time, so that the matrix stays small).

Graded: ``corr2d``, ``convolve2d`` and ``conv2d`` (stride 1, no padding) in 01_convolution;
``conv2d`` with stride and padding in 02_stride_padding; ``conv2d_backward`` in chapter 6.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import as_pair, conv2d_args, float_array, same_dtype, window_fits
from .shapes import conv_output_size, pad2d

IntOrPair = int | Sequence[int]
# Bytes of im2col columns per chunk of images: small enough to stay in a core's L2 cache while the
# matrix product reads them (a whole-batch matrix was 15-20% slower in the LeNet-5 epoch benchmark).
_FORWARD_CHUNK_BYTES = 1 << 19
_BACKWARD_CHUNK_BYTES = 1 << 20


def corr2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Cross-correlate one 2-D image with one 2-D kernel, without padding ("valid").

    image: (H, W); kernel: (KH, KW) with KH <= H and KW <= W; same floating dtype.
    Returns (H - KH + 1, W - KW + 1) with out[i, j] = sum_{m, n} image[i + m, j + n] * kernel[m, n].
    """
    image = float_array("image", image, 2)
    kernel = float_array("kernel", kernel, 2)
    same_dtype(image=image, kernel=kernel)
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"kernel {kernel.shape} does not fit inside image {image.shape}")
    # YOUR CODE HERE
    raise NotImplementedError("corr2d is not written yet: see its docstring in cnnlib/conv.py")


def convolve2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """True 2-D convolution of one image with one kernel, "valid" mode (the textbook operation).

    image: (H, W); kernel: (KH, KW). Returns (H - KH + 1, W - KW + 1) with
    out[i, j] = sum_{m, n} image[i + m, j + n] * kernel[KH - 1 - m, KW - 1 - n]:
    the kernel is flipped on both axes before it slides (scipy.signal.convolve2d(..., 'valid')).
    """
    image = float_array("image", image, 2)
    kernel = float_array("kernel", kernel, 2)
    # YOUR CODE HERE
    raise NotImplementedError("convolve2d is not written yet: see its docstring in cnnlib/conv.py")


def conv2d_loops(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: IntOrPair = 1, padding: IntOrPair = 0
) -> np.ndarray:
    """Same as ``conv2d``, written as the formula, one output value at a time (slow: for reading).

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,) or None. Returns (N, F, H', W').
    """
    x, w, b, (sh, sw), (ph, pw) = conv2d_args(x, w, b, stride, padding)
    # YOUR CODE HERE
    raise NotImplementedError("conv2d_loops is not written yet: see its docstring in cnnlib/conv.py")


def im2col(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair = 1, padding: IntOrPair = 0) -> np.ndarray:
    """Gather every kernel-sized window of x into the columns of one matrix.

    x: (N, C, H, W). Returns cols of shape (C*KH*KW, N*H'*W'): column n*H'*W' + i*W' + j holds
    the padded window under output position (n, i, j), in the order (c, m, n) of w.reshape(F, -1).
    """
    x = float_array("x", x, 4)
    kh, kw = as_pair("kernel_size", kernel_size, 1)
    sh, sw = as_pair("stride", stride, 1)
    ph, pw = as_pair("padding", padding, 0)
    window_fits(x.shape, (kh, kw), (ph, pw), f"kernel_size {(kh, kw)}")
    # YOUR CODE HERE
    raise NotImplementedError("im2col is not written yet: see its docstring in cnnlib/conv.py")


def conv2d(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: IntOrPair = 1, padding: IntOrPair = 0
) -> np.ndarray:
    """2-D cross-correlation of a batch of images with a bank of filters, like torch's F.conv2d.

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,) or None; stride and padding: int or (h, w)
    pair; padding adds that many zeros on each side. All arrays share one floating dtype.
    Returns (N, F, H', W') with H' = (H + 2*ph - KH) // sh + 1 (likewise W') and
    out[n, f, i, j] = b[f] + sum_{c, m, k} xpad[n, c, i*sh + m, j*sw + k] * w[f, c, m, k].
    """
    x, w, b, (sh, sw), (ph, pw) = conv2d_args(x, w, b, stride, padding)
    # YOUR CODE HERE
    raise NotImplementedError("conv2d is not written yet: see its docstring in cnnlib/conv.py")


def conv2d_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: IntOrPair = 1, padding: IntOrPair = 0, *,
    input_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of ``conv2d`` with respect to its input, weights and bias.

    dout: (N, F, H', W'), the upstream gradient; x: (N, C, H, W) and w: (F, C, KH, KW), the
    forward inputs. Returns (dx, dw, db) with shapes (N, C, H, W), (F, C, KH, KW) and (F,).
    dw is the cross-correlation of x with dout; dx is the "full" convolution of dout with w.
    input_grad=False may return None for dx instead of computing it (a network's first layer:
    nothing needs the gradient of the images, and PyTorch skips it too). Optional to honour.
    """
    x, w, _, (sh, sw), (ph, pw) = conv2d_args(x, w, None, stride, padding)
    dout = float_array("dout", dout, 4)
    same_dtype(dout=dout, x=x)
    n_img, c, h, wd = x.shape
    f_out, _, kh, kw = w.shape
    expected = (n_img, f_out, conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw))
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    # YOUR CODE HERE
    raise NotImplementedError("conv2d_backward is not written yet: see its docstring in cnnlib/conv.py")
