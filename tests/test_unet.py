"""The small U-Net: shapes, skip connections, IoU by hand, the real coins mask, and that brief training
on it gives a mask that overlaps the target far better than chance."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlib.unet import UNet, coins_segmentation, iou, predict_mask, random_crops, train_segmentation

torch.set_num_threads(1)


def test_output_has_the_input_size_and_refuses_other_sizes():
    net = UNet(in_channels=3, out_channels=2, width=4)
    assert net(torch.zeros(2, 3, 16, 12)).shape == (2, 2, 16, 12)
    with pytest.raises(ValueError, match=r"multiples of 4, got \(1, 3, 10, 12\)"):
        net(torch.zeros(1, 3, 10, 12))


def test_iou_by_hand():
    a = np.array([[1, 1, 0], [0, 1, 0]], bool)
    b = np.array([[1, 0, 0], [0, 1, 1]], bool)
    assert iou(a, b) == pytest.approx(2 / 4)  # intersection {(0,0), (1,1)}, union 4 pixels
    assert iou(a, a) == 1.0 and iou(a, ~a) == 0.0 and iou(np.zeros((2, 2), bool), np.zeros((2, 2), bool)) == 1.0
    with pytest.raises(ValueError, match="boolean masks"):
        iou(a.astype(int), b)
    with pytest.raises(ValueError, match="same shape"):
        iou(a, b[:, :2])


def test_coins_mask_is_a_real_segmentation():
    image, mask = coins_segmentation()
    assert image.shape == mask.shape == (303, 384) and mask.dtype == bool
    assert 0.2 < mask.mean() < 0.5  # 24 coins cover about a third of the photograph
    assert image[mask].mean() > image[~mask].mean() + 40  # coins are brighter than the background


def test_crops_pair_images_with_their_masks():
    image, mask = coins_segmentation()
    x, y = random_crops(image, mask, 5, 32, np.random.default_rng(0))
    assert x.shape == y.shape == (5, 1, 32, 32) and x.dtype == np.float32
    assert set(np.unique(y)) <= {0.0, 1.0}


def test_brief_training_learns_the_mask():
    image, mask = coins_segmentation()
    torch.manual_seed(0)
    net = UNet(width=4)
    losses = train_segmentation(net, image[:, :256], mask[:, :256], steps=25, batch=4, size=48, seed=0)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    pred = predict_mask(net, image[:, 256:])  # the right third: never seen in training
    assert pred.shape == (303, 128)
    assert iou(pred, mask[:, 256:]) > 0.5
