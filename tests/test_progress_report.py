"""cnnlib.progress_report runs each assignment's visible checks against that assignment's own cnnlib."""
from __future__ import annotations

import shutil
from pathlib import Path

from cnnlib.progress_report import Report, report

ROOT = Path(__file__).resolve().parent.parent


def test_report_follows_the_students_own_package(tmp_path):
    work = tmp_path / "exercises" / "01_convolution"
    shutil.copytree(ROOT / "exercises" / "01_convolution", work)

    untouched = report(tmp_path)
    assert [(r.function, r.status) for r in untouched] == [("corr2d", "todo"), ("convolve2d", "todo"), ("conv2d", "todo")]
    assert {r.chapter for r in untouched} == {"Chapter 1, Convolution"}

    # the student finishes the package (here: the reference), then breaks corr2d by flipping the kernel
    for module in (ROOT / "cnnlib").glob("*.py"):
        shutil.copy(module, work / "cnnlib" / module.name)
    student = work / "cnnlib" / "conv.py"
    assert [r.status for r in report(work)] == ["pass", "pass", "pass"]
    student.write_text(student.read_text() + "\n\n_right = corr2d\n\n\ndef corr2d(image, kernel):\n"
                       "    return _right(image, kernel[::-1, ::-1].copy())\n")
    results = report(work)
    corr = results[0]
    assert (corr.function, corr.status) == ("corr2d", "fail")
    assert "flip" in corr.message.lower(), corr.message  # the check's own "Likely cause"

    text = str(Report(results))
    assert text.startswith("01_convolution  Chapter 1, Convolution  [") and "✗ corr2d" in text
    assert "<table>" in Report(results)._repr_html_()
