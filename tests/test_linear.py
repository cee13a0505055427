"""cnnlib.linear (fully connected layers, flatten) against PyTorch.

cnnlib.reference computes in float64 on the GPU when present, TF32 off. Layouts as
torch.nn.Linear: x (N, in), w (out, in), b (out,). flatten is checked against torch.flatten(x, 1).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

import cnnlib
from cnnlib import flatten, flatten_backward, linear, linear_backward
from cnnlib import reference as ref
from cnnlib.gradcheck import gradcheck
from functools import partial

from helpers import assert_close, assert_value_error, with_examples

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


# ---------------------------------------------------------------- strategies and helpers

@st.composite
def linear_configs(draw, max_n: int = 5, max_features: int = 8):
    """A linear problem in float64: dict(x, w, b) with b None half of the time."""
    n = draw(st.integers(1, max_n))
    fin, fout = draw(st.integers(1, max_features)), draw(st.integers(1, max_features))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1.0, 1e-3, 1e3]))
    return dict(x=rng.standard_normal((n, fin)) * scale, w=rng.standard_normal((fout, fin)),
                b=rng.standard_normal(fout) if draw(st.booleans()) else None)


def _fixed(n, fin, fout, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    return dict(x=rng.standard_normal((n, fin)), w=rng.standard_normal((fout, fin)),
                b=rng.standard_normal(fout) if bias else None)


FIXED = [_fixed(1, 3, 5), _fixed(4, 7, 2, bias=False), _fixed(1, 1, 1), _fixed(3, 6, 6)]

_assert_close = partial(assert_close, rtol=1e-12)
_with_fixed = with_examples(FIXED)


# ---------------------------------------------------------------- linear against PyTorch

@settings(max_examples=200, deadline=None)
@_with_fixed
@given(linear_configs())
def test_linear_matches_torch(case):
    got = linear(**case)
    _assert_close(got, ref.linear(**case), "linear")
    assert got.dtype == np.float64


@settings(max_examples=200, deadline=None)
@_with_fixed
@given(linear_configs())
def test_linear_backward_matches_torch(case):
    x, w = case["x"], case["w"]
    dout = np.random.default_rng(1).standard_normal((x.shape[0], w.shape[0]))
    dx, dw, db = linear_backward(dout, x, w)
    rdx, rdw, rdb = ref.linear_backward(dout, x, w)
    _assert_close(dx, rdx, "dx")
    _assert_close(dw, rdw, "dw")
    _assert_close(db, rdb, "db")
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, (w.shape[0],))


def test_linear_default_is_no_bias():
    case = FIXED[0]
    np.testing.assert_array_equal(linear(case["x"], case["w"]), linear(case["x"], case["w"], None))
    _assert_close(linear(case["x"], case["w"]), ref.linear(case["x"], case["w"]), "linear(x, w)")


def test_gradients_sum_over_the_batch():
    """dw and db are sums over the batch, not means: a batch of two equal rows doubles them."""
    case = FIXED[0]
    x1, dout1 = case["x"], np.ones((1, 5))
    _, dw1, db1 = linear_backward(dout1, x1, case["w"])
    _, dw2, db2 = linear_backward(np.ones((2, 5)), np.repeat(x1, 2, axis=0), case["w"])
    np.testing.assert_allclose(dw2, 2 * dw1)
    np.testing.assert_allclose(db2, 2 * db1)


# ---------------------------------------------------------------- flatten against PyTorch

@settings(max_examples=200, deadline=None)
@example(shape=(1, 1), seed=0)
@example(shape=(1, 16, 4, 4), seed=0)
@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=5).map(tuple), seed=st.integers(0, 2**32 - 1))
def test_flatten_and_backward_match_torch(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    xt = ref.tensor(x, True)
    yt = torch.flatten(xt, 1)
    got = flatten(x)
    _assert_close(got, ref.numpy(yt), "flatten")
    dout = rng.standard_normal(got.shape)
    yt.backward(ref.tensor(dout))
    _assert_close(flatten_backward(dout, x), ref.numpy(xt.grad), "flatten_backward")


def test_flatten_is_c_order_like_torch():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(flatten(x)[1], np.arange(12.0, 24.0))


# ---------------------------------------------------------------- dtypes

def _calls(dtype):
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in [(3, 4), (5, 4), (5,)])
    dout = rng.standard_normal((3, 5)).astype(dtype)
    x4 = rng.standard_normal((3, 2, 2, 2)).astype(dtype)
    d4 = rng.standard_normal((3, 8)).astype(dtype)
    return {
        "linear": lambda: (linear(x, w, b),),
        "linear (no bias)": lambda: (linear(x, w),),
        "linear_backward": lambda: linear_backward(dout, x, w),
        "flatten": lambda: (flatten(x4),),
        "flatten_backward": lambda: (flatten_backward(d4, x4),),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(_calls(np.float64)))
def test_output_dtype_follows_input(name, dtype):
    for out in _calls(dtype)[name]():
        assert isinstance(out, np.ndarray) and out.dtype == dtype, f"{name}: {out.dtype} for {np.dtype(dtype)} input"


def test_float32_results_are_accurate():
    case = FIXED[3]
    c32 = {k: v.astype(np.float32) for k, v in case.items()}
    np.testing.assert_allclose(linear(**c32), ref.linear(**c32), rtol=1e-5, atol=1e-5)
    dout = np.ones((3, 6), np.float32)
    for g, r in zip(linear_backward(dout, c32["x"], c32["w"]), ref.linear_backward(dout, c32["x"], c32["w"])):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


def test_inputs_are_not_modified():
    case = FIXED[0]
    saved = {k: v.copy() for k, v in case.items()}
    dout = np.ones((1, 5))
    linear(**case)
    linear_backward(dout, case["x"], case["w"])
    for k, v in saved.items():
        np.testing.assert_array_equal(case[k], v, err_msg=k)
    assert np.all(dout == 1)


# ---------------------------------------------------------------- numerical gradient checks

@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("n, fin, fout", [(1, 3, 2), (4, 5, 3), (2, 1, 6)])
def test_linear_backward_passes_gradcheck(n, fin, fout, bias):
    case = _fixed(n, fin, fout, bias=bias, seed=n + fin)
    dout = np.random.default_rng(2).standard_normal((n, fout))
    dx, dw, db = linear_backward(dout, case["x"], case["w"])
    if bias:
        results = gradcheck(linear, case, {"x": dx, "w": dw, "b": db}, dout)
    else:
        results = gradcheck(lambda x, w: linear(x, w), {"x": case["x"], "w": case["w"]}, {"x": dx, "w": dw}, dout)
    for r in results.values():
        assert r.passed, str(r)


def test_flatten_backward_passes_gradcheck():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 2, 2))
    dout = rng.standard_normal((2, 12))
    result = gradcheck(flatten, {"x": x}, {"x": flatten_backward(dout, x)}, dout)
    assert result["x"].passed, str(result["x"])


# ---------------------------------------------------------------- bad input

_x, _w, _b = np.ones((2, 3)), np.ones((4, 3)), np.ones(4)


@pytest.mark.parametrize("call, fragments", [
    (lambda: linear(np.ones(3), _w), ["x", "2 dimensions", "(3,)"]),
    (lambda: linear(np.ones((2, 1, 3)), _w), ["x", "2 dimensions", "(2, 1, 3)"]),
    (lambda: linear(_x, np.ones(3)), ["w", "2 dimensions"]),
    (lambda: linear(_x, np.ones((3, 4))), ["(2, 3)", "(3, 4)", "features"]),  # w transposed
    (lambda: linear(_x, _w, np.ones(3)), ["b", "(4,)", "(3,)"]),
    (lambda: linear(_x, _w, np.ones(1)), ["b", "(4,)", "(1,)"]),  # would broadcast
    (lambda: linear(_x, _w, np.ones((1, 4))), ["b", "1 dimensions"]),
    (lambda: linear(_x.astype(np.int64), _w), ["x", "int64"]),
    (lambda: linear(_x, _w.astype(np.int32)), ["w", "int32"]),
    (lambda: linear(_x, _w, _b.astype(np.int64)), ["b", "int64"]),
    (lambda: linear(_x.tolist(), _w), ["x", "list"]),
    (lambda: linear(_x.astype(np.float32), _w), ["float32", "float64"]),
    (lambda: linear(_x, _w, _b.astype(np.float32)), ["float32", "float64"]),
    (lambda: linear_backward(np.ones((2, 4)), _x, np.ones((3, 4))), ["(2, 3)", "(3, 4)"]),
    (lambda: linear_backward(np.ones((2, 4)), np.ones(3), _w), ["x", "2 dimensions"]),
    (lambda: linear_backward(np.ones((2, 4), np.float32), _x, _w), ["float32", "float64"]),
    (lambda: linear_backward(np.ones((2, 4)), _x.astype(np.float32), _w), ["float32", "float64"]),
    (lambda: linear_backward(np.ones((2, 4), np.int64), _x, _w), ["dout", "int64"]),
    (lambda: flatten(np.ones(5)), ["(5,)"]),
    (lambda: flatten(np.ones((2, 3), np.int64)), ["x", "int64"]),
    (lambda: flatten([[1.0]]), ["x", "list"]),
    (lambda: flatten_backward(np.ones((2, 5)), np.ones((2, 2, 3))), ["(2, 5)", "(2, 2, 3)"]),
    (lambda: flatten_backward(np.ones((3, 4)), np.ones((2, 2, 3))), ["(3, 4)", "(2, 2, 3)"]),
    (lambda: flatten_backward(np.ones((1, 12)), np.ones((2, 2, 3))), ["(1, 12)", "(2, 2, 3)"]),
    (lambda: flatten_backward(np.ones(12), np.ones((2, 2, 3))), ["dout", "2 dimensions"]),
    (lambda: flatten_backward(np.ones((2, 6), np.int64), np.ones((2, 2, 3))), ["dout", "int64"]),
], ids=lambda f: "")
def test_bad_arguments_name_the_problem(call, fragments):
    assert_value_error(call, fragments)


@pytest.mark.parametrize("dout_shape", [(2, 1), (1, 4), (4, 2), (2, 3), (8,), (2, 4, 1)])
def test_linear_backward_refuses_dout_of_another_shape(dout_shape):
    with pytest.raises(ValueError) as info:
        linear_backward(np.ones(dout_shape), _x, _w)
    assert str(dout_shape) in str(info.value) or "2 dimensions" in str(info.value), str(info.value)
    if len(dout_shape) == 2:
        assert "(2, 4)" in str(info.value), str(info.value)


def test_flatten_backward_refuses_mismatched_dtypes():
    with pytest.raises(ValueError, match="float32.*float64|float64.*float32"):
        flatten_backward(np.ones((2, 6), np.float32), np.ones((2, 2, 3)))


# ---------------------------------------------------------------- on a GPU

@pytest.mark.cuda
def test_reference_on_cuda_agrees_with_cnnlib():
    assert ref.DEVICE.type == "cuda"
    case = _fixed(64, 300, 70, seed=9)
    _assert_close(linear(**case), ref.linear(**case), "linear")
    dout = np.random.default_rng(1).standard_normal((64, 70))
    for got, want in zip(linear_backward(dout, case["x"], case["w"]), ref.linear_backward(dout, case["x"], case["w"])):
        _assert_close(got, want, "linear_backward vs cuda")


def test_public_names():
    assert {"linear", "linear_backward", "flatten", "flatten_backward"} <= set(cnnlib.__all__)
