"""Inputs and typical mistakes for every graded cnnlib function, used by ``cnnlib.checks``.

For each function: a case generator (fixed cases that separate the typical mistakes, plus n
random ones) and a table of mutants: {likely cause: the wrong output that mistake produces},
computed with PyTorch (never with the NumPy code that students write). Most specific first: the
first mutant that reproduces a wrong output is reported.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from . import reference as ref

Case = dict[str, Any]
Mutants = dict[str, Callable[[], Any]]

# The seeds' worked example: a 5x5 image and a 3x3 vertical-edge filter, cross-correlated by hand.
SEED_IMAGE = np.array(
    [[1, 2, 0, 3, 1], [4, 5, 6, 7, 8], [1, 0, 1, 2, 1], [0, 1, 3, 4, 0], [3, 4, 5, 1, 2]], dtype=np.float64
)
SEED_KERNEL = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float64)
SEED_FEATURE_MAP = np.array([[-1, -5, -3], [-5, -7, 1], [-5, -2, 6]], dtype=np.float64)


# ---------------------------------------------------------------- case generators

def image_cases(rng: np.random.Generator, n: int) -> list[Case]:
    cases = [dict(image=SEED_IMAGE.copy(), kernel=SEED_KERNEL.copy())]
    for i in range(n):
        h, w = rng.integers(1, 9, size=2)
        kh, kw = rng.integers(1, h + 1), rng.integers(1, w + 1)
        dtype = np.float32 if i == 0 else np.float64
        cases.append(
            dict(image=rng.standard_normal((h, w)).astype(dtype), kernel=rng.standard_normal((kh, kw)).astype(dtype))
        )
    # A non-square, non-symmetric kernel on a non-square image: separates every mutant.
    cases.append(dict(image=rng.standard_normal((6, 7)), kernel=rng.standard_normal((2, 3))))
    return cases


def conv_cases(rng: np.random.Generator, n: int, strided: bool) -> list[Case]:
    cases = []
    for i in range(n):
        N, C, F = rng.integers(1, 4), rng.integers(1, 5), rng.integers(1, 5)
        s = tuple(int(v) for v in rng.integers(1, 4, size=2)) if strided else (1, 1)
        p = tuple(int(v) for v in rng.integers(0, 3, size=2)) if strided else (0, 0)
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        h = int(rng.integers(max(1, kh - 2 * p[0]), 10))
        w = int(rng.integers(max(1, kw - 2 * p[1]), 10))
        dtype = np.float32 if i == 0 else np.float64
        case = dict(
            x=rng.standard_normal((N, C, h, w)).astype(dtype),
            w=rng.standard_normal((F, C, kh, kw)).astype(dtype),
            b=rng.standard_normal(F).astype(dtype) if i % 3 != 2 else None,
        )
        if strided:
            case.update(stride=s if s[0] != s[1] else s[0], padding=p if p[0] != p[1] else p[0])
        cases.append(case)
    # Fixed shapes that separate every mutant: batch of 1, C_in != C_out, non-square everything.
    x = rng.standard_normal((1, 3, 9, 8))
    w = rng.standard_normal((2, 3, 3, 2))
    b = rng.standard_normal(2)
    cases.append(dict(x=x, w=w, b=b, **(dict(stride=(2, 3), padding=(1, 2)) if strided else {})))
    cases.append(dict(x=rng.standard_normal((2, 2, 5, 6)), w=rng.standard_normal((3, 2, 5, 6)), b=None))
    return cases


def pad_cases(rng: np.random.Generator, n: int) -> list[Case]:
    cases = [dict(x=rng.standard_normal((2, 3, 4, 5)), padding=(1, 2))]
    for i in range(n):
        shape = tuple(int(v) for v in rng.integers(1, 6, size=4))
        p = tuple(int(v) for v in rng.integers(0, 4, size=2))
        dtype = np.float32 if i == 0 else np.float64
        cases.append(dict(x=rng.standard_normal(shape).astype(dtype), padding=p if i % 2 else p[0]))
    return cases


def size_cases(rng: np.random.Generator, n: int) -> list[Case]:
    cases = [dict(size=7, kernel_size=3, stride=1, padding=0), dict(size=28, kernel_size=5, stride=1, padding=0),
             dict(size=32, kernel_size=3, stride=2, padding=1), dict(size=10, kernel_size=3, stride=1, padding=2),
             dict(size=8, kernel_size=3, stride=3, padding=2)]
    for _ in range(n):
        k, s, p = int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
        cases.append(dict(size=int(rng.integers(max(1, k - 2 * p), 40)), kernel_size=k, stride=s, padding=p))
    return cases


def rf_cases(rng: np.random.Generator, n: int) -> list[Case]:
    cases = [dict(kernel_sizes=[3, 3, 3], strides=[1, 1, 1]), dict(kernel_sizes=[5, 2, 5, 2], strides=[1, 2, 1, 2])]
    for _ in range(n):
        depth = int(rng.integers(1, 6))
        cases.append(dict(kernel_sizes=[int(v) for v in rng.integers(1, 6, size=depth)],
                          strides=[int(v) for v in rng.integers(1, 4, size=depth)]))
    return cases


# ---------------------------------------------------------------- mutants: typical mistakes

def conv_mutants(case: Case) -> dict[str, Callable[[], Any]]:
    x, w, b = case["x"], case["w"], case.get("b")
    s, p = case.get("stride", 1), case.get("padding", 0)
    sh, sw = (s, s) if np.isscalar(s) else s
    ph, pw = (p, p) if np.isscalar(p) else p

    def one_sided(top: bool) -> np.ndarray:
        pads = ((0, 0), (0, 0), (ph, 0), (pw, 0)) if top else ((0, 0), (0, 0), (0, ph), (0, pw))
        return ref.conv2d(np.pad(x, pads), w, b, stride=(sh, sw))

    # Most specific first: the first mutant that reproduces the output is reported.
    m = {
        "kernel flipped: you computed a true convolution; conv2d must compute cross-correlation "
        "like PyTorch, so do not reverse w": lambda: ref.conv2d(x, w[:, :, ::-1, ::-1], b, (sh, sw), (ph, pw)),
        "padding on one side only: pad the top AND bottom (left AND right) by padding each":
            lambda: one_sided(True),
        "padding on one side only (bottom/right): pad both sides by padding each": lambda: one_sided(False),
        "padding ignored: zero-pad x by padding on each side before sliding the filter":
            lambda: ref.conv2d(x, w, b, (sh, sw), 0),
        "stride applied to the height axis only: use stride[1] for the width":
            lambda: ref.conv2d(x, w, b, (sh, 1), (ph, pw)),
        "stride applied to the width axis only: use stride[0] for the height":
            lambda: ref.conv2d(x, w, b, (1, sw), (ph, pw)),
        "stride ignored: move the window by stride, not by 1": lambda: ref.conv2d(x, w, b, 1, (ph, pw)),
        "height and width of stride swapped": lambda: ref.conv2d(x, w, b, (sw, sh), (ph, pw)),
        "height and width of padding swapped": lambda: ref.conv2d(x, w, b, (sh, sw), (pw, ph)),
        "only the first input channel is used: sum the products over all C input channels":
            lambda: ref.conv2d(x[:, :1], w[:, :1], b, (sh, sw), (ph, pw)),
    }
    if b is not None:
        m["bias missing: add b[f] to every value of output channel f"] = lambda: ref.conv2d(x, w, None, (sh, sw), (ph, pw))
        m["bias added once per input channel: add b[f] once, after summing over channels"] = (
            lambda: ref.conv2d(x, w, None, (sh, sw), (ph, pw)) + x.shape[1] * b[None, :, None, None])
    return m


def image_mutants(case: Case, flip: bool) -> dict[str, Callable[[], Any]]:
    image, kernel = case["image"], case["kernel"]
    right = ref.convolve2d if flip else ref.corr2d
    other = ref.corr2d if flip else ref.convolve2d
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    m = {
        ("kernel not flipped: convolution reverses the kernel on both axes before sliding it"
         if flip else
         "kernel flipped: this is cross-correlation, the kernel slides as it is, unreversed"): lambda: other(image, kernel),
        "'full' output instead of 'valid': do not pad the image, keep only positions where the kernel fits":
            lambda: right(padded, kernel),
    }
    if flip:
        m["kernel flipped on one axis only: reverse both rows and columns"] = lambda: ref.corr2d(image, kernel[::-1])
        m["kernel flipped on one axis only: reverse both rows and columns "] = lambda: ref.corr2d(image, kernel[:, ::-1])
    return m


def pad_mutants(case: Case) -> dict[str, Callable[[], Any]]:
    x, p = case["x"], case["padding"]
    ph, pw = (p, p) if np.isscalar(p) else p
    return {
        "padding on one side only: add padding zeros before AND after each spatial axis":
            lambda: np.pad(x, ((0, 0), (0, 0), (ph, 0), (pw, 0))),
        "padding on one side only (after): add padding zeros before AND after each spatial axis":
            lambda: np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw))),
        "height and width padding swapped: padding is (ph, pw) for (H, W)": lambda: ref.pad2d(x, (pw, ph)),
        "batch or channel axis padded: pad only the last two axes (H, W)":
            lambda: np.pad(x, ((ph, ph), (pw, pw), (0, 0), (0, 0))),
    }


def size_mutants(case: Case) -> dict[str, Callable[[], Any]]:
    n, k, s, p = case["size"], case["kernel_size"], case["stride"], case["padding"]
    return {
        "off by one: the first window position counts too, add 1": lambda: (n + 2 * p - k) // s,
        "off by one: there is no '+ 1' inside the floor, it comes after dividing": lambda: (n + 2 * p - k + 1) // s,
        "padding counted once: padding zeros are added on both sides": lambda: (n + p - k) // s + 1,
        "rounded up: a window that does not fit entirely is dropped, round down":
            lambda: -((n + 2 * p - k) // -s) + 1,
        "stride ignored": lambda: n + 2 * p - k + 1,
    }


def rf_mutants(case: Case) -> dict[str, Callable[[], Any]]:
    ks, ss = case["kernel_sizes"], case["strides"]
    grown = [1]
    for i, k in enumerate(ks):  # each layer uses the product of strides including its own
        grown.append(grown[-1] + (k - 1) * int(np.prod(ss[: i + 1])))
    return {
        "strides ignored: a stride s multiplies the step of every later layer by s":
            lambda: 1 + sum(k - 1 for k in ks),
        "stride counted one layer too early: layer l is widened by the product of the strides BEFORE it":
            lambda: grown[-1],
        "kernel sizes added: each layer adds k - 1, not k": lambda: sum(ks),
    }




# ---------------------------------------------------------------- chapter 3: activations

def _values(rng: np.random.Generator, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
    """Normal values with a few exact zeros (where derivatives have their corner cases)."""
    x = rng.standard_normal(shape) * rng.choice([0.5, 3.0])
    x.flat[:: max(1, x.size // 3)] = 0.0
    return x.astype(dtype)


def elementwise_cases(rng: np.random.Generator, n: int, backward: bool = False, slope: bool = False) -> list[Case]:
    xs = [np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0]), _values(rng, (2, 3, 4, 5), np.float32)]
    for _ in range(n):
        xs.append(_values(rng, tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 5))))))
    cases = []
    for i, x in enumerate(xs):
        case: Case = {"dout": rng.standard_normal(x.shape).astype(x.dtype)} if backward else {}
        case["x"] = x
        if slope and i % 2:
            case["negative_slope"] = float(rng.choice([0.1, 0.2, 0.3]))
        cases.append(case)
    return cases


def relu_mutants(case: Case) -> Mutants:
    x = case["x"]
    return {"negative values kept: relu sets every negative value to 0": lambda: x.copy(),
            "maximum and minimum confused: relu keeps the positive values": lambda: np.minimum(x, 0)}


def leaky_relu_mutants(case: Case) -> Mutants:
    x, a = case["x"], case.get("negative_slope", 0.01)
    return {"negative values set to 0: leaky_relu multiplies them by negative_slope": lambda: ref.relu(x),
            "slope applied to the positive side: x > 0 stays x, x <= 0 becomes negative_slope * x":
                lambda: np.where(x > 0, a * x, x),
            "negative_slope ignored: use the argument, not 0.01": lambda: ref.leaky_relu(x, 0.01)}


def sigmoid_mutants(case: Case) -> Mutants:
    x = case["x"]
    return {"sign flipped: sigmoid(x) = 1 / (1 + exp(-x))": lambda: ref.sigmoid(-x),
            "tanh instead of sigmoid": lambda: ref.tanh(x)}


def tanh_mutants(case: Case) -> Mutants:
    x = case["x"]
    return {"sigmoid instead of tanh": lambda: ref.sigmoid(x)}


def relu_backward_mutants(case: Case) -> Mutants:
    dout, x = case["dout"], case["x"]
    return {"gradient passed where x <= 0 too: relu's derivative is 0 there": lambda: dout.copy(),
            "the 0/1 mask returned without multiplying by dout (chain rule)": lambda: (x > 0).astype(float),
            "gradient at x == 0 must be 0, as in PyTorch: use x > 0, not x >= 0": lambda: dout * (x >= 0),
            "forward output returned: backward returns the gradient dout * relu'(x)": lambda: ref.relu(x)}


def leaky_relu_backward_mutants(case: Case) -> Mutants:
    dout, x, a = case["dout"], case["x"], case.get("negative_slope", 0.01)
    return {"negative side not scaled: where x <= 0 the gradient is negative_slope * dout":
                lambda: ref.relu_backward(dout, x),
            "gradient at x == 0: PyTorch uses the negative side's slope there": lambda: np.where(x >= 0, dout, a * dout),
            "negative_slope ignored: use the argument, not 0.01": lambda: ref.leaky_relu_backward(dout, x, 0.01)}


def sigmoid_backward_mutants(case: Case) -> Mutants:
    dout, x = case["dout"], case["x"]
    s = ref.sigmoid(x)
    return {"sigmoid(x) used as its own derivative: the derivative is s * (1 - s)": lambda: dout * s,
            "dout forgotten: multiply the local derivative by dout (chain rule)": lambda: s * (1 - s),
            "derivative taken at sigmoid(x) instead of x": lambda: dout * ref.sigmoid(s) * (1 - ref.sigmoid(s))}


def tanh_backward_mutants(case: Case) -> Mutants:
    dout, x = case["dout"], case["x"]
    t = ref.tanh(x)
    return {"the derivative of tanh is 1 - tanh(x)**2, not 1 - tanh(x)": lambda: dout * (1 - t),
            "dout forgotten: multiply the local derivative by dout (chain rule)": lambda: 1 - t * t,
            "derivative 1 - x**2 evaluated at x instead of at tanh(x)": lambda: dout * (1 - x * x)}


# ---------------------------------------------------------------- chapter 4: pooling

def pool_cases(rng: np.random.Generator, n: int, backward: bool = False) -> list[Case]:
    cases: list[Case] = [
        dict(x=rng.permutation(16).astype(float).reshape(1, 1, 4, 4), kernel_size=2),  # the seeds' 4x4 -> 2x2
        dict(x=rng.standard_normal((2, 3, 7, 6)), kernel_size=3, stride=1),  # overlapping windows
        dict(x=rng.integers(0, 3, (2, 2, 6, 7)).astype(float), kernel_size=3, stride=1),  # overlapping ties
        dict(x=rng.integers(0, 2, (1, 2, 6, 6)).astype(float), kernel_size=2),  # ties
        dict(x=rng.standard_normal((1, 2, 7, 9)).astype(np.float32), kernel_size=(2, 3), stride=(1, 2)),
    ]
    for _ in range(n):
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        h, w = int(rng.integers(kh, 10)), int(rng.integers(kw, 10))
        case: Case = dict(x=rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 4)), h, w)),
                          kernel_size=(kh, kw) if kh != kw else kh)
        if rng.random() < 0.7:
            s = tuple(int(v) for v in rng.integers(1, 4, size=2))
            case["stride"] = s if s[0] != s[1] else s[0]
        cases.append(case)
    if backward:  # the upstream gradient comes first, as in the backward functions' signatures
        cases = [{"dout": rng.standard_normal(ref.max_pool2d(c["x"], c["kernel_size"], c.get("stride")).shape)
                  .astype(c["x"].dtype), **c} for c in cases]
    return cases


def _pool_args(case: Case) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    k = case["kernel_size"]
    k = (k, k) if np.isscalar(k) else tuple(k)
    s = case.get("stride")
    s = k if s is None else ((s, s) if np.isscalar(s) else tuple(s))
    return case["x"], k, s


def max_pool_mutants(case: Case) -> Mutants:
    x, k, s = _pool_args(case)
    return {"stride ignored: windows move by stride (by kernel_size when stride is None), not by 1":
                lambda: ref.max_pool2d(x, k, 1),
            "height and width of kernel_size swapped": lambda: ref.max_pool2d(x, k[::-1], s[::-1]),
            "average instead of maximum": lambda: ref.avg_pool2d(x, k, s),
            "minimum instead of maximum": lambda: -ref.max_pool2d(-x, k, s)}


def avg_pool_mutants(case: Case) -> Mutants:
    x, k, s = _pool_args(case)
    return {"sum instead of mean: divide each window's sum by KH*KW": lambda: ref.avg_pool2d(x, k, s) * (k[0] * k[1]),
            "stride ignored: windows move by stride (by kernel_size when stride is None), not by 1":
                lambda: ref.avg_pool2d(x, k, 1),
            "height and width of kernel_size swapped": lambda: ref.avg_pool2d(x, k[::-1], s[::-1]),
            "maximum instead of average": lambda: ref.max_pool2d(x, k, s)}


def _all_maxima_backward(dout: np.ndarray, x: np.ndarray, k: tuple[int, int], s: tuple[int, int]) -> np.ndarray:
    """Max-pool gradient given to EVERY maximum of a window (the tie mistake), via unfold/fold."""
    xt, n, c = torch.tensor(x, dtype=torch.float64), x.shape[0], x.shape[1]
    cols = F.unfold(xt, k, stride=s).view(n, c, k[0] * k[1], -1)
    mask = (cols == cols.max(dim=2, keepdim=True).values).double()
    d = torch.tensor(np.asarray(dout, dtype=np.float64)).view(n, c, 1, -1)
    return F.fold((mask * d).view(n, c * k[0] * k[1], -1), x.shape[2:], k, stride=s).numpy()


def max_pool_backward_mutants(case: Case) -> Mutants:
    dout, (x, k, s) = case["dout"], _pool_args(case)
    return {"every tied maximum got the gradient: PyTorch gives it to the FIRST maximum of the window "
            "(row-major order) only": lambda: _all_maxima_backward(dout, x, k, s),
            "gradient spread over the window like average pooling: max pooling routes it to the maximum":
                lambda: ref.avg_pool2d_backward(dout, x, k, s) * (k[0] * k[1]),
            "forward output returned instead of the gradient": lambda: ref.max_pool2d(x, k, s)}


def avg_pool_backward_mutants(case: Case) -> Mutants:
    dout, (x, k, s) = case["dout"], _pool_args(case)
    return {"not divided by KH*KW: each pixel gets dout / (KH*KW) from each window it is in":
                lambda: ref.avg_pool2d_backward(dout, x, k, s) * (k[0] * k[1])}


# ---------------------------------------------------------------- chapter 5: dense layers, softmax, loss

def linear_cases(rng: np.random.Generator, n: int, backward: bool = False) -> list[Case]:
    shapes = [(4, 3, 3), (1, 5, 2), (3, 2, 6)]  # (N, in, out): square w, a batch of 1, in < out
    shapes += [tuple(int(v) for v in rng.integers(1, 8, size=3)) for _ in range(n)]
    cases = []
    for i, (N, fin, fout) in enumerate(shapes):
        dtype = np.float32 if i == 1 else np.float64
        case: Case = {"dout": rng.standard_normal((N, fout)).astype(dtype)} if backward else {}
        case.update(x=rng.standard_normal((N, fin)).astype(dtype), w=rng.standard_normal((fout, fin)).astype(dtype))
        if not backward:
            case["b"] = rng.standard_normal(fout).astype(dtype) if i % 4 != 3 else None
        cases.append(case)
    return cases


def linear_mutants(case: Case) -> Mutants:
    x, w, b = case["x"], case["w"], case.get("b")
    m = {"w not transposed: w is (out_features, in_features), so y = x @ w.T + b": lambda: ref.linear(x, w.T, b)}
    if b is not None:
        m["bias missing: add b to every row"] = lambda: ref.linear(x, w, None)
    return m


def linear_backward_mutants(case: Case) -> Mutants:
    dout, x, w = case["dout"], case["x"], case["w"]
    dx, dw, db = ref.linear_backward(dout, x, w)
    n = x.shape[0]
    return {"averaged over the batch: dw and db SUM the contributions of the N examples": lambda: (dx, dw / n, db / n),
            "db averaged over the batch instead of summed": lambda: (dx, dw, db / n),
            "dw transposed: dw has w's shape (out, in) and equals dout.T @ x": lambda: (dx, dw.T, db),
            "dx used w transposed: dx = dout @ w, with w (out, in)": lambda: (dout @ w.T, dw, db)}


def softmax_cases(rng: np.random.Generator, n: int) -> list[Case]:
    cases: list[Case] = [dict(z=np.array([[1e4, -1e4, 0.0], [-1e4, -1e4 + 1, -1e4 + 2]])),  # overflow bait
                         dict(z=rng.standard_normal((2, 5)).astype(np.float32)),
                         dict(z=rng.standard_normal((3, 4)), axis=0),
                         dict(z=rng.standard_normal(6))]
    for _ in range(n):
        shape = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        case: Case = dict(z=rng.standard_normal(shape) * float(rng.choice([1.0, 30.0])))
        if rng.random() < 0.5:
            case["axis"] = int(rng.integers(-len(shape), len(shape)))
        cases.append(case)
    return cases


def softmax_mutants(case: Case) -> Mutants:
    z, axis = case["z"], case.get("axis", -1)
    other = 0 if z.ndim > 1 and axis in (-1, z.ndim - 1) else -1
    return {"normalized along the wrong axis: use the axis argument (default the last one)":
                lambda: ref.softmax(z, axis=other),
            "exponentials not normalized: divide by their sum along the axis":
                lambda: np.exp(z - z.max(axis=axis, keepdims=True))}


def log_softmax_mutants(case: Case) -> Mutants:
    z, axis = case["z"], case.get("axis", -1)
    other = 0 if z.ndim > 1 and axis in (-1, z.ndim - 1) else -1
    return {"softmax instead of log-softmax": lambda: ref.softmax(z, axis),
            "normalized along the wrong axis: use the axis argument (default the last one)":
                lambda: ref.log_softmax(z, axis=other)}


def cross_entropy_cases(rng: np.random.Generator, n: int, backward: bool = False) -> list[Case]:
    cases: list[Case] = [dict(logits=np.array([[1e4, -1e4, 0.0], [0.0, 0.0, 3e3]]), targets=np.array([1, 2])),
                         dict(logits=rng.standard_normal((1, 4)).astype(np.float32), targets=np.array([3], np.int32))]
    for _ in range(n):
        N, K = int(rng.integers(1, 7)), int(rng.integers(2, 8))
        cases.append(dict(logits=rng.standard_normal((N, K)) * float(rng.choice([1.0, 10.0])),
                          targets=rng.integers(0, K, size=N)))
    return cases


def cross_entropy_mutants(case: Case) -> Mutants:
    z, t = case["logits"], case["targets"]
    ce = ref.cross_entropy(z, t)
    return {"summed over the batch: cross_entropy is the MEAN over the N examples": lambda: ce * z.shape[0],
            "minus sign missing: the loss is -log p(target)": lambda: -ce,
            "softmax applied first: cross_entropy takes raw logits (it applies log-softmax itself)":
                lambda: ref.cross_entropy(ref.softmax(z), t)}


def cross_entropy_backward_mutants(case: Case) -> Mutants:
    z, t = case["logits"], case["targets"]
    g = ref.cross_entropy_backward(z, t)
    p = ref.softmax(z)
    return {"not divided by N: the loss is a mean over the batch, so is its gradient": lambda: g * z.shape[0],
            "one-hot target not subtracted: the gradient is (softmax - one_hot) / N": lambda: p / z.shape[0],
            "sign flipped: the gradient is softmax - one_hot, not one_hot - softmax": lambda: -g}


# ---------------------------------------------------------------- chapter 6: convolution backward

def conv_backward_cases(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for case in conv_cases(rng, n, True):
        out = ref.conv2d(case["x"], case["w"], None, case.get("stride", 1), case.get("padding", 0))
        new: Case = dict(dout=rng.standard_normal(out.shape).astype(case["x"].dtype), x=case["x"], w=case["w"])
        new.update({k: case[k] for k in ("stride", "padding") if k in case})
        cases.append(new)
    return cases


def conv_backward_mutants(case: Case) -> Mutants:
    dout, x, w = case["dout"], case["x"], case["w"]
    s, p = case.get("stride", 1), case.get("padding", 0)
    dx, dw, db = ref.conv2d_backward(dout, x, w, s, p)
    n = x.shape[0]
    return {
        "db averaged over the batch: sum dout over images and positions": lambda: (dx, dw, db / n),
        "dw of the first image only: accumulate dw over every image of the batch":
            lambda: (dx, ref.conv2d_backward(dout[:1], x[:1], w, s, p)[1], db),
        "dw averaged over the batch instead of summed": lambda: (dx, dw / n, db),
        "dx computed with the kernel not flipped: dx is a FULL convolution of dout with w":
            lambda: (ref.conv2d_backward(dout, x, np.ascontiguousarray(w[:, :, ::-1, ::-1]), s, p)[0], dw, db),
    }


# ---------------------------------------------------------------- chapter 7: optimizers and dropout

def _opt_arrays(rng: np.random.Generator, i: int, names: tuple[str, ...], positive: tuple[str, ...] = ()) -> Case:
    shape = [(3, 4), (5,), (2, 3, 2, 2), (1,)][i % 4] if i < 4 else tuple(int(v) for v in rng.integers(1, 5, size=int(rng.integers(1, 4))))
    dtype = np.float32 if i == 1 else np.float64
    case: Case = {}
    for name in names:
        a = rng.standard_normal(shape)
        case[name] = (np.abs(a) * 0.1 if name in positive else a).astype(dtype)
    return case


def sgd_cases(rng: np.random.Generator, n: int) -> list[Case]:
    # fixed: plain SGD, momentum, momentum + weight decay, Nesterov; then random settings
    fixed = [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.01, momentum=0.8, weight_decay=0.01),
             dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.001)]
    cases = []
    for i in range(len(fixed) + n):
        case = _opt_arrays(rng, i, ("param", "grad", "velocity"))
        if i < len(fixed):
            case.update(fixed[i])
        else:
            momentum = float(rng.choice([0.0, 0.5, 0.9]))
            case.update(lr=float(rng.uniform(0.001, 0.5)), momentum=momentum,
                        weight_decay=float(rng.choice([0.0, 0.01])), nesterov=bool(momentum and rng.random() < 0.5))
        if not case.get("momentum"):
            case["velocity"] = np.zeros_like(case["velocity"])
        cases.append(case)
    return cases


def sgd_mutants(case: Case) -> Mutants:
    p, g, v = case["param"], case["grad"], case["velocity"]
    lr, mom, wd, nest = case["lr"], case.get("momentum", 0.0), case.get("weight_decay", 0.0), case.get("nesterov", False)
    gg = g + wd * p
    vv = mom * v + lr * gg
    m: Mutants = {"learning rate inside the velocity: in torch's convention velocity = momentum * velocity + g, "
                  "and the step is lr * velocity": lambda: (p - vv, vv)}
    if mom:
        m["momentum ignored: velocity = momentum * velocity + g, and the step follows the velocity"] = \
            lambda: ref.sgd_step(p, g, v, lr, 0.0, wd)
        vd = mom * v + (1 - mom) * gg
        m["momentum applied wrongly: velocity = momentum * velocity + g (no (1 - momentum) factor on g)"] = \
            lambda: (p - lr * vd, vd)
    if nest:
        m["Nesterov ignored: with nesterov=True the step is lr * (g + momentum * velocity')"] = \
            lambda: ref.sgd_step(p, g, v, lr, mom, wd, False)
    if wd:
        m["weight decay missing: g = grad + weight_decay * param"] = lambda: ref.sgd_step(p, g, v, lr, mom, 0.0, nest)
    return m


def adam_cases(rng: np.random.Generator, n: int) -> list[Case]:
    fixed = [dict(t=1), dict(t=2, lr=0.01), dict(t=10, lr=0.001, beta1=0.8, beta2=0.99, weight_decay=0.01),
             dict(t=3, lr=0.1, eps=1e-3)]
    cases = []
    for i in range(len(fixed) + n):
        case = _opt_arrays(rng, i, ("param", "grad", "m", "v"), positive=("v",))
        case.update(fixed[i] if i < len(fixed) else
                    dict(t=int(rng.integers(1, 50)), lr=float(rng.uniform(1e-4, 0.1)),
                         beta1=float(rng.choice([0.9, 0.5])), beta2=float(rng.choice([0.999, 0.9])),
                         weight_decay=float(rng.choice([0.0, 0.05]))))
        if case["t"] == 1:
            case["m"], case["v"] = np.zeros_like(case["m"]), np.zeros_like(case["v"])
        cases.append(case)
    return cases


def adam_mutants(case: Case) -> Mutants:
    p, g, m_, v_, t = case["param"], case["grad"], case["m"], case["v"], case["t"]
    lr, b1, b2 = case.get("lr", 1e-3), case.get("beta1", 0.9), case.get("beta2", 0.999)
    eps, wd = case.get("eps", 1e-8), case.get("weight_decay", 0.0)
    _, m1, v1 = ref.adam_step(p, g, m_, v_, t, lr, b1, b2, eps, wd)
    mut: Mutants = {
        "bias correction missing: divide m by (1 - beta1**t) and v by (1 - beta2**t)":
            lambda: (p - lr * m1 / (np.sqrt(v1) + eps), m1, v1),
        "bias correction of m only: v needs its own (1 - beta2**t)":
            lambda: (p - lr * (m1 / (1 - b1 ** t)) / (np.sqrt(v1) + eps), m1, v1),
        "bias correction with the wrong step number: t counts from 1 at the first step":
            lambda: ref.adam_step(p, g, m_, v_, t + 1, lr, b1, b2, eps, wd),
        "eps inside the square root: the denominator is sqrt(v_hat) + eps":
            lambda: (p - lr * (m1 / (1 - b1 ** t)) / np.sqrt(v1 / (1 - b2 ** t) + eps), m1, v1),
        "betas swapped in the averages: m' = beta1 * m + (1 - beta1) * g, not (1 - beta1) * m + beta1 * g":
            lambda: _adam_swapped(p, g, m_, v_, t, lr, b1, b2, eps, wd),
    }
    if wd:
        mut["weight decay missing: g = grad + weight_decay * param"] = \
            lambda: ref.adam_step(p, g, m_, v_, t, lr, b1, b2, eps, 0.0)
    return mut


def _adam_swapped(p, g, m, v, t, lr, b1, b2, eps, wd):
    gg = g + wd * p
    m1, v1 = (1 - b1) * m + b1 * gg, (1 - b2) * v + b2 * gg * gg
    return p - lr * (m1 / (1 - b1 ** t)) / (np.sqrt(v1 / (1 - b2 ** t)) + eps), m1, v1


def rmsprop_cases(rng: np.random.Generator, n: int) -> list[Case]:
    fixed = [dict(), dict(lr=0.001, alpha=0.9), dict(lr=0.01, eps=1e-2, weight_decay=0.01)]
    cases = []
    for i in range(len(fixed) + n):
        case = _opt_arrays(rng, i, ("param", "grad", "square_avg"), positive=("square_avg",))
        case.update(fixed[i] if i < len(fixed) else
                    dict(lr=float(rng.uniform(1e-4, 0.05)), alpha=float(rng.choice([0.99, 0.9, 0.5])),
                         weight_decay=float(rng.choice([0.0, 0.05]))))
        cases.append(case)
    return cases


def rmsprop_mutants(case: Case) -> Mutants:
    p, g, sq = case["param"], case["grad"], case["square_avg"]
    lr, alpha, eps, wd = case.get("lr", 1e-2), case.get("alpha", 0.99), case.get("eps", 1e-8), case.get("weight_decay", 0.0)
    _, sq1 = ref.rmsprop_step(p, g, sq, lr, alpha, eps, wd)
    gg = g + wd * p
    sq_sw = (1 - alpha) * sq + alpha * gg * gg
    m: Mutants = {
        "eps inside the square root: the denominator is sqrt(square_avg') + eps":
            lambda: (p - lr * gg / np.sqrt(sq1 + eps), sq1),
        "alpha on the wrong term: square_avg' = alpha * square_avg + (1 - alpha) * g**2":
            lambda: (p - lr * gg / (np.sqrt(sq_sw) + eps), sq_sw),
        "old average used: divide by sqrt of the UPDATED square_avg'":
            lambda: (p - lr * gg / (np.sqrt(sq) + eps), sq1),
    }
    if wd:
        m["weight decay missing: g = grad + weight_decay * param"] = lambda: ref.rmsprop_step(p, g, sq, lr, alpha, eps, 0.0)
    return m


def adadelta_cases(rng: np.random.Generator, n: int) -> list[Case]:
    fixed = [dict(), dict(lr=0.5, rho=0.95), dict(eps=1e-3, weight_decay=0.01)]
    cases = []
    for i in range(len(fixed) + n):
        case = _opt_arrays(rng, i, ("param", "grad", "square_avg", "acc_delta"), positive=("square_avg", "acc_delta"))
        case.update(fixed[i] if i < len(fixed) else
                    dict(lr=float(rng.uniform(0.1, 1.0)), rho=float(rng.choice([0.9, 0.95, 0.5])),
                         weight_decay=float(rng.choice([0.0, 0.05]))))
        cases.append(case)
    return cases


def adadelta_mutants(case: Case) -> Mutants:
    p, g, sq, acc = case["param"], case["grad"], case["square_avg"], case["acc_delta"]
    lr, rho, eps, wd = case.get("lr", 1.0), case.get("rho", 0.9), case.get("eps", 1e-6), case.get("weight_decay", 0.0)
    gg = g + wd * p
    sq1 = rho * sq + (1 - rho) * gg * gg
    m: Mutants = {
        "eps outside the square roots: delta = sqrt(acc_delta + eps) / sqrt(square_avg' + eps) * g":
            lambda: _adadelta_eps_outside(p, gg, sq1, acc, lr, rho, eps),
        "learning rate ignored: new_param = param - lr * delta":
            lambda: ref.adadelta_step(p, g, sq, acc, 1.0, rho, eps, wd),
        "old average of squared gradients used: compute square_avg' first":
            lambda: _adadelta_old_sq(p, gg, sq, sq1, acc, lr, rho, eps),
    }
    if wd:
        m["weight decay missing: g = grad + weight_decay * param"] = \
            lambda: ref.adadelta_step(p, g, sq, acc, lr, rho, eps, 0.0)
    return m


def _adadelta_eps_outside(p, g, sq1, acc, lr, rho, eps):
    delta = (np.sqrt(acc) + eps) / (np.sqrt(sq1) + eps) * g
    return p - lr * delta, sq1, rho * acc + (1 - rho) * delta * delta


def _adadelta_old_sq(p, g, sq, sq1, acc, lr, rho, eps):
    delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
    return p - lr * delta, sq1, rho * acc + (1 - rho) * delta * delta


def dropout_cases(rng: np.random.Generator, n: int, backward: bool = False) -> list[Case]:
    cases = []
    shapes = [(4, 5), (2, 3, 4, 4), (7,)] + [tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 5))))
                                           for _ in range(n)]
    ps = [0.5, 0.25, 0.0] + [float(rng.choice([0.1, 0.3, 0.5, 0.8])) for _ in range(n)]
    for i, (shape, p) in enumerate(zip(shapes, ps)):
        dtype = np.float32 if i == 1 else np.float64
        case: Case = {"dout" if backward else "x": rng.standard_normal(shape).astype(dtype), "p": p,
                      "u": rng.random(shape).astype(dtype)}
        cases.append(case)
    return cases


def dropout_mutants(case: Case) -> Mutants:
    x, p, u = case["x"], case["p"], case["u"]
    keep = u >= p
    m: Mutants = {"not rescaled: divide the kept values by (1 - p) (inverted dropout), so the expected output equals x":
                  lambda: x * keep,
                  "kept where u < p: a value is DROPPED with probability p, so keep it where u >= p":
                  lambda: x * (u < p) / (1 - p)}
    if p > 0:
        m["divided by p instead of (1 - p)"] = lambda: x * keep / p
    m.update({"multiplied by (1 - p) instead of divided": lambda: x * keep * (1 - p),
              "nothing dropped: zero the values where u < p": lambda: x / (1 - p)})
    return m


def dropout_backward_mutants(case: Case) -> Mutants:
    d, p, u = case["dout"], case["p"], case["u"]
    keep = u >= p
    return {"not rescaled: the gradient goes through the same 1 / (1 - p) scaling as the forward pass":
                lambda: d * keep,
            "mask not applied: dropped values get no gradient": lambda: d / (1 - p),
            "kept where u < p: use the forward pass's mask, u >= p": lambda: d * (u < p) / (1 - p)}

# ---------------------------------------------------------------- chapter 8: architectures

def residual_cases(rng: np.random.Generator, n: int, backward: bool = False) -> list[Case]:
    """Residual blocks: batch of 1 to 3, 1 to 4 channels, non-square maps, K in {1, 3, 5}, biases or None."""
    shapes = [(1, 3, 5, 6, 3), (2, 2, 4, 3, 1), (1, 1, 1, 1, 3), (2, 4, 6, 5, 5)]  # fixed: every mutant shows
    for _ in range(n):
        shapes.append((int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 8)),
                       int(rng.integers(1, 8)), int(rng.choice([1, 3, 3, 5]))))
    cases = []
    for i, (N, C, H, W, K) in enumerate(shapes):
        dtype = np.float32 if i == 1 else np.float64
        scale = 1.0 / np.sqrt(C * K * K)  # keeps both ReLUs about half open
        case: Case = dict(x=rng.standard_normal((N, C, H, W)).astype(dtype),
                          w1=(scale * rng.standard_normal((C, C, K, K))).astype(dtype),
                          b1=(0.1 * rng.standard_normal(C)).astype(dtype) if i % 4 != 3 else None,
                          w2=(scale * rng.standard_normal((C, C, K, K))).astype(dtype),
                          b2=(0.1 * rng.standard_normal(C)).astype(dtype) if i % 5 != 4 else None)
        if backward:
            case = dict(dout=rng.standard_normal((N, C, H, W)).astype(dtype), **case)
        cases.append(case)
    return cases


def _residual_args(case: Case) -> tuple[np.ndarray, ...]:
    return tuple(case[k] for k in ("x", "w1", "b1", "w2", "b2"))


def residual_mutants(case: Case) -> Mutants:
    t = tuple(None if a is None else ref.tensor(a) for a in _residual_args(case))

    def run(**mistake):
        return lambda: ref.numpy(ref._residual_torch(*t, **mistake))

    return {
        "skip added after the last ReLU: add x to the second convolution's output, THEN apply ReLU":
            run(skip_after_relu=True),
        "skip connection missing: add x to the second convolution's output before the last ReLU": run(skip=False),
        "last ReLU missing: the block returns relu(conv2(...) + x)": run(final_relu=False),
        "ReLU between the two convolutions missing: relu(conv1(x)) feeds conv2": run(inner_relu=False),
    }


def residual_backward_mutants(case: Case) -> Mutants:
    args = _residual_args(case)
    dout = case["dout"]
    dx, dw1, db1, dw2, db2 = ref.residual_block_backward(dout, *args)
    x, w1, b1, w2, b2 = args
    p = w1.shape[-1] // 2
    s = ref.conv2d(ref.relu(ref.conv2d(x, w1, b1, padding=p)), w2, b2, padding=p) + x
    ds = dout * (s > 0)
    return {
        "gradient of the skip path forgotten: x reaches the output twice (through the convolutions and "
        "directly), so dx adds the gradient at the sum, relu_backward(dout, s), to the convolutions' dx":
            lambda: (dx - ds, dw1, db1, dw2, db2),
        "skip path's gradient not masked by the last ReLU: add relu_backward(dout, s) to dx, not dout":
            lambda: (dx - ds + dout, dw1, db1, dw2, db2),
        "last ReLU's mask not applied: start from ds = relu_backward(dout, s) with s = conv2(h) + x":
            lambda: ref.residual_block_backward(dout, *args, final_relu=False),
        "backward of a block with the skip added after the last ReLU: the skip comes BEFORE the ReLU":
            lambda: ref.residual_block_backward(dout, *args, skip_after_relu=True),
        "backward of the inner ReLU missing: pass dh through relu_backward at conv1's output":
            lambda: ref.residual_block_backward(dout, *args, inner_relu=False),
    }


def param_cases(rng: np.random.Generator, n: int, separable: bool = False) -> list[Case]:
    """Layer sizes: fixed MobileNet/ShuffleNet-like ones, then random ones (groups dividing both)."""
    if separable:
        fixed = [dict(c_in=32, c_out=64, kernel_size=3, bias=True), dict(c_in=3, c_out=5, kernel_size=[5, 3], bias=True),
                 dict(c_in=16, c_out=8, kernel_size=3, bias=False), dict(c_in=1, c_out=1, kernel_size=1, bias=True)]
    else:
        fixed = [dict(c_in=3, c_out=32, kernel_size=3, groups=1, bias=True),
                 dict(c_in=240, c_out=60, kernel_size=1, groups=3, bias=False),
                 dict(c_in=32, c_out=32, kernel_size=3, groups=32, bias=True),
                 dict(c_in=6, c_out=4, kernel_size=[3, 5], groups=2, bias=True),
                 dict(c_in=8, c_out=12, kernel_size=3, groups=4, bias=True)]
    cases = list(fixed)
    for i in range(n):
        k: Any = int(rng.integers(1, 8)) if i % 3 else [int(v) for v in rng.integers(1, 8, size=2)]
        if separable:
            cases.append(dict(c_in=int(rng.integers(1, 65)), c_out=int(rng.integers(1, 129)), kernel_size=k,
                              bias=bool(i % 2)))
        else:
            g = int(rng.choice([1, 1, 2, 3, 4, 8]))
            cases.append(dict(c_in=g * int(rng.integers(1, 17)), c_out=g * int(rng.integers(1, 17)), kernel_size=k,
                              groups=g, bias=bool(i % 2)))
    return cases


def _khw(k: Any) -> tuple[int, int]:
    return (k, k) if np.isscalar(k) else (int(k[0]), int(k[1]))


def conv_params_mutants(case: Case) -> Mutants:
    ci, co, g, bias = case["c_in"], case["c_out"], case["groups"], case["bias"]
    kh, kw = _khw(case["kernel_size"])
    nb = co if bias else 0
    return {
        "groups ignored: each filter sees only c_in / groups input channels, so the weights are "
        "c_out * (c_in / groups) * KH * KW": lambda: co * ci * kh * kw + nb,
        "divided by groups twice: the weights are c_out * (c_in / groups) * KH * KW, not also / groups":
            lambda: co * (ci // g) * kh * kw // g + nb,
        "bias ignored: add c_out biases when bias is True": lambda: co * (ci // g) * kh * kw,
        "biases counted when bias is False": lambda: co * (ci // g) * kh * kw + co,
        "one bias per input channel: a filter has ONE bias (c_out in all)": lambda: co * (ci // g) * (kh * kw + 1),
        "kernel taken as KH x KH: multiply by KH * KW": lambda: co * (ci // g) * kh * kh + nb,
    }


def separable_params_mutants(case: Case) -> Mutants:
    ci, co, bias = case["c_in"], case["c_out"], case["bias"]
    kh, kw = _khw(case["kernel_size"])
    b = 1 if bias else 0
    return {
        "depthwise step counted as a full convolution: it has groups = c_in, one KH x KW filter per channel":
            lambda: ci * ci * kh * kw + b * ci + ci * co + b * co,
        "counted as ONE standard convolution c_in -> c_out: separable means depthwise, then pointwise 1x1":
            lambda: co * ci * kh * kw + b * co,
        "pointwise step missing: add the 1x1 convolution c_in -> c_out": lambda: ci * kh * kw + b * ci,
        "biases of the depthwise step forgotten: each of the two convolutions has its own biases":
            lambda: ci * kh * kw + ci * co + b * co,
        "biases of the pointwise step forgotten: each of the two convolutions has its own biases":
            lambda: ci * kh * kw + b * ci + ci * co,
        "biases counted when bias is False": lambda: ci * kh * kw + ci + ci * co + co,
    }

# ---------------------------------------------------------------- chapter 9: Grad-CAM

def gradcam_cases(rng: np.random.Generator, n: int) -> list[Case]:
    # Fixed: non-square maps whose weighted sum has both signs (separates every mutant), one float32.
    a = rng.standard_normal((3, 4, 5))
    g = rng.standard_normal((3, 4, 5)) + np.array([1.0, -0.5, 0.25])[:, None, None]
    cases: list[Case] = [dict(activations=a, gradients=g),
                         dict(activations=rng.standard_normal((4, 3, 2)).astype(np.float32),
                              gradients=rng.standard_normal((4, 3, 2)).astype(np.float32)),
                         dict(activations=np.abs(rng.standard_normal((2, 3, 3))),  # all negative weights: map of 0
                              gradients=-np.abs(rng.standard_normal((2, 3, 3))) - 0.1)]
    for _ in range(n):
        k, h, w = (int(v) for v in rng.integers(1, 8, size=3))
        cases.append(dict(activations=rng.standard_normal((k, h, w)) * 2,
                          gradients=rng.standard_normal((k, h, w)) + rng.standard_normal((k, 1, 1))))
    return cases


def gradcam_mutants(case: Case) -> Mutants:
    a, g = ref.tensor(case["activations"]), ref.tensor(case["gradients"])
    alpha = g.mean(dim=(1, 2), keepdim=True)
    return {"no ReLU at the end: Grad-CAM keeps only the positive part, ReLU(sum_k alpha_k A_k)":
                lambda: ref.numpy((alpha * a).sum(0)),
            "gradients summed over the positions instead of averaged: alpha_k is the MEAN of gradients[k]":
                lambda: ref.numpy(F.relu((g.sum(dim=(1, 2), keepdim=True) * a).sum(0))),
            "gradients averaged over the wrong axis: alpha_k averages gradients[k] over H and W (axes 1, 2)":
                lambda: ref.numpy(F.relu((g.mean(dim=0, keepdim=True) * a).sum(0))),
            "ReLU applied to each weighted map before the sum: apply it once, to the sum":
                lambda: ref.numpy(F.relu(alpha * a).sum(0)),
            "activations and gradients multiplied position by position: alpha_k is one number per map":
                lambda: ref.numpy(F.relu((g * a).sum(0)))}
