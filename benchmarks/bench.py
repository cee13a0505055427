"""How fast is cnnlib's NumPy convolution next to PyTorch's on the CPU?

    python benchmarks/bench_conv.py              # the full table (about a minute)
    python benchmarks/bench_conv.py --quick      # small shapes, few repeats: a smoke test
    python benchmarks/bench_conv.py --threads 2  # BLAS and torch limited to 2 threads

Prints, for conv2d forward and backward (dx, dw, db together), in float32 and float64, the
median time of cnnlib and of torch and their ratio cnnlib / torch, with PASS or MISS against
the course's targets: float32 forward <= 4x, float32 backward <= 3x, float64 <= 1x.

How it measures (see benchmarks/README.md):
- torch runs on the CPU with as many threads as NumPy's BLAS (torch.set_num_threads), so
  that neither side gets more cores than the other; --threads N sets both before NumPy loads.
- Forward is torch.nn.functional.conv2d; backward is torch.ops.aten.convolution_backward with
  output_mask (True, True, True), the kernel that autograd's ConvolutionBackward0 calls, without
  building a graph (so torch's time is not inflated by autograd bookkeeping).
- Both sides get the same arrays (torch.from_numpy shares memory). Results are compared
  first, so a wrong implementation cannot post a time.
- Interleaved: each round times a block of torch calls and a block of cnnlib calls, in
  alternating order; the ratio is of the medians over all rounds, so that a slow spell of the
  machine hits both sides. Each block starts with one untimed call and follows a pause (0.3 s):
  OpenBLAS's idle worker threads keep spinning for a while after a NumPy product, and measured
  here they slowed the torch calls that followed by up to 2x; after 0.3 s they sleep.
It is a benchmark, not a test: it exits 0 whatever the ratios, unless --strict is given.
"""
from __future__ import annotations

import argparse
import os
import sys


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small shapes, few repeats (a smoke test, seconds)")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for NumPy's BLAS and for torch (default: BLAS's own default)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds per measurement")
    ap.add_argument("--calls", type=int, default=None, help="timed calls per block")
    ap.add_argument("--pause", type=float, default=0.3, help="seconds between blocks (default 0.3)")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    return ap.parse_args(argv)


ARGS = _parse(None if __name__ == "__main__" else [])
if ARGS.threads is not None:  # before NumPy (and its BLAS) load
    if ARGS.threads < 1:
        sys.exit("--threads must be >= 1")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import ctypes  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, installed or not
from cnnlib import conv2d, conv2d_backward  # noqa: E402

TARGETS = {("forward", "float32"): 4.0, ("backward", "float32"): 3.0,
           ("forward", "float64"): 1.0, ("backward", "float64"): 1.0}


# ---------------------------------------------------------------- the machine

def _openblas() -> ctypes.CDLL | None:
    """NumPy's OpenBLAS, found among the libraries this process has loaded (Linux)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for line in maps.splitlines():
        path = line.split()[-1]
        if "openblas" in path.lower() and ".so" in path:
            try:
                return ctypes.CDLL(path)
            except OSError:
                return None
    return None


def _blas_call(prefixes: tuple[str, ...], restype=ctypes.c_int):
    lib = _openblas()
    if lib is None:
        return None
    for name in prefixes:
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            return fn()
    return None


def blas_threads() -> int | None:
    """How many threads NumPy's BLAS uses, or None if it cannot be asked."""
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return int(pool["num_threads"])
    except Exception:
        pass
    return _blas_call(("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                       "openblas_get_num_threads64_", "openblas_get_num_threads"))


def blas_name() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:
        name = "unknown BLAS"
    core = _blas_call(("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"),
                      ctypes.c_char_p)
    return f"{name} (core: {core.decode()})" if core else name


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ---------------------------------------------------------------- the measurements

@dataclass(frozen=True)
class Case:
    name: str
    n: int
    c: int
    h: int
    w: int
    f: int
    k: int
    stride: int
    padding: int


FULL = [
    Case("3x3 s1 p1", 32, 16, 32, 32, 32, 3, 1, 1),
    Case("3x3 s2 p1", 32, 16, 32, 32, 32, 3, 2, 1),
    Case("5x5 s2 p2", 32, 16, 32, 32, 32, 5, 2, 2),
]
QUICK = [
    Case("3x3 s1 p1 (quick)", 4, 3, 12, 10, 5, 3, 1, 1),
    Case("5x5 s2 p2 (quick)", 2, 2, 9, 11, 3, 5, 2, 2),
]


def _block(fn, calls: int) -> list[float]:
    """Seconds per call of ``calls`` calls, after one untimed call (it pays for waking threads up)."""
    fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def side_by_side(ours, theirs, rounds: int, calls: int, pause: float) -> tuple[float, float]:
    """Median seconds per call of ours and theirs, timed in interleaved blocks."""
    for fn in (ours, theirs, ours, theirs):  # warm up: caches, allocator, thread pools
        fn()
    t_ours: list[float] = []
    t_theirs: list[float] = []
    for r in range(rounds):
        order = [(ours, t_ours), (theirs, t_theirs)]
        if r % 2:
            order.reverse()
        for fn, sink in order:
            if pause:
                time.sleep(pause)
            sink.extend(_block(fn, calls))
    return statistics.median(t_ours), statistics.median(t_theirs)


def problems(case: Case, dtype: np.dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case.n, case.c, case.h, case.w)).astype(dtype)
    w = rng.standard_normal((case.f, case.c, case.k, case.k)).astype(dtype)
    b = rng.standard_normal(case.f).astype(dtype)
    out = conv2d(x, w, b, case.stride, case.padding)
    dout = rng.standard_normal(out.shape).astype(dtype)
    return x, w, b, dout


def run(cases: list[Case], rounds: int, calls: int, pause: float) -> list[dict]:
    rows = []
    for dtype in (np.float32, np.float64):
        for case in cases:
            x, w, b, dout = problems(case, dtype)
            xt, wt, bt, dt = (torch.from_numpy(a) for a in (x, w, b, dout))
            s, p = [case.stride] * 2, [case.padding] * 2

            def ours_fwd():
                return conv2d(x, w, b, case.stride, case.padding)

            def torch_fwd():
                return torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p)

            def ours_bwd():
                return conv2d_backward(dout, x, w, case.stride, case.padding)

            def torch_bwd():
                return torch.ops.aten.convolution_backward(
                    dt, xt, wt, [case.f], s, p, [1, 1], False, [0, 0], 1, [True, True, True])

            tol = dict(rtol=1e-3, atol=1e-3) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)
            scale = lambda a: max(1.0, float(np.abs(a).max()))  # noqa: E731
            want = torch_fwd().numpy()
            if not np.allclose(ours_fwd(), want, rtol=tol["rtol"], atol=tol["atol"] * scale(want)):
                raise SystemExit(f"cnnlib.conv2d disagrees with torch on {case.name} {np.dtype(dtype)}")
            for got, ref in zip(ours_bwd(), torch_bwd()):
                ref = ref.numpy()
                if not np.allclose(got, ref, rtol=tol["rtol"], atol=tol["atol"] * scale(ref)):
                    raise SystemExit(f"cnnlib.conv2d_backward disagrees with torch on {case.name} {np.dtype(dtype)}")

            for op, ours, theirs in (("forward", ours_fwd, torch_fwd), ("backward", ours_bwd, torch_bwd)):
                t_ours, t_torch = side_by_side(ours, theirs, rounds, calls, pause)
                ratio = t_ours / t_torch
                target = TARGETS[(op, np.dtype(dtype).name)]
                rows.append(dict(case=case.name, dtype=np.dtype(dtype).name, op=op, torch_ms=t_torch * 1e3,
                                 cnnlib_ms=t_ours * 1e3, ratio=ratio, target=target,
                                 verdict="PASS" if ratio <= target else "MISS"))
                print(_row(rows[-1]), flush=True)
    return rows


HEADER = f"{'case':<18} {'dtype':<8} {'op':<9} {'torch ms':>9} {'cnnlib ms':>10} {'ratio':>7} {'target':>7}  verdict"


def _row(r: dict) -> str:
    return (f"{r['case']:<18} {r['dtype']:<8} {r['op']:<9} {r['torch_ms']:>9.3f} {r['cnnlib_ms']:>10.3f} "
            f"{r['ratio']:>6.2f}x {'<= ' + format(r['target'], 'g') + 'x':>7}  {r['verdict']}")


def main() -> int:
    threads = ARGS.threads or blas_threads() or os.cpu_count() or 1
    torch.set_num_threads(threads)
    cases = QUICK if ARGS.quick else FULL
    rounds = ARGS.rounds or (2 if ARGS.quick else 7)
    calls = ARGS.calls or (2 if ARGS.quick else 5)
    pause = 0.0 if ARGS.quick and ARGS.pause == 0.3 else ARGS.pause
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs ({affinity} usable), {platform.system()} {platform.machine()}")
    print(f"python {platform.python_version()}, numpy {np.__version__} with {blas_name()}, torch {torch.__version__}")
    print(f"threads: NumPy BLAS {blas_threads() or '?'}, torch {torch.get_num_threads()} "
          f"(set with --threads); torch backward = aten.convolution_backward")
    print(f"timing: median of {rounds} interleaved rounds x {calls} calls per side, {pause:g} s pause between blocks")
    print()
    print(HEADER)
    print("-" * len(HEADER))
    rows = run(cases, rounds, calls, pause)
    missed = [r for r in rows if r["verdict"] == "MISS"]
    print()
    if ARGS.quick:
        print("quick run: shapes too small for the targets to mean anything; run without --quick.")
    print(f"{len(rows) - len(missed)} of {len(rows)} targets met" + (
        "." if not missed else ": missed " + ", ".join(f"{r['case']} {r['dtype']} {r['op']}" for r in missed)))
    return 1 if (missed and ARGS.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
