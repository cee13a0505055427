"""Which of your cnnlib functions pass their visible checks, assignment by assignment.

    python -m cnnlib.progress_report            # from the student distribution (or `make progress`)
    python -m cnnlib.progress_report exercises  # a folder of assignment folders

or, in a notebook, ``from cnnlib.progress_report import report; report()`` (a table).

Each assignment folder holds its notebook and the student's own ``cnnlib/``. For each one, a
fresh Python process imports THAT package (as the notebook does) and runs the notebook's own
visible-check cells (``check("corr2d", corr2d)``, see cnnlib.checks), so the report says exactly
what the notebook would say, without opening it. Nothing is graded or sent anywhere.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Result", "Report", "assignment_results", "report", "main"]

# Runs inside the assignment folder, with its cnnlib first on sys.path. Prints one JSON list.
_RUNNER = r"""
import contextlib, io, json, sys
folder, notebook = sys.argv[1], sys.argv[2]
sys.path.insert(0, folder)
cells = [''.join(c['source']) for c in json.load(open(notebook, encoding='utf-8'))['cells']
         if c['cell_type'] == 'code']
ns, out = {}, []
setup = '\n'.join(l for l in cells[0].splitlines() if not l.lstrip().startswith('%'))
try:
    with contextlib.redirect_stdout(io.StringIO()):
        exec(setup, ns)
except Exception as e:
    print(json.dumps([['(imports)', 'error', f'{type(e).__name__}: {e}']])); sys.exit(0)
for cell in cells:
    head = cell.splitlines()[0] if cell else ''
    if not head.startswith('# Visible checks for '):
        continue
    name = head[len('# Visible checks for '):].split(' (')[0]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(cell, ns)
        out.append([name, 'pass', ''])
    except NotImplementedError:
        out.append([name, 'todo', 'not written yet'])
    except AssertionError as e:
        out.append([name, 'fail', str(e).strip()])
    except Exception as e:
        out.append([name, 'error', f'{type(e).__name__}: {e}'])
print(json.dumps(out))
"""

_SYMBOL = {"pass": "✓", "fail": "✗", "error": "✗", "todo": "·"}
_WORDS = {"pass": "passes its visible checks", "fail": "fails", "error": "raises", "todo": "not written yet"}


@dataclass(frozen=True)
class Result:
    assignment: str  # folder name, e.g. 01_convolution
    chapter: str  # e.g. "Chapter 1, Convolution"
    function: str
    status: str  # "pass", "fail", "error" or "todo"
    message: str  # the check's explanation (first lines) when it does not pass


def _chapter(notebook: Path) -> str:
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            m = re.search(r"^\*(Chapter [^*]+?)\.\s+\d+ points?\.\*", "".join(cell["source"]), re.M)
            if m:
                return m.group(1)
    return ""


def assignment_results(folder: Path, timeout: float = 300) -> list[Result]:
    """Run the visible checks of the assignment in ``folder`` against the cnnlib in that folder."""
    folder = Path(folder).resolve()
    notebook = folder / f"{folder.name}.ipynb"
    if not notebook.exists():
        raise FileNotFoundError(f"{folder} holds no {folder.name}.ipynb: not an assignment folder")
    chapter = _chapter(notebook)
    run = subprocess.run([sys.executable, "-c", _RUNNER, str(folder), str(notebook)], cwd=folder,
                         capture_output=True, text=True, timeout=timeout)
    try:
        rows = json.loads(run.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        detail = (run.stderr.strip().splitlines() or ["no output"])[-1]
        rows = [["(all)", "error", f"the checks could not run: {detail}"]]
    return [Result(folder.name, chapter, name, status, message) for name, status, message in rows]


class Report(list):
    """A list of Result, shown as a table in a terminal (str) and in Jupyter (HTML)."""

    def __str__(self) -> str:
        lines, current = [], None
        for r in self:
            if r.assignment != current:
                current = r.assignment
                done = sum(x.status == "pass" for x in self if x.assignment == current)
                total = sum(x.assignment == current for x in self)
                lines.append(f"\n{r.assignment}  {r.chapter}  [{done}/{total} pass]")
            lines.append(f"  {_SYMBOL[r.status]} {r.function:<24} {_WORDS[r.status]}")
            if r.status in ("fail", "error"):
                lines += [f"      {line}" for line in r.message.splitlines()[:3]]
        return "\n".join(lines).lstrip("\n")

    def _repr_html_(self) -> str:
        import html

        colour = {"pass": "#1a7f37", "fail": "#cf222e", "error": "#cf222e", "todo": "#6e7781"}
        rows = "".join(
            f"<tr><td>{html.escape(r.chapter or r.assignment)}</td><td><code>{html.escape(r.function)}</code></td>"
            f"<td style='color:{colour[r.status]}'>{_SYMBOL[r.status]} {_WORDS[r.status]}</td>"
            f"<td><pre style='margin:0;white-space:pre-wrap'>{html.escape(r.message)}</pre></td></tr>"
            for r in self)
        return ("<table><thead><tr><th>chapter</th><th>function</th><th>status</th><th>details</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")


def _assignment_folders(root: Path) -> list[Path]:
    root = Path(root)
    if (root / f"{root.name}.ipynb").exists():
        return [root]
    base = root / "exercises" if (root / "exercises").is_dir() else root
    return sorted(p for p in base.iterdir() if (p / f"{p.name}.ipynb").exists())


def report(root: str | Path = ".", jobs: int = 2) -> Report:
    """Results for every assignment under ``root`` (the student distribution, its exercises/ or one assignment)."""
    folders = _assignment_folders(Path(root))
    if not folders:
        raise FileNotFoundError(f"no assignment folders (<a>/<a>.ipynb) under {Path(root).resolve()}")
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return Report(r for rows in pool.map(assignment_results, folders) for r in rows)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print(report(args[0] if args else "."))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
