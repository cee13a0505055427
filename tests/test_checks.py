"""cnnlib.checks: the student-facing checker must catch each typical mistake and name it.

Each mutant below is a wrong implementation written in plain NumPy, the way a student might
write it. ``check`` must raise AssertionError with the right "Likely cause: ..." line, and the
reference implementations must pass every check.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import cnnlib
from cnnlib import checks
from cnnlib.checks import check, explain

SEEDS = [0, 1, 2, 3]


# ---------------------------------------------------------------- a plain NumPy convolution to mutate

def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def np_conv(x, w, b=None, stride=1, padding=0, *, pads=None, out_size=None):
    """Cross-correlation in plain NumPy, with knobs for the typical mistakes.

    pads: ((top, bottom), (left, right)) zeros instead of the symmetric padding;
    out_size: a function (H_padded, KH, stride) -> H' instead of the right formula.
    """
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    pads = pads or ((ph, ph), (pw, pw))
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    kh, kw = w.shape[2:]
    size = out_size or (lambda n, k, s: (n - k) // s + 1)
    ho, wo = size(xp.shape[2], kh, sh), size(xp.shape[3], kw, sw)
    out = np.zeros((x.shape[0], w.shape[0], ho, wo), dtype=x.dtype)
    for i in range(ho):
        for j in range(wo):
            win = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            if win.shape[2:] != (kh, kw):  # a window past the edge: what an off-by-one sees as zeros
                win = np.pad(win, ((0, 0), (0, 0), (0, kh - win.shape[2]), (0, kw - win.shape[3])))
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3]))
    if b is not None:
        out += b[None, :, None, None]
    return out


def np_corr(image, kernel):
    return np_conv(image[None, None], kernel[None, None])[0, 0]


# ---------------------------------------------------------------- mutants: (check name, function, expected text)

def conv_kernel_flipped(x, w, b=None, stride=1, padding=0):
    return np_conv(x, w[:, :, ::-1, ::-1], b, stride, padding)


def conv_output_off_by_one(x, w, b=None, stride=1, padding=0):
    return np_conv(x, w, b, stride, padding, out_size=lambda n, k, s: (n - k) // s)


def conv_output_one_too_many(x, w, b=None, stride=1, padding=0):
    return np_conv(x, w, b, stride, padding, out_size=lambda n, k, s: (n - k) // s + 2)


def conv_padding_one_side(x, w, b=None, stride=1, padding=0):
    ph, pw = _pair(padding)
    return np_conv(x, w, b, stride, padding, pads=((ph, 0), (pw, 0)))


def conv_stride_height_only(x, w, b=None, stride=1, padding=0):
    return np_conv(x, w, b, (_pair(stride)[0], 1), padding)


def conv_stride_width_only(x, w, b=None, stride=1, padding=0):
    return np_conv(x, w, b, (1, _pair(stride)[1]), padding)


def conv_bias_missing(x, w, b=None, stride=1, padding=0):
    return np_conv(x, w, None, stride, padding)


def conv_first_channel_only(x, w, b=None, stride=1, padding=0):
    return np_conv(x[:, :1], w[:, :1], b, stride, padding)


def conv_float64_output(x, w, b=None, stride=1, padding=0):
    return np_conv(x.astype(np.float64), w.astype(np.float64),
                   None if b is None else b.astype(np.float64), stride, padding)


def conv_nan(x, w, b=None, stride=1, padding=0):
    out = np_conv(x, w, b, stride, padding)
    out[0, 0, 0, -1] = np.nan
    return out


def conv_list(x, w, b=None, stride=1, padding=0):
    return np_conv(x, w, b, stride, padding).tolist()


def corr_kernel_flipped(image, kernel):
    return np_corr(image, kernel[::-1, ::-1])


def convolve_not_flipped(image, kernel):
    return np_corr(image, kernel)


def pad_one_side(x, padding):
    ph, pw = _pair(padding)
    return np.pad(x, ((0, 0), (0, 0), (ph, 0), (pw, 0)))


def pad_float64(x, padding):
    ph, pw = _pair(padding)
    return np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def size_off_by_one(size, kernel_size, stride=1, padding=0):
    return (size + 2 * padding - kernel_size) // stride


def size_padding_once(size, kernel_size, stride=1, padding=0):
    return (size + padding - kernel_size) // stride + 1


def size_float(size, kernel_size, stride=1, padding=0):
    return (size + 2 * padding - kernel_size) / stride + 1


def rf_strides_ignored(kernel_sizes, strides=None):
    return 1 + sum(k - 1 for k in kernel_sizes)


DIAGNOSED = [
    ("conv2d_strided", conv_kernel_flipped, "Likely cause: kernel flipped"),
    ("conv2d", conv_kernel_flipped, "Likely cause: kernel flipped"),
    ("conv2d_strided", conv_output_off_by_one, "Likely cause: output size off by one"),
    ("conv2d", conv_output_off_by_one, "Likely cause: output size off by one"),
    ("conv2d_strided", conv_output_one_too_many, "Likely cause: output size off by one"),
    ("conv2d_strided", conv_padding_one_side, "Likely cause: padding on one side only"),
    ("conv2d_strided", conv_stride_height_only, "Likely cause: stride applied to the height axis only"),
    ("conv2d_strided", conv_stride_width_only, "Likely cause: stride applied to the width axis only"),
    ("conv2d_strided", conv_bias_missing, "Likely cause: bias missing"),
    ("conv2d", conv_bias_missing, "Likely cause: bias missing"),
    ("conv2d_strided", conv_first_channel_only, "Likely cause: only the first input channel is used"),
    ("conv2d", conv_first_channel_only, "Likely cause: only the first input channel is used"),
    ("corr2d", corr_kernel_flipped, "Likely cause: kernel flipped: this is cross-correlation"),
    ("convolve2d", convolve_not_flipped, "Likely cause: kernel not flipped"),
    ("pad2d", pad_one_side, "Likely cause: padding on one side only"),
    ("conv_output_size", size_off_by_one, "Likely cause: off by one: the first window position counts too"),
    ("conv_output_size", size_padding_once, "Likely cause: padding counted once"),
    ("receptive_field", rf_strides_ignored, "Likely cause: strides ignored"),
]

# Mistakes that are not a wrong formula: the message says what is wrong without a "Likely cause".
REPORTED = [
    ("conv2d_strided", conv_float64_output, "output dtype expected float32 (the input's dtype), got float64"),
    ("pad2d", pad_float64, "output dtype expected float32 (the input's dtype), got float64"),
    ("conv2d_strided", conv_nan, "all values should be finite"),
    ("conv2d", conv_list, "must be a NumPy array, got list"),
    ("conv_output_size", size_float, "must return an int"),
]


def _id(entry) -> str:
    name, fn, _ = entry.values if hasattr(entry, "values") else entry
    return f"{name}-{fn.__name__}"


def _failure(name, fn, seed):
    with pytest.raises(AssertionError) as info:
        check(name, fn, seed=seed)
    return str(info.value)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name, fn, text", DIAGNOSED, ids=[_id(d) for d in DIAGNOSED])
def test_check_names_the_likely_cause(name, fn, text, seed):
    msg = _failure(name, fn, seed)
    assert text in msg, f"check({name!r}, {fn.__name__}) said:\n{msg}"
    assert msg.count("Likely cause") == 1


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("name, fn, text", REPORTED, ids=[f"{n}-{f.__name__}" for n, f, _ in REPORTED])
def test_check_reports_type_dtype_and_nan_mistakes(name, fn, text, seed):
    msg = _failure(name, fn, seed)
    assert text in msg, f"check({name!r}, {fn.__name__}) said:\n{msg}"


def test_float_size_hint_mentions_floor_division():
    assert "use // for floor division" in _failure("conv_output_size", size_float, 0)


def test_failure_message_says_which_output_and_values():
    msg = _failure("conv2d_strided", conv_kernel_flipped, 0)
    assert re.search(r"output\[\d+, \d+, \d+, \d+\]: expected -?[\d.e+-]+, got -?[\d.e+-]+", msg), msg
    assert "conv2d(x (" in msg  # the call, with the shapes of its inputs


def test_the_numpy_helpers_are_right():
    """The mutants are built on np_conv; if np_conv itself were wrong, the tests above would prove nothing."""
    for seed in SEEDS:
        check("conv2d_strided", np_conv, seed=seed)
        check("corr2d", np_corr, seed=seed)


# ---------------------------------------------------------------- the references pass

# Every check against the reference function it is named after, plus the loop version of conv2d.
REFERENCES = [(name, getattr(cnnlib, spec.function)) for name, spec in checks.SPECS.items()] + [
    ("conv2d_strided", cnnlib.conv2d_loops)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name, fn", REFERENCES, ids=[f"{n}-{f.__name__}" for n, f in REFERENCES])
def test_references_pass_every_check(name, fn, seed, capsys):
    check(name, fn, seed=seed)
    assert "agree with PyTorch" in capsys.readouterr().out


def test_every_spec_has_a_reference_here():
    assert {n for n, _ in REFERENCES} == set(checks.SPECS)
    assert {"conv2d_backward", "max_pool2d_backward", "cross_entropy", "linear_backward"} <= set(checks.SPECS)


def test_explain_returns_none_for_right_answers_and_text_for_wrong_ones():
    case = checks.cases("conv2d_strided", np.random.default_rng(5), 2)[-2]  # the fixed non-square case
    assert explain("conv2d_strided", case, cnnlib.conv2d(**case)) is None
    msg = explain("conv2d_strided", case, conv_bias_missing(**case))
    assert "Likely cause: bias missing" in msg
    assert explain("conv_output_size", dict(size=7, kernel_size=3, stride=1, padding=0), 5) is None
    assert "expected 5, got 4" in explain("conv_output_size", dict(size=7, kernel_size=3, stride=1, padding=0), 4)


def test_unknown_check_name():
    with pytest.raises(ValueError, match="unknown check"):
        check("conv3d", cnnlib.conv2d)


def test_check_does_not_let_fn_modify_the_cases():
    def vandal(x, w, b=None, stride=1, padding=0):
        out = cnnlib.conv2d(x, w, b, stride, padding)
        x[...] = 0.0  # a student's in-place edit must not change what the next comparison expects
        return out

    check("conv2d_strided", vandal)
