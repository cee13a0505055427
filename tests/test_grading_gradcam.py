"""Round trip through nbgrader for assignment 10_gradcam: release, collect LMS zips, autograde, feedback,
export. The reference scores full marks, the untouched release 0 without crashing the grader, and a
Grad-CAM without its final ReLU 0, with feedback that names that mistake."""
from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest

from cnngrader.assignments import ASSIGNMENTS
from cnngrader.stubs import ROOT, solution_functions
from test_grading import cli, make_submission

pytestmark = pytest.mark.slow

A = "10_gradcam"
POINTS = ASSIGNMENTS[A].points


def no_relu(folder: Path) -> None:
    path = folder / "cnnlib" / "gradcam.py"
    text = path.read_text()
    wrong = text.replace("return np.maximum(cam, 0).astype(activations.dtype, copy=False)",
                         "return cam.astype(activations.dtype, copy=False)")
    assert wrong != text, "the mutant no longer applies: update no_relu to the new grad_cam_map"
    path.write_text(wrong)


STUDENTS = {  # id -> (functions written right, edit, expected score, text the feedback must contain)
    "gcref": (solution_functions(), None, POINTS, "agree with PyTorch"),
    "gcuntouched": (frozenset(), None, 0, "grad_cam_map is not written yet"),
    "gcnorelu": (solution_functions(), no_relu, 0, "no ReLU at the end"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, dict[str, float]]:
    course = tmp_path_factory.mktemp("course")
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    cli(course, "release", A)  # this assignment only (tests/test_grading.py releases them all)
    zips, work = tmp_path_factory.mktemp("zips"), tmp_path_factory.mktemp("work")
    for student, (keep, edit, _, _) in STUDENTS.items():
        folder = make_submission(course / "exercises" / A, work / student / A, keep, edit)
        with zipfile.ZipFile(zips / f"{student}_{A}_attempt_2026-12-02.zip", "w") as z:
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


@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_score_and_feedback(graded, student):
    course, scores = graded
    _, _, expected, phrase = STUDENTS[student]
    assert scores[student] == expected, f"{student} scored {scores[student]}, expected {expected}"
    feedback = (course / "feedback" / student / A / f"{A}.html").read_text()
    assert phrase in feedback, f"{phrase!r} not in {student}'s feedback"
