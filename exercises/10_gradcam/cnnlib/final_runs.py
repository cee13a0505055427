"""Chapter 10's runs: LeNet-5 on MNIST, the seeds' Keras CIFAR-10 model (the baseline) and ResNet9.

Two configurations of the same code (``cnnlib.torch_train.train``):

- ``full``: for one modern GPU (targets on an H100-class GPU: LeNet-5 >= 99.0 % MNIST test accuracy
  in <= 10 s of training, ResNet9 >= 94 % CIFAR-10 in <= 60 s), on the full data sets;
- ``quick``: small enough for a 2-core CPU (the book's build and the tests), on the offline data
  when there is no network. Its numbers say that the code runs, not what the models can reach.

``python -m cnnlib.final_runs`` on a machine with CUDA runs the full configuration, saves and
reloads a checkpoint of each model, and writes ``book/results/gpu_results.json`` (device, date,
versions, figures); the book shows GPU figures only from that file, otherwise "not measured".
Without CUDA it refuses to write that file (``--quick`` runs the quick configuration instead).
Data-parallel on several GPUs: ``torchrun --nproc_per_node=N -m cnnlib.final_runs`` (the batch
size is global; rank 0 writes the files).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .data import Dataset, load_cifar10, load_mnist
from .models import build, count_parameters
from .torch_train import TrainConfig, TrainResult, evaluate, select_device, to_device, train

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "book" / "results" / "gpu_results.json"
NOT_MEASURED = "not measured"

__all__ = ["Run", "RUNS", "run", "load_data", "load_gpu_results", "gpu_figure", "main", "NOT_MEASURED"]


@dataclass(frozen=True)
class Run:
    """One training run: model name and kwargs, data set, configuration, sizes, and its target (GPU)."""

    name: str
    architecture: str
    dataset: str  # "mnist" or "cifar10"
    config: TrainConfig
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    train_size: int | None = None  # None: the whole training set
    test_size: int | None = None
    target_acc: float | None = None
    target_s: float | None = None


_MNIST = dict(augment=True, flip=False, crop_pad=2)
_CIFAR = dict(augment=True, flip=True, crop_pad=4)

RUNS: dict[str, dict[str, Run]] = {
    "full": {
        "lenet5": Run("lenet5", "lenet5", "mnist", TrainConfig(epochs=12, batch_size=128, lr=2e-3, optimizer="adam",
                                                               weight_decay=5e-4, desc="LeNet-5", **_MNIST),
                      target_acc=0.99, target_s=10.0),
        "seed_cifar": Run("seed_cifar", "seed_cifar", "cifar10",
                          TrainConfig(epochs=15, batch_size=256, lr=2e-3, optimizer="adam", weight_decay=5e-4,
                                      desc="seed CIFAR model", **_CIFAR)),
        "resnet9": Run("resnet9", "resnet9", "cifar10",
                       TrainConfig(epochs=24, batch_size=512, lr=0.4, optimizer="sgd", weight_decay=5e-4,
                                   label_smoothing=0.2, warmup=0.2, desc="ResNet9", **_CIFAR),
                       model_kwargs={"width": 64}, target_acc=0.94, target_s=60.0),
    },
    "quick": {
        "lenet5": Run("lenet5", "lenet5", "mnist", TrainConfig(epochs=3, batch_size=64, lr=3e-3, optimizer="adam",
                                                               weight_decay=5e-4, desc="LeNet-5 (quick)", **_MNIST)),
        "seed_cifar": Run("seed_cifar", "seed_cifar", "cifar10",
                          TrainConfig(epochs=2, batch_size=64, lr=2e-3, optimizer="adam", weight_decay=5e-4,
                                      desc="seed CIFAR model (quick)", **_CIFAR), train_size=2000, test_size=500),
        "resnet9": Run("resnet9", "resnet9", "cifar10",
                       TrainConfig(epochs=2, batch_size=64, lr=0.05, optimizer="sgd", weight_decay=5e-4,
                                   label_smoothing=0.1, desc="ResNet9 (quick)", **_CIFAR),
                       model_kwargs={"width": 8}, train_size=2000, test_size=500),
    },
}


def load_data(run: Run) -> tuple[Dataset, Dataset]:
    """(train, test) for a run, cut to its sizes; each Dataset's ``source`` says what was loaded."""
    if run.dataset == "mnist":
        train_set, test_set = load_mnist("train"), load_mnist("test")
    elif run.dataset == "cifar10":
        train_set = load_cifar10("train", standin_size=run.train_size)
        test_set = load_cifar10("test", standin_size=run.test_size)
    else:
        raise ValueError(f"dataset must be 'mnist' or 'cifar10', got {run.dataset!r}")
    if run.train_size is not None and len(train_set) > run.train_size:
        train_set = train_set.take(run.train_size)
    if run.test_size is not None and len(test_set) > run.test_size:
        test_set = test_set.take(run.test_size)
    return train_set, test_set


def run(spec: Run, device: str | torch.device | None = None, checkpoint_dir: str | os.PathLike | None = None,
        data: tuple[Dataset, Dataset] | None = None) -> dict[str, Any]:
    """Train one run; save a checkpoint, reload it into a fresh model and re-evaluate it.

    Returns a JSON-ready record: name, architecture, parameters, data sources, device, wall time,
    images/s, test accuracy (after training and after reloading), history, targets; and, under
    the key "model" (not JSON), the trained model, and under "result" the TrainResult."""
    train_set, test_set = data if data is not None else load_data(spec)
    torch.manual_seed(spec.config.seed)
    model = build(spec.architecture, **spec.model_kwargs)
    result: TrainResult = train(model, train_set.images, train_set.labels, test_set.images, test_set.labels,
                                spec.config, device)
    record: dict[str, Any] = {
        "name": spec.name, "architecture": spec.architecture, "model_kwargs": spec.model_kwargs,
        "parameters": count_parameters(model), "train_source": train_set.source, "test_source": test_set.source,
        "train_images": len(train_set), "test_images": len(test_set), "device": result.device,
        "world_size": result.world_size, "wall_s": result.wall_s, "images_per_s": result.images_per_s,
        "test_acc": result.test_acc, "history": result.history, "config": result.config,
        "target_acc": spec.target_acc, "target_s": spec.target_s,
    }
    if checkpoint_dir is not None and int(os.environ.get("RANK", "0")) == 0:
        path = save_checkpoint(Path(checkpoint_dir) / f"{spec.name}.pt", model, spec.architecture, spec.model_kwargs,
                               extra={"test_acc": result.test_acc, "device": result.device})
        ckpt = load_checkpoint(path, expected=spec.architecture)
        dev = select_device(device)
        ckpt.model.to(dev).to(memory_format=torch.channels_last)
        x_tr, _ = to_device(train_set.images, train_set.labels, dev)
        scale = x_tr.float() / 255
        mean, std = scale.mean(dim=(0, 2, 3)), scale.std(dim=(0, 2, 3)).clamp_min(1e-3)
        x, y = to_device(test_set.images, test_set.labels, dev)
        record["checkpoint"] = str(path)
        record["reloaded_test_acc"] = evaluate(ckpt.model, x, y, mean, std, spec.config, dev)
    record["model"], record["result"] = model, result
    return record


def environment() -> dict[str, Any]:
    """Device, date and versions for a results file."""
    cuda = torch.cuda.is_available()
    return {
        "device": torch.cuda.get_device_name(0) if cuda else platform.processor() or platform.machine(),
        "device_type": "cuda" if cuda else "cpu",
        "gpus": torch.cuda.device_count() if cuda else 0,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
        "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version() if cuda else None,
    }


REQUIRED = ("device", "device_type", "date", "torch", "runs")


def load_gpu_results(path: str | os.PathLike = RESULTS) -> dict[str, Any] | None:
    """The GPU results file, or None if there is none. A file that was not measured on a GPU, or that
    lacks device, date or versions, is refused (ValueError): the book never shows such figures."""
    path = Path(path)
    if not path.is_file():
        return None
    results = json.loads(path.read_text())
    missing = [k for k in REQUIRED if k not in results]
    if missing:
        raise ValueError(f"path: {path} lacks {missing}; regenerate it with `make gpu-results` on a GPU")
    if results["device_type"] != "cuda":
        raise ValueError(f"path: {path} was measured on {results['device_type']!r}, not on a GPU")
    return results


def gpu_figure(results: dict[str, Any] | None, name: str, key: str, fmt: str = "{}") -> str:
    """One figure of run ``name`` from the GPU results, formatted, or "not measured"."""
    if results is None or name not in results.get("runs", {}) or results["runs"][name].get(key) is None:
        return NOT_MEASURED
    return fmt.format(results["runs"][name][key])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlib.final_runs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="run the quick (CPU) configuration; writes no GPU file")
    parser.add_argument("--runs", nargs="*", default=["lenet5", "seed_cifar", "resnet9"])
    parser.add_argument("--compile", action="store_true", help="torch.compile the models (compile time is counted)")
    parser.add_argument("--out", default=str(RESULTS), help="the results file (full configuration on CUDA only)")
    parser.add_argument("--checkpoints", default=str(ROOT / "_build" / "checkpoints"))
    args = parser.parse_args(argv)
    if not args.quick and not torch.cuda.is_available():
        print("No CUDA device here: the full configuration and the GPU results file need a GPU. "
              "Use --quick for the CPU configuration.", file=sys.stderr)
        return 2
    config_name = "quick" if args.quick else "full"
    rank = int(os.environ.get("RANK", "0"))
    out: dict[str, Any] = {**environment(), "configuration": config_name, "compile": args.compile, "runs": {}}
    for name in args.runs:
        spec = RUNS[config_name][name]
        spec = replace(spec, config=replace(spec.config, compile=args.compile))
        record = run(spec, checkpoint_dir=args.checkpoints)
        record.pop("model"), record.pop("result")
        out["runs"][name] = record
        if rank == 0:
            print(f"{name}: test accuracy {record['test_acc']:.4f} (reloaded {record.get('reloaded_test_acc', 0):.4f}), "
                  f"{record['wall_s']:.1f} s, {record['images_per_s']:,.0f} images/s on {record['device']}")
    if rank == 0 and not args.quick:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=1, default=str))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
