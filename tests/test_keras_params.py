"""The seeds' two Keras models, built with Keras 3 itself (torch backend), have the same parameter
counts as their PyTorch versions in cnnlib.models, layer by layer and in total (what Keras's
model.summary() prints). Keras is pinned in requirements.txt; the test skips if it is missing."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from torch import nn  # noqa: E402

from cnnlib.models import SeedCifarNet, SeedMnistNet, count_parameters  # noqa: E402


def seed_mnist_keras(num_classes: int = 10):
    """Seed 004's listing; keras.Input replaces `input_shape=` (which Keras 3 deprecates with a warning)."""
    from keras import layers, models
    return models.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"), layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Dropout(0.25), layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])


def seed_cifar_keras():
    """Seed 002's listing (Conv2D 32, 64, 64 with 2x2 pools, Dense 64, Dense 10)."""
    from keras import layers, models
    return models.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"), layers.Flatten(),
        layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax"),
    ])


@pytest.mark.parametrize("keras_model, torch_model, total", [
    (seed_mnist_keras, SeedMnistNet, 693_962), (seed_cifar_keras, SeedCifarNet, 122_570),
])
def test_keras_summary_counts_equal_pytorch(keras_model, torch_model, total):
    km, tm = keras_model(), torch_model()
    assert km.count_params() == count_parameters(tm) == total
    lines: list[str] = []
    km.summary(print_fn=lambda line, **_: lines.append(line))
    assert any(f"Total params: {total:,}" in line for line in lines), "\n".join(lines)
    keras_layers = [layer.count_params() for layer in km.layers if layer.count_params()]
    torch_layers = [sum(p.numel() for p in m.parameters()) for m in tm.modules()
                    if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert keras_layers == torch_layers
