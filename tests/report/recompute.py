"""Recompute what a ``results.json`` states from the runs themselves, through the public task API.

Every run is deterministic (fixed seed, fixed minibatches, one torch thread), so a reported number and
its recomputation are compared exactly: a report that trains at another lr than it states, or fills a
column from the wrong curve, differs in the first digits.
"""

from __future__ import annotations

import math
import statistics
from typing import Any, Mapping

from optimlab.bench import tasks
from optimlab.report.experiments import SCHEDULE_LABELS

# the spreads that depend on the runs' numbers only (seconds and seconds_to_target are wall-clock)
PER_SEED = {
    "final_train_loss": lambda r: r.final_train_loss,
    "final_val_loss": lambda r: r.final_val_loss,
    "val_acc": lambda r: r.val_acc[-1] if r.val_acc else None,
    "test_acc": lambda r: r.test_acc,
    "steps_to_target": lambda r: r.steps_to_target,
}


def schedule(results: Mapping[str, Any]) -> str | None:
    """The schedule name the report's settings describe (they hold its label)."""
    label = results["settings"]["lr_schedule"]
    names = {v: k for k, v in SCHEDULE_LABELS.items()}
    return None if label is None else names.get(label, label)


def run(results: Mapping[str, Any], name: str, lr: float, seed: int, *, evaluation: bool = True):
    """One run of optimizer ``name`` as the report describes it: its task, steps, hypers and schedule;
    ``evaluation``: sampled as the evaluation runs are (sampling never changes the trajectory)."""
    import torch

    torch.set_num_threads(1)  # as `optimlab compare` does: the same reduction order as the report's runs
    task = tasks.get(results["task"]["name"])
    return task.run(name, lr, seed=seed, steps=results["task"]["steps"],
                    hypers=results["settings"]["hypers"].get(name), lr_schedule=schedule(results),
                    eval_every=results["task"]["eval_every"] if evaluation else None)


def _finite_or_none(v: Any) -> float | None:
    return None if v is None or not math.isfinite(float(v)) else float(v)


def _same_mean(stated: float, values: list[float]) -> bool:
    """The stated mean is numpy's (a pairwise sum, then a division), this one exact (``fsum``): they may
    differ in the last bits of the sum's rounding, nothing more. (Float32 losses from a few seeds sum
    exactly in float64, so today they are equal; the tolerance only spares float64 losses.)"""
    return math.isclose(stated, statistics.fmean(values), rel_tol=4 * 2.0 ** -52)


def check_evaluation_runs(results: Mapping[str, Any], name: str) -> None:
    """Rerun optimizer ``name`` at its stated ``best_lr`` on each stated evaluation seed and compare every
    per-seed value, the mean over seeds and the curves with what the report states."""
    r = results["optimizers"][name]
    assert r["seeds"] == results["settings"]["seeds"] and r["runs"] == len(r["seeds"])
    runs = [run(results, name, r["best_lr"], seed) for seed in r["seeds"]]
    for key, value in PER_SEED.items():
        expected = [_finite_or_none(value(x)) for x in runs]
        stated = r[key]
        assert stated["values"] == expected, f"{name}.{key}: stated {stated['values']}, recomputed {expected}"
        finite = [v for v in expected if v is not None]
        assert stated["n"] == len(finite) and stated["missing"] == len(expected) - len(finite), f"{name}.{key}"
        if finite:
            assert _same_mean(stated["mean"], finite), f"{name}.{key}.mean: {stated['mean']} vs {finite}"
            assert (stated["min"], stated["max"]) == (min(finite), max(finite)), f"{name}.{key}"
        else:
            assert stated["mean"] is None, f"{name}.{key}"
    assert r["seconds_to_target"]["n"] == r["steps_to_target"]["n"]
    assert r["diverged_runs"] == sum(x.diverged for x in runs)
    # the curves: every logged step of every seed, the mean over seeds at each
    for key in ("train_loss", "val_acc"):
        curve = r["curves"][key]
        assert all(x.steps == curve["steps"] for x in runs), f"{name}: logged steps"
        for i in range(len(curve["steps"])):
            column = [getattr(x, key)[i] for x in runs]
            assert (curve["min"][i], curve["max"][i]) == (min(column), max(column)), f"{name}.{key} at {i}"
            assert _same_mean(curve["mean"][i], column), f"{name}.{key} at {i}"


def check_tuning_table(results: Mapping[str, Any], name: str) -> None:
    """Rerun every tuning trial (each grid lr on each tuning seed) and compare the stated per-lr means;
    then the stated ``best_lr`` must be the lr whose mean validation loss is the lowest in that table,
    and the robust range the contiguous block around it within the stated tolerance."""
    r, st = results["optimizers"][name], results["settings"]
    per_lr = r["tuning"]["per_lr"]
    assert [e["lr"] for e in per_lr] == r["tuning"]["lrs"] == sorted(r["tuning"]["lrs"])
    assert r["tuning"]["seeds"] == st["tune_seeds"] and r["tuning"]["trials"] == len(per_lr) * len(st["tune_seeds"])
    diverged = 0
    for e in per_lr:
        trials = [run(results, name, e["lr"], seed, evaluation=False) for seed in st["tune_seeds"]]
        diverged += sum(t.diverged for t in trials)
        losses = [t.final_val_loss for t in trials]
        expected = statistics.fmean(losses) if all(math.isfinite(v) for v in losses) else None
        assert e["mean_val_loss"] == expected, f"{name} lr={e['lr']}: stated {e['mean_val_loss']}, recomputed {expected}"
        assert e["diverged_seeds"] == sum(t.diverged for t in trials)
    assert r["diverged_trials"] == diverged

    finite = [e for e in per_lr if e["mean_val_loss"] is not None]
    best = min(finite, key=lambda e: e["mean_val_loss"])
    assert r["best_lr"] == best["lr"], f"{name}: best_lr {r['best_lr']}, lowest mean val loss at {best['lr']}"
    within = [e["mean_val_loss"] is not None and e["mean_val_loss"] - best["mean_val_loss"]
              <= st["robust_tol"] * abs(best["mean_val_loss"]) for e in per_lr]
    i = per_lr.index(best)
    lo = hi = i
    while lo > 0 and within[lo - 1]:
        lo -= 1
    while hi < len(per_lr) - 1 and within[hi + 1]:
        hi += 1
    assert r["robust_range"] == [per_lr[lo]["lr"], per_lr[hi]["lr"]], f"{name}: robust range"
