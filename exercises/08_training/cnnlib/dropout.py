"""Dropout (Srivastava et al., 2014), "inverted": scaled at training time, the identity at test time.

During training each value is zeroed with probability ``p`` and the survivors are divided by
``1 - p``, so that the expected output equals the input and nothing changes at test time
(``torch.nn.functional.dropout`` does the same). The randomness is an argument: ``u`` holds one
uniform draw in [0, 1) per value, and a value is KEPT where ``u >= p``. Passing ``u`` makes the
functions deterministic, so that they can be checked and differentiated; the ``Dropout`` layer
draws ``u`` from its generator.
"""
from __future__ import annotations

import numpy as np

from ._validate import same_shape
from .layers import Layer

__all__ = ["dropout", "dropout_backward", "Dropout"]


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p < 1:
        raise ValueError(f"p (the probability of dropping a value) must be a number in [0, 1), got {p!r}")
    return float(p)


def dropout(x: np.ndarray, p: float, u: np.ndarray) -> np.ndarray:
    """Inverted dropout, training mode.

    Inputs:
    - x: (any shape) float array.
    - p: float in [0, 1), the probability of dropping each value.
    - u: (x's shape, x's dtype) uniform draws in [0, 1); value i is kept where u[i] >= p.

    Returns (x's shape and dtype): x[i] / (1 - p) where kept, 0 where dropped.
    """
    same_shape(x=x, u=u)
    p = _check_p(p)
    # YOUR CODE HERE
    raise NotImplementedError("dropout is not written yet: see its docstring in cnnlib/dropout.py")


def dropout_backward(dout: np.ndarray, p: float, u: np.ndarray) -> np.ndarray:
    """Gradient of ``dropout(x, p, u)`` with respect to x.

    Inputs:
    - dout: (any shape) upstream gradient, float.
    - p, u: as in the forward pass (the same draws).

    Returns dx (dout's shape and dtype): dout[i] / (1 - p) where kept, 0 where dropped.
    """
    same_shape(dout=dout, u=u)
    p = _check_p(p)
    # YOUR CODE HERE
    raise NotImplementedError("dropout_backward is not written yet: see its docstring in cnnlib/dropout.py")


class Dropout(Layer):
    """Like torch.nn.Dropout(p): drops and rescales in training mode, the identity in eval mode."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.rng = rng or np.random.default_rng()
        self._u: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0:
            self._u = None
            return x
        self._u = self.rng.random(x.shape, dtype=x.dtype if x.dtype in (np.float32, np.float64) else np.float64)
        return dropout(x, self.p, self._u)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._u is None:
            return dout
        return dropout_backward(dout, self.p, self._u)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
