"""Student versions of cnnlib: every solution region replaced by a stub.

A solution region is the block between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in the
reference package. The stub keeps the signature, the docstring and the argument checks, and
raises NotImplementedError naming the function, so an untouched package imports cleanly and
scores zero.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_DEF = re.compile(r"^\s*def (\w+)\(")
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cnnlib"


def scan(text: str, module: str = "cnnlib") -> Iterator[tuple[str, str, str]]:
    """Yield (kind, function, line) for each line: kind is "code", "begin", "solution" or "end";
    function is the enclosing def. Raises ValueError on unbalanced markers."""
    function, inside = "", False
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        if m := _DEF.match(line):
            function = m.group(1)
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"{module}:{lineno}: nested {BEGIN}")
            inside, kind = True, "begin"
        elif stripped == END:
            if not inside:
                raise ValueError(f"{module}:{lineno}: {END} without {BEGIN}")
            inside, kind = False, "end"
        else:
            kind = "solution" if inside else "code"
        yield kind, function, line
    if inside:
        raise ValueError(f"{module}: {BEGIN} never closed")


def stub_source(text: str, keep: frozenset[str] = frozenset(), module: str = "cnnlib") -> str:
    """Replace each solution region by a stub, except in the functions named in ``keep``.

    ``keep`` serves tests that build a submission with some functions right. Markers in kept
    functions are dropped too, so the output never contains them.
    """
    out: list[str] = []
    for kind, function, line in scan(text, module):
        if kind == "begin" and function not in keep:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE\n")
            out.append(f'{indent}raise NotImplementedError("{function} is not written yet: see its docstring in {module}")\n')
        elif kind == "code" or (kind == "solution" and function in keep):
            out.append(line)
    return "".join(out)


def package_files() -> list[Path]:
    """The reference package's modules, in a stable order."""
    return sorted(PACKAGE.glob("*.py"))


def write_student_package(dest: Path, keep: frozenset[str] = frozenset()) -> list[Path]:
    """Write the stubbed package to ``dest`` (a folder named cnnlib); return the files written."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for src in package_files():
        target = dest / src.name
        target.write_text(stub_source(src.read_text(), keep, f"cnnlib/{src.name}"))
        written.append(target)
    return written


def solution_functions() -> frozenset[str]:
    """Names of the functions that hold a solution region (what a complete submission writes)."""
    return frozenset(f for src in package_files() for kind, f, _ in scan(src.read_text()) if kind == "begin")


def solution_lines() -> set[str]:
    """Every line of every solution region (stripped, non-trivial): text that must never reach students."""
    lines = {kind: set() for kind in ("code", "solution", "begin", "end")}
    for src in package_files():
        for kind, _, line in scan(src.read_text()):
            lines[kind].add(line.strip())
    public = lines["code"]  # lines that also stand outside the regions are shipped anyway
    return {s for s in lines["solution"] - public if len(s) >= 16 and not s.startswith("#")}
