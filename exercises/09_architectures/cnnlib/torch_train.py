"""One PyTorch training loop for chapters 9 and 10, written the way a GPU wants it.

- Device: ``select_device()`` picks CUDA, then Apple's MPS, then the CPU (``CNNLIB_DEVICE`` or the
  ``device`` argument override it).
- Data stays on the device: the whole data set is copied there once as uint8 and normalised,
  augmented (random crop with reflection padding, horizontal flip) and batched there, by indexing.
  No DataLoader, no host-to-device copy per batch.
- ``channels_last`` memory format (NHWC in memory, NCHW in shape): what tensor cores want.
- bfloat16 autocast: on CUDA by default (``amp=None``); on the CPU only when asked (``amp=True``),
  which is how the tests run the GPU path without a GPU. bf16 has float32's exponent range, so no
  loss scaling is needed.
- ``torch.backends.cudnn.benchmark = True`` on CUDA (input shapes are fixed: the last, smaller
  batch is dropped when ``drop_last``), and optionally ``torch.compile``.
- Data-parallel when started by ``torchrun`` (environment ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``):
  the model is wrapped in DistributedDataParallel and each process takes a distinct shard of each
  global batch (``shard``), like ``DistributedSampler``. DDP averages the gradients of the
  processes, so with equal shards one step equals a step on the combined batch.

``train`` returns a ``TrainResult``: per-epoch history, training wall time (CUDA synchronised;
evaluation excluded; compilation included), images per second and the final test accuracy.
"""
from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import unwrap
from .progress import progress

__all__ = ["TrainConfig", "TrainResult", "select_device", "to_device", "shard", "augment_batch", "train",
           "evaluate", "distributed_context"]


def select_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given, else $CNNLIB_DEVICE, else cuda > mps > cpu."""
    choice = device if device is not None else os.environ.get("CNNLIB_DEVICE")
    if choice is not None:
        dev = torch.device(choice)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device: {choice!r} was asked for, but CUDA is not available here")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class TrainConfig:
    """Hyper-parameters and speed switches. lr is the peak learning rate of the schedule;
    batch_size is the GLOBAL batch (split over the processes when data-parallel)."""

    epochs: int = 1
    batch_size: int = 256
    lr: float = 0.01
    optimizer: str = "sgd"  # "sgd" (Nesterov momentum) or "adam"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    schedule: str = "onecycle"  # "onecycle" (linear warm-up then linear decay to 0) or "constant"
    warmup: float = 0.2  # fraction of the steps spent warming up
    augment: bool = False  # random crop (pad 4, reflect) + horizontal flip, on the device
    flip: bool = True  # with augment: flip horizontally (not for digits)
    crop_pad: int = 4  # with augment: the random crop's reflection padding
    channels_last: bool = True
    amp: bool | None = None  # bf16 autocast; None = on CUDA only
    compile: bool = False
    cudnn_benchmark: bool = True
    drop_last: bool = True
    seed: int = 0
    eval_batch_size: int = 1024
    progress: bool = True
    desc: str = "train"
    record_indices: bool = False  # keep the training-set indices of every step in TrainResult.indices


@dataclass
class TrainResult:
    """history: per epoch "loss" (mean training loss), "train_acc", "test_acc"; wall_s: training seconds;
    images_per_s: training images (all processes) per second; test_acc: final test accuracy."""

    history: dict[str, list[float]]
    wall_s: float
    images_per_s: float
    test_acc: float
    device: str
    world_size: int
    steps: int
    config: dict[str, Any] = field(default_factory=dict)
    indices: list[list[int]] = field(default_factory=list)  # per step, this process's images (record_indices)


def to_device(images: np.ndarray, labels: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N, C, H, W) and int labels (N,) -> tensors on ``device`` (uint8, int64), copied once."""
    if not isinstance(images, np.ndarray) or images.ndim != 4:
        raise ValueError(f"images must be a NumPy array (N, C, H, W), got {getattr(images, 'shape', type(images))}")
    if len(labels) != len(images):
        raise ValueError(f"labels: {len(labels)} labels for {len(images)} images")
    return (torch.from_numpy(np.ascontiguousarray(images)).to(device),
            torch.from_numpy(np.asarray(labels, np.int64)).to(device))


def normalise(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32, (x/255 - mean) / std per channel."""
    return (x.float() / 255 - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


def augment_batch(x: torch.Tensor, generator: torch.Generator, pad: int = 4, flip: bool = True) -> torch.Tensor:
    """Random crop (reflection padding ``pad``) and horizontal flip of a float batch (N, C, H, W), per image,
    on x's device, with random numbers from ``generator`` (on the same device)."""
    n, c, h, w = x.shape
    dev = x.device
    xp = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    dy = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=generator)
    rows = (dy[:, None] + torch.arange(h, device=dev))[:, None, :, None].expand(n, c, h, w + 2 * pad)
    xp = xp.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w, device=dev))[:, None, None, :].expand(n, c, h, w)
    out = xp.gather(3, cols)
    if flip:
        mirror = torch.rand(n, device=dev, generator=generator) < 0.5
        out = torch.where(mirror[:, None, None, None], out.flip(3), out)
    return out


def shard(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """This process's part of a global batch of indices: every world_size-th one, from position ``rank``.

    The shards of the processes are disjoint and together make the batch (the combined batch)."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
    return batch[rank::world_size]


def epoch_batches(n: int, batch_size: int, epoch: int, seed: int, drop_last: bool,
                  world_size: int = 1) -> list[torch.Tensor]:
    """Global batches of indices for one epoch: one permutation seeded by (seed, epoch), the same in
    every process. Each batch's size is a multiple of world_size (so that shards are equal)."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    perm = torch.randperm(n, generator=g)
    batches = list(perm.split(batch_size))
    if batches and (drop_last and len(batches[-1]) < batch_size) and len(batches) > 1:
        batches.pop()
    batches = [b[: len(b) - len(b) % world_size] for b in batches]
    return [b for b in batches if len(b)]


@contextlib.contextmanager
def distributed_context(device: torch.device):
    """(rank, world_size) of this process: (0, 1) unless torchrun started it (WORLD_SIZE > 1), in which
    case the process group is set up here (NCCL on CUDA, gloo on the CPU) and torn down at the end."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        yield 0, 1
        return
    created = False
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        created = True
    try:
        yield dist.get_rank(), dist.get_world_size()
    finally:
        if created:
            dist.destroy_process_group()


def _lr_factor(step: int, total: int, config: TrainConfig) -> float:
    if config.schedule == "constant":
        return 1.0
    warm = max(1, int(config.warmup * total))
    if step < warm:
        return (step + 1) / warm
    return max(0.0, (total - step) / max(1, total - warm))


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum, nesterov=config.momentum > 0,
                               weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {config.optimizer!r}")


def _autocast(device: torch.device, config: TrainConfig):
    use = (device.type == "cuda") if config.amp is None else config.amp
    if use:
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, mean: torch.Tensor, std: torch.Tensor,
             config: TrainConfig, device: torch.device) -> float:
    """Accuracy of ``model`` on uint8 images x (N, C, H, W) and labels y (N,), both on ``device``."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), config.eval_batch_size):
        xb = normalise(x[i:i + config.eval_batch_size], mean, std)
        if config.channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with _autocast(device, config):
            correct += int((model(xb).argmax(1) == y[i:i + config.eval_batch_size]).sum())
    model.train(was_training)
    return correct / max(1, len(x))


def train(model: nn.Module, train_images: np.ndarray, train_labels: np.ndarray,
          test_images: np.ndarray | None = None, test_labels: np.ndarray | None = None,
          config: TrainConfig | None = None, device: str | torch.device | None = None) -> TrainResult:
    """Train ``model`` in place on uint8 images (N, C, H, W) with labels (N,); evaluate after each epoch.

    Started by torchrun, each process runs this same call: the model is wrapped in
    DistributedDataParallel, each process trains on its shard of every global batch, and all
    processes end with the same weights. Returns a TrainResult (history, wall time, images/s).
    """
    config = config or TrainConfig()
    device = select_device(device)
    torch.manual_seed(config.seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = config.cudnn_benchmark
        torch.backends.cuda.matmul.allow_tf32 = True  # training (not the checks): TF32 where bf16 is not used
        torch.backends.cudnn.allow_tf32 = True
    x_train, y_train = to_device(train_images, train_labels, device)
    has_test = test_images is not None and test_labels is not None
    x_test, y_test = to_device(test_images, test_labels, device) if has_test else (None, None)
    scale = x_train.float() / 255  # per-channel statistics of the training set
    mean, std = scale.mean(dim=(0, 2, 3)), scale.std(dim=(0, 2, 3)).clamp_min(1e-3)
    del scale

    with distributed_context(device) as (rank, world):
        model.to(device)
        if config.channels_last:
            model.to(memory_format=torch.channels_last)
        net: nn.Module = model
        if world > 1:
            net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        if config.compile:
            net = torch.compile(net)
        opt = _optimizer(model, config)
        n_batches = len(epoch_batches(len(x_train), config.batch_size, 0, config.seed, config.drop_last, world))
        total = config.epochs * n_batches
        gen = torch.Generator(device=device).manual_seed(config.seed * 7919 + rank)
        history: dict[str, list[float]] = {"loss": [], "train_acc": [], "test_acc": []}
        wall = 0.0
        images = 0
        step = 0
        seen_indices: list[list[int]] = []
        show = config.progress and rank == 0
        bar = progress(total=total, desc=config.desc, unit="batch", disable=not show)
        for epoch in range(config.epochs):
            model.train()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            seen = 0
            for batch in epoch_batches(len(x_train), config.batch_size, epoch, config.seed, config.drop_last, world):
                idx = shard(batch, rank, world).to(device)
                if config.record_indices:
                    seen_indices.append(idx.tolist())
                xb = normalise(x_train[idx], mean, std)
                yb = y_train[idx]
                if config.augment:
                    xb = augment_batch(xb, gen, pad=config.crop_pad, flip=config.flip)
                if config.channels_last:
                    xb = xb.contiguous(memory_format=torch.channels_last)
                for group in opt.param_groups:
                    group["lr"] = config.lr * _lr_factor(step, total, config)
                with _autocast(device, config):
                    out = net(xb)
                    loss = F.cross_entropy(out.float(), yb, label_smoothing=config.label_smoothing)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += loss.detach() * len(idx)
                correct += (out.detach().argmax(1) == yb).sum()
                seen += len(idx)
                step += 1
                bar.update(1)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            wall += time.perf_counter() - t0
            stats = torch.stack([loss_sum.double(), correct.double(), torch.tensor(float(seen), device=device,
                                                                                  dtype=torch.float64)])
            if world > 1:
                import torch.distributed as dist

                dist.all_reduce(stats)
            images += int(stats[2])
            history["loss"].append(float(stats[0] / stats[2]))
            history["train_acc"].append(float(stats[1] / stats[2]))
            acc = evaluate(unwrap(net), x_test, y_test, mean, std, config, device) if has_test else math.nan
            history["test_acc"].append(acc)
            bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", test_acc=f"{acc:.3f}")
        bar.close()
    return TrainResult(history, wall, images / wall if wall > 0 else math.nan,
                       history["test_acc"][-1] if history["test_acc"] else math.nan, str(device), world, step,
                       asdict(config), seen_indices)
