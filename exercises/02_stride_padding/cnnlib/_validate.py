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


def conv2d_args(
    x: object, w: object, b: object, stride: int | Sequence[int], padding: int | Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Pair, Pair]:
    """Check the arguments of a 2-D convolution; return them with stride and padding as pairs.

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,) or None.
    """
    x = float_array("x", x, 4)
    w = float_array("w", w, 4)
    if b is not None:
        b = float_array("b", b, 1)
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"b must have shape ({w.shape[0]},) to match w {w.shape}, got {b.shape}")
    same_dtype(x=x, w=w, b=b)
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"channel mismatch: x {x.shape} has C={x.shape[1]} input channels "
            f"but w {w.shape} expects C={w.shape[1]}"
        )
    s = as_pair("stride", stride, 1)
    p = as_pair("padding", padding, 0)
    for axis, (n, k, pad) in enumerate(zip(x.shape[2:], w.shape[2:], p)):
        if k > n + 2 * pad:
            which = "height" if axis == 0 else "width"
            raise ValueError(
                f"kernel {which} {k} (w {w.shape}) is larger than the padded input {which} "
                f"{n} + 2*{pad} = {n + 2 * pad} (x {x.shape})"
            )
    return x, w, b, s, p
