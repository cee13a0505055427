"""cnnlib.activations against PyTorch (cnnlib.reference: float64, GPU when present, TF32 off).

Property-based: hypothesis draws arrays of 0 to 4 dimensions, with exact zeros (the kink of
relu and leaky_relu), integer values, and huge values (+-1000, where a naive sigmoid overflows).
Every test in this module fails on any RuntimeWarning (overflow, invalid value): numerically
stable means silent too.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import cnnlib
from cnnlib import (leaky_relu, leaky_relu_backward, relu, relu_backward, sigmoid, sigmoid_backward, tanh,
                    tanh_backward)
from cnnlib import reference as ref
from cnnlib.gradcheck import gradcheck
from functools import partial

from helpers import assert_close

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

_assert_close = partial(assert_close, rtol=1e-12, atol=1e-15, dtype=np.float64)


# ---------------------------------------------------------------- strategies and helpers

@st.composite
def arrays(draw, max_dims: int = 4, max_side: int = 6):
    """A float64 array of any shape, drawn in one of several flavours of values."""
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=0, max_size=max_dims)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    flavour = draw(st.sampled_from(["normal", "zeros", "integers", "huge", "tiny"]))
    x = rng.standard_normal(shape) * draw(st.sampled_from([1.0, 5.0, 30.0]))
    if flavour == "zeros":  # exact zeros: the kink of relu and leaky_relu
        x = np.where(rng.random(shape) < 0.4, 0.0, x)
    elif flavour == "integers":
        x = rng.integers(-3, 4, shape).astype(np.float64)
    elif flavour == "huge":  # +-1000 and beyond: exp(1000) overflows in float64
        x = np.where(rng.random(shape) < 0.5, rng.choice([-1000.0, 1000.0, -1e5, 800.0, -750.0], shape), x)
    elif flavour == "tiny":
        x = x * 1e-12
    return np.asarray(x, dtype=np.float64)


SLOPES = st.sampled_from([0.01, 0.0, 0.1, 0.2, 0.5, 1.0, 1.5, -0.3, 1e-4])

# name -> (cnnlib forward, cnnlib backward, reference forward, reference backward), slope-free
PLAIN = {
    "relu": (relu, relu_backward, ref.relu, ref.relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward, ref.sigmoid, ref.sigmoid_backward),
    "tanh": (tanh, tanh_backward, ref.tanh, ref.tanh_backward),
}


EDGES = np.array([0.0, -0.0, 1.0, -1.0, 1000.0, -1000.0, 1e308, -1e308, 709.0, -745.0, 5e-324, -5e-324])


# ---------------------------------------------------------------- forward and backward against PyTorch

@pytest.mark.parametrize("name", list(PLAIN))
@settings(max_examples=200, deadline=None)
@example(x=EDGES)
@example(x=np.zeros((2, 3)))
@example(x=np.full((), -1000.0))  # 0-d
@given(x=arrays())
def test_forward_matches_torch(name, x):
    fwd, _, ref_fwd, _ = PLAIN[name]
    _assert_close(fwd(x), ref_fwd(x), name)


@pytest.mark.parametrize("name", list(PLAIN))
@settings(max_examples=200, deadline=None)
@example(x=EDGES)
@example(x=np.zeros((2, 3)))
@given(x=arrays())
def test_backward_matches_torch(name, x):
    _, bwd, _, ref_bwd = PLAIN[name]
    dout = np.random.default_rng(x.size).standard_normal(x.shape)
    # Both sides compute dout * (1 - t**2) (or s * (1 - s)) from their own tanh/sigmoid, and NumPy's
    # and torch's libm may differ by an ulp: where t is near +-1, 1 - t**2 carries that ulp as an
    # absolute error of a few eps, times |dout|. So atol scales with dout, not with the output.
    atol = 8 * np.finfo(np.float64).eps * max(1.0, float(np.max(np.abs(dout), initial=0.0)))
    _assert_close(bwd(dout, x), ref_bwd(dout, x), f"{name}_backward", atol=atol)


@settings(max_examples=200, deadline=None)
@example(x=EDGES, slope=0.01)
@example(x=np.zeros(4), slope=0.2)
@given(x=arrays(), slope=SLOPES)
def test_leaky_relu_matches_torch(x, slope):
    _assert_close(leaky_relu(x, slope), ref.leaky_relu(x, slope), f"leaky_relu(slope={slope})")
    dout = np.random.default_rng(x.size).standard_normal(x.shape)
    _assert_close(leaky_relu_backward(dout, x, slope), ref.leaky_relu_backward(dout, x, slope),
                  f"leaky_relu_backward(slope={slope})")


def test_leaky_relu_default_slope_is_001():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(leaky_relu(x), [-0.02, 0.0, 3.0])
    np.testing.assert_array_equal(leaky_relu_backward(np.ones(3), x), [0.01, 0.01, 1.0])


def test_gradients_at_zero_follow_pytorch():
    """relu'(0) = 0 and leaky_relu'(0) = negative_slope, as torch's autograd returns."""
    x, dout = np.zeros(3), np.array([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(relu_backward(dout, x), ref.relu_backward(dout, x))
    np.testing.assert_array_equal(relu_backward(dout, x), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(leaky_relu_backward(dout, x, 0.1), ref.leaky_relu_backward(dout, x, 0.1))
    np.testing.assert_allclose(leaky_relu_backward(dout, x, 0.1), [0.1, -0.2, 0.3])


def test_relu_backward_routes_infinite_gradients_like_torch():
    """An infinite upstream gradient stops at a dead unit (0), it does not become NaN (inf * 0)."""
    x, dout = np.array([-1.0, 0.0, 2.0, -3.0]), np.array([np.inf, -np.inf, np.inf, np.nan])
    want = ref.relu_backward(dout, x)
    np.testing.assert_array_equal(want, [0.0, 0.0, np.inf, 0.0])
    np.testing.assert_array_equal(relu_backward(dout, x), want)


# ---------------------------------------------------------------- numerical stability

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_tanh_are_stable_for_huge_inputs(dtype):
    x = np.array([-1e30, -1e5, -1000.0, -100.0, -89.0, 0.0, 89.0, 100.0, 1000.0, 1e5, 1e30], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning is a failure
        outputs = {
            "sigmoid": sigmoid(x), "sigmoid_backward": sigmoid_backward(np.ones_like(x), x),
            "tanh": tanh(x), "tanh_backward": tanh_backward(np.ones_like(x), x),
        }
    for name, out in outputs.items():
        assert out.dtype == dtype and np.all(np.isfinite(out)), f"{name}: {out}"
    s = outputs["sigmoid"]
    assert s[0] == 0 and s[-1] == 1 and s[5] == 0.5
    assert np.all(np.diff(s) >= 0) and np.all((s >= 0) & (s <= 1))
    assert outputs["sigmoid_backward"][0] == 0 and outputs["sigmoid_backward"][-1] == 0
    np.testing.assert_array_equal(outputs["tanh"][[0, -1]], [-1, 1])


def test_sigmoid_keeps_precision_in_the_left_tail():
    """1 / (1 + exp(-x)) is exact in the right tail, but for x << 0 the stable form must be used."""
    x = np.array([-30.0, -700.0])
    np.testing.assert_allclose(sigmoid(x), np.exp(x) / (1 + np.exp(x)), rtol=1e-14)
    assert sigmoid(np.array([-700.0]))[0] > 0  # not rounded to 0: exp(-700) is about 1e-304


# ---------------------------------------------------------------- dtypes

ALL = {
    "relu": lambda x, d: (relu(x),),
    "relu_backward": lambda x, d: (relu_backward(d, x),),
    "leaky_relu": lambda x, d: (leaky_relu(x, 0.2),),
    "leaky_relu_backward": lambda x, d: (leaky_relu_backward(d, x, 0.2),),
    "sigmoid": lambda x, d: (sigmoid(x),),
    "sigmoid_backward": lambda x, d: (sigmoid_backward(d, x),),
    "tanh": lambda x, d: (tanh(x),),
    "tanh_backward": lambda x, d: (tanh_backward(d, x),),
}
REF = {
    "relu": lambda x, d: ref.relu(x), "relu_backward": lambda x, d: ref.relu_backward(d, x),
    "leaky_relu": lambda x, d: ref.leaky_relu(x, 0.2),
    "leaky_relu_backward": lambda x, d: ref.leaky_relu_backward(d, x, 0.2),
    "sigmoid": lambda x, d: ref.sigmoid(x), "sigmoid_backward": lambda x, d: ref.sigmoid_backward(d, x),
    "tanh": lambda x, d: ref.tanh(x), "tanh_backward": lambda x, d: ref.tanh_backward(d, x),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ALL))
def test_output_dtype_follows_input(name, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, 3, 4)) * 3).astype(dtype)
    x[0, 0, :2] = 0
    x[1, 2, :2] = [-1000, 1000]
    d = rng.standard_normal(x.shape).astype(dtype)
    (out,) = ALL[name](x, d)
    assert isinstance(out, np.ndarray) and out.dtype == dtype and out.shape == x.shape, (
        f"{name}: {out.dtype} {out.shape} for {np.dtype(dtype)} {x.shape}")
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, REF[name](x, d), rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("name", list(ALL))
def test_inputs_are_not_modified(name):
    rng = np.random.default_rng(1)
    x, d = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x0, d0 = x.copy(), d.copy()
    ALL[name](x, d)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(d, d0)


def test_non_contiguous_inputs():
    x = np.random.default_rng(2).standard_normal((6, 8))[::2, ::-3]
    assert not x.flags.c_contiguous
    for name in PLAIN:
        fwd, bwd, ref_fwd, ref_bwd = PLAIN[name]
        _assert_close(fwd(x), ref_fwd(x), name)
        dout = np.full((6, 3), 2.0)[::2, ::-1]  # another non-contiguous view
        _assert_close(bwd(dout, x), ref_bwd(dout, x), name + "_backward")


# ---------------------------------------------------------------- numerical gradient checks

def _away_from_kink(x: np.ndarray) -> np.ndarray:
    """Move entries within 1e-3 of 0 away from it: a central difference across the kink is meaningless."""
    return np.where(np.abs(x) < 1e-3, np.where(x < 0, -0.5, 0.5), x)


GRADCHECK = {
    "relu_backward": (relu, relu_backward),
    "leaky_relu_backward": (lambda x: leaky_relu(x, 0.3), lambda d, x: leaky_relu_backward(d, x, 0.3)),
    "sigmoid_backward": (sigmoid, sigmoid_backward),
    "tanh_backward": (tanh, tanh_backward),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 2**32 - 1))
def test_backward_passes_gradcheck(name, shape, seed):
    rng = np.random.default_rng(seed)
    x = _away_from_kink(rng.standard_normal(shape) * 2)
    dout = rng.standard_normal(shape)
    fwd, bwd = GRADCHECK[name]
    result = gradcheck(fwd, {"x": x}, {"x": bwd(dout, x)}, dout)
    assert result["x"].passed, str(result["x"])


# ---------------------------------------------------------------- bad input

FORWARD = [relu, leaky_relu, sigmoid, tanh]
BACKWARD = [relu_backward, leaky_relu_backward, sigmoid_backward, tanh_backward]


@pytest.mark.parametrize("fn", FORWARD, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad, fragment", [
    (np.arange(4), "int64"),
    (np.ones(3, dtype=bool), "bool"),
    (np.ones(3, dtype=np.complex128), "complex128"),
    ([1.0, -2.0], "list"),
    (3.0, "float"),
], ids=["int", "bool", "complex", "list", "python float"])
def test_forward_refuses_non_float_arrays(fn, bad, fragment):
    with pytest.raises(ValueError, match="x") as info:
        fn(bad)
    assert fragment in str(info.value)


@pytest.mark.parametrize("fn", BACKWARD, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dout_shape", [(1,), (3, 1), (1, 4), (4, 3), (3, 4, 1), (12,), ()])
def test_backward_refuses_dout_of_another_shape(fn, dout_shape):
    """(1,), (3, 1) and (1, 4) would broadcast against x (3, 4): refused, never silently broadcast."""
    x = np.ones((3, 4))
    with pytest.raises(ValueError) as info:
        fn(np.ones(dout_shape), x)
    assert str(dout_shape) in str(info.value) and "(3, 4)" in str(info.value), str(info.value)


@pytest.mark.parametrize("fn", BACKWARD, ids=lambda f: f.__name__)
def test_backward_refuses_mismatched_or_integer_dtypes(fn):
    x = np.ones((2, 2))
    with pytest.raises(ValueError, match="float32.*float64|float64.*float32"):
        fn(np.ones((2, 2), np.float32), x)
    with pytest.raises(ValueError, match="float32.*float64|float64.*float32"):
        fn(np.ones((2, 2)), x.astype(np.float32))
    with pytest.raises(ValueError, match="dout.*int64"):
        fn(np.ones((2, 2), np.int64), x)
    with pytest.raises(ValueError, match="x.*int64"):
        fn(np.ones((2, 2)), x.astype(np.int64))


# ---------------------------------------------------------------- on a GPU

@pytest.mark.cuda
def test_reference_on_cuda_agrees_with_cnnlib():
    assert ref.DEVICE.type == "cuda"
    x = np.random.default_rng(5).standard_normal((64, 33)) * 10
    x[0, :4] = [0.0, -1000.0, 1000.0, -0.0]
    dout = np.random.default_rng(6).standard_normal(x.shape)
    for name, (fwd, bwd, ref_fwd, ref_bwd) in PLAIN.items():
        _assert_close(fwd(x), ref_fwd(x), name)
        _assert_close(bwd(dout, x), ref_bwd(dout, x), name + "_backward")
    _assert_close(leaky_relu_backward(dout, x, 0.2), ref.leaky_relu_backward(dout, x, 0.2), "leaky_relu_backward")


def test_public_names():
    assert {"relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "sigmoid", "sigmoid_backward",
            "tanh", "tanh_backward"} <= set(cnnlib.__all__)
