"""cnnlib.gradcheck: the numerical gradient checker, and conv2d_backward checked with it."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlib import conv2d, conv2d_backward
from cnnlib.gradcheck import GradcheckError, gradcheck, numerical_gradient, relative_error


def test_numerical_gradient_of_known_functions():
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(numerical_gradient(lambda v: v**2, x, dout), 2 * x * dout, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(numerical_gradient(np.sin, x, dout), np.cos(x) * dout, rtol=1e-7, atol=1e-9)
    a = rng.standard_normal((2, 3))  # f(x) = a @ x, a matrix product: dL/dx = a.T @ dout
    dout2 = rng.standard_normal((2, 4))
    np.testing.assert_allclose(numerical_gradient(lambda v: a @ v, np.ones((3, 4)), dout2), a.T @ dout2,
                               rtol=1e-7, atol=1e-9)


def test_numerical_gradient_scalar_output_and_float64():
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    g = numerical_gradient(lambda v: np.sum(v**3), x, np.float64(1.0))
    assert g.dtype == np.float64 and g.shape == x.shape
    np.testing.assert_allclose(g, 3 * x.astype(np.float64) ** 2, rtol=1e-7)
    assert x.dtype == np.float32 and np.array_equal(x, [1, 2, 3])  # untouched


def test_numerical_gradient_leaves_x_alone_and_calls_f_with_float64():
    seen = []
    x = np.arange(4.0).reshape(2, 2)

    def f(v):
        seen.append(v.dtype)
        return v * 2

    numerical_gradient(f, x, np.ones((2, 2)))
    assert set(seen) == {np.dtype(np.float64)} and len(seen) == 1 + 2 * x.size
    np.testing.assert_array_equal(x, np.arange(4.0).reshape(2, 2))


def test_numerical_gradient_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        numerical_gradient(lambda v: v, np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda v: v, np.ones(3), np.ones(3), eps=0)


def test_relative_error_floor():
    err = relative_error(np.array([1.0, 1e-9, 0.0]), np.array([1.1, 2e-9, 0.0]))
    np.testing.assert_allclose(err, [0.1 / 1.1, 1e-9 / 1e-3, 0.0])


def _conv_problem(seed=0, n=2, c=3, f=2, h=6, w=5, kh=3, kw=2, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((f, c, kh, kw))
    b = rng.standard_normal(f) if bias else None
    return x, wt, b


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((1, 3), (2, 0)), ((3, 2), 1)])
def test_conv2d_backward_passes_gradcheck(stride, padding):
    x, w, b = _conv_problem()
    out = conv2d(x, w, b, stride, padding)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, x, w, stride, padding)
    results = gradcheck(lambda x, w, b: conv2d(x, w, b, stride, padding),
                        {"x": x, "w": w, "b": b}, {"x": dx, "w": dw, "b": db}, dout)
    assert set(results) == {"x", "w", "b"}
    for r in results.values():
        assert r.passed and r.max_rel_error < 1e-6, str(r)


def test_conv2d_backward_float32_passes_gradcheck_in_float64():
    """A float32 backward, checked through a float64 forward, with a float32-sized tolerance."""
    x, w, b = _conv_problem(seed=2, n=1, c=2, f=3, h=5, w=6)
    x32, w32, b32 = x.astype(np.float32), w.astype(np.float32), b.astype(np.float32)
    dout = np.random.default_rng(3).standard_normal((1, 3, 5, 5)).astype(np.float32)
    dx, dw, db = conv2d_backward(dout, x32, w32, 1, (1, 0))
    assert dx.dtype == dw.dtype == db.dtype == np.float32
    gradcheck(lambda x, w, b: conv2d(x, w, b, 1, (1, 0)), [x32, w32, b32], [dx, dw, db], dout, rtol=1e-4)


@pytest.mark.parametrize("which, corrupt", [
    ("x", lambda g: g[:, :, ::-1, ::-1].copy()),  # dx with the image flipped
    ("w", lambda g: g[:, :, ::-1, ::-1].copy()),  # dw flipped: a classic slip
    ("w", lambda g: g / 2),  # dw averaged over a batch of 2 instead of summed
    ("b", lambda g: g * 0),
    ("x", lambda g: np.where(np.arange(g.size).reshape(g.shape) == 7, g + 1e-3, g)),  # one entry slightly off
])
def test_gradcheck_catches_wrong_gradients(which, corrupt):
    x, w, b = _conv_problem()
    dout = np.random.default_rng(1).standard_normal(conv2d(x, w, b, 1, 1).shape)
    grads = dict(zip("xwb", conv2d_backward(dout, x, w, 1, 1)))
    grads[which] = corrupt(grads[which])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, w, b: conv2d(x, w, b, 1, 1), {"x": x, "w": w, "b": b}, grads, dout)
    msg = str(info.value)
    assert f"d{which}: WRONG" in msg and "index" in msg
    bad = info.value.results[which]
    assert not bad.passed and bad.max_rel_error > 1e-5
    assert all(r.passed for k, r in info.value.results.items() if k != which)


def test_gradcheck_reports_the_worst_index_and_values():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    dout = np.ones((2, 2))
    wrong = 2 * x
    wrong[1, 0] += 0.5
    results = gradcheck(lambda v: v**2, [x], [wrong], dout, raise_on_failure=False)
    r = results["0"]
    assert not r.passed and r.index == (1, 0)
    assert r.analytic == pytest.approx(6.5) and r.numerical == pytest.approx(6.0, rel=1e-8)
    assert r.max_rel_error == pytest.approx(0.5 / 6.5, rel=1e-6)


def test_gradcheck_skips_none_and_checks_shapes():
    x, w, _ = _conv_problem(bias=False)
    dout = np.ones(conv2d(x, w).shape)
    dx, dw, _ = conv2d_backward(dout, x, w)
    res = gradcheck(lambda x, w: conv2d(x, w), [x, w], [None, dw], dout)
    assert list(res) == ["1"]
    with pytest.raises(ValueError, match=r"shape \(2, 3, 3, 2\).*\(2, 3, 6, 5\)"):
        gradcheck(lambda x, w: conv2d(x, w), [x, w], [dw, None], dout)
    with pytest.raises(ValueError, match="same keys"):
        gradcheck(lambda x, w: conv2d(x, w), {"x": x, "w": w}, {"x": dx}, dout)
    with pytest.raises(ValueError, match="entries"):
        gradcheck(lambda x, w: conv2d(x, w), [x, w], [dx], dout)
