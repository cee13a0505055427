"""cnnlib.train: the loop learns real digits, keeps a history, evaluates in eval mode, and stops on NaN."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlib import Dropout, Flatten, Linear, ReLU, Sequential
from cnnlib.data import load_mnist
from cnnlib.lenet import lenet5
from cnnlib.optim import SGD, Adam
from cnnlib.schedules import StepLR
from cnnlib.train import TrainingDiverged, confusion_matrix, evaluate, fit, predict
from cnnlib.transforms import to_float


@pytest.fixture(scope="module")
def digits():
    train, test = load_mnist("train"), load_mnist("test")
    return (to_float(train.images[:2000]), train.labels[:2000], to_float(test.images[:500]), test.labels[:500])


def test_lenet5_learns_real_digits(digits, monkeypatch):
    monkeypatch.setenv("CNNLIB_PROGRESS", "off")
    x, y, xt, yt = digits
    net = lenet5(np.random.default_rng(0))
    loss0, acc0 = evaluate(net, xt, yt)
    opt = Adam(net, lr=2e-3)
    hist = fit(net, opt, x, y, epochs=2, batch_size=32, validation=(xt, yt), schedule=StepLR(opt, 1, 0.5),
               rng=np.random.default_rng(1))
    assert len(hist) == 2 and len(hist.val_acc) == 2 and hist.lr == [2e-3, 1e-3] and opt.lr == 5e-4
    assert hist.train_loss[1] < hist.train_loss[0] < loss0
    assert acc0 < 0.2 and hist.val_acc[-1] > 0.85, (acc0, hist.val_acc)
    cm = confusion_matrix(yt, predict(net, xt).argmax(axis=1), 10)
    assert cm.sum() == len(yt) and np.trace(cm) / cm.sum() == pytest.approx(hist.val_acc[-1])
    assert (cm.sum(axis=1) == np.bincount(yt, minlength=10)).all()


def test_diverging_learning_rate_stops_with_a_clear_message(digits, monkeypatch):
    monkeypatch.setenv("CNNLIB_PROGRESS", "off")
    x, y, _, _ = digits
    r = np.random.default_rng(0)
    net = Sequential(Flatten(), Linear(784, 64, rng=r), ReLU(), Linear(64, 64, rng=r), ReLU(), Linear(64, 10, rng=r))
    with pytest.raises(TrainingDiverged, match=r"loss is nan at epoch 1, step \d+ of 10, with learning rate 1e\+06"):
        with np.errstate(all="ignore"):
            fit(net, SGD(net, lr=1e6), x[:640], y[:640], epochs=1, batch_size=64, rng=np.random.default_rng(0))


def test_evaluate_uses_eval_mode_and_restores_training(digits):
    x, y, _, _ = digits
    net = Sequential(Flatten(), Linear(784, 10, rng=np.random.default_rng(0)), Dropout(0.9, np.random.default_rng(0)))
    a = evaluate(net, x[:100], y[:100])
    assert evaluate(net, x[:100], y[:100]) == a  # no dropout noise in eval mode
    assert net.training and net[2].training


def test_bad_arguments(digits):
    x, y, _, _ = digits
    net = Sequential(Flatten(), Linear(784, 10))
    with pytest.raises(ValueError, match="epochs"):
        fit(net, SGD(net, 0.1), x, y, epochs=0)
    with pytest.raises(ValueError, match="y must be an integer array"):
        fit(net, SGD(net, 0.1), x, y.astype(float), epochs=1)
