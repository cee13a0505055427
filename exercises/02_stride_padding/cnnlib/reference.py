"""PyTorch references for every cnnlib function: the ground truth that checks and tests use.

Computed in float64 on the GPU when one is present (else the CPU), with TF32 switched off so
that a GPU does not round products to 10-bit mantissas. Inputs and outputs are NumPy arrays.
This module imports torch; the rest of cnnlib's NumPy core does not need it.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def tensor(a: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    """A float64 copy of ``a`` on DEVICE."""
    return torch.from_numpy(np.array(a, dtype=np.float64, order="C", copy=True)).to(DEVICE).requires_grad_(requires_grad)


def numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def conv2d(x, w, b=None, stride=1, padding=0) -> np.ndarray:
    """torch.nn.functional.conv2d on float64 copies: x (N,C,H,W), w (F,C,KH,KW) -> (N,F,H',W')."""
    bt = None if b is None else tensor(b)
    return numpy(F.conv2d(tensor(x), tensor(w), bt, stride=stride, padding=padding))


def conv2d_backward(dout, x, w, stride=1, padding=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dw, db) of conv2d by autograd, for the upstream gradient dout (N,F,H',W')."""
    xt, wt = tensor(x, True), tensor(w, True)
    bt = torch.zeros(w.shape[0], dtype=torch.float64, device=DEVICE, requires_grad=True)
    F.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(tensor(dout))
    return numpy(xt.grad), numpy(wt.grad), numpy(bt.grad)


def corr2d(image, kernel) -> np.ndarray:
    """Valid 2-D cross-correlation of one (H, W) image with one (KH, KW) kernel."""
    return conv2d(np.asarray(image)[None, None], np.asarray(kernel)[None, None])[0, 0]


def convolve2d(image, kernel) -> np.ndarray:
    """Valid 2-D true convolution: cross-correlation with the kernel flipped on both axes."""
    return corr2d(image, np.asarray(kernel)[::-1, ::-1])


def pad2d(x, padding) -> np.ndarray:
    """Zero padding of (N, C, H, W) by p or (ph, pw) on each side, via torch.nn.functional.pad."""
    ph, pw = (padding, padding) if np.isscalar(padding) else padding
    return numpy(F.pad(tensor(x), (pw, pw, ph, ph)))


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Output length along one axis, read off the shape that torch's conv1d produces."""
    x = torch.zeros(1, 1, size)
    k = torch.zeros(1, 1, kernel_size)
    return F.conv1d(x, k, stride=stride, padding=padding).shape[-1]


def receptive_field(kernel_sizes: Sequence[int], strides: Sequence[int] | None = None) -> int:
    """Receptive field measured by autograd: the span of input positions that reach output 0.

    A stack of conv1d layers with all-ones kernels; the gradient of the first output with
    respect to the input is non-zero exactly on the positions that output depends on. When a
    kernel is smaller than the stride before it, the region has holes; its span still counts.
    """
    strides = list(strides) if strides is not None else [1] * len(kernel_sizes)
    length = 1 + sum(kernel_sizes) * int(np.prod(strides, dtype=np.int64))
    x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s in zip(kernel_sizes, strides):
        y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s)
    y[0, 0, 0].backward()
    hit = torch.nonzero(x.grad[0, 0]).flatten()
    return int(hit.max() - hit.min() + 1)
