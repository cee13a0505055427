"""PyTorch models shared by chapters 8-10: LeNet-5, the seeds' two Keras models, a CIFAR ResNet.

Every model takes NCHW float input and returns logits (no softmax: the loss applies it, which is
numerically safer than the seeds' `activation='softmax'` followed by categorical cross-entropy).
`build(name)` makes any of them by name; checkpoints record that name (see cnnlib.checkpoint).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

__all__ = ["LeNet5", "SeedMnistNet", "SeedCifarNet", "ResNet9", "MODELS", "build", "count_parameters"]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalars in the model's parameters (what Keras's `model.summary()` calls params)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


class LeNet5(nn.Module):
    """LeCun et al. (1998) for 28x28 digits: the first convolution pads by 2 so that it sees the
    32x32 input of the paper. Input (N, 1, 28, 28) -> logits (N, 10); 61,706 parameters.

    ReLU and max pooling replace the paper's scaled tanh and trainable subsampling (the modern
    reading, and what cnnlib's NumPy LeNet-5 computes too).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 6x14x14
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # 16x5x5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class SeedMnistNet(nn.Module):
    """Seed 004's Keras MNIST model in PyTorch: Conv2D(32, 3x3, relu), MaxPooling2D(2), Dropout(0.25),
    Flatten, Dense(128, relu), Dropout(0.5), Dense(num_classes). Input (N, 1, 28, 28) -> (N, C);
    693,962 parameters for 10 classes, as Keras's summary says (the seed leaves num_classes
    undefined: it is 10 for MNIST).
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),  # 32x13x13
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * 13 * 13, 128), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class SeedCifarNet(nn.Module):
    """Seed 002's Keras CIFAR-10 model in PyTorch: Conv2D(32) pool Conv2D(64) pool Conv2D(64),
    Flatten, Dense(64, relu), Dense(10); all 3x3 'valid' convolutions with ReLU.
    Input (N, 3, 32, 32) -> (N, 10); 122,570 parameters, as Keras's summary says.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),  # 32x15x15
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),  # 64x6x6
            nn.Conv2d(64, 64, 3), nn.ReLU(),  # 64x4x4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def _conv_bn(c_in: int, c_out: int, pool: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
    ]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class _Residual(nn.Module):
    """x + f(x): two 3x3 conv-BN-ReLU units whose output is added to their input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv_bn(channels, channels), _conv_bn(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNet9(nn.Module):
    """The small residual network behind the fast CIFAR-10 training results (Page's DAWNBench
    entry, as popularised by Keller Jordan's airbench): prep, 3 stages with pooling, 2 residual
    blocks. Input (N, 3, 32, 32) -> (N, num_classes); `width` scales every stage (64 -> 6.57 M
    parameters).
    """

    def __init__(self, num_classes: int = 10, width: int = 64) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _conv_bn(3, w),  # 32x32
            _conv_bn(w, 2 * w, pool=True), _Residual(2 * w),  # 16x16
            _conv_bn(2 * w, 4 * w, pool=True),  # 8x8
            _conv_bn(4 * w, 8 * w, pool=True), _Residual(8 * w),  # 4x4
        )
        self.classifier = nn.Sequential(
            nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(8 * w, num_classes, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


MODELS: dict[str, Callable[..., nn.Module]] = {
    "lenet5": LeNet5,
    "seed_mnist": SeedMnistNet,
    "seed_cifar": SeedCifarNet,
    "resnet9": ResNet9,
}


def build(name: str, **kwargs) -> nn.Module:
    """A model from MODELS by name, e.g. build("resnet9", width=32)."""
    if name not in MODELS:
        raise ValueError(f"name: unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name](**kwargs)
