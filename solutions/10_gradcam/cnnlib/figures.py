"""Figure helpers for the book: annotated grids, sliding windows, stacks of feature maps, diagrams.

Every helper only *draws*: the numbers it shows (outputs of a convolution, padded inputs, output
shapes) are computed by the caller with cnnlib or PyTorch and passed in. Each helper returns the
matplotlib Figure (or the Axes it drew on) so that a notebook cell can end with ``plt.show()``.
matplotlib is imported here and nowhere else in cnnlib.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

Window = tuple[int, int, int, int]  # (row, col, height, width) of a rectangle of cells
WINDOW_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e")
PAD_COLOR = "0.88"


def _fmt(value: float, fmt: str) -> str:
    text = fmt.format(value)
    return text.replace("-", "\N{MINUS SIGN}")


def draw_grid(
    ax: Axes,
    values: np.ndarray,
    *,
    cmap: str = "Blues",
    vmin: float | None = None,
    vmax: float | None = None,
    fmt: str = "{:g}",
    fontsize: float | None = None,
    border: int = 0,
    windows: Sequence[Window] = (),
    window_styles: Sequence[str] = ("-",),
    cells: Sequence[tuple[int, int]] = (),
    weights: np.ndarray | None = None,
    title: str | None = None,
    show_values: bool = True,
    grid_color: str = "white",
) -> Axes:
    """Draw a 2-D array as a grid of coloured cells with its numbers written in them.

    border: the outer ``border`` rings are padding (drawn grey); windows: rectangles
    (row, col, height, width) outlined in WINDOW_COLORS order, with line styles cycling through
    ``window_styles``; cells: single cells outlined in the first colour; weights: written as
    small "x w" labels inside the first window (a kernel laid over the input). Windows after
    the first are drawn slightly inset so that overlapping outlines stay distinct.
    """
    values = np.asarray(values, dtype=float)
    h, w = values.shape
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    if fontsize is None:
        fontsize = max(6.0, 13.0 - 0.6 * max(h, w))
    for r in range(h):
        for c in range(w):
            pad = border > 0 and (r < border or c < border or r >= h - border or c >= w - border)
            if pad:
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=PAD_COLOR, edgecolor="none"))
            if show_values:
                rgba = im.cmap(im.norm(values[r, c]))
                light = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.55
                color = "0.45" if pad else ("black" if light else "white")
                ax.text(c, r, _fmt(values[r, c], fmt), ha="center", va="center", fontsize=fontsize, color=color)
    # cell borders, drawn only over the array (the axes may be wider, see small_multiples)
    ax.hlines(np.arange(-0.5, h + 0.5), -0.5, w - 0.5, color=grid_color, linewidth=1.5)
    ax.vlines(np.arange(-0.5, w + 0.5), -0.5, h - 0.5, color=grid_color, linewidth=1.5)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    for i, (r, c, wh, ww) in enumerate(windows):
        inset = 0.1 if i else 0.0
        ax.add_patch(
            Rectangle(
                (c - 0.5 + inset, r - 0.5 + inset), ww - 2 * inset, wh - 2 * inset, fill=False, linewidth=3,
                edgecolor=WINDOW_COLORS[i % len(WINDOW_COLORS)],
                linestyle=window_styles[i % len(window_styles)],
            )
        )
    if weights is not None and windows:
        r0, c0 = windows[0][:2]
        for (m, n), wt in np.ndenumerate(np.asarray(weights)):
            ax.text(c0 + n + 0.45, r0 + m + 0.45, "\N{MULTIPLICATION SIGN}" + _fmt(wt, "{:g}"),
                    ha="right", va="bottom", fontsize=0.6 * fontsize, color=WINDOW_COLORS[0])
    for r, c in cells:
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, linewidth=3, edgecolor=WINDOW_COLORS[0]))
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def grid_equation(
    grids: Sequence[np.ndarray],
    ops: Sequence[str],
    titles: Sequence[str] = (),
    cmaps: Sequence[str] = ("Blues", "RdBu_r", "RdBu_r"),
    size: float = 3.0,
) -> Figure:
    """Grids side by side with an operator between each pair, e.g. ``input ⋆ kernel = output``.

    len(ops) must be len(grids) - 1. Diverging colour maps are centred on zero.
    """
    if len(ops) != len(grids) - 1:
        raise ValueError(f"{len(grids)} grids need {len(grids) - 1} operators, got {len(ops)}")
    widths = [np.shape(g)[1] for g in grids]
    fig, axes = plt.subplots(1, len(grids), figsize=(size * len(grids) + 0.6 * len(ops), size),
                             gridspec_kw=dict(width_ratios=widths, wspace=0.35))
    axes = np.atleast_1d(axes)
    for i, (ax, g) in enumerate(zip(axes, grids)):
        cmap = cmaps[i % len(cmaps)]
        lim = float(np.max(np.abs(g))) or 1.0
        kw = dict(vmin=-lim, vmax=lim) if cmap in ("RdBu_r", "RdBu", "coolwarm", "PuOr") else {}
        draw_grid(ax, g, cmap=cmap, title=titles[i] if i < len(titles) else None, **kw)
    for i, op in enumerate(ops):
        left, right = axes[i].get_position(), axes[i + 1].get_position()
        fig.text((left.x1 + right.x0) / 2, (left.y0 + left.y1) / 2, op, ha="center", va="center", fontsize=26)
    return fig


def sliding_window_figure(
    image: np.ndarray,
    kernel_shape: tuple[int, int],
    output: np.ndarray,
    positions: Sequence[tuple[int, int]] | None = None,
    stride: int | tuple[int, int] = 1,
    border: int = 0,
    weights: np.ndarray | None = None,
    ncols: int = 3,
    show_output: bool = True,
    panel: float = 2.4,
) -> Figure:
    """The window that produces each of the given output cells, drawn over the input.

    image: the (already padded, if ``border`` > 0) input; output: the result computed by the
    caller; positions: output cells (i, j) to show (default: all). The window of output (i, j)
    starts at row i * stride_h, column j * stride_w of ``image``. With ``show_output`` each input
    panel is followed by the output grid with cell (i, j) outlined. ``weights`` are written in
    the window. Returns a figure with len(positions) * (2 if show_output else 1) axes.
    """
    sh, sw = (stride, stride) if np.isscalar(stride) else stride
    kh, kw = kernel_shape
    output = np.asarray(output, dtype=float)
    if positions is None:
        positions = [(i, j) for i in range(output.shape[0]) for j in range(output.shape[1])]
    per = 2 if show_output else 1
    nrows = -(-len(positions) // ncols)
    fig, axes = plt.subplots(nrows, ncols * per, figsize=(panel * ncols * per, panel * nrows + 0.3),
                             squeeze=False)
    lim = float(np.max(np.abs(output))) or 1.0
    for k, ax in enumerate(axes.flat):
        slot, part = divmod(k, per)
        if slot >= len(positions):
            fig.delaxes(ax)
            continue
        i, j = positions[slot]
        if part == 0:
            draw_grid(ax, image, border=border, windows=[(i * sh, j * sw, kh, kw)], weights=weights,
                      title=f"window for out[{i}, {j}]")
        else:
            shown = np.full(output.shape, np.nan)
            order = list(positions[: slot + 1])
            for p, q in order:
                shown[p, q] = output[p, q]
            draw_grid(ax, np.nan_to_num(shown), cmap="RdBu_r", vmin=-lim, vmax=lim, cells=[(i, j)],
                      title=f"out[{i}, {j}] = {_fmt(output[i, j], '{:g}')}", show_values=False)
            for p, q in order:
                ax.text(q, p, _fmt(output[p, q], "{:g}"), ha="center", va="center", fontsize=10)
    fig.tight_layout()
    return fig


def feature_map_stack(
    image: np.ndarray,
    maps: Sequence[np.ndarray],
    kernels: Sequence[np.ndarray] | None = None,
    titles: Sequence[str] = (),
    image_cmap: str = "gray",
    map_cmap: str = "RdBu_r",
    percentile: float = 99.0,
) -> Figure:
    """An input, the filters applied to it, and the feature maps stacked into an output volume.

    image: (H, W) grey or (H, W, 3) RGB; maps: F arrays (H', W'); kernels: F small arrays (drawn
    as grids) or None. Each map's colour scale is symmetric about zero and saturates at the
    ``percentile``-th percentile of its absolute values (so that a few strong edges do not wash
    out the rest). Returns a figure with 1 + F (+ F if kernels) axes.
    """
    n = len(maps)
    fig = plt.figure(figsize=(12, 4.6))
    ax_in = fig.add_axes((0.01, 0.12, 0.25, 0.72))
    ax_in.imshow(image, cmap=image_cmap if np.ndim(image) == 2 else None)
    ax_in.set_title("input", fontsize=11)
    ax_in.axis("off")
    x_stack = 0.34
    if kernels is not None:
        height = 0.8 / n
        for f, k in enumerate(kernels):
            ax_k = fig.add_axes((0.30, 0.92 - (f + 1) * height + 0.01, 0.12, height - 0.03))
            lim = float(np.max(np.abs(k))) or 1.0
            draw_grid(ax_k, k, cmap="RdBu_r", vmin=-lim, vmax=lim, fontsize=7)
            ax_k.set_ylabel(f"filter {f}", fontsize=9)
        x_stack = 0.47
    step_x, step_y, w, h = 0.035, 0.05, 0.28, 0.62
    for f in range(n - 1, -1, -1):  # back to front: map 0 ends on top
        ax = fig.add_axes((x_stack + f * step_x, 0.06 + f * step_y, w, h))
        lim = float(np.percentile(np.abs(maps[f]), percentile)) or 1.0
        ax.imshow(maps[f], cmap=map_cmap, vmin=-lim, vmax=lim)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_linewidth(1.5)
        label = titles[f] if f < len(titles) else f"map {f}"
        ax.text(1.02, 1.0, label, transform=ax.transAxes, fontsize=9, va="top")
    if kernels is not None:
        fig.text(0.28, 0.48, r"$\star$", ha="center", va="center", fontsize=40)
    start = (0.435, 0.45) if kernels is not None else (0.27, 0.45)
    fig.add_artist(FancyArrowPatch(start, (x_stack - 0.01, 0.40), transform=fig.transFigure,
                                   arrowstyle="-|>", mutation_scale=18, color="0.3"))
    fig.text(x_stack + 0.1, 0.005, f"output volume: {n} feature maps", fontsize=10, ha="left")
    return fig


def draw_connections(ax: Axes, n_in: int, kernel_size: int, kind: str = "shared") -> Axes:
    """One layer of a 1-D network drawn as inputs (bottom) wired to outputs (top).

    kind: "dense" (every output sees every input), "local" (output j sees inputs j..j+k-1, each
    edge its own weight) or "shared" (local, and edge m of every output uses the same weight m,
    drawn in the same colour). Titles give the number of edges and of distinct weights.
    """
    if kind not in ("dense", "local", "shared"):
        raise ValueError(f"kind must be 'dense', 'local' or 'shared', got {kind!r}")
    n_out = n_in - kernel_size + 1
    x_in = np.arange(n_in, dtype=float)
    x_out = np.arange(n_out) + (kernel_size - 1) / 2
    edges = 0
    for j in range(n_out):
        sources = range(n_in) if kind == "dense" else range(j, j + kernel_size)
        for i in sources:
            m = i - j
            color = WINDOW_COLORS[m] if kind == "shared" and m < len(WINDOW_COLORS) else "0.55"
            ax.plot([x_in[i], x_out[j]], [0, 1], color=color, linewidth=1.6, zorder=1)
            edges += 1
    weights = {"dense": edges, "local": edges, "shared": kernel_size}[kind]
    for xs, y, name in ((x_in, 0, "x"), (x_out, 1, "s")):
        for i, x in enumerate(xs):
            ax.add_patch(Circle((x, y), 0.22, facecolor="white", edgecolor="black", zorder=2))
            ax.text(x, y, f"${name}_{{{i + 1}}}$", ha="center", va="center", fontsize=9, zorder=3)
    ax.set_xlim(-0.5, n_in - 0.5)
    ax.set_ylim(-0.4, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{kind}: {edges} connections, {weights} distinct weights", fontsize=10)
    return ax


def connectivity_figure(n_in: int = 7, kernel_size: int = 3) -> Figure:
    """Dense, locally connected and convolutional (local + shared) layers side by side: 3 axes."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 2.6))
    for ax, kind in zip(axes, ("dense", "local", "shared")):
        draw_connections(ax, n_in, kernel_size, kind)
    fig.tight_layout()
    return fig


def neuron_diagram(patch: np.ndarray, weights: np.ndarray, bias: float) -> Figure:
    """One convolutional unit: a patch times the filter, summed, plus the bias, through ReLU.

    patch and weights: arrays of the same shape (e.g. 3x3); the diagram writes their values,
    z = sum(patch * weights) + bias and y = max(0, z). Returns a figure with one axis.
    """
    x = np.asarray(patch, dtype=float).ravel()
    w = np.asarray(weights, dtype=float).ravel()
    if x.shape != w.shape:
        raise ValueError(f"patch has {x.size} values but weights has {w.size}")
    z = float(x @ w + bias)
    y = max(0.0, z)
    n = x.size
    fig, ax = plt.subplots(figsize=(10, 0.5 * n + 1.0))
    ys = np.linspace(n - 1, 0, n)
    mid = (n - 1) / 2
    sx = 5.0  # the summing node
    for k in range(n):
        ax.add_patch(Circle((0, ys[k]), 0.3, facecolor="#deebf7", edgecolor="black", zorder=2))
        ax.text(0, ys[k], _fmt(x[k], "{:g}"), ha="center", va="center", fontsize=9, zorder=3)
        ax.text(-0.45, ys[k], f"$x_{{{k + 1}}}$", ha="right", va="center", fontsize=10)
        ax.plot([0.3, sx - 0.5], [ys[k], mid], color="0.65", linewidth=1, zorder=1)
        t = 0.16  # label the edge close to its input, where the edges are far apart
        ax.text(0.3 + t * (sx - 0.8), ys[k] + t * (mid - ys[k]) + 0.08,
                f"$w_{{{k + 1}}}$ = {_fmt(w[k], '{:g}')}", fontsize=8, color=WINDOW_COLORS[1],
                ha="left", va="bottom")
    ax.add_patch(Circle((sx, mid), 0.5, facecolor="#fdd0a2", edgecolor="black", zorder=2))
    ax.text(sx, mid, r"$\Sigma + b$", ha="center", va="center", fontsize=11, zorder=3)
    ax.text(sx, mid - 0.8, f"b = {_fmt(bias, '{:g}')}", ha="center", va="top", fontsize=9)
    ax.annotate("", xy=(7.0, mid), xytext=(sx + 0.5, mid), arrowprops=dict(arrowstyle="->"))
    ax.text((sx + 7.5) / 2, mid + 0.2, f"z = {_fmt(z, '{:g}')}", ha="center", va="bottom", fontsize=10)
    ax.add_patch(FancyBboxPatch((7.0, mid - 0.4), 1.5, 0.8, boxstyle="round,pad=0.05",
                                facecolor="#c7e9c0", edgecolor="black"))
    ax.text(7.75, mid, "ReLU", ha="center", va="center", fontsize=11)
    ax.annotate("", xy=(9.6, mid), xytext=(8.55, mid), arrowprops=dict(arrowstyle="->"))
    ax.text(9.7, mid, f"y = {_fmt(y, '{:g}')}", ha="left", va="center", fontsize=11)
    ax.set_xlim(-1.2, 11.2)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def small_multiples(
    padded_inputs: Sequence[np.ndarray],
    outputs: Sequence[np.ndarray],
    settings: Sequence[tuple[int, int, int]],
    panel: float = 2.6,
) -> Figure:
    """One input under several (kernel, stride, padding) settings: windows on top, outputs below.

    padded_inputs[i]: the input padded by settings[i]'s padding (computed by the caller);
    outputs[i]: the convolution's output for settings[i] = (k, s, p). The top panel outlines the
    first window (solid) and the next one along the row (dashed), one stride to the right. All
    panels share one cell size, so sizes compare at a glance. Returns 2 * len(settings) axes.
    """
    n = len(settings)
    top = max(max(np.shape(a)) for a in padded_inputs)
    bottom = max(max(np.shape(a)) for a in outputs)
    fig, axes = plt.subplots(2, n, figsize=(panel * n, panel * (1 + bottom / top) + 0.8), squeeze=False,
                             gridspec_kw=dict(height_ratios=[top, bottom]))
    for col, ((k, s, p), xp, out) in enumerate(zip(settings, padded_inputs, outputs)):
        h, w = np.shape(xp)[0] - 2 * p, np.shape(xp)[1] - 2 * p
        windows = [(0, 0, k, k)] + ([(0, s, k, k)] if np.shape(out)[1] > 1 else [])
        draw_grid(axes[0, col], xp, border=p, windows=windows, window_styles=("-", "--"), cmap="Greys",
                  vmin=0, vmax=3 * float(np.max(xp)) or 1.0, fontsize=8, grid_color="0.75",
                  title=f"k={k}, s={s}, p={p}\n{h}\N{MULTIPLICATION SIGN}{w} input")
        oh, ow = np.shape(out)
        draw_grid(axes[1, col], out, cmap="Blues", vmin=0, fontsize=8,
                  title=f"{oh}\N{MULTIPLICATION SIGN}{ow} output")
        for ax, side in zip(axes[:, col], (top, bottom)):
            ax.set_xlim(-0.5, top - 0.5)
            ax.set_ylim(side - 0.5, -0.5)
    fig.tight_layout()
    return fig


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown pipe table (for ``IPython.display.Markdown``); cells are str()-ed as given."""
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row {row!r} has {len(row)} cells, expected {len(headers)}")
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


# --- Chapters 3 to 6: pooling windows, flattening, dense layers, architectures, graphs ----------

POOL_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
               "#bcbd22", "#17becf")


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (int(value), int(value)) if np.isscalar(value) else (int(value[0]), int(value[1]))


def _plain_grid(ax: Axes, values: np.ndarray, fmt: str, fontsize: float | None, title: str | None) -> float:
    """White cells with their values written in black, thin grey borders; returns the font size."""
    values = np.asarray(values, dtype=float)
    h, w = values.shape
    ax.imshow(np.zeros((h, w)), cmap="Greys", vmin=0, vmax=1)
    if fontsize is None:
        fontsize = max(6.0, 13.0 - 0.6 * max(h, w))
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, _fmt(v, fmt), ha="center", va="center", fontsize=fontsize, zorder=4)
    ax.hlines(np.arange(-0.5, h + 0.5), -0.5, w - 0.5, color="0.6", linewidth=1)
    ax.vlines(np.arange(-0.5, w + 0.5), -0.5, h - 0.5, color="0.6", linewidth=1)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=11)
    return fontsize


def pool_windows_grid(
    ax: Axes,
    values: np.ndarray,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    *,
    windows: Sequence[tuple[int, int]] | None = None,
    marks: Sequence[tuple[int, int]] = (),
    tint: bool | None = None,
    fmt: str = "{:g}",
    fontsize: float | None = None,
    title: str | None = None,
) -> Axes:
    """A 2-D input of a pooling layer with its windows drawn in POOL_COLORS.

    The window of output (i, j) covers rows i*SH .. i*SH+KH-1 and columns j*SW .. j*SW+KW-1
    (stride defaults to kernel_size). windows: the output cells whose windows are drawn (default
    all, in row-major order, colour k for the k-th). tint: fill each window with a light version
    of its colour (default: only when windows do not overlap); otherwise, and always, outline it.
    marks: input cells (r, c) drawn in bold inside a black square, e.g. the maximum of each window
    (found by the caller). Returns ax.
    """
    values = np.asarray(values, dtype=float)
    kh, kw = _pair(kernel_size)
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    ho, wo = (values.shape[0] - kh) // sh + 1, (values.shape[1] - kw) // sw + 1
    if windows is None:
        windows = [(i, j) for i in range(ho) for j in range(wo)]
    if tint is None:
        tint = sh >= kh and sw >= kw
    size = _plain_grid(ax, values, fmt, fontsize, title)
    for k, (i, j) in enumerate(windows):
        color = POOL_COLORS[k % len(POOL_COLORS)]
        r0, c0 = i * sh, j * sw
        if tint:
            ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), kw, kh, facecolor=color, alpha=0.28,
                                   edgecolor="none", zorder=1))
        inset = 0.0 if tint else 0.06 + 0.08 * (k % 3)
        ax.add_patch(Rectangle((c0 - 0.5 + inset, r0 - 0.5 + inset), kw - 2 * inset, kh - 2 * inset,
                               fill=False, edgecolor=color, linewidth=2.5, zorder=3))
    for r, c in marks:
        ax.add_patch(Rectangle((c - 0.36, r - 0.36), 0.72, 0.72, fill=False, edgecolor="black",
                               linewidth=1.5, zorder=5))
        for t in ax.texts:
            if t.get_position() == (c, r):
                t.set_fontweight("bold")
                t.set_fontsize(size * 1.1)
    return ax


def pool_output_grid(ax: Axes, values: np.ndarray, *, cells: Sequence[tuple[int, int]] | None = None,
                     fmt: str = "{:g}", fontsize: float | None = None, title: str | None = None) -> Axes:
    """A pooling layer's output; the k-th of ``cells`` (default all, row-major) is tinted in
    POOL_COLORS[k], the colour that pool_windows_grid gives its window."""
    values = np.asarray(values, dtype=float)
    _plain_grid(ax, values, fmt, fontsize, title)
    if cells is None:
        cells = list(np.ndindex(*values.shape))
    for k, (r, c) in enumerate(cells):
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=POOL_COLORS[k % len(POOL_COLORS)],
                               alpha=0.28, edgecolor="none", zorder=1))
    return ax


def pooling_figure(
    x: np.ndarray,
    out: np.ndarray,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    *,
    windows: Sequence[tuple[int, int]] | None = None,
    marks: Sequence[tuple[int, int]] = (),
    label: str = "max pooling",
    fmt: str = "{:g}",
    titles: Sequence[str] = ("input", "output"),
    cell: float = 0.75,
) -> Figure:
    """Input with coloured windows, an arrow labelled ``label``, and the output (computed by the
    caller) with each cell in its window's colour. windows: the output cells whose windows are
    drawn (default all); marks: input cells to draw in bold. Returns a figure with 2 axes."""
    x, out = np.asarray(x, dtype=float), np.asarray(out, dtype=float)
    h = max(x.shape[0], out.shape[0])
    fig, axes = plt.subplots(1, 2, figsize=(cell * (x.shape[1] + out.shape[1]) + 2.6, cell * h + 0.9),
                             gridspec_kw=dict(width_ratios=[x.shape[1], out.shape[1]], wspace=0.6))
    pool_windows_grid(axes[0], x, kernel_size, stride, windows=windows, marks=marks, fmt=fmt, title=titles[0])
    pool_output_grid(axes[1], out, cells=windows, fmt=fmt, title=titles[1])
    axes[1].set_ylim(x.shape[0] - 0.5 - (x.shape[0] - out.shape[0]) / 2, -0.5 - (x.shape[0] - out.shape[0]) / 2)
    left, right = axes[0].get_position(), axes[1].get_position()
    y = (left.y0 + left.y1) / 2
    fig.add_artist(FancyArrowPatch((left.x1 + 0.01, y), (right.x0 - 0.01, y), transform=fig.transFigure,
                                   arrowstyle="-|>", mutation_scale=18, color="0.3"))
    fig.text((left.x1 + right.x0) / 2, y + 0.04, label, ha="center", va="bottom", fontsize=10)
    return fig


def flatten_figure(x: np.ndarray, fmt: str = "{:g}", cell: float = 0.6) -> Figure:
    """A small (C, H, W) array drawn as C grids, and its flattened vector (C order) below them.

    Every cell of channel c is tinted in POOL_COLORS[c]; the vector's cells carry their index.
    Returns a figure with C + 1 axes (the channels, then the vector).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"x must be (C, H, W), got shape {x.shape}")
    c, h, w = x.shape
    n = x.size
    fig = plt.figure(figsize=(max(cell * n, 1.4 * cell * c * (w + 1)) + 0.4, cell * (h + 1) + 2.2))
    grid = fig.add_gridspec(2, c, height_ratios=[h + 1.2, 2.2], hspace=0.35)
    flat = x.reshape(-1)
    for ch in range(c):
        ax = fig.add_subplot(grid[0, ch])
        _plain_grid(ax, x[ch], fmt, None, f"channel {ch}")
        ax.add_patch(Rectangle((-0.5, -0.5), w, h, facecolor=POOL_COLORS[ch % len(POOL_COLORS)], alpha=0.28,
                               edgecolor="none", zorder=1))
    ax = fig.add_subplot(grid[1, :])
    _plain_grid(ax, flat[None, :], fmt, 10.0, f"flattened: a vector of {c}\N{MULTIPLICATION SIGN}{h}"
                f"\N{MULTIPLICATION SIGN}{w} = {n} values")
    for k in range(n):
        ax.add_patch(Rectangle((k - 0.5, -0.5), 1, 1, facecolor=POOL_COLORS[(k // (h * w)) % len(POOL_COLORS)],
                               alpha=0.28, edgecolor="none", zorder=1))
        ax.text(k, 0.75, str(k), ha="center", va="center", fontsize=8, color="0.35")
    ax.set_ylim(1.1, -0.5)
    return fig


def dense_layer_diagram(n_in: int, n_out: int, in_labels: Sequence[str] | None = None,
                        out_labels: Sequence[str] | None = None) -> Figure:
    """A fully connected layer: n_in input nodes (left), each wired to every one of n_out output
    nodes (right). The edges into output 0 are drawn in colour and one is labelled w_{1,1}.
    Returns a figure with one axis whose title counts the weights and biases."""
    fig, ax = plt.subplots(figsize=(6.5, 0.55 * max(n_in, n_out) + 1.0))
    y_in = np.linspace(n_in - 1, 0, n_in) - (n_in - 1) / 2
    y_out = np.linspace(n_out - 1, 0, n_out) * (n_in - 1) / max(n_out - 1, 1) - (n_in - 1) / 2 \
        if n_out > 1 else np.zeros(1)
    x_in, x_out = 0.0, 4.0
    for j in range(n_out):
        for i in range(n_in):
            color, lw = (WINDOW_COLORS[0], 1.6) if j == 0 else ("0.7", 0.9)
            ax.plot([x_in, x_out], [y_in[i], y_out[j]], color=color, linewidth=lw, zorder=1)
    ax.text(x_in + 1.2, y_in[0] + 0.12, r"$w_{1,1}$", color=WINDOW_COLORS[0], fontsize=10)
    in_labels = in_labels or [f"$x_{{{i + 1}}}$" for i in range(n_in)]
    out_labels = out_labels or [f"$y_{{{j + 1}}}$" for j in range(n_out)]
    for xs, ys, labels, face in ((x_in, y_in, in_labels, "#deebf7"), (x_out, y_out, out_labels, "#c7e9c0")):
        for y, text in zip(ys, labels):
            ax.add_patch(Circle((xs, y), 0.3, facecolor=face, edgecolor="black", zorder=2))
            ax.text(xs, y, text, ha="center", va="center", fontsize=10, zorder=3)
    ax.text(x_out + 0.5, y_out[0], r"$= f\,(w_1 \cdot x + b_1)$", va="center", fontsize=10)
    ax.set_xlim(-0.6, 7.0)
    ax.set_ylim(min(y_in.min(), y_out.min()) - 0.6, max(y_in.max(), y_out.max()) + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{n_in} inputs, {n_out} outputs: {n_in * n_out} weights + {n_out} biases", fontsize=10)
    return fig


def architecture_figure(stages: Sequence[tuple[str, tuple[int, ...]]], ops: Sequence[str],
                        height: float = 3.4) -> Figure:
    """A network drawn as its sequence of activations, with the operation between each pair.

    stages: (label, shape) with shape (C, H, W) for feature maps (drawn as a stack of up to 8
    squares of side proportional to H) or (D,) for vectors (a bar of height proportional to
    log D); ops: len(stages) - 1 operation names written over the arrows. Returns one axis.
    """
    if len(ops) != len(stages) - 1:
        raise ValueError(f"{len(stages)} stages need {len(ops)} + 1 = {len(stages) - 1} operations, got {len(ops)}")
    biggest = max(s[1] for _, s in stages if len(s) == 3) if any(len(s) == 3 for _, s in stages) else 1
    gap = 1.45
    fig, ax = plt.subplots(figsize=(1.75 * len(stages) + 0.5, height))
    x = 0.0
    centres = []
    for k, (label, shape) in enumerate(stages):
        color = POOL_COLORS[k % len(POOL_COLORS)]
        if len(shape) == 3:
            c, h, w = shape
            side = 0.35 + 1.45 * h / biggest
            layers = min(c, 8)
            step = 0.06
            for layer in range(layers - 1, -1, -1):
                ax.add_patch(Rectangle((x + layer * step, -side / 2 + layer * step), side * w / h, side,
                                       facecolor=color, alpha=0.35, edgecolor=color, linewidth=1))
            width = side * w / h + (layers - 1) * step
            text = f"{h}\N{MULTIPLICATION SIGN}{w}\N{MULTIPLICATION SIGN}{c}"
        elif len(shape) == 1:
            side = 0.3 + 0.25 * np.log10(max(shape[0], 1))
            ax.add_patch(Rectangle((x, -side / 2), 0.14, side, facecolor=color, alpha=0.5, edgecolor=color))
            width = 0.14
            text = f"{shape[0]}"
        else:
            raise ValueError(f"stage {label!r}: shape must be (C, H, W) or (D,), got {shape}")
        ax.text(x + width / 2, -1.1, text, ha="center", va="top", fontsize=9)
        ax.text(x + width / 2, 1.05, label, ha="center", va="bottom", fontsize=9)
        centres.append((x, x + width))
        x += width + gap
    for k, op in enumerate(ops):
        start, end = centres[k][1] + 0.08, centres[k + 1][0] - 0.08
        ax.annotate("", xy=(end, 0), xytext=(start, 0), arrowprops=dict(arrowstyle="->", color="0.3"))
        ax.text((start + end) / 2, 0.08, op, ha="center", va="bottom", fontsize=8, color="0.2")
    ax.set_xlim(-0.3, x - gap + 0.3)
    ax.set_ylim(-1.6, 1.5)
    ax.axis("off")
    return fig


def computation_graph(
    nodes: dict[str, tuple[float, float, str]],
    edges: Sequence[tuple[str, str]],
    ops: Sequence[str] = (),
    grads: dict[str, str] | None = None,
    size: tuple[float, float] = (14.0, 3.0),
) -> Figure:
    """A computational graph, with the forward values in the nodes and the gradients below them.

    nodes: name -> (x, y, label); names listed in ``ops`` are drawn as circles (operations), the
    others as rounded boxes (values), each sized to its label. edges: (source, target) arrows.
    grads: name -> text written in red below that node (the gradient of the loss with respect to
    it, computed by the caller). Returns a figure with one axis.
    """
    fig, ax = plt.subplots(figsize=size)
    texts = {}
    for name, (x, y, label) in nodes.items():
        is_op = name in ops
        texts[name] = ax.text(x, y, label, ha="center", va="center", fontsize=10, zorder=3,
                              bbox=dict(boxstyle="circle,pad=0.25" if is_op else "round,pad=0.35",
                                        facecolor="#fdd0a2" if is_op else "#deebf7", edgecolor="black"))
        if grads and name in grads:
            ax.text(x, y - 0.42, grads[name], ha="center", va="top", fontsize=9, color=WINDOW_COLORS[0])
    for src, dst in edges:
        ax.annotate("", xy=nodes[dst][:2], xytext=nodes[src][:2], zorder=4,
                    arrowprops=dict(arrowstyle="-|>", color="0.35", mutation_scale=14, shrinkA=3, shrinkB=3,
                                    patchA=texts[src].get_bbox_patch(), patchB=texts[dst].get_bbox_patch()))
    xs = [v[0] for v in nodes.values()]
    ys = [v[1] for v in nodes.values()]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 1.3, max(ys) + 0.6)
    ax.axis("off")
    return fig
