"""cnnlib.progress: stdout in a terminal, one display updated in place in Jupyter."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent

LOOP = """\
import time
from cnnlib.progress import progress
for _ in progress(range(40), desc="epoch 1", unit="batch"):
    time.sleep(0.01)
bar = progress(total=3, desc="manual")
for i in range(3):
    bar.update(1)
    bar.set_postfix(loss=0.5)
    time.sleep(0.12)
bar.close()
print("done")
"""


def test_terminal_bar_goes_to_stdout_only():
    run = subprocess.run([sys.executable, "-c", LOOP], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stderr == ""
    assert "epoch 1: 100%" in run.stdout and "40/40" in run.stdout and "batch/s" in run.stdout
    assert run.stdout.rstrip().endswith("done")


def test_jupyter_bar_is_one_display_updated_in_place():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LOOP)])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = nb.cells[0].outputs
    kinds = [o.output_type for o in outputs]
    # two bars, each ONE display (its final state), then the print: no stream of \r updates, no stderr
    assert kinds == ["display_data", "display_data", "stream"], outputs
    first, second = (o.data["text/plain"] for o in outputs[:2])
    assert first.startswith("epoch 1: 100%") and "40/40" in first and "batch/s" in first
    assert "\r" not in first and "\n" not in first
    assert "█" in first  # block characters, not '#'
    assert second.startswith("manual: 100%") and "3/3" in second and "loss=0.5" in second
    assert "application/vnd.jupyter.widget-view+json" not in outputs[0].data  # no widget JS needed
    assert outputs[2].name == "stdout" and outputs[2].text == "done\n"


def test_progress_off_is_silent():
    run = subprocess.run([sys.executable, "-c", LOOP], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"CNNLIB_PROGRESS": "off", "PATH": ""})
    assert run.stdout == "done\n" and run.stderr == ""
