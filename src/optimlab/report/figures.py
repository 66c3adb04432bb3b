"""The report's figures: training loss and validation accuracy vs step, one colour per optimizer.

Colours are the lab's Okabe–Ito palette in the lab's order (distinguishable with the common colour-vision
deficiencies), so an optimizer has the same colour in the curves and in the race animation; past eight
optimizers the colours repeat with a different line style, so every curve stays distinct.
Each curve is the mean over seeds with a shaded band (min–max by default, or ±1 std).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

from optimlab.lab.figure import OKABE_ITO as PALETTE

LINESTYLES = ("-", "--", ":", "-.")
BANDS = ("minmax", "std")


def styles(names: Sequence[str]) -> dict[str, dict[str, str]]:
    """``name -> {"color", "linestyle"}`` in the given order (stable across every figure of a report)."""
    return {name: {"color": PALETTE[i % len(PALETTE)], "linestyle": LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)]}
            for i, name in enumerate(names)}


def palette_cycle():
    """A matplotlib rc context whose colour cycle is :data:`PALETTE` (for figures drawn by other modules)."""
    import matplotlib
    from cycler import cycler

    return matplotlib.rc_context({"axes.prop_cycle": cycler(color=list(PALETTE))})


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def curve_figure(curves: Mapping[str, Mapping], labels: Mapping[str, str], path: str | Path, *, ylabel: str,
                 title: str, logy: bool = False, band: str = "minmax", target: float | None = None) -> Path:
    """Plot ``curves[name] = {steps, mean, std, min, max}`` (see :func:`stats.curve_band`) to ``path``.

    ``band`` is ``"minmax"`` (shade between the seeds' min and max) or ``"std"`` (mean ± one std).
    ``target`` draws a dotted horizontal line (the target loss).
    """
    if band not in BANDS:
        raise ValueError(f"Invalid band: {band!r}; allowed: {', '.join(BANDS)}")
    import numpy as np

    plt = _pyplot()
    style = styles(list(curves))
    fig, ax = plt.subplots(figsize=(7.2, 4.2), dpi=110)
    try:
        for name, c in curves.items():
            steps = np.asarray(c["steps"], dtype=float)
            if steps.size == 0:
                continue
            mean = np.array([np.nan if v is None else v for v in c["mean"]], dtype=float)
            if band == "minmax":
                lo = np.array([np.nan if v is None else v for v in c["min"]], dtype=float)
                hi = np.array([np.nan if v is None else v for v in c["max"]], dtype=float)
            else:
                std = np.array([np.nan if v is None else v for v in c["std"]], dtype=float)
                lo, hi = mean - std, mean + std
            if logy:
                lo = np.where(lo > 0, lo, np.nan)
            ax.plot(steps, mean, label=labels.get(name, name), lw=1.8, **style[name])
            ax.fill_between(steps, lo, hi, color=style[name]["color"], alpha=0.18, lw=0)
        if target is not None and math.isfinite(target):
            ax.axhline(target, color="#555555", lw=1, ls=":", label=f"target {target:g}")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=11)
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize=8, ncol=2 if len(curves) > 4 else 1, frameon=False)
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
