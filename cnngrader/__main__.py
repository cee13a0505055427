"""Instructor commands of the CNN course (run from the course folder, the repository root).

    python -m cnngrader release [A ...]          regenerate solutions/<A>/ sources and exercises/<A>/
    python -m cnngrader student-dist [DEST]      build the student distribution (default dist/student)
    python -m cnngrader collect A ZIPS_DIR       collect an LMS download: one zip per student
    python -m cnngrader autograde A [-j N]       autograde every submitted student (N in parallel)
    python -m cnngrader feedback A               write feedback HTML for every graded student
    python -m cnngrader export [CSV]             export all grades to CSV (default grades.csv)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
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


def autograde(course: Path, name: str, jobs: int) -> None:
    """Autograde each student in its own nbgrader process, at most ``jobs`` at once.

    One process per student keeps one broken submission from stopping the others, and never
    grades the same student twice at once (the gradebook tolerates that, see FIELD_NOTES).
    """
    todo = students(course, name)
    if not todo:
        raise SystemExit(f"no submissions for {name} in {course / 'submitted'}")

    def grade(student: str) -> tuple[str, int, str]:
        proc = nbgrader(course, "autograde", name, "--force", f"--student={student}", check=False)
        return student, proc.returncode, proc.stderr

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for student, rc, log in pool.map(grade, todo):
            status = "graded" if rc == 0 else f"FAILED (exit {rc}); last lines:\n  " + "\n  ".join(log.strip().splitlines()[-5:])
            print(f"{student}: {status}")


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
        autograde(course, args.assignment, args.jobs)
    elif args.command == "feedback":
        nbgrader(course, "generate_feedback", args.assignment, "--force")
        print(f"feedback written to {course / 'feedback'}")
    elif args.command == "export":
        csv = args.csv if args.csv.is_absolute() else course / args.csv
        nbgrader(course, "export", f"--to={csv}")
        print(f"grades written to {csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
