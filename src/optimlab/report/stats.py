"""Spread over seeds: summaries of scalars and of curves (mean with a min–max and ±std band).

For values :math:`x_1..x_n` (non-finite ones dropped and counted), ``summary`` gives
:math:`\\bar x = \\frac1n\\sum x_i`, the sample standard deviation
:math:`s = \\sqrt{\\frac{1}{n-1}\\sum (x_i-\\bar x)^2}` (0 when ``n == 1``), min, max and ``n``.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np


def _finite(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def summary(values: Sequence[float | None]) -> dict:
    """``{mean, std, min, max, n, missing, values}``; statistics are ``None`` when no value is finite."""
    vals = [None if v is None else float(v) for v in values]
    good = _finite(vals)
    n = len(good)
    out = {"n": n, "missing": len(vals) - n, "values": [v if v is None or math.isfinite(v) else None for v in vals]}
    if n == 0:
        return {**out, "mean": None, "std": None, "min": None, "max": None}
    arr = np.asarray(good)
    std = float(arr.std(ddof=1)) if n > 1 else 0.0
    return {**out, "mean": float(arr.mean()), "std": std, "min": float(arr.min()), "max": float(arr.max())}


def curve_band(steps_per_run: Sequence[Sequence[int]], values_per_run: Sequence[Sequence[float] | None]) -> dict:
    """Align runs on their logged steps and summarise each step across runs.

    A run that stopped early (diverged) contributes nothing past its last step; non-finite values are
    ignored. Returns ``{steps, mean, std, min, max, n}`` lists (``None`` where no run has a finite value).
    """
    runs = [(list(s), list(v)) for s, v in zip(steps_per_run, values_per_run) if v is not None]
    all_steps = sorted({int(s) for steps, _ in runs for s in steps})
    if not all_steps:
        return {"steps": [], "mean": [], "std": [], "min": [], "max": [], "n": []}
    index = {s: i for i, s in enumerate(all_steps)}
    grid = np.full((len(runs), len(all_steps)), np.nan)
    for r, (steps, vals) in enumerate(runs):
        for s, v in zip(steps, vals):
            if v is not None and math.isfinite(float(v)):
                grid[r, index[int(s)]] = float(v)
    count = np.isfinite(grid).sum(axis=0)
    out: dict = {"steps": all_steps, "mean": [], "std": [], "min": [], "max": [], "n": count.tolist()}
    for j in range(len(all_steps)):
        col = grid[:, j][np.isfinite(grid[:, j])]
        if col.size == 0:
            for key in ("mean", "std", "min", "max"):
                out[key].append(None)
            continue
        out["mean"].append(float(col.mean()))
        out["std"].append(float(col.std(ddof=1)) if col.size > 1 else 0.0)
        out["min"].append(float(col.min()))
        out["max"].append(float(col.max()))
    return out
