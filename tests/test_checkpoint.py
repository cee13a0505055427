"""Checkpoints: a save/load round trip restores the same function; other architectures, mismatched
shapes, truncated and foreign files are refused with a ValueError that says what is wrong."""
from __future__ import annotations

import pytest
import torch

from cnnlib.checkpoint import load_checkpoint, save_checkpoint
from cnnlib.models import build


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = build("resnet9", width=4)
    model.train()
    model(torch.randn(4, 3, 32, 32))  # BatchNorm running statistics move away from their initial values
    model.eval()
    path = save_checkpoint(tmp_path / "r.pt", model, "resnet9", {"width": 4}, extra={"epoch": 3, "test_acc": 0.5})
    return model, path


def test_round_trip_restores_weights_buffers_and_metadata(saved):
    model, path = saved
    ckpt = load_checkpoint(path, expected="resnet9")
    assert ckpt.architecture == "resnet9" and ckpt.config == {"width": 4}
    assert ckpt.extra == {"epoch": 3, "test_acc": 0.5}
    assert ckpt.versions["torch"] == torch.__version__ and "python" in ckpt.versions and "numpy" in ckpt.versions
    for (k, v), (k2, v2) in zip(model.state_dict().items(), ckpt.model.state_dict().items()):
        assert k == k2 and torch.equal(v, v2), k
    x = torch.randn(2, 3, 32, 32)
    assert not ckpt.model.training
    torch.testing.assert_close(ckpt.model(x), model(x), rtol=0, atol=0)


def test_load_into_an_existing_model(saved):
    model, path = saved
    fresh = build("resnet9", width=4)
    load_checkpoint(path, into=fresh)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), fresh.state_dict().values()))


def test_another_architecture_is_refused(saved):
    _, path = saved
    with pytest.raises(ValueError, match=r"holds architecture 'resnet9'.*not 'lenet5'"):
        load_checkpoint(path, expected="lenet5")
    with pytest.raises(ValueError, match=r"holds architecture 'resnet9'.*model given is a LeNet5"):
        load_checkpoint(path, into=build("lenet5"))


def test_same_architecture_other_width_is_refused(saved):
    _, path = saved
    with pytest.raises(ValueError, match=r"do not fit this model: .*wrong shapes"):
        load_checkpoint(path, into=build("resnet9", width=8))


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file_is_refused(saved, tmp_path, keep):
    _, path = saved
    data = path.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="is not a readable checkpoint: it is truncated"):
        load_checkpoint(cut)


def test_foreign_files_are_refused(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="truncated or not a file written by save_checkpoint"):
        load_checkpoint(junk)
    plain = tmp_path / "plain.pt"
    torch.save(build("lenet5").state_dict(), plain)  # a bare state_dict: no architecture recorded
    with pytest.raises(ValueError, match="not a cnnlib checkpoint"):
        load_checkpoint(plain)
    with pytest.raises(ValueError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "missing.pt")


def test_save_refuses_a_wrong_architecture_name(tmp_path):
    with pytest.raises(ValueError, match="'seed_mnist' builds a SeedMnistNet, but model is a LeNet5"):
        save_checkpoint(tmp_path / "x.pt", build("lenet5"), "seed_mnist")
    with pytest.raises(ValueError, match="unknown model"):
        save_checkpoint(tmp_path / "x.pt", build("lenet5"), "alexnet")
