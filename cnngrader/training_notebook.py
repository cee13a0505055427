"""The source notebook of a weights-graded assignment (08_training): train, save, get graded on held-out data.

Cells: instructions; imports; the data (the MNIST train split, with a validation split carved out
of it); the training cell (a solution region: the student writes the training, the rest of the
cell loads ``lenet5_weights.npz`` when it exists, so that re-running the notebook, as autograde
does, never trains again); the graded cell, whose hidden part runs ``cnngrader.weights`` in an
isolated process on the test split and turns the accuracy into points.
"""
from __future__ import annotations

import nbformat

from .assignments import WeightsAssignment
from .sources import _meta
from .weights import POINTS, THRESHOLDS, rule

SETUP = """\
%load_ext autoreload
%autoreload 2
from pathlib import Path

import numpy as np

from cnnlib.data import load_mnist
from cnnlib.lenet import lenet5, load_weights, save_weights
from cnnlib.optim import SGD, Adadelta, Adam, RMSProp
from cnnlib.schedules import CosineAnnealingLR, StepLR
from cnnlib.train import evaluate, fit
from cnnlib.transforms import augment, to_float, train_val_split

WEIGHTS = Path("{weights}")"""

DATA = """\
# The training data: MNIST's train split only. 10% of it is set aside for validation.
train = load_mnist("train")
print(train.source)
x, y = to_float(train.images), train.labels  # pixels in [0, 1]: the input the grader uses too
rng = np.random.default_rng(0)
tr, va = train_val_split(len(y), 0.1, rng)
print(f"{{len(tr):,}} images to train on, {{len(va):,}} to validate on")"""

TRAIN = """\
net = lenet5(np.random.default_rng(1))  # LeNet-5 made of YOUR cnnlib layers
if WEIGHTS.exists():
    load_weights(net, WEIGHTS)
    print(f"loaded {{WEIGHTS}}: not training again (delete the file to retrain)")
else:
    ### BEGIN SOLUTION
    opt = Adam(net, lr=2e-3)
    history = fit(net, opt, x[tr], y[tr], epochs={epochs}, batch_size=64, validation=(x[va], y[va]),
                  schedule=StepLR(opt, step_size=3, gamma=0.5), rng=rng)
    print("validation accuracy per epoch:", [round(a, 4) for a in history.val_acc])
    ### END SOLUTION
    save_weights(net, WEIGHTS)
    print(f"saved {{WEIGHTS}}")"""

GRADED = """\
# Graded: your saved weights on held-out test digits ({points} points).
assert WEIGHTS.exists(), f"no {{WEIGHTS}} yet: run the training cell above"
val_loss, val_acc = evaluate(net, x[va], y[va])
print(f"validation accuracy (your own cnnlib): {{val_acc:.2%}}")
### BEGIN HIDDEN TESTS
# cnngrader-weights: {weights}
# Autograding: the grader evaluates the submitted file itself, outside the student's kernel, on a
# copy taken before the notebook runs (cnngrader.autograding); the lines below only run it by hand.
import subprocess as _sp, sys as _sys
_r = _sp.run([_sys.executable, "-I", "-m", "cnngrader.weights"], capture_output=True, text=True, timeout=50)
print(_r.stdout.strip() or _r.stderr.strip()[-3000:])
assert _r.returncode == 0, "the saved weights earned no points: see the report above"
float(_r.stdout.split()[-1])
### END HIDDEN TESTS"""


def task_text(a: WeightsAssignment) -> str:
    return f"""## Train, save, hand in ({a.weights_points} points)

1. **Bring your library.** This assignment runs on the `cnnlib/` next to this notebook, which
   holds stubs until you bring your own code: in your workspace (the folder with `exercises/`),
   run `python carry_forward.py {a.name}`. It copies your finished modules from assignments 01-07
   (conv, pool, activations, linear, losses, optim, dropout) into `{a.name}/cnnlib/`. Training
   needs every forward and backward pass and the optimizer you choose.
2. **Train** in the cell below (replace `raise NotImplementedError()`): choose an optimizer from
   `cnnlib.optim`, a learning rate, a schedule if you like, a batch size and a number of epochs,
   and call `fit(net, optimizer, x[tr], y[tr], epochs=..., validation=(x[va], y[va]), ...)`.
   Watch the validation accuracy, never the test set. Augmentation (`augment`) is allowed.
   Keep the input as it is (pixels in [0, 1], no extra normalization): the grader feeds the
   test digits to your weights that way. A few epochs take a few minutes with a fast library.
3. **Save.** The cell saves `{a.weights_file}` next to this notebook. Once the file exists the cell
   only loads it, so running the whole notebook again (as the grader does) does not retrain:
   delete the file to train again. Submit the file with the notebook.

**Grading.** The graded cell loads your weights into a reference LeNet-5 (PyTorch, in a separate
process: your code does not run there, nothing is retrained) and measures its accuracy on the
MNIST *test* digits, which the training data does not contain.
On the full MNIST test set (10,000 digits): {rule("mnist")}.
Offline, where MNIST cannot be downloaded and cnnlib falls back to 5,000 real digits (4,000 to train,
1,000 held out): {rule("offline")}. Fewer: 0 points."""


def build_training_notebook(a: WeightsAssignment) -> nbformat.NotebookNode:
    """The instructor's source notebook for a weights-graded assignment."""
    assert set(THRESHOLDS) == {"mnist", "offline"} and a.weights_points == POINTS
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    train_meta = {"nbgrader": {"grade": False, "grade_id": "train", "locked": False, "schema_version": 3,
                               "solution": True, "task": False}}
    cells = [
        nbformat.v4.new_markdown_cell(f"# Assignment {a.name}: {a.title}\n\n*{a.chapter}. {a.points} points.*\n\n"
                                      f"{a.intro}", metadata=_meta("intro", locked=True)),
        nbformat.v4.new_code_cell(SETUP.format(weights=a.weights_file), metadata=_meta("setup", locked=True)),
        nbformat.v4.new_code_cell(DATA.format(), metadata=_meta("data", locked=True)),
        nbformat.v4.new_markdown_cell(task_text(a), metadata=_meta("task_train", locked=True)),
        nbformat.v4.new_code_cell(TRAIN.format(epochs=8), metadata=train_meta),
        nbformat.v4.new_code_cell(GRADED.format(points=a.weights_points, weights=a.weights_file),
                                  metadata=_meta("test_weights", grade=True, locked=True, points=a.weights_points)),
    ]
    for k, cell in enumerate(cells):
        cell.id = f"{a.name.replace('_', '-')}-{k:02d}"
    nb.cells = cells
    return nb
