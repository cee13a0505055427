"""cnnlib.optim: every update rule and optimizer agrees with torch.optim step by step.

The optimizer objects run 60 steps on a small cnnlib network in float64, side by side with
torch.optim on a copy of the same parameters: each step feeds both the SAME gradients (those of
the current parameters, which are equal as long as the trajectories agree), so a difference at
any step shows. The checks (cnnlib.checks) pass for the reference and name typical mistakes.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnlib
from cnnlib import Linear, ReLU, Sequential
from cnnlib.checks import check
from cnnlib.optim import SGD, Adadelta, Adam, RMSProp, adam_step, sgd_step
from helpers import assert_close, assert_value_error

CONFIGS = [
    (SGD, torch.optim.SGD, dict(lr=0.1)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    (Adam, torch.optim.Adam, dict(lr=0.01)),
    (Adam, torch.optim.Adam, dict(lr=0.003, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.01)),
    (RMSProp, torch.optim.RMSprop, dict(lr=0.003)),
    (RMSProp, torch.optim.RMSprop, dict(lr=0.001, alpha=0.9, weight_decay=0.01)),
    (Adadelta, torch.optim.Adadelta, dict(lr=1.0)),
    (Adadelta, torch.optim.Adadelta, dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.01)),
]


def _torch_kwargs(kw: dict) -> dict:
    kw = dict(kw)
    if "beta1" in kw:
        kw["betas"] = (kw.pop("beta1"), kw.pop("beta2"))
    return kw


@pytest.mark.parametrize("ours, theirs, kw", CONFIGS, ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_optimizer_matches_torch_for_60_steps(ours, theirs, kw):
    rng = np.random.default_rng(0)
    net = Sequential(Linear(6, 5, rng=rng, dtype=np.float64), ReLU(), Linear(5, 3, rng=rng, dtype=np.float64))
    tparams = {name: torch.tensor(v.copy(), requires_grad=True) for name, v, _ in net.parameters()}
    opt = ours(net, **kw)
    topt = theirs(list(tparams.values()), foreach=False, **_torch_kwargs(kw))
    x = rng.standard_normal((16, 6))
    y = rng.integers(0, 3, 16)
    for step in range(60):
        logits = net.forward(x)
        net.backward(cnnlib.cross_entropy_backward(logits, y))
        for name, _, g in net.parameters():
            tparams[name].grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        for name, v, _ in net.parameters():
            assert_close(v, tparams[name].detach().numpy(), f"{ours.__name__} {kw} step {step + 1}: {name}", 1e-11)
    assert opt.steps == 60


@pytest.mark.parametrize("name", ["sgd_step", "adam_step", "rmsprop_step", "adadelta_step"])
def test_reference_passes_its_check(name, capsys):
    check(name, getattr(cnnlib, name), seed=3, n=12)
    assert "agree with PyTorch" in capsys.readouterr().out


def _adam_no_bias_correction(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return param - lr * m / (np.sqrt(v) + eps), m, v


def _adam_eps_inside(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return param - lr * (m / (1 - beta1 ** t)) / np.sqrt(v / (1 - beta2 ** t) + eps), m, v


def _sgd_lr_in_velocity(param, grad, velocity, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * param
    v = momentum * velocity + lr * g
    return param - v, v


def _sgd_dampened(param, grad, velocity, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * param
    v = momentum * velocity + (1 - momentum) * g
    return param - lr * v, v


def _sgd_no_nesterov(param, grad, velocity, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    return sgd_step(param, grad, velocity, lr, momentum, weight_decay, False)


def _rmsprop_eps_inside(param, grad, square_avg, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    sq = alpha * square_avg + (1 - alpha) * g * g
    return param - lr * g / np.sqrt(sq + eps), sq


def _adadelta_no_lr(param, grad, square_avg, acc_delta, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    return cnnlib.adadelta_step(param, grad, square_avg, acc_delta, 1.0, rho, eps, weight_decay)


MUTANTS = [
    ("adam_step", _adam_no_bias_correction, "bias correction missing"),
    ("adam_step", _adam_eps_inside, "eps inside the square root"),
    ("sgd_step", _sgd_lr_in_velocity, "learning rate inside the velocity"),
    ("sgd_step", _sgd_dampened, "momentum applied wrongly"),
    ("sgd_step", _sgd_no_nesterov, "Nesterov ignored"),
    ("rmsprop_step", _rmsprop_eps_inside, "eps inside the square root"),
    ("adadelta_step", _adadelta_no_lr, "learning rate ignored"),
]


@pytest.mark.parametrize("name, fn, cause", MUTANTS, ids=[m[1].__name__ for m in MUTANTS])
def test_check_names_the_typical_mistake(name, fn, cause):
    with pytest.raises(AssertionError, match=f"Likely cause: {cause}"):
        check(name, fn, seed=1)


def test_sgd_first_step_by_hand():
    p, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    new, v = sgd_step(p, g, np.zeros(2), lr=0.1, momentum=0.9, weight_decay=0.1)
    # g' = g + 0.1 p = (0.6, 0.05); v = g'; p - 0.1 v
    assert_close(v, np.array([0.6, 0.05]), "velocity")
    assert_close(new, np.array([0.94, -2.005]), "param")


def test_adam_first_step_moves_every_weight_by_lr():
    """With bias correction the first Adam step is lr * sign(g) (up to eps), whatever the scale of g."""
    p, g = np.zeros(4), np.array([1e-3, -5.0, 2.0, -1e-4])
    new, _, _ = adam_step(p, g, np.zeros(4), np.zeros(4), t=1, lr=0.01)
    assert_close(new, -0.01 * np.sign(g), "first step", 1e-4)


def test_float32_stays_float32_and_bad_arguments_are_named():
    p = np.ones(3, np.float32)
    new, v = sgd_step(p, p, p, 0.1, 0.9)
    assert new.dtype == v.dtype == np.float32
    assert_value_error(lambda: sgd_step(p, np.ones(4, np.float32), p, 0.1), ["grad", "(4,)", "(3,)"])
    assert_value_error(lambda: adam_step(p, p, p, p, t=0), ["t must be", "0"])
    assert_value_error(lambda: sgd_step(p, p, p, -1.0), ["lr", "-1.0"])
    assert_value_error(lambda: sgd_step(p, p, p, 0.1, nesterov=True), ["nesterov"])
    with pytest.raises(RuntimeError, match="backward"):
        SGD(Sequential(Linear(2, 2)), lr=0.1).step()
