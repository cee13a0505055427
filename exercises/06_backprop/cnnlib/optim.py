"""Optimizers: the update rules of SGD (momentum, Nesterov, weight decay), Adam, RMSProp and Adadelta.

Two levels, like the rest of cnnlib:

- *update rules* (functions, graded): one step for one parameter array. Each takes the
  parameter, its gradient and the optimizer's state for it, and returns the new parameter and
  the new state; nothing is modified in place. The formulas are exactly those of
  ``torch.optim`` (see each docstring), so that a step here and a step there agree to rounding.
- *optimizer objects* (``SGD``, ``Adam``, ``RMSProp``, ``Adadelta``): hold the learning rate and
  the state of every parameter of a model (a cnnlib ``Layer``), and on ``step()`` apply the rule
  to each parameter with the gradient that the last ``backward`` stored, in place.

Every array keeps the dtype of ``param``; hyperparameters are Python floats.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import same_shape

__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adadelta_step", "Optimizer", "SGD", "Adam", "RMSProp",
           "Adadelta"]


def _check(param: np.ndarray, **arrays: np.ndarray) -> None:
    same_shape(param=param, **arrays)  # float arrays of one shape and dtype, else ValueError naming them


def _positive(name: str, value: float, allow_zero: bool = True) -> None:
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}")


def sgd_step(param: np.ndarray, grad: np.ndarray, velocity: np.ndarray, lr: float, momentum: float = 0.0,
             weight_decay: float = 0.0, nesterov: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """One step of stochastic gradient descent, as ``torch.optim.SGD`` (dampening 0).

    Inputs:
    - param: (any shape) float array, the parameter before the step.
    - grad: (same shape) the gradient of the loss with respect to param.
    - velocity: (same shape) the momentum buffer (zeros before the first step).
    - lr, momentum, weight_decay: floats >= 0; nesterov: Nesterov momentum (needs momentum > 0).

    Returns (new_param, new_velocity), each of param's shape and dtype:
        g = grad + weight_decay * param
        velocity' = momentum * velocity + g
        new_param = param - lr * (g + momentum * velocity')   if nesterov
                    param - lr * velocity'                    otherwise
    With momentum 0 the velocity is just g and this is plain gradient descent.
    """
    _check(param, grad=grad, velocity=velocity)
    for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
        _positive(name, value)
    if nesterov and momentum == 0:
        raise ValueError("nesterov=True needs momentum > 0, got momentum=0")
    # YOUR CODE HERE
    raise NotImplementedError("sgd_step is not written yet: see its docstring in cnnlib/optim.py")


def adam_step(param: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float = 1e-3,
              beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
              weight_decay: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of Adam (Kingma and Ba, 2015), as ``torch.optim.Adam``.

    Inputs:
    - param, grad: (any shape) float arrays.
    - m, v: (same shape) the running averages of the gradient and of its square (zeros at first).
    - t: int >= 1, the number of this step (1 for the first step).
    - lr, beta1, beta2, eps, weight_decay: floats (0 <= beta < 1).

    Returns (new_param, new_m, new_v), each of param's shape and dtype:
        g = grad + weight_decay * param
        m' = beta1 * m + (1 - beta1) * g
        v' = beta2 * v + (1 - beta2) * g**2
        m_hat = m' / (1 - beta1**t),   v_hat = v' / (1 - beta2**t)      (bias correction)
        new_param = param - lr * m_hat / (sqrt(v_hat) + eps)
    """
    _check(param, grad=grad, m=m, v=v)
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1:
        raise ValueError(f"t must be the step number, an int >= 1, got {t!r}")
    for name, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
        _positive(name, value)
    for name, value in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= value < 1:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    # YOUR CODE HERE
    raise NotImplementedError("adam_step is not written yet: see its docstring in cnnlib/optim.py")


def rmsprop_step(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray, lr: float = 1e-2,
                 alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One step of RMSProp (Tieleman and Hinton, 2012), as ``torch.optim.RMSprop`` (not centered, no momentum).

    Inputs:
    - param, grad: (any shape) float arrays.
    - square_avg: (same shape) running average of the squared gradient (zeros at first).
    - lr, alpha (the decay, 0 <= alpha < 1), eps, weight_decay: floats.

    Returns (new_param, new_square_avg), each of param's shape and dtype:
        g = grad + weight_decay * param
        square_avg' = alpha * square_avg + (1 - alpha) * g**2
        new_param = param - lr * g / (sqrt(square_avg') + eps)
    """
    _check(param, grad=grad, square_avg=square_avg)
    for name, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
        _positive(name, value)
    if not 0 <= alpha < 1:
        raise ValueError(f"alpha must be in [0, 1), got {alpha!r}")
    # YOUR CODE HERE
    raise NotImplementedError("rmsprop_step is not written yet: see its docstring in cnnlib/optim.py")


def adadelta_step(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray, acc_delta: np.ndarray,
                  lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                  weight_decay: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``; seed 004's MNIST example uses it.

    Inputs:
    - param, grad: (any shape) float arrays.
    - square_avg: (same shape) running average of the squared gradient (zeros at first).
    - acc_delta: (same shape) running average of the squared update (zeros at first).
    - lr, rho (0 <= rho < 1), eps, weight_decay: floats.

    Returns (new_param, new_square_avg, new_acc_delta), each of param's shape and dtype:
        g = grad + weight_decay * param
        square_avg' = rho * square_avg + (1 - rho) * g**2
        delta = sqrt(acc_delta + eps) / sqrt(square_avg' + eps) * g
        acc_delta' = rho * acc_delta + (1 - rho) * delta**2
        new_param = param - lr * delta
    """
    _check(param, grad=grad, square_avg=square_avg, acc_delta=acc_delta)
    for name, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
        _positive(name, value)
    if not 0 <= rho < 1:
        raise ValueError(f"rho must be in [0, 1), got {rho!r}")
    # YOUR CODE HERE
    raise NotImplementedError("adadelta_step is not written yet: see its docstring in cnnlib/optim.py")


# ---------------------------------------------------------------- optimizer objects


class Optimizer:
    """Base class: applies an update rule to every parameter of ``model`` (a cnnlib Layer).

    ``lr`` may be changed between steps (a schedule does). ``state[name]`` holds each
    parameter's buffers, created as zeros on its first step. Parameters are updated in place,
    so the layers keep working on the same arrays.
    """

    def __init__(self, model: Any, lr: float) -> None:
        if not hasattr(model, "parameters"):
            raise ValueError(f"model must be a cnnlib Layer (with .parameters()), got {type(model).__name__}")
        _positive("lr", lr, allow_zero=False)
        self.model, self.lr, self.initial_lr = model, float(lr), float(lr)
        self.state: dict[str, dict[str, Any]] = {}
        self.steps = 0

    def step(self) -> None:
        """Update every parameter with the gradient stored by the last ``model.backward``."""
        self.steps += 1
        for name, value, grad in self.model.parameters():
            if grad is None:
                raise RuntimeError(f"parameter {name} has no gradient: call model.backward(...) before step()")
            state = self.state.setdefault(name, {})
            new = self._update(value, grad, state)
            value[...] = new

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in vars(self).items() if k not in ("model", "state", "initial_lr", "steps"))
        return f"{type(self).__name__}({args})"


def _zeros(state: dict[str, Any], key: str, like: np.ndarray) -> np.ndarray:
    if key not in state:
        state[key] = np.zeros_like(like)
    return state[key]


class SGD(Optimizer):
    """``torch.optim.SGD(params, lr, momentum, weight_decay=..., nesterov=...)`` over a cnnlib model."""

    def __init__(self, model: Any, lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        super().__init__(model, lr)
        self.momentum, self.weight_decay, self.nesterov = momentum, weight_decay, nesterov

    def _update(self, param, grad, state):
        new, state["velocity"] = sgd_step(param, grad, _zeros(state, "velocity", param), self.lr, self.momentum,
                                          self.weight_decay, self.nesterov)
        return new


class Adam(Optimizer):
    """``torch.optim.Adam(params, lr, betas=(beta1, beta2), eps, weight_decay)`` over a cnnlib model."""

    def __init__(self, model: Any, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(model, lr)
        self.beta1, self.beta2, self.eps, self.weight_decay = beta1, beta2, eps, weight_decay

    def _update(self, param, grad, state):
        state["t"] = state.get("t", 0) + 1
        new, state["m"], state["v"] = adam_step(param, grad, _zeros(state, "m", param), _zeros(state, "v", param),
                                                state["t"], self.lr, self.beta1, self.beta2, self.eps,
                                                self.weight_decay)
        return new


class RMSProp(Optimizer):
    """``torch.optim.RMSprop(params, lr, alpha, eps, weight_decay)`` over a cnnlib model."""

    def __init__(self, model: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(model, lr)
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay

    def _update(self, param, grad, state):
        new, state["square_avg"] = rmsprop_step(param, grad, _zeros(state, "square_avg", param), self.lr,
                                                self.alpha, self.eps, self.weight_decay)
        return new


class Adadelta(Optimizer):
    """``torch.optim.Adadelta(params, lr, rho, eps, weight_decay)`` over a cnnlib model."""

    def __init__(self, model: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0) -> None:
        super().__init__(model, lr)
        self.rho, self.eps, self.weight_decay = rho, eps, weight_decay

    def _update(self, param, grad, state):
        new, state["square_avg"], state["acc_delta"] = adadelta_step(
            param, grad, _zeros(state, "square_avg", param), _zeros(state, "acc_delta", param), self.lr, self.rho,
            self.eps, self.weight_decay)
        return new
