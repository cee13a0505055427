"""cnnlib.pool against PyTorch (cnnlib.reference: float64, GPU when present, TF32 off).

Property-based: hypothesis draws batches of 1 to 3, 1 to 3 channels, non-square inputs, kernels
and strides, stride None (= kernel_size), overlapping windows (stride < kernel), as ints, tuples
or lists. Half of the inputs hold small integers, so that windows have tied maxima: the gradient
must go to the FIRST maximum in row-major order, as PyTorch's CPU kernel does
(reference.max_pool2d_backward runs on the CPU for that reason).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import cnnlib
from cnnlib import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward
from cnnlib import reference as ref
from cnnlib.gradcheck import gradcheck
from functools import partial

from helpers import assert_close, with_examples

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


# ---------------------------------------------------------------- strategies and helpers

def _as_arg(draw, pair: tuple[int, int]):
    """(a, b) as an int when a == b and hypothesis wants it, else as a tuple or a list."""
    if pair[0] == pair[1] and draw(st.booleans()):
        return pair[0]
    return draw(st.sampled_from([tuple, list]))(pair)


@st.composite
def pool_configs(draw, max_n: int = 3, max_c: int = 3, max_hw: int = 10, max_k: int = 4):
    """A valid pooling problem in float64: dict(x, kernel_size, stride)."""
    n, c = draw(st.integers(1, max_n)), draw(st.integers(1, max_c))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    h, w = draw(st.integers(kh, max_hw)), draw(st.integers(kw, max_hw))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):  # integer values: many tied maxima
        x = rng.integers(-2, 3, (n, c, h, w)).astype(np.float64)
    else:
        x = rng.standard_normal((n, c, h, w))
    stride = None if draw(st.integers(0, 3)) == 0 else _as_arg(draw, (draw(st.integers(1, 4)), draw(st.integers(1, 4))))
    return dict(x=x, kernel_size=_as_arg(draw, (kh, kw)), stride=stride)


def _case(shape, kernel_size, stride=None, ties=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 2, shape).astype(np.float64) if ties else rng.standard_normal(shape)
    return dict(x=x, kernel_size=kernel_size, stride=stride)


# Cases hypothesis always runs: the overlapping windows, non-square kernels and strides, stride
# None and a batch of 1 that the course's checks cover, with and without ties.
FIXED = [
    _case((2, 3, 7, 8), 3, 1),  # overlapping, kernel 3 stride 1
    _case((2, 3, 7, 8), 3, 1, ties=True),
    _case((1, 2, 9, 7), 3, 2),  # overlapping, kernel 3 stride 2, N=1
    _case((1, 2, 9, 7), 3, 2, ties=True),
    _case((2, 1, 8, 9), (2, 3), (1, 2)),  # non-square kernel and stride
    _case((3, 2, 6, 5), (3, 1), [2, 1], ties=True),
    _case((1, 1, 4, 4), 2),  # the book's 4x4 -> 2x2, stride None
    _case((2, 2, 5, 7), 2, None, ties=True),  # stride None, odd sizes: the last row/column is dropped
    _case((1, 1, 5, 5), 5),  # one window covering the whole input
    _case((1, 1, 3, 3), 1),  # 1x1 windows: the identity
]

_assert_close = partial(assert_close, rtol=1e-12, atol=1e-12, dtype=np.float64)
_with_fixed = with_examples(FIXED)


def _dout(case, seed=1):
    out = ref.max_pool2d(case["x"], case["kernel_size"], case["stride"])
    return np.random.default_rng(seed).standard_normal(out.shape)


# ---------------------------------------------------------------- forward and backward against PyTorch

@settings(max_examples=200, deadline=None)
@_with_fixed
@given(pool_configs())
def test_max_pool2d_matches_torch(case):
    got = max_pool2d(**case)
    _assert_close(got, ref.max_pool2d(**case), "max_pool2d")
    assert got.flags.c_contiguous or got.size == 0


@settings(max_examples=200, deadline=None)
@_with_fixed
@given(pool_configs())
def test_avg_pool2d_matches_torch(case):
    _assert_close(avg_pool2d(**case), ref.avg_pool2d(**case), "avg_pool2d")


@settings(max_examples=200, deadline=None)
@_with_fixed
@given(pool_configs())
def test_max_pool2d_backward_matches_torch_with_ties(case):
    dout = _dout(case)
    got = max_pool2d_backward(dout, **case)
    want = ref.max_pool2d_backward(dout, **case)  # CPU: first maximum in row-major order
    _assert_close(got, want, "max_pool2d_backward")


@settings(max_examples=200, deadline=None)
@_with_fixed
@given(pool_configs())
def test_avg_pool2d_backward_matches_torch(case):
    dout = _dout(case)
    _assert_close(avg_pool2d_backward(dout, **case), ref.avg_pool2d_backward(dout, **case), "avg_pool2d_backward")


def test_stride_defaults_to_kernel_size():
    case = FIXED[7]
    x, k = case["x"], case["kernel_size"]
    np.testing.assert_array_equal(max_pool2d(x, k), max_pool2d(x, k, k))
    np.testing.assert_array_equal(avg_pool2d(x, k), avg_pool2d(x, k, (k, k)))
    dout = np.ones((2, 2, 2, 3))
    np.testing.assert_array_equal(max_pool2d_backward(dout, x, k), max_pool2d_backward(dout, x, k, k))
    np.testing.assert_array_equal(avg_pool2d_backward(dout, x, k), avg_pool2d_backward(dout, x, k, [k, k]))


def test_the_books_4x4_example():
    x = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [3, 1, 1, 2], [0, 2, 4, 3]], dtype=np.float64)[None, None]
    np.testing.assert_array_equal(max_pool2d(x, 2)[0, 0], [[6, 5], [3, 4]])
    np.testing.assert_array_equal(avg_pool2d(x, 2)[0, 0], [[3.5, 2.0], [1.5, 2.5]])


# ---------------------------------------------------------------- ties, spelled out

def test_ties_go_to_the_first_maximum_in_row_major_order():
    x = np.ones((1, 1, 4, 4))
    dx = max_pool2d_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), x, 2)
    want = np.array([[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]], dtype=np.float64)
    np.testing.assert_array_equal(dx[0, 0], want)
    np.testing.assert_array_equal(dx, ref.max_pool2d_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), x, 2))
    # a tie on the second row of a window, after a smaller first row: the left one of the two wins
    x = np.array([[0.0, 1.0], [5.0, 5.0]])[None, None]
    np.testing.assert_array_equal(max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)[0, 0], [[0, 0], [1, 0]])


def test_a_nan_is_the_maximum_and_takes_the_gradient_like_torch():
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    x[0, 0, 1, 0] = np.nan  # window (0, 0) holds a NaN; the overlapping 3x3 windows see it too
    x[0, 1, 2, 3] = np.nan
    for k, s in ((2, 2), (3, 1)):
        out = max_pool2d(x, k, s)
        np.testing.assert_array_equal(out, ref.max_pool2d(x, k, s))
        dout = np.arange(1.0, out.size + 1).reshape(out.shape)
        np.testing.assert_array_equal(max_pool2d_backward(dout, x, k, s), ref.max_pool2d_backward(dout, x, k, s))


def test_overlapping_windows_add_their_gradients():
    """3x3 windows, stride 1, on a constant input: every window picks its top-left pixel."""
    x = np.zeros((1, 1, 4, 5))
    dout = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)
    dx = max_pool2d_backward(dout, x, 3, 1)
    want = np.zeros((4, 5))
    want[:2, :3] = dout[0, 0]
    np.testing.assert_array_equal(dx[0, 0], want)
    # one big value shared by all windows collects all of dout
    x[0, 0, 1, 2] = 9.0
    dx = max_pool2d_backward(dout, x, 3, 1)
    assert dx[0, 0, 1, 2] == dout.sum() and np.count_nonzero(dx) == 1
    np.testing.assert_array_equal(dx, ref.max_pool2d_backward(dout, x, 3, 1))


def test_avg_pool2d_backward_spreads_evenly_and_overlaps_add():
    x = np.zeros((1, 1, 3, 3))
    dx = avg_pool2d_backward(np.full((1, 1, 2, 2), 4.0), x, 2, 1)
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# ---------------------------------------------------------------- dtypes

def _calls(dtype):
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, (2, 3, 7, 6)).astype(dtype)
    dout = rng.standard_normal((2, 3, 3, 2)).astype(dtype)
    return {
        "max_pool2d": lambda: max_pool2d(x, 3, 2),
        "avg_pool2d": lambda: avg_pool2d(x, 3, 2),
        "max_pool2d_backward": lambda: max_pool2d_backward(dout, x, 3, 2),
        "avg_pool2d_backward": lambda: avg_pool2d_backward(dout, x, 3, 2),
    }, {
        "max_pool2d": lambda: ref.max_pool2d(x, 3, 2),
        "avg_pool2d": lambda: ref.avg_pool2d(x, 3, 2),
        "max_pool2d_backward": lambda: ref.max_pool2d_backward(dout, x, 3, 2),
        "avg_pool2d_backward": lambda: ref.avg_pool2d_backward(dout, x, 3, 2),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(_calls(np.float64)[0]))
def test_output_dtype_follows_input(name, dtype):
    ours, theirs = _calls(dtype)
    out = ours[name]()
    assert isinstance(out, np.ndarray) and out.dtype == dtype, f"{name}: {out.dtype} for {np.dtype(dtype)} input"
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, theirs[name](), rtol=tol, atol=tol, err_msg=name)


def test_inputs_are_not_modified():
    case = FIXED[3]
    x0 = case["x"].copy()
    dout = _dout(case)
    d0 = dout.copy()
    for fn in (max_pool2d, avg_pool2d):
        fn(**case)
    for fn in (max_pool2d_backward, avg_pool2d_backward):
        fn(dout, **case)
    np.testing.assert_array_equal(case["x"], x0)
    np.testing.assert_array_equal(dout, d0)


def test_non_contiguous_input():
    x = np.random.default_rng(3).standard_normal((2, 6, 9, 8)).transpose(0, 1, 3, 2)[:, ::2]
    assert not x.flags.c_contiguous
    _assert_close(max_pool2d(x, 3, 2), ref.max_pool2d(x, 3, 2), "max_pool2d")
    dout = np.ones((2, 3, 3, 4))[..., ::-1]
    _assert_close(max_pool2d_backward(dout, x, 3, 2), ref.max_pool2d_backward(dout, x, 3, 2), "max_pool2d_backward")
    _assert_close(avg_pool2d_backward(dout, x, 3, 2), ref.avg_pool2d_backward(dout, x, 3, 2), "avg_pool2d_backward")


# ---------------------------------------------------------------- numerical gradient checks

@pytest.mark.parametrize("kernel_size, stride", [(2, None), (3, 1), (3, 2), ((2, 3), (1, 2)), ((3, 1), (2, 1))])
def test_max_pool2d_backward_passes_gradcheck(kernel_size, stride):
    # distinct values 0.1 apart: a step of 1e-6 never changes which entry is a window's maximum
    rng = np.random.default_rng(4)
    x = rng.permutation(2 * 2 * 6 * 7).reshape(2, 2, 6, 7) * 0.1
    dout = rng.standard_normal(max_pool2d(x, kernel_size, stride).shape)
    dx = max_pool2d_backward(dout, x, kernel_size, stride)
    result = gradcheck(lambda x: max_pool2d(x, kernel_size, stride), {"x": x}, {"x": dx}, dout)
    assert result["x"].passed, str(result["x"])


@pytest.mark.parametrize("kernel_size, stride", [(2, None), (3, 1), (3, 2), ((2, 3), (1, 2)), ((3, 1), (2, 1))])
def test_avg_pool2d_backward_passes_gradcheck(kernel_size, stride):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 2, 6, 7))
    dout = rng.standard_normal(avg_pool2d(x, kernel_size, stride).shape)
    dx = avg_pool2d_backward(dout, x, kernel_size, stride)
    result = gradcheck(lambda x: avg_pool2d(x, kernel_size, stride), {"x": x}, {"x": dx}, dout)
    assert result["x"].passed, str(result["x"])


# ---------------------------------------------------------------- bad input

FORWARD = [max_pool2d, avg_pool2d]
BACKWARD = [max_pool2d_backward, avg_pool2d_backward]
_X = np.ones((2, 3, 6, 5))

BAD = [
    # (id, args after x, exception message fragments)
    ("kernel taller than x", dict(x=np.ones((1, 2, 3, 8)), kernel_size=(4, 2)), ["height", "4", "3", "(1, 2, 3, 8)"]),
    ("kernel wider than x", dict(x=np.ones((1, 2, 8, 3)), kernel_size=5), ["width", "5", "(1, 2, 8, 3)"]),
    ("kernel 0", dict(x=_X, kernel_size=0), ["kernel_size", "0"]),
    ("negative kernel", dict(x=_X, kernel_size=(2, -1)), ["kernel_size", "(2, -1)"]),
    ("float kernel", dict(x=_X, kernel_size=2.0), ["kernel_size", "2.0"]),
    ("kernel of 3 numbers", dict(x=_X, kernel_size=(2, 2, 2)), ["kernel_size"]),
    ("stride 0", dict(x=_X, kernel_size=2, stride=0), ["stride", "0"]),
    ("stride pair with 0", dict(x=_X, kernel_size=2, stride=(0, 1)), ["stride", "(0, 1)"]),
    ("x 3-D", dict(x=np.ones((3, 6, 5)), kernel_size=2), ["x", "4 dimensions", "(3, 6, 5)"]),
    ("x 5-D", dict(x=np.ones((1, 2, 3, 6, 5)), kernel_size=2), ["x", "4 dimensions"]),
    ("x integer", dict(x=np.ones((1, 1, 4, 4), dtype=np.int64), kernel_size=2), ["x", "int64"]),
    ("x a list", dict(x=np.ones((1, 1, 4, 4)).tolist(), kernel_size=2), ["x", "list"]),
]


def _check_message(call, fragments):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} missing from: {info.value}"


@pytest.mark.parametrize("fn", FORWARD, ids=lambda f: f.__name__)
@pytest.mark.parametrize("args, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_forward_bad_arguments_name_the_problem(fn, args, fragments):
    _check_message(lambda: fn(**args), fragments)


@pytest.mark.parametrize("fn", BACKWARD, ids=lambda f: f.__name__)
@pytest.mark.parametrize("args, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_backward_bad_arguments_name_the_problem(fn, args, fragments):
    _check_message(lambda: fn(np.ones((1, 1, 1, 1)), **args), fragments)


@pytest.mark.parametrize("fn", BACKWARD, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dout_shape", [(2, 3, 3, 3), (2, 3, 2, 2), (1, 3, 3, 2), (2, 1, 3, 2), (2, 3, 1, 1),
                                        (3, 3, 2), (2, 3, 6)])
def test_backward_refuses_dout_of_another_shape(fn, dout_shape):
    """x (2, 3, 6, 5), 2x2 windows: dout must be (2, 3, 3, 2); (1, 3, 3, 2), (2, 1, 3, 2) and
    (2, 3, 1, 1) would broadcast, and are refused all the same."""
    with pytest.raises(ValueError) as info:
        fn(np.ones(dout_shape), _X, 2)
    assert str(dout_shape) in str(info.value), str(info.value)
    if len(dout_shape) == 4:
        assert "(2, 3, 3, 2)" in str(info.value), str(info.value)


@pytest.mark.parametrize("fn", BACKWARD, ids=lambda f: f.__name__)
def test_backward_refuses_mismatched_or_integer_dtypes(fn):
    dout = np.ones((2, 3, 3, 2))
    with pytest.raises(ValueError, match="float32.*float64|float64.*float32"):
        fn(dout.astype(np.float32), _X, 2)
    with pytest.raises(ValueError, match="float32.*float64|float64.*float32"):
        fn(dout, _X.astype(np.float32), 2)
    with pytest.raises(ValueError, match="dout.*int64"):
        fn(dout.astype(np.int64), _X, 2)


# ---------------------------------------------------------------- on a GPU

@pytest.mark.cuda
def test_reference_on_cuda_agrees_with_cnnlib():
    assert ref.DEVICE.type == "cuda"
    case = _case((4, 8, 17, 15), 3, (2, 1), seed=7)  # no ties: a CUDA kernel may break ties its own way
    _assert_close(max_pool2d(**case), ref.max_pool2d(**case), "max_pool2d")
    _assert_close(avg_pool2d(**case), ref.avg_pool2d(**case), "avg_pool2d")
    dout = _dout(case)
    _assert_close(avg_pool2d_backward(dout, **case), ref.avg_pool2d_backward(dout, **case), "avg_pool2d_backward")
    import torch
    import torch.nn.functional as F

    xt = ref.tensor(case["x"], True)
    F.max_pool2d(xt, case["kernel_size"], case["stride"]).backward(ref.tensor(dout))
    _assert_close(max_pool2d_backward(dout, **case), ref.numpy(xt.grad), "max_pool2d_backward vs cuda")
    assert xt.grad.device.type == "cuda" and torch.backends.cudnn.allow_tf32 is False


def test_public_names():
    assert {"max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward"} <= set(cnnlib.__all__)
