"""2-D convolution (really cross-correlation, as in every deep-learning library), forward and backward.

Layouts follow PyTorch: x (N, C, H, W), w (F, C, KH, KW), b (F,), output (N, F, H', W').
Two implementations of the same operation:

- ``conv2d_loops`` spells the formula out, one output value at a time (for reading, and slow);
- ``conv2d`` gathers every window into one matrix (im2col) and does one matrix product.

Graded: ``corr2d``, ``convolve2d`` and ``conv2d`` (stride 1, no padding) in 01_convolution;
``conv2d`` with stride and padding in 02_stride_padding; ``conv2d_backward`` in chapter 6.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ._validate import as_pair, conv2d_args, float_array, same_dtype
from .shapes import conv_output_size, pad2d

IntOrPair = int | Sequence[int]


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
    ### BEGIN SOLUTION
    kh, kw = kernel.shape
    ho, wo = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((ho, wo), dtype=image.dtype)
    for m in range(kh):
        for n in range(kw):
            out += kernel[m, n] * image[m : m + ho, n : n + wo]
    return out
    ### END SOLUTION


def convolve2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """True 2-D convolution of one image with one kernel, "valid" mode (the textbook operation).

    image: (H, W); kernel: (KH, KW). Returns (H - KH + 1, W - KW + 1) with
    out[i, j] = sum_{m, n} image[i + m, j + n] * kernel[KH - 1 - m, KW - 1 - n]:
    the kernel is flipped on both axes before it slides (scipy.signal.convolve2d(..., 'valid')).
    """
    image = float_array("image", image, 2)
    kernel = float_array("kernel", kernel, 2)
    ### BEGIN SOLUTION
    return corr2d(image, kernel[::-1, ::-1])
    ### END SOLUTION


def conv2d_loops(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: IntOrPair = 1, padding: IntOrPair = 0
) -> np.ndarray:
    """Same as ``conv2d``, written as the formula, one output value at a time (slow: for reading).

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,) or None. Returns (N, F, H', W').
    """
    x, w, b, (sh, sw), (ph, pw) = conv2d_args(x, w, b, stride, padding)
    ### BEGIN SOLUTION
    n_img, _, h, wd = x.shape
    f_out, _, kh, kw = w.shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    xp = pad2d(x, (ph, pw))
    out = np.zeros((n_img, f_out, ho, wo), dtype=x.dtype)
    for n in range(n_img):
        for f in range(f_out):
            for i in range(ho):
                for j in range(wo):
                    patch = xp[n, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    out[n, f, i, j] = np.sum(patch * w[f]) + (b[f] if b is not None else 0)
    return out
    ### END SOLUTION


def im2col(x: np.ndarray, kernel_size: IntOrPair, stride: IntOrPair = 1, padding: IntOrPair = 0) -> np.ndarray:
    """Gather every kernel-sized window of x into the columns of one matrix.

    x: (N, C, H, W). Returns cols of shape (C*KH*KW, N*H'*W'): column n*H'*W' + i*W' + j holds
    the padded window under output position (n, i, j), in the order (c, m, n) of w.reshape(F, -1).
    """
    x = float_array("x", x, 4)
    kh, kw = as_pair("kernel_size", kernel_size, 1)
    sh, sw = as_pair("stride", stride, 1)
    ph, pw = as_pair("padding", padding, 0)
    ### BEGIN SOLUTION
    n_img, c, h, wd = x.shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    xp = pad2d(x, (ph, pw)).transpose(1, 0, 2, 3)  # (C, N, Hp, Wp): windows land in column order
    cols = np.empty((c, kh, kw, n_img, ho, wo), dtype=x.dtype)
    for m in range(kh):
        for n in range(kw):
            cols[:, m, n] = xp[:, :, m : m + sh * ho : sh, n : n + sw * wo : sw]
    return cols.reshape(c * kh * kw, n_img * ho * wo)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    n_img, _, h, wd = x.shape
    f_out, _, kh, kw = w.shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    cols = im2col(x, (kh, kw), (sh, sw), (ph, pw))
    out = w.reshape(f_out, -1) @ cols  # (F, N*H'*W')
    if b is not None:
        out += b[:, None]
    return np.ascontiguousarray(out.reshape(f_out, n_img, ho, wo).transpose(1, 0, 2, 3))
    ### END SOLUTION


def conv2d_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: IntOrPair = 1, padding: IntOrPair = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``conv2d`` with respect to its input, weights and bias.

    dout: (N, F, H', W'), the upstream gradient; x: (N, C, H, W) and w: (F, C, KH, KW), the
    forward inputs. Returns (dx, dw, db) with shapes (N, C, H, W), (F, C, KH, KW) and (F,).
    dw is the cross-correlation of x with dout; dx is the "full" convolution of dout with w.
    """
    x, w, _, (sh, sw), (ph, pw) = conv2d_args(x, w, None, stride, padding)
    dout = float_array("dout", dout, 4)
    same_dtype(dout=dout, x=x)
    n_img, c, h, wd = x.shape
    f_out, _, kh, kw = w.shape
    expected = (n_img, f_out, conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw))
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    ### BEGIN SOLUTION
    ho, wo = expected[2:]
    db = dout.sum(axis=(0, 2, 3))
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(f_out, -1)  # (F, N*H'*W')
    dw = (dout_mat @ im2col(x, (kh, kw), (sh, sw), (ph, pw)).T).reshape(w.shape)
    dcols = (w.reshape(f_out, -1).T @ dout_mat).reshape(c, kh, kw, n_img, ho, wo)
    dxp = np.zeros((c, n_img, h + 2 * ph, wd + 2 * pw), dtype=x.dtype)
    for m in range(kh):  # col2im: each window position adds back into the pixels it read
        for n in range(kw):
            dxp[:, :, m : m + sh * ho : sh, n : n + sw * wo : sw] += dcols[:, m, n]
    dx = np.ascontiguousarray(dxp[:, :, ph : ph + h, pw : pw + wd].transpose(1, 0, 2, 3))
    return dx, dw, db
    ### END SOLUTION
