"""Checkpoints that know what they hold: architecture name, its configuration, versions, weights.

``save_checkpoint(path, model, name, config)`` writes the model's weights with the name under which
``cnnlib.models.build`` makes it and the keyword arguments it was built with, plus the versions of
Python, PyTorch and NumPy and any extra metadata (epoch, accuracy...). ``load_checkpoint(path)``
rebuilds the model from that record; with ``expected=...`` or ``into=model`` it refuses a checkpoint
of another architecture, and it refuses a truncated or foreign file, with a ValueError that says
which and why. Files are read with ``torch.load(weights_only=True)``: no code is unpickled.
"""
from __future__ import annotations

import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .models import build

FORMAT = "cnnlib-checkpoint"
FORMAT_VERSION = 1

__all__ = ["save_checkpoint", "load_checkpoint", "Checkpoint", "unwrap", "FORMAT", "FORMAT_VERSION"]


@dataclass
class Checkpoint:
    """What a checkpoint holds. model: rebuilt and loaded (eval mode); architecture: its MODELS name;
    config: build() keyword arguments; versions: of the saving run; extra: free metadata."""

    model: nn.Module
    architecture: str
    config: dict[str, Any]
    versions: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside torch.compile's and DistributedDataParallel's wrappers."""
    while True:
        if hasattr(model, "_orig_mod"):
            model = model._orig_mod
        elif isinstance(model, nn.parallel.DistributedDataParallel):
            model = model.module
        else:
            return model


def versions() -> dict[str, str]:
    return {"python": platform.python_version(), "torch": str(torch.__version__), "numpy": str(np.__version__)}


def save_checkpoint(path: str | os.PathLike, model: nn.Module, architecture: str,
                    config: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Write ``model``'s weights (moved to the CPU) with its architecture name and build config.

    path: file to write (atomically: a partial file never replaces a good one).
    architecture: the model's name in cnnlib.models.MODELS; config: the kwargs it was built with.
    extra: small metadata (numbers, strings, lists, dicts). Returns the path written.
    """
    model = unwrap(model)
    config = dict(config or {})
    probe = build(architecture, **config)  # raises ValueError for an unknown name
    if type(probe) is not type(model):
        raise ValueError(f"architecture: {architecture!r} builds a {type(probe).__name__}, but model is a "
                         f"{type(model).__name__}")
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "architecture": architecture,
               "config": config, "versions": versions(), "extra": dict(extra or {}),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ValueError(f"path: no checkpoint file at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated zip, a random file, a pickle with code in it
        raise ValueError(f"path: {path} ({path.stat().st_size:,} bytes) is not a readable checkpoint: it is "
                         f"truncated or not a file written by save_checkpoint ({type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''})") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"path: {path} is a PyTorch file but not a cnnlib checkpoint (no format {FORMAT!r}); "
                         "write checkpoints with cnnlib.checkpoint.save_checkpoint")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"path: checkpoint format version {payload.get('format_version')!r} is not supported "
                         f"(expected {FORMAT_VERSION})")
    return payload


def load_checkpoint(path: str | os.PathLike, expected: str | None = None,
                    into: nn.Module | None = None) -> Checkpoint:
    """Read a checkpoint and rebuild its model (on the CPU, in eval mode).

    expected: refuse (ValueError) a checkpoint whose architecture is not this MODELS name.
    into: load the weights into this existing model instead of building one; refused when the
    checkpoint's architecture or any tensor shape does not match it.
    """
    path = Path(path)
    payload = _read(path)
    arch, config = payload["architecture"], dict(payload["config"])
    if expected is not None and arch != expected:
        raise ValueError(f"expected: the checkpoint {path.name} holds architecture {arch!r} {config}, "
                         f"not {expected!r}")
    model = build(arch, **config) if into is None else unwrap(into)
    if into is not None and type(model) is not type(build(arch, **config)):
        raise ValueError(f"into: the checkpoint {path.name} holds architecture {arch!r} "
                         f"({type(build(arch, **config)).__name__}), but the model given is a {type(model).__name__}")
    state = payload["state_dict"]
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [f"{k}: checkpoint {tuple(state[k].shape)}, model {tuple(own[k].shape)}"
             for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        raise ValueError(f"path: the weights in {path.name} ({arch!r} {config}) do not fit this model: "
                         f"missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shapes {wrong[:3]}")
    model.load_state_dict(state)
    model.eval()
    return Checkpoint(model, arch, config, dict(payload["versions"]), dict(payload["extra"]))
