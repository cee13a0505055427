"""The graded assignments: which check grades which cnnlib function, for how many points.

One entry per nbgrader assignment. The source notebooks in solutions/ are generated from this
table (``python -m cnngrader release``), so points, test cells and the judge never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    check: str  # a key of cnnlib.checks.SPECS
    function: str  # the cnnlib function that the student writes
    module: str  # where it lives in the student's package
    points: int
    text: str  # the task's description (markdown)


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    chapter: str
    intro: str
    tasks: tuple[Task, ...]

    @property
    def points(self) -> int:
        return sum(t.points for t in self.tasks)


CONVOLUTION = Assignment(
    name="01_convolution",
    title="Convolution",
    chapter="Chapter 1, Convolution",
    intro="""You write the forward pass of a convolutional layer, in NumPy, in the file
`cnnlib/conv.py` next to this notebook. Start with one image and one kernel, then handle a
batch of images with several channels and several filters.""",
    tasks=(
        Task("corr2d", "corr2d", "cnnlib/conv.py", 3, """\
`corr2d(image, kernel)` cross-correlates one 2-D image `(H, W)` with one kernel `(KH, KW)`
without padding, and returns `(H - KH + 1, W - KW + 1)`:

$$\\text{out}(i, j) = \\sum_{m=0}^{KH-1} \\sum_{n=0}^{KW-1} \\text{image}(i + m, j + n)\\, \\text{kernel}(m, n)$$

Keep the input's dtype (float32 stays float32). On the chapter's 5x5 example with the vertical
edge filter, the result is the 3x3 map worked out in the book.

*Hint:* two loops over the output positions and one `np.sum` of an element-wise product is
enough. A faster way loops over the kernel's KH x KW entries instead and adds shifted slices
of the image."""),
        Task("convolve2d", "convolve2d", "cnnlib/conv.py", 2, """\
`convolve2d(image, kernel)` is the textbook *convolution*, "valid" mode: the kernel is flipped
on both axes before it slides, `out(i, j) = sum image(i + m, j + n) kernel(KH-1-m, KW-1-n)`.
It differs from `corr2d` by one step; reuse `corr2d`."""),
        Task("conv2d", "conv2d", "cnnlib/conv.py", 5, """\
`conv2d(x, w, b=None, stride=1, padding=0)` is what `torch.nn.functional.conv2d` computes:
x `(N, C, H, W)`, w `(F, C, KH, KW)`, b `(F,)` or `None`, result `(N, F, H', W')` with

$$\\text{out}(n, f, i, j) = b_f + \\sum_{c} \\sum_{m} \\sum_{k} x(n, c, i + m, j + k)\\, w(f, c, m, k)$$

In this assignment only `stride=1, padding=0` is graded (assignment 02 adds both): your
function may raise `NotImplementedError` for other values.

*Hints:* each filter `w[f]` spans all `C` input channels, so one output value sums over `c`
too; the bias is added once per output value, not once per channel; if you flip the kernel you
computed a convolution, which is not what deep-learning libraries compute."""),
    ),
)

STRIDE_PADDING = Assignment(
    name="02_stride_padding",
    title="Stride, padding and receptive field",
    chapter="Chapter 2, Stride, padding, receptive field",
    intro="""You add stride and zero padding to your convolution. Your package is in `cnnlib/`
next to this notebook: copy your `cnnlib/conv.py` from assignment 01 over the one here and
extend `conv2d`; `conv_output_size`, `pad2d` and `receptive_field` are in `cnnlib/shapes.py`.""",
    tasks=(
        Task("conv_output_size", "conv_output_size", "cnnlib/shapes.py", 2, """\
`conv_output_size(size, kernel_size, stride=1, padding=0)` returns the output length along one
axis, as a Python `int`, for an input of length `size`, padded with `padding` zeros on *each*
side, and a window of length `kernel_size` that moves by `stride`. Count the positions at which
the window fits entirely inside the padded input."""),
        Task("pad2d", "pad2d", "cnnlib/shapes.py", 2, """\
`pad2d(x, padding)` zero-pads a batch `(N, C, H, W)` on the two spatial axes only, `padding`
zeros before *and* after; `padding` is an int or a pair `(ph, pw)`. Result:
`(N, C, H + 2 ph, W + 2 pw)`, same dtype as `x`."""),
        Task("conv2d_strided", "conv2d", "cnnlib/conv.py", 4, """\
Extend `conv2d(x, w, b=None, stride=1, padding=0)` to any stride and padding, each an int or
a pair `(h, w)`:

$$\\text{out}(n, f, i, j) = b_f + \\sum_{c, m, k} x_{\\text{pad}}(n, c, i\\, s_h + m, j\\, s_w + k)\\, w(f, c, m, k)$$

with `H' = conv_output_size(H, KH, s_h, p_h)` and likewise `W'`.

*Hints:* pad first (`pad2d`), then slide with the stride; the height uses `stride[0]` and
`padding[0]`, the width `stride[1]` and `padding[1]`."""),
        Task("receptive_field", "receptive_field", "cnnlib/shapes.py", 2, """\
`receptive_field(kernel_sizes, strides=None)` returns the side length of the input region that
one output unit sees after a stack of layers with the given kernel sizes and strides (first
layer first). One 3x3 layer sees 3; two see 5. A stride multiplies the step of every *later*
layer."""),
    ),
)

ASSIGNMENTS: dict[str, Assignment] = {a.name: a for a in (CONVOLUTION, STRIDE_PADDING)}
