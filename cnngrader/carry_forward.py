"""Bring your finished cnnlib modules from earlier assignments into a later one.

    python carry_forward.py 07_optimizers            # into exercises/07_optimizers/cnnlib/
    python carry_forward.py 08_training --dry-run    # only say what would be copied
    python carry_forward.py .                        # into ./cnnlib/ (to run the book's chapters)

Every assignment ships the whole package with the functions you have not written yet raising
NotImplementedError. For each module (``cnnlib/conv.py``, ...) of the target, this looks at the
same module in every earlier assignment folder and copies the one in which you have written the
most functions, if that is more than the target's copy has: your own code, never the course's.
A target module in which you already wrote as many functions is left alone. The replaced file is
kept next to it as ``<name>.py.before-carry``. A module whose newer version defines functions that
your older file lacks is not copied (you would lose them): the command says which functions to
copy by hand.

It runs in the student workspace (the folder with ``exercises/``) with Python's standard library
only. Run it once before starting an assignment, and again after finishing an earlier one.
"""
from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

STUB = re.compile(r'raise NotImplementedError\("(\w+) is not written yet')
BACKUP_SUFFIX = ".before-carry"


@dataclass
class Module:
    path: Path
    unwritten: frozenset[str]  # functions that still raise the release's NotImplementedError
    defined: frozenset[str]  # top-level functions and classes

    @property
    def written(self) -> int:
        return -len(self.unwritten)


def read_module(path: Path) -> Module | None:
    """The module's stubs and definitions, or None if it is not valid Python."""
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    defined = frozenset(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))
    return Module(path, frozenset(STUB.findall(text)), defined)


def assignment_folders(exercises: Path) -> list[Path]:
    """Assignment folders (each with a cnnlib/ package), in course order (their names start with a number)."""
    return sorted(p for p in exercises.iterdir() if (p / "cnnlib").is_dir())


def plan(target: Path, sources: list[Path]) -> list[tuple[str, Path | None, str]]:
    """For each module of target/cnnlib: (file name, source file to copy or None, reason)."""
    steps = []
    for dest in sorted((target / "cnnlib").glob("*.py")):
        mine = read_module(dest)
        if mine is None:
            steps.append((dest.name, None, "left alone: the target file is not valid Python; fix it first"))
            continue
        if not mine.unwritten:
            steps.append((dest.name, None, "complete already"))
            continue
        best: Module | None = None
        skipped: list[str] = []
        for folder in sources:
            src = folder / "cnnlib" / dest.name
            if not src.is_file():
                continue
            theirs = read_module(src)
            if theirs is None:
                skipped.append(f"{folder.name} (not valid Python)")
                continue
            if best is None or len(theirs.unwritten) <= len(best.unwritten):  # later folders win ties
                best = theirs
        if best is None or len(best.unwritten) >= len(mine.unwritten):
            note = f"; skipped {', '.join(skipped)}" if skipped else ""
            steps.append((dest.name, None, f"nothing newer written earlier ({len(mine.unwritten)} to write){note}"))
            continue
        lost = sorted(mine.defined - best.defined)
        if lost:
            done = sorted(mine.unwritten - best.unwritten)
            steps.append((dest.name, None,
                          f"NOT copied: this assignment's version adds {', '.join(lost)}, which "
                          f"{best.path.parent.parent.name}'s file lacks; copy your {', '.join(done)} by hand"))
            continue
        gained = sorted(mine.unwritten - best.unwritten)
        steps.append((dest.name, best.path, f"from {best.path.parent.parent.name}: {', '.join(gained)}"))
    return steps


def carry(target: Path, sources: list[Path], dry_run: bool = False) -> list[tuple[str, Path | None, str]]:
    """Copy the modules chosen by ``plan`` into target/cnnlib (keeping backups); return the plan."""
    steps = plan(target, sources)
    if not dry_run:
        for name, src, _ in steps:
            if src is not None:
                dest = target / "cnnlib" / name
                shutil.copy2(dest, dest.with_name(name + BACKUP_SUFFIX))
                shutil.copy2(src, dest)
    return steps


def resolve(workspace: Path, target: str) -> tuple[Path, list[Path]]:
    """The target folder and the earlier assignment folders to take modules from."""
    exercises = workspace / "exercises"
    folders = assignment_folders(exercises) if exercises.is_dir() else []
    by_name = {p.name: p for p in folders}
    if target in by_name:
        folder = by_name[target]
        return folder, [p for p in folders if p.name < folder.name]
    folder = Path(target).resolve()
    if not (folder / "cnnlib").is_dir():
        names = ", ".join(by_name) or f"none found in {exercises}"
        raise SystemExit(f"{target!r} is neither an assignment ({names}) nor a folder with a cnnlib/ package")
    earlier = [p for p in folders if p.resolve() != folder and (folder.parent != exercises.resolve() or p.name < folder.name)]
    return folder, earlier


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="Run it from your workspace (the folder that holds exercises/).")
    parser.add_argument("target", help="an assignment name (07_optimizers) or a folder holding cnnlib/")
    parser.add_argument("--workspace", type=Path, default=Path.cwd(), help="folder holding exercises/ (default: here)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be copied, copy nothing")
    args = parser.parse_args(argv)
    target, sources = resolve(args.workspace.resolve(), args.target)
    steps = carry(target, sources, args.dry_run)
    verb = "would copy" if args.dry_run else "copied"
    print(f"{target / 'cnnlib'}  (looking in: {', '.join(p.name for p in sources) or 'no earlier assignment'})")
    for name, src, reason in steps:
        print(f"  {name:<18} {verb if src else 'kept':<11} {reason}")
    copied = sum(src is not None for _, src, _ in steps)
    print(f"{copied} module(s) {verb}." + ("" if args.dry_run or not copied else
                                          f" The old files are kept as *.py{BACKUP_SUFFIX}."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
