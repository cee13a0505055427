"""Figures of chapter 8: the residual block, drawn (the seeds' "Figure 5", done by code)."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

__all__ = ["residual_block_figure"]

_BODY = ["3x3 conv, C channels", "batch norm", "ReLU", "3x3 conv, C channels", "batch norm"]


def residual_block_figure(body: list[str] | None = None, skip_label: str = "identity: x") -> Figure:
    """The residual block of He et al. (2016, figure 2), top to bottom: x enters, flows through the
    ``body`` (the residual function F), is added to the skip connection at a circle "+", and
    the sum goes through a final ReLU: out = relu(F(x) + x). Returns one axis, no frame.
    """
    body = list(_BODY if body is None else body)
    if not body:
        raise ValueError("body must name at least one layer, got an empty list")
    fig, ax = plt.subplots(figsize=(5.2, 1.0 + 0.75 * (len(body) + 3)))
    y = 0.0
    step = 0.75
    centres = []

    def box(text: str, y: float, color: str) -> None:
        ax.add_patch(FancyBboxPatch((-1.3, y - 0.22), 2.6, 0.44, boxstyle="round,pad=0.03", facecolor=color,
                                    edgecolor="0.3"))
        ax.text(0, y, text, ha="center", va="center", fontsize=10)

    ax.text(0, y, "x  (N, C, H, W)", ha="center", va="center", fontsize=11, fontweight="bold")
    top = y
    centres.append(y - 0.15)
    for k, name in enumerate(body):
        y -= step
        box(name, y, "#cfe3f5" if "conv" in name else "#f3e2c7" if "norm" in name else "#d9efd3")
        centres.append(y)
    y -= step
    plus = y
    ax.add_patch(Circle((0, plus), 0.2, facecolor="white", edgecolor="0.2", linewidth=1.5))
    ax.text(0, plus, "+", ha="center", va="center", fontsize=16)
    y -= step
    box("ReLU", y, "#d9efd3")
    relu_y = y
    y -= step
    ax.text(0, y, "out = relu(F(x) + x)", ha="center", va="center", fontsize=11, fontweight="bold")
    ys = centres + [plus, relu_y, y]
    for a, b in zip(ys, ys[1:]):
        ax.add_patch(FancyArrowPatch((0, a - (0.22 if a != top - 0.15 else 0.0)),
                                     (0, b + (0.2 if b == plus else 0.22 if b != y else 0.15)),
                                     arrowstyle="-|>", mutation_scale=12, color="0.3"))
    # the skip connection: out of x to the right, down, into the "+"
    ax.plot([0.9, 2.0, 2.0], [top - 0.1, top - 0.1, plus], color="#c0392b", linewidth=2)
    ax.annotate("", xy=(0.2, plus), xytext=(2.0, plus),
                arrowprops=dict(arrowstyle="-|>", color="#c0392b", linewidth=2))
    ax.text(2.1, (top + plus) / 2, skip_label, rotation=-90, ha="left", va="center", color="#c0392b", fontsize=10)
    ax.text(-1.45, (centres[1] + centres[-1]) / 2, "F(x)", ha="right", va="center", fontsize=12, style="italic")
    ax.set_xlim(-2.1, 2.6)
    ax.set_ylim(y - 0.4, top + 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig
