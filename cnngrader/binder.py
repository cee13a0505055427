"""Files that make the student distribution run on Binder and Colab (and carry the licence).

Binder installs ``binder/requirements.txt`` with pip on Linux. PyPI's Linux torch wheel is a CUDA
build of several GB, too large for Binder; PyTorch's CPU wheel index serves the same version as
``torch==<version>+cpu`` at a fraction of the size. ``binder/start`` runs before JupyterLab and
sets up the workspace like ``python -m cnnlib.workspace`` does (cnnlib importable, autoreload).
Colab opens one notebook from GitHub with none of the repository's files: each chapter notebook
of the distribution starts with a set-up cell that, on Colab only, clones the distribution's
repository (``repository.url`` in _config.yml) and installs what Colab lacks.
"""
from __future__ import annotations

import re

import nbformat
import yaml
from pathlib import Path

from .stubs import ROOT

CPU_INDEX = "https://download.pytorch.org/whl/cpu"

START = """\
#!/bin/bash
# Binder runs this before JupyterLab: the workspace's cnnlib is importable from every notebook
# and every kernel starts with %autoreload 2 (see cnnlib/workspace.py).
export PYTHONPATH="$HOME${PYTHONPATH:+:$PYTHONPATH}"
export IPYTHONDIR="$HOME/.ipython"
exec "$@"
"""


def binder_requirements(student_requirements: str) -> str:
    """The student requirements with torch taken from PyTorch's CPU wheel index."""
    lines = [f"--extra-index-url {CPU_INDEX}"]
    for line in student_requirements.splitlines():
        m = re.match(r"^torch==([0-9.]+)$", line.strip())
        lines.append(f"torch=={m.group(1)}+cpu" if m else line)
    if not any(l.startswith("torch==") for l in lines):
        raise SystemExit("the student requirements pin no torch version")
    return "\n".join(lines) + "\n"


def write(dest: Path, student_requirements: str) -> None:
    """Write binder/, the workspace's IPython profile and LICENSE into the distribution at ``dest``."""
    from cnnlib.workspace import write_profile

    binder = dest / "binder"
    binder.mkdir(parents=True, exist_ok=True)
    (binder / "requirements.txt").write_text(binder_requirements(student_requirements))
    (binder / "runtime.txt").write_text("python-3.11\n")
    (binder / "start").write_text(START)
    (binder / "start").chmod(0o755)
    write_profile(dest)
    (dest / "LICENSE").write_text(student_licence((ROOT / "LICENSE").read_text()))


def student_licence(text: str) -> str:
    """The course's LICENSE with the code paths of the student distribution (no instructor tools named)."""
    licence, n = re.subn(r"^Code \([^)]*\):", "Code (cnnlib/, and the code cells of book/ and exercises/):", text,
                         flags=re.M)
    if n != 1:
        raise SystemExit("LICENSE: expected one 'Code (...):' line naming the code it covers")
    return licence


COLAB_CELL = """\
# Set-up for Google Colab (does nothing elsewhere): fetch the course's student files, so that
# `import cnnlib` finds the package, and install what Colab lacks.
import os, sys
if "google.colab" in sys.modules and not os.path.isdir("/content/course"):
    !git clone --depth 1 {url} /content/course
    %pip install --quiet {packages}
if "google.colab" in sys.modules:
    sys.path.insert(0, "/content/course")
    %load_ext autoreload
    %autoreload 2"""


def add_colab_setup(book: Path, student_requirements: str) -> None:
    """Put the Colab set-up cell first in every chapter notebook under ``book``."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    pins = {l.split("==")[0]: l for l in student_requirements.splitlines()}
    packages = " ".join(pins[p] for p in ("myst-nb", "scikit-image") if p in pins)
    source = COLAB_CELL.format(url=url, packages=packages)
    for path in sorted(book.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = ["colab-setup"]
        nb.cells.insert(0, cell)
        nbformat.write(nb, path)
