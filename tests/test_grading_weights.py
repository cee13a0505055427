"""Round trip through nbgrader for 08_training, graded on trained weights (cnngrader.weights).

Proves: the release holds no trained weights and no training recipe; LMS zips with a weights
file are collected (the .npz too); autograde evaluates the SUBMITTED weights with the reference
forward pass and does not retrain (the training cell only loads an existing file); good weights
score full marks; no file, a file of the wrong shape and untrained weights score 0, each with a
message that says why. Offline (CNNLIB_OFFLINE=1, so the thresholds are the offline ones).
"""
from __future__ import annotations

import csv
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnngrader.assignments import ASSIGNMENTS
from cnngrader.stubs import ROOT, solution_functions, write_student_package
from cnngrader.weights import POINTS
from cnnlib.lenet import lenet5, save_weights, torch_names
from test_grading import cli

pytestmark = pytest.mark.slow
A = "08_training"
WEIGHTS = "lenet5_weights.npz"


def trained_weights(path: Path) -> Path:
    """LeNet-5 trained for 4 epochs on the (offline) train split, in PyTorch for speed, saved in cnnlib's format."""
    import torch

    from cnnlib.data import load_mnist
    from cnnlib.models import LeNet5

    torch.manual_seed(0)
    train = load_mnist("train")
    x = torch.from_numpy(train.images.astype(np.float32) / 255)
    y = torch.from_numpy(train.labels)
    model = LeNet5()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(6):
        for idx in torch.randperm(len(y)).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    state = model.state_dict()
    net = lenet5(np.random.default_rng(0))
    names = torch_names(dict.fromkeys(n for n, _, _ in net.parameters()))
    for (name, value, _), tname in zip(net.parameters(), names):
        value[...] = state[tname].numpy()
    return save_weights(net, path)


def wrong_shape(path: Path) -> Path:
    w = {n: v for n, v, _ in lenet5(np.random.default_rng(0)).parameters()}
    w["0.weight"] = np.zeros((6, 1, 3, 3), np.float32)
    with open(path, "wb") as f:
        np.savez(f, **w)
    return path


def faker(path: Path) -> Path:
    """No trained weights, and a kernel that fakes the grader: subprocess.run reports full points."""
    import nbformat

    nb_path = path.parent / f"{A}.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "WEIGHTS.exists()" in c.source
                and not c.metadata.get("nbgrader", {}).get("grade"))
    cell.source = (
        "import subprocess, types\n"
        "subprocess.run = lambda *a, **k: types.SimpleNamespace(returncode=0, stdout='Earned: 10\\n10', stderr='')\n"
        "net = lenet5(np.random.default_rng(1))\n"
        "save_weights(net, WEIGHTS)  # untrained\n")
    nbformat.write(nb, nb_path)
    return path


# student -> (make the weights file or None, expected points, text the feedback must contain)
STUDENTS = {
    "good": (trained_weights, POINTS, f"Earned: {POINTS} of {POINTS} points"),
    "noweights": (None, 0, "no lenet5_weights.npz yet"),
    "wrongshape": (wrong_shape, 0, "0.weight has shape (6, 1, 3, 3), expected (6, 1, 5, 5)"),
    "untrained": (lambda p: save_weights(lenet5(np.random.default_rng(5)), p), 0, f"Earned: 0 of {POINTS} points"),
    # the kernel cannot fake the grade: the grader evaluates the file as submitted (none here)
    "faker": (faker, 0, "no lenet5_weights.npz next to the notebook"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    old = os.environ.get("CNNLIB_OFFLINE")
    os.environ["CNNLIB_OFFLINE"] = "1"
    try:
        course = tmp_path_factory.mktemp("course")
        shutil.copy2(ROOT / "nbgrader_config.py", course)
        cli(course, "release", A)
        release = course / "exercises" / A
        assert not list(release.glob("*.npz")), "the release must not ship trained weights"
        zips, work = tmp_path_factory.mktemp("zips"), tmp_path_factory.mktemp("work")
        for student, (make, _, _) in STUDENTS.items():
            folder = work / student
            shutil.copytree(release, folder, ignore=shutil.ignore_patterns("cnnlib", "__pycache__"))
            write_student_package(folder / "cnnlib", solution_functions())  # a complete library, carried forward
            if make:
                make(folder / WEIGHTS)
            with zipfile.ZipFile(zips / f"{student}_{A}.zip", "w") as z:
                for path in sorted(folder.rglob("*")):
                    if path.is_file() and "__pycache__" not in path.parts:
                        z.write(path, Path(A) / path.relative_to(folder))
        cli(course, "collect", A, str(zips))
        cli(course, "autograde", A, "-j", "2")
        cli(course, "feedback", A)
        cli(course, "export", "grades.csv")
        with open(course / "grades.csv") as f:
            scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == A}
        return course, scores
    finally:
        if old is None:
            os.environ.pop("CNNLIB_OFFLINE", None)
        else:
            os.environ["CNNLIB_OFFLINE"] = old


def test_weights_file_is_collected(graded):
    course, _ = graded
    assert (course / "submitted" / "good" / A / WEIGHTS).is_file()


@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_score_and_feedback(graded, student):
    course, scores = graded
    _, expected, phrase = STUDENTS[student]
    assert scores[student] == expected, f"{student} scored {scores[student]}, expected {expected}"
    feedback = (course / "feedback" / student / A / f"{A}.html").read_text()
    assert phrase in feedback
    if student not in ("noweights", "faker"):
        assert "not training again" in feedback  # autograde loaded the file, it did not retrain


def test_assignment_points():
    assert ASSIGNMENTS[A].points == POINTS
