"""The student workspace: Binder environment, imports of the chapters, cnnlib and autoreload in kernels."""
from __future__ import annotations

import ast
import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cnngrader import distribution
from cnnlib import workspace

ROOT = Path(__file__).resolve().parent.parent
IMPORT_TO_PACKAGE = {"skimage": "scikit-image", "myst_nb": "myst-nb", "IPython": "ipykernel"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    return distribution.build(tmp_path_factory.mktemp("student") / "student")


def test_binder_environment_uses_cpu_torch(dist):
    pinned = re.search(r"^torch==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    req = (dist / "binder" / "requirements.txt").read_text().splitlines()
    assert req[0] == "--extra-index-url https://download.pytorch.org/whl/cpu"
    assert f"torch=={pinned.split('+')[0]}+cpu" in req
    assert set(req[1:]) - {l for l in req if l.startswith("torch")} <= set((dist / "requirements.txt").read_text().splitlines())
    assert (dist / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    start = dist / "binder" / "start"
    assert os.access(start, os.X_OK) and 'exec "$@"' in start.read_text()
    assert "MIT" in (dist / "LICENSE").read_text() and "CC BY 4.0" in (dist / "LICENSE").read_text()


def test_every_import_of_the_chapters_is_installed_by_the_student_requirements(dist):
    wanted = {l.split("==")[0].lower() for l in (dist / "requirements.txt").read_text().splitlines()}
    for nb_path in sorted((dist / "book").glob("*.ipynb")):
        for cell in json.loads(nb_path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            lines = "".join(cell["source"]).splitlines()  # magics and shell lines become `pass`
            source = "\n".join(re.sub(r"^(\s*)[%!].*", r"\1pass", l) for l in lines)
            for node in ast.walk(ast.parse(source)):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top == "cnnlib":
                        continue
                    assert IMPORT_TO_PACKAGE.get(top, top).lower() in wanted, f"{nb_path.name} imports {top}"


def test_workspace_kernels_import_the_students_cnnlib_with_autoreload(dist, monkeypatch):
    for key, value in workspace.environment(dist).items():
        monkeypatch.setenv(key, value)
    (dist / "scratch_mod.py").write_text("def f():\n    return 1\n")
    cells = ["import cnnlib, scratch_mod\nprint(cnnlib.__file__)\nprint(scratch_mod.f())",
             "import pathlib, time\ntime.sleep(1.1)\n"
             "pathlib.Path(scratch_mod.__file__).write_text('def f():\\n    return 2\\n')",
             "print(scratch_mod.f())"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(dist / "book")}}).execute()
    first = nb.cells[0].outputs[0].text.splitlines()
    assert Path(first[0]).resolve() == (dist / "cnnlib" / "__init__.py").resolve()  # the student's, not the reference
    assert first[1] == "1"
    assert nb.cells[2].outputs[0].text.strip() == "2"  # edited module reloaded without a restart


def test_chapter_notebooks_set_themselves_up_on_colab_only(dist):
    import yaml

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    chapters = sorted((dist / "book").glob("*.ipynb"))
    assert chapters
    for path in chapters:
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.metadata.get("tags") == ["colab-setup"] and f"git clone --depth 1 {url} " in first.source
    # outside Colab the cell changes nothing and prints nothing
    setup = nbformat.read(chapters[0], as_version=4).cells[0].source
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys\nbefore = list(sys.path)"),
                                         nbformat.v4.new_code_cell(setup),
                                         nbformat.v4.new_code_cell("print(sys.path == before)")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert nb.cells[1].outputs == [] and nb.cells[2].outputs[0].text.strip() == "True"
