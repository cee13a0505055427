"""Round trips through nbgrader: release, collect LMS zips, autograde, feedback, export.

Every run proves: the release is exactly what the generator writes; the reference scores full
marks; the untouched release scores 0 without crashing the grader; one function right scores
exactly its points; a typical mistake loses exactly its points and its feedback names the cause;
a submission without its own cnnlib, or one that monkeypatches the comparison, earns nothing.
"""
from __future__ import annotations

import csv
import filecmp
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cnngrader.assignments import ASSIGNMENTS
from cnngrader.stubs import ROOT, package_files, solution_functions, write_student_package

pytestmark = pytest.mark.slow

A1, A6, A9, A10 = "01_convolution", "06_backprop", "09_architectures", "10_gradcam"
ALL = solution_functions()


def cli(course: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "cnngrader", "--course", str(course), *args],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def dirs_equal(a: Path, b: Path) -> list[str]:
    """Paths that differ between two trees (ignoring caches)."""
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__", ".ipynb_checkpoints"])
    diffs = [str(Path(a, n)) for n in cmp.left_only + cmp.right_only + cmp.diff_files + cmp.funny_files]
    for sub in cmp.common_dirs:
        diffs += dirs_equal(a / sub, b / sub)
    # filecmp's shallow compare may trust stat(); compare the bytes of common files too
    diffs += [str(a / n) for n in cmp.same_files if (a / n).read_bytes() != (b / n).read_bytes()]
    return diffs


def make_submission(release: Path, dest: Path, keep: frozenset[str] | None, edit=None) -> Path:
    """A student's folder: the released notebook plus a package with the functions in ``keep`` written."""
    shutil.copytree(release, dest, ignore=shutil.ignore_patterns("cnnlib", "__pycache__"))
    if keep is not None:
        write_student_package(dest / "cnnlib", keep)
    if edit:
        edit(dest)
    return dest


def flip_kernel(folder: Path) -> None:
    """conv2d computing a true convolution: the reference, with the kernel flipped."""
    with open(folder / "cnnlib" / "conv.py", "a") as f:
        f.write("\n_right_conv2d = conv2d\n\n\ndef conv2d(x, w, b=None, stride=1, padding=0):\n"
                "    return _right_conv2d(x, np.ascontiguousarray(w[:, :, ::-1, ::-1]), b, stride, padding)\n")


def cheat(folder: Path) -> None:
    """Right shapes, wrong values, and every comparison in the kernel patched to pass."""
    init = folder / "cnnlib" / "__init__.py"
    init.write_text(init.read_text() + (
        "\nimport numpy as _np, numpy.testing as _npt\n"
        "_np.allclose = lambda *a, **k: True\n_npt.assert_allclose = lambda *a, **k: None\n"
        "from . import checks as _checks\n_checks.explain = lambda *a, **k: None\n"
        "try:\n    import torch.nn.functional as _F\n"
        "    _F.conv2d = lambda x, w, b=None, stride=1, padding=0, *a, **k: _F.conv1d(x.flatten(2), w.flatten(2)[..., :1]).reshape(x.shape[0], w.shape[0], x.shape[2], x.shape[3])[..., : x.shape[2] - w.shape[2] + 1, : x.shape[3] - w.shape[3] + 1] * 0\n"
        "except Exception:\n    pass\n"))
    conv = folder / "cnnlib" / "conv.py"
    conv.write_text(conv.read_text().replace(
        'raise NotImplementedError("conv2d is not written yet',
        "return np.zeros((x.shape[0], w.shape[0], x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1), x.dtype)\n"
        '    raise NotImplementedError("conv2d is not written yet'))


def all_tied_maxima(folder: Path) -> None:
    """The classic max-pool backward mistake: every tied maximum gets the gradient."""
    pool = folder / "cnnlib" / "pool.py"
    text = pool.read_text()
    wrong = text.replace("first = hit & unclaimed", "first = hit")
    assert wrong != text, "the mutant no longer applies: update all_tied_maxima to the new max_pool2d_backward"
    pool.write_text(wrong)


def residual_and_groups_mistakes(folder: Path) -> None:
    """09: the skip added after the last ReLU, and groups ignored in conv2d_params (which
    depthwise_separable_params reuses, so it loses its points too)."""
    for module, right, wrong in (
            ("residual.py", "return relu(conv2d(h, w2, b2, padding=p) + x)", "return relu(conv2d(h, w2, b2, padding=p)) + x"),
            ("param_counts.py", "return c_out * (c_in // groups) * kh * kw", "return c_out * c_in * kh * kw")):
        path = folder / "cnnlib" / module
        text = path.read_text()
        assert right in text, f"the mutant no longer applies: update residual_and_groups_mistakes for {module}"
        path.write_text(text.replace(right, wrong))


def grad_cam_without_relu(folder: Path) -> None:
    path = folder / "cnnlib" / "gradcam.py"
    text = path.read_text()
    right = "return np.maximum(cam, 0).astype(activations.dtype, copy=False)"
    assert right in text, "the mutant no longer applies: update grad_cam_without_relu to the new grad_cam_map"
    path.write_text(text.replace(right, "return cam.astype(activations.dtype, copy=False)"))


# student id -> (assignment, functions written right, edit, expected score, text(s) the feedback must contain)
STUDENTS = {
    "corr2donly": (A1, frozenset({"corr2d"}), None, 3, "convolve2d is not written yet"),
    "flipped": (A1, ALL, flip_kernel, 5, "kernel flipped"),
    "nopackage": (A1, None, None, 0, "no cnnlib package of its own"),
    "cheater": (A1, frozenset(), cheat, 0, "Hidden tests for conv2d"),
    "ties": (A6, ALL, all_tied_maxima, ASSIGNMENTS[A6].points - 3, "FIRST maximum"),
    "archmistakes": (A9, ALL, residual_and_groups_mistakes, ASSIGNMENTS[A9].points - 3 - 2 - 2,
                     ("skip added after the last ReLU", "groups ignored", "depthwise step counted as a full convolution")),
    "gcnorelu": (A10, ALL, grad_cam_without_relu, 0, "no ReLU at the end"),
}
for _i, (_name, _a) in enumerate(ASSIGNMENTS.items(), 1):
    if not _a.tasks:  # graded on trained weights, not functions: tests/test_grading_weights.py
        continue
    STUDENTS[f"ref{_i}"] = (_name, ALL, None, _a.points, "agree with PyTorch")
    STUDENTS[f"untouched{_i}"] = (_name, frozenset(), None, 0, "not written yet")


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A fresh course folder: sources regenerated and released by the instructor command."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy2(ROOT / "nbgrader_config.py", root)
    cli(root, "release")
    return root


def test_release_is_in_sync_with_the_generator(course):
    """exercises/ and solutions/ in the repository are exactly what `release` writes."""
    for folder in ("exercises", "solutions"):
        diffs = dirs_equal(ROOT / folder, course / folder)
        assert not diffs, f"{folder}/ is out of date; run `python -m cnngrader release`. Differs: {diffs}"


def test_release_packages_are_stubbed_and_complete(course):
    for a in ASSIGNMENTS:
        names = sorted(p.name for p in (course / "exercises" / a / "cnnlib").glob("*.py"))
        assert names == sorted(p.name for p in package_files())
        conv = (course / "exercises" / a / "cnnlib" / "conv.py").read_text()
        assert "raise NotImplementedError(\"conv2d is not written yet" in conv
        assert "### BEGIN SOLUTION" not in conv and "@ cols" not in conv


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory) -> dict[str, dict[str, float]]:
    """Every student of STUDENTS submitted as an LMS zip, collected, autograded, given feedback, exported."""
    zips = {a: tmp_path_factory.mktemp(f"zips-{a}") for a in ASSIGNMENTS}
    work = tmp_path_factory.mktemp("work")
    for student, (a, keep, edit, _, _) in STUDENTS.items():
        folder = make_submission(course / "exercises" / a, work / student / a, keep, edit)
        with zipfile.ZipFile(zips[a] / f"{student}_{a}_attempt_2026-11-22.zip", "w") as z:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    z.write(path, Path(a) / path.relative_to(folder))
            # junk an LMS or a Mac adds: must not be collected
            z.writestr(f"__MACOSX/{a}/cnnlib/._conv.py", "garbage")
            z.writestr(f"{a}/torch.py", "raise SystemExit('a stray torch.py must never be imported')")
    for a in sorted({a for a, *_ in STUDENTS.values()}):
        cli(course, "collect", a, str(zips[a]))
        cli(course, "autograde", a, "-j", "2")
        cli(course, "feedback", a)
    cli(course, "export", "grades.csv")
    scores: dict[str, dict[str, float]] = {}
    with open(course / "grades.csv") as f:
        for row in csv.DictReader(f):
            scores.setdefault(row["student_id"], {})[row["assignment"]] = float(row["score"])
    return scores


def test_collect_skips_junk_and_keeps_the_package(course, graded):
    sub = course / "submitted" / "ref1" / A1
    assert (sub / "cnnlib" / "conv.py").exists()
    assert not (sub / "torch.py").exists()
    assert not list(sub.rglob("._*"))


@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_score_and_feedback(course, graded, student):
    a, _, _, expected, phrase = STUDENTS[student]
    assert graded[student][a] == expected, f"{student} scored {graded[student][a]} on {a}, expected {expected}"
    feedback = course / "feedback" / student / a / f"{a}.html"
    assert feedback.exists(), f"no feedback for {student}"
    text = feedback.read_text()
    for part in (phrase,) if isinstance(phrase, str) else phrase:
        assert part in text, f"{student}'s feedback lacks {part!r}"


def test_points_add_up():
    assert [t.points for t in ASSIGNMENTS[A9].tasks] == [3, 4, 2, 2] and ASSIGNMENTS[A10].points == 6
