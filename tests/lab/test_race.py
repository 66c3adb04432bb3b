"""Racing: fair tuning reaches the known minima, the saddle is escaped, any torch optimizer races,
results are deterministic, divergence is detected, clipping is explicit, the cache avoids recomputing."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from optimlab import registry
from optimlab.lab import race, surfaces, trajectory
from optimlab.lab.cache import TrajectoryCache
from optimlab.lab.racers import DEFAULT_LR_RANGE, Racer, factory_key
from optimlab.lab.surfaces import Surface
from optimlab.lab.tune import choose

ADAPTIVE = [s.name for s in registry.specs() if s.family == "adaptive"]
# Step budgets for the known-minimum claims (tuning runs over the registry's lr grid at the same budget).
BEALE_STEPS, ROSENBROCK_STEPS, SADDLE_STEPS = 200, 500, 80  # RAdam warms up for ~6 steps


@pytest.mark.parametrize("name, steps", [("beale", BEALE_STEPS), ("rosenbrock", ROSENBROCK_STEPS)])
def test_tuned_adam_reaches_the_minimum(name, steps):
    s = surfaces.get(name)
    result = race(s, ["adam"], steps=steps, tune=True, cache=False)
    run = result.runs[0]
    assert run.lr_source == "tuned" and run.lr in registry.get("adam").lr_grid()
    assert run.tuning.lr == run.lr and len(run.tuning.final_losses) == len(run.tuning.grid)
    assert np.abs(run.path[-1] - np.array(s.minima[0])).max() < 1e-2
    assert not run.diverged


def test_adaptive_methods_escape_the_saddle():
    s = surfaces.get("saddle")
    assert abs(s.start[1]) < 1e-2  # starts just off the saddle point's ridge
    result = race(s, ADAPTIVE, steps=SADDLE_STEPS, tune=True, cache=False)
    assert len(result.runs) >= 5
    for run in result.runs:
        assert abs(run.path[-1, 1]) > 0.9, (run.label, run.path[-1])
        assert run.losses[-1] < 0.2 * s.f(torch.zeros(2, dtype=torch.float64)).item()  # well below the saddle


def test_lockstep_equals_running_alone():
    s = surfaces.get("rosenbrock")
    jobs = [trajectory.Job(registry.get(n).make, {"lr": 1e-3, "impl": "reference"}) for n in ("adam", "nag", "adadelta")]
    together = trajectory.run(s, jobs, s.start, 40)
    for job, t in zip(jobs, together):
        alone = trajectory.run(s, [job], s.start, 40)[0]
        np.testing.assert_array_equal(alone.path, t.path)
        np.testing.assert_array_equal(alone.losses, t.losses)


def test_races_are_deterministic_including_minibatches():
    a = race("moons", ["sgd", "adam"], steps=30, lrs={"sgd": 0.3, "adam": 0.05}, cache=False)
    b = race("moons", ["sgd", "adam"], steps=30, lrs={"sgd": 0.3, "adam": 0.05}, cache=False)
    for ra, rb in zip(a.runs, b.runs):
        np.testing.assert_array_equal(ra.path, rb.path)
    assert a.runs[0].path.shape == (31, 2) and a.runs[0].losses.shape == (31,)


def test_any_torch_optimizer_races():
    third_party = functools.partial(torch.optim.SGD, momentum=0.5)
    result = race("booth", [("torch Adam", torch.optim.Adam), ("partial SGD", third_party), "adam"],
                  steps=50, lrs={"torch adam": 0.3, "adam": 0.3, "partial sgd": 0.01}, cache=False)
    torch_adam, partial_sgd, ours = result.runs
    np.testing.assert_allclose(torch_adam.path, ours.path, rtol=0, atol=1e-12)
    assert partial_sgd.lr == 0.01 and partial_sgd.final_loss < surfaces.get("booth").f(
        torch.tensor(surfaces.get("booth").start, dtype=torch.float64)).item()


def test_closure_optimizers_race_and_reach_the_minimum():
    """L-BFGS needs a closure: it gets one that re-evaluates the surface at its own point."""
    result = race("rosenbrock", [("torch.optim.LBFGS", torch.optim.LBFGS), "adam"], steps=40,
                  lrs={"torch.optim.lbfgs": 1.0, "adam": 0.01}, cache=False)
    lbfgs, adam = result.runs
    assert trajectory.needs_closure(torch.optim.LBFGS([torch.zeros(2, requires_grad=True)]))
    assert not trajectory.needs_closure(torch.optim.Adam([torch.zeros(2, requires_grad=True)]))
    np.testing.assert_allclose(lbfgs.path[-1], (1.0, 1.0), atol=1e-3)
    assert lbfgs.final_loss < 1e-6 < adam.final_loss


def test_import_paths_race_like_factories():
    result = race("booth", "adam,torch.optim.Adam,torch.optim:Adagrad", steps=20,
                  lrs={"adam": 0.3, "torch.optim.adam": 0.3}, cache=False)
    ours, theirs, adagrad = result.runs
    assert [r.label for r in result.runs] == ["Adam", "torch.optim.Adam", "torch.optim:Adagrad"]
    np.testing.assert_allclose(theirs.path, ours.path, rtol=0, atol=1e-12)
    assert adagrad.lr == 0.01  # torch's default, untuned


@pytest.mark.parametrize("name, match", [("torch.optim.Nope", "has no attribute 'Nope'"),
                                         ("nosuchpkg.Opt", "No module named 'nosuchpkg'"),
                                         ("math.pi", "float is not callable")])
def test_bad_import_paths_are_clear_errors(name, match):
    with pytest.raises(ValueError, match=f"Invalid optimizer '{name}'.*{match}.*allowed: a registry name"):
        race("booth", [name], steps=3, cache=False)


def test_default_lr_is_the_factory_default_and_tuned_factories_use_the_default_range():
    result = race("booth", [("torch RMSprop", torch.optim.RMSprop)], steps=5, cache=False)
    assert result.runs[0].lr == 0.01 and result.runs[0].lr_source == "default"
    tuned = race("booth", [("torch RMSprop", torch.optim.RMSprop)], steps=5, tune=True, cache=False)
    assert tuned.runs[0].tuning.grid == tuple(registry.log_grid(*DEFAULT_LR_RANGE))


def test_explicit_lrs_are_not_tuned():
    result = race("booth", ["sgd", "adam"], steps=20, lrs={"adam": 0.2}, tune=True, cache=False)
    sgd, adam = result.runs
    assert (adam.lr, adam.lr_source, adam.tuning) == (0.2, "set", None)
    assert sgd.lr_source == "tuned" and "lr=" in sgd.legend and "tuned" in sgd.legend


def test_divergence_is_detected_and_never_chosen():
    result = race("rosenbrock", ["sgd"], steps=50, lrs={"sgd": 1.0}, cache=False)
    run = result.runs[0]
    assert run.diverged and math.isinf(run.final_loss)
    assert np.isnan(run.path[run.diverged_at:]).all() and np.isfinite(run.path[:run.diverged_at]).all()
    assert "diverged" in run.legend
    tuned = race("rosenbrock", ["sgd"], steps=50, tune=True, cache=False).runs[0]
    assert not tuned.diverged and tuned.lr < 1.0
    assert choose([0.1, 1.0], [math.inf, math.nan]) == 0.1
    assert choose([0.1, 1.0], [2.0, 1.0]) == 1.0


def test_clipping_is_applied_and_shown_in_the_title():
    s = surfaces.get("booth")
    clipped = race(s, ["sgd"], steps=10, lrs={"sgd": 0.01}, clip=1.0, cache=False)
    steps = np.linalg.norm(np.diff(clipped.runs[0].path, axis=0), axis=1)
    assert steps.max() <= 0.01 * 1.0 + 1e-12
    assert "clipped at 1" in clipped.title()
    assert "clipped" not in race(s, ["sgd"], steps=10, cache=False).title()


def test_user_surface_races():
    mine = Surface("bowl", lambda t: ((t - 0.5) ** 2).sum(-1), domain=((-2.0, 2.0), (-2.0, 2.0)), start=(-1.5, 1.5))
    run = race(mine, ["adam"], steps=200, lrs={"adam": 0.05}, cache=False).runs[0]
    assert np.abs(run.path[-1] - 0.5).max() < 1e-2


counted = []


def counting_sgd(params, lr=0.1):
    counted.append(lr)
    return torch.optim.SGD(params, lr=lr)


def test_cache_hit_avoids_recomputation(tmp_path):
    cache = TrajectoryCache(tmp_path / "c")
    counted.clear()
    first = race("booth", [("mine", counting_sgd), "adam"], steps=20, tune=True, cache=cache)
    built = len(counted)
    # tuning computed every grid point once; the race reused the two chosen trajectories without a look-up
    assert built == len(first.runs[0].tuning.grid) and (cache.misses, cache.hits) == (built + 13, 0)
    assert first.runs[0].tuning.trajectory is not None
    np.testing.assert_array_equal(first.runs[0].path, first.runs[0].tuning.trajectory.path)
    again = race("booth", [("mine", counting_sgd), "adam"], steps=20, tune=True, cache=cache)
    assert len(counted) == built and cache.hits == built + 13
    for a, b in zip(first.runs, again.runs):
        assert a.lr == b.lr
        np.testing.assert_array_equal(a.path, b.path)
    assert not [p for p in (tmp_path / "c").iterdir() if not p.name.endswith(".npz") or p.name.startswith(".")]
    # a different budget, start or clip is a different key
    race("booth", [("mine", counting_sgd)], steps=21, cache=cache)
    race("booth", [("mine", counting_sgd)], steps=20, start=(0.0, 0.0), cache=cache)
    assert len(counted) == built + 2


def test_damaged_cache_file_is_recomputed(tmp_path):
    cache = TrajectoryCache(tmp_path)
    first = race("booth", ["sgd"], steps=10, cache=cache).runs[0]
    for f in tmp_path.iterdir():
        f.write_bytes(b"truncated")
    again = race("booth", ["sgd"], steps=10, cache=cache).runs[0]
    np.testing.assert_array_equal(first.path, again.path)


def test_factories_without_a_stable_identity_are_not_cached():
    assert factory_key(lambda ps, lr=0.1: torch.optim.SGD(ps, lr=lr)) is None
    assert factory_key(torch.optim.Adam).startswith("torch.optim.adam.Adam@")
    assert "momentum" in factory_key(functools.partial(torch.optim.SGD, momentum=0.9))


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps=0), "steps"), (dict(steps=2.5), "steps"), (dict(start=(99.0, 0.0)), "outside"),
    (dict(lrs={"adam": 0.0}), "lr for adam"), (dict(lrs={"adam": float("nan")}), "lr"),
    (dict(lrs={"rmsprop": 0.1}), "not racing"), (dict(clip=-1.0), "clip"),
    (dict(optimizers=["adam", "nope"]), "valid names"), (dict(optimizers=["adam", "Adam"]), "duplicate"),
    (dict(optimizers=[]), "at least one"), (dict(cache=3), "cache"),
])
def test_invalid_arguments_raise_value_errors(kwargs, match):
    args = dict(surface="beale", optimizers=["adam"], steps=5, cache=False)
    with pytest.raises(ValueError, match=match):
        race(**{**args, **kwargs})


def test_racer_objects_are_accepted():
    r = Racer("plain", torch.optim.SGD, lr_grid=(0.01,), lr=0.01)
    assert race("booth", [r], steps=3, cache=False).runs[0].label == "plain"
