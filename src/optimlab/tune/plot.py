"""The sensitivity plot: final validation loss vs learning rate, one U-curve per optimizer (log x).

Each curve is the mean over seeds at each lr tried (at the full step budget); the best lr is starred
and its value written in the legend; learning rates where a seed diverged are drawn as crosses on
the top edge. The step budget and seeds are in the title (DESIGN.md §5: chosen values on the picture).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

from optimlab.atomic import write_bytes


def _title(name: str) -> str:
    """The class name of a registry optimizer (``"nadam"`` -> ``"NAdam"``), as every other figure labels it."""
    from optimlab import registry

    try:
        return registry.get(name).title
    except registry.UnknownOptimizerError:
        return name


def sensitivity_plot(results: Sequence, path) -> Path:
    """Write the figure to ``path`` atomically (format from its suffix, e.g. ``.png``, ``.svg``)."""
    if not results:
        raise ValueError("Invalid results: []; allowed: one or more TuneResult")
    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"Invalid path: {str(path)!r}; its folder does not exist")
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.4), dpi=110)
    ax = fig.add_subplot()
    finite_all = [e["mean_val_loss"] for r in results for e in r.per_lr
                  if e["steps"] == r.steps and e["mean_val_loss"] is not None]
    top = max(finite_all) * 1.05 if finite_all else 1.0
    for r in results:
        entries = [e for e in r.per_lr if e["steps"] == r.steps]
        xs = [e["lr"] for e in entries if e["mean_val_loss"] is not None]
        ys = [e["mean_val_loss"] for e in entries if e["mean_val_loss"] is not None]
        label = _title(r.optimizer) + (f" (best {r.best_lr:.3g})" if r.best_lr is not None else " (all diverged)")
        (line,) = ax.plot(xs, ys, marker="o", markersize=3.5, linewidth=1.6, label=label)
        bad = [e["lr"] for e in entries if e["mean_val_loss"] is None]
        if bad:
            ax.plot(bad, [top] * len(bad), linestyle="none", marker="x", color=line.get_color())
        best = r.best
        if best is not None:
            ax.plot([best["lr"]], [best["mean_val_loss"]], marker="*", markersize=13, color=line.get_color(),
                    markeredgecolor="black", linestyle="none")
    ax.set_xscale("log")
    if finite_all and min(finite_all) > 0 and max(finite_all) / min(finite_all) > 30:
        ax.set_yscale("log")
    first = results[0]
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final validation loss (mean over seeds)")
    seeds = len(first.seeds)
    ax.set_title(f"Learning-rate sensitivity on {first.task}: {first.steps} steps, {seeds} seed{'s' * (seeds > 1)}"
                 " (x: a seed diverged)", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png")
    return write_bytes(path, buf.getvalue())
