"""Grad-CAM: the graded NumPy map against PyTorch and a hand-worked example; its typical mistakes named;
the hook-based PyTorch pipeline against an independent module-hook reference and against CAM."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from cnngrader import judge as judge_mod
from cnngrader.stubs import solution_functions, write_student_package
from cnnlib import grad_cam_map
from cnnlib import reference as ref
from cnnlib.check_cases import gradcam_mutants
from cnnlib.checks import check, explain
from cnnlib.gradcam import grad_cam, grad_cam_hooks_reference, layer_activations_and_gradients, upsample_map
from helpers import assert_close


def test_hand_worked_example():
    # alpha = (mean(1, 1), mean(-2, 0)) = (1, -1); 1*A1 - 1*A2 = (1 - 3, 2 + 1) = (-2, 3); ReLU -> (0, 3)
    a = np.array([[[1.0, 2.0]], [[3.0, -1.0]]])
    g = np.array([[[1.0, 1.0]], [[-2.0, 0.0]]])
    np.testing.assert_array_equal(grad_cam_map(a, g), [[0.0, 3.0]])


def test_visible_check_passes_and_keeps_float32():
    check("grad_cam_map", grad_cam_map)
    a = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    assert grad_cam_map(a, a).dtype == np.float32


@given(k=st.integers(1, 6), h=st.integers(1, 7), w=st.integers(1, 7), seed=st.integers(0, 2**31))
def test_matches_pytorch_and_is_nonnegative(k, h, w, seed):
    rng = np.random.default_rng(seed)
    a, g = rng.standard_normal((k, h, w)), rng.standard_normal((k, h, w)) + rng.standard_normal((k, 1, 1))
    got = grad_cam_map(a, g)
    assert (got >= 0).all()
    assert_close(got, ref.grad_cam_map(a, g), "grad_cam_map", dtype=np.float64)


@pytest.mark.parametrize("bad, message", [
    (dict(activations=np.zeros((2, 3)), gradients=np.zeros((2, 3))), "activations must have 3 dimensions"),
    (dict(activations=np.zeros((2, 3, 3)), gradients=np.zeros((2, 3, 4))), "must have the same shape"),
    (dict(activations=np.zeros((2, 3, 3), np.float32), gradients=np.zeros((2, 3, 3))), "share one floating dtype"),
    (dict(activations=np.zeros((2, 3, 3), int), gradients=np.zeros((2, 3, 3))), "floating dtype"),
])
def test_bad_arguments_are_refused_by_name(bad, message):
    with pytest.raises(ValueError, match=message):
        grad_cam_map(**bad)


@pytest.mark.parametrize("cause", ["no ReLU", "summed over the positions", "wrong axis", "before the sum",
                                   "position by position"])
def test_each_typical_mistake_is_named(cause):
    """A function that makes the mistake fails its check, and the message names that mistake."""
    from cnnlib.check_cases import gradcam_cases

    case = gradcam_cases(np.random.default_rng(1), 0)[0]
    mutant = next(fn for text, fn in gradcam_mutants(case).items() if cause in text)
    problem = explain("grad_cam_map", case, mutant())
    assert problem is not None and "Likely cause" in problem and cause in problem, problem


def test_judge_names_a_missing_relu(tmp_path):
    write_student_package(tmp_path / "cnnlib", solution_functions())
    path = tmp_path / "cnnlib" / "gradcam.py"
    text = path.read_text()
    wrong = text.replace("return np.maximum(cam, 0).astype(activations.dtype, copy=False)",
                         "return cam.astype(activations.dtype, copy=False)")
    assert wrong != text
    path.write_text(wrong)
    ok, report = judge_mod.judge("grad_cam_map", tmp_path)
    assert not ok and "no ReLU" in report, report


class Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(4, 6, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(6, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(6, 5))

    def forward(self, x):
        return self.head(self.features(x))


@pytest.mark.parametrize("target", [None, 3])
def test_pipeline_equals_the_module_hook_reference(target):
    torch.manual_seed(0)
    model = Small().double().eval()
    x = torch.randn(1, 3, 12, 10, dtype=torch.float64)
    res = grad_cam(model, model.features, x, target)
    want = grad_cam_hooks_reference(model, model.features, x, res.target)
    assert res.cam.shape == (6, 5) and want.shape == (6, 5)
    assert want.max() > 0  # a non-trivial map
    assert_close(res.cam, want, "Grad-CAM vs module-hook reference")
    logits = model(x)[0].detach().numpy()
    assert res.target == (int(logits.argmax()) if target is None else target)
    p = np.exp(logits - logits.max())
    assert res.probability == pytest.approx(p[res.target] / p.sum(), rel=1e-12)
    assert res.heatmap.shape == (12, 10) and res.heatmap.min() >= 0 and res.heatmap.max() == pytest.approx(1.0)


def test_global_average_pooling_head_gives_cam():
    """With logits = W GAP(A) + b, d y_c / d A_k(i, j) = W[c, k] / (H W) everywhere, so Grad-CAM is Zhou et al.'s
    class activation map ReLU(sum_k W[c, k] A_k) divided by H W."""
    torch.manual_seed(1)
    conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    fc = nn.Linear(4, 3)
    model = nn.Sequential(conv, nn.AdaptiveAvgPool2d(1), nn.Flatten(), fc).double()
    x = torch.randn(1, 1, 9, 8, dtype=torch.float64)
    acts, grads, _, _ = layer_activations_and_gradients(model, conv, x, target=2)
    w = fc.weight.detach().numpy()[2]
    hw = acts.shape[1] * acts.shape[2]
    np.testing.assert_allclose(grads, np.broadcast_to(w[:, None, None] / hw, grads.shape), rtol=1e-12)
    assert_close(grad_cam_map(acts, grads), np.maximum(np.tensordot(w, acts, axes=1), 0) / hw, "CAM")


def test_pipeline_refuses_a_batch_and_a_foreign_layer():
    model = Small().double().eval()
    with pytest.raises(ValueError, match=r"x must be a torch tensor of shape \(1, C, H, W\)"):
        grad_cam(model, model.features, torch.zeros(2, 3, 8, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match="layer"):
        grad_cam(model, nn.Conv2d(3, 3, 1), torch.zeros(1, 3, 8, 8, dtype=torch.float64))


def test_upsample_scales_to_unit_range():
    up = upsample_map(np.array([[0.0, 2.0], [1.0, 0.0]]), (4, 4))
    assert up.shape == (4, 4) and up.max() == pytest.approx(1.0) and up.min() >= 0
    assert not upsample_map(np.zeros((2, 2)), (4, 4)).any()
