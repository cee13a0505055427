"""The hidden-test judge on hand-built submissions, without nbgrader (fast)."""
from __future__ import annotations

from pathlib import Path

import pytest

from cnngrader import judge as judge_mod
from cnngrader.assignments import ASSIGNMENTS
from cnngrader.stubs import solution_functions, write_student_package

CHECKS = sorted({t.check for a in ASSIGNMENTS.values() for t in a.tasks})
EVERYTHING = solution_functions()


def submission(tmp_path: Path, keep=EVERYTHING, replace: dict[str, tuple[str, str]] | None = None) -> Path:
    write_student_package(tmp_path / "cnnlib", keep)
    for name, (old, new) in (replace or {}).items():
        path = tmp_path / "cnnlib" / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}: update the test to the new reference"
        path.write_text(text.replace(old, new, 1))
    return tmp_path


@pytest.mark.parametrize("check", CHECKS)
def test_reference_passes_every_hidden_test(tmp_path, check):
    ok, report = judge_mod.judge(check, submission(tmp_path))
    assert ok, report
    assert "random cases passed" in report


def test_untouched_stub_fails_with_a_clear_reason(tmp_path):
    ok, report = judge_mod.judge("corr2d", submission(tmp_path, keep=frozenset()))
    assert not ok and "NotImplementedError" in report and "corr2d is not written yet" in report


def test_a_mutant_is_named_in_the_hidden_report(tmp_path):
    sub = submission(tmp_path)
    with open(sub / "cnnlib" / "conv.py", "a") as f:  # right output size, but steps by 1 along the width
        f.write("\n_right = conv2d\n\n\ndef conv2d(x, w, b=None, stride=1, padding=0):\n"
                "    sh, sw = as_pair('stride', stride, 1)\n"
                "    return np.ascontiguousarray(_right(x, w, b, (sh, 1), padding)[..., :_right(x, w, b, stride, padding).shape[-1]])\n")
    ok, report = judge_mod.judge("conv2d_strided", sub)
    assert not ok and "Likely cause: stride applied to the height axis only" in report, report


def test_the_submission_must_bring_its_own_cnnlib(tmp_path):
    """The instructor's reference is installed here: the judge must not fall back to it."""
    ok, report = judge_mod.judge("conv2d", tmp_path)
    assert not ok and "no cnnlib package of its own" in report


def test_graded_code_may_not_call_torch(tmp_path):
    sub = submission(tmp_path, keep=frozenset(), replace={"conv.py": (
        '    raise NotImplementedError("corr2d is not written yet',
        "    import torch\n    return torch.nn.functional.conv2d(torch.from_numpy(image)[None, None], "
        "torch.from_numpy(kernel)[None, None])[0, 0].numpy()\n"
        '    raise NotImplementedError("corr2d is not written yet')})
    ok, report = judge_mod.judge("corr2d", sub)
    assert not ok and "NumPy only" in report and "torch" in report


def test_an_endless_loop_times_out(tmp_path, monkeypatch):
    monkeypatch.setattr(judge_mod, "RUNNER_TIMEOUT_S", 3)
    sub = submission(tmp_path, keep=frozenset(), replace={"shapes.py": (
        '    raise NotImplementedError("pad2d is not written yet',
        '    while True:\n        pass\n    raise NotImplementedError("pad2d is not written yet')})
    ok, report = judge_mod.judge("pad2d", sub)
    assert not ok and "did not finish within 3 s" in report


def test_a_float_where_an_int_is_due_is_explained(tmp_path):
    sub = submission(tmp_path, replace={"shapes.py": ("return (n + 2 * p - k) // s + 1", "return (n + 2 * p - k) / s + 1")})
    ok, report = judge_mod.judge("conv_output_size", sub)
    assert not ok and "must return an int" in report and "floor division" in report


def test_printing_and_warnings_do_not_matter(tmp_path):
    sub = submission(tmp_path, replace={"conv.py": (
        "    kh, kw = kernel.shape\n",
        "    import warnings; warnings.warn('chatty'); print('debugging output')\n    kh, kw = kernel.shape\n")})
    ok, report = judge_mod.judge("corr2d", sub)
    assert ok, report


def test_the_cli_exit_status_reflects_the_verdict(tmp_path):
    import subprocess
    import sys

    good = subprocess.run([sys.executable, "-I", "-m", "cnngrader.judge", "pad2d"],
                          cwd=submission(tmp_path / "good"), capture_output=True, text=True)
    bad = subprocess.run([sys.executable, "-I", "-m", "cnngrader.judge", "pad2d"],
                         cwd=submission(tmp_path / "bad", keep=frozenset()), capture_output=True, text=True)
    assert good.returncode == 0 and "passed" in good.stdout
    assert bad.returncode == 1 and "pad2d is not written yet" in bad.stdout
