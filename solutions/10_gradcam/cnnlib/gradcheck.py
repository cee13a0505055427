"""Numerical gradient checking: compare a backward function with central differences.

A backward function is right when, for an upstream gradient ``dout``, it returns the gradient
of the scalar L(x) = sum(f(x) * dout) with respect to each input. Central differences estimate
that gradient one entry at a time, independently of any derivation:

    dL/dx[i] ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

with an error of order eps**2 (plus round-off of order 1e-16 / eps), so the estimate is made in
float64. Usage (chapter 6 of the book)::

    from cnnlib.gradcheck import gradcheck
    dx, dw, db = conv2d_backward(dout, x, w, stride, padding)
    gradcheck(lambda x, w, b: conv2d(x, w, b, stride, padding),
              {"x": x, "w": w, "b": b}, {"x": dx, "w": dw, "b": db}, dout)

``gradcheck`` raises :class:`GradcheckError` (an AssertionError, so it reads as a failed test)
naming the input, the index, the two values and the relative error of the worst entry.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["GradcheckError", "GradcheckResult", "gradcheck", "numerical_gradient", "relative_error"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one. ``results`` holds every comparison."""

    def __init__(self, message: str, results: dict[str, "GradcheckResult"]):
        super().__init__(message)
        self.results = results


@dataclass(frozen=True)
class GradcheckResult:
    """The comparison of one input's analytic gradient with its numerical estimate.

    max_rel_error: the largest relative error over all entries (see ``relative_error``);
    index: where it occurs (a tuple, () for a 0-d input); analytic, numerical: the two values there;
    passed: max_rel_error <= rtol.
    """

    name: str
    max_rel_error: float
    index: tuple[int, ...]
    analytic: float
    numerical: float
    passed: bool

    def __str__(self) -> str:
        verdict = "ok" if self.passed else "WRONG"
        return (f"d{self.name}: {verdict}, max relative error {self.max_rel_error:.3e} at index "
                f"{list(self.index)} (analytic {self.analytic:.8g}, numerical {self.numerical:.8g})")


def _float64(name: str, a: Any) -> np.ndarray:
    arr = np.asarray(a)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    return np.array(arr, dtype=np.float64, copy=True)


def numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, dout: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of L(x) = sum(f(x) * dout) with respect to x, in float64.

    f: a function of one array; it is called with float64 arrays of x's shape and must return
    an array of dout's shape (a scalar if dout is a scalar). x: any shape; it is not modified.
    dout: the upstream gradient, shape of f(x). eps: the step, > 0.
    Returns an array of x's shape and dtype float64 with
    grad[i] = sum((f(x + eps e_i) - f(x - eps e_i)) * dout) / (2 eps).
    Costs 2 * x.size calls of f: use small shapes.
    """
    if not (isinstance(eps, (int, float, np.floating)) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    xv = _float64("x", x)
    d = _float64("dout", dout)
    out = np.asarray(f(xv.copy()))
    if out.shape != d.shape:
        raise ValueError(f"f(x) has shape {out.shape} but dout has shape {d.shape}; they must match")
    grad = np.zeros(xv.shape, dtype=np.float64)
    flat, gflat = xv.reshape(-1), grad.reshape(-1)  # views: writing flat[i] perturbs xv
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = np.asarray(f(xv.copy()), dtype=np.float64)
        flat[i] = old - eps
        minus = np.asarray(f(xv.copy()), dtype=np.float64)
        flat[i] = old
        # Subtract before summing: the difference of two nearby outputs is exact to round-off,
        # while the difference of two large sums would lose digits.
        gflat[i] = np.sum((plus - minus) * d) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numerical: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Entrywise |a - n| / max(|a|, |n|, floor), for arrays of one shape.

    The floor keeps two tiny gradients (say 1e-9 and 2e-9, both round-off around a true zero)
    from counting as 100% apart: entries smaller than floor are compared by their absolute error
    divided by floor.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


def gradcheck(
    f: Callable[..., Any],
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    grads: Mapping[str, np.ndarray | None] | Sequence[np.ndarray | None],
    dout: np.ndarray,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    floor: float = 1e-3,
    raise_on_failure: bool = True,
) -> dict[str, GradcheckResult]:
    """Check analytic gradients of f against central differences, one input at a time.

    f: called as f(**inputs) for a mapping, f(*inputs) for a sequence; returns an array of
    dout's shape. inputs: the arrays at which to check (any shapes; float64 copies are used, so
    f must accept float64 for every input). grads: the analytic gradients, same keys (or order)
    and same shapes as inputs; an entry None skips that input (for example a bias that is None).
    dout: the upstream gradient, shape of f's output. eps: the finite-difference step.
    An input passes when max relative_error(analytic, numerical, floor) <= rtol; with the
    defaults in float64 that allows round-off of about rtol * floor = 1e-8 on near-zero entries.
    Returns {name: GradcheckResult} (names "0", "1", ... for sequences). Raises GradcheckError
    naming the first failing input, its worst index and both values if any input fails and
    raise_on_failure; raises ValueError if a gradient's shape differs from its input's.
    """
    if isinstance(inputs, Mapping):
        names = list(inputs)
        if not isinstance(grads, Mapping) or set(grads) != set(names):
            raise ValueError(f"grads must have the same keys as inputs {names}, got "
                             f"{list(grads) if isinstance(grads, Mapping) else type(grads).__name__}")
        values = [_float64(k, inputs[k]) for k in names]
        given = [grads[k] for k in names]
    else:
        values = [_float64(f"inputs[{i}]", v) for i, v in enumerate(inputs)]
        names = [str(i) for i in range(len(values))]
        given = list(grads)
        if len(given) != len(values):
            raise ValueError(f"grads has {len(given)} entries but inputs has {len(values)}")
    keyed = isinstance(inputs, Mapping)

    def call(vals: list[np.ndarray]) -> Any:
        return f(**dict(zip(names, vals))) if keyed else f(*vals)

    results: dict[str, GradcheckResult] = {}
    for i, (name, g) in enumerate(zip(names, given)):
        if g is None:
            continue
        g = np.asarray(g)
        if g.shape != values[i].shape:
            raise ValueError(f"gradient for {name} has shape {g.shape} but {name} has shape {values[i].shape}")

        def f_i(v: np.ndarray, i: int = i) -> Any:
            return call(values[:i] + [v] + values[i + 1:])

        num = numerical_gradient(f_i, values[i], dout, eps)
        err = relative_error(g, num, floor)
        if err.size == 0:
            results[name] = GradcheckResult(name, 0.0, (), 0.0, 0.0, True)
            continue
        worst = np.unravel_index(int(np.argmax(err)), err.shape)
        idx = tuple(int(j) for j in worst)
        worst_err = float(err[worst])
        results[name] = GradcheckResult(name, worst_err, idx, float(g[worst]), float(num[worst]),
                                        bool(worst_err <= rtol))
    failed = [r for r in results.values() if not r.passed]
    if failed and raise_on_failure:
        lines = [f"gradient check failed for {', '.join('d' + r.name for r in failed)} (rtol {rtol:g}):"]
        lines += [f"  {r}" for r in results.values()]
        raise GradcheckError("\n".join(lines), results)
    return results
