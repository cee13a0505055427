"""Data-parallel training: the same `train` call started by torchrun in 2 processes (gloo, CPU).

Checks that each process trained on a distinct shard of every global batch, that the shards make up
the batch that a single process sees, and that the weights after DistributedDataParallel training
equal those of single-process training on the combined batches (DDP averages the gradients of
equal shards, which is the gradient of the mean loss on the combined batch)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

from cnnlib.data import load_mnist
from cnnlib.models import build
from cnnlib.torch_train import TrainConfig, train

N = 64
CONFIG = dict(epochs=2, batch_size=32, lr=0.1, schedule="constant", weight_decay=5e-4, channels_last=False,
              record_indices=True, progress=False)
WORKER = f"""
import os, sys, torch
torch.set_num_threads(1)
from cnnlib.data import load_mnist
from cnnlib.models import build
from cnnlib.torch_train import TrainConfig, train
d = load_mnist("train")
torch.manual_seed(0)
model = build("lenet5")
result = train(model, d.images[:{N}], d.labels[:{N}], config=TrainConfig(**{CONFIG!r}), device="cpu")
torch.save({{"state": model.state_dict(), "indices": result.indices, "world": result.world_size,
            "loss": result.history["loss"]}}, os.path.join(sys.argv[1], f"rank{{os.environ['RANK']}}.pt"))
"""


def test_two_gloo_processes_equal_single_process_training(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CNNLIB_PROGRESS": "off"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(script), str(tmp_path)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert [r["world"] for r in ranks] == [2, 2]

    d = load_mnist("train")
    torch.manual_seed(0)
    single = build("lenet5")
    one = train(single, d.images[:N], d.labels[:N], config=TrainConfig(**CONFIG), device="cpu")
    assert one.world_size == 1 and len(one.indices) == 4

    for step, combined in enumerate(one.indices):
        a, b = ranks[0]["indices"][step], ranks[1]["indices"][step]
        assert len(a) == len(b) == 16 and not set(a) & set(b), f"step {step}: shards overlap"
        assert sorted(a + b) == sorted(combined), f"step {step}: the shards are not the combined batch"
    for name, want in single.state_dict().items():
        for r in range(2):
            torch.testing.assert_close(ranks[r]["state"][name], want, rtol=1e-5, atol=1e-6, msg=f"rank {r}: {name}")
    # the loss reported (all-reduced over both processes) is the single process's loss
    torch.testing.assert_close(torch.tensor(ranks[0]["loss"]), torch.tensor(one.history["loss"]), rtol=1e-5, atol=1e-6)
