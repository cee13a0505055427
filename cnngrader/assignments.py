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

ACTIVATIONS = Assignment(
    name="03_activations",
    title="Activation functions",
    chapter="Chapter 3, Activations",
    intro=r"""You write four activation functions in `cnnlib/activations.py`. Each works element-wise
on an array of any shape and returns an array of the same shape and dtype.""",
    tasks=(
        Task("relu", "relu", "cnnlib/activations.py", 2, r"""`relu(x)` returns $\max(x, 0)$ element-wise: negative values become 0, the rest stay. Keep the
dtype: a float32 input gives a float32 output."""),
        Task("leaky_relu", "leaky_relu", "cnnlib/activations.py", 2, r"""`leaky_relu(x, negative_slope=0.01)` returns $x$ where $x > 0$ and `negative_slope` $\cdot x$
elsewhere, like `torch.nn.functional.leaky_relu`."""),
        Task("sigmoid", "sigmoid", "cnnlib/activations.py", 4, r"""`sigmoid(x)` returns $\sigma(x) = 1 / (1 + e^{-x})$. The checks include $x = \pm 1000$: the
formula as written overflows for large negative $x$ ($e^{1000}$ is `inf`).

*Hint:* for $x < 0$ the same value is $e^{x} / (1 + e^{x})$, and $e^{x}$ cannot overflow there;
`np.exp(-np.abs(x))` serves both cases."""),
        Task("tanh", "tanh", "cnnlib/activations.py", 2, r"""`tanh(x)` returns the hyperbolic tangent $(e^{x} - e^{-x}) / (e^{x} + e^{-x})$ element-wise.
NumPy has it; the point is to keep the dtype and the shape."""),
    ),
)

POOLING = Assignment(
    name="04_pooling",
    title="Max and average pooling",
    chapter="Chapter 4, Pooling",
    intro=r"""You write max pooling and average pooling in `cnnlib/pool.py`, for a batch
`(N, C, H, W)`, any window `kernel_size` and any `stride` (an int or a pair `(h, w)`; `None`
means `stride = kernel_size`). There is no padding; windows may overlap (`stride < kernel_size`).
The argument checks and the output size are already in `pool2d_args`.""",
    tasks=(
        Task("max_pool2d", "max_pool2d", "cnnlib/pool.py", 5, r"""`max_pool2d(x, kernel_size, stride=None)` returns `(N, C, H', W')` with
$H' = \lfloor (H - KH) / SH \rfloor + 1$ and

$$Y(n, c, i, j) = \max_{m < KH,\; k < KW} X(n, c, i\, S_H + m, j\, S_W + k)$$

*Hint:* rather than looping over output positions, loop over the KH x KW offsets $(m, k)$: the
values at offset $(m, k)$ of every window form one strided slice of `x`, and `np.maximum` of
those slices is the answer."""),
        Task("avg_pool2d", "avg_pool2d", "cnnlib/pool.py", 5, r"""`avg_pool2d(x, kernel_size, stride=None)` is the same with the mean of each window instead of
its maximum (every window has exactly KH x KW values: there is no padding)."""),
    ),
)

DENSE_SOFTMAX = Assignment(
    name="05_dense_softmax",
    title="Fully connected layer, softmax and cross-entropy",
    chapter="Chapter 5, Flatten, fully connected, softmax",
    intro=r"""You write the end of a classifier: the fully connected layer in `cnnlib/linear.py`,
and softmax, log-softmax and the cross-entropy loss in `cnnlib/losses.py`.""",
    tasks=(
        Task("linear", "linear", "cnnlib/linear.py", 2, r"""`linear(x, w, b=None)` computes $y = x W^\top + b$ for a batch: x `(N, in)`, w `(out, in)` (the
layout of `torch.nn.Linear`), b `(out,)` or `None`; result `(N, out)`."""),
        Task("softmax", "softmax", "cnnlib/losses.py", 3, r"""`softmax(z, axis=-1)` returns $e^{z_i} / \sum_j e^{z_j}$ along `axis`. The checks include logits
of $\pm 10^4$, where `np.exp` overflows.

*Hint:* softmax does not change when the same constant is subtracted from every $z_j$."""),
        Task("log_softmax", "log_softmax", "cnnlib/losses.py", 2, r"""`log_softmax(z, axis=-1)` returns $\log \mathrm{softmax}(z)$, computed so that it stays finite
for logits of $\pm 10^4$ (where `np.log(softmax(z))` gives `-inf`):
$z_i - m - \log \sum_j e^{z_j - m}$ with $m = \max_j z_j$."""),
        Task("cross_entropy", "cross_entropy", "cnnlib/losses.py", 3, r"""`cross_entropy(logits, targets)` returns the mean over the batch of $-\log \mathrm{softmax}(z_n)_{t_n}$,
like `torch.nn.functional.cross_entropy`: logits `(N, K)` are raw scores (not probabilities),
targets `(N,)` are integer class indices. The argument checks are already written."""),
    ),
)

BACKPROP = Assignment(
    name="06_backprop",
    title="Backpropagation through every layer",
    chapter="Chapter 6, Backpropagation",
    intro=r"""You write the backward pass of every layer so far. Each backward function takes the
upstream gradient `dout` (the gradient of the loss with respect to the layer's output) and the
layer's forward inputs, and returns the gradient with respect to each input. Copy your forward
functions from assignments 01 to 05 into this `cnnlib/` first: some backward passes reuse them.""",
    tasks=(
        Task("relu_backward", "relu_backward", "cnnlib/activations.py", 1, r"""`relu_backward(dout, x)`: $\partial L / \partial x = $ `dout` where $x > 0$, else 0 (also at
$x = 0$, as in PyTorch)."""),
        Task("leaky_relu_backward", "leaky_relu_backward", "cnnlib/activations.py", 1, r"""`leaky_relu_backward(dout, x, negative_slope=0.01)`: `dout` where $x > 0$, `negative_slope * dout`
elsewhere ($x = 0$ included)."""),
        Task("sigmoid_backward", "sigmoid_backward", "cnnlib/activations.py", 1, r"""`sigmoid_backward(dout, x)`: $\sigma'(x) = \sigma(x)(1 - \sigma(x))$, times `dout`."""),
        Task("tanh_backward", "tanh_backward", "cnnlib/activations.py", 1, r"""`tanh_backward(dout, x)`: $\tanh'(x) = 1 - \tanh^2(x)$, times `dout`."""),
        Task("max_pool2d_backward", "max_pool2d_backward", "cnnlib/pool.py", 3, r"""`max_pool2d_backward(dout, x, kernel_size, stride=None)` returns dx `(N, C, H, W)`: each
window's `dout` goes to the position of its maximum. When several values of a window tie for
the maximum, PyTorch gives the gradient to the FIRST one in row-major order; so must you. With
overlapping windows a pixel can be the maximum of several windows: add up.

*Hint:* loop over the window offsets as in the forward pass, and keep a boolean array "this
window's maximum is already found"."""),
        Task("avg_pool2d_backward", "avg_pool2d_backward", "cnnlib/pool.py", 2, r"""`avg_pool2d_backward(dout, x, kernel_size, stride=None)`: each window spreads `dout / (KH*KW)`
evenly over its pixels; with overlapping windows, contributions add up."""),
        Task("linear_backward", "linear_backward", "cnnlib/linear.py", 3, r"""`linear_backward(dout, x, w)` returns `(dx, dw, db)` for $y = x W^\top + b$:
dx `(N, in)`, dw `(out, in)`, db `(out,)`. The loss adds up over the batch, so dw and db SUM the
contributions of the N examples."""),
        Task("cross_entropy_backward", "cross_entropy_backward", "cnnlib/losses.py", 3, r"""`cross_entropy_backward(logits, targets)` returns $\partial L / \partial z$, `(N, K)`, for
the mean cross-entropy $L$: $(\mathrm{softmax}(z) - \mathrm{onehot}(t)) / N$."""),
        Task("conv2d_backward", "conv2d_backward", "cnnlib/conv.py", 5, r"""`conv2d_backward(dout, x, w, stride=1, padding=0)` returns `(dx, dw, db)` with the shapes of
x, w and `(F,)`. db sums dout over images and positions; dw is the cross-correlation of the
(padded) input with dout, summed over the batch; dx is the "full" convolution of dout with w:
every output position sends `dout[n, f, i, j] * w[f]` back to the window it read (then drop
the padding). Any stride and padding.

*Hint:* the loop version is short: for each output position, `dxpad[n, :, window] += w[f] *
dout[n, f, i, j]` and `dw[f] += xpad[n, :, window] * dout[n, f, i, j]`. Make it faster by
looping over the KH x KW kernel offsets instead."""),
    ),
)

ASSIGNMENTS: dict[str, Assignment] = {a.name: a for a in (CONVOLUTION, STRIDE_PADDING, ACTIVATIONS, POOLING,
                                                          DENSE_SOFTMAX, BACKPROP)}


# ---------------------------------------------------------------- chapter 7: training

OPTIMIZERS = Assignment(
    name="07_optimizers",
    title="Optimizers and dropout",
    chapter="Chapter 7, Training",
    intro=r"""You write the update rules that make a network learn, in `cnnlib/optim.py`, and dropout,
in `cnnlib/dropout.py`. Each update rule does ONE step for ONE parameter array: it takes the
parameter, its gradient and the optimizer's state, and returns the new parameter and the new state
(it modifies nothing in place). The checks compare each step with `torch.optim`'s own code,
started from the same state. Bring your finished modules from the earlier assignments first
(`python carry_forward.py 07_optimizers` in your workspace): the optimizer objects and the training
loop in `cnnlib/` call your update rules and your layers.""",
    tasks=(
        Task("sgd_step", "sgd_step", "cnnlib/optim.py", 3, r"""`sgd_step(param, grad, velocity, lr, momentum=0.0, weight_decay=0.0, nesterov=False)` returns
`(new_param, new_velocity)`, as `torch.optim.SGD` computes them:

$$g = \nabla + \lambda\,\theta, \qquad v' = \mu\, v + g, \qquad
\theta' = \theta - \eta\,(g + \mu\, v') \text{ (Nesterov)} \quad\text{or}\quad \theta' = \theta - \eta\, v'$$

with $\eta$ = `lr`, $\mu$ = `momentum`, $\lambda$ = `weight_decay`. With momentum 0 this is plain
gradient descent (and `new_velocity` is just $g$).

*Hint:* in PyTorch's convention the velocity does NOT contain the learning rate (CS231n's notes use
$v' = \mu v - \eta g$; the steps agree only while $\eta$ stays constant)."""),
        Task("adam_step", "adam_step", "cnnlib/optim.py", 3, r"""`adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)`
returns `(new_param, new_m, new_v)` for step number `t` (1 at the first step):

$$m' = \beta_1 m + (1-\beta_1) g, \quad v' = \beta_2 v + (1-\beta_2) g^2, \quad
\theta' = \theta - \eta\, \frac{m'/(1-\beta_1^t)}{\sqrt{v'/(1-\beta_2^t)} + \epsilon}$$

with $g$ = `grad + weight_decay * param`. The two divisions by $1-\beta^t$ are the *bias correction*:
$m$ and $v$ start at zero, so without it the first steps are far too small."""),
        Task("rmsprop_step", "rmsprop_step", "cnnlib/optim.py", 2, r"""`rmsprop_step(param, grad, square_avg, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0)` returns
`(new_param, new_square_avg)`: $s' = \alpha s + (1-\alpha) g^2$, $\theta' = \theta - \eta\, g / (\sqrt{s'} + \epsilon)$
(`torch.optim.RMSprop`, not centered, no momentum)."""),
        Task("adadelta_step", "adadelta_step", "cnnlib/optim.py", 2, r"""`adadelta_step(param, grad, square_avg, acc_delta, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0)`
returns `(new_param, new_square_avg, new_acc_delta)`, the optimizer of the seeds' MNIST example:

$$s' = \rho s + (1-\rho) g^2, \quad \Delta = \frac{\sqrt{a + \epsilon}}{\sqrt{s' + \epsilon}}\, g, \quad
a' = \rho a + (1-\rho) \Delta^2, \quad \theta' = \theta - \eta\,\Delta$$"""),
        Task("dropout", "dropout", "cnnlib/dropout.py", 2, r"""`dropout(x, p, u)` is inverted dropout in training mode: `u` holds one uniform draw in [0, 1) per
value of `x`; a value is KEPT where `u >= p` and then divided by `1 - p`, and is 0 elsewhere. The
expected output is then `x` itself, so that nothing needs to change at test time."""),
        Task("dropout_backward", "dropout_backward", "cnnlib/dropout.py", 1, r"""`dropout_backward(dout, p, u)` returns the gradient with respect to `x` of `dropout(x, p, u)`:
the same mask and the same scaling, applied to `dout`."""),
    ),
)


@dataclass(frozen=True)
class WeightsAssignment(Assignment):
    """An assignment graded on a file of trained weights (cnngrader.weights), not on functions.

    The notebook (cnngrader.training_notebook) trains a network built from the student's own
    cnnlib and saves ``weights_file``; the graded cell evaluates that file with a reference forward
    pass in a separate process, on held-out data, and awards points by accuracy thresholds.
    """

    weights_file: str = "lenet5_weights.npz"
    weights_points: int = 10

    @property
    def points(self) -> int:
        return self.weights_points + sum(t.points for t in self.tasks)


TRAINING = WeightsAssignment(
    name="08_training",
    title="Train your own LeNet-5",
    chapter="Chapter 7, Training",
    intro=r"""You train LeNet-5, built from YOUR `cnnlib` (your convolution, pooling, activations, linear
layer, losses, backward passes and optimizers), on MNIST digits, and hand in the trained weights.
No function is graded here: your network is. The graded cell evaluates the weights that you saved
in `lenet5_weights.npz`, next to this notebook, on held-out test digits that you did not train on.""",
    tasks=(),
)

ASSIGNMENTS.update({a.name: a for a in (OPTIMIZERS, TRAINING)})

ARCHITECTURES = Assignment(
    name="09_architectures",
    title="Residual block and parameter counts",
    chapter="Chapter 8, Architectures",
    intro=r"""You write the basic residual block of ResNet, forward and backward, in `cnnlib/residual.py`,
and the parameter counts of grouped and depthwise separable convolutions in `cnnlib/param_counts.py`.
The residual block calls your `conv2d`, `conv2d_backward`, `relu` and `relu_backward`: copy your
`cnnlib/conv.py`, `cnnlib/shapes.py` and `cnnlib/activations.py` from assignments 02 and 06 over the
ones here first. The argument checks are already written.""",
    tasks=(
        Task("residual_block", "residual_block", "cnnlib/residual.py", 3, r"""`residual_block(x, w1, b1, w2, b2)`
computes, for x `(N, C, H, W)`, w1 and w2 `(C, C, K, K)` (K odd), b1 and b2 `(C,)` or `None`:

$$\text{out} = \mathrm{relu}\big(\mathrm{conv}_2(\mathrm{relu}(\mathrm{conv}_1(x))) + x\big)$$

Both convolutions use stride 1 and padding `K // 2`, so the output has the shape of x and the
skip connection adds x unchanged. The skip is added *before* the last ReLU."""),
        Task("residual_block_backward", "residual_block_backward", "cnnlib/residual.py", 4, r"""`residual_block_backward(dout, x, w1, b1, w2, b2)`
returns `(dx, dw1, db1, dw2, db2)` with the shapes of x, w1, `(C,)`, w2, `(C,)` (db1 and db2 even
when b1 or b2 is `None`). Recompute the forward pass, keeping the values that the backward steps
need (the input of each ReLU). Go backward step by step: the last ReLU, the sum, the second
convolution, the inner ReLU, the first convolution.

*Hint:* x reaches the output along two paths, through the convolutions and through the skip.
Its gradient is the sum of the gradients along both paths."""),
        Task("conv2d_params", "conv2d_params", "cnnlib/param_counts.py", 2, r"""`conv2d_params(c_in, c_out, kernel_size, groups=1, bias=True)`
returns, as an `int`, the number of parameters of `torch.nn.Conv2d(c_in, c_out, kernel_size,
groups=groups, bias=bias)`. `kernel_size` is K or a pair `(KH, KW)`. With `groups = g` the
channels are split into g groups and each output channel sees only the `c_in / g` input
channels of its group."""),
        Task("depthwise_separable_params", "depthwise_separable_params", "cnnlib/param_counts.py", 2, r"""`depthwise_separable_params(c_in, c_out, kernel_size, bias=True)`
returns the parameters of MobileNet's depthwise separable convolution: a depthwise K x K
convolution (c_in to c_in channels, `groups = c_in`) followed by a pointwise 1 x 1 convolution
(c_in to c_out), each with its own biases when `bias` is True."""),
    ),
)

ASSIGNMENTS[ARCHITECTURES.name] = ARCHITECTURES


GRADCAM = Assignment(
    name="10_gradcam",
    title="Grad-CAM: where the network looks",
    chapter="Chapter 9, Beyond classification and interpretation",
    intro=r"""You write the heart of Grad-CAM in `cnnlib/gradcam.py`: the function that turns a layer's
feature maps and the gradient of a class score with respect to them into a heatmap. The PyTorch
part that captures both from a real model (a forward hook and `torch.autograd.grad`) is already
written in the same file; the chapter shows it at work on a photograph of a cat.""",
    tasks=(
        Task("grad_cam_map", "grad_cam_map", "cnnlib/gradcam.py", 6, r"""`grad_cam_map(activations, gradients)`
takes the K feature maps $A_k$ of one image at the chosen layer, `activations` `(K, H, W)`, and
the gradient of the class score $y_c$ (the logit, before softmax) with respect to them,
`gradients` `(K, H, W)`, and returns the `(H, W)` map

$$\alpha_k = \frac{1}{HW} \sum_{i,j} \frac{\partial y_c}{\partial A_k(i, j)}, \qquad
L_c = \mathrm{ReLU}\Big(\sum_k \alpha_k A_k\Big)$$

in the inputs' dtype. The argument checks are already written.

*Hints:* $\alpha$ has one number per feature map (K values): average over the two spatial axes
only; the ReLU comes once, after the sum over $k$; a sum over $k$ of $\alpha_k A_k$ is a
contraction of the first axes, which `np.tensordot` (or broadcasting and `sum`) does in one call."""),
    ),
)

ASSIGNMENTS[GRADCAM.name] = GRADCAM
