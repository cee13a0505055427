"""cnnlib.explorer: the interactive filter explorer and its static small multiples."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.explorer import DEFAULT_IMAGE, ConvExplorer, edge_kernel, state, states_figure


def torch_conv(image, kernel, stride, padding):
    t = lambda a: torch.tensor(a, dtype=torch.float64)[None, None]
    return F.conv2d(t(image), t(kernel), stride=stride, padding=padding)[0, 0].numpy()


@pytest.mark.parametrize("k,s,p", [(3, 1, 0), (3, 2, 1), (5, 1, 2), (1, 3, 0), (2, 2, 0)])
def test_state_matches_torch_and_the_size_formula(k, s, p):
    st = state(DEFAULT_IMAGE, k, s, p, position=-1)
    want = torch_conv(DEFAULT_IMAGE, edge_kernel(k), s, p)
    np.testing.assert_allclose(st.output, want)
    n = (7 + 2 * p - k) // s + 1
    assert st.output.shape == (n, n) and st.size_text.endswith(f"output {n}×{n}")
    i, j = st.position
    assert (i, j) == (n - 1, n - 1)
    r, c = i * s, j * s
    assert st.window == (r, c, k, k)
    assert st.value == pytest.approx(np.sum(st.padded[r:r + k, c:c + k] * st.kernel))  # the window under the filter


def test_state_refuses_a_kernel_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        state(np.zeros((3, 3)), k=5, stride=1, padding=0)


def test_sliders_update_size_position_range_and_figure():
    ex = ConvExplorer()
    assert ex.position.max == 5 * 5 - 1 and "output 5×5" in ex.size.value
    ex.stride.value = 2
    assert ex.position.max == 3 * 3 - 1 and "output 3×3" in ex.size.value
    ex.padding.value = 1
    ex.position.value = 15
    st = ex.state()
    assert st.position == (3, 3) and st.window == (6, 6, 3, 3)
    assert "output 4×4" in ex.size.value
    ex.k.value = 5  # (7 + 2 - 5) // 2 + 1 = 3: the position is clamped into the new range
    assert ex.position.max == 8 and ex.position.value == 8 and ex.state().position == (2, 2)


def test_states_figure_has_two_panels_per_state():
    fig = states_figure(settings=((3, 1, 0), (3, 2, 1)), positions=(0, -1))
    assert len(fig.axes) == 2 * 2 * 2
