"""Instructor commands of the CNN course (run from the course folder, the repository root).

    python -m cnngrader release [A ...]          regenerate solutions/<A>/ sources and exercises/<A>/
    python -m cnngrader student-dist [DEST]      build the student distribution (default dist/student)
    python -m cnngrader collect A ZIPS_DIR       collect an LMS download: one zip per student
    python -m cnngrader autograde A [-j N] [--student S ...]
                                                 autograde every submitted student (N in parallel),
                                                 print a summary table (score, problems named)
    python -m cnngrader regrade [A ...] [-j N]   after fixing an assignment: release, autograde
                                                 the whole class and write feedback again
    python -m cnngrader feedback A               write feedback HTML for every graded student
    python -m cnngrader export [CSV]             export all grades to CSV (default grades.csv)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from .assignments import ASSIGNMENTS


def nbgrader(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course folder, with this interpreter's bin/ on PATH (alembic)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def release(course: Path, names: list[str]) -> None:
    from .sources import write_sources

    write_sources(course, names)
    for name in names:
        nbgrader(course, "generate_assignment", name, "--force")
        print(f"released {name}: {course / 'exercises' / name}")


def collect(course: Path, name: str, zips: Path) -> None:
    archive = course / "downloaded" / name / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    found = sorted(zips.glob("*.zip"))
    if not found:
        raise SystemExit(f"no .zip files in {zips}")
    for z in found:
        shutil.copy2(z, archive / z.name)
    proc = nbgrader(course, "zip_collect", name, "--force")
    print(proc.stderr[-3000:])
    print(f"collected {len(found)} zip files into {course / 'submitted'}")


def students(course: Path, name: str) -> list[str]:
    return sorted(p.parent.name for p in (course / "submitted").glob(f"*/{name}") if p.is_dir())


def precheck(course: Path, name: str, student: str) -> str | None:
    """Why a submission cannot be graded at all (named for the instructor), or None."""
    import nbformat

    folder = course / "submitted" / student / name
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():  # copying would follow it: a link to the reference must not be graded
            return f"{path.relative_to(folder)} is a symbolic link; submissions must hold their own files"
    for source in sorted((course / "solutions" / name).glob("*.ipynb")):
        path = folder / source.name
        if not path.is_file():
            return f"{source.name} is missing from the submission (renamed or not submitted?)"
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as e:  # noqa: BLE001 (nbformat raises JSON, validation and unicode errors)
            reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            return f"{source.name} is not a readable notebook ({type(e).__name__}: {reason})"
        if not isinstance(nb.get("cells"), list):
            return f"{source.name} has no list of cells"
    return None


def _problems(log: str, student: str) -> list[str]:
    """The problems that cnngrader's preprocessors logged for ``student`` (in nbgrader's log)."""
    tag = f"cnngrader: {student}: "
    found = [line.split(tag, 1)[1].strip() for line in log.splitlines() if tag in line]
    return list(dict.fromkeys(found))


def autograde(course: Path, name: str, jobs: int, only: list[str] | None = None) -> list[dict]:
    """Autograde each student in its own nbgrader process, at most ``jobs`` at once; print a summary.

    One process per student keeps one broken submission from stopping the others, and never
    grades the same student twice at once. SQLite serialises the writes of parallel processes;
    a student whose run hit a locked database is graded again. A notebook that is not valid
    JSON (or missing) is rejected with a message that names the student and the file.
    Returns one row per student: student, score, max_score, status, problems.
    """
    import time

    from nbgrader.api import Gradebook, MissingEntry

    from . import sandbox

    todo = only or students(course, name)
    if not todo:
        raise SystemExit(f"no submissions for {name} in {course / 'submitted'}")
    print(sandbox.describe())
    started = time.monotonic()

    def grade(student: str) -> dict:
        problem = precheck(course, name, student)
        if problem:
            return {"student": student, "status": "REJECTED", "problems": [problem]}
        for attempt in range(3):
            proc = nbgrader(course, "autograde", name, "--force", f"--student={student}", check=False)
            if proc.returncode == 0 or "database is locked" not in proc.stderr:
                break
            time.sleep(1 + attempt)
        row = {"student": student, "status": "graded" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})",
               "problems": _problems(proc.stderr, student)}
        if proc.returncode != 0:
            tail = [line.strip() for line in proc.stderr.strip().splitlines() if line.strip()][-3:]
            row["problems"].append("nbgrader: " + " | ".join(tail))
        return row

    rows = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for row in as_completed([pool.submit(grade, student) for student in todo]):
            rows.append(row.result())
            print(f"[{len(rows)}/{len(todo)}] {rows[-1]['student']} {rows[-1]['status']}", flush=True)
    rows.sort(key=lambda r: r["student"])
    elapsed = time.monotonic() - started
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        max_score = gb.find_assignment(name).max_score
        for row in rows:
            try:
                row["score"] = gb.find_submission(name, row["student"]).score if row["status"] == "graded" else 0.0
            except MissingEntry:
                row["score"] = 0.0
            row["max_score"] = max_score
    print_summary(name, rows)
    print(f"graded {len(rows)} submissions of {name} in {elapsed:.1f} s wall with {jobs} parallel job(s)")
    write_summary(course / f"grading_summary_{name}.csv", rows)
    return rows


def print_summary(name: str, rows: list[dict]) -> None:
    width = max([len("student")] + [len(r["student"]) for r in rows])
    print(f"\n{name}: {'student'.ljust(width)}  score      status    problems")
    for r in rows:
        problems = "; ".join(r["problems"]) or "-"
        print(f"{' ' * len(name)}  {r['student'].ljust(width)}  {r['score']:>4g}/{r['max_score']:<4g}  "
              f"{r['status'].split(' (')[0]:<8}  {problems}")


def write_summary(path: Path, rows: list[dict]) -> None:
    import csv

    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["student", "score", "max_score", "status", "problems"])
        for r in rows:
            out.writerow([r["student"], r["score"], r["max_score"], r["status"], "; ".join(r["problems"])])
    print(f"summary written to {path}")


def feedback(course: Path, name: str) -> None:
    nbgrader(course, "generate_feedback", name, "--force")
    print(f"feedback written to {course / 'feedback'}")


def regrade(course: Path, names: list[str], jobs: int) -> None:
    """After fixing an assignment: release it again, autograde every student, write feedback."""
    for name in names:
        release(course, [name])
        if students(course, name):
            autograde(course, name, jobs)
            feedback(course, name)


def student_dist(dest: Path) -> None:
    from .distribution import build

    build(dest)
    print(f"student distribution written to {dest}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnngrader", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="course folder (default: here)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release"); p.add_argument("assignments", nargs="*", choices=[[], *ASSIGNMENTS])
    p = sub.add_parser("student-dist"); p.add_argument("dest", nargs="?", type=Path, default=Path("dist/student"))
    p = sub.add_parser("collect"); p.add_argument("assignment", choices=list(ASSIGNMENTS)); p.add_argument("zips", type=Path)
    p = sub.add_parser("autograde"); p.add_argument("assignment", choices=list(ASSIGNMENTS))
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.add_argument("--student", action="append", default=None, help="grade only this student (repeatable)")
    p = sub.add_parser("regrade"); p.add_argument("assignments", nargs="*", choices=[[], *ASSIGNMENTS])
    p.add_argument("-j", "--jobs", type=int, default=2)
    p = sub.add_parser("feedback"); p.add_argument("assignment", choices=list(ASSIGNMENTS))
    p = sub.add_parser("export"); p.add_argument("csv", nargs="?", type=Path, default=Path("grades.csv"))
    args = parser.parse_args(argv)
    course = args.course.resolve()
    if args.command == "release":
        release(course, args.assignments or list(ASSIGNMENTS))
    elif args.command == "student-dist":
        student_dist(args.dest if args.dest.is_absolute() else course / args.dest)
    elif args.command == "collect":
        collect(course, args.assignment, args.zips.resolve())
    elif args.command == "autograde":
        autograde(course, args.assignment, args.jobs, args.student)
    elif args.command == "regrade":
        regrade(course, args.assignments or list(ASSIGNMENTS), args.jobs)
    elif args.command == "feedback":
        feedback(course, args.assignment)
    elif args.command == "export":
        csv = args.csv if args.csv.is_absolute() else course / args.csv
        nbgrader(course, "export", f"--to={csv}")
        print(f"grades written to {csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
