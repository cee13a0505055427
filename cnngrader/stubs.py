"""Student versions of cnnlib: every solution region replaced by a stub.

A solution region is the block between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in the
reference package. The stub keeps the signature, the docstring and the argument checks, and
raises NotImplementedError naming the function, so an untouched package imports cleanly and
scores zero.
"""
from __future__ import annotations

import re
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_DEF = re.compile(r"^\s*def (\w+)\(")
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cnnlib"


def stub_source(text: str, keep: frozenset[str] = frozenset(), module: str = "cnnlib") -> str:
    """Replace each solution region by a stub, except in the functions named in ``keep``.

    ``keep`` serves tests that build a submission with some functions right. Markers in kept
    functions are dropped too, so the output never contains them.
    """
    out: list[str] = []
    function, inside, keeping = "", False, False
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        stripped = line.strip()
        if m := _DEF.match(line):
            function = m.group(1)
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"{module}:{lineno}: nested {BEGIN}")
            inside, keeping = True, function in keep
            if not keeping:
                indent = line[: len(line) - len(line.lstrip())]
                out.append(f"{indent}# YOUR CODE HERE\n")
                out.append(f'{indent}raise NotImplementedError("{function} is not written yet: see its docstring in {module}")\n')
            continue
        if stripped == END:
            if not inside:
                raise ValueError(f"{module}:{lineno}: {END} without {BEGIN}")
            inside = False
            continue
        if not inside or keeping:
            out.append(line)
    if inside:
        raise ValueError(f"{module}: {BEGIN} never closed")
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
    names: set[str] = set()
    for src in package_files():
        function = ""
        for line in src.read_text().splitlines():
            if m := _DEF.match(line):
                function = m.group(1)
            elif line.strip() == BEGIN:
                names.add(function)
    return frozenset(names)


def solution_lines() -> set[str]:
    """Every line of every solution region (stripped, non-trivial): text that must never reach students."""
    inside_lines: set[str] = set()
    public: set[str] = set()  # lines that also stand outside the regions are shipped anyway
    for src in package_files():
        inside = False
        for line in src.read_text().splitlines():
            s = line.strip()
            if s in (BEGIN, END):
                inside = s == BEGIN
            elif inside:
                inside_lines.add(s)
            else:
                public.add(s)
    return {s for s in inside_lines - public if len(s) >= 16 and not s.startswith("#")}
