"""Checks that compare a cnnlib function with PyTorch and say, in words, what is wrong.

One mechanism serves the students' visible checks (``check``, run in their notebook) and the
instructors' hidden tests (which draw fresh cases at grading time and
run the student's code in another process): ``cases`` draws inputs, ``explain`` compares an
output with the reference and, when they differ, names the likely cause by comparing the
output with the results of typical mistakes ("mutants") computed with PyTorch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import reference as ref

Case = dict[str, Any]

# The seeds' worked example: a 5x5 image and a 3x3 vertical-edge filter, cross-correlated by hand.
SEED_IMAGE = np.array(
    [[1, 2, 0, 3, 1], [4, 5, 6, 7, 8], [1, 0, 1, 2, 1], [0, 1, 3, 4, 0], [3, 4, 5, 1, 2]], dtype=np.float64
)
SEED_KERNEL = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float64)
SEED_FEATURE_MAP = np.array([[-1, -5, -3], [-5, -7, 1], [-5, -2, 6]], dtype=np.float64)


def _case_repr(case: Case) -> str:
    parts = []
    for k, v in case.items():
        parts.append(f"{k} {v.shape} {v.dtype}" if isinstance(v, np.ndarray) else f"{k}={v!r}")
    return ", ".join(parts)


# ---------------------------------------------------------------- case generators

def _image_cases(rng: np.random.Generator, n: int) -> list[Case]:
    cases = [dict(image=SEED_IMAGE.copy(), kernel=SEED_KERNEL.copy())]
    for i in range(n):
        h, w = rng.integers(1, 9, size=2)
        kh, kw = rng.integers(1, h + 1), rng.integers(1, w + 1)
        dtype = np.float32 if i == 0 else np.float64
        cases.append(
            dict(image=rng.standard_normal((h, w)).astype(dtype), kernel=rng.standard_normal((kh, kw)).astype(dtype))
        )
    # A non-square, non-symmetric kernel on a non-square image: separates every mutant.
    cases.append(dict(image=rng.standard_normal((6, 7)), kernel=rng.standard_normal((2, 3))))
    return cases


def _conv_cases(rng: np.random.Generator, n: int, strided: bool) -> list[Case]:
    cases = []
    for i in range(n):
        N, C, F = rng.integers(1, 4), rng.integers(1, 5), rng.integers(1, 5)
        s = tuple(int(v) for v in rng.integers(1, 4, size=2)) if strided else (1, 1)
        p = tuple(int(v) for v in rng.integers(0, 3, size=2)) if strided else (0, 0)
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        h = int(rng.integers(max(1, kh - 2 * p[0]), 10))
        w = int(rng.integers(max(1, kw - 2 * p[1]), 10))
        dtype = np.float32 if i == 0 else np.float64
        case = dict(
            x=rng.standard_normal((N, C, h, w)).astype(dtype),
            w=rng.standard_normal((F, C, kh, kw)).astype(dtype),
            b=rng.standard_normal(F).astype(dtype) if i % 3 != 2 else None,
        )
        if strided:
            case.update(stride=s if s[0] != s[1] else s[0], padding=p if p[0] != p[1] else p[0])
        cases.append(case)
    # Fixed shapes that separate every mutant: batch of 1, C_in != C_out, non-square everything.
    x = rng.standard_normal((1, 3, 9, 8))
    w = rng.standard_normal((2, 3, 3, 2))
    b = rng.standard_normal(2)
    cases.append(dict(x=x, w=w, b=b, **(dict(stride=(2, 3), padding=(1, 2)) if strided else {})))
    cases.append(dict(x=rng.standard_normal((2, 2, 5, 6)), w=rng.standard_normal((3, 2, 5, 6)), b=None))
    return cases


def _pad_cases(rng: np.random.Generator, n: int) -> list[Case]:
    cases = [dict(x=rng.standard_normal((2, 3, 4, 5)), padding=(1, 2))]
    for i in range(n):
        shape = tuple(int(v) for v in rng.integers(1, 6, size=4))
        p = tuple(int(v) for v in rng.integers(0, 4, size=2))
        dtype = np.float32 if i == 0 else np.float64
        cases.append(dict(x=rng.standard_normal(shape).astype(dtype), padding=p if i % 2 else p[0]))
    return cases


def _size_cases(rng: np.random.Generator, n: int) -> list[Case]:
    cases = [dict(size=7, kernel_size=3, stride=1, padding=0), dict(size=28, kernel_size=5, stride=1, padding=0),
             dict(size=32, kernel_size=3, stride=2, padding=1), dict(size=8, kernel_size=3, stride=3, padding=2)]
    for _ in range(n):
        k, s, p = int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
        cases.append(dict(size=int(rng.integers(max(1, k - 2 * p), 40)), kernel_size=k, stride=s, padding=p))
    return cases


def _rf_cases(rng: np.random.Generator, n: int) -> list[Case]:
    cases = [dict(kernel_sizes=[3, 3, 3], strides=[1, 1, 1]), dict(kernel_sizes=[5, 2, 5, 2], strides=[1, 2, 1, 2])]
    for _ in range(n):
        depth = int(rng.integers(1, 6))
        cases.append(dict(kernel_sizes=[int(v) for v in rng.integers(1, 6, size=depth)],
                          strides=[int(v) for v in rng.integers(1, 4, size=depth)]))
    return cases


# ---------------------------------------------------------------- mutants: typical mistakes

def _conv_mutants(case: Case) -> dict[str, Callable[[], Any]]:
    x, w, b = case["x"], case["w"], case.get("b")
    s, p = case.get("stride", 1), case.get("padding", 0)
    sh, sw = (s, s) if np.isscalar(s) else s
    ph, pw = (p, p) if np.isscalar(p) else p

    def one_sided(top: bool) -> np.ndarray:
        pads = ((0, 0), (0, 0), (ph, 0), (pw, 0)) if top else ((0, 0), (0, 0), (0, ph), (0, pw))
        return ref.conv2d(np.pad(x, pads), w, b, stride=(sh, sw))

    # Most specific first: the first mutant that reproduces the output is reported.
    m = {
        "kernel flipped: you computed a true convolution; conv2d must compute cross-correlation "
        "like PyTorch, so do not reverse w": lambda: ref.conv2d(x, w[:, :, ::-1, ::-1], b, (sh, sw), (ph, pw)),
        "padding on one side only: pad the top AND bottom (left AND right) by padding each":
            lambda: one_sided(True),
        "padding on one side only (bottom/right): pad both sides by padding each": lambda: one_sided(False),
        "padding ignored: zero-pad x by padding on each side before sliding the filter":
            lambda: ref.conv2d(x, w, b, (sh, sw), 0),
        "stride applied to the height axis only: use stride[1] for the width":
            lambda: ref.conv2d(x, w, b, (sh, 1), (ph, pw)),
        "stride applied to the width axis only: use stride[0] for the height":
            lambda: ref.conv2d(x, w, b, (1, sw), (ph, pw)),
        "stride ignored: move the window by stride, not by 1": lambda: ref.conv2d(x, w, b, 1, (ph, pw)),
        "height and width of stride swapped": lambda: ref.conv2d(x, w, b, (sw, sh), (ph, pw)),
        "height and width of padding swapped": lambda: ref.conv2d(x, w, b, (sh, sw), (pw, ph)),
        "only the first input channel is used: sum the products over all C input channels":
            lambda: ref.conv2d(x[:, :1], w[:, :1], b, (sh, sw), (ph, pw)),
    }
    if b is not None:
        m["bias missing: add b[f] to every value of output channel f"] = lambda: ref.conv2d(x, w, None, (sh, sw), (ph, pw))
        m["bias added once per input channel: add b[f] once, after summing over channels"] = (
            lambda: ref.conv2d(x, w, None, (sh, sw), (ph, pw)) + x.shape[1] * b[None, :, None, None])
    return m


def _image_mutants(case: Case, flip: bool) -> dict[str, Callable[[], Any]]:
    image, kernel = case["image"], case["kernel"]
    right = ref.convolve2d if flip else ref.corr2d
    other = ref.corr2d if flip else ref.convolve2d
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    m = {
        ("kernel not flipped: convolution reverses the kernel on both axes before sliding it"
         if flip else
         "kernel flipped: this is cross-correlation, the kernel slides as it is, unreversed"): lambda: other(image, kernel),
        "'full' output instead of 'valid': do not pad the image, keep only positions where the kernel fits":
            lambda: right(padded, kernel),
    }
    if flip:
        m["kernel flipped on one axis only: reverse both rows and columns"] = lambda: ref.corr2d(image, kernel[::-1])
        m["kernel flipped on one axis only: reverse both rows and columns "] = lambda: ref.corr2d(image, kernel[:, ::-1])
    return m


def _pad_mutants(case: Case) -> dict[str, Callable[[], Any]]:
    x, p = case["x"], case["padding"]
    ph, pw = (p, p) if np.isscalar(p) else p
    return {
        "padding on one side only: add padding zeros before AND after each spatial axis":
            lambda: np.pad(x, ((0, 0), (0, 0), (ph, 0), (pw, 0))),
        "padding on one side only (after): add padding zeros before AND after each spatial axis":
            lambda: np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw))),
        "height and width padding swapped: padding is (ph, pw) for (H, W)": lambda: ref.pad2d(x, (pw, ph)),
        "batch or channel axis padded: pad only the last two axes (H, W)":
            lambda: np.pad(x, ((ph, ph), (pw, pw), (0, 0), (0, 0))),
    }


def _size_mutants(case: Case) -> dict[str, Callable[[], Any]]:
    n, k, s, p = case["size"], case["kernel_size"], case["stride"], case["padding"]
    return {
        "off by one: the first window position counts too, add 1": lambda: (n + 2 * p - k) // s,
        "off by one: there is no '+ 1' inside the floor, it comes after dividing": lambda: (n + 2 * p - k + 1) // s,
        "padding counted once: padding zeros are added on both sides": lambda: (n + p - k) // s + 1,
        "rounded up: a window that does not fit entirely is dropped, round down":
            lambda: -((n + 2 * p - k) // -s) + 1,
        "stride ignored": lambda: n + 2 * p - k + 1,
    }


def _rf_mutants(case: Case) -> dict[str, Callable[[], Any]]:
    ks, ss = case["kernel_sizes"], case["strides"]
    grown = [1]
    for i, k in enumerate(ks):  # each layer uses the product of strides including its own
        grown.append(grown[-1] + (k - 1) * int(np.prod(ss[: i + 1])))
    return {
        "strides ignored: a stride s multiplies the step of every later layer by s":
            lambda: 1 + sum(k - 1 for k in ks),
        "stride counted one layer too early: layer l is widened by the product of the strides BEFORE it":
            lambda: grown[-1],
        "kernel sizes added: each layer adds k - 1, not k": lambda: sum(ks),
    }


# ---------------------------------------------------------------- the specifications

@dataclass(frozen=True)
class Spec:
    """What one graded function must do: its inputs, its reference and its typical mistakes."""

    function: str
    cases: Callable[[np.random.Generator, int], list[Case]]
    reference: Callable[..., Any]
    mutants: Callable[[Case], dict[str, Callable[[], Any]]]
    dtype_from: str | None  # the argument whose dtype the result must keep; None for ints


SPECS: dict[str, Spec] = {
    "corr2d": Spec("corr2d", _image_cases, ref.corr2d, lambda c: _image_mutants(c, False), "image"),
    "convolve2d": Spec("convolve2d", _image_cases, ref.convolve2d, lambda c: _image_mutants(c, True), "image"),
    "conv2d": Spec("conv2d", lambda r, n: _conv_cases(r, n, False), ref.conv2d, _conv_mutants, "x"),
    "conv2d_strided": Spec("conv2d", lambda r, n: _conv_cases(r, n, True), ref.conv2d, _conv_mutants, "x"),
    "pad2d": Spec("pad2d", _pad_cases, ref.pad2d, _pad_mutants, "x"),
    "conv_output_size": Spec("conv_output_size", _size_cases, ref.conv_output_size, _size_mutants, None),
    "receptive_field": Spec("receptive_field", _rf_cases, ref.receptive_field, _rf_mutants, None),
}


def cases(name: str, rng: np.random.Generator, n: int = 8) -> list[Case]:
    """Inputs for the check ``name``: fixed cases that separate the typical mistakes, plus n random ones."""
    return SPECS[name].cases(rng, n)


def _close(got: Any, want: Any, dtype: np.dtype | None) -> bool:
    if not isinstance(got, np.ndarray):
        return got == want
    if got.shape != np.shape(want):
        return False
    rtol, atol = (1e-4, 1e-5) if dtype == np.float32 else (1e-9, 1e-11)
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    return bool(np.allclose(got, want, rtol=rtol, atol=atol * scale))


def _cropped(value: Any, shape: tuple[int, ...]) -> Any:
    """A mutant larger than the student's output, cut to its shape: the same mistake made
    inside a correctly sized output (stepping by 1 instead of the stride, say)."""
    if (isinstance(value, np.ndarray) and value.ndim == len(shape) and value.shape != shape
            and all(v >= s for v, s in zip(value.shape, shape))):
        return value[tuple(slice(0, s) for s in shape)]
    return value


def _likely(spec: Spec, case: Case, got: Any, dtype: np.dtype | None) -> str:
    """The typical mistake that reproduces ``got`` (called only when ``got`` is wrong)."""
    for cause, mutant in spec.mutants(case).items():
        try:
            value = mutant()
        except Exception:  # a mutant that cannot be formed for these shapes says nothing
            continue
        if isinstance(got, np.ndarray):
            value = _cropped(value, got.shape)
        if _close(got, value, dtype):
            return f"\nLikely cause: {cause.strip()}."
    return ""


def explain(name: str, case: Case, got: Any) -> str | None:
    """None if ``got`` is the right output for ``case``; otherwise what is wrong, in words."""
    spec = SPECS[name]
    want = spec.reference(**case)
    call = f"{spec.function}({_case_repr(case)})"
    if spec.dtype_from is None:
        if not isinstance(got, (int, np.integer)) or isinstance(got, bool):
            hint = " (use // for floor division)" if isinstance(got, float) else ""
            return f"{call} must return an int, got {got!r} of type {type(got).__name__}{hint}."
        if got != want:
            return f"{call}: expected {want}, got {got}.{_likely(spec, case, int(got), None)}"
        return None
    dtype = case[spec.dtype_from].dtype
    if not isinstance(got, np.ndarray):
        return f"{call} must return a NumPy array, got {type(got).__name__}."
    if got.shape != want.shape:
        msg = f"{call}: output shape expected {want.shape}, got {got.shape}."
        diff = [g - e for g, e in zip(got.shape, want.shape)] if got.ndim == want.ndim else []
        likely = _likely(spec, case, got, dtype)
        if not likely and diff and set(diff[-2:]) <= {-1, 0, 1} and any(diff[-2:]):
            likely = ("\nLikely cause: output size off by one: H' = (H + 2*padding - KH) // stride + 1 "
                      "(likewise W').")
        return msg + likely
    if got.dtype != dtype:
        return (f"{call}: output dtype expected {dtype} (the input's dtype), got {got.dtype}. "
                "Create arrays with dtype=x.dtype, and do not mix in float64 constants.")
    bad = ~np.isfinite(got)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return f"{call}: output{list(idx)} is {got[idx]}; all outputs should be finite."
    if _close(got, want, dtype):
        return None
    err = np.abs(got.astype(np.float64) - want)
    idx = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
    n_bad = int((err > 1e-4 * max(1.0, float(np.abs(want).max()))).sum())
    return (f"{call}: {n_bad} of {want.size} output values are wrong; the largest error is at "
            f"output{list(idx)}: expected {want[idx]:.6g}, got {got[idx]:.6g}.{_likely(spec, case, got, dtype)}")


def check(name: str, fn: Callable[..., Any], seed: int = 0, n: int = 8) -> None:
    """Run ``fn`` on the cases of check ``name`` and compare with PyTorch; raise AssertionError on the first mistake.

    ``name`` is one of SPECS ("corr2d", "convolve2d", "conv2d", "conv2d_strided", "pad2d",
    "conv_output_size", "receptive_field").
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
