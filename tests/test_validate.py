"""cnnlib._validate: the argument checks every cnnlib function relies on."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlib._validate import as_pair, conv2d_args, float_array, same_dtype, same_shape, window_fits


def test_float_array_accepts_float32_and_float64_unchanged():
    for dtype in (np.float32, np.float64):
        a = np.zeros((2, 3), dtype)
        assert float_array("a", a, 2) is a  # no copy, no conversion


@pytest.mark.parametrize("value, fragment", [
    ([1.0, 2.0], "NumPy array, got list"),
    (3.0, "NumPy array, got float"),
    (np.arange(3), "floating dtype"),
    (np.ones(3, dtype=bool), "floating dtype"),
    (np.ones(3, dtype=np.complex64), "floating dtype"),
])
def test_float_array_refuses(value, fragment):
    with pytest.raises(ValueError) as info:
        float_array("a", value)
    assert fragment in str(info.value) and str(info.value).startswith("a ")


def test_float_array_names_the_shape_on_wrong_ndim():
    with pytest.raises(ValueError, match=r"x must have 4 dimensions, got shape \(2, 3\) \(2 dimensions\)"):
        float_array("x", np.zeros((2, 3)), 4)


def test_same_dtype():
    a32, b32, c64 = np.zeros(1, np.float32), np.zeros(2, np.float32), np.zeros(1, np.float64)
    assert same_dtype(a=a32, b=b32, c=None) == np.float32
    with pytest.raises(ValueError, match="a is float32, c is float64"):
        same_dtype(a=a32, c=c64)


@pytest.mark.parametrize("value, want", [
    (2, (2, 2)), ((1, 3), (1, 3)), ([0, 2], (0, 2)), (np.int64(3), (3, 3)), ((np.int32(1), 2), (1, 2)),
])
def test_as_pair_accepts(value, want):
    got = as_pair("stride", value, 0)
    assert got == want and all(type(v) is int for v in got)


@pytest.mark.parametrize("value, minimum, fragment", [
    (0, 1, ">= 1"), ((1, 0), 1, ">= 1"), (-1, 0, ">= 0"), ((1, 2, 3), 0, "pair"), ((1,), 0, "pair"),
    (1.0, 0, "int"), (True, 0, "int"), ((1, 2.0), 0, "pair"), ("2", 0, "int"), (None, 0, "int"),
    (np.array([1, 2]), 0, "pair"),
])
def test_as_pair_refuses(value, minimum, fragment):
    with pytest.raises(ValueError) as info:
        as_pair("stride", value, minimum)
    assert "stride" in str(info.value) and fragment in str(info.value)


def test_conv2d_args_returns_pairs_and_the_same_arrays():
    x, w, b = np.zeros((1, 2, 5, 6)), np.zeros((3, 2, 3, 3)), np.zeros(3)
    x2, w2, b2, s, p = conv2d_args(x, w, b, (2, 1), 1)
    assert x2 is x and w2 is w and b2 is b and s == (2, 1) and p == (1, 1)
    assert conv2d_args(x, w, None, 1, 0)[2] is None


def test_window_fits_names_shapes():
    window_fits((1, 1, 3, 3), (5, 5), (1, 1), "w (1, 1, 5, 5)")  # 5 <= 3 + 2: fits
    with pytest.raises(ValueError) as info:
        window_fits((1, 1, 3, 4), (2, 7), (0, 1), "w (1, 1, 2, 7)")
    msg = str(info.value)
    assert "width 7" in msg and "(1, 1, 2, 7)" in msg and "(1, 1, 3, 4)" in msg and "4 + 2*1 = 6" in msg


def test_same_shape():
    a, b = np.zeros((2, 3)), np.ones((2, 3))
    got = same_shape(dout=a, x=b)
    assert got[0] is a and got[1] is b
    with pytest.raises(ValueError, match=r"dout \(2, 3\) and x \(3, 2\) must have the same shape"):
        same_shape(dout=a, x=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="float32"):
        same_shape(dout=a, x=b.astype(np.float32))
    with pytest.raises(ValueError, match="floating dtype"):
        same_shape(dout=a, x=np.zeros((2, 3), dtype=int))
