"""Classic CNN architectures of chapter 8 in PyTorch: AlexNet, VGG, ResNet-18/34, MobileNet,
ShuffleNet's unit, and the plain and residual deep nets of the degradation experiment.

Every model takes NCHW float input and returns logits. They follow the papers' layer sizes, so
that their parameter counts can be checked against the published ones (and against
``cnnlib.param_counts``): AlexNet (Krizhevsky et al. 2012, one tower, 227x227 input),
VGG-11/16 (Simonyan and Zisserman 2015), ResNet-18/34 (He et al. 2016, BasicBlock),
MobileNet v1 (Howard et al. 2017), ShuffleNet's unit (Zhang et al. 2018). The LeNet-5 and
the seeds' models are in ``cnnlib.models``.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["AlexNet", "VGG", "VGG_CONFIGS", "BasicBlock", "ResNet", "resnet18", "resnet34",
           "DepthwiseSeparable", "MobileNet", "channel_shuffle", "ShuffleUnit", "DeepNet", "ARCHITECTURES"]


class AlexNet(nn.Module):
    """Krizhevsky, Sutskever and Hinton (2012), as one tower (the paper split it over two GPUs).

    Input (N, 3, 227, 227) -> (N, num_classes): 5 convolutions (96, 256, 384, 384, 256 filters;
    11x11 stride 4, then 5x5, then 3x3), 3 overlapping 3x3 stride-2 max pools, and 3 fully
    connected layers (4096, 4096, num_classes) with dropout. 62,378,344 parameters for 1000 classes.
    Local response normalization is left out (later work found it does not help).
    """

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),  # 96x55x55 -> 27
            nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),  # 256x27x27 -> 13
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),  # 256x6x6
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# Output channels of each 3x3 convolution; "M" is a 2x2 max pool (Simonyan and Zisserman, table 1).
VGG_CONFIGS: dict[str, list[int | str]] = {
    "11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """VGG-11 or VGG-16: only 3x3 convolutions (padding 1) and 2x2 max pools, then 3 dense layers.

    Input (N, in_channels, 224, 224) -> (N, num_classes). 132,863,336 (VGG-11) and 138,357,544
    (VGG-16) parameters for 1000 classes; ``width`` divides every channel count (for small tests).
    """

    def __init__(self, config: str = "16", num_classes: int = 1000, in_channels: int = 3, width: int = 1,
                 input_size: int = 224) -> None:
        super().__init__()
        if config not in VGG_CONFIGS:
            raise ValueError(f"config must be one of {sorted(VGG_CONFIGS)}, got {config!r}")
        layers: list[nn.Module] = []
        c = in_channels
        for v in VGG_CONFIGS[config]:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(c, int(v) // width, 3, padding=1), nn.ReLU(inplace=True)]
                c = int(v) // width
        self.features = nn.Sequential(*layers)
        side = input_size // 32
        hidden = 4096 // width
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c * side * side, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """ResNet's basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).

    x (N, c_in, H, W) -> (N, c_out, H / stride, W / stride). The shortcut is the identity when the
    shape is kept, else a 1x1 convolution with the stride and batch norm (He et al.'s option B).
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """ResNet for ImageNet with basic blocks: 7x7 stride-2 stem, 3x3 max pool, four stages of
    ``blocks[i]`` blocks (64, 128, 256, 512 channels; stages 2-4 halve the size), global average
    pooling, one dense layer. Input (N, 3, 224, 224) -> (N, num_classes).
    """

    def __init__(self, blocks: Sequence[int], num_classes: int = 1000, in_channels: int = 3) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2, padding=1))
        stages: list[nn.Module] = []
        c = 64
        for i, n in enumerate(blocks):
            c_out = 64 * 2 ** i
            stages.append(nn.Sequential(*[BasicBlock(c if j == 0 else c_out, c_out, 2 if (j == 0 and i > 0) else 1)
                                          for j in range(n)]))
            c = c_out
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18: blocks (2, 2, 2, 2); 11,689,512 parameters for 1000 classes."""
    return ResNet((2, 2, 2, 2), num_classes)


def resnet34(num_classes: int = 1000) -> ResNet:
    """ResNet-34: blocks (3, 4, 6, 3); 21,797,672 parameters for 1000 classes."""
    return ResNet((3, 4, 6, 3), num_classes)


class DepthwiseSeparable(nn.Module):
    """MobileNet's unit: 3x3 depthwise convolution (groups = c_in) + BN + ReLU, then 1x1 pointwise
    convolution (c_in -> c_out) + BN + ReLU. x (N, c_in, H, W) -> (N, c_out, H / stride, W / stride).
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in, bias=False)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn2(self.pointwise(torch.relu(self.bn1(self.depthwise(x))))))


# (output channels, stride) of MobileNet v1's 13 depthwise separable units (Howard et al., table 1).
MOBILENET_UNITS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]


class MobileNet(nn.Module):
    """MobileNet v1: a 3x3 stride-2 convolution to 32 channels, 13 depthwise separable units,
    global average pooling and one dense layer. ``alpha`` (the width multiplier) scales every
    channel count. Input (N, 3, 224, 224) -> (N, num_classes); 4,231,976 parameters at alpha = 1.
    """

    def __init__(self, num_classes: int = 1000, alpha: float = 1.0, in_channels: int = 3) -> None:
        super().__init__()
        c = int(32 * alpha)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c),
                                   nn.ReLU(inplace=True)]
        for c_out, stride in MOBILENET_UNITS:
            layers.append(DepthwiseSeparable(c, int(c_out * alpha), stride))
            c = int(c_out * alpha)
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's channel shuffle: (N, g*n, H, W) -> same shape, channel order g x n transposed.

    Channel j of group i (index i*n + j) moves to index j*g + i, so that the next grouped
    convolution's every group receives channels from every group of the previous one.
    """
    n, c, h, w = x.shape
    if c % groups:
        raise ValueError(f"groups={groups} must divide the number of channels {c} of x {tuple(x.shape)}")
    return x.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleUnit(nn.Module):
    """ShuffleNet unit (Zhang et al. 2018, figure 2): 1x1 grouped convolution to c_out / 4 channels
    + BN + ReLU, channel shuffle, 3x3 depthwise convolution (stride) + BN, 1x1 grouped convolution
    + BN; then with stride 1, relu(x + that); with stride 2, relu(concat(avgpool3x3(x), that)),
    the branch giving c_out - c_in channels. x (N, c_in, H, W) -> (N, c_out, H / stride, W / stride).
    """

    def __init__(self, c_in: int, c_out: int, groups: int = 3, stride: int = 1) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if stride == 1 and c_in != c_out:
            raise ValueError(f"with stride 1 the unit adds x: c_in ({c_in}) must equal c_out ({c_out})")
        self.groups, self.stride = groups, stride
        branch = c_out - c_in if stride == 2 else c_out
        mid = c_out // 4
        self.compress = nn.Conv2d(c_in, mid, 1, groups=groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.depthwise = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.expand = nn.Conv2d(mid, branch, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(branch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = channel_shuffle(torch.relu(self.bn1(self.compress(x))), self.groups)
        out = self.bn3(self.expand(self.bn2(self.depthwise(out))))
        if self.stride == 1:
            return torch.relu(x + out)
        return torch.relu(torch.cat([nn.functional.avg_pool2d(x, 3, 2, 1), out], dim=1))


class _Block(nn.Module):
    """Two 3x3 conv-BN units; with ``residual``, x is added before the second ReLU."""

    def __init__(self, width: int, residual: bool) -> None:
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + x if self.residual else out)


class DeepNet(nn.Module):
    """The degradation experiment's net: a 3x3 conv-BN-ReLU stem, ``blocks`` blocks of two 3x3
    conv-BN layers (with or without the skip), global average pooling, one dense layer.

    2 * blocks + 2 weight layers; the plain and the residual net have exactly the same
    parameters (the identity skip has none), and with the same seed the same initial weights
    (He initialization, PyTorch's default for convolutions up to a constant, is set explicitly).
    x (N, in_channels, H, W) -> (N, num_classes).
    """

    def __init__(self, blocks: int, residual: bool, width: int = 16, in_channels: int = 1,
                 num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU())
        self.blocks = nn.Sequential(*[_Block(width, residual) for _ in range(blocks)])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))

    def conv_layers(self) -> list[nn.Conv2d]:
        """The convolutions in order from input to output (for per-layer gradient norms)."""
        return [m for m in self.modules() if isinstance(m, nn.Conv2d)]


ARCHITECTURES = {
    "alexnet": (AlexNet, (1, 3, 227, 227)),
    "vgg11": (lambda **kw: VGG("11", **kw), (1, 3, 224, 224)),
    "vgg16": (lambda **kw: VGG("16", **kw), (1, 3, 224, 224)),
    "resnet18": (resnet18, (1, 3, 224, 224)),
    "resnet34": (resnet34, (1, 3, 224, 224)),
    "mobilenet": (MobileNet, (1, 3, 224, 224)),
}
