"""cnnlib.losses (softmax, log_softmax, cross-entropy, one-hot labels) against PyTorch.

cnnlib.reference computes in float64 on the GPU when present, TF32 off. Logits are drawn at
scales up to 1e4, where exp overflows unless the maximum is subtracted first; every test in this
module fails on any RuntimeWarning (overflow, divide by zero, invalid value).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import cnnlib
from cnnlib import cross_entropy, cross_entropy_backward, labels_from_one_hot, log_softmax, one_hot, softmax
from cnnlib import reference as ref
from cnnlib.gradcheck import gradcheck
from functools import partial

from helpers import assert_close, assert_value_error

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

SCALES = [1.0, 10.0, 100.0, 1e4]

_assert_close = partial(assert_close, rtol=1e-12)


# ---------------------------------------------------------------- strategies and helpers

@st.composite
def logits_any_axis(draw):
    """(z, axis): a float64 array of 1 to 4 dimensions and an axis of it (maybe negative)."""
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    z = rng.standard_normal(shape) * draw(st.sampled_from(SCALES))
    if draw(st.booleans()):
        z = np.round(z)  # ties and exact equal logits
    return z, axis


@st.composite
def classification(draw, max_n: int = 6, max_k: int = 7):
    """(logits (N, K) float64, targets (N,) int32 or int64)."""
    n, k = draw(st.integers(1, max_n)), draw(st.integers(1, max_k))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    logits = rng.standard_normal((n, k)) * draw(st.sampled_from(SCALES))
    targets = rng.integers(0, k, n).astype(draw(st.sampled_from([np.int32, np.int64])))
    return logits, targets


BIG = (np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4 - 1], [-1e4, 3.0, 1e4]]), 1)


# ---------------------------------------------------------------- softmax and log_softmax

@settings(max_examples=200, deadline=None)
@example(case=BIG)
@example(case=(BIG[0], 0))
@example(case=(np.array([1000.0, 1000.0]), -1))
@given(case=logits_any_axis())
def test_softmax_matches_torch_on_any_axis(case):
    z, axis = case
    p = softmax(z, axis=axis)
    _assert_close(p, ref.softmax(z, axis), f"softmax(axis={axis})")
    assert p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)
    assert np.all((p >= 0) & (p <= 1))


@settings(max_examples=200, deadline=None)
@example(case=BIG)
@example(case=(BIG[0], 0))
@given(case=logits_any_axis())
def test_log_softmax_matches_torch_on_any_axis(case):
    z, axis = case
    got = log_softmax(z, axis=axis)
    _assert_close(got, ref.log_softmax(z, axis), f"log_softmax(axis={axis})")
    assert np.all(got <= 0)
    np.testing.assert_allclose(np.exp(got).sum(axis=axis), 1.0, rtol=1e-12)


def test_default_axis_is_the_last():
    z = np.random.default_rng(0).standard_normal((3, 4, 5))
    np.testing.assert_array_equal(softmax(z), softmax(z, axis=2))
    np.testing.assert_array_equal(log_softmax(z), log_softmax(z, axis=-1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_stay_finite(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    p, lp = softmax(z), log_softmax(z)
    assert p.dtype == lp.dtype == dtype
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(lp))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p[0], [1, 0, 0])
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(p[2], [0.5, 0.5, 0])
    assert lp[0, 1] == np.float32(-2e4)  # log(softmax) would give -inf here
    targets = np.array([1, 0, 2])
    loss, grad = cross_entropy(z, targets), cross_entropy_backward(z, targets)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


def test_softmax_is_shift_invariant():
    z = np.random.default_rng(1).standard_normal((4, 6))
    np.testing.assert_allclose(softmax(z + 1000.0), softmax(z), rtol=1e-12)


# ---------------------------------------------------------------- cross-entropy

@settings(max_examples=200, deadline=None)
@example(case=(BIG[0], np.array([0, 1, 2, 0])))
@example(case=(np.array([[0.3, -1.2, 2.0]]), np.array([2], dtype=np.int32)))  # N = 1
@example(case=(np.zeros((3, 1)), np.zeros(3, dtype=np.int64)))  # one class: the loss is 0
@given(case=classification())
def test_cross_entropy_matches_torch(case):
    logits, targets = case
    loss = cross_entropy(logits, targets)
    assert np.ndim(loss) == 0 and np.asarray(loss).dtype == np.float64, f"{type(loss)} {np.asarray(loss).dtype}"
    want = ref.cross_entropy(logits, targets)
    assert np.isfinite(loss)
    np.testing.assert_allclose(float(loss), want, rtol=1e-12, atol=1e-12 * max(1.0, abs(want)))


@settings(max_examples=200, deadline=None)
@example(case=(BIG[0], np.array([0, 1, 2, 0])))
@example(case=(np.array([[0.3, -1.2, 2.0]]), np.array([2], dtype=np.int32)))
@given(case=classification())
def test_cross_entropy_backward_matches_torch(case):
    logits, targets = case
    grad = cross_entropy_backward(logits, targets)
    _assert_close(grad, ref.cross_entropy_backward(logits, targets), "cross_entropy_backward")
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)  # each row: softmax - one_hot, / N


def test_cross_entropy_is_the_mean_over_the_batch():
    logits = np.random.default_rng(2).standard_normal((1, 4))
    targets = np.array([3])
    one = cross_entropy(logits, targets)
    np.testing.assert_allclose(cross_entropy(np.repeat(logits, 5, axis=0), np.repeat(targets, 5)), one)
    np.testing.assert_allclose(cross_entropy_backward(np.repeat(logits, 5, axis=0), np.repeat(targets, 5)),
                               np.repeat(cross_entropy_backward(logits, targets), 5, axis=0) / 5)


@pytest.mark.parametrize("n, k, scale", [(1, 3, 1.0), (4, 5, 1.0), (3, 2, 10.0), (2, 6, 0.1)])
def test_cross_entropy_backward_passes_gradcheck(n, k, scale):
    rng = np.random.default_rng(n * k)
    logits = rng.standard_normal((n, k)) * scale
    targets = rng.integers(0, k, n)
    grad = cross_entropy_backward(logits, targets)
    result = gradcheck(lambda logits: cross_entropy(logits, targets), {"logits": logits}, {"logits": grad}, np.float64(1.0))
    assert result["logits"].passed, str(result["logits"])


# ---------------------------------------------------------------- one-hot labels

@settings(max_examples=200, deadline=None)
@given(case=classification(), dtype=st.sampled_from([np.float32, np.float64]))
def test_one_hot_round_trip_and_equal_losses(case, dtype):
    """Integer targets and one-hot rows describe the same labels and give the same loss.

    Keras's categorical_crossentropy(from_logits=True) takes one-hot rows y and computes
    -sum(y * log_softmax(z)) per row; written out here by hand with a log-sum-exp.
    """
    logits, targets = case
    k = logits.shape[1]
    rows = one_hot(targets, k, dtype=dtype)
    assert rows.shape == (len(targets), k) and rows.dtype == dtype
    assert np.all(rows.sum(axis=1) == 1) and set(np.unique(rows)) <= {0, 1}
    np.testing.assert_array_equal(rows.argmax(axis=1), targets)
    back = labels_from_one_hot(rows)
    assert np.issubdtype(back.dtype, np.integer)
    np.testing.assert_array_equal(back, targets)

    m = logits.max(axis=1, keepdims=True)
    log_probs = logits - (m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True)))
    keras = np.mean(-np.sum(rows.astype(np.float64) * log_probs, axis=1))
    np.testing.assert_allclose(cross_entropy(logits, targets), keras, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cross_entropy(logits, back), keras, rtol=1e-12, atol=1e-12)
    # and the gradient of the Keras form with respect to the logits: (softmax - y) / N
    want = (np.exp(log_probs) - rows) / len(targets)
    _assert_close(cross_entropy_backward(logits, back), want, "cross_entropy_backward from one-hot labels", rtol=1e-10)


def test_one_hot_default_dtype_and_int32_targets():
    rows = one_hot(np.array([2, 0], dtype=np.int32), 3)
    np.testing.assert_array_equal(rows, [[0, 0, 1], [1, 0, 0]])
    assert rows.dtype == np.float64


@pytest.mark.parametrize("rows, index", [
    (np.array([[0.0, 1.0], [1.0, 1.0]]), 1),  # two ones
    (np.array([[0.0, 0.0], [1.0, 0.0]]), 0),  # no one
    (np.array([[0.5, 0.5]]), 0),  # probabilities, not labels
    (np.array([[1, 0, 0], [0, 2, -1]]), 1),
])
def test_labels_from_one_hot_refuses_other_rows(rows, index):
    with pytest.raises(ValueError, match=f"row {index}"):
        labels_from_one_hot(rows)


def test_labels_from_one_hot_refuses_other_shapes():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        labels_from_one_hot(np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="2-D"):
        labels_from_one_hot([[0, 1]])


# ---------------------------------------------------------------- dtypes

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_follows_input(dtype):
    rng = np.random.default_rng(3)
    z = (rng.standard_normal((4, 5)) * 50).astype(dtype)
    t = np.array([0, 4, 2, 2])
    outputs = {
        "softmax": softmax(z), "softmax(axis=0)": softmax(z, axis=0), "log_softmax": log_softmax(z),
        "log_softmax(axis=0)": log_softmax(z, axis=0), "cross_entropy": cross_entropy(z, t),
        "cross_entropy_backward": cross_entropy_backward(z, t), "one_hot": one_hot(t, 5, dtype=dtype),
    }
    for name, out in outputs.items():
        assert np.asarray(out).dtype == dtype, f"{name}: {np.asarray(out).dtype} for {np.dtype(dtype)} input"
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(outputs["softmax"], ref.softmax(z), rtol=tol, atol=tol)
    np.testing.assert_allclose(outputs["log_softmax"], ref.log_softmax(z), rtol=tol, atol=tol)
    np.testing.assert_allclose(outputs["cross_entropy"], ref.cross_entropy(z, t), rtol=tol)
    np.testing.assert_allclose(outputs["cross_entropy_backward"], ref.cross_entropy_backward(z, t), rtol=tol, atol=tol)


def test_inputs_are_not_modified():
    z = np.random.default_rng(4).standard_normal((3, 4))
    t = np.array([1, 3, 0])
    z0, t0 = z.copy(), t.copy()
    softmax(z), log_softmax(z), cross_entropy(z, t), cross_entropy_backward(z, t), one_hot(t, 4)
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(t, t0)


# ---------------------------------------------------------------- bad input

_Z = np.zeros((3, 4))


@pytest.mark.parametrize("fn", [cross_entropy, cross_entropy_backward], ids=lambda f: f.__name__)
@pytest.mark.parametrize("targets, fragments", [
    (np.array([0, 4, 1]), ["targets[1] = 4", "[0, 4)"]),  # one past the last class
    (np.array([0, 1, -1]), ["targets[2] = -1", "[0, 4)"]),  # negative: NumPy would wrap it around
    (np.array([7, 9, 1], dtype=np.int32), ["targets[0] = 7"]),
    (np.array([0.0, 1.0, 2.0]), ["integer", "float64"]),
    (np.array([0.5, 1.0, 2.0], dtype=np.float32), ["integer", "float32"]),
    (np.eye(4)[[0, 1, 2]], ["integer", "one-hot"]),  # Keras-style labels where indices are expected
    (np.eye(4, dtype=np.int64)[[0, 1, 2]], ["(3,)", "(3, 4)"]),
    (np.array([True, False, True]), ["integer", "bool"]),
    (np.array([0, 1]), ["(3,)", "(2,)"]),  # one target short: never broadcast
    (np.array([0, 1, 2, 3]), ["(3,)", "(4,)"]),
    (np.array([[0], [1], [2]]), ["(3,)", "(3, 1)"]),
    (np.array(1), ["(3,)", "()"]),  # a scalar would broadcast
    ([0, 1, 2], ["array", "list"]),
])
def test_bad_targets_name_the_problem(fn, targets, fragments):
    with pytest.raises(ValueError) as info:
        fn(_Z, targets)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} missing from: {info.value}"


@pytest.mark.parametrize("call, fragments", [
    (lambda: cross_entropy(np.zeros(4), np.array([1])), ["logits", "2 dimensions", "(4,)"]),
    (lambda: cross_entropy_backward(np.zeros((2, 3, 4)), np.array([1, 2])), ["logits", "2 dimensions"]),
    (lambda: cross_entropy(np.zeros((3, 4), np.int64), np.array([0, 1, 2])), ["logits", "int64"]),
    (lambda: cross_entropy(_Z.tolist(), np.array([0, 1, 2])), ["logits", "list"]),
    (lambda: softmax(np.arange(3)), ["z", "int64"]),
    (lambda: log_softmax([1.0, 2.0]), ["z", "list"]),
    (lambda: one_hot(np.array([0, 3]), 3), ["targets[1] = 3", "[0, 3)"]),
    (lambda: one_hot(np.array([0.0, 1.0]), 3), ["integer"]),
], ids=lambda f: "")
def test_bad_arguments_name_the_problem(call, fragments):
    assert_value_error(call, fragments)


def test_probabilities_are_not_logits():
    """A common mistake: softmax applied before cross_entropy. Not an error, but a different loss."""
    z = np.array([[2.0, 0.0, -1.0]])
    t = np.array([0])
    assert cross_entropy(softmax(z), t) != pytest.approx(cross_entropy(z, t))
    np.testing.assert_allclose(cross_entropy(z, t), ref.cross_entropy(z, t))


# ---------------------------------------------------------------- on a GPU

@pytest.mark.cuda
def test_reference_on_cuda_agrees_with_cnnlib():
    assert ref.DEVICE.type == "cuda"
    rng = np.random.default_rng(8)
    logits, targets = rng.standard_normal((128, 10)) * 30, rng.integers(0, 10, 128)
    _assert_close(softmax(logits, 0), ref.softmax(logits, 0), "softmax")
    _assert_close(log_softmax(logits), ref.log_softmax(logits), "log_softmax")
    np.testing.assert_allclose(cross_entropy(logits, targets), ref.cross_entropy(logits, targets), rtol=1e-12)
    _assert_close(cross_entropy_backward(logits, targets), ref.cross_entropy_backward(logits, targets), "ce backward")


def test_public_names():
    assert {"softmax", "log_softmax", "cross_entropy", "cross_entropy_backward", "one_hot",
            "labels_from_one_hot"} <= set(cnnlib.__all__)
