"""tune(): the known best GD step, reuse of finished trials, trial identity, halving, range test, plot, errors."""

from __future__ import annotations

import json
import math

import pytest

from optimlab import registry
from optimlab.bench import tasks
from optimlab.tune import TuneResult, range_test, sensitivity_plot, study, tune
from tests.tune import counting

QUAD = tasks.get("quadratic")


def _within_one_grid_step(best: float, target: float, per_decade: int) -> bool:
    return abs(math.log10(best / target)) <= 1.0 / per_decade + 1e-9


def test_tuner_picks_the_known_best_gd_step_on_the_quadratic(storage_url):
    r = tune(QUAD, "sgd", seeds=(0,), steps=100, storage=storage_url)
    assert r.lrs == pytest.approx(registry.get("sgd").lr_grid(3), rel=1e-11)
    assert _within_one_grid_step(r.best_lr, QUAD.best_gd_lr, 3)
    # every lr past 2/λmax diverged and was recorded as such
    unstable = [e for e in r.per_lr if e["lr"] > 2 / float(tasks.QUADRATIC.eigenvalues.max())]
    assert unstable and all(e["mean_val_loss"] is None and e["diverged_seeds"] == 1 for e in unstable)
    assert r.diverged_trials == len(unstable)
    json.dumps(r.to_dict(), allow_nan=False)


def test_a_finer_grid_lands_within_one_of_its_steps(storage_url):
    r = tune("quadratic", "sgd", per_decade=8, lr_range=(0.02, 0.5), seeds=(0,), steps=100, storage=storage_url)
    assert _within_one_grid_step(r.best_lr, QUAD.best_gd_lr, 8)
    lo, hi = r.robust_range
    assert lo <= r.best_lr <= hi


def test_a_repeated_sweep_reuses_every_finished_trial(storage_url, monkeypatch):
    calls = counting.record(monkeypatch)  # the training runs themselves: a re-run leaves "ran" unchanged

    def trained() -> list:
        out = sorted(calls)
        calls.clear()
        return out

    first = tune(QUAD, "adam", per_decade=1, seeds=(0, 1), steps=30, storage=storage_url)
    assert first.ran == len(first.trials) == 2 * len(first.lrs)
    assert trained() == sorted(("adam", lr, seed, 30) for lr in first.lrs for seed in (0, 1))
    again = tune(QUAD, "adam", per_decade=1, seeds=(0, 1), steps=30, storage=storage_url)
    assert again.ran == 0 and again.to_dict()["reused"] == len(first.trials)
    assert trained() == []
    assert again.best_lr == first.best_lr and again.per_lr == first.per_lr
    # a new seed only runs what is new; other steps or hypers are different trials
    more = tune(QUAD, "adam", per_decade=1, seeds=(0, 1, 2), steps=30, storage=storage_url)
    assert more.ran == len(first.lrs)
    assert trained() == [("adam", lr, 2, 30) for lr in first.lrs]
    one = [first.lrs[2]]
    assert tune(QUAD, "adam", lrs=one, seeds=(0,), steps=30, storage=storage_url).ran == 0
    assert trained() == []
    assert tune(QUAD, "adam", lrs=one, seeds=(0,), steps=31, storage=storage_url).ran == 1
    assert trained() == [("adam", one[0], 0, 31)]
    hyp = tune(QUAD, "adam", lrs=one, seeds=(0,), steps=30, storage=storage_url, hypers={"betas": (0.5, 0.9)})
    assert hyp.ran == 1 and hyp.hypers == {"betas": (0.5, 0.9)}
    assert trained() == [("adam", one[0], 0, 30)]


def test_trial_identity_covers_every_input():
    base = study.TrialSpec("quadratic", "sgd", 0.1, 0, 50)
    variants = [study.TrialSpec("digits-mlp", "sgd", 0.1, 0, 50), study.TrialSpec("quadratic", "nag", 0.1, 0, 50),
                study.TrialSpec("quadratic", "sgd", 0.2, 0, 50), study.TrialSpec("quadratic", "sgd", 0.1, 1, 50),
                study.TrialSpec("quadratic", "sgd", 0.1, 0, 51),
                study.TrialSpec("quadratic", "sgd", 0.1, 0, 50, hypers='{"momentum":0.9}'),
                study.TrialSpec("quadratic", "sgd", 0.1, 0, 50, lr_schedule="inv_sqrt"),
                study.TrialSpec("quadratic", "sgd", 0.1, 0, 50, version="0.0.0")]
    keys = {base.key} | {v.key for v in variants}
    assert len(keys) == 1 + len(variants)
    assert study.TrialSpec("quadratic", "sgd", 0.1, 0, 50).key == base.key


def test_the_best_step_beats_a_larger_stable_one(storage_url):
    # 2/(λmin+λmax) sits just below the stability edge 2/λmax, so "the largest lr that did not diverge"
    # would also land within a grid step of it; a stable lr just below the edge, where the stiffest
    # direction barely contracts, and a smaller one on the other side must both lose to it.
    edge = 2 / float(tasks.QUADRATIC.eigenvalues.max())
    lrs = [QUAD.best_gd_lr / 2, QUAD.best_gd_lr, 0.999 * edge]
    assert lrs[1] < lrs[2] < edge
    r = tune(QUAD, "sgd", lrs=lrs, seeds=(0,), steps=100, storage=storage_url)
    assert r.best_lr == pytest.approx(QUAD.best_gd_lr, rel=1e-11) and r.diverged_trials == 0


def test_successive_halving_finds_the_best_step_with_fewer_full_runs(storage_url):
    r = tune(QUAD, "sgd", seeds=(0,), steps=90, method="halving", storage=storage_url)
    assert _within_one_grid_step(r.best_lr, QUAD.best_gd_lr, 3)
    full = [t for t in r.trials if t["steps"] == 90]
    assert len(full) < len(r.lrs) and {t["steps"] for t in r.trials} == {10, 30, 90}
    assert len(r.per_lr) == len(r.lrs) and r.best["steps"] == 90


def test_lr_range_test_suggests_a_stable_learning_rate():
    out = range_test(QUAD, "sgd", 1e-4, 1.0, steps=120)
    assert 1e-3 < out["suggested_lr"] < 2 / float(tasks.QUADRATIC.eigenvalues.max())
    assert len(out["lrs"]) == len(out["losses"]) and out["lrs"] == sorted(out["lrs"])
    with pytest.raises(ValueError, match="Invalid lr range"):
        range_test(QUAD, "sgd", 1.0, 0.1)
    import optimlab.tune  # after a call, the package still exports the function (not a same-named module)

    assert optimlab.tune.range_test is range_test


def test_sensitivity_plot_writes_one_u_curve_per_optimizer(storage_url, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    drawn = []
    real_savefig = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: (drawn.append(fig), real_savefig(fig, *a, **k))[1])
    results = [tune(QUAD, name, per_decade=1, seeds=(0,), steps=30, storage=storage_url) for name in ("sgd", "adam")]
    path = sensitivity_plot(results, tmp_path / "u.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # one labelled curve per optimizer through its (lr, mean final val loss) points, its best lr in the label
    (ax,) = drawn[0].axes
    curves = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert list(curves) == [f"SGD (best {results[0].best_lr:.3g})", f"Adam (best {results[1].best_lr:.3g})"]
    for r, line in zip(results, curves.values()):
        finite = [e for e in r.per_lr if e["mean_val_loss"] is not None]
        assert list(line.get_xdata()) == [e["lr"] for e in finite]
        assert list(line.get_ydata()) == [e["mean_val_loss"] for e in finite]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".u.png")] == []
    with pytest.raises(ValueError, match="Invalid results"):
        sensitivity_plot([], tmp_path / "v.png")


@pytest.mark.parametrize("kwargs, match", [
    ({"task": "cifar"}, "valid names: digits-logreg"),
    ({"optimizer": "adamm"}, "valid names: sgd"),
    ({"lrs": []}, "Invalid lrs"),
    ({"lr_range": (0.0, 1.0)}, "Invalid lr_range"),
    ({"lr_range": (1.0, 0.5)}, "Invalid lr_range"),
    ({"seeds": ()}, "Invalid seeds"),
    ({"seeds": (0, 0)}, "Invalid seeds"),
    ({"steps": 0}, "Invalid steps"),
    ({"method": "bayes"}, "Invalid method"),
    ({"workers": 0}, "Invalid workers"),
    ({"robust_tol": -0.1}, "Invalid robust_tol"),
    ({"hypers": {"lr": 0.1}}, "Invalid hypers"),
    ({"hypers": {"moment": 0.9}}, "Invalid hypers"),
    ({"hypers": {"momentum": -1.0}}, "momentum"),
    ({"lr_schedule": "cosine"}, "Invalid lr_schedule"),
    ({"storage": "not a url"}, "Invalid --storage"),
    ({"storage": "sqlite:////nonexistent-optimlab-dir/sub/tune.db"}, "does not exist"),
    ({"storage": "postgresql://user:secret@127.0.0.1:9/optimlab"}, "Cannot open --storage"),
])
def test_bad_input_is_rejected_clearly(storage_url, kwargs, match):
    args = {"task": "quadratic", "optimizer": "sgd", "storage": storage_url, "steps": 5, **kwargs}
    with pytest.raises(ValueError, match=match) as info:
        tune(args.pop("task"), args.pop("optimizer"), **args)
    assert "secret" not in str(info.value)


def test_result_round_trips_through_json(storage_url):
    r = tune(QUAD, "sgd", per_decade=1, seeds=(0,), steps=20, storage=storage_url)
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d == r.to_dict()  # nothing lost or changed on the way (strict JSON: a diverged lr's mean is None)
    assert d["best_lr"] == r.best_lr and d["robust_range"] == list(r.robust_range)
    assert {t["key"] for t in d["trials"]} == {t["key"] for t in r.trials}
    assert isinstance(r, TuneResult) and r.storage == storage_url
