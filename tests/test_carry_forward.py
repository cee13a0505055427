"""carry_forward: a student's finished modules flow from earlier assignments into a later one.

A workspace is built the way students get it (every assignment ships the whole stubbed package);
"the student" writes functions in early assignments; the command must bring exactly their own
files forward (never the reference), keep backups, leave better target files alone, refuse a
copy that would lose newer functions, and ship in the student distribution as a plain script.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnngrader import carry_forward as cf
from cnngrader.stubs import write_student_package

NAMES = ("01_convolution", "04_pooling", "06_backprop", "07_optimizers")


def workspace(tmp: Path, written: dict[str, frozenset[str]]) -> Path:
    for name in NAMES:
        write_student_package(tmp / "exercises" / name / "cnnlib", written.get(name, frozenset()))
    return tmp


def stubs(path: Path) -> set[str]:
    return set(cf.STUB.findall(path.read_text()))


def test_finished_modules_come_forward_with_backups(tmp_path, capsys):
    ws = workspace(tmp_path, {"01_convolution": frozenset({"corr2d", "convolve2d", "conv2d"}),
                              "04_pooling": frozenset({"max_pool2d", "avg_pool2d"}),
                              "06_backprop": frozenset({"max_pool2d", "avg_pool2d", "max_pool2d_backward"})})
    target = ws / "exercises" / "07_optimizers" / "cnnlib"
    before = (target / "pool.py").read_text()
    assert cf.main(["07_optimizers", "--workspace", str(ws)]) == 0
    out = capsys.readouterr().out
    assert "conv.py" in out and "from 01_convolution: conv2d, convolve2d, corr2d" in out
    assert "from 06_backprop" in out and "max_pool2d_backward" in out
    assert not {"corr2d", "convolve2d", "conv2d"} & stubs(target / "conv.py")
    assert "conv2d_backward" in stubs(target / "conv.py")  # still the student's to write
    assert stubs(target / "pool.py") == {"avg_pool2d_backward"}  # 06's file: more written than 04's
    assert (target / "pool.py.before-carry").read_text() == before
    assert "sgd_step" in stubs(target / "optim.py")  # nothing earlier wrote it
    # the carried package is the student's code and it runs
    code = ("import numpy as np, cnnlib; x = np.arange(16.).reshape(1, 1, 4, 4); "
            "print(cnnlib.max_pool2d(x, 2).ravel().tolist())")
    res = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target.parent)!r}); {code}"],
                         capture_output=True, text=True, cwd=target.parent)
    assert res.stdout.strip() == "[5.0, 7.0, 13.0, 15.0]", res.stderr
    # running again changes nothing
    cf.main(["07_optimizers", "--workspace", str(ws)])
    assert "0 module(s) copied" in capsys.readouterr().out


def test_dry_run_and_better_target_left_alone(tmp_path, capsys):
    ws = workspace(tmp_path, {"01_convolution": frozenset({"corr2d"}),
                              "07_optimizers": frozenset({"corr2d", "convolve2d"})})
    target = ws / "exercises" / "07_optimizers" / "cnnlib" / "conv.py"
    text = target.read_text()
    cf.main(["07_optimizers", "--workspace", str(ws), "--dry-run"])
    assert "nothing newer written earlier" in capsys.readouterr().out
    assert target.read_text() == text and not list(target.parent.glob("*.before-carry"))


def test_a_copy_that_would_lose_newer_functions_is_refused(tmp_path):
    ws = workspace(tmp_path, {"01_convolution": frozenset({"relu"})})
    old = ws / "exercises" / "01_convolution" / "cnnlib" / "activations.py"
    old.write_text(old.read_text().replace("def tanh_backward(", "def _renamed_in_old_release("))
    steps = {n: (s, r) for n, s, r in cf.plan(ws / "exercises" / "07_optimizers", [old.parent.parent])}
    src, reason = steps["activations.py"]
    assert src is None and "NOT copied" in reason and "tanh_backward" in reason and "relu" in reason


def test_broken_earlier_file_is_skipped(tmp_path):
    ws = workspace(tmp_path, {"01_convolution": frozenset({"corr2d"})})
    (ws / "exercises" / "01_convolution" / "cnnlib" / "conv.py").write_text("def corr2d(:\n")
    steps = {n: r for n, _, r in cf.carry(ws / "exercises" / "07_optimizers",
                                          [ws / "exercises" / "01_convolution"])}
    assert "not valid Python" in steps["conv.py"]


def test_unknown_target_is_named(tmp_path):
    ws = workspace(tmp_path, {})
    with pytest.raises(SystemExit, match="neither an assignment"):
        cf.main(["99_nothing", "--workspace", str(ws)])


def test_ships_in_the_student_distribution_as_a_script(tmp_path):
    from cnngrader.distribution import build

    dest = build(tmp_path / "student")
    script = dest / "carry_forward.py"
    assert script.is_file() and "cnngrader" not in script.read_text()
    a = sorted(p.name for p in (dest / "exercises").iterdir())[-1]
    res = subprocess.run([sys.executable, "-I", str(script), a, "--dry-run"], cwd=dest, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "would copy" in res.stdout or "kept" in res.stdout
