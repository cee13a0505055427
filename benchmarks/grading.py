"""How long does autograding a class take? Grades N submissions of one assignment and prints the wall time.

    python benchmarks/grading.py                   # 30 students of 01_convolution, -j = number of cores
    python benchmarks/grading.py --students 10 --jobs 2 --assignment 02_stride_padding
    python benchmarks/grading.py --regrade         # then time `python -m cnngrader regrade` as well

A fresh course folder (a temporary directory) gets the instructor's nbgrader_config.py and a
release of the assignment; the class is a realistic mix, in turn: the reference solution, the
untouched release, and only the assignment's first function written. The instructor command
`python -m cnngrader autograde A -j N` grades it (sandboxed judge, one nbgrader process per
student, N at once) and the script checks every score before it prints the time, so a broken
grader cannot post a fast time. Not a test: nothing asserts on the time.
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnngrader.assignments import ASSIGNMENTS  # noqa: E402
from cnngrader.stubs import solution_functions, write_student_package  # noqa: E402


def cli(course: Path, *args: str) -> tuple[str, float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "cnngrader", "--course", str(course), *args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"`python -m cnngrader {' '.join(args)}` failed:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    return proc.stdout, time.monotonic() - started


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes, grandchildren included."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--assignment", choices=list(ASSIGNMENTS), default="01_convolution")
    parser.add_argument("--regrade", action="store_true", help="also time the one-command regrade")
    args = parser.parse_args()
    a = ASSIGNMENTS[args.assignment]
    first = a.tasks[0]
    kinds = [("reference", solution_functions(), a.points), ("untouched", frozenset(), 0),
             (f"only-{first.function}", frozenset({first.function}), first.points)]
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cnngrader-bench-") as tmp:
        course = Path(tmp)
        shutil.copy2(ROOT / "nbgrader_config.py", course)
        cli(course, "release", a.name)
        expected = {}
        for i in range(args.students):
            kind, keep, points = kinds[i % len(kinds)]
            student = f"s{i:03d}-{kind}"
            folder = course / "submitted" / student / a.name
            shutil.copytree(course / "exercises" / a.name, folder, ignore=shutil.ignore_patterns("cnnlib", "__pycache__"))
            write_student_package(folder / "cnnlib", keep)
            expected[student] = points
        cpu_before = _children_cpu()
        out, wall = cli(course, "autograde", a.name, "-j", str(args.jobs))
        cpu = _children_cpu() - cpu_before
        with open(course / f"grading_summary_{a.name}.csv") as f:
            scores = {row["student"]: float(row["score"]) for row in csv.DictReader(f)}
        wrong = {s: (scores.get(s), e) for s, e in expected.items() if scores.get(s) != e}
        if wrong:
            raise SystemExit(f"wrong scores (got, expected): {wrong}\n{out}")
        print(out.splitlines()[0])
        print(f"autograde: {args.students} submissions of {a.name} graded in {wall:.0f} s wall "
              f"({wall / args.students:.1f} s per submission) with -j {args.jobs} on {os.cpu_count()} cores; "
              f"{cpu / args.students:.1f} CPU-seconds per submission; load average before/after "
              f"{load[0]:.1f}/{os.getloadavg()[0]:.1f}; every score as expected")
        if args.regrade:
            _, wall = cli(course, "regrade", a.name, "-j", str(args.jobs))
            print(f"regrade (release, autograde, feedback): {wall:.0f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
