"""Files that make the student distribution run on Binder (and carry the licence).

Binder installs ``binder/requirements.txt`` with pip on Linux. PyPI's Linux torch wheel is a CUDA
build of several GB, too large for Binder; PyTorch's CPU wheel index serves the same version as
``torch==<version>+cpu`` at a fraction of the size. ``binder/start`` runs before JupyterLab and
sets up the workspace like ``python -m cnnlib.workspace`` does (cnnlib importable, autoreload).
"""
from __future__ import annotations

import re
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
