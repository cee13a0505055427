"""cnnlib.shapes against PyTorch (cnnlib.reference) and against the book's worked numbers."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import reference as ref
from cnnlib.shapes import conv_output_size, pad2d, receptive_field, same_padding


# ---------------------------------------------------------------- conv_output_size

@st.composite
def size_cases(draw):
    k, s, p = draw(st.integers(1, 8)), draw(st.integers(1, 4)), draw(st.integers(0, 3))
    n = draw(st.integers(max(1, k - 2 * p), 40))
    return n, k, s, p


@settings(max_examples=150, deadline=None)
@given(size_cases())
def test_conv_output_size_matches_torch(case):
    got = conv_output_size(*case)
    assert type(got) is int
    assert got == ref.conv_output_size(*case), case


@pytest.mark.parametrize("args, want", [
    ((7, 3), 5),  # the book's 7x7 input, 3x3 filter -> 5x5
    ((28, 5), 24), ((12, 5), 8),  # the seeds' 28x28 network: 24x24, then 8x8 after pooling
    ((32, 3, 2, 1), 16), ((5, 5, 1, 0), 1), ((5, 3, 1, 1), 5), ((8, 3, 3, 2), 4),
])
def test_conv_output_size_worked_numbers(args, want):
    assert conv_output_size(*args) == want


def test_conv_output_size_accepts_numpy_ints():
    got = conv_output_size(np.int64(9), np.int32(3), np.int64(2), np.int8(1))
    assert got == 5 and type(got) is int


@pytest.mark.parametrize("args, fragment", [
    ((3, 4), "larger than the padded input 3 + 2*0 = 3"),
    ((2, 7, 1, 2), "2 + 2*2 = 6"),
    ((0, 1), "size"), ((5, 0), "kernel_size"), ((5, 3, 0), "stride"), ((5, 3, 1, -1), "padding"),
    ((5.0, 3), "size"), ((5, 3, 1.5), "stride"), ((5, True), "kernel_size"),
])
def test_conv_output_size_refuses(args, fragment):
    with pytest.raises(ValueError) as info:
        conv_output_size(*args)
    assert fragment in str(info.value)


# ---------------------------------------------------------------- same_padding

@settings(max_examples=60, deadline=None)
@given(st.integers(0, 7), st.integers(1, 30))
def test_same_padding_keeps_the_size_for_odd_kernels(half, n):
    k = 2 * half + 1  # n may be smaller than k: the padding makes room
    p = same_padding(k)
    assert p == half
    assert conv_output_size(n, k, 1, p) == n
    assert ref.conv_output_size(n, k, 1, p) == n


@pytest.mark.parametrize("k", [2, 4, 6, 10])
def test_same_padding_refuses_even_kernels(k):
    with pytest.raises(ValueError, match="even"):
        same_padding(k)


@pytest.mark.parametrize("k", [0, -3, 3.0, "3"])
def test_same_padding_refuses_non_kernels(k):
    with pytest.raises(ValueError, match="kernel_size"):
        same_padding(k)


# ---------------------------------------------------------------- pad2d

@settings(max_examples=80, deadline=None)
@given(
    st.tuples(*[st.integers(1, 5)] * 4),
    st.integers(0, 3), st.integers(0, 3), st.sampled_from(["int", "tuple", "list"]),
    st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1),
)
def test_pad2d_matches_torch(shape, ph, pw, form, dtype, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    padding = ph if form == "int" else (ph, pw) if form == "tuple" else [ph, pw]
    if form == "int":
        pw = ph
    got = pad2d(x, padding)
    want = ref.pad2d(x, (ph, pw))
    assert got.dtype == dtype
    assert got.shape == want.shape == (shape[0], shape[1], shape[2] + 2 * ph, shape[3] + 2 * pw)
    np.testing.assert_array_equal(got, want.astype(dtype))


def test_pad2d_does_not_modify_or_alias_its_input():
    x = np.ones((1, 1, 2, 2))
    out = pad2d(x, 1)
    out[0, 0, 1, 1] = 5.0
    assert x[0, 0, 0, 0] == 1.0 and not np.shares_memory(x, out)
    np.testing.assert_array_equal(pad2d(x, 0), x)


@pytest.mark.parametrize("call, fragment", [
    (lambda: pad2d(np.ones((2, 2, 2)), 1), "(2, 2, 2)"),
    (lambda: pad2d(np.ones((1, 1, 2, 2)), -1), "padding"),
    (lambda: pad2d(np.ones((1, 1, 2, 2)), (1, -2)), "(1, -2)"),
    (lambda: pad2d(np.ones((1, 1, 2, 2)), (1, 2, 3)), "padding"),
    (lambda: pad2d(np.ones((1, 1, 2, 2), dtype=np.int64), 1), "int64"),
    (lambda: pad2d([[[[1.0]]]], 1), "list"),
])
def test_pad2d_refuses(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


# ---------------------------------------------------------------- receptive_field

@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 3)), min_size=1, max_size=5))
def test_receptive_field_matches_torch(layers):
    ks, ss = [k for k, _ in layers], [s for _, s in layers]
    got = receptive_field(ks, ss)
    assert type(got) is int
    assert got == ref.receptive_field(ks, ss), layers


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=6))
def test_receptive_field_default_strides_are_one(ks):
    assert receptive_field(ks) == receptive_field(ks, [1] * len(ks)) == 1 + sum(k - 1 for k in ks)


@pytest.mark.parametrize("ks, ss, want", [
    ([3, 3, 3], None, 7),  # three stacked 3x3 convolutions see 7x7, like one 7x7
    ([3, 3], [2, 1], 7),  # 1 + 2 + 2*2
    ([5, 2, 5, 2], [1, 2, 1, 2], 16),  # LeNet-style conv, pool, conv, pool: 1 + 4 + 1 + 4*2 + 1*2
    ([], None, 1),
])
def test_receptive_field_worked_numbers(ks, ss, want):
    assert receptive_field(ks, ss) == want


def test_receptive_field_refuses():
    with pytest.raises(ValueError, match="2 entries.*3"):
        receptive_field([3, 3, 3], [1, 1])
    with pytest.raises(ValueError, match=r"strides\[1\]"):
        receptive_field([3, 3], [1, 0])
    with pytest.raises(ValueError, match=r"kernel_sizes\[0\]"):
        receptive_field([0, 3])
