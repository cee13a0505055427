"""cnnlib.dropout: inverted dropout as torch computes it, train/eval behaviour, and the checks."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnlib
from cnnlib import Dropout, Linear, Sequential, dropout, dropout_backward
from cnnlib.checks import check
from helpers import assert_close, assert_value_error


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_same_mask_as_torch_gives_torch_output(p):
    """Run torch's own dropout, recover its mask, express it as draws u, and get torch's output."""
    torch.manual_seed(0)
    x = torch.randn(6, 50, dtype=torch.float64)
    out = torch.nn.functional.dropout(x, p, training=True).numpy()
    kept = out != 0
    u = np.where(kept, p + (1 - p) * 0.5, p * 0.5)
    assert_close(dropout(x.numpy(), p, u), out, "dropout with torch's mask")


def test_backward_by_autograd_and_float32():
    rng = np.random.default_rng(1)
    x, u, dout = rng.standard_normal((3, 4)), rng.random((3, 4)), rng.standard_normal((3, 4))
    xt = torch.tensor(x, requires_grad=True)
    (xt * torch.tensor(u >= 0.3) / 0.7).backward(torch.tensor(dout))
    assert_close(dropout_backward(dout, 0.3, u), xt.grad.numpy(), "dx")
    x32 = x.astype(np.float32)
    assert dropout(x32, 0.3, u.astype(np.float32)).dtype == np.float32


def test_layer_keeps_the_mean_in_training_and_is_the_identity_in_eval():
    layer = Dropout(0.5, rng=np.random.default_rng(0))
    x = np.ones((200, 500))
    y = layer.forward(x)
    assert set(np.unique(y)) == {0.0, 2.0}
    assert abs(y.mean() - 1.0) < 0.01 and abs((y == 0).mean() - 0.5) < 0.01  # inverted scaling keeps E[y] = x
    dx = layer.backward(np.ones_like(x))
    assert_close(dx, y, "backward uses the forward pass's mask")
    layer.eval()
    assert layer.forward(x) is x and layer.backward(x) is x
    net = Sequential(Linear(4, 4), Dropout(0.5)).eval()
    assert not net[1].training


@pytest.mark.parametrize("name", ["dropout", "dropout_backward"])
def test_reference_passes_its_check(name, capsys):
    check(name, getattr(cnnlib, name), seed=2, n=10)
    assert "agree with PyTorch" in capsys.readouterr().out


@pytest.mark.parametrize("fn, cause", [
    (lambda x, p, u: x * (u >= p), "not rescaled"),
    (lambda x, p, u: x * (u < p) / (1 - p), "kept where u < p"),
])
def test_check_names_the_typical_mistake(fn, cause):
    with pytest.raises(AssertionError, match=f"Likely cause: {cause}"):
        check("dropout", fn)


def test_bad_arguments():
    x = np.ones((2, 2))
    assert_value_error(lambda: dropout(x, 1.0, x), ["p", "[0, 1)", "1.0"])
    assert_value_error(lambda: dropout(x, 0.5, np.ones((2, 3))), ["(2, 2)", "(2, 3)"])
