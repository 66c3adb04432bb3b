"""Where optimlab keeps its caches: ``$OPTIMLAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/optimlab``, else
``~/.cache/optimlab``, with one folder per kind (``lab`` trajectories, ``fused`` kernels)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "OPTIMLAB_CACHE_DIR"


def cache_dir(kind: str) -> Path:
    """The cache folder for ``kind`` (not created here)."""
    env = os.environ.get(ENV_VAR)
    root = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "optimlab"
    return root / kind
