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
    window_fits(x.shape, (kh, kw), (ph, pw), f"kernel_size {(kh, kw)}")
    ### BEGIN SOLUTION
    n_img, c = x.shape[:2]
    # Every kh x kw window of the padded images, as a view (no copy): (N, C, H', W', KH, KW).
    windows = sliding_window_view(pad2d(x, (ph, pw)), (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    # One copy into the column order (C, KH, KW, N, H', W'): row (c, m, k), column (n, i, j).
    return np.ascontiguousarray(windows.transpose(1, 4, 5, 0, 2, 3)).reshape(c * kh * kw, -1)
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
    n_img, c, h, wd = x.shape
    f_out, _, kh, kw = w.shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    k, p = c * kh * kw, ho * wo
    # im2col and one matrix product, a chunk of images at a time: for images n0..n1,
    # cols = im2col(x[n0:n1]) is (C*KH*KW, n*H'*W') and w_mat @ cols is (F, n*H'*W'). Chunks
    # (_FORWARD_CHUNK_BYTES of columns) reuse one buffer instead of building the whole (C*KH*KW, N*H'*W') matrix.
    windows = sliding_window_view(pad2d(x, (ph, pw)), (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    windows = windows.transpose(1, 4, 5, 0, 2, 3)  # (C, KH, KW, N, H', W'): im2col's order, a view
    chunk = max(1, min(n_img, _FORWARD_CHUNK_BYTES // max(1, k * p * x.itemsize)))
    cols = np.empty(k * chunk * p, dtype=x.dtype)
    prod = np.empty(f_out * chunk * p, dtype=x.dtype)
    w_mat = w.reshape(f_out, k)
    out = np.empty((n_img, f_out, p), dtype=x.dtype)
    for n0 in range(0, n_img, chunk):
        n1 = min(n_img, n0 + chunk)
        part = cols[: k * (n1 - n0) * p].reshape(c, kh, kw, n1 - n0, ho, wo)
        np.copyto(part, windows[:, :, :, n0:n1])
        res = prod[: f_out * (n1 - n0) * p].reshape(f_out, (n1 - n0) * p)
        np.matmul(w_mat, part.reshape(k, -1), out=res)
        res = res.reshape(f_out, n1 - n0, p).transpose(1, 0, 2)  # (F, n, H'W') -> (n, F, H'W')
        if b is None:
            out[n0:n1] = res
        else:
            np.add(res, b[:, None], out=out[n0:n1])  # the bias added on the way into out
    return out.reshape(n_img, f_out, ho, wo)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    ho, wo = expected[2:]
    k, p = c * kh * kw, ho * wo
    db = dout.sum(axis=(0, 2, 3))
    # dw[f, (c, m, n)] = sum over images and positions of dout[., f, i, j] * window value: the
    # product of dout, as (F, N*H'*W'), with im2col(x) transposed. Done a few images at a time.
    #
    # dx ("col2im"): each output position (i, j) sends dout[., :, i, j] back through w to the
    # kh x kw pixels of its window: dxpad[., c, i*sh + m, j*sw + n] += sum_f w[f, c, m, n] * dout[., f, i, j].
    # A padded row r = i*sh + m only receives taps m with m % sh == r % sh, so each of the
    # sh*sw "phases" of dxpad (rows r % sh == a, columns % sw == e) is a stride-1 problem on a
    # grid of hq x wq cells, where tap (m, n) moves every value by the same (m // sh, n // sw).
    # With dout laid on that grid (zeros around it), that move is ONE shift of a flat array: so
    # col2im is kh*kw long 1-D additions instead of millions of short row additions.
    hp, wp = h + 2 * ph, wd + 2 * pw
    hq, wq = -(-hp // sh), -(-wp // sw)  # ceil: the size of one phase of the padded grid
    cells = hq * wq
    # The chunk of images: its columns (k * chunk * p) and, for dx, grid products (k * chunk * cells).
    chunk = max(1, min(n_img, _BACKWARD_CHUNK_BYTES // max(1, k * (cells if input_grad else p) * x.itemsize)))
    windows = sliding_window_view(pad2d(x, (ph, pw)), (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    windows = windows.transpose(1, 4, 5, 0, 2, 3)  # (C, KH, KW, N, H', W'): im2col's order, a view
    w_taps = np.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(kh * kw * c, f_out)  # rows (m, n, c)
    cols = np.empty(k * chunk * p, dtype=x.dtype)
    dmat = np.empty(f_out * chunk * p, dtype=x.dtype)
    grid = np.zeros((f_out, chunk, hq, wq), dtype=x.dtype)  # dout on the phase grid, zeros around
    prods = np.empty(kh * kw * c * chunk * cells, dtype=x.dtype)
    shift_max = ((kh - 1) // sh) * wq + (kw - 1) // sw
    acc = np.empty((sh, sw, c * chunk * cells + shift_max), dtype=x.dtype)  # one flat dxpad per phase
    dw_t = np.zeros((k, f_out), dtype=x.dtype)
    dx = np.empty(x.shape, dtype=x.dtype)
    for n0 in range(0, n_img, chunk):
        n1 = min(n_img, n0 + chunk)
        nc = n1 - n0
        part = cols[: k * nc * p].reshape(c, kh, kw, nc, ho, wo)
        np.copyto(part, windows[:, :, :, n0:n1])
        d = dmat[: f_out * nc * p].reshape(f_out, nc, ho, wo)
        np.copyto(d, dout[n0:n1].transpose(1, 0, 2, 3))
        dw_t += part.reshape(k, nc * p) @ d.reshape(f_out, nc * p).T
        if not input_grad:
            continue
        grid[:, :nc, :ho, :wo] = d
        size = c * nc * cells  # one tap's products, laid out (C, nc, hq, wq) like a phase of dxpad
        taps = prods[: kh * kw * size].reshape(kh * kw * c, nc * cells)
        np.matmul(w_taps, grid[:, :nc].reshape(f_out, nc * cells), out=taps)
        taps = taps.reshape(kh, kw, size)
        acc[...] = 0
        for m in range(kh):
            for n in range(kw):
                shift = (m // sh) * wq + n // sw
                acc[m % sh, n % sw, shift : shift + size] += taps[m, n]
        for a in range(sh):  # copy each phase back into dx, cutting off the padding
            r0 = (a - ph) % sh  # first row of dx in this phase, and its row in the phase grid
            t0, nr = (r0 + ph - a) // sh, len(range(r0, h, sh))
            for e in range(sw):
                c0 = (e - pw) % sw
                u0, ncol = (c0 + pw - e) // sw, len(range(c0, wd, sw))
                phase = acc[a, e, :size].reshape(c, nc, hq, wq)[:, :, t0 : t0 + nr, u0 : u0 + ncol]
                dx[n0:n1, :, r0::sh, c0::sw] = phase.transpose(1, 0, 2, 3)
    dw = np.ascontiguousarray(dw_t.T).reshape(w.shape)
    return (dx if input_grad else None), dw, db
    ### END SOLUTION
