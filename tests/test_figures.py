"""Fast tests of the book's figure helpers (cnnlib.figures), drawn off-screen with Agg."""
from __future__ import annotations

import importlib
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

figures = importlib.import_module("cnnlib.figures")

IMAGE = np.arange(25, dtype=float).reshape(5, 5)
KERNEL = np.array([[1.0, 0.0, -1.0]] * 3)
OUTPUT = np.full((3, 3), -6.0)  # what IMAGE * KERNEL gives: every window's columns differ by 2


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_cnnlib_import_does_not_load_matplotlib():
    code = "import sys, cnnlib; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_draw_grid_writes_every_value_and_outlines_windows():
    fig, ax = plt.subplots()
    figures.draw_grid(ax, IMAGE, windows=[(1, 1, 3, 3), (0, 2, 3, 3)], cells=[(4, 4)], border=1)
    assert len(_texts(ax)) == IMAGE.size
    assert "24" in _texts(ax)
    outlined = [p for p in ax.patches if not p.get_fill()]
    assert len(outlined) == 3  # two windows and one cell
    padding = [p for p in ax.patches if p.get_fill()]
    assert len(padding) == 16  # the outer ring of a 5x5 grid


def test_draw_grid_writes_minus_signs_and_weights():
    fig, ax = plt.subplots()
    figures.draw_grid(ax, OUTPUT, windows=[(0, 0, 3, 3)], weights=KERNEL)
    texts = _texts(ax)
    assert "\N{MINUS SIGN}6" in texts
    assert sum(t.startswith("\N{MULTIPLICATION SIGN}") for t in texts) == KERNEL.size


def test_grid_equation_has_one_axis_per_grid():
    fig = figures.grid_equation([IMAGE, KERNEL, OUTPUT], ["*", "="], ["input", "kernel", "output"])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["input", "kernel", "output"]
    with pytest.raises(ValueError):
        figures.grid_equation([IMAGE, KERNEL], ["*", "="])


@pytest.mark.parametrize("show_output, per", [(True, 2), (False, 1)])
def test_sliding_window_figure_axes(show_output, per):
    positions = [(0, 0), (1, 2), (2, 1)]
    fig = figures.sliding_window_figure(IMAGE, KERNEL.shape, OUTPUT, positions, show_output=show_output)
    assert len(fig.axes) == per * len(positions)
    assert fig.axes[0].get_title() == "window for out[0, 0]"
    all_positions = figures.sliding_window_figure(IMAGE, KERNEL.shape, OUTPUT, show_output=show_output)
    assert len(all_positions.axes) == per * OUTPUT.size


def test_sliding_window_figure_places_strided_windows():
    fig = figures.sliding_window_figure(IMAGE, (3, 3), np.zeros((2, 2)), [(1, 1)], stride=2, show_output=False)
    (window,) = [p for p in fig.axes[0].patches if not p.get_fill()]
    assert window.get_xy() == (1.5, 1.5)  # starts at row 2, column 2 (cell centres are integers)


def test_feature_map_stack_axes():
    maps = [np.random.default_rng(i).standard_normal((6, 6)) for i in range(4)]
    fig = figures.feature_map_stack(IMAGE, maps, titles=["a", "b", "c", "d"])
    assert len(fig.axes) == 1 + 4
    fig = figures.feature_map_stack(IMAGE, maps, kernels=[KERNEL] * 4)
    assert len(fig.axes) == 1 + 4 + 4


def test_connectivity_counts_edges_and_weights():
    fig = figures.connectivity_figure(n_in=7, kernel_size=3)
    assert len(fig.axes) == 3
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("dense: 35 connections, 35 distinct")
    assert titles[1].startswith("local: 15 connections, 15 distinct")
    assert titles[2].startswith("shared: 15 connections, 3 distinct")
    with pytest.raises(ValueError):
        figures.draw_connections(fig.axes[0], 5, 3, kind="sparse")


def test_neuron_diagram_applies_bias_and_relu():
    fig = figures.neuron_diagram(np.ones((3, 3)), KERNEL, bias=-0.5)
    texts = _texts(fig.axes[0])
    assert "z = \N{MINUS SIGN}0.5" in texts and "y = 0" in texts
    fig = figures.neuron_diagram(np.eye(3), np.eye(3), bias=1.0)
    assert "y = 4" in _texts(fig.axes[0])
    with pytest.raises(ValueError):
        figures.neuron_diagram(np.ones(4), np.ones(9), 0.0)


def test_small_multiples_two_rows_per_setting():
    settings = [(3, 1, 0), (3, 2, 1)]
    padded = [IMAGE, np.pad(IMAGE, 1)]
    outputs = [np.zeros((3, 3)), np.zeros((3, 3))]
    fig = figures.small_multiples(padded, outputs, settings)
    assert len(fig.axes) == 2 * len(settings)
    assert fig.axes[1].get_title().startswith("k=3, s=2, p=1")
    assert fig.axes[3].get_title() == "3\N{MULTIPLICATION SIGN}3 output"


def test_markdown_table():
    table = figures.markdown_table(["n", "k"], [[5, 3], [7, 3]])
    assert table.splitlines() == ["| n | k |", "|---|---|", "| 5 | 3 |", "| 7 | 3 |"]
    with pytest.raises(ValueError):
        figures.markdown_table(["n", "k"], [[1]])


# --- helpers of chapters 3 to 6 -------------------------------------------------------------------

POOL_IN = np.array([[1.0, 3.0, 2.0, 1.0], [4.0, 6.0, 5.0, 0.0], [3.0, 1.0, 1.0, 2.0], [0.0, 2.0, 7.0, 3.0]])
POOL_OUT = np.array([[6.0, 5.0], [3.0, 7.0]])


def _filled(ax):
    return [p for p in ax.patches if p.get_fill()]


def _outlined(ax):
    return [p for p in ax.patches if not p.get_fill()]


def test_pool_windows_grid_tints_and_outlines_each_window():
    fig, ax = plt.subplots()
    figures.pool_windows_grid(ax, POOL_IN, 2, marks=[(1, 1), (3, 2)])
    assert len(_texts(ax)) == POOL_IN.size
    assert len(_filled(ax)) == 4                       # one tint per window
    assert len(_outlined(ax)) == 4 + 2                 # window outlines and the two marks
    bold = [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
    assert sorted(bold) == ["6", "7"]
    tints = {p.get_facecolor()[:3] for p in _filled(ax)}
    assert len(tints) == 4                             # a different colour for each window


def test_pool_windows_grid_overlapping_windows_are_outlined_only():
    fig, ax = plt.subplots()
    x = np.arange(49.0).reshape(7, 7)
    figures.pool_windows_grid(ax, x, 3, 2)
    assert not _filled(ax)
    assert len(_outlined(ax)) == 9                     # a 3x3 output: nine windows
    fig, ax = plt.subplots()
    figures.pool_windows_grid(ax, x, 3, 2, windows=[(0, 0), (1, 1)])
    (first, second) = _outlined(ax)
    assert first.get_xy()[0] < second.get_xy()[0]      # the second window starts two columns right


def test_pool_output_grid_and_pooling_figure():
    fig, ax = plt.subplots()
    figures.pool_output_grid(ax, POOL_OUT, cells=[(0, 0), (1, 1)])
    assert len(_filled(ax)) == 2
    assert "7" in _texts(ax)
    fig = figures.pooling_figure(POOL_IN, POOL_OUT, 2, marks=[(1, 1)], label="max", titles=("in", "out"))
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["in", "out"]
    assert "max" in [t.get_text() for t in fig.texts]


def test_flatten_figure_lays_out_channels_then_vector():
    x = np.arange(12.0).reshape(2, 2, 3)
    fig = figures.flatten_figure(x)
    assert len(fig.axes) == 2 + 1
    vector = fig.axes[-1]
    values = [t.get_text() for t in vector.texts][:12]
    assert values == [str(i) for i in range(12)]       # C order: channel 0 first
    assert "12 values" in vector.get_title()
    with pytest.raises(ValueError):
        figures.flatten_figure(np.zeros((3, 3)))


def test_dense_layer_diagram_counts_parameters():
    fig = figures.dense_layer_diagram(4, 3)
    ax = fig.axes[0]
    assert ax.get_title() == "4 inputs, 3 outputs: 12 weights + 3 biases"
    assert len(ax.lines) == 12                         # one edge per weight
    assert len([p for p in ax.patches if isinstance(p, matplotlib.patches.Circle)]) == 7


def test_architecture_figure_labels_shapes():
    stages = [("input", (1, 28, 28)), ("conv", (6, 24, 24)), ("flatten", (3456,)), ("dense", (10,))]
    fig = figures.architecture_figure(stages, ["conv", "flatten", "dense"])
    texts = _texts(fig.axes[0])
    for expected in ("28×28×1", "24×24×6", "3456", "10", "input", "dense"):
        assert expected in texts
    with pytest.raises(ValueError):
        figures.architecture_figure(stages, ["conv"])
    with pytest.raises(ValueError):
        figures.architecture_figure([("bad", (2, 3))], [])


def test_computation_graph_draws_nodes_gradients_and_arrows():
    nodes = {"x": (0, 0, "x"), "f": (2, 0, "f"), "y": (4, 0, "y")}
    fig = figures.computation_graph(nodes, [("x", "f"), ("f", "y")], ops=["f"], grads={"x": "dx", "y": "1"})
    ax = fig.axes[0]
    arrows = [t for t in ax.texts if isinstance(t, matplotlib.text.Annotation)]
    labels = [t.get_text() for t in ax.texts if not isinstance(t, matplotlib.text.Annotation)]
    assert len(arrows) == 2
    assert sorted(labels) == sorted(["x", "f", "y", "dx", "1"])
    circles = [t for t in ax.texts if t.get_bbox_patch() is not None
               and t.get_bbox_patch().get_boxstyle().__class__.__name__ == "Circle"]
    assert [t.get_text() for t in circles] == ["f"]
