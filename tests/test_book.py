"""The executed book, read from the build (each chapter is executed once, by `make book`)."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


def notebooks() -> list[str]:
    """toc entries that are executable notebooks (MyST markdown with a kernelspec)."""
    def front_matter(f: str) -> str:
        text = (ROOT / f"{f}.md").read_text()
        return text.split("---")[1] if text.startswith("---") else ""

    return [f for f in toc_files() if "kernelspec:" in front_matter(f)]


@pytest.fixture(scope="module", autouse=True)
def built():
    if not (BUILD / "html" / "index.html").exists():
        if os.environ.get("CNN_REQUIRE_BOOK"):
            pytest.fail("the book is not built: `make test` builds it before running the tests")
        pytest.skip("the book is not built here (run `make book`)")


def test_every_toc_entry_has_a_page():
    for f in toc_files():
        assert (BUILD / "html" / f"{f}.html").exists(), f"{f} was not built"


def test_the_three_foundation_chapters_are_notebooks():
    assert {"book/intro", "book/convolution", "book/stride_padding"} <= set(notebooks())


@pytest.mark.parametrize("chapter", notebooks())
def test_chapter_executed_cleanly(chapter):
    path = BUILD / "jupyter_execute" / f"{chapter}.ipynb"
    assert path.exists(), f"{chapter} was not executed"
    nb = nbformat.read(path, 4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code), "some cells did not run"
    for i, cell in enumerate(code):
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"cell {i} raised {out.get('ename')}"
            assert not (out.output_type == "stream" and out.name == "stderr"), (
                f"cell {i} wrote to stderr (a warning?): {out.text[:300]}")
            plain = out.get("data", {}).get("text/plain", "")
            assert not plain.startswith(("Text(", "<matplotlib", "[<matplotlib")), (
                f"cell {i} shows a stray repr under a plot: {plain[:80]}")
