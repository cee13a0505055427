"""How fast is cnnlib's NumPy code next to PyTorch's on the CPU?

    python benchmarks/bench.py              # the full table (about two minutes)
    python benchmarks/bench.py --quick      # small shapes, few repeats: a smoke test
    python benchmarks/bench.py --threads 2  # BLAS and torch limited to 2 threads

Prints the median time of cnnlib and of torch and their ratio cnnlib / torch, with PASS or MISS
against the course's targets, for
- conv2d forward and backward (dx, dw, db together), float32 and float64: float32 forward <= 4x,
  float32 backward <= 3x, float64 <= 1x;
- max_pool2d forward and backward, 2x2 stride 2 and 3x3 stride 2 (overlapping), float32:
  forward <= 2x, backward <= 15x;
- one training step of a small network (LeNet-like on 28x28: forward, cross-entropy, backward
  through every layer), float32: <= 4x.

How it measures (see benchmarks/README.md):
- torch runs on the CPU with as many threads as NumPy's BLAS (torch.set_num_threads), so
  that neither side gets more cores than the other; --threads N sets both before NumPy loads.
- Backward rows time the ATen kernel that autograd's node calls, without building a graph:
  conv is torch.ops.aten.convolution_backward with output_mask (True, True, True); max-pool is
  torch.ops.aten.max_pool2d_with_indices_backward, given the indices that torch's forward saved
  (cnnlib's backward takes the forward input and finds the maxima again: that is part of its time).
  The network step is autograd end to end on both sides (torch: nn.Sequential, F.cross_entropy,
  loss.backward(); cnnlib: Sequential.forward, cross_entropy, Sequential.backward).
- Both sides get the same arrays (torch.from_numpy shares memory; the networks share their
  parameters' values). Results are compared first, so a wrong implementation cannot post a time.
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
    ap.add_argument("--only", default=None, metavar="TEXT",
                    help="only the rows whose case contains TEXT (e.g. conv, max_pool, LeNet)")
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
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, installed or not
from cnnlib import (Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, conv2d, conv2d_backward,  # noqa: E402
                    cross_entropy, cross_entropy_backward, max_pool2d, max_pool2d_backward)

# (what, op, dtype) -> the largest acceptable ratio cnnlib time / torch time
TARGETS = {("conv", "forward", "float32"): 4.0, ("conv", "backward", "float32"): 3.0,
           ("conv", "forward", "float64"): 1.0, ("conv", "backward", "float64"): 1.0,
           ("pool", "forward", "float32"): 2.0, ("pool", "backward", "float32"): 15.0,
           ("net", "step", "float32"): 4.0}


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


# ---------------------------------------------------------------- timing

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


def _agree(got, want, dtype, what: str) -> None:
    """Stop the script if cnnlib's result differs from torch's (float32 rtol 1e-3, float64 1e-9)."""
    tol = 1e-3 if np.dtype(dtype) == np.float32 else 1e-9
    want = np.asarray(want)
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    if np.shape(got) != want.shape or not np.allclose(got, want, rtol=tol, atol=tol * scale):
        raise SystemExit(f"cnnlib disagrees with torch: {what}")


@dataclass(frozen=True)
class Bench:
    """One row of the table: cnnlib's and torch's version of one operation on the same data."""
    what: str  # "conv", "pool" or "net": picks the target
    case: str
    dtype: str
    op: str
    ours: Callable[[], object]
    theirs: Callable[[], object]


# ---------------------------------------------------------------- conv2d

@dataclass(frozen=True)
class ConvCase:
    name: str
    n: int
    c: int
    h: int
    w: int
    f: int
    k: int
    stride: int
    padding: int


CONV_FULL = [
    ConvCase("3x3 s1 p1", 32, 16, 32, 32, 32, 3, 1, 1),
    ConvCase("3x3 s2 p1", 32, 16, 32, 32, 32, 3, 2, 1),
    ConvCase("5x5 s2 p2", 32, 16, 32, 32, 32, 5, 2, 2),
]
CONV_QUICK = [
    ConvCase("3x3 s1 p1 (quick)", 4, 3, 12, 10, 5, 3, 1, 1),
    ConvCase("5x5 s2 p2 (quick)", 2, 2, 9, 11, 3, 5, 2, 2),
]


def conv_benches(case: ConvCase, dtype) -> list[Bench]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((case.n, case.c, case.h, case.w)).astype(dtype)
    w = rng.standard_normal((case.f, case.c, case.k, case.k)).astype(dtype)
    b = rng.standard_normal(case.f).astype(dtype)
    dout = rng.standard_normal(conv2d(x, w, b, case.stride, case.padding).shape).astype(dtype)
    xt, wt, bt, dt = (torch.from_numpy(a) for a in (x, w, b, dout))
    s, p = [case.stride] * 2, [case.padding] * 2

    def ours_fwd():
        return conv2d(x, w, b, case.stride, case.padding)

    def torch_fwd():
        return torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p)

    def ours_bwd():
        return conv2d_backward(dout, x, w, case.stride, case.padding)

    def torch_bwd():
        return torch.ops.aten.convolution_backward(dt, xt, wt, [case.f], s, p, [1, 1], False, [0, 0], 1,
                                                   [True, True, True])

    name = f"conv {case.name}"
    _agree(ours_fwd(), torch_fwd().numpy(), dtype, f"conv2d {case.name} {np.dtype(dtype)}")
    for got, want in zip(ours_bwd(), torch_bwd()):
        _agree(got, want.numpy(), dtype, f"conv2d_backward {case.name} {np.dtype(dtype)}")
    dt_name = np.dtype(dtype).name
    return [Bench("conv", name, dt_name, "forward", ours_fwd, torch_fwd),
            Bench("conv", name, dt_name, "backward", ours_bwd, torch_bwd)]


# ---------------------------------------------------------------- max_pool2d

@dataclass(frozen=True)
class PoolCase:
    name: str
    n: int
    c: int
    h: int
    w: int
    k: int
    stride: int


POOL_FULL = [
    PoolCase("2x2 s2", 32, 32, 32, 32, 2, 2),
    PoolCase("3x3 s2", 32, 32, 32, 32, 3, 2),
]
POOL_QUICK = [
    PoolCase("2x2 s2 (quick)", 2, 3, 8, 10, 2, 2),
    PoolCase("3x3 s2 (quick)", 2, 3, 9, 7, 3, 2),
]


def pool_benches(case: PoolCase, dtype) -> list[Bench]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((case.n, case.c, case.h, case.w)).astype(dtype)
    xt = torch.from_numpy(x)
    k, s = [case.k] * 2, [case.stride] * 2
    out_t, indices = torch.ops.aten.max_pool2d_with_indices(xt, k, s)
    dout = rng.standard_normal(tuple(out_t.shape)).astype(dtype)
    dt = torch.from_numpy(dout)

    def ours_fwd():
        return max_pool2d(x, case.k, case.stride)

    def torch_fwd():
        return torch.nn.functional.max_pool2d(xt, k, s)

    def ours_bwd():
        return max_pool2d_backward(dout, x, case.k, case.stride)

    def torch_bwd():
        return torch.ops.aten.max_pool2d_with_indices_backward(dt, xt, k, s, [0, 0], [1, 1], False, indices)

    name = f"max_pool {case.name}"
    _agree(ours_fwd(), torch_fwd().numpy(), dtype, f"max_pool2d {case.name}")
    _agree(ours_bwd(), torch_bwd().numpy(), dtype, f"max_pool2d_backward {case.name}")
    dt_name = np.dtype(dtype).name
    return [Bench("pool", name, dt_name, "forward", ours_fwd, torch_fwd),
            Bench("pool", name, dt_name, "backward", ours_bwd, torch_bwd)]


# ---------------------------------------------------------------- a training step of a small network

def lenet(dtype, seed: int = 0) -> Sequential:
    """LeNet-like for 28x28 inputs: 28 -conv5-> 24 -pool-> 12 -conv5-> 8 -pool-> 4, 16*4*4 = 256 features.

    The first convolution skips the images' gradient (input_grad=False), as torch does for inputs
    that do not require grad.
    """
    rng = np.random.default_rng(seed)
    return Sequential(
        Conv2d(1, 6, 5, rng=rng, dtype=dtype, input_grad=False), ReLU(), MaxPool2d(2),
        Conv2d(6, 16, 5, rng=rng, dtype=dtype), ReLU(), MaxPool2d(2),
        Flatten(),
        Linear(256, 120, rng=rng, dtype=dtype), ReLU(),
        Linear(120, 84, rng=rng, dtype=dtype), ReLU(),
        Linear(84, 10, rng=rng, dtype=dtype),
    )


def torch_lenet(net: Sequential) -> torch.nn.Sequential:
    """The same network in torch.nn, with a copy of net's parameters (same state_dict keys)."""
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )
    dtype = next(v for _, v, _ in net.parameters()).dtype
    model.to(torch.float32 if dtype == np.float32 else torch.float64)
    model.load_state_dict({name: torch.from_numpy(v.copy()) for name, v, _ in net.parameters()})
    return model


def net_benches(batch: int, dtype) -> list[Bench]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(dtype)
    y = rng.integers(0, 10, batch)
    net = lenet(dtype)
    model = torch_lenet(net)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def ours_step():
        logits = net.forward(x)
        loss = cross_entropy(logits, y)
        net.backward(cross_entropy_backward(logits, y))
        return loss

    def torch_step():
        for p in model.parameters():
            p.grad = None
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        return loss

    _agree(ours_step(), torch_step().item(), dtype, "network loss")
    grads = dict(model.named_parameters())
    for name, _, g in net.parameters():
        _agree(g, grads[name].grad.numpy(), dtype, f"network gradient of {name}")
    return [Bench("net", f"LeNet-like N={batch}", np.dtype(dtype).name, "step", ours_step, torch_step)]


# ---------------------------------------------------------------- the table

HEADER = (f"{'case':<24} {'dtype':<8} {'op':<9} {'torch ms':>9} {'cnnlib ms':>10} {'ratio':>7} {'target':>7}"
          "  verdict")


def _row(r: dict) -> str:
    return (f"{r['case']:<24} {r['dtype']:<8} {r['op']:<9} {r['torch_ms']:>9.3f} {r['cnnlib_ms']:>10.3f} "
            f"{r['ratio']:>6.2f}x {'<= ' + format(r['target'], 'g') + 'x':>7}  {r['verdict']}")


def benches(quick: bool, only: str | None = None):
    """The rows whose case name contains ``only`` (all by default), built lazily: each builder
    checks its results against torch first."""
    def wanted(name: str) -> bool:
        return only is None or only in name

    for dtype in (np.float32, np.float64):
        for case in CONV_QUICK if quick else CONV_FULL:
            if wanted(f"conv {case.name}"):
                yield from conv_benches(case, dtype)
    for case in POOL_QUICK if quick else POOL_FULL:
        if wanted(f"max_pool {case.name}"):
            yield from pool_benches(case, np.float32)
    batch = 4 if quick else 128
    if wanted(f"LeNet-like N={batch}"):
        yield from net_benches(batch, np.float32)


def run(quick: bool, rounds: int, calls: int, pause: float) -> list[dict]:
    rows = []
    for b in benches(quick, ARGS.only):
        t_ours, t_torch = side_by_side(b.ours, b.theirs, rounds, calls, pause)
        ratio = t_ours / t_torch
        target = TARGETS[(b.what, b.op, b.dtype)]
        rows.append(dict(case=b.case, dtype=b.dtype, op=b.op, torch_ms=t_torch * 1e3, cnnlib_ms=t_ours * 1e3,
                         ratio=ratio, target=target, verdict="PASS" if ratio <= target else "MISS"))
        print(_row(rows[-1]), flush=True)
    return rows


def main() -> int:
    threads = ARGS.threads or blas_threads() or os.cpu_count() or 1
    torch.set_num_threads(threads)
    rounds = ARGS.rounds or (2 if ARGS.quick else 7)
    calls = ARGS.calls or (2 if ARGS.quick else 5)
    pause = 0.0 if ARGS.quick and ARGS.pause == 0.3 else ARGS.pause
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs ({affinity} usable), {platform.system()} {platform.machine()}")
    print(f"python {platform.python_version()}, numpy {np.__version__} with {blas_name()}, torch {torch.__version__}")
    print(f"threads: NumPy BLAS {blas_threads() or '?'}, torch {torch.get_num_threads()} (set with --threads); "
          "torch backward = the ATen kernel autograd calls (aten.convolution_backward, "
          "aten.max_pool2d_with_indices_backward)")
    print(f"timing: median of {rounds} interleaved rounds x {calls} calls per side, {pause:g} s pause between blocks")
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        print(f"load average before the run: {load} (other processes share these cores)")
    except OSError:
        pass
    print()
    print(HEADER)
    print("-" * len(HEADER))
    rows = run(ARGS.quick, rounds, calls, pause)
    if ARGS.only is None or ARGS.only in "epoch LeNet-5":
        print()
        epoch(ARGS.quick)  # one training epoch of the NumPy LeNet-5 against torch (target <= 15 s)
    missed = [r for r in rows if r["verdict"] == "MISS"]
    print()
    if ARGS.quick:
        print("quick run: shapes too small for the targets to mean anything; run without --quick.")
    print(f"{len(rows) - len(missed)} of {len(rows)} targets met" + (
        "." if not missed else ": missed " + ", ".join(f"{r['case']} {r['dtype']} {r['op']}" for r in missed)))
    return 1 if (missed and ARGS.strict) else 0


# ---------------------------------------------------------------- one epoch of the NumPy LeNet-5 (chapter 7)

EPOCH_IMAGES, EPOCH_TARGET_S = 60_000, 15.0


def epoch(quick: bool = False, batch_size: int = 128, segments: int = 10) -> dict:
    """One training epoch of cnnlib's NumPy LeNet-5 (cnnlib.lenet, float32) over 60,000 28x28 real digits,
    next to the same network, weights, batches and optimizer (SGD, momentum 0.9) in torch on the CPU.

    The digits are MNIST's (downloaded, or offline the 4,000 real training digits of cnnlib.data's
    fallback repeated to 60,000). Each side runs one untimed warm-up batch. The epoch is then cut
    into ``segments`` parts of whole batches, and each part is trained by both sides in turn
    (cnnlib.train.fit on cnnlib's side: forward, loss, backward, optimizer step per batch), the order
    alternating from part to part, so that a slow spell of the machine hits both. Target: <= 15 s for
    cnnlib. Prints and returns both rates in images per second, the ratio and its range over the parts.
    """
    from cnnlib.data import load_mnist
    from cnnlib.lenet import lenet5, torch_names
    from cnnlib.models import LeNet5
    from cnnlib.optim import SGD
    from cnnlib.train import fit

    n = 1_280 if quick else EPOCH_IMAGES
    train = load_mnist("train")
    idx = np.resize(np.arange(len(train)), n)
    x = (train.images[idx].astype(np.float32) / np.float32(255))
    y = train.labels[idx]
    net = lenet5(np.random.default_rng(0))
    model = LeNet5()
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in
                           torch_names({name: v for name, v, _ in net.parameters()}).items()})
    opt = SGD(net, lr=0.01, momentum=0.9)
    topt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    order = np.random.default_rng(1).permutation(n)
    rng = np.random.default_rng(2)
    losses: dict[str, list[float]] = {"cnnlib": [], "torch": []}

    def ours(part: np.ndarray) -> None:
        hist = fit(net, opt, x[part], y[part], epochs=1, batch_size=batch_size, rng=rng, show_progress=False)
        losses["cnnlib"].append(hist.train_loss[0])

    def theirs(part: np.ndarray) -> None:
        total = 0.0
        for start in range(0, len(part), batch_size):
            b = torch.from_numpy(part[start:start + batch_size])
            topt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(xt[b]), yt[b])
            loss.backward()
            topt.step()
            total += loss.item() * len(b)
        losses["torch"].append(total / len(part))

    ours(order[:batch_size])  # warm-up, untimed (and its loss not counted)
    theirs(order[:batch_size])
    for recorded in losses.values():
        recorded.clear()
    step = -(-n // segments // batch_size) * batch_size  # whole batches per part
    seconds = {"cnnlib": 0.0, "torch": 0.0}
    ratios = []
    for i, start in enumerate(range(0, n, step)):
        part = order[start:start + step]
        spent = {}
        for side, run in (("cnnlib", ours), ("torch", theirs))[:: 1 if i % 2 == 0 else -1]:
            time.sleep(ARGS.pause)
            t0 = time.perf_counter()
            run(part)
            spent[side] = time.perf_counter() - t0
            seconds[side] += spent[side]
        ratios.append(spent["cnnlib"] / spent["torch"])
    ours_s, theirs_s = seconds["cnnlib"], seconds["torch"]
    seconds_60k = ours_s * EPOCH_IMAGES / n
    row = dict(images=n, cnnlib_s=ours_s, torch_s=theirs_s, cnnlib_ips=n / ours_s, torch_ips=n / theirs_s,
               ratio=ours_s / theirs_s, ratio_range=(min(ratios), max(ratios)), seconds_60k=seconds_60k,
               loss=float(np.mean(losses["cnnlib"])), torch_loss=float(np.mean(losses["torch"])),
               verdict="PASS" if seconds_60k <= EPOCH_TARGET_S else "MISS")
    data = "offline fallback digits, repeated" if train.source.startswith("offline") else "MNIST"
    print(f"epoch of LeNet-5, {n:,} real 28x28 digits ({data}), float32, batch {batch_size}, "
          f"SGD momentum 0.9, in {len(ratios)} interleaved parts: cnnlib {row['cnnlib_ips']:,.0f} images/s "
          f"({ours_s:.2f} s), torch CPU {row['torch_ips']:,.0f} images/s ({theirs_s:.2f} s), ratio "
          f"{row['ratio']:.2f}x (parts {min(ratios):.2f}-{max(ratios):.2f}x); mean training loss cnnlib "
          f"{row['loss']:.3f}, torch {row['torch_loss']:.3f}; 60,000 images in {seconds_60k:.1f} s, "
          f"target <= {EPOCH_TARGET_S:g} s: {row['verdict']}", flush=True)
    return row


if __name__ == "__main__":
    sys.exit(main())
