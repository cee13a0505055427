"""cnnlib.transforms: normalization, flips, crops, rotations, splits and batches, against hand-worked values."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlib.transforms import (augment, batches, channel_stats, normalize, random_crop, random_hflip, random_rotation,
                               to_float, train_val_split)
from helpers import assert_close, assert_value_error


def test_to_float_and_normalize():
    img = np.array([[[[0, 255], [51, 102]]]], np.uint8)
    x = to_float(img)
    assert x.dtype == np.float32 and x.max() == 1.0 and np.isclose(x[0, 0, 1, 0], 0.2)
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(50, 3, 4, 4))
    mean, std = channel_stats(x)
    z = normalize(x, mean, std)
    assert_close(z.mean(axis=(0, 2, 3)), np.zeros(3), "mean", atol=1e-12)
    assert_close(z.std(axis=(0, 2, 3)), np.ones(3), "std")
    assert_value_error(lambda: normalize(x, mean[:2], std), ["(3,)", "(2,)"])
    assert_value_error(lambda: to_float(x), ["uint8"])


def test_hflip_flips_some_images_exactly():
    x = np.arange(2 * 1 * 2 * 3, dtype=np.float64).reshape(2, 1, 2, 3)
    out = random_hflip(np.repeat(x, 50, axis=0), np.random.default_rng(0))
    flipped = [np.array_equal(o, i[..., ::-1]) for o, i in zip(out, np.repeat(x, 50, axis=0))]
    same = [np.array_equal(o, i) for o, i in zip(out, np.repeat(x, 50, axis=0))]
    assert all(f or s for f, s in zip(flipped, same)) and 30 < sum(flipped) < 70


def test_crop_is_a_shift_with_zeros():
    x = np.ones((40, 1, 5, 5))
    out = random_crop(x, np.random.default_rng(1), padding=2)
    assert out.shape == x.shape
    for o in out:
        rows = np.flatnonzero(o[0].any(axis=1))
        cols = np.flatnonzero(o[0].any(axis=0))
        assert o[0, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()  # one solid block: a shifted image
        assert len(rows) >= 3 and len(cols) >= 3
    assert (out == 0).any() and (out == 1).all(axis=(1, 2, 3)).any()  # some shifted, some not


def test_rotation_by_90_degrees_is_rot90_and_0_is_identity():
    from cnnlib.transforms import _rotate

    img = np.random.default_rng(2).standard_normal((2, 5, 5))
    assert_close(_rotate(img, 90.0), np.rot90(img, 1, axes=(1, 2)), "90 degrees", 1e-9)
    assert_close(_rotate(img, 0.0), img, "0 degrees")
    x = np.random.default_rng(3).random((8, 1, 28, 28)).astype(np.float32)
    out = random_rotation(x, np.random.default_rng(4), max_degrees=10)
    assert out.shape == x.shape and out.dtype == np.float32
    centre = slice(10, 18)
    assert np.abs(out[:, :, centre, centre] - x[:, :, centre, centre]).mean() < np.abs(x - x[::-1]).mean()


def test_augment_split_and_batches():
    rng = np.random.default_rng(0)
    x = rng.random((10, 1, 6, 6))
    assert augment(x, rng, hflip=True, crop=1, rotate=5).shape == x.shape
    tr, va = train_val_split(100, 0.2, rng)
    assert len(tr) == 80 and len(va) == 20 and not set(tr) & set(va) and set(tr) | set(va) == set(range(100))
    y = np.arange(10)
    seen = [yb for _, yb in batches(x, y, 4, rng)]
    assert [len(b) for b in seen] == [4, 4, 2] and sorted(np.concatenate(seen)) == list(range(10))
    assert [list(b) for _, b in batches(x, y, 5)] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert_value_error(lambda: next(batches(x, y[:3], 2)), ["same length", "10", "3"])
