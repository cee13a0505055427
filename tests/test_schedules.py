"""cnnlib.schedules: step and cosine schedules give torch.optim.lr_scheduler's learning rates."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnlib import Linear, Sequential
from cnnlib.optim import SGD
from cnnlib.schedules import CosineAnnealingLR, StepLR, cosine_lr, step_lr
from helpers import assert_value_error


def _torch_lrs(make, epochs: int) -> list[float]:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        p.grad = torch.zeros(1)
        opt.step()
        sched.step()
    return lrs


def _ours(make, epochs: int) -> list[float]:
    opt = SGD(Sequential(Linear(2, 2)), lr=0.1)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.lr)
        sched.step()
    return lrs


@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (3, 0.1), (4, 0.7)])
def test_step_lr_matches_torch(step_size, gamma):
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma), 12)
    got = _ours(lambda o: StepLR(o, step_size, gamma), 12)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("t_max, eta_min", [(10, 0.0), (7, 0.01)])
def test_cosine_matches_torch(t_max, eta_min):
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, t_max, eta_min), t_max + 1)
    got = _ours(lambda o: CosineAnnealingLR(o, t_max, eta_min), t_max + 1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_hand_values_and_errors():
    assert step_lr(5, 1.0, 2, 0.5) == 0.25
    assert cosine_lr(0, 1.0, 4) == 1.0 and math.isclose(cosine_lr(2, 1.0, 4), 0.5) and math.isclose(cosine_lr(4, 1.0, 4), 0.0, abs_tol=1e-15)
    assert_value_error(lambda: step_lr(-1, 0.1, 2), ["epoch", "-1"])
    assert_value_error(lambda: cosine_lr(1, 0.1, 0), ["t_max", "0"])
