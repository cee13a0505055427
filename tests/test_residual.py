"""cnnlib.residual and cnnlib.param_counts (graded in 09_architectures): compared with torch
autograd in float64 through the visible checks, on hand-worked values, and each typical mistake
is diagnosed by name."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import cnnlib
from cnnlib import checks, reference as ref
from cnnlib.param_counts import conv2d_mult_adds, conv2d_params, depthwise_separable_params
from cnnlib.residual import residual_block, residual_block_backward


@pytest.mark.parametrize("name", ["residual_block", "residual_block_backward", "conv2d_params",
                                  "depthwise_separable_params"])
def test_reference_passes_its_checks(name):
    checks.check(name, getattr(cnnlib, name), seed=1, n=6)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 6),
       k=st.sampled_from([1, 3, 5]), seed=st.integers(0, 2**31))
def test_forward_and_backward_equal_torch_autograd(n, c, h, w, k, seed):
    rng = np.random.default_rng(seed)
    x, dout = rng.standard_normal((n, c, h, w)), rng.standard_normal((n, c, h, w))
    w1, w2 = rng.standard_normal((c, c, k, k)) / k, rng.standard_normal((c, c, k, k)) / k
    b1, b2 = rng.standard_normal(c), rng.standard_normal(c)
    t = [torch.tensor(a, requires_grad=True) for a in (x, w1, b1, w2, b2)]
    out = torch.relu(torch.nn.functional.conv2d(torch.relu(torch.nn.functional.conv2d(t[0], t[1], t[2], padding=k // 2)),
                                                t[3], t[4], padding=k // 2) + t[0])
    out.backward(torch.tensor(dout))
    np.testing.assert_allclose(residual_block(x, w1, b1, w2, b2), out.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, theirs in zip(residual_block_backward(dout, x, w1, b1, w2, b2), t):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_hand_worked_1x1_block():
    # C = 1, K = 1: out = relu(w2 * relu(w1 * x + b1) + b2 + x), worked out per pixel.
    x = np.array([[[[1.0, -2.0], [3.0, -0.5]]]])
    w1, b1, w2, b2 = np.array([[[[2.0]]]]), np.array([-1.0]), np.array([[[[-1.0]]]]), np.array([0.5])
    # pixel 1: relu(2-1)=1 -> -1+0.5+1 = 0.5; pixel -2: relu(-5)=0 -> 0.5-2 -> relu -> 0
    # pixel 3: relu(5)=5 -> -5+0.5+3 = -1.5 -> 0; pixel -0.5: relu(-2)=0 -> 0.5-0.5 = 0
    assert residual_block(x, w1, b1, w2, b2).tolist() == [[[[0.5, 0.0], [0.0, 0.0]]]]
    dx, dw1, db1, dw2, db2 = residual_block_backward(np.ones_like(x), x, w1, b1, w2, b2)
    # only pixel 1 is open at the output: ds = 1 there; dx = ds (skip) + ds * w2 * relu'(1) * w1 = 1 - 2 = -1
    assert dx.tolist() == [[[[-1.0, 0.0], [0.0, 0.0]]]]
    assert (dw2.item(), db2.item(), dw1.item(), db1.item()) == (1.0, 1.0, -1.0, -1.0)


def test_float32_stays_float32_and_bad_arguments():
    x = np.zeros((1, 2, 3, 3), np.float32)
    w = np.zeros((2, 2, 3, 3), np.float32)
    assert residual_block(x, w, None, w, None).dtype == np.float32
    with pytest.raises(ValueError, match=r"w1 must have shape \(C, C, K, K\)"):
        residual_block(x, np.zeros((2, 2, 2, 2), np.float32), None, w, None)
    with pytest.raises(ValueError, match="dtype"):
        residual_block(x, w.astype(np.float64), None, w, None)
    with pytest.raises(ValueError, match="dout must have the shape of x"):
        residual_block_backward(np.zeros((1, 2, 2, 2), np.float32), x, w, None, w, None)


def test_parameter_counts_by_hand():
    assert conv2d_params(3, 32, 3) == 3 * 9 * 32 + 32 == 896
    assert conv2d_params(240, 60, 1, groups=3, bias=False) == 60 * 80 == 4800
    assert conv2d_params(32, 32, 3, groups=32) == 32 * 9 + 32
    assert conv2d_params(6, 4, (3, 5), groups=2) == 4 * 3 * 15 + 4
    assert depthwise_separable_params(32, 64, 3) == (32 * 9 + 32) + (32 * 64 + 64) == 2432
    assert conv2d_mult_adds(3, 32, 3, 30) == 30 * 30 * 32 * 27
    with pytest.raises(ValueError, match="groups=4 must divide c_in=6"):
        conv2d_params(6, 8, 3, groups=4)
    with pytest.raises(ValueError, match="kernel_size"):
        conv2d_params(6, 8, (3, 3, 3))


def _mistake(name, case, fn):
    problem = checks.explain(name, case, fn(**case))
    assert problem is not None
    return problem


def test_typical_mistakes_are_named():
    case = checks.cases("residual_block", np.random.default_rng(0), 0)[0]

    def skip_after_relu(x, w1, b1, w2, b2):
        p = w1.shape[-1] // 2
        return cnnlib.relu(cnnlib.conv2d(cnnlib.relu(cnnlib.conv2d(x, w1, b1, padding=p)), w2, b2, padding=p)) + x

    assert "skip added after the last ReLU" in _mistake("residual_block", case, skip_after_relu)

    bcase = checks.cases("residual_block_backward", np.random.default_rng(0), 0)[0]

    def skip_gradient_forgotten(dout, x, w1, b1, w2, b2):
        dx, *rest = residual_block_backward(dout, x, w1, b1, w2, b2)
        p = w1.shape[-1] // 2
        s = cnnlib.conv2d(cnnlib.relu(cnnlib.conv2d(x, w1, b1, padding=p)), w2, b2, padding=p) + x
        return (dx - cnnlib.relu_backward(dout, s), *rest)

    assert "gradient of the skip path forgotten" in _mistake("residual_block_backward", bcase, skip_gradient_forgotten)

    pcase = dict(c_in=240, c_out=60, kernel_size=1, groups=3, bias=False)
    groups_ignored = lambda c_in, c_out, kernel_size, groups=1, bias=True: conv2d_params(c_in, c_out, kernel_size, 1, bias)  # noqa: E731
    assert "groups ignored" in checks.explain("conv2d_params", pcase, groups_ignored(**pcase))

    scase = dict(c_in=32, c_out=64, kernel_size=3, bias=True)
    full = lambda c_in, c_out, kernel_size, bias=True: conv2d_params(c_in, c_in, kernel_size, 1, bias) + conv2d_params(c_in, c_out, 1, 1, bias)  # noqa: E731
    assert "depthwise step counted as a full convolution" in checks.explain("depthwise_separable_params", scase,
                                                                            full(**scase))


def test_reference_mistake_helpers_differ_from_the_truth():
    case = checks.cases("residual_block_backward", np.random.default_rng(3), 0)[0]
    right = ref.residual_block_backward(**case)
    wrong = ref.residual_block_backward(**case, skip_after_relu=True)
    assert not np.allclose(right[0], wrong[0])
