"""The PyTorch training loop of chapters 9-10: one step lowers the loss; the GPU code path (channels_last,
bf16 autocast, on-device augmentation) runs on the CPU with the device switched; sharding and
augmentation do what they say; CUDA-only tests for the real GPU path."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.data import load_mnist
from cnnlib.models import build
from cnnlib.torch_train import (TrainConfig, augment_batch, epoch_batches, normalise, select_device, shard, to_device,
                                train)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits():
    d = load_mnist("train")
    return d.images[:256], d.labels[:256]


def _loss(model, images, labels):
    x, y = to_device(images, labels, torch.device("cpu"))
    scale = x.float() / 255
    mean, std = scale.mean(dim=(0, 2, 3)), scale.std(dim=(0, 2, 3))
    model.eval()
    with torch.no_grad():
        return float(F.cross_entropy(model(normalise(x, mean, std)), y))


def test_one_training_step_on_cpu_lowers_the_loss(digits):
    images, labels = digits[0][:128], digits[1][:128]
    torch.manual_seed(0)
    model = build("lenet5")
    before = _loss(model, images, labels)
    cfg = TrainConfig(epochs=1, batch_size=128, lr=0.2, schedule="constant", weight_decay=0.0, progress=False,
                      channels_last=False)
    result = train(model, images, labels, config=cfg, device="cpu")
    after = _loss(model, images, labels)
    assert result.steps == 1 and result.device == "cpu" and result.world_size == 1
    assert result.history["loss"][0] == pytest.approx(before, rel=1e-5)  # the loss of the step, before the update
    assert after < before - 1e-3, (before, after)


def test_gpu_code_path_runs_on_cpu_with_the_device_switched(digits, monkeypatch):
    """channels_last, bf16 autocast and augmentation on the device: the settings of the GPU runs, on the CPU."""
    monkeypatch.setenv("CNNLIB_DEVICE", "cpu")
    images, labels = digits
    torch.manual_seed(0)
    model = build("lenet5")
    cfg = TrainConfig(epochs=2, batch_size=64, lr=3e-3, optimizer="adam", amp=True, channels_last=True, augment=True,
                      flip=False, crop_pad=2, progress=False)
    result = train(model, images, labels, images[:64], labels[:64], cfg)
    assert result.device == "cpu" and result.steps == 8
    assert all(math.isfinite(v) for v in result.history["loss"]) and result.history["loss"][1] < result.history["loss"][0]
    assert 0 <= result.test_acc <= 1 and result.images_per_s > 0 and result.wall_s > 0
    conv = model.features[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert conv.dtype == torch.float32  # autocast computes in bf16, the weights stay float32


def test_device_selection():
    assert select_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device: 'cuda' was asked for, but CUDA is not available"):
            select_device("cuda")


def test_shards_are_disjoint_and_make_the_batch():
    batch = torch.randperm(24)
    parts = [shard(batch, r, 3) for r in range(3)]
    assert sum(len(p) for p in parts) == 24
    assert sorted(torch.cat(parts).tolist()) == sorted(batch.tolist())
    with pytest.raises(ValueError, match="rank must be in"):
        shard(batch, 3, 3)


def test_epoch_batches_are_a_permutation_shared_by_every_process():
    a = epoch_batches(100, 32, epoch=1, seed=5, drop_last=False, world_size=2)
    assert all(torch.equal(x, y) for x, y in zip(a, epoch_batches(100, 32, 1, 5, False, 2)))
    assert [len(b) for b in a] == [32, 32, 32, 4] and len(set(torch.cat(a).tolist())) == 100
    assert [len(b) for b in epoch_batches(100, 32, 1, 5, True)] == [32, 32, 32]
    assert not torch.equal(epoch_batches(100, 32, 2, 5, False)[0], a[0])  # a new order each epoch


def test_augmentation_crops_and_flips_real_windows():
    x = torch.arange(2 * 1 * 5 * 6, dtype=torch.float32).reshape(2, 1, 5, 6)
    g = torch.Generator().manual_seed(0)
    out = augment_batch(x, g, pad=2, flip=True)
    padded = F.pad(x, (2, 2, 2, 2), mode="reflect")
    for n in range(2):  # every output is one 5x6 window of the padded image, possibly mirrored
        windows = [padded[n, :, i:i + 5, j:j + 6] for i in range(5) for j in range(5)]
        assert any(torch.equal(out[n], w) or torch.equal(out[n], w.flip(-1)) for w in windows)
    assert torch.equal(augment_batch(x, torch.Generator().manual_seed(1), pad=0, flip=False), x)


@pytest.mark.cuda
def test_cuda_path_with_bf16_channels_last_and_compile(digits):
    images, labels = digits
    model = build("lenet5")
    cfg = TrainConfig(epochs=2, batch_size=64, lr=3e-3, optimizer="adam", augment=True, flip=False, compile=True,
                      progress=False)
    result = train(model, images, labels, images, labels, cfg)
    assert result.device.startswith("cuda") and torch.backends.cudnn.benchmark
    assert result.history["loss"][1] < result.history["loss"][0]
    assert next(model.parameters()).is_cuda


@pytest.mark.cuda
def test_cuda_and_cpu_agree_on_one_step(digits):
    """The same step (float32, no autocast) on both devices gives the same weights, to TF32 precision."""
    images, labels = digits[0][:64], digits[1][:64]
    weights = []
    for dev in ("cpu", "cuda"):
        torch.manual_seed(0)
        model = build("lenet5")
        cfg = TrainConfig(epochs=1, batch_size=64, lr=0.05, schedule="constant", amp=False, progress=False)
        train(model, images, labels, config=cfg, device=dev)
        weights.append(model.features[0].weight.detach().cpu())
    torch.testing.assert_close(weights[0], weights[1], rtol=1e-2, atol=1e-3)
