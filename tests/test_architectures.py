"""Chapter 8's PyTorch architectures: output shapes, and parameter counts equal to the published
ones AND to sums worked out layer by layer with cnnlib.param_counts (whose own formula is checked
against torch in test_residual.py)."""
from __future__ import annotations

import pytest
import torch

from cnnlib.architectures import (ARCHITECTURES, AlexNet, BasicBlock, DeepNet, DepthwiseSeparable, MobileNet,
                                  ShuffleUnit, VGG, channel_shuffle, resnet18)
from cnnlib.models import count_parameters
from cnnlib.param_counts import conv2d_params, depthwise_separable_params

torch.set_num_threads(1)


def dense(n_in: int, n_out: int) -> int:
    return (n_in + 1) * n_out


def bn(c: int) -> int:
    return 2 * c  # weight and bias; running statistics are buffers, not parameters


# Published counts (1000 classes): AlexNet one tower, VGG table 2, ResNet and MobileNet as in torchvision/Keras.
PUBLISHED = {"alexnet": 62_378_344, "vgg11": 132_863_336, "vgg16": 138_357_544, "resnet18": 11_689_512,
             "resnet34": 21_797_672, "mobilenet": 4_231_976}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_parameter_counts_and_output_shape(name):
    build, shape = ARCHITECTURES[name]
    with torch.device("meta"):  # shapes without arithmetic: VGG-16 in milliseconds
        model = build()
        out = model(torch.zeros(2, *shape[1:]))
    assert tuple(out.shape) == (2, 1000)
    assert count_parameters(model) == PUBLISHED[name]


def test_alexnet_by_hand():
    convs = (conv2d_params(3, 96, 11) + conv2d_params(96, 256, 5) + conv2d_params(256, 384, 3)
             + conv2d_params(384, 384, 3) + conv2d_params(384, 256, 3))
    assert convs + dense(256 * 6 * 6, 4096) + dense(4096, 4096) + dense(4096, 1000) == PUBLISHED["alexnet"]
    with torch.device("meta"):
        assert count_parameters(AlexNet()) == PUBLISHED["alexnet"]


def test_vgg16_by_hand():
    chans = [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    convs = sum(conv2d_params(a, b, 3) for a, b in zip(chans, chans[1:]))
    assert convs + dense(512 * 7 * 7, 4096) + dense(4096, 4096) + dense(4096, 1000) == PUBLISHED["vgg16"]


def test_resnet18_by_hand():
    def block(c_in, c_out, down):
        n = conv2d_params(c_in, c_out, 3, bias=False) + bn(c_out) + conv2d_params(c_out, c_out, 3, bias=False) + bn(c_out)
        return n + (conv2d_params(c_in, c_out, 1, bias=False) + bn(c_out) if down else 0)

    stem = conv2d_params(3, 64, 7, bias=False) + bn(64)
    stages = (2 * block(64, 64, False) + block(64, 128, True) + block(128, 128, False) + block(128, 256, True)
              + block(256, 256, False) + block(256, 512, True) + block(512, 512, False))
    assert stem + stages + dense(512, 1000) == PUBLISHED["resnet18"] == count_parameters(resnet18())


def test_mobilenet_by_hand_and_width_multiplier():
    from cnnlib.architectures import MOBILENET_UNITS

    total, c = conv2d_params(3, 32, 3, bias=False) + bn(32), 32
    for c_out, _ in MOBILENET_UNITS:
        total += depthwise_separable_params(c, c_out, 3, bias=False) + bn(c) + bn(c_out)
        c = c_out
    assert total + dense(1024, 1000) == PUBLISHED["mobilenet"]
    half = MobileNet(alpha=0.5, num_classes=10)
    assert half(torch.zeros(1, 3, 64, 64)).shape == (1, 10)
    assert count_parameters(half) < count_parameters(MobileNet(num_classes=10)) / 3


def test_depthwise_separable_saves_parameters_and_keeps_shape():
    unit = DepthwiseSeparable(32, 64, stride=2)
    assert unit(torch.zeros(2, 32, 16, 16)).shape == (2, 64, 8, 8)
    assert count_parameters(unit) == 32 * 9 + 32 * 64 + bn(32) + bn(64)
    assert conv2d_params(32, 64, 3, bias=False) / (32 * 9 + 32 * 64) > 7.5  # ~ 1 / (1/c_out + 1/9)


def test_channel_shuffle_by_hand():
    x = torch.arange(6.0).reshape(1, 6, 1, 1)  # groups of 3: (0 1)(2 3)(4 5)
    assert channel_shuffle(x, 3).flatten().tolist() == [0, 2, 4, 1, 3, 5]
    assert channel_shuffle(channel_shuffle(x, 3), 2).flatten().tolist() == list(range(6))  # the inverse
    with pytest.raises(ValueError, match="groups=4 must divide"):
        channel_shuffle(x, 4)


def test_shuffle_unit_shapes_and_grouped_counts():
    unit = ShuffleUnit(240, 240, groups=3)
    assert unit(torch.randn(2, 240, 8, 8)).shape == (2, 240, 8, 8)
    expected = (conv2d_params(240, 60, 1, groups=3, bias=False) + bn(60) + conv2d_params(60, 60, 3, groups=60, bias=False)
                + bn(60) + conv2d_params(60, 240, 1, groups=3, bias=False) + bn(240))
    assert count_parameters(unit) == expected
    down = ShuffleUnit(24, 240, groups=3, stride=2)
    assert down(torch.randn(1, 24, 8, 8)).shape == (1, 240, 4, 4)
    with pytest.raises(ValueError, match="c_in"):
        ShuffleUnit(24, 48, stride=1)


def test_basic_block_shortcut():
    assert isinstance(BasicBlock(64, 64).shortcut, torch.nn.Identity)
    down = BasicBlock(64, 128, stride=2)
    assert down(torch.zeros(1, 64, 8, 8)).shape == (1, 128, 4, 4)


def test_vgg_width_and_bad_config():
    small = VGG("11", num_classes=10, width=16, input_size=32)
    assert small(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="config must be one of"):
        VGG("19")


def test_plain_and_residual_nets_share_parameters_and_initial_weights():
    torch.manual_seed(0)
    plain = DeepNet(4, residual=False, width=8)
    torch.manual_seed(0)
    res = DeepNet(4, residual=True, width=8)
    assert count_parameters(plain) == count_parameters(res)
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), res.state_dict().values()))
    assert len(plain.conv_layers()) == 2 * 4 + 1
    x = torch.randn(3, 1, 7, 7)
    assert plain(x).shape == res(x).shape == (3, 10)
    assert not torch.allclose(plain(x), res(x))  # the skip changes the function, not the parameters


def test_residual_block_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cnnlib.figures_arch import residual_block_figure

    fig = residual_block_figure()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "+" in texts and "identity: x" in texts and texts.count("ReLU") == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="body must name at least one layer"):
        residual_block_figure(body=[])
