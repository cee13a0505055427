"""Checks that compare a cnnlib function with PyTorch and say, in words, what is wrong.

One mechanism serves the students' visible checks (``check``, run in their notebook) and the
instructors' hidden tests (which draw fresh cases at grading time and run the student's code in
another process): ``cases`` draws inputs, ``explain`` compares an output with the reference and,
when they differ, names the likely cause by comparing the output with the results of typical
mistakes ("mutants", see ``cnnlib.check_cases``) computed with PyTorch.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import numpy as np

from . import check_cases as cc
from . import reference as ref
from .check_cases import SEED_FEATURE_MAP, SEED_IMAGE, SEED_KERNEL, Case, Mutants

__all__ = ["SPECS", "Spec", "cases", "check", "explain", "SEED_IMAGE", "SEED_KERNEL", "SEED_FEATURE_MAP"]


@dataclass(frozen=True)
class Spec:
    """What one graded function must do: its inputs, its reference and its typical mistakes.

    output: "array" (same dtype as the argument ``dtype_from``), "arrays" (a tuple named by
    ``names``, e.g. (dx, dw, db)), "scalar" (a real number) or "int" (a Python/NumPy integer).
    """

    function: str
    cases: Callable[[np.random.Generator, int], list[Case]]
    reference: Callable[..., Any]
    mutants: Callable[[Case], Mutants]
    output: str = "array"
    dtype_from: str | None = None
    names: tuple[str, ...] = ()
    nonfinite_hint: str = ""


_STABLE = " Subtract the maximum along the axis before exponentiating, so exp never overflows."
_ACT_B = partial(cc.elementwise_cases, backward=True)

SPECS: dict[str, Spec] = {
    # chapter 1
    "corr2d": Spec("corr2d", cc.image_cases, ref.corr2d, partial(cc.image_mutants, flip=False), dtype_from="image"),
    "convolve2d": Spec("convolve2d", cc.image_cases, ref.convolve2d, partial(cc.image_mutants, flip=True),
                       dtype_from="image"),
    "conv2d": Spec("conv2d", partial(cc.conv_cases, strided=False), ref.conv2d, cc.conv_mutants, dtype_from="x"),
    # chapter 2
    "conv2d_strided": Spec("conv2d", partial(cc.conv_cases, strided=True), ref.conv2d, cc.conv_mutants, dtype_from="x"),
    "pad2d": Spec("pad2d", cc.pad_cases, ref.pad2d, cc.pad_mutants, dtype_from="x"),
    "conv_output_size": Spec("conv_output_size", cc.size_cases, ref.conv_output_size, cc.size_mutants, "int"),
    "receptive_field": Spec("receptive_field", cc.rf_cases, ref.receptive_field, cc.rf_mutants, "int"),
    # chapter 3
    "relu": Spec("relu", cc.elementwise_cases, ref.relu, cc.relu_mutants, dtype_from="x"),
    "leaky_relu": Spec("leaky_relu", partial(cc.elementwise_cases, slope=True), ref.leaky_relu,
                       cc.leaky_relu_mutants, dtype_from="x"),
    "sigmoid": Spec("sigmoid", cc.elementwise_cases, ref.sigmoid, cc.sigmoid_mutants, dtype_from="x",
                    nonfinite_hint=" For x < 0 compute exp(x) / (1 + exp(x)), so exp never overflows."),
    "tanh": Spec("tanh", cc.elementwise_cases, ref.tanh, cc.tanh_mutants, dtype_from="x"),
    # chapter 4
    "max_pool2d": Spec("max_pool2d", cc.pool_cases, ref.max_pool2d, cc.max_pool_mutants, dtype_from="x"),
    "avg_pool2d": Spec("avg_pool2d", cc.pool_cases, ref.avg_pool2d, cc.avg_pool_mutants, dtype_from="x"),
    # chapter 5
    "linear": Spec("linear", cc.linear_cases, ref.linear, cc.linear_mutants, dtype_from="x"),
    "softmax": Spec("softmax", cc.softmax_cases, ref.softmax, cc.softmax_mutants, dtype_from="z", nonfinite_hint=_STABLE),
    "log_softmax": Spec("log_softmax", cc.softmax_cases, ref.log_softmax, cc.log_softmax_mutants, dtype_from="z",
                        nonfinite_hint=" Compute z - max - log(sum(exp(z - max))) instead of log(softmax(z))."),
    "cross_entropy": Spec("cross_entropy", cc.cross_entropy_cases, ref.cross_entropy, cc.cross_entropy_mutants,
                          "scalar", dtype_from="logits", nonfinite_hint=" Use log_softmax, not log(softmax)."),
    # chapter 6
    "relu_backward": Spec("relu_backward", _ACT_B, ref.relu_backward, cc.relu_backward_mutants, dtype_from="x"),
    "leaky_relu_backward": Spec("leaky_relu_backward", partial(cc.elementwise_cases, backward=True, slope=True),
                                ref.leaky_relu_backward, cc.leaky_relu_backward_mutants, dtype_from="x"),
    "sigmoid_backward": Spec("sigmoid_backward", _ACT_B, ref.sigmoid_backward, cc.sigmoid_backward_mutants,
                             dtype_from="x", nonfinite_hint=" Compute s = sigmoid(x) stably, then s * (1 - s)."),
    "tanh_backward": Spec("tanh_backward", _ACT_B, ref.tanh_backward, cc.tanh_backward_mutants, dtype_from="x"),
    "max_pool2d_backward": Spec("max_pool2d_backward", partial(cc.pool_cases, backward=True), ref.max_pool2d_backward,
                                cc.max_pool_backward_mutants, dtype_from="x"),
    "avg_pool2d_backward": Spec("avg_pool2d_backward", partial(cc.pool_cases, backward=True), ref.avg_pool2d_backward,
                                cc.avg_pool_backward_mutants, dtype_from="x"),
    "linear_backward": Spec("linear_backward", partial(cc.linear_cases, backward=True), ref.linear_backward,
                            cc.linear_backward_mutants, "arrays", dtype_from="x", names=("dx", "dw", "db")),
    "cross_entropy_backward": Spec("cross_entropy_backward", partial(cc.cross_entropy_cases, backward=True),
                                   ref.cross_entropy_backward, cc.cross_entropy_backward_mutants, dtype_from="logits",
                                   nonfinite_hint=_STABLE),
    "conv2d_backward": Spec("conv2d_backward", cc.conv_backward_cases, ref.conv2d_backward, cc.conv_backward_mutants,
                            "arrays", dtype_from="x", names=("dx", "dw", "db")),
    # chapter 9
    "grad_cam_map": Spec("grad_cam_map", cc.gradcam_cases, ref.grad_cam_map, cc.gradcam_mutants,
                         dtype_from="activations"),
}


def cases(name: str, rng: np.random.Generator, n: int = 8) -> list[Case]:
    """Inputs for the check ``name``: fixed cases that separate the typical mistakes, plus n random ones."""
    return SPECS[name].cases(rng, n)


def case_repr(case: Case) -> str:
    """``x (2, 3, 5, 5) float64, stride=2``: the call's arguments, arrays by shape and dtype."""
    return ", ".join(f"{k} {v.shape} {v.dtype}" if isinstance(v, np.ndarray) else f"{k}={v!r}"
                     for k, v in case.items())


def _tolerances(dtype: np.dtype | None) -> tuple[float, float]:
    return (1e-4, 1e-5) if dtype == np.float32 else (1e-9, 1e-11)


def _close(got: Any, want: Any, dtype: np.dtype | None) -> bool:
    if want is None or got is None:
        return False
    if np.shape(got) != np.shape(want):
        return False
    rtol, atol = _tolerances(dtype)
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    return bool(np.allclose(got, want, rtol=rtol, atol=atol * scale))


def _cropped(value: Any, shape: tuple[int, ...]) -> Any:
    """A mutant larger than the student's output, cut to its shape: the same mistake made
    inside a correctly sized output (stepping by 1 instead of the stride, say)."""
    if (isinstance(value, np.ndarray) and value.ndim == len(shape) and value.shape != shape
            and all(v >= s for v, s in zip(value.shape, shape))):
        return value[tuple(slice(0, s) for s in shape)]
    return value


def _likely(spec: Spec, case: Case, got: Any, want: Any, dtype: np.dtype | None, part: int | None = None) -> str:
    """The typical mistake that reproduces the wrong ``got`` (component ``part`` of a tuple output)."""
    if isinstance(got, np.ndarray) and got.size == 0:
        return ""
    for cause, mutant in spec.mutants(case).items():
        try:
            value = mutant()
            if part is not None:
                value = value[part]
        except Exception:  # a mutant that cannot be formed for these shapes says nothing
            continue
        if isinstance(got, np.ndarray) and np.shape(value) != got.shape:
            value = _cropped(value, got.shape)
            if _close(value, _cropped(want, got.shape), dtype):
                continue  # on the part compared, this mistake changes nothing: no evidence for it
        if _close(got, value, dtype):
            return f"\nLikely cause: {cause.strip()}."
    return ""


def _explain_array(spec: Spec, case: Case, call: str, got: Any, want: np.ndarray, dtype: np.dtype,
                   part: int | None = None) -> str | None:
    label = "output" if part is None else spec.names[part]
    if not isinstance(got, np.ndarray):
        return f"{call}: {label} must be a NumPy array, got {type(got).__name__}."
    if got.shape != want.shape:
        msg = f"{call}: {label} shape expected {want.shape}, got {got.shape}."
        likely = _likely(spec, case, got, want, dtype, part)
        diff = [g - e for g, e in zip(got.shape, want.shape)] if got.ndim == want.ndim == 4 else []
        if not likely and diff and set(diff[-2:]) <= {-1, 0, 1} and any(diff[-2:]):
            likely = ("\nLikely cause: output size off by one: H' = (H + 2*padding - KH) // stride + 1 "
                      "(likewise W').")
        return msg + likely
    if got.dtype != dtype:
        return (f"{call}: {label} dtype expected {dtype} (the input's dtype), got {got.dtype}. "
                "Create arrays with dtype=x.dtype, and do not mix in float64 constants.")
    bad = ~np.isfinite(got)
    if bad.any() and np.isfinite(want).all():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return (f"{call}: {label}{list(idx)} is {got[idx]}, expected {want[idx]:.6g}; all values should be "
                f"finite.{spec.nonfinite_hint}")
    if _close(got, want, dtype):
        return None
    err = np.abs(got.astype(np.float64) - want)
    err[~np.isfinite(err)] = np.inf
    idx = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
    n_bad = int((err > 1e-4 * max(1.0, float(np.abs(want).max(initial=0.0)))).sum())
    where = f"{label}{list(idx)}" if want.ndim else label
    return (f"{call}: {n_bad} of {want.size} {label} values are wrong; the largest error is at {where}: "
            f"expected {want[idx]:.6g}, got {got[idx]:.6g}.{_likely(spec, case, got, want, dtype, part)}")


def explain(name: str, case: Case, got: Any) -> str | None:
    """None if ``got`` is the right output for ``case``; otherwise what is wrong, in words."""
    spec = SPECS[name]
    want = spec.reference(**case)
    call = f"{spec.function}({case_repr(case)})"
    if spec.output == "int":
        if not isinstance(got, (int, np.integer)) or isinstance(got, bool):
            hint = " (use // for floor division)" if isinstance(got, float) else ""
            return f"{call} must return an int, got {got!r} of type {type(got).__name__}{hint}."
        if got != want:
            return f"{call}: expected {want}, got {got}.{_likely(spec, case, int(got), want, None)}"
        return None
    dtype = case[spec.dtype_from].dtype
    if spec.output == "scalar":
        if isinstance(got, np.ndarray) and got.ndim == 0:
            got = got[()]
        if not isinstance(got, (float, np.floating)):
            return f"{call} must return a real number (a float), got {type(got).__name__}."
        if not np.isfinite(got):
            return f"{call}: expected {want:.6g}, got {got}.{spec.nonfinite_hint}"
        if _close(float(got), want, dtype):
            return None
        return f"{call}: expected {want:.6g}, got {float(got):.6g}.{_likely(spec, case, float(got), want, dtype)}"
    if spec.output == "arrays":
        if not isinstance(got, (tuple, list)) or len(got) != len(spec.names):
            what = f"{len(got)} values" if isinstance(got, (tuple, list)) else type(got).__name__
            return f"{call} must return a tuple ({', '.join(spec.names)}), got {what}."
        for part, (g, w) in enumerate(zip(got, want)):
            problem = _explain_array(spec, case, call, g, w, dtype, part)
            if problem:
                return problem
        return None
    return _explain_array(spec, case, call, got, want, dtype)


def check(name: str, fn: Callable[..., Any], seed: int = 0, n: int = 8) -> None:
    """Run ``fn`` on the cases of check ``name`` and compare with PyTorch; raise AssertionError on the first mistake.

    ``name`` is a key of SPECS: usually the function's name ("corr2d", "max_pool2d_backward", ...);
    "conv2d" checks stride 1 without padding and "conv2d_strided" any stride and padding.
    """
    if name not in SPECS:
        raise ValueError(f"unknown check {name!r}; choose one of {sorted(SPECS)}")
    all_cases = cases(name, np.random.default_rng(seed), n)
    for case in all_cases:
        args = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}
        problem = explain(name, case, fn(**args))
        if problem:
            raise AssertionError(problem)
    print(f"{SPECS[name].function}: all {len(all_cases)} cases agree with PyTorch.")

# chapter 7: optimizers and dropout (references: torch.optim's own step, float64)
SPECS.update({
    "sgd_step": Spec("sgd_step", cc.sgd_cases, ref.sgd_step, cc.sgd_mutants, "arrays", dtype_from="param",
                     names=("new_param", "new_velocity")),
    "adam_step": Spec("adam_step", cc.adam_cases, ref.adam_step, cc.adam_mutants, "arrays", dtype_from="param",
                      names=("new_param", "new_m", "new_v")),
    "rmsprop_step": Spec("rmsprop_step", cc.rmsprop_cases, ref.rmsprop_step, cc.rmsprop_mutants, "arrays",
                         dtype_from="param", names=("new_param", "new_square_avg")),
    "adadelta_step": Spec("adadelta_step", cc.adadelta_cases, ref.adadelta_step, cc.adadelta_mutants, "arrays",
                          dtype_from="param", names=("new_param", "new_square_avg", "new_acc_delta")),
    "dropout": Spec("dropout", cc.dropout_cases, ref.dropout, cc.dropout_mutants, dtype_from="x"),
    "dropout_backward": Spec("dropout_backward", partial(cc.dropout_cases, backward=True), ref.dropout_backward,
                             cc.dropout_backward_mutants, dtype_from="dout"),
})

# chapter 8: architectures (appended)
SPECS.update({
    "residual_block": Spec("residual_block", cc.residual_cases, ref.residual_block, cc.residual_mutants, dtype_from="x"),
    "residual_block_backward": Spec("residual_block_backward", partial(cc.residual_cases, backward=True),
                                    ref.residual_block_backward, cc.residual_backward_mutants, "arrays",
                                    dtype_from="x", names=("dx", "dw1", "db1", "dw2", "db2")),
    "conv2d_params": Spec("conv2d_params", cc.param_cases, ref.conv2d_params, cc.conv_params_mutants, "int"),
    "depthwise_separable_params": Spec("depthwise_separable_params", partial(cc.param_cases, separable=True),
                                       ref.depthwise_separable_params, cc.separable_params_mutants, "int"),
})
