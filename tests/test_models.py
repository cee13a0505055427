"""PyTorch models of chapters 8-10: output shapes, parameter counts (hand-worked), build by name."""
import pytest
import torch

from cnnlib.models import MODELS, LeNet5, ResNet9, SeedCifarNet, SeedMnistNet, build, count_parameters

# Hand-worked: (in*k*k + 1) * out per convolution, (in + 1) * out per dense layer.
LENET5 = (1 * 25 + 1) * 6 + (6 * 25 + 1) * 16 + (400 + 1) * 120 + (120 + 1) * 84 + (84 + 1) * 10
SEED_MNIST = (9 + 1) * 32 + (32 * 13 * 13 + 1) * 128 + (128 + 1) * 10
SEED_CIFAR = (27 + 1) * 32 + (32 * 9 + 1) * 64 + (64 * 9 + 1) * 64 + (1024 + 1) * 64 + (64 + 1) * 10


@pytest.mark.parametrize("model, shape, params", [
    (LeNet5(), (2, 1, 28, 28), LENET5),
    (SeedMnistNet(), (2, 1, 28, 28), SEED_MNIST),
    (SeedCifarNet(), (2, 3, 32, 32), SEED_CIFAR),
])
def test_shapes_and_parameter_counts(model, shape, params):
    assert model(torch.zeros(shape)).shape == (2, 10)
    assert count_parameters(model) == params
    assert (LENET5, SEED_MNIST, SEED_CIFAR) == (61_706, 693_962, 122_570)


def test_resnet9_shapes_and_width():
    model = ResNet9(width=8).eval()
    assert model(torch.zeros(3, 3, 32, 32)).shape == (3, 10)
    assert count_parameters(ResNet9()) > 6_000_000 > count_parameters(ResNet9(width=32))


def test_build_by_name_and_unknown_name():
    assert set(MODELS) == {"lenet5", "seed_mnist", "seed_cifar", "resnet9"}
    assert isinstance(build("resnet9", width=8), ResNet9)
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        build("vgg")
