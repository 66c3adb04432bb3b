"""Successive halving: fewer steps for bad learning rates, the full budget for the finalists."""

from __future__ import annotations

import pytest

from optimlab.tune import halving


def test_rung_budgets_end_at_the_full_budget():
    assert halving.rung_budgets(13, 270, eta=3) == [30, 90, 270]
    assert halving.rung_budgets(2, 100, eta=3) == [100]
    assert halving.rung_budgets(1, 100) == [100]
    assert halving.rung_budgets(4, 100, eta=2, max_rungs=2) == [50, 100]
    with pytest.raises(ValueError, match="Invalid eta"):
        halving.rung_budgets(5, 10, eta=1)


def test_halving_keeps_the_best_and_spends_less_than_the_grid():
    calls = []

    def evaluate(lrs, steps):
        calls.append((list(lrs), steps))
        # a U-curve in log lr around 0.01; lr >= 1 diverges
        return [{"lr": lr, "mean_val_loss": None if lr >= 1 else (abs(__import__("math").log10(lr) + 2) + 1) / steps,
                 "steps": steps, "trials": 1, "diverged_seeds": int(lr >= 1)} for lr in lrs]

    lrs = [10 ** (k / 3) for k in range(-12, 1)]  # 1e-4 .. 1
    final, per_lr = halving.successive_halving(lrs, 90, evaluate, eta=3)
    assert [len(c[0]) for c in calls] == [13, 5, 2] and [c[1] for c in calls] == [10, 30, 90]
    assert min(final, key=lambda e: e["mean_val_loss"])["lr"] == pytest.approx(0.01)
    assert len(per_lr) == 13 and {e["rung"] for e in per_lr} == {0, 1, 2}
    spent = sum(len(c[0]) * c[1] for c in calls)
    assert spent < 0.5 * 13 * 90
