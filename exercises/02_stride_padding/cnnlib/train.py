"""Training a cnnlib network: the loop, evaluation, prediction and a history of loss and accuracy.

    history = fit(model, optimizer, x_train, y_train, epochs=3, batch_size=64,
                  validation=(x_val, y_val), schedule=None, augment=None, rng=rng)

One epoch shuffles the training set, and for each mini-batch runs forward, the cross-entropy
loss, backward and one optimizer step, under one progress bar (``cnnlib.progress``). After each
epoch the model is evaluated (in eval mode: dropout off) on the validation set if one is given.
A loss that stops being finite (a learning rate too large, typically) stops training at once
with ``TrainingDiverged``, which names the epoch, the step and the learning rate.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .losses import cross_entropy, cross_entropy_backward
from .progress import progress
from .transforms import batches

__all__ = ["History", "TrainingDiverged", "fit", "evaluate", "predict", "confusion_matrix"]


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass
class History:
    """Per-epoch records: train_loss/train_acc (averaged over the epoch's batches, in training mode),
    val_loss/val_acc (after the epoch, eval mode; empty without a validation set), lr (used in the epoch)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.train_loss)


def _check_xy(x: np.ndarray, y: np.ndarray) -> None:
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x must be a float NumPy array, got {getattr(x, 'dtype', type(x).__name__)}")
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer) or y.shape != (len(x),):
        raise ValueError(f"y must be an integer array of shape ({len(x)},), got {getattr(y, 'dtype', None)} "
                         f"{getattr(y, 'shape', None)}")


def predict(model: Any, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Logits of ``model`` (in eval mode) for x (N, ...): (N, classes). Restores the model's mode."""
    was = getattr(model, "training", True)
    model.eval()
    try:
        return np.concatenate([model.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
    finally:
        model.train(was)


def evaluate(model: Any, x: np.ndarray, y: np.ndarray, batch_size: int = 500) -> tuple[float, float]:
    """(mean cross-entropy, accuracy in [0, 1]) of ``model`` on x (N, ...), y (N,), in eval mode."""
    _check_xy(x, y)
    logits = predict(model, x, batch_size)
    return float(cross_entropy(logits, y)), float((logits.argmax(axis=1) == y).mean())


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) int64 counts: row = true class, column = predicted class."""
    m = np.zeros((classes, classes), np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def fit(model: Any, optimizer: Any, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int = 64,
        validation: tuple[np.ndarray, np.ndarray] | None = None, schedule: Any = None,
        augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
        rng: np.random.Generator | None = None, history: History | None = None, desc: str = "epoch",
        show_progress: bool = True) -> History:
    """Train ``model`` with ``optimizer`` on x (N, C, H, W) float, y (N,) int; return the History.

    - validation: (x_val, y_val), evaluated after each epoch (never trained on).
    - schedule: an object with ``step()`` (cnnlib.schedules), stepped after each epoch.
    - augment: ``augment(x_batch, rng) -> x_batch``, applied to each training batch.
    - history: continue an earlier History (its lists grow).
    Raises TrainingDiverged when a batch's loss is not finite.
    """
    _check_xy(x, y)
    if validation is not None:
        _check_xy(*validation)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    rng = rng or np.random.default_rng()
    history = history if history is not None else History()
    steps_per_epoch = -(-len(x) // batch_size)
    for _ in range(epochs):
        epoch = len(history) + 1
        model.train()
        start, total_loss, correct, seen = time.perf_counter(), 0.0, 0, 0
        bar = progress(batches(x, y, batch_size, rng), total=steps_per_epoch, desc=f"{desc} {epoch}", unit="batch",
                       disable=not show_progress)
        for step, (xb, yb) in enumerate(bar, 1):
            if augment is not None:
                xb = augment(xb, rng)
            logits = model.forward(xb)
            loss = float(cross_entropy(logits, yb))
            if not np.isfinite(loss):
                bar.close()
                raise TrainingDiverged(
                    f"the training loss is {loss} at epoch {epoch}, step {step} of {steps_per_epoch}, with learning "
                    f"rate {optimizer.lr:g}: training stopped. The steps were too large; try a learning rate about "
                    f"10 times smaller (and check the inputs are normalized).")
            model.backward(cross_entropy_backward(logits, yb))
            optimizer.step()
            total_loss += loss * len(yb)
            correct += int((logits.argmax(axis=1) == yb).sum())
            seen += len(yb)
            if step % 10 == 0 or step == steps_per_epoch:
                bar.set_postfix(loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}")
        bar.close()
        history.lr.append(float(optimizer.lr))
        history.train_loss.append(total_loss / seen)
        history.train_acc.append(correct / seen)
        if validation is not None:
            vl, va = evaluate(model, *validation)
            history.val_loss.append(vl)
            history.val_acc.append(va)
        history.seconds.append(time.perf_counter() - start)
        if schedule is not None:
            schedule.step()
    return history
