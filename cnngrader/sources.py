"""Write the nbgrader sources (solutions/<assignment>/) from the assignment table.

Each source folder holds the notebook (instructions, visible checks, hidden tests) and the
*stubbed* package ``cnnlib/`` that nbgrader copies verbatim into the release. The reference
package stays at the repository's top level and never enters solutions/ or exercises/.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from .assignments import ASSIGNMENTS, Assignment, Task
from .stubs import write_student_package

SETUP = """\
%load_ext autoreload
%autoreload 2
import numpy as np
from cnnlib import {functions}
from cnnlib.checks import check, SEED_IMAGE, SEED_KERNEL"""

HOW_TO = """\
**How this assignment works.** Your code goes in the package `cnnlib/` next to this notebook
(open the `.py` files in JupyterLab's editor). This notebook reloads your package every time
you run a cell (`%autoreload 2`), so edit, save, and run the test cell again.

Each graded cell runs *visible checks*: your function against PyTorch on fixed inputs. A
failing check says which output is wrong, what was expected, and the likely cause. When your
instructor grades the assignment, *hidden tests* run the same kind of comparison on fresh
random inputs. The grader runs them itself, outside this notebook, in a sandbox that imports
your `cnnlib/` and NumPy only (no PyTorch or SciPy in graded code); only they decide the points,
so printed output, warnings or progress bars in your code cost nothing. Passing the visible
checks is a strong sign, not a guarantee.

Do not edit or delete the graded cells. Submit the whole folder: this notebook and `cnnlib/`."""

HIDDEN = """\
### BEGIN HIDDEN TESTS
# cnngrader-judge: {check}
# Autograding: the grader runs this judge itself, outside the student's kernel, on a snapshot of
# the student's cnnlib/ (cnngrader.autograding); the lines below only run it by hand.
import subprocess as _sp, sys as _sys
_r = _sp.run([_sys.executable, "-I", "-m", "cnngrader.judge", "{check}"],
             capture_output=True, text=True, timeout=240)
print(_r.stdout.strip() or _r.stderr.strip()[-3000:])
assert _r.returncode == 0, "hidden tests for {function} failed: see the report above"
### END HIDDEN TESTS"""


def _meta(grade_id: str, *, grade: bool = False, locked: bool = False, points: int = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": False, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _test_source(task: Task) -> str:
    visible = (f"# Visible checks for {task.function} ({task.points} points).\n"
               f'check("{task.check}", {task.function})\n')
    return visible + HIDDEN.format(check=task.check, function=task.function)


def build_notebook(a: Assignment) -> nbformat.NotebookNode:
    """The instructor's source notebook for assignment ``a``."""
    functions = ", ".join(sorted({t.function for t in a.tasks}))
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    cells = [
        nbformat.v4.new_markdown_cell(
            f"# Assignment {a.name}: {a.title}\n\n*{a.chapter}. {a.points} points.*\n\n{a.intro}\n\n{HOW_TO}",
            metadata=_meta("intro", locked=True)),
        nbformat.v4.new_code_cell(SETUP.format(functions=functions), metadata=_meta("setup", locked=True)),
    ]
    for i, task in enumerate(a.tasks, 1):
        cells += [
            nbformat.v4.new_markdown_cell(
                f"## {i}. `{task.function}` ({task.points} points), in `{task.module}`\n\n{task.text}",
                metadata=_meta(f"task_{task.check}", locked=True)),
            nbformat.v4.new_code_cell(
                f"# Scratch space: try {task.function} here (not graded).\n",
                metadata={}),
            nbformat.v4.new_code_cell(
                _test_source(task), metadata=_meta(f"test_{task.check}", grade=True, locked=True, points=task.points)),
        ]
    for k, cell in enumerate(cells):
        cell.id = f"{a.name.replace('_', '-')}-{k:02d}"  # stable ids keep generated files stable
    nb.cells = cells
    return nb


def write_sources(course: Path, names: list[str] | None = None) -> list[Path]:
    """(Re)write solutions/<a>/ in the course folder for the named assignments (default: all)."""
    written = []
    for name in names or list(ASSIGNMENTS):
        a = ASSIGNMENTS[name]
        folder = course / "solutions" / name
        package = folder / "cnnlib"
        if package.exists():
            for old in package.glob("*.py"):
                old.unlink()
        written += write_student_package(package)
        path = folder / f"{name}.ipynb"
        if hasattr(a, "weights_file"):  # graded on trained weights (cnngrader.training_notebook)
            from .training_notebook import build_training_notebook
            nbformat.write(build_training_notebook(a), path)
        else:
            nbformat.write(build_notebook(a), path)
        written.append(path)
    return written
