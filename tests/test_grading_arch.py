"""Round trip through nbgrader for 09_architectures: release, collect LMS zips, autograde, feedback.

Proves: the reference scores full marks; the untouched release scores 0 without crashing the
grader; typical mistakes lose exactly their points and the feedback names them: the skip added
after the last ReLU costs residual_block (3 points), and ignoring groups in conv2d_params costs
conv2d_params AND depthwise_separable_params, which reuses it (2 + 2 points).
"""
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

A9 = "09_architectures"
ALL = solution_functions()
FULL = ASSIGNMENTS[A9].points


def typical_mistakes(folder: Path) -> None:
    res = folder / "cnnlib" / "residual.py"
    text = res.read_text()
    wrong = text.replace("return relu(conv2d(h, w2, b2, padding=p) + x)", "return relu(conv2d(h, w2, b2, padding=p)) + x")
    assert wrong != text, "the mutant no longer applies: update typical_mistakes to the new residual_block"
    res.write_text(wrong)
    counts = folder / "cnnlib" / "param_counts.py"
    text = counts.read_text()
    wrong = text.replace("return c_out * (c_in // groups) * kh * kw", "return c_out * c_in * kh * kw")
    assert wrong != text, "the mutant no longer applies: update typical_mistakes to the new conv2d_params"
    counts.write_text(wrong)


# student id -> (functions written right, edit, expected score, texts the feedback must contain)
STUDENTS = {
    "archref": (ALL, None, FULL, ["agree with PyTorch"]),
    "archuntouched": (frozenset(), None, 0, ["residual_block is not written yet", "conv2d_params is not written yet"]),
    "archmistakes": (ALL, typical_mistakes, FULL - 3 - 2 - 2,
                     ["skip added after the last ReLU", "groups ignored", "depthwise step counted as a full convolution"]),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, dict[str, float]]:
    course = tmp_path_factory.mktemp("course9")
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    cli(course, "release", A9)
    zips, work = tmp_path_factory.mktemp("zips9"), tmp_path_factory.mktemp("work9")
    for student, (keep, edit, _, _) in STUDENTS.items():
        folder = make_submission(course / "exercises" / A9, work / student / A9, keep, edit)
        with zipfile.ZipFile(zips / f"{student}_{A9}_attempt_2026-12-02.zip", "w") as z:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    z.write(path, Path(A9) / path.relative_to(folder))
    cli(course, "collect", A9, str(zips))
    cli(course, "autograde", A9, "-j", "2")
    cli(course, "feedback", A9)
    cli(course, "export", "grades.csv")
    with open(course / "grades.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == A9}
    return course, scores


def test_points_add_up():
    assert FULL == 11 and [t.points for t in ASSIGNMENTS[A9].tasks] == [3, 4, 2, 2]


@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_score_and_feedback(graded, student):
    course, scores = graded
    _, _, expected, phrases = STUDENTS[student]
    assert scores[student] == expected, f"{student} scored {scores[student]}, expected {expected}"
    feedback = (course / "feedback" / student / A9 / f"{A9}.html").read_text()
    for phrase in phrases:
        assert phrase in feedback, f"{student}'s feedback lacks {phrase!r}"
