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


def tensor(a: np.ndarray, requires_grad: bool = False, device: torch.device = DEVICE) -> torch.Tensor:
    """A float64 copy of ``a`` on ``device``."""
    return torch.from_numpy(np.array(a, dtype=np.float64, order="C", copy=True)).to(device).requires_grad_(requires_grad)


def numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def conv2d(x, w, b=None, stride=1, padding=0) -> np.ndarray:
    """torch.nn.functional.conv2d on float64 copies: x (N,C,H,W), w (F,C,KH,KW) -> (N,F,H',W')."""
    bt = None if b is None else tensor(b)
    return numpy(F.conv2d(tensor(x), tensor(w), bt, stride=stride, padding=padding))


def _vjp(fn, dout, *inputs, device: torch.device = DEVICE) -> tuple[np.ndarray, ...]:
    """Gradients of sum(fn(*inputs) * dout) with respect to each input, by autograd."""
    ts = [tensor(a, True, device) for a in inputs]
    fn(*ts).backward(tensor(dout, device=device))
    return tuple(numpy(t.grad) for t in ts)


def conv2d_backward(dout, x, w, stride=1, padding=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dw, db) of conv2d by autograd, for the upstream gradient dout (N,F,H',W')."""
    conv = lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding)  # noqa: E731
    return _vjp(conv, dout, x, w, np.zeros(np.shape(w)[0]))


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


# ---------------------------------------------------------------- chapters 3 to 6

def relu(x) -> np.ndarray:
    return numpy(F.relu(tensor(x)))


def leaky_relu(x, negative_slope=0.01) -> np.ndarray:
    return numpy(F.leaky_relu(tensor(x), negative_slope))


def sigmoid(x) -> np.ndarray:
    return numpy(torch.sigmoid(tensor(x)))


def tanh(x) -> np.ndarray:
    return numpy(torch.tanh(tensor(x)))


def relu_backward(dout, x) -> np.ndarray:
    return _vjp(F.relu, dout, x)[0]


def leaky_relu_backward(dout, x, negative_slope=0.01) -> np.ndarray:
    return _vjp(lambda t: F.leaky_relu(t, negative_slope), dout, x)[0]


def sigmoid_backward(dout, x) -> np.ndarray:
    return _vjp(torch.sigmoid, dout, x)[0]


def tanh_backward(dout, x) -> np.ndarray:
    return _vjp(torch.tanh, dout, x)[0]


def max_pool2d(x, kernel_size, stride=None) -> np.ndarray:
    return numpy(F.max_pool2d(tensor(x), kernel_size, stride))


def avg_pool2d(x, kernel_size, stride=None) -> np.ndarray:
    return numpy(F.avg_pool2d(tensor(x), kernel_size, stride))


def max_pool2d_backward(dout, x, kernel_size, stride=None) -> np.ndarray:
    """On ties PyTorch's CPU kernel routes the gradient to the first maximum in row-major order.

    Computed on the CPU: that is the documented tie rule, whereas CUDA kernels may pick another.
    """
    return _vjp(lambda t: F.max_pool2d(t, kernel_size, stride), dout, x, device=torch.device("cpu"))[0]


def avg_pool2d_backward(dout, x, kernel_size, stride=None) -> np.ndarray:
    return _vjp(lambda t: F.avg_pool2d(t, kernel_size, stride), dout, x)[0]


def linear(x, w, b=None) -> np.ndarray:
    return numpy(F.linear(tensor(x), tensor(w), None if b is None else tensor(b)))


def linear_backward(dout, x, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = np.zeros(np.shape(w)[0])
    return _vjp(F.linear, dout, x, w, b)



def softmax(z, axis=-1) -> np.ndarray:
    return numpy(F.softmax(tensor(z), dim=axis))


def log_softmax(z, axis=-1) -> np.ndarray:
    return numpy(F.log_softmax(tensor(z), dim=axis))


def _targets(targets) -> torch.Tensor:
    return torch.as_tensor(np.asarray(targets, dtype=np.int64), device=DEVICE)


def cross_entropy(logits, targets) -> float:
    return float(F.cross_entropy(tensor(logits), _targets(targets)))


def cross_entropy_backward(logits, targets) -> np.ndarray:
    t = _targets(targets)
    return _vjp(lambda z: F.cross_entropy(z, t), 1.0, logits)[0]


# ---------------------------------------------------------------- chapter 7: optimizers and dropout
# One step of torch.optim's own code (foreach=False: the plain per-parameter loop), on float64
# copies, with the optimizer's state set to the given buffers.

def _optim_step(opt_class, param, grad, state: dict, **hyper) -> tuple[torch.Tensor, dict]:
    p = tensor(param, requires_grad=True)
    p.grad = tensor(grad)
    opt = opt_class([p], foreach=False, **hyper)
    if state:
        opt.state[p] = {k: (v if k == "step" else tensor(v)) for k, v in state.items()}
    opt.step()
    return p, opt.state[p]


def sgd_step(param, grad, velocity, lr, momentum=0.0, weight_decay=0.0, nesterov=False) -> tuple[np.ndarray, np.ndarray]:
    """torch.optim.SGD, one step from momentum buffer ``velocity`` -> (new_param, new_velocity)."""
    state = {"momentum_buffer": velocity} if momentum else {}
    p, st = _optim_step(torch.optim.SGD, param, grad, state, lr=lr, momentum=momentum, weight_decay=weight_decay,
                        nesterov=nesterov)
    v = numpy(st["momentum_buffer"]) if momentum else np.array(grad, np.float64) + weight_decay * np.array(param, np.float64)
    return numpy(p), v


def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    """torch.optim.Adam, step number t from buffers (m, v) -> (new_param, new_m, new_v)."""
    state = {"step": torch.tensor(float(t - 1), dtype=torch.float64), "exp_avg": m, "exp_avg_sq": v}
    p, st = _optim_step(torch.optim.Adam, param, grad, state, lr=lr, betas=(beta1, beta2), eps=eps,
                        weight_decay=weight_decay)
    return numpy(p), numpy(st["exp_avg"]), numpy(st["exp_avg_sq"])


def rmsprop_step(param, grad, square_avg, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """torch.optim.RMSprop (not centered, no momentum) -> (new_param, new_square_avg)."""
    state = {"step": torch.tensor(1.0, dtype=torch.float64), "square_avg": square_avg}
    p, st = _optim_step(torch.optim.RMSprop, param, grad, state, lr=lr, alpha=alpha, eps=eps,
                        weight_decay=weight_decay)
    return numpy(p), numpy(st["square_avg"])


def adadelta_step(param, grad, square_avg, acc_delta, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    """torch.optim.Adadelta -> (new_param, new_square_avg, new_acc_delta)."""
    state = {"step": torch.tensor(1.0, dtype=torch.float64), "square_avg": square_avg, "acc_delta": acc_delta}
    p, st = _optim_step(torch.optim.Adadelta, param, grad, state, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
    return numpy(p), numpy(st["square_avg"]), numpy(st["acc_delta"])


def dropout(x, p, u) -> np.ndarray:
    """Inverted dropout with the keep mask u >= p, in torch: x * mask / (1 - p).

    (torch.nn.functional.dropout draws its own mask; tests/test_dropout.py shows that with the same
    mask it computes exactly this.)"""
    keep = tensor(u) >= p
    return numpy(tensor(x) * keep / (1.0 - p))


def dropout_backward(dout, p, u) -> np.ndarray:
    """Gradient of dropout with respect to x, by autograd."""
    keep = tensor(u) >= p
    return _vjp(lambda x: x * keep / (1.0 - p), dout, x_like(dout))[0]


def x_like(a) -> np.ndarray:
    return np.zeros_like(np.asarray(a, np.float64))

# ---------------------------------------------------------------- chapter 8: architectures

def residual_block(x, w1, b1, w2, b2) -> np.ndarray:
    """relu(conv2(relu(conv1(x))) + x), both convolutions 'same' (padding K // 2), by torch."""
    return numpy(_residual_torch(tensor(x), tensor(w1), None if b1 is None else tensor(b1), tensor(w2),
                                 None if b2 is None else tensor(b2)))


def _residual_torch(x, w1, b1, w2, b2, skip_after_relu: bool = False, final_relu: bool = True,
                    inner_relu: bool = True, skip: bool = True) -> torch.Tensor:
    """The residual block and its typical mistakes (the keyword arguments) in torch."""
    p = w1.shape[-1] // 2
    h = F.conv2d(x, w1, b1, padding=p)
    h = F.relu(h) if inner_relu else h
    s = F.conv2d(h, w2, b2, padding=p)
    if skip_after_relu:
        return F.relu(s) + x
    s = s + x if skip else s
    return F.relu(s) if final_relu else s


def residual_block_backward(dout, x, w1, b1, w2, b2, **mistake) -> tuple[np.ndarray, ...]:
    """(dx, dw1, db1, dw2, db2) by autograd; a None bias is differentiated as zeros."""
    c = np.shape(w1)[0]
    b1 = np.zeros(c) if b1 is None else b1
    b2 = np.zeros(c) if b2 is None else b2
    dx, dw1, db1, dw2, db2 = _vjp(lambda *t: _residual_torch(*t, **mistake), dout, x, w1, b1, w2, b2)
    return dx, dw1, db1, dw2, db2


def conv2d_params(c_in, c_out, kernel_size, groups=1, bias=True) -> int:
    """Counted on a torch.nn.Conv2d built on the meta device (no memory, no arithmetic by hand)."""
    k = kernel_size if np.isscalar(kernel_size) else tuple(kernel_size)
    conv = torch.nn.Conv2d(c_in, c_out, k, groups=groups, bias=bias, device="meta")
    return sum(p.numel() for p in conv.parameters())


def depthwise_separable_params(c_in, c_out, kernel_size, bias=True) -> int:
    """Depthwise (groups = c_in) then pointwise 1x1 torch convolutions, counted on the meta device."""
    return conv2d_params(c_in, c_in, kernel_size, c_in, bias) + conv2d_params(c_in, c_out, 1, 1, bias)

def grad_cam_map(activations, gradients) -> np.ndarray:
    """Grad-CAM in torch: ReLU(sum_k mean_ij(gradients[k]) * activations[k]); (K,H,W), (K,H,W) -> (H,W)."""
    a, g = tensor(activations), tensor(gradients)
    return numpy(F.relu((g.mean(dim=(1, 2), keepdim=True) * a).sum(dim=0)))
