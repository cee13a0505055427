"""Learning-rate schedules: step decay and cosine annealing, as torch.optim.lr_scheduler computes them.

The functions give the learning rate of epoch ``epoch`` (0 for the first) in closed form; the
classes set ``optimizer.lr`` and are stepped once per epoch, after the epoch, like PyTorch's
``StepLR`` and ``CosineAnnealingLR``:

    step:    lr(e) = lr0 * gamma ** (e // step_size)
    cosine:  lr(e) = eta_min + (lr0 - eta_min) * (1 + cos(pi * e / T_max)) / 2      (0 <= e <= T_max)
"""
from __future__ import annotations

import math
from typing import Any

__all__ = ["step_lr", "cosine_lr", "StepLR", "CosineAnnealingLR"]


def _epoch(epoch: int) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
    return epoch


def step_lr(epoch: int, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    """Learning rate of ``epoch``: ``lr0`` multiplied by ``gamma`` every ``step_size`` epochs."""
    if not isinstance(step_size, int) or step_size < 1:
        raise ValueError(f"step_size must be an int >= 1, got {step_size!r}")
    return lr0 * gamma ** (_epoch(epoch) // step_size)


def cosine_lr(epoch: int, lr0: float, t_max: int, eta_min: float = 0.0) -> float:
    """Learning rate of ``epoch``: half a cosine from ``lr0`` (epoch 0) down to ``eta_min`` (epoch t_max)."""
    if not isinstance(t_max, int) or t_max < 1:
        raise ValueError(f"t_max must be an int >= 1, got {t_max!r}")
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * _epoch(epoch) / t_max)) / 2


class _Schedule:
    def __init__(self, optimizer: Any) -> None:
        if not hasattr(optimizer, "lr"):
            raise ValueError(f"optimizer must have an lr attribute, got {type(optimizer).__name__}")
        self.optimizer, self.lr0, self.epoch = optimizer, float(optimizer.lr), 0

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> float:
        """Call once after each epoch: moves to the next epoch and sets optimizer.lr; returns it."""
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)
        return self.optimizer.lr


class StepLR(_Schedule):
    """``torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)``."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma
        step_lr(0, self.lr0, step_size, gamma)  # validates

    def lr_at(self, epoch: int) -> float:
        return step_lr(epoch, self.lr0, self.step_size, self.gamma)


class CosineAnnealingLR(_Schedule):
    """``torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max, eta_min)`` for epochs 0..T_max."""

    def __init__(self, optimizer: Any, t_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.t_max, self.eta_min = t_max, eta_min
        cosine_lr(0, self.lr0, t_max, eta_min)

    def lr_at(self, epoch: int) -> float:
        return cosine_lr(epoch, self.lr0, self.t_max, self.eta_min)
