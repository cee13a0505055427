"""LeNet-5 in NumPy, built from cnnlib layers, with weights saved to and loaded from .npz files.

The architecture of ``cnnlib.models.LeNet5`` (PyTorch) and of LeCun et al. (1998) read the
modern way (ReLU, max pooling), for 28x28 digits:

    (N, 1, 28, 28) -conv 5x5 pad 2-> 6x28x28 -relu, max 2-> 6x14x14 -conv 5x5-> 16x10x10
    -relu, max 2-> 16x5x5 -flatten-> 400 -> 120 -> 84 -> 10 logits          61,706 parameters

Weights files hold one array per parameter under the Sequential's names ("0.weight", "0.bias",
"3.weight", ...), are written with ``np.savez`` and read with ``allow_pickle=False``; loading
checks every name, shape and dtype kind, and refuses non-finite values.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential

__all__ = ["lenet5", "SHAPES", "N_PARAMETERS", "save_weights", "load_weights", "read_weights", "torch_names"]

SHAPES: dict[str, tuple[int, ...]] = {
    "0.weight": (6, 1, 5, 5), "0.bias": (6,),
    "3.weight": (16, 6, 5, 5), "3.bias": (16,),
    "7.weight": (120, 400), "7.bias": (120,),
    "9.weight": (84, 120), "9.bias": (84,),
    "11.weight": (10, 84), "11.bias": (10,),
}
N_PARAMETERS = sum(int(np.prod(s)) for s in SHAPES.values())  # 61,706
# the same parameters in cnnlib.models.LeNet5 (PyTorch)
TORCH_NAMES = {"0": "features.0", "3": "features.3", "7": "classifier.1", "9": "classifier.3", "11": "classifier.5"}


def lenet5(rng: np.random.Generator | None = None, dtype: type = np.float32) -> Sequential:
    """A freshly initialized NumPy LeNet-5 (PyTorch's default initialization): (N, 1, 28, 28) -> (N, 10).

    Its first convolution skips the images' gradient (input_grad=False): ``backward`` returns None.
    """
    rng = rng or np.random.default_rng()
    return Sequential(
        Conv2d(1, 6, 5, padding=2, rng=rng, dtype=dtype, input_grad=False), ReLU(), MaxPool2d(2),
        Conv2d(6, 16, 5, rng=rng, dtype=dtype), ReLU(), MaxPool2d(2),
        Flatten(),
        Linear(400, 120, rng=rng, dtype=dtype), ReLU(),
        Linear(120, 84, rng=rng, dtype=dtype), ReLU(),
        Linear(84, 10, rng=rng, dtype=dtype),
    )


def torch_names(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same arrays under the state_dict names of cnnlib.models.LeNet5 ("features.0.weight", ...)."""
    out = {}
    for name, value in weights.items():
        index, _, kind = name.partition(".")
        out[f"{TORCH_NAMES[index]}.{kind}"] = value
    return out


def save_weights(model: Sequential, path: str | Path) -> Path:
    """Write the model's parameters to ``path`` (.npz); return the path."""
    arrays = {name: np.asarray(value) for name, value, _ in model.parameters()}
    if set(arrays) != set(SHAPES):
        raise ValueError(f"model is not a LeNet-5 of cnnlib.lenet: parameters {sorted(arrays)}")
    path = Path(path)
    with open(path, "wb") as f:  # np.savez on a file object keeps the name exactly
        np.savez(f, **arrays)
    return path


def read_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Read and check a LeNet-5 weights file: {name: float array of SHAPES[name]}.

    Raises ValueError naming the file and the problem: not a .npz archive, a missing or extra
    array, a wrong shape, a non-float dtype, a non-finite value. Never unpickles anything.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no weights file at {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as err:  # a zip that is not .npz, a truncated file, a pickled object array
        raise ValueError(f"{path.name} is not a readable .npz weights file ({type(err).__name__}: {err})") from err
    missing, extra = sorted(set(SHAPES) - set(arrays)), sorted(set(arrays) - set(SHAPES))
    if missing or extra:
        raise ValueError(f"{path.name}: missing arrays {missing}, unexpected arrays {extra}; expected the "
                         f"LeNet-5 names {sorted(SHAPES)}")
    for name, shape in SHAPES.items():
        a = arrays[name]
        if a.shape != shape:
            raise ValueError(f"{path.name}: {name} has shape {a.shape}, expected {shape}")
        if not np.issubdtype(a.dtype, np.floating):
            raise ValueError(f"{path.name}: {name} has dtype {a.dtype}, expected float32 or float64")
        if not np.isfinite(a).all():
            raise ValueError(f"{path.name}: {name} holds NaN or infinite values")
    return arrays


def load_weights(model: Sequential, path: str | Path) -> Sequential:
    """Copy the weights in ``path`` into ``model`` (a cnnlib LeNet-5), in place; return the model."""
    arrays = read_weights(path)
    for name, value, _ in model.parameters():
        value[...] = arrays[name]
    return model
