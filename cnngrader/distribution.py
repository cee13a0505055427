"""The student distribution: everything students need, no answer in it.

    dist/student/
        README.md            how to set up, work and submit
        requirements.txt     what students install (no grading tools)
        binder/, LICENSE     Binder's environment (CPU torch) and the licence (cnngrader.binder)
        exercises/<a>/       the released assignments, each with its stubbed cnnlib/
        cnnlib/              a stubbed package for running the book's chapters with your own code
        book/*.ipynb         the book's chapters as notebooks, without outputs

It can be published as a repository of its own; the book's launch buttons point there.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import jupytext

from . import binder
from .stubs import ROOT, write_student_package

STUDENT_PACKAGES = ("numpy", "matplotlib", "torch", "scikit-image", "jupyterlab", "notebook", "ipywidgets",
                    "tqdm", "jupytext", "ipykernel", "scipy", "myst-nb")  # the chapters import scipy and myst_nb

README = """\
# CNN course: student workspace

This folder is what you need to work through the course's exercises: the assignments, the
chapters of the book as notebooks, and a `requirements.txt`. It contains no solutions.

## Set up (once)

    python3.11 -m venv .venv
    . .venv/bin/activate            # Windows: .venv\\Scripts\\activate
    pip install -r requirements.txt

## Work on an assignment

    python -m cnnlib.workspace          # JupyterLab here: your cnnlib importable, autoreload on

(or `jupyter lab exercises/01_convolution/01_convolution.ipynb`). To see which of your functions
pass their visible checks, assignment by assignment: `python -m cnnlib.progress_report`.

Each assignment folder holds a notebook and a package `cnnlib/`. You write the functions in
`cnnlib/*.py` (the notebook says which); the notebook's graded cells check them against PyTorch
and tell you which output is wrong and the likely cause. Later assignments build on earlier
ones: `python carry_forward.py 07_optimizers` copies your finished modules from the earlier
assignments into `exercises/07_optimizers/cnnlib/` (your code, never the course's; `--dry-run`
shows what it would do). `python carry_forward.py .` does the same for `cnnlib/` here.

Assignments: {assignments}.

## Read and run the chapters

`book/*.ipynb` are the chapters of the book. They call `cnnlib`, so run them with your own
package: copy your finished files into `cnnlib/` at the top of this folder, then

    jupyter lab book/

## Submit

Submit the whole assignment folder (the notebook and `cnnlib/`) as your instructor asks, for
example as one zip file named `<your-id>_<assignment>.zip`. Do not rename the notebook and do not
edit or delete its graded cells.
"""


def _student_requirements() -> str:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if m:
            pins[m.group(1).lower()] = line.strip()
    missing = [p for p in STUDENT_PACKAGES if p not in pins]
    if missing:
        raise SystemExit(f"requirements.txt pins none of {missing}; the student requirements need them")
    return "\n".join(pins[p] for p in STUDENT_PACKAGES) + "\n"


def build(dest: Path) -> Path:
    """Write the student distribution to ``dest`` (replacing it); return ``dest``."""
    exercises = ROOT / "exercises"
    if not any(exercises.glob("*/*.ipynb")):
        raise SystemExit("exercises/ is empty: run `python -m cnngrader release` first")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    names = sorted(p.name for p in exercises.iterdir() if p.is_dir())
    (dest / "README.md").write_text(README.format(assignments=", ".join(f"`{n}`" for n in names)))
    (dest / "requirements.txt").write_text(_student_requirements())
    binder.write(dest, _student_requirements())
    shutil.copytree(exercises, dest / "exercises", ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    write_student_package(dest / "cnnlib")
    shutil.copy2(Path(__file__).with_name("carry_forward.py"), dest / "carry_forward.py")  # student-side command
    (dest / "book").mkdir()
    for chapter in sorted((ROOT / "book").glob("*.md")):
        nb = jupytext.read(chapter)
        if nb.metadata.get("kernelspec"):  # a MyST notebook, not a plain page
            jupytext.write(nb, dest / "book" / f"{chapter.stem}.ipynb")
    for chapter in sorted((ROOT / "book").glob("*.ipynb")):
        shutil.copy2(chapter, dest / "book" / chapter.name)
    binder.add_colab_setup(dest / "book", _student_requirements())
    return dest
