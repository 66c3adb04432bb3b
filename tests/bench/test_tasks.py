"""Benchmark tasks: every task loads and learns; runs are deterministic and fair; divergence is caught."""

from __future__ import annotations

import json
import math

import pytest
import torch

from optimlab.bench import tasks

CLASSIFICATION = [n for n in tasks.names() if tasks.get(n).metric == "accuracy"]


def _lr(task: tasks.Task) -> float:
    return 3e-3 if task.metric == "accuracy" else 0.05


@pytest.mark.parametrize("name", tasks.names())
def test_every_task_loads_and_a_short_run_lowers_the_loss(name):
    task = tasks.get(name)
    r = task.run("adam", _lr(task), seed=0, steps=40)
    assert not r.diverged
    assert r.steps[0] == 0 and r.steps[-1] == 40
    assert r.final_train_loss < r.train_loss[0]
    assert len(r.train_loss) == len(r.val_loss) == len(r.steps)
    if task.metric == "accuracy":
        assert r.val_acc is not None and len(r.val_acc) == len(r.steps)
        assert 0.0 <= r.test_acc <= 1.0
    else:
        assert r.val_acc is None and r.test_acc is None
    json.dumps(r.to_dict(), allow_nan=False)


def test_the_expected_tasks_exist():
    expected = {"digits-logreg", "digits-mlp", "digits-cnn", "mnist5k-logreg", "mnist5k-mlp", "mnist1d-mlp",
                "mnist1d-cnn", "quadratic"}
    assert expected <= set(tasks.names())
    assert any(n.startswith("surface-") for n in tasks.names())


def test_splits_are_fixed_and_disjoint_in_size():
    from optimlab.bench import datasets

    d = datasets.digits()
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (1078, 359, 360)
    assert datasets.digits.cache_info().currsize == 1
    m = datasets.mnist5k()
    assert (len(m.y_train), len(m.y_val), len(m.y_test)) == (3000, 1000, 1000)
    assert m.x_train.shape[1] == 784 and float(m.x_train.max()) <= 1.0
    one = datasets.mnist1d()
    assert (len(one.y_train), len(one.y_val), len(one.y_test)) == (3200, 800, 1000)
    assert one.n_classes == 10


def _curves(r: tasks.RunResult) -> dict:
    d = r.to_dict()
    d.pop("seconds"), d.pop("seconds_to_target")
    return d


def test_same_seed_gives_identical_results_and_another_seed_differs():
    task = tasks.get("digits-mlp")
    a = task.run("momentum", 0.05, seed=3, steps=30)
    b = task.run("momentum", 0.05, seed=3, steps=30)
    c = task.run("momentum", 0.05, seed=4, steps=30)
    assert _curves(a) == _curves(b)
    assert a.train_loss != c.train_loss


def test_every_optimizer_starts_from_the_same_weights_and_batches():
    task = tasks.get("digits-cnn")
    m1, m2 = task.initial_model(7), task.initial_model(7)
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)
    assert not torch.equal(next(task.initial_model(8).parameters()), next(m1.parameters()))
    runs = [task.run(opt, 1e-3, seed=7, steps=5) for opt in ("sgd", "adam", "rmsprop")]
    assert len({r.train_loss[0] for r in runs}) == 1 and len({r.val_loss[0] for r in runs}) == 1
    # the minibatch order is the seed's: a callable optimizer that never moves sees the same batch losses
    seen = []
    for _ in range(2):
        losses = []
        task.run(lambda params, lr: torch.optim.SGD(params, lr=lr), 1e-12, seed=7, steps=6,
                 callback=lambda t, loss: losses.append(loss))
        seen.append(losses)
    assert seen[0] == seen[1] and len(set(seen[0])) > 1


def test_global_rng_is_untouched():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    tasks.get("digits-logreg").run("sgd", 0.1, seed=0, steps=3)
    assert torch.equal(torch.rand(3), expected)


def test_divergence_stops_the_run_and_is_recorded():
    task = tasks.get("digits-mlp")
    r = task.run("sgd", 50.0, seed=0, steps=200)
    assert r.diverged and r.stopped_at < 200
    assert math.isinf(r.final_train_loss) and math.isinf(r.final_val_loss) and r.test_acc is None
    d = r.to_dict()
    assert d["final_val_loss"] is None
    json.dumps(d, allow_nan=False)
    back = tasks.RunResult.from_dict(d)
    assert math.isinf(back.final_val_loss) and back.steps == r.steps


def test_quadratic_exposes_its_best_gd_step_and_reaches_its_target():
    q = tasks.get("quadratic")
    lam = tasks.QUADRATIC.eigenvalues
    assert q.best_gd_lr == pytest.approx(2.0 / float(lam.min() + lam.max()))
    assert q.best_gd_lr == pytest.approx(0.1)
    r = q.run("sgd", q.best_gd_lr, seed=0, steps=300)
    assert r.steps_to_target is not None and r.seconds_to_target is not None
    assert r.final_train_loss <= q.target_loss
    # past 2/λmax gradient descent blows up
    assert q.run("sgd", 2.2 / float(lam.max()), seed=0, steps=300).diverged


def test_lr_schedule_by_name_or_callable_and_callback_stop():
    task = tasks.get("mnist5k-logreg")
    a = task.run("sgd", 0.5, seed=0, steps=20, lr_schedule="inv_sqrt")
    b = task.run("sgd", 0.5, seed=0, steps=20, lr_schedule=lambda t: t ** -0.5)
    c = task.run("sgd", 0.5, seed=0, steps=20)
    assert a.train_loss == b.train_loss != c.train_loss
    r = task.run("sgd", 0.5, seed=0, steps=50, callback=lambda t, loss: t == 7)
    assert r.stopped_at == 7 and r.steps[-1] == 7 and not r.diverged


def test_eval_every_samples_the_same_trajectory_more_finely():
    task = tasks.get("digits-mlp")
    coarse = task.run("adam", 1e-2, seed=1, steps=30)
    fine = task.run("adam", 1e-2, seed=1, steps=30, eval_every=5)
    assert coarse.steps == [0, 15, 30] and fine.steps == list(range(0, 31, 5))
    at = {s: i for i, s in enumerate(fine.steps)}
    assert [fine.train_loss[at[s]] for s in coarse.steps] == coarse.train_loss
    assert fine.test_acc == coarse.test_acc
    assert fine.steps_to_target < coarse.steps_to_target == 30  # the target is resolved more finely


def test_bad_input_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="valid names: digits-logreg"):
        tasks.get("cifar")
    task = tasks.get("quadratic")
    with pytest.raises(ValueError, match="Invalid steps"):
        task.run("sgd", 0.1, steps=0)
    with pytest.raises(ValueError, match="Invalid lr"):
        task.run("sgd", -1.0)
    with pytest.raises(ValueError, match="Invalid eval_every"):
        task.run("sgd", 0.1, steps=2, eval_every=0)
    with pytest.raises(ValueError, match="Invalid lr_schedule"):
        task.run("sgd", 0.1, steps=2, lr_schedule="cosine")
    with pytest.raises(ValueError, match="valid names"):
        task.run("adamm", 0.1, steps=2)


def test_datasets_are_cached_on_disk_atomically(tmp_path, monkeypatch):
    from optimlab.bench import datasets

    monkeypatch.setenv("OPTIMLAB_CACHE_DIR", str(tmp_path))
    datasets.digits.cache_clear()
    try:
        fresh = datasets.digits()
        files = list((tmp_path / "datasets").iterdir())
        assert [f.name for f in files] == [f"digits-{datasets.CACHE_FORMAT}.npz"]
        datasets.digits.cache_clear()
        again = datasets.digits()
        assert torch.equal(fresh.x_train, again.x_train) and torch.equal(fresh.y_test, again.y_test)
        files[0].write_bytes(b"not an npz")  # a corrupt cache is rebuilt, not trusted
        datasets.digits.cache_clear()
        assert torch.equal(datasets.digits().x_val, fresh.x_val)
    finally:
        datasets.digits.cache_clear()


def test_one_divergence_rule_for_tasks_and_the_lab():
    from optimlab import divergence

    assert divergence.limit(2.3, 10) == 23.0 and divergence.limit(-0.5, 10) == 10.0
    assert divergence.exceeded(float("nan"), 1e9) and divergence.exceeded(-24.0, 23.0)
    assert not divergence.exceeded(-23.0, 23.0)
    assert tasks.get("surface-beale").divergence_factor == divergence.SURFACE_FACTOR
    assert tasks.get("digits-mlp").divergence_factor == 10.0
