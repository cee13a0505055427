"""No answer reaches readers or students: not the solution code, not the hidden tests.

Scans everything they get: the release (exercises/), the student distribution (built here),
and the built book (_build/html, with its _sources and notebook downloads).
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from cnngrader.distribution import build
from cnngrader.stubs import BEGIN, ROOT, solution_lines

MARKERS = (BEGIN, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS", "cnngrader")


def hidden_test_lines() -> set[str]:
    lines: set[str] = set()
    for path in (ROOT / "solutions").glob("*/*.ipynb"):
        for cell in nbformat.read(path, 4).cells:
            inside = False
            for line in cell.source.splitlines():
                s = line.strip()
                if s == "### BEGIN HIDDEN TESTS":
                    inside = True
                elif s == "### END HIDDEN TESTS":
                    inside = False
                elif inside and len(s) >= 12:
                    lines.add(s)
    return lines


FORBIDDEN = sorted(solution_lines() | hidden_test_lines()) + list(MARKERS)


def test_forbidden_text_is_collected():
    """The scan looks for something real: the solution and hidden-test lines exist in the sources."""
    assert len(solution_lines()) > 20
    assert any("cnngrader.judge" in line for line in hidden_test_lines())


def leaks(tree: Path) -> list[str]:
    found = []
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # images and other binaries
        found += [f"{path.relative_to(tree)}: {line!r}" for line in FORBIDDEN if line in text]
    return found


def test_release_holds_no_answer():
    assert any((ROOT / "exercises").rglob("*.ipynb"))
    assert not leaks(ROOT / "exercises")


def test_student_distribution_holds_no_answer(tmp_path):
    dest = build(tmp_path / "student")
    assert (dest / "exercises").is_dir() and (dest / "cnnlib" / "conv.py").exists()
    assert not leaks(dest)


def test_built_book_holds_no_answer():
    html = ROOT / "_build" / "html"
    if not (html / "index.html").exists():
        if os.environ.get("CNN_REQUIRE_BOOK"):
            pytest.fail("the book is not built: `make test` builds it before running the tests")
        pytest.skip("the book is not built here (run `make book`)")
    assert list(html.rglob("*.html")) and list((html / "_sources").rglob("*"))
    assert not leaks(html)
