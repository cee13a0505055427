"""Argument checks shared by every cnnlib function.

Errors name the argument, what was expected and what was received, so that a student reading
the message knows which line of their call to fix.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

Pair = tuple[int, int]


def float_array(name: str, a: object, ndim: int | None = None) -> np.ndarray:
    """Return ``a`` if it is a floating NumPy array of ``ndim`` dimensions, else raise ValueError."""
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array, got {type(a).__name__}")
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(
            f"{name} must have a floating dtype (float32 or float64), got {a.dtype}; "
            f"convert with {name}.astype(np.float64)"
        )
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape} ({a.ndim} dimensions)")
    return a


def same_dtype(**arrays: np.ndarray | None) -> np.dtype:
    """Return the common dtype of the given arrays (None entries are skipped); raise if they differ."""
    given = {k: v for k, v in arrays.items() if v is not None}
    dtypes = {k: v.dtype for k, v in given.items()}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{k} is {d}" for k, d in dtypes.items())
        raise ValueError(f"arrays must share one floating dtype, but {listed}")
    return next(iter(dtypes.values()))


def same_shape(**arrays: object) -> tuple[np.ndarray, ...]:
    """Check that every argument is a floating array, all of one dtype and one shape.

    Used by backward functions whose upstream gradient has the input's shape (dout and x of an
    activation). Returns the arrays in the order given; raises ValueError naming each shape.
    """
    checked = {k: float_array(k, v) for k, v in arrays.items()}
    same_dtype(**checked)
    shapes = {k: v.shape for k, v in checked.items()}
    if len(set(shapes.values())) > 1:
        listed = " and ".join(f"{k} {s}" for k, s in shapes.items())
        raise ValueError(f"{listed} must have the same shape")
    return tuple(checked.values())


def as_pair(name: str, value: int | Sequence[int], minimum: int) -> Pair:
    """Turn an int or an (h, w) pair into a pair of ints, each at least ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{name} must be an int or a pair of ints (h, w), got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum} on each axis, got {value!r}")
    return pair


def layer_args(x: object, w: object, b: object, ndim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check a layer's input x, weights w and bias b (or None), as torch lays them out.

    ndim 4, a convolution: x (N, C, H, W), w (F, C, KH, KW), b (F,).
    ndim 2, a fully connected layer: x (N, in), w (out, in), b (out,).
    """
    x = float_array("x", x, ndim)
    w = float_array("w", w, ndim)
    if b is not None:
        b = float_array("b", b, 1)
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"b must have shape ({w.shape[0]},) to match w {w.shape}, got {b.shape}")
    same_dtype(x=x, w=w, b=b)
    if x.shape[1] != w.shape[1]:
        unit, layout = ("input channels", "(F, C, KH, KW)") if ndim == 4 else ("features", "(out, in)")
        raise ValueError(f"mismatch: x {x.shape} has {x.shape[1]} {unit} but w {w.shape} expects "
                         f"{w.shape[1]} (w is {layout}, as in PyTorch)")
    return x, w, b


def conv2d_args(
    x: object, w: object, b: object, stride: int | Sequence[int], padding: int | Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Pair, Pair]:
    """Check the arguments of a 2-D convolution; return them with stride and padding as pairs.

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,) or None.
    """
    x, w, b = layer_args(x, w, b, 4)
    s = as_pair("stride", stride, 1)
    p = as_pair("padding", padding, 0)
    if min(x.shape[1:]) < 1 or min(w.shape) < 1:
        raise ValueError(
            f"x {x.shape} and w {w.shape} must have at least one channel, filter, row and column "
            "(only the batch axis of x may be empty)"
        )
    window_fits(x.shape, w.shape[2:], p, f"w {w.shape}")
    return x, w, b, s, p


def window_fits(x_shape: tuple[int, ...], kernel: Pair, padding: Pair, what: str) -> None:
    """Raise ValueError, naming the shapes, unless a kernel fits the padded (N, C, H, W) input.

    kernel: (KH, KW); padding: (ph, pw) per side; what: how the kernel is named in the message,
    e.g. "w (4, 3, 5, 5)" or "kernel_size (5, 5)".
    """
    if min(x_shape[2:]) < 1:
        raise ValueError(f"x {x_shape} has an empty spatial axis; H and W must be at least 1")
    for axis, (n, k, pad) in enumerate(zip(x_shape[2:], kernel, padding)):
        if k > n + 2 * pad:
            which = "height" if axis == 0 else "width"
            raise ValueError(
                f"kernel {which} {k} ({what}) is larger than the padded input {which} "
                f"{n} + 2*{pad} = {n + 2 * pad} (x {x_shape})"
            )
