"""Assertions shared by the test files (imported as ``from helpers import ...``)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
from hypothesis import example


def assert_close(got: Any, want: np.ndarray, what: str, rtol: float = 1e-10, *, atol: float | None = None,
                 dtype: Any = None) -> None:
    """got is an array of want's shape (and of ``dtype`` if given), finite where want is, close to want.

    atol defaults to rtol times max(1, max|want|), so that sums over large batches compare fairly.
    """
    if isinstance(got, np.generic) and np.shape(want) == ():
        got = np.asarray(got)  # NumPy ufuncs return a scalar for a 0-d input
    assert isinstance(got, np.ndarray), f"{what}: not an array but {type(got).__name__}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    if dtype is not None:
        assert got.dtype == dtype, f"{what}: dtype {got.dtype}, expected {np.dtype(dtype)}"
    if np.isfinite(want).all():
        assert np.isfinite(got).all(), f"{what}: non-finite values {got[~np.isfinite(got)]}"
    if atol is None:
        atol = rtol * max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


def with_examples(cases: Iterable[Any]) -> Callable:
    """Add each case as a hypothesis @example, so fixed edge cases run on every test run."""
    def decorate(fn: Callable) -> Callable:
        for case in cases:
            fn = example(case)(fn)
        return fn
    return decorate


def assert_value_error(call: Callable[[], Any], fragments: Iterable[str]) -> None:
    """call() raises ValueError whose message contains every fragment."""
    import pytest

    with pytest.raises(ValueError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} missing from: {info.value}"
