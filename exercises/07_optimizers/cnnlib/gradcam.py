"""Grad-CAM (Selvaraju et al., 2017): where in the image a CNN found the evidence for a class.

For a chosen convolutional layer with K feature maps A_k (H, W) and a class score y_c (the logit,
before softmax), Grad-CAM weighs each map by the spatial mean of the gradient of y_c with respect
to it, and keeps the positive part of the weighted sum:

    alpha_k = (1 / (H W)) sum_{i,j} d y_c / d A_k(i, j)
    L_c     = ReLU( sum_k alpha_k A_k )                      (H, W)

``grad_cam_map`` is that combination, in NumPy (graded in assignment 10_gradcam). The PyTorch part
(``layer_activations_and_gradients``, ``grad_cam``) captures A and dy_c/dA from a real model with a
forward hook and ``torch.autograd.grad``; ``grad_cam_hooks_reference`` computes the same map with
module hooks only (a forward hook and a full backward hook), as an independent reference.

torch is imported inside the functions that need it, so ``import cnnlib`` stays NumPy-only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._validate import float_array, same_dtype

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

__all__ = ["grad_cam_map", "GradCamResult", "layer_activations_and_gradients", "grad_cam",
           "grad_cam_hooks_reference", "upsample_map"]


def grad_cam_map(activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """The Grad-CAM map of one image for one class.

    Inputs:
    - activations: (K, H, W) float, the K feature maps A_k of the chosen layer.
    - gradients: (K, H, W) float, same dtype, d y_c / d A_k: the gradient of the class score.

    Returns (H, W), same dtype: ReLU(sum_k alpha_k A_k) with alpha_k the mean of gradients[k] over
    its H x W positions.
    """
    activations = float_array("activations", activations, 3)
    gradients = float_array("gradients", gradients, 3)
    same_dtype(activations=activations, gradients=gradients)
    if activations.shape != gradients.shape:
        raise ValueError(f"activations {activations.shape} and gradients {gradients.shape} must have the "
                         "same shape (K, H, W)")
    # YOUR CODE HERE
    raise NotImplementedError("grad_cam_map is not written yet: see its docstring in cnnlib/gradcam.py")


@dataclass(frozen=True)
class GradCamResult:
    """cam: (h, w) float64 map at the layer's resolution; heatmap: (H, W) in [0, 1], upsampled to the
    input; target: the class explained; probability: its softmax probability; logits: (classes,)."""

    cam: np.ndarray
    heatmap: np.ndarray
    target: int
    probability: float
    logits: np.ndarray


def _check_input(x: "torch.Tensor") -> None:
    import torch

    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[0] != 1:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a torch tensor of shape (1, C, H, W) (one image), got {shape}")


def layer_activations_and_gradients(model: "nn.Module", layer: "nn.Module", x: "torch.Tensor",
                                    target: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A forward hook keeps ``layer``'s output A; autograd gives d logit[target] / d A.

    Inputs: model (eval mode is set by the caller), layer a submodule of model, x (1, C, H, W),
    target a class index or None for the top class.
    Returns (activations (K, h, w), gradients (K, h, w), logits (classes,), target), float64 NumPy.
    """
    import torch

    _check_input(x)
    kept: dict[str, torch.Tensor] = {}
    handle = layer.register_forward_hook(lambda _m, _i, out: kept.__setitem__("A", out))
    try:
        with torch.enable_grad():
            logits = model(x)
    finally:
        handle.remove()
    if "A" not in kept:
        raise ValueError("layer: the given layer did not run in model(x); pass a submodule of model")
    if target is None:
        target = int(logits[0].argmax())
    if not 0 <= target < logits.shape[1]:
        raise ValueError(f"target must be in [0, {logits.shape[1]}), got {target}")
    (grad,) = torch.autograd.grad(logits[0, target], kept["A"])
    as_np = lambda t: t.detach()[0].double().cpu().numpy()  # noqa: E731
    return as_np(kept["A"]), as_np(grad), logits.detach()[0].double().cpu().numpy(), target


def upsample_map(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) map -> (H, W) by bilinear interpolation, scaled to [0, 1] (all zeros stay zeros)."""
    import torch
    import torch.nn.functional as F

    up = F.interpolate(torch.from_numpy(np.asarray(cam, np.float64))[None, None], size=size, mode="bilinear",
                       align_corners=False)[0, 0].numpy()
    up = np.maximum(up, 0)
    top = up.max()
    return up / top if top > 0 else up


def grad_cam(model: "nn.Module", layer: "nn.Module", x: "torch.Tensor", target: int | None = None,
             combine=grad_cam_map) -> GradCamResult:
    """Grad-CAM of ``model`` at ``layer`` for one image x (1, C, H, W) and class ``target`` (default
    the top class). ``combine(activations, gradients)`` makes the map (default ``grad_cam_map``)."""
    acts, grads, logits, target = layer_activations_and_gradients(model, layer, x, target)
    cam = np.asarray(combine(acts, grads), np.float64)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    return GradCamResult(cam, upsample_map(cam, tuple(x.shape[-2:])), target, float(p[target]), logits)


def grad_cam_hooks_reference(model: "nn.Module", layer: "nn.Module", x: "torch.Tensor",
                             target: int) -> np.ndarray:
    """An independent Grad-CAM, with module hooks only: a forward hook keeps A, a full backward hook
    keeps dy/dA as ``backward()`` runs; the map is formed in torch (float64). Returns (h, w)."""
    import torch

    _check_input(x)
    kept: dict[str, torch.Tensor] = {}
    h1 = layer.register_forward_hook(lambda _m, _i, out: kept.__setitem__("A", out.detach()))
    h2 = layer.register_full_backward_hook(lambda _m, _gi, go: kept.__setitem__("G", go[0].detach()))
    try:
        model.zero_grad(set_to_none=True)
        with torch.enable_grad():
            xg = x.detach().clone().requires_grad_(True)  # a full backward hook needs a graph to the input
            model(xg)[0, target].backward()
    finally:
        h1.remove()
        h2.remove()
        model.zero_grad(set_to_none=True)
    a, g = kept["A"][0].double(), kept["G"][0].double()
    return torch.relu((g.mean(dim=(1, 2), keepdim=True) * a).sum(0)).cpu().numpy()
