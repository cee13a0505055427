"""cnnlib.lenet: the NumPy LeNet-5 is cnnlib.models.LeNet5 (same parameters, same logits, same
gradients as torch in float64), and its weights files are read safely."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlib import cross_entropy, cross_entropy_backward
from cnnlib.lenet import N_PARAMETERS, SHAPES, lenet5, load_weights, read_weights, save_weights, torch_names
from cnnlib.models import LeNet5, count_parameters
from helpers import assert_close


def test_parameter_count_and_names():
    net = lenet5(np.random.default_rng(0))
    assert N_PARAMETERS == 61_706 == sum(v.size for _, v, _ in net.parameters()) == count_parameters(LeNet5())
    assert {k: v.shape for k, v, _ in net.parameters()} == SHAPES


def test_same_logits_and_gradients_as_torch_lenet5():
    rng = np.random.default_rng(1)
    net = lenet5(rng, dtype=np.float64)
    model = LeNet5().double()
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in
                           torch_names({n: v for n, v, _ in net.parameters()}).items()})
    x, y = rng.standard_normal((3, 1, 28, 28)), np.array([1, 7, 3])
    logits = net.forward(x)
    xt = torch.from_numpy(x)
    loss = torch.nn.functional.cross_entropy(model(xt), torch.from_numpy(y))
    loss.backward()
    assert_close(logits, model(xt).detach().numpy(), "logits")
    assert cross_entropy(logits, y) == pytest.approx(loss.item(), rel=1e-12)
    assert net.backward(cross_entropy_backward(logits, y)) is None  # conv 1 skips the images' gradient
    grads = dict(model.named_parameters())
    for (name, _, g), tname in zip(net.parameters(), torch_names(dict.fromkeys(SHAPES))):
        assert_close(g, grads[tname].grad.numpy(), f"gradient of {name}")


def test_save_and_load_round_trip(tmp_path):
    a, b = lenet5(np.random.default_rng(2)), lenet5(np.random.default_rng(3))
    path = save_weights(a, tmp_path / "w.npz")
    load_weights(b, path)
    for (_, va, _), (_, vb, _) in zip(a.parameters(), b.parameters()):
        assert np.array_equal(va, vb)


def _write(path, arrays, **kw):
    with open(path, "wb") as f:
        np.savez(f, **arrays, **kw)
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda w: w.pop("11.bias"), "missing arrays ['11.bias']"),
    (lambda w: w.update({"0.weight": np.zeros((6, 1, 3, 3), np.float32)}), "0.weight has shape (6, 1, 3, 3)"),
    (lambda w: w.update({"3.bias": np.full(16, np.nan, np.float32)}), "NaN or infinite"),
    (lambda w: w.update({"7.bias": np.zeros(120, np.int64)}), "dtype int64"),
    (lambda w: w.update({"extra": np.zeros(1)}), "unexpected arrays ['extra']"),
    (lambda w: w.update({"9.bias": np.array([object()] * 84)}), "not a readable .npz"),
])
def test_bad_weights_files_are_refused_with_a_reason(tmp_path, edit, message):
    w = {k: v.copy() for k, v, _ in lenet5(np.random.default_rng(0)).parameters()}
    edit(w)
    path = _write(tmp_path / "bad.npz", w)
    with pytest.raises(ValueError) as info:
        read_weights(path)
    assert message in str(info.value)


def test_not_an_npz(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="not a readable .npz"):
        read_weights(tmp_path / "x.npz")
    with pytest.raises(ValueError, match="no weights file"):
        read_weights(tmp_path / "missing.npz")


def test_weights_grader_thresholds_and_refusals(tmp_path):
    """cnngrader.weights: points by the stated thresholds; no file / a bad file earn 0 with the reason."""
    from cnngrader.weights import POINTS, grade, points_for

    assert points_for(0.991, "mnist") == POINTS and points_for(0.96, "mnist") == POINTS / 2
    assert points_for(0.949, "mnist") == 0
    assert points_for(0.95, "offline") == POINTS and points_for(0.93, "offline") == POINTS / 2
    assert points_for(0.899, "offline") == 0
    points, report = grade(tmp_path)
    assert points == 0 and "no lenet5_weights.npz" in report
    w = {k: v for k, v, _ in lenet5(np.random.default_rng(0)).parameters()}
    w["11.weight"] = w["11.weight"][:5]
    _write(tmp_path / "lenet5_weights.npz", w)
    points, report = grade(tmp_path)
    assert points == 0 and "11.weight has shape (5, 84), expected (10, 84)" in report
