"""The grid, the per-lr summary, the best lr and the robust range."""

from __future__ import annotations

import math

import pytest

from optimlab import registry
from optimlab.tune import grid


def rec(lr, seed, loss, diverged=False):
    return {"lr": lr, "seed": seed, "steps": 10, "val_loss": None if diverged else loss, "diverged": diverged,
            "val_acc": None}


def test_resolve_lrs_defaults_to_the_registry_range_and_accepts_explicit_values():
    spec = registry.get("adam")
    assert grid.resolve_lrs(spec) == pytest.approx(spec.lr_grid(3), rel=1e-11)
    assert grid.resolve_lrs(spec, lrs=[1 / 3, 0.1 + 1e-17]) == [0.1, float("0.333333333333")]
    assert grid.resolve_lrs(spec, per_decade=1, lr_range=(1e-3, 1e-1)) == pytest.approx([1e-3, 1e-2, 1e-1])
    assert grid.resolve_lrs(spec, lrs=[0.1, 0.01, 0.1]) == [0.01, 0.1]


@pytest.mark.parametrize("kwargs, match", [
    ({"lrs": []}, "Invalid lrs"),
    ({"lrs": [0.1, 0.0]}, "Invalid lrs"),
    ({"lrs": [float("nan")]}, "Invalid lrs"),
    ({"lr_range": (0.0, 1.0)}, "Invalid lr_range"),
    ({"lr_range": (1.0, 0.1)}, "Invalid lr_range"),
    ({"lr_range": (-1.0, 1.0)}, "Invalid lr_range"),
    ({"lr_range": (1e-3,)}, "Invalid lr_range"),
    ({"per_decade": 0}, "Invalid per_decade"),
])
def test_bad_grids_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        grid.resolve_lrs(registry.get("sgd"), **kwargs)


def test_the_lr_range_flag_takes_low_high_with_a_colon_or_a_comma():
    assert grid.parse_lr_range(None) is None
    assert grid.parse_lr_range("1e-4:1") == grid.parse_lr_range("1e-4,1") == (1e-4, 1.0)
    assert grid.parse_lr_range("0.1:0.1") == (0.1, 0.1)
    for text, why in [("1:0.1", "empty"), ("0:1", "not positive"), ("-1:1", "not positive"), ("1e-3:inf", "not finite"),
                      ("0.1", "e.g. 1e-4:1"), ("1:2:3", "e.g. 1e-4:1"), ("a:b", "e.g. 1e-4:1")]:
        with pytest.raises(ValueError, match=f"Invalid --lr-range: '{text}'.*{why}"):
            grid.parse_lr_range(text)


def test_a_diverged_seed_makes_the_lr_infinitely_bad():
    per_lr = grid.summarise([rec(0.1, 0, 1.0), rec(0.1, 1, 3.0), rec(1.0, 0, 0.5), rec(1.0, 1, 0, diverged=True)])
    assert [e["lr"] for e in per_lr] == [0.1, 1.0]
    assert per_lr[0]["mean_val_loss"] == pytest.approx(2.0) and per_lr[0]["diverged_seeds"] == 0
    assert per_lr[1]["mean_val_loss"] is None and per_lr[1]["diverged_seeds"] == 1
    assert grid.best_index(per_lr) == 0


def test_robust_range_is_the_contiguous_block_within_tolerance_of_the_best():
    losses = {0.001: 1.0, 0.01: 0.52, 0.1: 0.50, 1.0: 0.56, 10.0: 0.51}
    per_lr = grid.summarise([rec(lr, 0, v) for lr, v in losses.items()])
    assert grid.robust_range(per_lr, 0.05) == (0.01, 0.1)  # 10.0 is within 5% but not contiguous
    assert grid.robust_range(per_lr, 0.0) == (0.1, 0.1)
    assert grid.robust_range(per_lr, 1.5) == (0.001, 10.0)
    # relative to the best loss, not absolute: around a best of 10, 10.4 is within 5% and 10.6 is not
    per_lr = grid.summarise([rec(lr, 0, v) for lr, v in {0.01: 10.6, 0.1: 10.0, 1.0: 10.4}.items()])
    assert grid.robust_range(per_lr, 0.05) == (0.1, 1.0)


def test_all_diverged_has_no_best():
    per_lr = grid.summarise([rec(1.0, 0, 0, diverged=True)])
    assert grid.best_index(per_lr) is None and grid.robust_range(per_lr, 0.05) is None
    assert math.isinf(grid.mean_loss(per_lr[0]))
