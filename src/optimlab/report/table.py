"""Number formatting and the results table's columns and cells, shared by the page, the terminal
summary and ``results.md``."""

from __future__ import annotations

import math
from typing import Any, Mapping


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def fmt(x: Any, digits: int = 4) -> str:
    """A number in ``digits`` significant figures, or an em dash for missing/non-finite."""
    if not _is_num(x):
        return "—"
    return f"{x:.{digits}g}"


def fmt_lr(x: Any) -> str:
    return f"{x:.3g}" if _is_num(x) else "—"


def fmt_pm(s: Mapping[str, Any] | None, decimals: int | None = None) -> str:
    """``mean ± std`` from a :func:`stats.summary` dict (``decimals`` fixed, else 4 significant figures)."""
    if not s or not _is_num(s.get("mean")):
        return "—"
    if decimals is None:
        return f"{s['mean']:.4g} ± {s['std']:.2g}"
    return f"{s['mean']:.{decimals}f} ± {s['std']:.{decimals}f}"


COLUMNS = ("optimizer", "best lr", "robust lr range", "final train loss", "val acc", "test acc",
           "steps to target", "seconds to target", "diverged (tuning)", "diverged (final)")


def _reached(r: Mapping[str, Any]) -> str:
    text = fmt_pm(r["steps_to_target"], 0)
    n = r["steps_to_target"]["n"]
    return text if n >= r["runs"] else f"{text} ({n}/{r['runs']})"


def row(r: Mapping[str, Any]) -> list[str]:
    """One optimizer's cells (``r`` is its entry in ``results["optimizers"]``)."""
    rr = r.get("robust_range")
    return [
        r["title"], fmt_lr(r["best_lr"]), f"{fmt_lr(rr[0])} – {fmt_lr(rr[1])}" if rr else "—",
        fmt_pm(r["final_train_loss"]), fmt_pm(r["val_acc"], 3), fmt_pm(r["test_acc"], 3), _reached(r),
        fmt_pm(r["seconds_to_target"], 2), f"{r['diverged_trials']}/{r['tuning']['trials']}",
        f"{r['diverged_runs']}/{r['runs']}",
    ]


def markdown(results: Mapping[str, Any]) -> str:
    """The table in Markdown (written as ``results.md``)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row(r)) + " |" for r in results["optimizers"].values()]
    return "\n".join(lines) + "\n"
