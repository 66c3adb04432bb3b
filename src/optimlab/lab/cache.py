"""On-disk cache of trajectories, so re-rendering (and a resumed tuning run) never recomputes.

One ``.npz`` file per trajectory, named by the SHA-256 of its key: (optimizer identity, hyperparameters,
learning rate, surface, start, steps, clipping, optimlab and torch versions). The key is stored in the
file and compared on load. Files are written with :mod:`optimlab.atomic`, so a killed run leaves either
the whole file or none.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

import optimlab
from optimlab import atomic, paths
from optimlab.lab.trajectory import Trajectory

def default_dir() -> Path:
    """``lab`` in optimlab's cache folder (:func:`optimlab.paths.cache_dir`)."""
    return paths.cache_dir("lab")


def make_key(**parts: Any) -> str:
    """A canonical JSON text for the key parts plus the library versions."""
    parts = {**parts, "optimlab": optimlab.__version__, "torch": torch.__version__}
    return json.dumps(parts, sort_keys=True, default=repr)


class TrajectoryCache:
    """Trajectories on disk under ``root``; ``hits`` and ``misses`` count look-ups."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def _file(self, key: str) -> Path:
        return self.root / f"{hashlib.sha256(key.encode()).hexdigest()}.npz"

    def load(self, key: str) -> Trajectory | None:
        file = self._file(key)
        try:
            with np.load(file, allow_pickle=False) as data:
                if str(data["key"]) != key:
                    raise ValueError("key mismatch")
                at = int(data["diverged_at"])
                lr = float(data["lr"])
                traj = Trajectory(data["path"].copy(), data["losses"].copy(), None if at < 0 else at,
                                  None if np.isnan(lr) else lr)
        except (OSError, ValueError, KeyError):  # absent, truncated by a foreign writer, or a collision
            self.misses += 1
            return None
        self.hits += 1
        return traj

    def save(self, key: str, traj: Trajectory) -> None:
        buf = io.BytesIO()
        np.savez(buf, key=np.array(key), path=traj.path, losses=traj.losses,
                 diverged_at=np.array(-1 if traj.diverged_at is None else traj.diverged_at),
                 lr=np.array(np.nan if traj.lr is None else traj.lr))
        atomic.write_bytes(self._file(key), buf.getvalue())


def open_cache(cache: bool | str | os.PathLike | TrajectoryCache | None) -> TrajectoryCache | None:
    """``True``: the default folder; ``False``/``None``: no cache; a path or a cache object: that one."""
    if isinstance(cache, TrajectoryCache):
        return cache
    if cache is True:
        return TrajectoryCache(default_dir())
    if cache is None or cache is False:
        return None
    if isinstance(cache, (str, os.PathLike)):
        return TrajectoryCache(cache)
    raise ValueError(f"Invalid cache: {cache!r}; allowed: True, False, None, a folder path or a TrajectoryCache")
