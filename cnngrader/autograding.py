"""nbgrader preprocessors that make autograding hold against broken and hostile submissions.

``RepairCells`` (first of ``Autograde.sanitize_preprocessors``): puts every graded test cell of
the assignment back as the instructor wrote it (deleted, turned into markdown, duplicated,
edited or stripped of its metadata), writes a note into the notebook that names the problem,
and logs a ``cnngrader:`` warning that the instructor's summary table repeats.

``GradingExecute`` (replaces nbgrader's ``Execute``):

- the **score** of a test cell comes only from the judge (``python -I -m cnngrader.judge``),
  which the *grader* runs, never the student's kernel, on a snapshot of the student's
  ``cnnlib/`` taken before the notebook runs. Nothing the kernel does (monkeypatching numpy,
  torch, subprocess or the checks, printing fake reports, rewriting the package files)
  reaches it. The judge runs the student's functions in a sandbox (:mod:`cnngrader.sandbox`);
- the visible checks still run in the kernel, for feedback only: their failures and anything
  written to stderr (warnings, progress bars) are shown as plain text and never cost points;
- the kernel itself runs under :mod:`cnngrader.sandbox` (memory limit; no read access to the
  course folder, the gradebook or the reference package);
- every cell has a timeout (``GradingExecute.timeout``); a cell that times out, or a kernel
  that dies (out of memory, ``os._exit``, a signal), is reported in that cell, the kernel is
  restarted, and the rest of the notebook is graded. nbgrader never sees the kernel die, so it
  never drops the submission.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer

from . import judge as judge_mod
from . import sandbox
from . import weights as weights_mod

MARKER = "# cnngrader-judge: "
WEIGHTS_MARKER = "# cnngrader-weights: "  # a cell graded on a submitted weights file (cnngrader.weights)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
NOTE = "**Grader's note:** "


def _marked(source: str, marker: str) -> str | None:
    """The value after ``marker`` on a line of a test cell's hidden block, if any."""
    for line in source.splitlines():
        if line.startswith(marker):
            return line[len(marker):].strip()
    return None


def judge_check(source: str) -> str | None:
    """The check named by a test cell's hidden block (``# cnngrader-judge: <check>``), if any."""
    return _marked(source, MARKER)


def weights_file(source: str) -> str | None:
    """The weights file named by a test cell's hidden block (``# cnngrader-weights: <file>``), if any."""
    return _marked(source, WEIGHTS_MARKER)


def _note(text: str) -> NotebookNode:
    cell = new_markdown_cell(NOTE + text)
    cell.metadata["cnngrader"] = {"note": True}
    return cell


class RepairCells(NbGraderPreprocessor):
    """Restore the assignment's graded cells from the gradebook and say what was wrong."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        student = info.get("student", "?")
        with Gradebook(info["db_url"]) as gb:
            try:
                source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            grade_cells = {c.name: c for c in source_nb.grade_cells if c.cell_type == "code"}
            sources = {c.name: c.source for c in source_nb.source_cells}
        problems: list[str] = []
        seen: set[str] = set()
        for cell in list(nb.cells):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            grade_id = meta.get("grade_id")
            if meta and grade_id not in sources:
                problems.append(f"cell {grade_id} claims to be an nbgrader cell but is not in the assignment: "
                                "ignored")
                del cell.metadata["nbgrader"]
                continue
            if grade_id not in grade_cells:
                continue
            name = f"graded cell {grade_id}"
            if grade_id in seen:
                problems.append(f"{name} appears twice: the copy was ignored")
                del cell.metadata["nbgrader"]
                continue
            seen.add(grade_id)
            if cell.cell_type != "code":
                problems.append(f"{name} was turned into {cell.cell_type}: the grader turned it back into code")
                cell.cell_type = "code"
                cell.outputs, cell.execution_count = [], None
                cell.pop("attachments", None)
            elif HIDDEN.sub("", cell.source).strip() != HIDDEN.sub("", sources[grade_id]).strip():
                problems.append(f"{name} was edited: the grader restored the original")
            if not meta.get("grade") or meta.get("points") != grade_cells[grade_id].max_score:
                problems.append(f"{name} had its grading metadata changed: restored")
            cell.metadata["nbgrader"] = self._metadata(grade_id, grade_cells[grade_id].max_score)
            cell.source = sources[grade_id]
        for grade_id, grade_cell in grade_cells.items():
            if grade_id in seen:
                continue
            problems.append(f"graded cell {grade_id} was deleted: the grader restored it and graded it")
            cell = new_code_cell(sources[grade_id])
            cell.metadata["nbgrader"] = self._metadata(grade_id, grade_cell.max_score)
            nb.cells.insert(self._position(nb, grade_id), cell)
            nb.cells.insert(self._position(nb, grade_id), _note(f"graded cell `{grade_id}` was deleted from "
                                                              "the submission; the grader restored it."))
        for problem in problems:
            self.log.warning("cnngrader: %s: %s", student, problem)
            if "deleted" not in problem:
                target = problem.split()[2] if problem.startswith("graded cell") else None
                index = next((i for i, c in enumerate(nb.cells)
                              if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == target), 0)
                nb.cells.insert(index, _note(problem + "."))
        return nb, resources

    @staticmethod
    def _metadata(grade_id: str, points: float) -> NotebookNode:
        return NotebookNode(grade=True, grade_id=grade_id, locked=True, points=points, schema_version=3,
                            solution=False, task=False)

    @staticmethod
    def _position(nb: NotebookNode, grade_id: str) -> int:
        """After the task's markdown cell (grade id task_<check>) where it is still there, else the end."""
        task = "task_" + grade_id.removeprefix("test_")
        for i, cell in enumerate(nb.cells):
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == task:
                return i + 1
        return len(nb.cells)


class _SandboxedKernelManager(AsyncKernelManager):
    """A kernel started through ``python -m cnngrader.sandbox`` (see GradingExecute.preprocess)."""

    sandbox_prefix: list[str] = []

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        prefix = list(self.sandbox_prefix)
        if self.connection_file:  # the kernel reads its connection file, wherever jupyter_client put it
            prefix[-1:-1] = ["--read", self.connection_file]
        return prefix + super().format_kernel_cmd(extra_arguments)


class GradingExecute(Execute):
    """nbgrader's Execute, with the judge outside the kernel, a sandboxed kernel and restarts."""

    timeout = Integer(60, allow_none=True, help="seconds a cell may run in the kernel").tag(config=True)
    interrupt_on_timeout = Bool(False, help="a cell that times out restarts the kernel").tag(config=True)
    judge_timeout = Integer(60, help="seconds the student's function may run in one hidden test").tag(config=True)
    kernel_memory = Integer(8 << 30, help="address-space limit of the student's kernel (bytes)").tag(config=True)
    sandbox_kernel = Bool(True, help="run the student's kernel under cnngrader.sandbox").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> tuple[NotebookNode, Any]:
        path = Path(resources.get("metadata", {}).get("path") or ".").resolve()
        self._student = resources.get("nbgrader", {}).get("student", "?")
        self._problems: list[str] = []
        with tempfile.TemporaryDirectory(prefix="cnngrader-grade-") as tmp:
            self._snapshot = Path(tmp) / "submission"
            self._snapshot.mkdir()
            self._snapshot_error = judge_mod.snapshot(path, self._snapshot)
            self._snapshot_weights(nb, path)
            home = Path(tmp) / "home"
            home.mkdir()
            self._kernel_env = dict(os.environ, HOME=str(home), TMPDIR=str(home), MPLCONFIGDIR=str(home),
                                    IPYTHONDIR=str(home / ".ipython"), OPENBLAS_NUM_THREADS="1",
                                    OMP_NUM_THREADS="1", PYTHONNOUSERSITE="1")
            if self.sandbox_kernel:
                prefix = [sys.executable, "-m", "cnngrader.sandbox", "--memory", str(self.kernel_memory),
                          "--write", str(path), "--write", str(home), "--"]
                self.kernel_manager_class = type("SandboxedKernelManager", (_SandboxedKernelManager,),
                                                 {"sandbox_prefix": prefix})
            self._start_judge(nb, Path(tmp))
            try:
                return super().preprocess(nb, resources, km)
            finally:
                if self._judge_proc is not None:
                    self._judge_proc.kill()
                    self._finish_judge()
                for problem in self._problems:
                    self.log.warning("cnngrader: %s: %s", self._student, problem)

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        kwargs.setdefault("env", self._kernel_env)
        await super().async_start_new_kernel(**kwargs)

    # --- running cells in the kernel, surviving timeouts and deaths --------------------------
    async def _restart(self) -> None:
        try:
            await self._async_cleanup_kernel()
        except Exception:  # noqa: BLE001 (a dead kernel may fail to clean up; start afresh anyway)
            pass
        self.km = self.create_kernel_manager()
        await self.async_start_new_kernel()
        await self.async_start_new_kernel_client()

    def _in_kernel(self, cell: NotebookNode, source: str, resources: Any, index: int) -> None:
        original = cell.source
        cell.source = source
        try:
            super().preprocess_cell(cell, resources, index)
        except CellTimeoutError:
            self._lost(cell, "CellTimeoutError", f"this cell did not finish within {self.timeout} s "
                       "(an infinite loop, or a very slow function?); the kernel was restarted")
        except DeadKernelError:
            self._lost(cell, "DeadKernelError", "the kernel died while running this cell (too much memory? "
                       "os._exit? a crash?); the kernel was restarted and the rest of the notebook graded")
        finally:
            cell.source = original

    def _lost(self, cell: NotebookNode, ename: str, message: str) -> None:
        cell.outputs.append(new_output("error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"]))
        self._problems.append(f"cell {self._cell_name(cell)}: {ename}: {message.split(';')[0]}")
        run_sync(self._restart)()

    @staticmethod
    def _cell_name(cell: NotebookNode) -> str:
        return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or cell.get("id", "?")

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> tuple[NotebookNode, Any]:
        weights = weights_file(cell.source) if cell.cell_type == "code" else None
        if weights and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            return self._grade_weights(cell, weights, resources, index)
        check = judge_check(cell.source) if cell.cell_type == "code" else None
        if check is None or not cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            self._in_kernel(cell, cell.source, resources, index)
            return cell, self.resources
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        self._in_kernel(cell, visible, resources, index)
        cell.outputs = self._feedback_only(cell.outputs)
        ok, report = self._judge(check)
        cell.outputs.append(new_output("stream", name="stdout", text=report + "\n"))
        if not ok:
            first = report.splitlines()[0] if report else "no report"
            cell.outputs.append(new_output("error", ename="HiddenTestsFailed", evalue=first,
                                           traceback=["HiddenTestsFailed: the hidden tests decide this cell's "
                                                      "points; see their report above"]))
            summary = re.sub(r" \(seed \d+\)", "", " ".join(report.split()))
            self._problems.append(f"{self._cell_name(cell)}: {summary[:300]}")
        return cell, self.resources

    # --- cells graded on a submitted weights file ------------------------------------------------
    def _snapshot_weights(self, nb: NotebookNode, path: Path) -> None:
        """Copy each weights file that a graded cell names, as submitted (regular files only)."""
        for cell in nb.cells:
            name = weights_file(cell.source) if cell.cell_type == "code" else None
            source = path / name if name else None
            if source is not None and source.is_file() and not source.is_symlink() and "/" not in name:
                shutil.copyfile(source, self._snapshot / name)

    def _grade_weights(self, cell: NotebookNode, name: str, resources: Any, index: int) -> tuple[NotebookNode, Any]:
        """Visible part in the kernel (feedback only); points from cnngrader.weights on the snapshot's file.

        Points are partial (nbgrader takes the cell's execute_result as the score); no points is an error.
        The file graded is the copy taken before the notebook ran, so the kernel cannot replace it.
        """
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        self._in_kernel(cell, visible, resources, index)
        cell.outputs = self._feedback_only(cell.outputs)
        try:  # the file is data (read without unpickling) and no student code runs: safe in the grader
            points, report = weights_mod.grade(self._snapshot, name)
        except Exception:  # noqa: BLE001 (the grader's own failure must not cost the student, nor stop the class)
            self.log.exception("cnngrader: %s: cnngrader.weights failed", self._student)
            points, report = 0.0, (f"Weights ({name}): the grader failed; this is not your fault, your "
                                   "instructor will see it in the grading summary and regrade.")
        cell.outputs.append(new_output("stream", name="stdout", text=report + "\n"))
        if points > 0:
            cell.outputs.append(new_output("execute_result", data={"text/plain": f"{points:g}"},
                                           execution_count=cell.get("execution_count")))
        else:
            first = report.splitlines()[0] if report else "no report"
            cell.outputs.append(new_output("error", ename="WeightsEarnedNoPoints", evalue=first,
                                           traceback=["WeightsEarnedNoPoints: see the report above"]))
            self._problems.append(f"{self._cell_name(cell)}: {' '.join(report.split())[:300]}")
        return cell, self.resources

    @staticmethod
    def _feedback_only(outputs: list[NotebookNode]) -> list[NotebookNode]:
        """The kernel's outputs, turned into plain text where they would decide the score."""
        kept: list[NotebookNode] = []
        for out in outputs:
            if out.output_type == "error":
                lines = [ANSI.sub("", line) for line in out.get("traceback", [])]
                text = "\n".join(lines[-12:]) or f"{out.ename}: {out.evalue}"
                kept.append(new_output("stream", name="stdout", text=(
                    "Visible checks (feedback only; the hidden tests below decide the points):\n" + text + "\n")))
            elif out.output_type == "stream" and out.name == "stderr":
                kept.append(new_output("stream", name="stdout", text=ANSI.sub("", out.text)))
            elif out.output_type == "execute_result":
                kept.append(new_output("display_data", data=out.get("data", {}), metadata=out.get("metadata", {})))
            else:
                kept.append(out)
        return kept

    def _start_judge(self, nb: NotebookNode, folder: Path) -> None:
        """Judge every graded check of the notebook in one background process (one torch import)."""
        self._checks = [c for c in (judge_check(cell.source) for cell in nb.cells
                                    if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade"))
                        if c]
        self._verdicts: dict[str, Any] = {}
        self._judge_proc = None
        if self._snapshot_error or not self._checks:
            return
        self._verdict_file = folder / "verdicts.json"
        self._judge_log = open(folder / "judge.log", "w+")
        self._judge_proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "cnngrader.judge", *dict.fromkeys(self._checks), "--submission",
             str(self._snapshot), "--timeout", str(self.judge_timeout), "--json", str(self._verdict_file)],
            stdout=subprocess.DEVNULL, stderr=self._judge_log, cwd=folder)

    def _finish_judge(self) -> None:
        if self._judge_proc is None:
            return
        try:
            self._judge_proc.wait(timeout=len(self._checks) * (self.judge_timeout + 60) + 120)
        except subprocess.TimeoutExpired:
            self._judge_proc.kill()
            self._judge_proc.wait()
        if self._verdict_file.exists():
            self._verdicts = json.loads(self._verdict_file.read_text())
        if self._judge_proc.returncode not in (0, 1) or len(self._verdicts) < len(set(self._checks)):
            self._judge_log.seek(0)
            self.log.error("cnngrader: %s: the judge itself failed (exit %s): %s", self._student,
                           self._judge_proc.returncode, self._judge_log.read()[-3000:])
        self._judge_log.close()
        self._judge_proc = None

    def _judge(self, check: str) -> tuple[bool, str]:
        if self._snapshot_error:
            return False, f"Hidden tests ({check}): not graded: {self._snapshot_error}."
        self._finish_judge()
        if check in self._verdicts:
            ok, report = self._verdicts[check]
            return bool(ok), str(report)
        return False, (f"Hidden tests ({check}): the grader failed; this is not your fault, "
                       "your instructor will see it in the grading summary and regrade.")
