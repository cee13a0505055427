"""cnnlib.conv against PyTorch (cnnlib.reference: float64, GPU when present, TF32 off).

Property-based: hypothesis draws batch sizes from 1, C_in and C_out independently, non-square
inputs and kernels, stride 1-3 and padding 0-2 per axis (as an int or as a pair), with and
without bias.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import cnnlib
from cnnlib import conv2d, conv2d_backward, conv2d_loops, convolve2d, corr2d, im2col
from cnnlib import reference as ref
from cnnlib.checks import SEED_FEATURE_MAP, SEED_IMAGE, SEED_KERNEL
from helpers import assert_close

_assert_close = assert_close


# ---------------------------------------------------------------- strategies and helpers

def _pair_or_int(draw, pair: tuple[int, int]):
    """Give (a, b) as an int when a == b and hypothesis wants it, else as a tuple or a list."""
    if pair[0] == pair[1] and draw(st.booleans()):
        return pair[0]
    return draw(st.sampled_from([tuple, list]))(pair)


@st.composite
def conv_configs(draw, max_n: int = 3, max_c: int = 4, max_hw: int = 9, max_k: int = 4):
    """A valid conv2d problem in float64: dict(x, w, b, stride, padding)."""
    n = draw(st.integers(1, max_n))
    c_in, c_out = draw(st.integers(1, max_c)), draw(st.integers(1, max_c))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), max_hw))
    w_ = draw(st.integers(max(1, kw - 2 * pw), max_hw))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return dict(
        x=rng.standard_normal((n, c_in, h, w_)),
        w=rng.standard_normal((c_out, c_in, kh, kw)),
        b=rng.standard_normal(c_out) if draw(st.booleans()) else None,
        stride=_pair_or_int(draw, (sh, sw)),
        padding=_pair_or_int(draw, (ph, pw)),
    )


def _fixed(n, c, h, w, f, kh, kw, stride, padding, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    return dict(x=rng.standard_normal((n, c, h, w)), w=rng.standard_normal((f, c, kh, kw)),
                b=rng.standard_normal(f) if bias else None, stride=stride, padding=padding)


# Explicit cases that hypothesis must always run, whatever it draws.
FIXED = [
    _fixed(1, 3, 9, 8, 2, 3, 2, (2, 3), (1, 2)),  # batch of 1, C_in != C_out, everything non-square
    _fixed(2, 1, 5, 7, 4, 5, 1, 1, 0, bias=False),  # kernel as tall as the input
    _fixed(3, 2, 4, 6, 3, 2, 4, (3, 1), [2, 0]),  # padding as a list
    _fixed(1, 1, 1, 1, 1, 1, 1, 1, 0),  # a single pixel
    _fixed(1, 2, 2, 3, 1, 4, 4, 2, 2),  # kernel larger than the unpadded input
]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _apply_examples(fn):
    for case in FIXED:
        fn = example(case)(fn)
    return fn


# ---------------------------------------------------------------- forward against PyTorch

@settings(max_examples=200, deadline=None)
@_apply_examples
@given(conv_configs())
def test_conv2d_matches_torch(case):
    got = conv2d(**case)
    want = ref.conv2d(**case)
    _assert_close(got, want, "conv2d")
    assert got.dtype == np.float64
    assert got.flags.c_contiguous


@settings(max_examples=200, deadline=None)
@_apply_examples
@given(conv_configs())
def test_conv2d_backward_matches_torch(case):
    rng = np.random.default_rng(1)
    out_shape = ref.conv2d(**case).shape
    dout = rng.standard_normal(out_shape)
    dx, dw, db = conv2d_backward(dout, case["x"], case["w"], case["stride"], case["padding"])
    rdx, rdw, rdb = ref.conv2d_backward(dout, case["x"], case["w"], case["stride"], case["padding"])
    _assert_close(dx, rdx, "dx")
    _assert_close(dw, rdw, "dw")
    _assert_close(db, rdb, "db")
    assert (dx.shape, dw.shape, db.shape) == (case["x"].shape, case["w"].shape, (case["w"].shape[0],))


@settings(max_examples=50, deadline=None)
@_apply_examples
@given(conv_configs())
def test_conv2d_backward_without_input_grad(case):
    """input_grad=False (a network's first layer) skips dx: None, and dw, db exactly as before."""
    dout = np.random.default_rng(2).standard_normal(ref.conv2d(**case).shape)
    args = (dout, case["x"], case["w"], case["stride"], case["padding"])
    dx, dw, db = conv2d_backward(*args, input_grad=False)
    _, full_dw, full_db = conv2d_backward(*args)
    assert dx is None
    np.testing.assert_array_equal(dw, full_dw)
    np.testing.assert_array_equal(db, full_db)


@settings(max_examples=25, deadline=None)
@example(FIXED[0])
@given(conv_configs(max_n=2, max_c=3, max_hw=7, max_k=3))
def test_conv2d_loops_equals_conv2d(case):
    _assert_close(conv2d_loops(**case), conv2d(**case), "conv2d_loops")


def test_conv2d_defaults_are_stride_1_no_padding():
    case = FIXED[0]
    _assert_close(conv2d(case["x"], case["w"]), ref.conv2d(case["x"], case["w"]), "conv2d(x, w)")
    dout = np.ones((1, 2, 7, 7))
    dx, dw, db = conv2d_backward(dout, case["x"], case["w"])
    _assert_close(dx, ref.conv2d_backward(dout, case["x"], case["w"])[0], "dx")


def test_conv2d_does_not_modify_its_inputs():
    case = FIXED[0]
    saved = {k: v.copy() for k, v in case.items() if isinstance(v, np.ndarray)}
    conv2d(**case)
    conv2d_backward(np.ones((1, 2, 5, 4)), case["x"], case["w"], case["stride"], case["padding"])
    for k, v in saved.items():
        np.testing.assert_array_equal(case[k], v, err_msg=k)


def test_conv2d_accepts_non_contiguous_inputs():
    case = FIXED[2]
    x = np.asfortranarray(case["x"])
    wide = np.zeros(case["w"].shape[:3] + (2 * case["w"].shape[3],))
    wide[..., ::2] = case["w"]
    w = wide[..., ::2]  # a strided view with w's values
    assert not w.flags.c_contiguous and not x.flags.c_contiguous
    _assert_close(conv2d(x, w, case["b"], case["stride"], case["padding"]), ref.conv2d(**case), "conv2d")


def test_conv2d_empty_batch():
    x, w = np.zeros((0, 2, 5, 5)), np.ones((3, 2, 3, 3))
    assert conv2d(x, w, padding=1).shape == (0, 3, 5, 5)
    dx, dw, db = conv2d_backward(np.zeros((0, 3, 5, 5)), x, w, padding=1)
    assert dx.shape == x.shape and not dw.any() and not db.any()


# ---------------------------------------------------------------- im2col

@settings(max_examples=40, deadline=None)
@given(conv_configs(max_n=2, max_c=3, max_hw=7, max_k=3))
def test_im2col_layout(case):
    """cols[(c*KH + m)*KW + k, (n*H' + i)*W' + j] == xpad[n, c, i*sh + m, j*sw + k], spelled out."""
    x = case["x"]
    kh, kw = case["w"].shape[2:]
    (sh, sw), (ph, pw) = _pair(case["stride"]), _pair(case["padding"])
    cols = im2col(x, (kh, kw), case["stride"], case["padding"])
    n_img, c, h, w = x.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    assert cols.shape == (c * kh * kw, n_img * ho * wo)
    xpad = np.zeros((n_img, c, h + 2 * ph, w + 2 * pw))
    xpad[:, :, ph:ph + h, pw:pw + w] = x
    want = np.empty_like(cols)
    for n in range(n_img):
        for ch in range(c):
            for m in range(kh):
                for k in range(kw):
                    for i in range(ho):
                        for j in range(wo):
                            want[(ch * kh + m) * kw + k, (n * ho + i) * wo + j] = xpad[n, ch, i * sh + m, j * sw + k]
    np.testing.assert_array_equal(cols, want)


def test_im2col_times_flattened_weights_is_the_convolution():
    case = FIXED[0]
    cols = im2col(case["x"], (3, 2), case["stride"], case["padding"])
    out = case["w"].reshape(2, -1) @ cols + case["b"][:, None]  # (F, N*H'*W')
    want = ref.conv2d(**case)
    _assert_close(out.reshape(2, 1, *want.shape[2:]).transpose(1, 0, 2, 3), want, "w @ im2col")


def test_im2col_int_kernel_size_and_errors():
    x = np.arange(2 * 1 * 4 * 5, dtype=np.float64).reshape(2, 1, 4, 5)
    assert im2col(x, 2).shape == (4, 2 * 3 * 4)
    with pytest.raises(ValueError, match=r"\(2, 1, 4, 5\)"):
        im2col(x, (5, 1))  # taller than the input: the message names x's shape
    with pytest.raises(ValueError, match="kernel_size"):
        im2col(x, 0)
    with pytest.raises(ValueError, match="4 dimensions"):
        im2col(x[0], 2)


# ---------------------------------------------------------------- corr2d and convolve2d

def test_seed_example_by_hand():
    """The seeds' 5x5 image and vertical-edge filter, three cells worked out by hand.

    The kernel is [1, 0, -1] on every row: each output is (sum of the window's left column)
    minus (sum of its right column).
    """
    out = corr2d(SEED_IMAGE, SEED_KERNEL)
    assert out[0, 0] == (1 + 4 + 1) - (0 + 6 + 1) == -1
    assert out[1, 1] == (5 + 0 + 1) - (7 + 2 + 4) == -7
    assert out[2, 2] == (1 + 3 + 5) - (1 + 0 + 2) == 6
    np.testing.assert_array_equal(out, SEED_FEATURE_MAP)
    # Flipping [[1, 0, -1]] * 3 on both axes gives [[-1, 0, 1]] * 3 = -kernel, so the true
    # convolution is the negative feature map: left column minus right column, reversed.
    assert np.array_equal(SEED_KERNEL[::-1, ::-1], -SEED_KERNEL)
    conv = convolve2d(SEED_IMAGE, SEED_KERNEL)
    assert conv[0, 0] == (0 + 6 + 1) - (1 + 4 + 1) == 1
    np.testing.assert_array_equal(conv, -SEED_FEATURE_MAP)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.data())
def test_corr2d_and_convolve2d_match_torch(h, w, data):
    kh, kw = data.draw(st.integers(1, h)), data.draw(st.integers(1, w))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    image, kernel = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
    _assert_close(corr2d(image, kernel), ref.corr2d(image, kernel), "corr2d")
    _assert_close(convolve2d(image, kernel), ref.convolve2d(image, kernel), "convolve2d")


def test_convolve2d_flips_a_non_symmetric_kernel():
    image = np.arange(20.0).reshape(4, 5) ** 2
    kernel = np.array([[1.0, 2.0], [3.0, 5.0]])
    # out[0, 0] = sum image[m, n] * kernel[1 - m, 1 - n]
    assert convolve2d(image, kernel)[0, 0] == 0 * 5 + 1 * 3 + 25 * 2 + 36 * 1
    assert corr2d(image, kernel)[0, 0] == 0 * 1 + 1 * 2 + 25 * 3 + 36 * 5


# ---------------------------------------------------------------- dtypes

def _calls(dtype):
    """Every conv function, called on arrays of one dtype; each returns a tuple of outputs."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 5)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 2)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    img, ker = x[0, 0], w[0, 0]
    dout = rng.standard_normal((2, 4, 3, 3)).astype(dtype)
    return {
        "corr2d": lambda: (corr2d(img, ker),),
        "convolve2d": lambda: (convolve2d(img, ker),),
        "conv2d": lambda: (conv2d(x, w, b, 2, 1),),
        "conv2d (no bias)": lambda: (conv2d(x, w, None, 2, 1),),
        "conv2d_loops": lambda: (conv2d_loops(x, w, b, 2, 1),),
        "im2col": lambda: (im2col(x, (3, 2), 2, 1),),
        "conv2d_backward": lambda: conv2d_backward(dout, x, w, 2, 1),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(_calls(np.float64)))
def test_output_dtype_follows_input(name, dtype):
    outputs = _calls(dtype)[name]()
    for out in outputs:
        assert isinstance(out, np.ndarray) and out.dtype == dtype, f"{name}: {out.dtype} for {np.dtype(dtype)} input"


@pytest.mark.parametrize("dtype", [np.float32])
def test_float32_results_are_accurate(dtype):
    case = FIXED[0]
    c32 = {k: (v.astype(dtype) if isinstance(v, np.ndarray) else v) for k, v in case.items()}
    got = conv2d(**c32)
    np.testing.assert_allclose(got, ref.conv2d(**c32), rtol=1e-5, atol=1e-5)
    dout = np.ones(got.shape, dtype)
    for g, r in zip(conv2d_backward(dout, c32["x"], c32["w"], case["stride"], case["padding"]),
                    ref.conv2d_backward(dout, c32["x"], c32["w"], case["stride"], case["padding"])):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


_X = np.ones((1, 2, 5, 5))
_W = np.ones((3, 2, 3, 3))
_B = np.ones(3)
_D = np.ones((1, 3, 3, 3))


@pytest.mark.parametrize("call", [
    lambda: corr2d(np.ones((4, 4), dtype=np.int64), np.ones((2, 2))),
    lambda: corr2d(np.ones((4, 4)), np.ones((2, 2), dtype=np.int32)),
    lambda: convolve2d(np.ones((4, 4), dtype=np.int64), np.ones((2, 2))),
    lambda: conv2d(_X.astype(np.int64), _W),
    lambda: conv2d(_X, _W.astype(np.int64)),
    lambda: conv2d(_X, _W, _B.astype(np.int64)),
    lambda: conv2d(_X.astype(bool), _W),
    lambda: conv2d(_X.astype(np.complex128), _W),
    lambda: conv2d_loops(_X.astype(np.int64), _W),
    lambda: im2col(_X.astype(np.int64), 3),
    lambda: conv2d_backward(_D.astype(np.int64), _X, _W),
    lambda: conv2d_backward(_D, _X.astype(np.int64), _W.astype(np.int64)),
    lambda: conv2d(_X.tolist(), _W),
], ids=lambda f: "")
def test_integer_or_non_array_inputs_are_refused(call):
    with pytest.raises(ValueError, match="dtype|array"):
        call()


@pytest.mark.parametrize("call", [
    lambda: corr2d(np.ones((4, 4), np.float32), np.ones((2, 2))),
    lambda: convolve2d(np.ones((4, 4)), np.ones((2, 2), np.float32)),
    lambda: conv2d(_X.astype(np.float32), _W),
    lambda: conv2d(_X, _W, _B.astype(np.float32)),
    lambda: conv2d_loops(_X, _W.astype(np.float32)),
    lambda: conv2d_backward(_D.astype(np.float32), _X, _W),
    lambda: conv2d_backward(_D, _X, _W.astype(np.float32)),
], ids=lambda f: "")
def test_mismatched_dtypes_are_refused(call):
    with pytest.raises(ValueError, match="float32.*float64|float64.*float32"):
        call()


# ---------------------------------------------------------------- bad shapes and arguments

BAD = [
    # (id, call, fragments the message must contain)
    ("channels", lambda f: f(np.ones((2, 3, 5, 5)), np.ones((4, 2, 3, 3))), ["(2, 3, 5, 5)", "(4, 2, 3, 3)"]),
    ("kernel too tall", lambda f: f(np.ones((1, 1, 4, 6)), np.ones((1, 1, 7, 3)), padding=1),
     ["(1, 1, 4, 6)", "(1, 1, 7, 3)", "height"]),
    ("kernel too wide", lambda f: f(np.ones((1, 1, 6, 4)), np.ones((1, 1, 3, 5)), padding=(2, 0)),
     ["(1, 1, 6, 4)", "(1, 1, 3, 5)", "width"]),
    ("stride 0", lambda f: f(_X, _W, stride=0), ["stride", "0"]),
    ("stride pair with 0", lambda f: f(_X, _W, stride=(1, 0)), ["stride", "(1, 0)"]),
    ("negative stride", lambda f: f(_X, _W, stride=-2), ["stride", "-2"]),
    ("float stride", lambda f: f(_X, _W, stride=1.5), ["stride", "1.5"]),
    ("stride of 3 numbers", lambda f: f(_X, _W, stride=(1, 1, 1)), ["stride"]),
    ("negative padding", lambda f: f(_X, _W, padding=-1), ["padding", "-1"]),
    ("negative padding pair", lambda f: f(_X, _W, padding=(0, -1)), ["padding", "(0, -1)"]),
    ("x 3-D", lambda f: f(np.ones((2, 5, 5)), _W), ["x", "4 dimensions", "(2, 5, 5)"]),
    ("w 2-D", lambda f: f(_X, np.ones((3, 3))), ["w", "4 dimensions", "(3, 3)"]),
    ("empty spatial axis", lambda f: f(np.ones((1, 2, 0, 5)), np.ones((3, 2, 1, 1)), padding=1), ["(1, 2, 0, 5)"]),
    ("no filters", lambda f: f(_X, np.ones((0, 2, 3, 3))), ["(0, 2, 3, 3)"]),
]


@pytest.mark.parametrize("fn", [conv2d, conv2d_loops], ids=["conv2d", "conv2d_loops"])
@pytest.mark.parametrize("call, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_arguments_name_the_problem(fn, call, fragments):
    with pytest.raises(ValueError) as info:
        call(fn)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} missing from: {info.value}"


@pytest.mark.parametrize("call, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_backward_bad_arguments_name_the_problem(call, fragments):
    def backward(x, w, stride=1, padding=0):
        return conv2d_backward(np.ones((1, 1, 1, 1)), x, w, stride, padding)

    with pytest.raises(ValueError) as info:
        call(backward)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} missing from: {info.value}"


@pytest.mark.parametrize("fn", [conv2d, conv2d_loops], ids=["conv2d", "conv2d_loops"])
def test_bias_of_the_wrong_length(fn):
    with pytest.raises(ValueError) as info:
        fn(_X, _W, np.ones(2))
    assert "(2,)" in str(info.value) and "(3, 2, 3, 3)" in str(info.value)
    with pytest.raises(ValueError, match="1 dimensions"):
        fn(_X, _W, np.ones((3, 1)))


@pytest.mark.parametrize("dout_shape", [(1, 3, 3, 4), (1, 3, 4, 4), (2, 3, 3, 3), (1, 2, 3, 3), (1, 3, 9)])
def test_dout_of_the_wrong_shape(dout_shape):
    with pytest.raises(ValueError) as info:
        conv2d_backward(np.ones(dout_shape), _X, _W)
    assert str(dout_shape) in str(info.value)
    if len(dout_shape) == 4:
        assert "(1, 3, 3, 3)" in str(info.value)  # the shape it should have had


def test_corr2d_bad_shapes():
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 5\)"):
        corr2d(np.ones((2, 5)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\(2, 6\)"):
        convolve2d(np.ones((4, 5)), np.ones((2, 6)))
    with pytest.raises(ValueError, match="2 dimensions"):
        corr2d(np.ones((1, 4, 4)), np.ones((2, 2)))


# ---------------------------------------------------------------- the reference itself

def test_reference_switches_tf32_off():
    import torch

    assert torch.backends.cudnn.allow_tf32 is False
    assert torch.backends.cuda.matmul.allow_tf32 is False
    assert ref.DEVICE.type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.cuda
def test_reference_runs_on_cuda_and_agrees_with_cpu_and_cnnlib():
    import torch
    import torch.nn.functional as F

    assert ref.DEVICE.type == "cuda"
    case = _fixed(4, 16, 20, 18, 8, 3, 5, (2, 1), (1, 2), seed=3)
    out = ref.conv2d(**case)  # float64 on the GPU
    cpu = F.conv2d(*(torch.from_numpy(case[k]) for k in ("x", "w", "b")),
                   stride=case["stride"], padding=case["padding"]).numpy()
    np.testing.assert_allclose(out, cpu, rtol=1e-12, atol=1e-12)
    _assert_close(conv2d(**case), out, "conv2d vs cuda reference")
    dout = np.random.default_rng(0).standard_normal(out.shape)
    for got, want in zip(conv2d_backward(dout, case["x"], case["w"], case["stride"], case["padding"]),
                         ref.conv2d_backward(dout, case["x"], case["w"], case["stride"], case["padding"])):
        _assert_close(got, want, "backward vs cuda reference")


def test_public_names():
    assert {"conv2d", "conv2d_backward", "conv2d_loops", "im2col", "corr2d", "convolve2d"} <= set(cnnlib.__all__)


# ---------------------------------------------------------------- the benchmark script does not rot

def test_benchmark_script_runs_quick():
    """benchmarks/bench.py --quick: tiny shapes, a few repeats; checks it runs, not its times."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--threads", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "cnnlib ms" in out and "torch ms" in out and "targets met" in out
    row = r"\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+<= \d+x\s+(PASS|MISS)"
    for dtype in ("float32", "float64"):
        for op in ("forward", "backward"):
            assert re.search(rf"conv .*{dtype}\s+{op}{row}", out), out
    for case in ("2x2 s2", "3x3 s2"):
        for op in ("forward", "backward"):
            assert re.search(rf"max_pool {case}.*float32\s+{op}{row}", out), out
    assert re.search(rf"LeNet-like N=\d+\s+float32\s+step{row}", out), out
    assert "threads: NumPy BLAS 1, torch 1" in out
