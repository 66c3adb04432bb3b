"""The learning-rate grid and what a sweep concludes from it.

* ``resolve_lrs``: explicit learning rates, or a log-spaced grid over a range (default: the registry's),
  ``per_decade`` per factor of 10; rounded to 12 significant digits so trial keys match across machines.
* ``summarise``: per learning rate, the mean final validation loss over seeds, where a diverged seed
  counts as ``+inf`` (so any diverged seed makes the lr's mean ``+inf``; shown as ``None`` in JSON).
* ``best_index`` / ``robust_range``: the best lr minimises that mean; the robust range is the contiguous
  block of grid lrs around it whose mean is within ``tol`` (relative) of the best:
  ``mean - best <= tol · |best|``.
"""

from __future__ import annotations

import math
import statistics
from typing import Any, Mapping, Sequence

from optimlab.validation import LR_RANGE


def _positive_finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def resolve_lrs(spec, lrs: Sequence[float] | None = None, per_decade: int = 3,
                lr_range: Sequence[float] | None = None) -> list[float]:
    """Sorted, de-duplicated learning rates to try; ``ValueError`` naming the bad argument otherwise."""
    if lrs is not None:
        values = list(lrs)
        if not values or not all(_positive_finite(v) for v in values):
            raise ValueError(f"Invalid lrs: {lrs!r}; allowed: a non-empty list of finite numbers > 0")
        return sorted({_canonical_lr(v) for v in values})
    if lr_range is not None:
        lr_range = LR_RANGE("lr_range", lr_range)
    return sorted({_canonical_lr(v) for v in spec.lr_grid(per_decade, lr_range)})


def parse_lr_range(text: str | None) -> tuple[float, float] | None:
    """The ``--lr-range`` flag: ``"1e-4:1"`` or ``"1e-4,1"`` -> ``(1e-4, 1.0)``; a clear error otherwise."""
    if text is None:
        return None
    parts = text.replace(",", ":").split(":")
    allowed = "LOW:HIGH with 0 < LOW <= HIGH, both finite, e.g. 1e-4:1"
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"Invalid --lr-range: {text!r}; allowed: {allowed}") from None
    why = LR_RANGE.problem(lo, hi)
    if why:
        raise ValueError(f"Invalid --lr-range: {text!r}; allowed: {allowed} ({why})")
    return lo, hi


def _canonical_lr(value: float) -> float:
    """12 significant digits: a grid computed on another machine (another libm) gives the same trial keys."""
    return float(f"{float(value):.12g}")


def trial_record(trial) -> dict[str, Any]:
    """A finished Optuna trial as a plain dict (strict JSON: a diverged trial's losses are ``None``)."""
    spec, result = trial.user_attrs["spec"], trial.user_attrs["result"]
    return {
        "number": trial.number, "key": trial.user_attrs["key"], "lr": spec["lr"], "seed": spec["seed"],
        "steps": spec["steps"], "val_loss": result["final_val_loss"], "train_loss": result["final_train_loss"],
        "val_acc": result["val_acc"][-1] if result["val_acc"] else None, "test_acc": result["test_acc"],
        "diverged": result["diverged"], "stopped_at": result["stopped_at"], "seconds": result["seconds"],
        "worker": result.get("worker"),
    }


def _loss(record: Mapping[str, Any]) -> float:
    v = record["val_loss"]
    return math.inf if record["diverged"] or v is None else float(v)


def summarise(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per lr (ascending): mean/std of final validation loss over seeds, accuracy, divergences."""
    by_lr: dict[float, list] = {}
    for r in records:
        by_lr.setdefault(r["lr"], []).append(r)
    out = []
    for lr in sorted(by_lr):
        rs = by_lr[lr]
        losses = [_loss(r) for r in rs]
        finite = all(math.isfinite(v) for v in losses)
        accs = [r["val_acc"] for r in rs if r["val_acc"] is not None and not r["diverged"]]
        out.append({
            "lr": lr,
            "mean_val_loss": statistics.fmean(losses) if finite else None,
            "std_val_loss": (statistics.stdev(losses) if len(losses) > 1 else 0.0) if finite else None,
            "mean_val_acc": statistics.fmean(accs) if accs and finite else None,
            "diverged_seeds": sum(1 for r in rs if r["diverged"]),
            "trials": len(rs),
            "steps": max(r["steps"] for r in rs),
        })
    return out


def mean_loss(entry: Mapping[str, Any]) -> float:
    v = entry["mean_val_loss"]
    return math.inf if v is None else float(v)


def best_index(per_lr: Sequence[Mapping[str, Any]]) -> int | None:
    """Index of the lr with the lowest mean validation loss; ``None`` if every lr diverged."""
    finite = [i for i, e in enumerate(per_lr) if math.isfinite(mean_loss(e))]
    return min(finite, key=lambda i: mean_loss(per_lr[i])) if finite else None


def robust_range(per_lr: Sequence[Mapping[str, Any]], tol: float) -> tuple[float, float] | None:
    """``(lo, hi)``: the contiguous grid block around the best lr within ``tol`` (relative) of its loss."""
    i = best_index(per_lr)
    if i is None:
        return None
    best = mean_loss(per_lr[i])

    def ok(j: int) -> bool:
        return mean_loss(per_lr[j]) - best <= tol * abs(best)

    lo = hi = i
    while lo > 0 and ok(lo - 1):
        lo -= 1
    while hi < len(per_lr) - 1 and ok(hi + 1):
        hi += 1
    return per_lr[lo]["lr"], per_lr[hi]["lr"]
