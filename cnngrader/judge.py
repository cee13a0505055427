"""Hidden tests: grade one cnnlib function of a submission, outside the student's kernel.

    python -I -m cnngrader.judge CHECK [CHECK ...] [--submission DIR] [--seed S] [--timeout T]

The grader (cnngrader.autograding.GradingExecute) runs this in a fresh, isolated interpreter,
outside the student's kernel, on a snapshot of the submission's cnnlib/, so nothing the
student's code did in the notebook's kernel (monkeypatching numpy, torch, subprocess or the
checks) reaches it. Inputs are drawn at random now, from fresh entropy. The student's function runs in a second
process (``RUNNER``) that imports a copy of the student's package (never the instructor's), may not
import torch, SciPy or other libraries that would do the work, runs in a sandbox
(cnngrader.sandbox: memory and CPU limits; reads only Python, NumPy and the copy), and returns its outputs through .npz/.json files (never pickle). The references come from PyTorch
in this process. Exit status 0: every case passed; 1: a case failed (the reason is printed).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from cnngrader import sandbox
from cnnlib import checks

RUNNER_TIMEOUT_S = 60
MEMORY_LIMIT_BYTES = 4 << 30

RUNNER = r"""
import importlib.abc, importlib.util, json, os, sys, traceback
submission, function, work, setup = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
BLOCKED = {"torch", "scipy", "tensorflow", "jax", "keras", "cv2", "skimage", "numba", "cnngrader"}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ImportError(f"graded cnnlib code may use NumPy only, but it imports {name}")
        return None

# NumPy (and the submodules it loads lazily) first, from the instructor's environment; then the
# sandbox closes everything but the Python installation, NumPy and the copy of the submission.
sys.path[:] = setup["stdlib"] + [setup["numpy_parent"]]
import numpy as np
import numpy.fft, numpy.linalg, numpy.random, numpy.lib.stride_tricks, numpy.ma, numpy.polynomial
import math, itertools, functools, collections, dataclasses, typing, warnings, numbers, operator
sys.path[:] = setup["stdlib"]
_spec = importlib.util.spec_from_file_location("_sandbox", setup["sandbox"])
_sandbox = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sandbox)
_abi = _sandbox.landlock(setup["read"], [work])
if not _abi:
    _sandbox.drop_root()
del _sandbox, _spec
sys.meta_path.insert(0, Block())
sys.path.insert(0, submission)
report = {"error": None, "results": []}

def finish():
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(report, f)
    sys.exit(0)

try:
    import cnnlib
except BaseException as e:
    report["error"] = "importing your cnnlib failed: " + "".join(traceback.format_exception_only(e)).strip()
    finish()
mine = os.path.realpath(os.path.join(submission, "cnnlib"))
origin = os.path.realpath(getattr(cnnlib, "__file__", None) or "?")
if not origin.startswith(mine + os.sep):
    report["error"] = ("the submission has no cnnlib package of its own (cnnlib/__init__.py next to "
                       "the notebook); submit the whole assignment folder")
    finish()
fn = getattr(cnnlib, function, None)
if not callable(fn):
    report["error"] = f"cnnlib has no function {function}: keep its name and its import in cnnlib/__init__.py"
    finish()
def encode(value, key):
    # A JSON description of a returned value; arrays go to outputs.npz (never pickled).
    if isinstance(value, np.ndarray):
        outputs[key] = value
        return {"array": key}
    if isinstance(value, (bool, np.bool_)):
        return {"other": "bool"}
    if isinstance(value, (int, np.integer)):
        return {"int": int(value)}
    if isinstance(value, (float, np.floating)):
        return {"float": float(value), "dtype": str(np.asarray(value).dtype)}
    if isinstance(value, tuple) and len(value) <= 8:
        return {"tuple": [encode(v, f"{key}_{j}") for j, v in enumerate(value)]}
    return {"other": type(value).__name__}

spec = json.load(open(os.path.join(work, "cases.json")))
arrays = np.load(os.path.join(work, "inputs.npz"), allow_pickle=False)
outputs = {}
for i, case in enumerate(spec):
    kwargs = {k: (arrays[v["array"]].copy() if "array" in v else v["value"]) for k, v in case.items()}
    try:
        got = fn(**kwargs)
    except BaseException as e:
        report["results"].append({"raised": "".join(traceback.format_exception_only(e)).strip()})
        continue
    report["results"].append(encode(got, f"out{i}"))
np.savez(os.path.join(work, "outputs.npz"), **outputs)
finish()
"""


def _limit() -> None:
    sandbox.limit(MEMORY_LIMIT_BYTES, cpu_seconds=RUNNER_TIMEOUT_S + 5)


def _runner_setup() -> dict[str, Any]:
    """What the runner may read: the Python installation and NumPy, nothing of the course."""
    import sysconfig

    stdlib = [p for p in (sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")) if p]
    stdlib += [p for p in sys.path if p.startswith(tuple(stdlib)) and p not in stdlib]
    numpy_dir = Path(np.__file__).resolve().parent
    libs = [str(p) for p in numpy_dir.parent.glob("numpy.libs")]
    system = [p for p in ("/usr", "/lib", "/lib64", "/lib32", "/dev/null", "/dev/urandom") if Path(p).exists()]
    base = [sys.base_prefix, sys.base_exec_prefix]
    return {"stdlib": stdlib, "numpy_parent": str(numpy_dir.parent), "sandbox": sandbox.__file__,
            "read": sorted(set(stdlib + base + system + libs + [str(numpy_dir)]))}


def snapshot(submission: Path, dest: Path) -> str | None:
    """Copy the submission's cnnlib/ (regular files only) to ``dest``; an error message, or None.

    The judge grades the copy, so nothing that runs later (the notebook's kernel, another
    process) can change the graded code, and a symbolic link cannot smuggle in a file from
    elsewhere on the grader's disk (the reference, say).
    """
    package = submission / "cnnlib"
    if package.is_symlink() or not (package / "__init__.py").is_file():
        return ("the submission has no cnnlib package of its own (cnnlib/__init__.py next to the notebook); "
                "submit the whole assignment folder")
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        target = dest / "cnnlib" / path.relative_to(package)
        if path.is_symlink():
            return (f"cnnlib/{path.relative_to(package)} is a symbolic link: submit your own files, "
                    "not links to files elsewhere")
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.is_file() and path.suffix == ".py":
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    (dest / "cnnlib").mkdir(parents=True, exist_ok=True)
    return None


def _give_to_nobody(folder: Path) -> None:
    """When the grader runs as root, the runner may fall back to user nobody: let it write there."""
    ids = sandbox.nobody()
    if ids is None:
        return
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, *ids)


def _write_cases(work: Path, cases: list[dict[str, Any]]) -> None:
    arrays, spec = {}, []
    for i, case in enumerate(cases):
        entry = {}
        for k, v in case.items():
            if isinstance(v, np.ndarray):
                arrays[f"c{i}_{k}"] = v
                entry[k] = {"array": f"c{i}_{k}"}
            else:
                entry[k] = {"value": v}
        spec.append(entry)
    np.savez(work / "inputs.npz", **arrays)
    (work / "cases.json").write_text(json.dumps(spec))


def run_student(submission: Path, function: str, cases: list[dict[str, Any]]) -> tuple[str | None, list[Any]]:
    """Run the student's ``function`` on ``cases`` in a sandboxed process; return (error, outputs)."""
    with tempfile.TemporaryDirectory(prefix="cnngrader-") as tmp:
        work = Path(tmp)
        problem = snapshot(submission, work / "submission")
        if problem:
            return problem, []
        _write_cases(work, cases)
        _give_to_nobody(work)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "HOME": str(work)}
        try:
            proc = subprocess.run(
                [sys.executable, "-I", "-S", "-c", RUNNER, str(work / "submission"), function, str(work),
                 json.dumps(_runner_setup())],
                cwd=work, env=env, capture_output=True, text=True, timeout=RUNNER_TIMEOUT_S,
                preexec_fn=_limit,
            )
        except subprocess.TimeoutExpired:
            return (f"{function} did not finish within {RUNNER_TIMEOUT_S} s on small inputs: look for an "
                    "infinite loop, or a Python loop over far more elements than needed"), []
        results_file = work / "results.json"
        if not results_file.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return (f"running {function} crashed (exit status {proc.returncode}); "
                    f"last output: {' | '.join(tail) or 'none'} (too much memory? os._exit? a signal?)"), []
        try:
            report = json.loads(results_file.read_text())
            if report["error"]:
                return str(report["error"]), []
            stored = np.load(work / "outputs.npz", allow_pickle=False)
            return None, [_decode(r, stored) for r in report["results"]]
        except (ValueError, KeyError, TypeError, OSError) as e:
            return f"the results of {function} could not be read back ({type(e).__name__}: {e})", []


def _decode(r: dict[str, Any], stored: Any) -> Any:
    if "array" in r:
        return stored[r["array"]]
    if "int" in r:
        return int(r["int"])
    if "float" in r:
        return np.dtype(r["dtype"]).type(r["float"])
    if "tuple" in r:
        return tuple(_decode(v, stored) for v in r["tuple"])
    return _Raised(r["raised"]) if "raised" in r else _Other(r["other"])


class _Raised:
    def __init__(self, message: str) -> None:
        self.message = message


class _Other:
    def __init__(self, type_name: str) -> None:
        self.type_name = type_name


def judge(check: str, submission: Path, seed: int | None = None, n: int = 20) -> tuple[bool, str]:
    """Grade ``check`` on fresh random cases; return (passed, report)."""
    spec = checks.SPECS[check]
    seed = secrets.randbits(63) if seed is None else seed
    cases = checks.cases(check, np.random.default_rng(seed), n)
    error, outputs = run_student(submission, spec.function, cases)
    if error:
        return False, f"Hidden tests for {spec.function}: not graded: {error}."
    failures = []
    for case, got in zip(cases, outputs):
        if isinstance(got, _Raised):
            problem = f"{spec.function}({checks.case_repr(case)}) raised {got.message}"
        elif isinstance(got, _Other):
            kind = {"int": "an int", "scalar": "a float", "arrays": f"a tuple ({', '.join(spec.names)})"}
            problem = (f"{spec.function}({checks.case_repr(case)}) must return "
                       f"{kind.get(spec.output, 'a NumPy array')}, got {got.type_name}.")
        else:
            problem = checks.explain(check, case, got)
        if problem:
            failures.append(problem)
    passed = len(cases) - len(failures)
    head = f"Hidden tests for {spec.function}: {passed} of {len(cases)} random cases passed (seed {seed})."
    if not failures:
        return True, head
    return False, f"{head}\nFirst failure: {failures[0]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("check", nargs="+", choices=sorted(checks.SPECS), help="one or more checks")
    parser.add_argument("--submission", type=Path, default=Path.cwd())
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=int, default=None, help="seconds the student's function may run")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write {check: [passed, report]} here (the grader judges a notebook at once)")
    args = parser.parse_args(argv)
    if args.timeout:
        global RUNNER_TIMEOUT_S
        RUNNER_TIMEOUT_S = args.timeout
    verdicts = {}
    for check in args.check:
        verdicts[check] = judge(check, args.submission.resolve(), args.seed)
        print(verdicts[check][1], flush=True)
        if args.json:
            args.json.write_text(json.dumps(verdicts))
    return 0 if all(ok for ok, _ in verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
