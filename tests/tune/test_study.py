"""The study under concurrency and interruption: atomic claims, no duplicate runs, resume after a kill."""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import types
from collections import Counter

from optimlab.bench import tasks
from optimlab.tune import study, tune
from tests.tune import counting

QUAD = tasks.get("quadratic")


def _plan(n: int, steps: int = 5) -> list[study.TrialSpec]:
    return [study.TrialSpec("quadratic", "sgd", 1e-3 * (i + 1), 0, steps) for i in range(n)]


def _claimer(url: str, keys: list[str], barrier, queue) -> None:
    storage = study.open_storage(url)
    s = study.load_study(storage, "race")
    barrier.wait()
    got = []
    while (trial := study._claim(s, storage, set(keys))) is not None:
        got.append(trial.user_attrs["key"])
        time.sleep(0.02)  # "run" the trial: without work, one process can drain the queue before the others wake
    queue.put(got)


def test_concurrent_claims_never_hand_one_trial_to_two_processes(shared_storage):
    plan = _plan(30)
    s = study.load_study(study.open_storage(shared_storage), "race")
    study.enqueue_missing(s, plan)
    ctx = mp.get_context("fork")  # the claimers touch no torch state: a plain fork is safe and fast
    barrier, queue = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(shared_storage, [p.key for p in plan], barrier, queue))
             for _ in range(3)]
    for p in procs:
        p.start()
    claimed = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join()
    flat = [k for got in claimed for k in got]
    assert sorted(flat) == sorted(p.key for p in plan)  # every trial claimed exactly once
    assert sum(1 for got in claimed if got) >= 2  # the processes really competed


def test_a_key_enqueued_twice_runs_once(storage_url):
    plan = _plan(4)
    storage = study.open_storage(storage_url)
    s = study.load_study(storage, "dup")
    study.enqueue_missing(s, plan)
    for spec in plan:  # a second coordinator racing the first enqueues the same keys again
        s.enqueue_trial({"lr": spec.lr, "seed": spec.seed, "steps": spec.steps}, user_attrs={"key": spec.key})
    assert study.work(s, storage, plan) == len(plan)
    trials = s.get_trials()
    complete = Counter(t.user_attrs["key"] for t in trials if t.state.name == "COMPLETE")
    assert set(complete.values()) == {1} and len(complete) == len(plan)
    dups = [t for t in trials if "duplicate_of" in t.user_attrs]
    assert len(dups) == len(plan) and all(t.state.name == "FAIL" for t in dups)


def test_two_workers_share_one_study_without_duplicates(tmp_path, shared_storage, monkeypatch):
    kwargs = dict(per_decade=1, seeds=(0, 1), steps=60)
    solo = tune(QUAD, "sgd", storage=f"sqlite:///{tmp_path / 'solo.db'}", **kwargs)
    url = shared_storage
    counter = tmp_path / "trained"  # every worker process appends each training run it starts
    monkeypatch.setattr(study, "_worker_main", functools.partial(counting.counting_worker, str(counter)))
    pair = tune(QUAD, "sgd", storage=url, workers=2, **kwargs)
    assert pair.ran == pair.ran_here == len(pair.trials) == len(solo.trials)
    trained = counting.read(counter)
    assert sorted(trained) == sorted(("sgd", t["lr"], t["seed"], 60) for t in pair.trials)  # each trained once
    s = study.load_study(study.open_storage(url), pair.study_name)
    complete = Counter(t.user_attrs["key"] for t in s.get_trials() if t.state.name == "COMPLETE")
    assert set(complete.values()) == {1} and len(complete) == len(pair.trials)
    assert not [t for t in s.get_trials() if t.state.name != "COMPLETE"]
    assert pair.best_lr == solo.best_lr
    assert [e["mean_val_loss"] for e in pair.per_lr] == [e["mean_val_loss"] for e in solo.per_lr]
    # resumed by two workers again: nothing is trained, no trial is added
    again = tune(QUAD, "sgd", storage=url, workers=2, **kwargs)
    assert again.ran == 0 and again.per_lr == pair.per_lr
    assert counting.read(counter) == trained
    assert len(s.get_trials()) == len(pair.trials)


def test_a_killed_sweep_resumes_without_redoing_or_losing_finished_trials(storage_url, tmp_path, monkeypatch):
    lrs, steps = [0.001, 0.003, 0.01, 0.03, 0.06, 0.1, 0.3], 500
    counter = tmp_path / "trained-by-the-killed-sweep"
    code = (counting.SNIPPET.format(path=str(counter)) + "import torch; torch.set_num_threads(1)\n"
            "from optimlab.tune import tune\n"
            f"tune('quadratic', 'sgd', lrs={lrs!r}, seeds=(0,), steps={steps}, storage={storage_url!r}, "
            "stale_after=2)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "OMP_NUM_THREADS": "1"})
    storage = study.open_storage(storage_url, stale_after=2)
    name = "optimlab/quadratic/sgd"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                done = [t for t in study.load_study(storage, name).get_trials() if t.state.name == "COMPLETE"]
            except Exception:  # the study is not created yet
                done = []
            if len(done) >= 2:
                break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)  # no chance to clean up: its running trial stays RUNNING
        proc.wait()
    before = {t.user_attrs["key"]: t.number for t in study.load_study(storage, name).get_trials()
              if t.state.name == "COMPLETE"}
    assert 2 <= len(before) < len(lrs), "the sweep was not interrupted mid-way"
    finished = {t.user_attrs["spec"]["lr"] for t in study.load_study(storage, name).get_trials()
                if t.state.name == "COMPLETE"}
    started = Counter(lr for _, lr, _, _ in counting.read(counter))  # by the killed sweep
    assert all(started[lr] == 1 for lr in finished)
    assert sum(n for lr, n in started.items() if lr not in finished) <= 1  # the one it was running, if any

    calls = counting.record(monkeypatch)
    resumed = tune(QUAD, "sgd", lrs=lrs, seeds=(0,), steps=steps, storage=storage_url, stale_after=2)
    assert resumed.ran == len(lrs) - len(before)
    # nothing finished was redone: the resume trained each unfinished trial once, and nothing else
    assert sorted(lr for _, lr, _, _ in calls) == sorted(set(lrs) - finished)
    final = {t["key"]: t["number"] for t in resumed.trials}
    assert all(final[k] == n for k, n in before.items())  # nothing finished was lost or replaced
    trials = study.load_study(storage, name).get_trials()
    complete = Counter(t.user_attrs["key"] for t in trials if t.state.name == "COMPLETE")
    assert set(complete.values()) == {1} and len(complete) == len(lrs)
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]


def test_trials_another_machine_runs_meanwhile_are_counted_apart(storage_url, monkeypatch):
    lrs, steps = [0.01, 0.03, 0.1], 20
    real = study.TrialSpec.run
    helped = []

    def run(self):  # while this sweep runs its first trial, "another machine" takes the lr=0.1 one
        if not helped:
            helped.append(self.lr)
            other = study.TrialSpec("quadratic", "sgd", 0.1, 0, steps)
            storage = study.open_storage(storage_url)
            assert study.work(study.load_study(storage, "optimlab/quadratic/sgd"), storage, [other],
                              run_id="another machine") == 1
        return real(self)

    monkeypatch.setattr(study.TrialSpec, "run", run)
    r = tune(QUAD, "sgd", lrs=lrs, seeds=(0,), steps=steps, storage=storage_url)
    assert helped == [0.01]
    assert r.ran == 3 and r.ran_here == 2 and len(r.trials) == 3


def _interrupt_after(monkeypatch, n: int, exc: BaseException) -> list:
    calls = []
    real = study.TrialSpec.run

    def run(self):
        calls.append(self.key)
        if len(calls) == n:
            raise exc
        return real(self)

    monkeypatch.setattr(study.TrialSpec, "run", run)
    return calls


def _never_wait(monkeypatch) -> None:
    """A worker sleeps only to wait for trials running elsewhere (or for a dead one's heartbeat to go
    stale): make any such wait fail at once."""
    def sleep(seconds):
        raise AssertionError(f"the sweep waited ({seconds} s) for a trial another worker holds")

    monkeypatch.setattr(study, "time", types.SimpleNamespace(sleep=sleep))


def test_ctrl_c_fails_the_running_trial_and_the_next_sweep_resumes_at_once(storage_url, monkeypatch):
    kwargs = dict(per_decade=1, seeds=(0,), steps=20, storage=storage_url)  # default stale_after: 30 s
    calls = _interrupt_after(monkeypatch, 3, KeyboardInterrupt())
    try:
        tune(QUAD, "sgd", **kwargs)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interruption did not propagate")
    monkeypatch.undo()
    assert len(calls) == 3
    # the interrupted trial is closed at once (FAIL, no error: not the trial's fault), not left RUNNING
    # for its heartbeat to go stale 30 s later
    trials = study.load_study(study.open_storage(storage_url), "optimlab/quadratic/sgd").get_trials()
    states = {t.user_attrs["key"]: t.state.name for t in trials}
    assert [states[k] for k in calls] == ["COMPLETE", "COMPLETE", "FAIL"]
    assert not [t for t in trials if t.state.name == "RUNNING" or "error" in t.user_attrs]
    # so the next sweep resumes at once: it never waits, and trains the interrupted trial and the
    # ones never started, each once, and not the two finished ones
    _never_wait(monkeypatch)
    trained = counting.record(monkeypatch)
    resumed = tune(QUAD, "sgd", **kwargs)
    assert resumed.ran == len(resumed.trials) - 2
    finished = {t.user_attrs["spec"]["lr"] for t in trials if t.state.name == "COMPLETE"}
    assert sorted(lr for _, lr, _, _ in trained) == sorted(set(resumed.lrs) - finished)


def test_a_failing_trial_stops_the_sweep_with_its_error_and_is_retried_next_time(storage_url, monkeypatch):
    kwargs = dict(per_decade=1, seeds=(0,), steps=20, storage=storage_url)
    _interrupt_after(monkeypatch, 2, RuntimeError("boom"))
    try:
        tune(QUAD, "sgd", **kwargs)
    except RuntimeError as exc:
        assert "boom" in str(exc)
    else:
        raise AssertionError("the trial's error was swallowed")
    monkeypatch.undo()
    s = study.load_study(study.open_storage(storage_url), "optimlab/quadratic/sgd")
    failed = [t for t in s.get_trials() if t.state.name == "FAIL"]
    assert len(failed) == 1 and failed[0].user_attrs["error"] == "RuntimeError: boom"
    finished = [t.user_attrs["spec"]["lr"] for t in s.get_trials() if t.state.name == "COMPLETE"]
    assert len(finished) == 1
    trained = counting.record(monkeypatch)
    again = tune(QUAD, "sgd", **kwargs)
    assert again.ran == len(again.trials) - 1
    # retried: the failed trial and the ones never started, each once; not the one that finished
    assert sorted(lr for _, lr, _, _ in trained) == sorted(set(again.lrs) - set(finished))
    assert all(t.params["lr"] == t.user_attrs["spec"]["lr"] for t in s.get_trials() if t.state.name == "COMPLETE")
