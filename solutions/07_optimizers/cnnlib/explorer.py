"""Move a filter over an input and change kernel size, stride and padding; watch the output.

In Jupyter: ``from cnnlib.explorer import explore; explore()`` shows sliders (ipywidgets) for the
kernel size, stride, padding and the output position; the figure and the output size
``H' = (H + 2p - k) // s + 1`` follow every change. In the static book the same idea is
``states_figure``: small multiples of precomputed states.

Outputs are computed by PyTorch (cnnlib.reference), not by your cnnlib, so the explorer works
before you have written conv2d: compare its numbers with yours.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from . import figures
from . import reference as ref

__all__ = ["State", "state", "draw_state", "states_figure", "ConvExplorer", "explore", "DEFAULT_IMAGE"]

# A 7x7 input with a vertical edge and a bright square, so that the outputs differ from place to place.
DEFAULT_IMAGE = np.array([[0, 0, 0, 3, 3, 3, 3],
                          [0, 0, 0, 3, 3, 3, 3],
                          [0, 0, 0, 3, 3, 3, 3],
                          [0, 1, 1, 1, 0, 0, 0],
                          [0, 1, 2, 1, 0, 0, 0],
                          [0, 1, 1, 1, 0, 0, 0],
                          [0, 0, 0, 0, 0, 0, 0]], dtype=float)


def edge_kernel(k: int) -> np.ndarray:
    """A k x k vertical-edge filter: -1 in the left column, +1 in the right one (k = 1: the identity)."""
    kernel = np.zeros((k, k))
    if k == 1:
        kernel[0, 0] = 1.0
    else:
        kernel[:, 0], kernel[:, -1] = -1.0, 1.0
    return kernel


@dataclass(frozen=True)
class State:
    """One position of the filter: the padded input, the kernel, the whole output, the window."""

    padded: np.ndarray  # (H + 2p, W + 2p)
    kernel: np.ndarray  # (k, k)
    output: np.ndarray  # (H', W')
    position: tuple[int, int]  # output cell (i, j)
    window: tuple[int, int, int, int]  # (row, col, k, k) in the padded input
    k: int
    stride: int
    padding: int

    @property
    def value(self) -> float:
        return float(self.output[self.position])

    @property
    def size_text(self) -> str:
        h = self.padded.shape[0] - 2 * self.padding
        oh = self.output.shape[0]
        return (f"H' = ({h} + 2·{self.padding} − {self.k}) // {self.stride} + 1 = {oh}; "
                f"output {oh}×{self.output.shape[1]}")


def state(image: np.ndarray, k: int, stride: int, padding: int, position: int | tuple[int, int] = 0,
          kernel: np.ndarray | None = None) -> State:
    """The filter at output cell ``position`` (row-major index or (i, j)) for one setting.

    image (H, W); kernel (k, k), default ``edge_kernel(k)``. Raises ValueError if the kernel does
    not fit into the padded input.
    """
    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D (H, W), got shape {image.shape}")
    h, w = image.shape
    if k < 1 or stride < 1 or padding < 0:
        raise ValueError(f"need k >= 1, stride >= 1, padding >= 0; got k={k}, stride={stride}, padding={padding}")
    if k > min(h, w) + 2 * padding:
        raise ValueError(f"a {k}x{k} kernel does not fit into the {h}x{w} input padded by {padding}")
    kernel = edge_kernel(k) if kernel is None else np.asarray(kernel, dtype=float)
    out = ref.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]
    if isinstance(position, (int, np.integer)):
        position = divmod(int(position) % out.size, out.shape[1])
    i, j = position
    padded = np.pad(image, padding)
    return State(padded, kernel, out, (i, j), (i * stride, j * stride, k, k), k, stride, padding)


def draw_state(st: State, axes: Sequence[plt.Axes], show_all: bool = False, show_weights: bool = True) -> None:
    """Input with the window (and the filter's weights) on the left; the output, filled up to the
    current cell, on the right."""
    lim = float(np.max(np.abs(st.output))) or 1.0
    figures.draw_grid(axes[0], st.padded, border=st.padding, windows=[st.window],
                      weights=st.kernel if show_weights else None,
                      cmap="Greys", vmin=0, vmax=3 * (float(st.padded.max()) or 1.0), grid_color="0.75",
                      title=f"k={st.k}, s={st.stride}, p={st.padding}")
    n = st.position[0] * st.output.shape[1] + st.position[1]
    done = np.arange(st.output.size).reshape(st.output.shape) <= n
    shown = np.where(done | show_all, st.output, np.nan)
    figures.draw_grid(axes[1], np.nan_to_num(shown), cmap="RdBu_r", vmin=-lim, vmax=lim, cells=[st.position],
                      show_values=False, title=f"out[{st.position[0]}, {st.position[1]}] = {st.value:g}")
    for (r, c), v in np.ndenumerate(shown):
        if not np.isnan(v):
            colour = "white" if abs(v) > 0.6 * lim else "black"  # readable on dark cells
            axes[1].text(c, r, f"{v:g}".replace("-", "\N{MINUS SIGN}"), ha="center", va="center", fontsize=9,
                         color=colour)


def states_figure(image: np.ndarray = DEFAULT_IMAGE,
                  settings: Sequence[tuple[int, int, int]] = ((3, 1, 0), (3, 2, 1), (5, 1, 2)),
                  positions: Sequence[int] = (0, 1, -1), panel: float = 2.2) -> Figure:
    """Small multiples: one row per (k, stride, padding), one pair of panels per filter position."""
    fig, axes = plt.subplots(len(settings), 2 * len(positions), figsize=(2 * panel * len(positions),
                             panel * len(settings) + 0.4), squeeze=False)
    for row, (k, s, p) in enumerate(settings):
        for col, pos in enumerate(positions):
            st = state(image, k, s, p, pos)
            draw_state(st, axes[row, 2 * col:2 * col + 2], show_weights=col == 0)  # weights once per row
        axes[row, 0].set_ylabel(st.size_text.split("; ")[1], fontsize=10)
    # fixed margins: tight_layout would measure each of the ~1000 numbers (seconds per figure)
    fig.subplots_adjust(left=0.03, right=0.995, bottom=0.01, top=0.95, wspace=0.12, hspace=0.3)
    return fig


class ConvExplorer:
    """Sliders for kernel size, stride, padding and position, redrawing the figure on each change."""

    def __init__(self, image: np.ndarray = DEFAULT_IMAGE) -> None:
        import ipywidgets as widgets

        self.image = np.asarray(image, dtype=float)
        small = min(self.image.shape)
        self.k = widgets.IntSlider(value=3, min=1, max=min(5, small), description="kernel k")
        self.stride = widgets.IntSlider(value=1, min=1, max=3, description="stride s")
        self.padding = widgets.IntSlider(value=0, min=0, max=2, description="padding p")
        self.position = widgets.IntSlider(value=0, min=0, max=0, description="position")
        self.size = widgets.HTML()
        self.out = widgets.Output()
        for w in (self.k, self.stride, self.padding, self.position):
            w.observe(self._changed, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.k, self.stride]), widgets.HBox([self.padding, self.position]),
                                    self.size, self.out])
        self._changed()

    def state(self) -> State:
        return state(self.image, self.k.value, self.stride.value, self.padding.value, self.position.value)

    def _changed(self, change: dict | None = None) -> None:
        if change is None or change["owner"] is not self.position:
            st = state(self.image, self.k.value, self.stride.value, self.padding.value, 0)
            self.position.max = st.output.size - 1
            self.position.value = min(self.position.value, self.position.max)
        st = self.state()
        self.size.value = f"<code>{st.size_text}</code>"
        self.out.clear_output(wait=True)
        with self.out:
            fig, axes = plt.subplots(1, 2, figsize=(8, 4))
            draw_state(st, axes)
            fig.tight_layout()
            plt.show()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def explore(image: np.ndarray = DEFAULT_IMAGE) -> ConvExplorer:
    """Interactive explorer (Jupyter): ``explore()`` as the last line of a cell shows it."""
    return ConvExplorer(image)
