"""cnnlib.summary: per-layer shapes, parameters and multiply-adds, checked against hand counts."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlib.models import LeNet5, SeedCifarNet, SeedMnistNet, count_parameters
from cnnlib.summary import summarize


def test_seed_cifar_rows_by_hand():
    s = summarize(SeedCifarNet(), (1, 3, 32, 32))
    convs = [r for r in s.rows if r.kind == "Conv2d"]
    assert [r.output_shape for r in convs] == [(32, 30, 30), (64, 13, 13), (64, 4, 4)]
    assert [r.params for r in convs] == [(27 + 1) * 32, (288 + 1) * 64, (576 + 1) * 64]
    assert [r.mult_adds for r in convs] == [30 * 30 * 32 * 27, 13 * 13 * 64 * 288, 4 * 4 * 64 * 576]
    assert s.params == count_parameters(SeedCifarNet()) == 122_570
    assert s.mult_adds == 777_600 + 3_115_008 + 589_824 + 1024 * 64 + 64 * 10


@pytest.mark.parametrize("model, shape", [(LeNet5(), (1, 1, 28, 28)), (SeedMnistNet(), (1, 1, 28, 28))])
def test_totals_match_count_parameters(model, shape):
    s = summarize(model, shape)
    assert s.params == count_parameters(model)
    assert s.rows[-1].output_shape == (10,)


def test_lenet_shapes_walk():
    shapes = [r.output_shape for r in summarize(LeNet5(), (1, 1, 28, 28)).rows if r.kind in ("Conv2d", "MaxPool2d")]
    assert shapes == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)]


def test_grouped_conv_mult_adds_and_real_device():
    model = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1, groups=4), nn.ReLU())
    s = summarize(model, (2, 8, 5, 5), device="cpu")
    assert s.rows[0].mult_adds == 16 * 5 * 5 * (8 // 4) * 9
    assert s.rows[0].params == 16 * 2 * 9 + 16
    table = s.markdown(skip_empty=True)
    assert "ReLU" not in table and "**304**" in table


def test_shared_module_counted_once_and_model_untouched():
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, shared)
    s = summarize(model, (1, 4))
    assert [r.params for r in s.rows] == [20, 0] and s.mult_adds == 32
    assert shared.weight.device.type == "cpu"


def test_bad_input_shape():
    with pytest.raises(ValueError, match="input_shape"):
        summarize(LeNet5(), (28,))
