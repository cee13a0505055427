"""A small U-Net (Ronneberger et al., 2015) for binary segmentation, and the real target it learns.

``UNet``: two down-sampling stages (3x3 conv-BN-ReLU twice, then 2x2 max pooling), a bottleneck,
two up-sampling stages (2x2 transposed convolution, concatenation with the encoder's map of the
same size — the *skip connection* — then two 3x3 conv-BN-ReLU) and a 1x1 convolution to one
logit per pixel. Padding 1 keeps the sizes, so the output has the input's height and width (both
must be multiples of 4).

``coins_segmentation``: scikit-image's photograph of Greek coins with its region-based
segmentation (Sobel elevation map, watershed from dark/bright markers, holes filled), the
pipeline of scikit-image's tutorial: a real photograph with a mask computed from it by a classical
method, which the network learns from pixels.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .progress import progress

__all__ = ["UNet", "iou", "coins_segmentation", "random_crops", "train_segmentation", "predict_mask"]


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class UNet(nn.Module):
    """Input (N, in_channels, H, W), H and W multiples of 4 -> logits (N, out_channels, H, W)."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 8) -> None:
        super().__init__()
        w = width
        self.enc1, self.enc2 = _double_conv(in_channels, w), _double_conv(w, 2 * w)
        self.bottleneck = _double_conv(2 * w, 4 * w)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2), _double_conv(4 * w, 2 * w)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), _double_conv(2 * w, w)
        self.head = nn.Conv2d(w, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[-2] % 4 or x.shape[-1] % 4:
            raise ValueError(f"x must be (N, C, H, W) with H and W multiples of 4, got {tuple(x.shape)}")
        e1 = self.enc1(x)  # (N, w, H, W)
        e2 = self.enc2(F.max_pool2d(e1, 2))  # (N, 2w, H/2, W/2)
        b = self.bottleneck(F.max_pool2d(e2, 2))  # (N, 4w, H/4, W/4)
        d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))  # skip connection: encoder map of the same size
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.head(d1)


def iou(pred: np.ndarray, target: np.ndarray) -> float:
    """Intersection over union of two boolean masks of one shape: |pred & target| / |pred | target|
    (1.0 when both are empty)."""
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred {pred.shape} and target {target.shape} must have the same shape")
    if pred.dtype != bool or target.dtype != bool:
        raise ValueError(f"pred and target must be boolean masks, got {pred.dtype} and {target.dtype}")
    union = np.logical_or(pred, target).sum()
    return 1.0 if union == 0 else float(np.logical_and(pred, target).sum() / union)


def coins_segmentation() -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's coins photograph (303, 384) uint8 and its coin mask (303, 384) bool.

    The mask: watershed of the Sobel elevation map from markers "background" (pixels < 30) and
    "coin" (pixels > 150), then holes filled (scikit-image's region-based segmentation tutorial).
    """
    from scipy import ndimage as ndi
    from skimage import data, filters, segmentation

    image = data.coins()
    markers = np.zeros_like(image, dtype=np.int32)
    markers[image < 30], markers[image > 150] = 1, 2
    regions = segmentation.watershed(filters.sobel(image), markers)
    return image, ndi.binary_fill_holes(regions == 2)


def random_crops(image: np.ndarray, mask: np.ndarray, n: int, size: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n random (size, size) crops of a (H, W) image and its mask, each flipped at random.
    Returns images (n, 1, size, size) float32 in [0, 1] and masks (n, 1, size, size) float32."""
    h, w = image.shape
    if size > min(h, w):
        raise ValueError(f"size must be at most {min(h, w)} for an image {image.shape}, got {size}")
    ys, xs = rng.integers(0, h - size + 1, n), rng.integers(0, w - size + 1, n)
    imgs = np.stack([image[y:y + size, x:x + size] for y, x in zip(ys, xs)]).astype(np.float32) / 255
    masks = np.stack([mask[y:y + size, x:x + size] for y, x in zip(ys, xs)]).astype(np.float32)
    flip = rng.random(n) < 0.5
    imgs[flip], masks[flip] = imgs[flip, :, ::-1], masks[flip, :, ::-1]
    return imgs[:, None], masks[:, None]


def train_segmentation(model: nn.Module, image: np.ndarray, mask: np.ndarray, steps: int = 60, batch: int = 8,
                       size: int = 64, lr: float = 3e-3, seed: int = 0, desc: str = "U-Net") -> list[float]:
    """Train ``model`` on random crops of one (H, W) image and mask, binary cross-entropy per pixel, Adam.
    Returns the loss of every step."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in progress(range(steps), desc=desc, unit="step"):
        x, y = random_crops(image, mask, batch, size, rng)
        loss = F.binary_cross_entropy_with_logits(model(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


@torch.no_grad()
def predict_mask(model: nn.Module, image: np.ndarray) -> np.ndarray:
    """The model's mask (H, W) bool for a whole (H, W) uint8 image: padded (reflect) to multiples of 4,
    logit > 0, cropped back."""
    model.eval()
    h, w = image.shape
    x = torch.from_numpy(image.astype(np.float32) / 255)[None, None]
    x = F.pad(x, (0, -w % 4, 0, -h % 4), mode="reflect")
    return (model(x)[0, 0, :h, :w] > 0).numpy()
