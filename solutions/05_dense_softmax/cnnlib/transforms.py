"""Preparing images for training: scaling, normalization, augmentation, splitting and batching.

Images are NCHW. ``to_float`` turns the uint8 images of ``cnnlib.data`` into floats in [0, 1];
``normalize`` subtracts a per-channel mean and divides by a per-channel standard deviation,
both computed on the TRAINING set only (``channel_stats``). The augmentations draw their
randomness from a ``numpy.random.Generator`` and return new arrays of the input's shape and
dtype: random horizontal flips, random crops from a zero-padded image, small random rotations.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ._validate import float_array

__all__ = ["to_float", "channel_stats", "normalize", "random_hflip", "random_crop", "random_rotation", "augment",
           "train_val_split", "batches"]


def to_float(images: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """uint8 images (any shape) -> floats in [0, 1] of ``dtype``."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        raise ValueError(f"images must be a uint8 NumPy array, got {getattr(images, 'dtype', type(images).__name__)}")
    return images.astype(dtype) / dtype(255)


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of x (N, C, H, W): two (C,) arrays of x's dtype."""
    float_array("x", x, 4)
    return x.mean(axis=(0, 2, 3)).astype(x.dtype), x.std(axis=(0, 2, 3)).astype(x.dtype)


def normalize(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(x - mean[c]) / std[c] for each channel c: x (N, C, H, W), mean and std (C,) -> (N, C, H, W)."""
    float_array("x", x, 4)
    mean, std = np.asarray(mean, x.dtype), np.asarray(std, x.dtype)
    if mean.shape != (x.shape[1],) or std.shape != (x.shape[1],):
        raise ValueError(f"mean and std must have shape ({x.shape[1]},) (one per channel), got {mean.shape} and {std.shape}")
    if (std <= 0).any():
        raise ValueError(f"std must be > 0 for every channel, got {std}")
    return (x - mean[:, None, None]) / std[:, None, None]


def random_hflip(x: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right with probability p: x (N, C, H, W) -> same shape.

    Right for natural images (a flipped cat is a cat); wrong for digits (a flipped 3 is no digit).
    """
    float_array("x", x, 4)
    flip = rng.random(len(x)) < p
    out = x.copy()
    out[flip] = x[flip][..., ::-1]
    return out


def random_crop(x: np.ndarray, rng: np.random.Generator, padding: int = 2) -> np.ndarray:
    """Zero-pad each image by ``padding`` on every side and cut an (H, W) window at a random offset.

    x (N, C, H, W) -> (N, C, H, W): each image shifted by up to ``padding`` pixels each way.
    """
    float_array("x", x, 4)
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}")
    n, _, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    di, dj = rng.integers(0, 2 * padding + 1, size=(2, n))
    out = np.empty_like(x)
    for k in range(n):
        out[k] = padded[k, :, di[k]:di[k] + h, dj[k]:dj[k] + w]
    return out


def _rotate(img: np.ndarray, degrees: float) -> np.ndarray:
    """img (C, H, W) rotated by ``degrees`` counter-clockwise about its centre, bilinear, zeros outside."""
    c, h, w = img.shape
    t = np.deg2rad(-degrees)  # image rows grow downwards: this sign turns counter-clockwise on screen
    cy, cx = (h - 1) / 2, (w - 1) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    # inverse mapping: where in the source does each output pixel come from
    ys = cy + (yy - cy) * np.cos(t) - (xx - cx) * np.sin(t)
    xs = cx + (yy - cy) * np.sin(t) + (xx - cx) * np.cos(t)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    fy, fx = ys - y0, xs - x0
    padded = np.pad(img, ((0, 0), (1, 2), (1, 2)))
    y0c, x0c = np.clip(y0 + 1, 0, h + 2), np.clip(x0 + 1, 0, w + 2)
    y1c, x1c = np.clip(y0 + 2, 0, h + 2), np.clip(x0 + 2, 0, w + 2)
    out = (padded[:, y0c, x0c] * (1 - fy) * (1 - fx) + padded[:, y0c, x1c] * (1 - fy) * fx
           + padded[:, y1c, x0c] * fy * (1 - fx) + padded[:, y1c, x1c] * fy * fx)
    inside = (ys > -1) & (ys < h) & (xs > -1) & (xs < w)
    return (out * inside).astype(img.dtype)


def random_rotation(x: np.ndarray, rng: np.random.Generator, max_degrees: float = 10.0) -> np.ndarray:
    """Rotate each image by an angle drawn uniformly from [-max_degrees, max_degrees] (bilinear).

    x (N, C, H, W) -> same shape and dtype; pixels that come from outside the image are 0.
    """
    float_array("x", x, 4)
    if not 0 <= max_degrees <= 180:
        raise ValueError(f"max_degrees must be in [0, 180], got {max_degrees!r}")
    angles = rng.uniform(-max_degrees, max_degrees, size=len(x))
    return np.stack([_rotate(img, a) for img, a in zip(x, angles)]) if len(x) else x.copy()


def augment(x: np.ndarray, rng: np.random.Generator, *, hflip: bool = False, crop: int = 0,
            rotate: float = 0.0) -> np.ndarray:
    """The chosen augmentations in turn (flip, crop, rotation): x (N, C, H, W) -> same shape."""
    if hflip:
        x = random_hflip(x, rng)
    if crop:
        x = random_crop(x, rng, crop)
    if rotate:
        x = random_rotation(x, rng, rotate)
    return x


def train_val_split(n: int, val_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a random split of n examples: (train (n - k,), validation (k,)), k = round(n * val_fraction).

    The validation examples come out of the TRAINING set: the test set stays untouched until the
    very end (the seeds' Keras listings validate on the test set, which tunes on it).
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    order = rng.permutation(n)
    k = int(round(n * val_fraction))
    if not 0 < k < n:
        raise ValueError(f"val_fraction {val_fraction} of n={n} leaves an empty part")
    return np.sort(order[k:]), np.sort(order[:k])


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator | None = None
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches (x[idx] (B, ...), y[idx] (B,)) covering every example once; shuffled if rng is given.

    The last batch holds the remainder (len(x) % batch_size examples) when there is one.
    """
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    order = rng.permutation(len(x)) if rng is not None else np.arange(len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], y[idx]
