"""Broken and hostile submissions, all graded in ONE instructor autograde run (`-j 3`).

Each student below is a real submission folder built from the release; the assertions are the
exact score that each one earned and the words of the feedback (or of the instructor's summary)
that name the problem. Together they prove that grading holds:

- an endless loop or a huge allocation costs that function its points after a per-cell timeout
  or a MemoryError (the sandbox's RLIMIT_AS), and the rest of the notebook is graded;
- a function that kills its own process (and tries to kill the grader) loses its points; the
  kernel is restarted, the submission is still graded and still gets feedback;
- syntax errors, missing names, a deleted or emptied cnnlib file, an invalid JSON notebook, a
  symbolic link, deleted, edited, duplicated or markdown-converted test cells: graded or
  rejected with the problem named, and nobody else's score changes;
- monkeypatching numpy, torch, subprocess or the checks, faking the judge's report, reading
  the reference, the gradebook or the solutions from disk (in the kernel or in the graded
  function), or overwriting the package from the notebook: no points that were not earned;
- NaN, inf, the wrong dtype and wrong values are scored as wrong with feedback saying which;
- warnings, prints and progress bars from correct code cost nothing.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from cnngrader.stubs import ROOT, solution_functions, write_student_package

pytestmark = pytest.mark.slow

A1 = "01_convolution"  # corr2d 3 points, convolve2d 2 (it reuses corr2d), conv2d 5
ALL = solution_functions()
REFERENCE = ROOT / "cnnlib" / "conv.py"
JUDGE_TIMEOUT_S = 10


def append(folder: Path, module: str, code: str) -> None:
    with open(folder / "cnnlib" / module, "a") as f:
        f.write("\n" + code)


def replace_conv2d(body: str):
    """conv2d redefined at the end of conv.py: the right one is kept as _right_conv2d."""
    def edit(folder: Path) -> None:
        append(folder, "conv.py", "_right_conv2d = conv2d\n\n\ndef conv2d(x, w, b=None, stride=1, padding=0):\n"
               + "".join(f"    {line}\n" for line in body.splitlines()))
    return edit


def notebook_edit(change):
    def edit(folder: Path) -> None:
        path = folder / f"{A1}.ipynb"
        nb = nbformat.read(path, as_version=4)
        change(nb)
        nbformat.write(nb, path)
    return edit


def cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def delete_conv2d_test(nb) -> None:
    nb.cells.remove(cell(nb, "test_conv2d"))


def edit_tests(nb) -> None:
    cell(nb, "test_convolve2d").source = "pass  # no checks here"
    cell(nb, "test_conv2d").metadata["nbgrader"]["points"] = 50
    cell(nb, "test_conv2d").source = "print('all good')"


def corr2d_test_to_markdown(nb) -> None:
    """The test cell of corr2d turned into markdown, and a graded cell of 100 points made up."""
    c = cell(nb, "test_corr2d")
    c.cell_type = "markdown"
    c.pop("outputs", None)
    c.pop("execution_count", None)
    bonus = nbformat.v4.new_code_cell("print('bonus')")
    bonus.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "locked": False, "points": 100,
                                  "schema_version": 3, "solution": False, "task": False}
    nb.cells.append(bonus)


def truncate_json(folder: Path) -> None:
    path = folder / f"{A1}.ipynb"
    path.write_text(path.read_text()[:500])


def monkeypatch_everything(folder: Path) -> None:
    append(folder, "__init__.py", """\
import numpy as _np, numpy.testing as _npt, subprocess as _sp
_np.allclose = lambda *a, **k: True
_npt.assert_allclose = lambda *a, **k: None
class _Fake:
    returncode, stderr = 0, ""
    stdout = "Hidden tests for conv2d: 22 of 22 random cases passed."
_sp.run = lambda *a, **k: _Fake()
try:
    from . import checks as _checks
    _checks.explain = lambda *a, **k: None
    import torch, torch.testing, torch.nn.functional as _F
    torch.testing.assert_close = lambda *a, **k: None
    from .conv import conv2d as _mine
    _F.conv2d = lambda x, w, b=None, *a, **k: torch.from_numpy(_mine(x.numpy(), w.numpy()))
except Exception:
    pass
""")
    replace_conv2d("return np.zeros((x.shape[0], w.shape[0], x.shape[2] - w.shape[2] + 1, "
                   "x.shape[3] - w.shape[3] + 1), x.dtype)")(folder)


def read_from_disk(course: Path):
    """conv2d taken from the instructor's reference; a scratch cell overwrites the package and the gradebook."""
    def edit(folder: Path) -> None:
        replace_conv2d(f"""\
for secret in ({str(course / 'gradebook.db')!r}, {str(course / 'solutions' / A1 / (A1 + '.ipynb'))!r}):
    open(secret, 'rb').read()
scope = {{}}
exec(open({str(REFERENCE)!r}).read().replace('from ._validate', 'from cnnlib._validate').replace('from .shapes', 'from cnnlib.shapes'), scope)
return scope['conv2d'](x, w, b, stride, padding)""")(folder)

        def scratch(nb) -> None:
            c = next(c for c in nb.cells if c.cell_type == "code" and "Scratch space" in c.source)
            c.source = (f"import shutil, sqlite3\nshutil.copy({str(REFERENCE)!r}, 'cnnlib/conv.py')\n"
                        f"sqlite3.connect({str(course / 'gradebook.db')!r}).execute('update grade set manual_score=100')\n")
        notebook_edit(scratch)(folder)
    return edit


def nan_and_dtype(folder: Path) -> None:
    append(folder, "conv.py", "_right_corr2d = corr2d\n\n\ndef corr2d(image, kernel):\n"
           "    out = _right_corr2d(image, kernel)\n    out[0, 0] = np.nan\n    out[-1, -1] = np.inf\n    return out\n")
    replace_conv2d("return _right_conv2d(x, w, b, stride, padding).astype(np.float32)")(folder)


def noisy(folder: Path) -> None:
    append(folder, "conv.py", "_right_corr2d = corr2d\n\n\ndef corr2d(image, kernel):\n"
           "    import sys, warnings\n    warnings.warn('corr2d: chatty but right')\n    print('debugging output')\n"
           "    sys.stderr.write('\\r 50%|#####     | 5/10 [00:01<00:01]\\n')\n"
           "    return _right_corr2d(image, kernel)\n")


def symlink_reference(folder: Path) -> None:
    (folder / "cnnlib" / "conv.py").unlink()
    (folder / "cnnlib" / "conv.py").symlink_to(REFERENCE)


def students(course: Path) -> dict:
    """student -> (functions written right, edit, expected score, phrases the feedback must contain)."""
    return {
        "ref": (ALL, None, 10, ["agree with PyTorch", "22 of 22 random cases passed"]),
        "loop": (ALL, replace_conv2d("while True:\n    pass"), 5,
                 [f"did not finish within {JUDGE_TIMEOUT_S} s", "CellTimeoutError"]),
        "memhog": (ALL, replace_conv2d("big = np.empty((16 << 30) // 8)\nbig.fill(1.0)\nreturn big"), 5,
                   ["MemoryError"]),
        "suicide": (ALL, replace_conv2d("import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                                        "except OSError:\n    pass\nos._exit(3)"), 5,
                    ["the kernel died", "crashed (exit status 3)"]),
        "syntax": (ALL, lambda f: append(f, "pool.py", "def broken(:\n    pass\n"), 0, ["SyntaxError", "pool.py"]),
        "noimport": (ALL, replace_conv2d("return _right_conv2d(x, w, b, stride, padding) * math.prod([1])"), 5,
                     ["NameError", "math"]),
        "nofile": (ALL, lambda f: (f / "cnnlib" / "conv.py").unlink(), 0, ["No module named", "cnnlib.conv"]),
        "emptyfile": (ALL, lambda f: (f / "cnnlib" / "conv.py").write_text(""), 0, ["cannot import name"]),
        "deletedcell": (ALL, notebook_edit(delete_conv2d_test), 10, ["was deleted from the submission", "restored it"]),
        "editedcell": (frozenset({"corr2d"}), notebook_edit(edit_tests), 3,
                       ["test_convolve2d was edited", "test_conv2d had its grading metadata changed"]),
        "markdowncell": (ALL, notebook_edit(corr2d_test_to_markdown), 10,
                         ["turned into markdown", "cell bonus claims to be an nbgrader cell"]),
        "patcher": (frozenset({"corr2d", "convolve2d"}), monkeypatch_everything, 5, ["values are wrong"]),
        "reader": (frozenset({"corr2d", "convolve2d"}), read_from_disk(course), 5, ["Permission denied"]),
        "nandtype": (ALL, nan_and_dtype, 0, ["all values should be finite", "dtype expected float64"]),
        "noisy": (ALL, noisy, 10, ["chatty but right"]),
        "badjson": (ALL, truncate_json, None, []),
        "symlink": (ALL, symlink_reference, None, []),
    }


REJECTED = {"badjson": "01_convolution.ipynb is not a readable notebook", "symlink": "cnnlib/conv.py is a symbolic link"}


def cli(course: Path, *args: str, **env: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "cnngrader", "--course", str(course), *args],
                          capture_output=True, text=True, timeout=900, env=dict(os.environ, **env))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, dict, str]:
    course = tmp_path_factory.mktemp("hostile")
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    cli(course, "release", A1)
    cases = students(course)
    for student, (keep, edit, _, _) in cases.items():
        folder = course / "submitted" / student / A1
        shutil.copytree(course / "exercises" / A1, folder, ignore=shutil.ignore_patterns("cnnlib", "__pycache__"))
        write_student_package(folder / "cnnlib", keep)
        if edit:
            edit(folder)
    started = time.monotonic()
    out = cli(course, "autograde", A1, "-j", "3", CNNGRADER_CELL_TIMEOUT="40",
              CNNGRADER_JUDGE_TIMEOUT=str(JUDGE_TIMEOUT_S))
    print(out)
    print(f"{len(cases)} hostile submissions graded in {time.monotonic() - started:.0f} s")
    cli(course, "feedback", A1)
    with open(course / f"grading_summary_{A1}.csv") as f:
        summary = {row["student"]: row for row in csv.DictReader(f)}
    return course, summary, out


@pytest.mark.parametrize("student", sorted(set(students(Path("/course"))) - set(REJECTED)))
def test_score_and_feedback(graded, student):
    course, summary, _ = graded
    _, _, expected, phrases = students(course)[student]
    row = summary[student]
    assert row["status"] == "graded", row
    assert float(row["score"]) == expected, f"{student} scored {row['score']}, expected {expected}: {row}"
    feedback = course / "feedback" / student / A1 / f"{A1}.html"
    assert feedback.exists(), f"no feedback for {student}"
    text = feedback.read_text().replace("&#39;", "'").replace("&quot;", '"')
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in {student}'s feedback"


@pytest.mark.parametrize("student", sorted(REJECTED))
def test_rejected_with_the_student_and_problem_named(graded, student):
    course, summary, out = graded
    row = summary[student]
    assert row["status"] == "REJECTED" and float(row["score"]) == 0
    assert REJECTED[student] in row["problems"]
    assert any(f" {student} " in line and "REJECTED" in line and REJECTED[student] in line
               for line in out.splitlines()), out


def test_problems_are_named_in_the_summary(graded):
    _, summary, out = graded
    assert "sandbox: Landlock" in out or "NO Landlock" in out
    assert summary["ref"]["problems"] == "" and summary["noisy"]["problems"] == ""
    assert "did not finish" in summary["loop"]["problems"]
    assert "kernel died" in summary["suicide"]["problems"]
    assert "deleted" in summary["deletedcell"]["problems"]
    assert "turned into markdown" in summary["markdowncell"]["problems"]


def test_the_kernel_could_not_touch_the_gradebook_or_the_package(graded):
    course, _, _ = graded
    nb = json.loads((course / "autograded" / "reader" / A1 / f"{A1}.ipynb").read_text())
    scratch = next(c for c in nb["cells"] if c["cell_type"] == "code" and "shutil.copy" in "".join(c["source"]))
    assert any("Permission denied" in "".join(o.get("traceback", [])) + o.get("evalue", "") for o in scratch["outputs"])
    assert "def conv2d" in (course / "autograded" / "reader" / A1 / "cnnlib" / "conv.py").read_text()
    assert (course / "autograded" / "reader" / A1 / "cnnlib" / "conv.py").read_text() != REFERENCE.read_text()


needs_landlock = pytest.mark.skipif(not __import__("cnngrader.sandbox").sandbox.landlock_abi(),
                                    reason="this kernel has no Landlock: the sandbox falls back to Unix permissions")


@needs_landlock
def test_the_sandbox_reads_only_what_it_is_given(tmp_path):
    """The kernel's wrapper: its own folder yes; the repository (reference, solutions) no; no signals out."""
    (tmp_path / "mine.txt").write_text("mine")
    code = ("import os, sys\nprint(open(sys.argv[1]).read())\n"
            "for secret in sys.argv[2:]:\n"
            "    try:\n        open(secret).read(); print('LEAK', secret)\n"
            "    except PermissionError:\n        print('denied')\n"
            "try:\n    os.kill(os.getppid(), 0); print('LEAK signal')\nexcept PermissionError:\n    print('no signal')\n")
    proc = subprocess.run([sys.executable, "-m", "cnngrader.sandbox", "--write", str(tmp_path), "--memory", str(4 << 30),
                           "--", sys.executable, "-c", code, str(tmp_path / "mine.txt"), str(REFERENCE),
                           str(ROOT / "solutions" / A1 / f"{A1}.ipynb")], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["mine", "denied", "denied", "no", "signal"], proc.stdout + proc.stderr


def test_the_sandbox_limits_memory():
    code = "import numpy as np\ntry:\n    np.empty((16 << 30) // 8)\nexcept MemoryError:\n    print('MemoryError')\n"
    proc = subprocess.run([sys.executable, "-m", "cnngrader.sandbox", "--memory", str(2 << 30), "--",
                           sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "MemoryError", proc.stdout + proc.stderr
