"""Grade a submitted LeNet-5 by its weights: accuracy on held-out digits, points by thresholds.

    python -I -m cnngrader.weights [--submission DIR] [--file lenet5_weights.npz]

Assignment 08's graded cell runs this in a fresh, isolated interpreter in the submission folder.
The weights file is read without unpickling (``cnnlib.lenet.read_weights``: names, shapes,
dtypes and finiteness checked), loaded into the reference ``cnnlib.models.LeNet5`` (PyTorch), and
evaluated on the MNIST TEST split, which the assignment's training data (the train split) does not
contain. The student's own code never runs here, so it cannot misreport its accuracy; nothing is
trained. The input contract: pixels scaled to [0, 1] (``cnnlib.transforms.to_float``), no other
normalization.

Points (of ``POINTS``): the full MNIST test set (10,000 digits) when MNIST could be downloaded;
offline, the 1,000 held-out digits of cnnlib.data's fallback, from a 4,000-digit training set,
where the thresholds are lower. The last line printed is the number of points; exit status 0 when
some points were earned, 1 otherwise (the reason is printed).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

POINTS = 10
# (accuracy at least, fraction of the points), best first
THRESHOLDS = {"mnist": ((0.98, 1.0), (0.95, 0.5)), "offline": ((0.95, 1.0), (0.90, 0.5))}
WEIGHTS_FILE = "lenet5_weights.npz"


def points_for(accuracy: float, kind: str) -> float:
    """Points earned by ``accuracy`` on the held-out set of ``kind`` ("mnist" or "offline")."""
    for at_least, fraction in THRESHOLDS[kind]:
        if accuracy >= at_least:
            return POINTS * fraction
    return 0.0


def rule(kind: str) -> str:
    return ", ".join(f">= {a:.0%}: {f * POINTS:g} points" for a, f in THRESHOLDS[kind])


def held_out() -> tuple[np.ndarray, np.ndarray, str, str]:
    """(images (N, 1, 28, 28) float32 in [0, 1], labels (N,), kind, description) of the test split."""
    from cnnlib.data import load_mnist

    test = load_mnist("test")
    kind = "offline" if test.source.startswith("offline") else "mnist"
    return test.images.astype(np.float32) / np.float32(255), test.labels, kind, test.source


def accuracy(weights: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the reference PyTorch LeNet-5 holding ``weights`` (cnnlib.lenet names) on x, y."""
    import torch

    from cnnlib.lenet import torch_names
    from cnnlib.models import LeNet5

    model = LeNet5().eval()
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v, np.float32))
                           for k, v in torch_names(weights).items()})
    with torch.no_grad():
        predicted = torch.cat([model(torch.from_numpy(x[i:i + 1000])).argmax(1) for i in range(0, len(x), 1000)])
    return float((predicted.numpy() == y).mean())


def grade(submission: Path, filename: str = WEIGHTS_FILE) -> tuple[float, str]:
    """(points, report) for the weights file in ``submission``."""
    from cnnlib.lenet import read_weights

    path = submission / filename
    if not path.exists():
        return 0.0, (f"Weights: no {filename} next to the notebook. Run the training cell (it saves the file) "
                     f"and submit the file with the notebook. 0 of {POINTS} points.")
    try:
        weights = read_weights(path)
    except ValueError as err:
        return 0.0, f"Weights: {err}. Save them with cnnlib.lenet.save_weights(net, '{filename}'). 0 of {POINTS} points."
    x, y, kind, source = held_out()
    acc = accuracy(weights, x, y)
    points = points_for(acc, kind)
    return points, (f"Weights: {filename} classifies {acc:.2%} of {len(y):,} held-out test digits correctly "
                    f"(evaluated by the reference LeNet-5, not by your code; {source}).\n"
                    f"Thresholds: {rule(kind)}. Earned: {points:g} of {POINTS} points.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submission", type=Path, default=Path.cwd())
    parser.add_argument("--file", default=WEIGHTS_FILE)
    args = parser.parse_args(argv)
    points, report = grade(args.submission.resolve(), args.file)
    print(report)
    print(f"{points:g}")
    return 0 if points > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
