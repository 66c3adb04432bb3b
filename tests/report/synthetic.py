"""A results dict built from made-up curves, to test the report without training anything."""

from __future__ import annotations

import math

from optimlab.report.compare import method_lines, summary_lines
from optimlab.report.schema import SCHEMA
from optimlab.report.stats import curve_band, summary

STEPS = list(range(0, 101, 10))


def entry(title: str, rate: float, final_loss_offset: float = 0.0) -> dict:
    """Three seeds of an exponentially decaying loss with rate ``rate``."""
    losses = [[2.3 * math.exp(-rate * s / 30) + final_loss_offset + 0.001 * k for s in STEPS] for k in range(3)]
    accs = [[1 - 0.9 * math.exp(-rate * s / 30) - 0.001 * k for s in STEPS] for k in range(3)]
    reach = [next((s for s, v in zip(STEPS, run) if v <= 0.3), None) for run in losses]
    return {
        "title": title, "family": "adaptive", "best_lr": 0.01 * rate, "robust_range": [0.005 * rate, 0.02 * rate],
        "diverged_trials": 1, "tuning": {
            "trials": 10, "ran": 10, "reused": 0, "lrs": [0.001 * rate * 10 ** (k / 2) for k in range(5)],
            "seeds": [0, 1], "study": "optimlab/synthetic/x", "per_lr": []}, "runs": 3, "seeds": [2, 3, 4],
        "diverged_runs": 0, "final_train_loss": summary([run[-1] for run in losses]),
        "final_val_loss": summary([run[-1] + 0.05 for run in losses]), "val_acc": summary([a[-1] for a in accs]),
        "test_acc": summary([a[-1] - 0.01 for a in accs]), "steps_to_target": summary(reach),
        "seconds_to_target": summary([None if r is None else r / 100 for r in reach]),
        "seconds": summary([1.0, 1.1, 1.2]),
        "curves": {"train_loss": curve_band([STEPS] * 3, losses), "val_acc": curve_band([STEPS] * 3, accs)},
    }


def results(entries: dict[str, dict] | None = None, finding: dict | None = None) -> dict:
    entries = entries or {"adam": entry("Adam", 2.0), "sgd": entry("SGD", 1.0)}
    res = {
        "schema": SCHEMA, "version": "0.1.0", "created": "2026-01-01 00:00 UTC", "title": "Synthetic <comparison>",
        "command": "optimlab compare", "experiment": None,
        "task": {"name": "synthetic", "description": "made-up curves", "metric": "accuracy", "steps": 100,
                 "batch_size": 64, "target_loss": 0.3, "eval_every": 10},
        "settings": {"optimizers": list(entries), "seeds": [2, 3, 4], "tune_seeds": [0, 1], "per_decade": 3,
                     "lr_range": None, "steps": 100, "quick": False, "workers": 1, "band": "minmax",
                     "robust_tol": 0.05, "lr_schedule": None, "hypers": {}, "storage_kind": "sqlite", "race": False},
        "optimizers": entries, "race": None, "figures": [], "seconds": 1.0, "finding": finding,
    }
    res["summary"] = summary_lines(res)
    res["method"] = method_lines(res)
    return res
