"""Softmax, log-softmax and the cross-entropy loss, numerically stable.

Classification targets are integer class indices (N,), like torch.nn.functional.cross_entropy;
``one_hot`` and ``labels_from_one_hot`` convert from and to one-hot rows (Keras's
categorical_crossentropy takes those). Graded in 05_dense_softmax and 06_backprop.
"""
from __future__ import annotations

import numpy as np

from ._validate import float_array


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(z) / sum(exp(z)) along ``axis``, computed after subtracting the max so exp never overflows.

    z: any shape; returns the same shape and dtype; entries along ``axis`` sum to 1.
    """
    z = float_array("z", z)
    # YOUR CODE HERE
    raise NotImplementedError("softmax is not written yet: see its docstring in cnnlib/losses.py")


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(z)) without computing softmax: z - max - log(sum(exp(z - max))).

    Stays finite for logits of +-1e4, where log(softmax(z)) gives -inf.
    """
    z = float_array("z", z)
    # YOUR CODE HERE
    raise NotImplementedError("log_softmax is not written yet: see its docstring in cnnlib/losses.py")


def check_targets(targets: object, n: int, num_classes: int) -> np.ndarray:
    """Return ``targets`` if it is an integer array (n,) of class indices in [0, num_classes)."""
    if not isinstance(targets, np.ndarray):
        raise ValueError(f"targets must be a NumPy array of class indices, got {type(targets).__name__}")
    one_hot_hint = " (one-hot rows? convert them with labels_from_one_hot)" if targets.ndim == 2 else ""
    if not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"targets must be integer class indices, got dtype {targets.dtype}{one_hot_hint}")
    if targets.shape != (n,):
        raise ValueError(f"targets must have shape ({n},), one class index per row of logits, "
                         f"got {targets.shape}{one_hot_hint}")
    bad = np.flatnonzero((targets < 0) | (targets >= num_classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"targets[{i}] = {targets[i]} is not a class index in [0, {num_classes})")
    return targets


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.floating:
    """Mean over the batch of -log softmax(logits)[n, targets[n]], like F.cross_entropy.

    logits: (N, K) floating, NOT probabilities (do not apply softmax first); targets: (N,)
    integers in [0, K). Returns a scalar of the logits' dtype.
    """
    logits = float_array("logits", logits, 2)
    targets = check_targets(targets, logits.shape[0], logits.shape[1])
    # YOUR CODE HERE
    raise NotImplementedError("cross_entropy is not written yet: see its docstring in cnnlib/losses.py")


def cross_entropy_backward(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Gradient of cross_entropy with respect to the logits: (softmax(logits) - one_hot) / N.

    logits: (N, K); targets: (N,). Returns (N, K), same dtype as logits.
    """
    logits = float_array("logits", logits, 2)
    targets = check_targets(targets, logits.shape[0], logits.shape[1])
    # YOUR CODE HERE
    raise NotImplementedError("cross_entropy_backward is not written yet: see its docstring in cnnlib/losses.py")


def one_hot(targets: np.ndarray, num_classes: int, dtype: type = np.float64) -> np.ndarray:
    """Integer class indices (N,) -> one-hot rows (N, num_classes) of the given float dtype."""
    targets = check_targets(targets, len(targets), num_classes)
    rows = np.zeros((targets.shape[0], num_classes), dtype=dtype)
    rows[np.arange(targets.shape[0]), targets] = 1
    return rows


def labels_from_one_hot(rows: np.ndarray) -> np.ndarray:
    """One-hot rows (N, K) -> integer class indices (N,); refuses rows that are not one-hot."""
    if not isinstance(rows, np.ndarray) or rows.ndim != 2:
        raise ValueError(f"one-hot labels must be a 2-D array (N, K), got {getattr(rows, 'shape', type(rows).__name__)}")
    ok = np.all((rows == 0) | (rows == 1), axis=1) & (rows.sum(axis=1) == 1)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ValueError(f"row {i} of the labels is not one-hot: {rows[i]}")
    return rows.argmax(axis=1)
