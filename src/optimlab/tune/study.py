"""Trials in an Optuna study: identity, storage, claiming, heartbeats, resuming and worker processes.

Every trial of a sweep is one ``(task, optimizer, hyperparameters, lr, seed, steps, lr schedule,
optimlab version)``: its *key* is a digest of those. The plan of a sweep is enqueued once as WAITING
trials (``user_attrs["key"]``); workers, in one process, in several, or on several machines sharing
the storage, claim WAITING trials one at a time and run them.

Guarantees:

* **No trial runs twice.** A claim is the storage's atomic WAITING -> RUNNING transition (on SQLite
  every transaction is ``BEGIN IMMEDIATE``, so the read-then-write cannot interleave; on PostgreSQL
  Optuna uses ``SELECT ... FOR UPDATE``). If two processes enqueued the same key, only the *canonical*
  trial runs: the lowest-numbered trial of that key that has not failed; a claimed duplicate is
  closed as FAIL with ``user_attrs["duplicate_of"]`` without running.
* **A killed sweep resumes without redoing or losing finished work.** COMPLETE trials are reused by
  key. A worker records a heartbeat while it runs a trial; a RUNNING trial whose heartbeat is older
  than ``stale_after`` seconds belonged to a dead worker and is failed and re-enqueued.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import socket
import threading
import time
import uuid
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import optimlab

POLL_SECONDS = 0.5
DEFAULT_STALE_AFTER = 30


@dataclass(frozen=True)
class TrialSpec:
    """What one trial trains; everything that can change its result is part of its key."""

    task: str
    optimizer: str
    lr: float
    seed: int
    steps: int
    hypers: str = "{}"  # canonical JSON of the fixed hyperparameters
    lr_schedule: str | None = None
    version: str = optimlab.__version__

    @property
    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def run(self):
        """Train this trial; returns the task's :class:`~optimlab.bench.tasks.RunResult`."""
        from optimlab.bench import tasks

        return tasks.get(self.task).run(self.optimizer, self.lr, seed=self.seed, steps=self.steps,
                                        hypers=json.loads(self.hypers), lr_schedule=self.lr_schedule)


def canonical_hypers(hypers: Mapping[str, Any] | None) -> str:
    """Hyperparameters as canonical JSON (tuples as lists), the form that goes into a trial key."""
    try:
        return json.dumps(dict(hypers or {}), sort_keys=True, separators=(",", ":"), default=list)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Invalid hypers: {hypers!r}; allowed: JSON-serialisable values ({exc})") from exc


# -- storage ---------------------------------------------------------------------------------------

def _quiet_optuna() -> None:
    """No "A new study created" lines in optimlab's output (Optuna's own log level, WARNING)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and reports)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            creds = creds.split(":", 1)[0] + ":***"
        return f"{scheme}://{creds}@{host}"
    return url


def sqlite_url(path: str | os.PathLike) -> str:
    return f"sqlite:///{os.fspath(path)}"


def _serialise_sqlite(engine) -> None:
    """Make every SQLite transaction ``BEGIN IMMEDIATE``: a read-then-write (a claim) cannot interleave."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection, _record):  # let SQLAlchemy's "begin" emit BEGIN
        dbapi_connection.isolation_level = None
        # WAL: readers never block the writer; NORMAL sync stays safe against killed processes.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections opened during setup lack the listeners


def open_storage(url: str, stale_after: int = DEFAULT_STALE_AFTER):
    """An Optuna ``RDBStorage`` for ``url`` with heartbeats; a clear ``ValueError`` if it cannot be opened."""
    _quiet_optuna()
    import optuna

    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"Invalid --storage: {url!r}; allowed: an Optuna RDB URL such as "
                         "sqlite:///path/tune.db or postgresql://user:password@host:5432/db")
    if not (isinstance(stale_after, int) and stale_after >= 2):
        raise ValueError(f"Invalid stale_after: {stale_after!r}; allowed: an integer >= 2 (seconds)")
    is_sqlite = url.startswith("sqlite")
    if is_sqlite:
        path = url.split(":///", 1)[1] if ":///" in url else ""
        parent = os.path.dirname(os.path.abspath(path)) if path and path != ":memory:" else None
        if parent is not None and not os.path.isdir(parent):
            raise ValueError(f"Invalid --storage {url!r}: directory {parent!r} does not exist")
    kwargs = {"connect_args": {"timeout": 120}} if is_sqlite else {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna; we rely on them knowingly
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                url, engine_kwargs=kwargs, heartbeat_interval=max(1, stale_after // 6), grace_period=stale_after)
    except Exception as exc:  # driver missing, host unreachable, bad credentials, unwritable file...
        reasons: list[str] = []
        while exc is not None and len(reasons) < 3:  # the error and its causes, each said once
            lines = str(exc).strip().splitlines()
            text = lines[0] if lines else type(exc).__name__
            if not any(text in r or r.endswith(text) for r in reasons) and not any(r in text for r in reasons):
                reasons.append(text)
            exc = exc.__cause__
        raise ValueError(f"Cannot open --storage {mask_url(url)!r}: {' <- '.join(reasons)}") from None
    if is_sqlite:
        _serialise_sqlite(storage.engine)
    return storage


def check_storage(url: str) -> None:
    """Raise a clear ``ValueError`` now if ``url`` cannot be opened as an Optuna storage."""
    open_storage(url).remove_session()


def load_study(storage, study_name: str):
    import optuna

    return optuna.create_study(storage=storage, study_name=study_name, direction="minimize", load_if_exists=True)


# -- trial bookkeeping -----------------------------------------------------------------------------

def _by_key(trials: Iterable, keys: set[str] | None = None) -> dict[str, list]:
    out: dict[str, list] = {}
    for t in trials:
        key = t.user_attrs.get("key")
        if key is not None and (keys is None or key in keys):
            out.setdefault(key, []).append(t)
    return out


def _state(name: str):
    from optuna.trial import TrialState

    return getattr(TrialState, name)


def _canonical(trials: Sequence) -> Any | None:
    """The trial of a key that counts: the lowest-numbered one that has not failed."""
    alive = [t for t in trials if t.state != _state("FAIL")]
    return min(alive, key=lambda t: t.number) if alive else None


def _errors(trials: Sequence, run_id: str | None) -> list[str]:
    """Errors raised by trials of this run (a failure in an earlier run is retried, not repeated)."""
    return [t.user_attrs["error"] for t in trials
            if t.state == _state("FAIL") and "error" in t.user_attrs and t.user_attrs.get("run") == run_id]


def enqueue_missing(study, plan: Sequence[TrialSpec], run_id: str | None = None) -> int:
    """Enqueue every planned trial that has no live (waiting, running or complete) trial; return how many.

    Raises ``ValueError`` with the trial's own message if a trial of run ``run_id`` raised an error.
    """
    by_key = _by_key(study.get_trials(deepcopy=False))
    added = 0
    for spec in plan:
        trials = by_key.get(spec.key, [])
        errors = _errors(trials, run_id)
        if errors:
            raise ValueError(f"trial lr={spec.lr:g} seed={spec.seed} of {spec.optimizer} on {spec.task} "
                             f"failed: {errors[0]}")
        if _canonical(trials) is None:
            _enqueue(study, spec)
            added += 1
    return added


def _enqueue(study, spec: TrialSpec) -> None:
    """One WAITING trial, written in one transaction with its key, its spec and its Optuna params
    (lr, seed, steps: so Optuna's own tools, the dashboard and plots, can read the sweep)."""
    from optuna.distributions import FloatDistribution, IntDistribution
    from optuna.trial import create_trial

    params = {"lr": spec.lr, "seed": spec.seed, "steps": spec.steps}
    dists = {"lr": FloatDistribution(spec.lr, spec.lr, log=True), "seed": IntDistribution(spec.seed, spec.seed),
             "steps": IntDistribution(spec.steps, spec.steps)}
    study.add_trial(create_trial(state=_state("WAITING"), params=params, distributions=dists,
                                 user_attrs={"key": spec.key, "spec": asdict(spec)}))


def completed(study, plan: Sequence[TrialSpec]) -> dict[str, Any]:
    """key -> the COMPLETE trial that counts for it, for the planned keys that are finished."""
    keys = {s.key for s in plan}
    out = {}
    for key, trials in _by_key(study.get_trials(deepcopy=False), keys).items():
        canon = _canonical(trials)
        if canon is not None and canon.state == _state("COMPLETE"):
            out[key] = canon
    return out


@contextlib.contextmanager
def _heartbeat(storage, trial_id: int, interval: float):
    """Record the trial's heartbeat every ``interval`` seconds while the block runs."""
    stop = threading.Event()

    def beat():
        while not stop.wait(interval):
            with contextlib.suppress(Exception):
                storage.record_heartbeat(trial_id)

    thread = threading.Thread(target=beat, name=f"optimlab-heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _claim(study, storage, keys: set[str]):
    """Atomically take one WAITING trial of the plan (WAITING -> RUNNING); ``None`` when none is left."""
    import optuna

    for t in storage.get_all_trials(study._study_id, deepcopy=False, states=(_state("WAITING"),)):
        if t.user_attrs.get("key") not in keys:
            continue
        storage.record_heartbeat(t._trial_id)  # before the claim: a kill right after it still goes stale
        try:
            if storage.set_trial_state_values(t._trial_id, state=_state("RUNNING")):
                return t
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def _fail_stale(study) -> None:
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def _run_claimed(study, storage, trial, spec: TrialSpec, run_id: str | None = None) -> bool:
    """Run a claimed trial if it is canonical for its key; close it COMPLETE (or FAIL). True if it ran.

    An exception is recorded on the trial (``user_attrs["error"]``, with ``run_id``) and re-raised; an
    interruption (Ctrl-C, SIGTERM) fails the trial without an error, so the next sweep runs it again.
    """
    siblings = _by_key(study.get_trials(deepcopy=False), {spec.key}).get(spec.key, [])
    canon = _canonical(siblings)
    if canon is not None and canon.number != trial.number:
        storage.set_trial_user_attr(trial._trial_id, "duplicate_of", canon.number)
        storage.set_trial_state_values(trial._trial_id, state=_state("FAIL"))
        return False
    interval = max(1.0, storage.heartbeat_interval or 1)
    try:
        with _heartbeat(storage, trial._trial_id, interval):
            result = spec.run()
    except Exception as exc:
        storage.set_trial_user_attr(trial._trial_id, "error", f"{type(exc).__name__}: {exc}")
        storage.set_trial_user_attr(trial._trial_id, "run", run_id)
        storage.set_trial_state_values(trial._trial_id, state=_state("FAIL"))
        raise
    except BaseException:
        storage.set_trial_state_values(trial._trial_id, state=_state("FAIL"))
        raise
    value = result.final_val_loss if math.isfinite(result.final_val_loss) else math.inf
    storage.set_trial_user_attr(trial._trial_id, "result", {**result.to_dict(), "run": run_id,
                                                            "worker": f"{socket.gethostname()}:{os.getpid()}"})
    import optuna

    try:
        storage.set_trial_state_values(trial._trial_id, state=_state("COMPLETE"), values=[value])
    except optuna.exceptions.UpdateFinishedTrialError:
        return False  # judged stale while alive (starved heartbeat); the re-enqueued copy counts
    return True


def work(study, storage, plan: Sequence[TrialSpec], on_trial: Callable[[], None] | None = None,
         run_id: str | None = None) -> int:
    """Run planned trials until every one is complete (waiting for other workers' running trials).

    Returns how many trials this worker ran. Stale trials (dead workers) are failed and re-enqueued.
    """
    specs = {s.key: s for s in plan}
    keys = set(specs)
    ran = 0
    while True:
        trial = _claim(study, storage, keys)
        if trial is not None:
            if _run_claimed(study, storage, trial, specs[trial.user_attrs["key"]], run_id):
                ran += 1
                if on_trial is not None:
                    on_trial()
            continue
        if len(completed(study, plan)) == len(keys):
            return ran
        _fail_stale(study)
        if enqueue_missing(study, plan, run_id) == 0:
            time.sleep(POLL_SECONDS)


# -- worker processes ------------------------------------------------------------------------------

def _worker_main(url: str, study_name: str, plan: list[dict], stale_after: int, run_id: str) -> int:
    import signal
    import sys

    import torch

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: the running trial is failed, not left
    torch.set_num_threads(1)
    storage = open_storage(url, stale_after)
    study = load_study(storage, study_name)
    return work(study, storage, [TrialSpec(**p) for p in plan], run_id=run_id)


def run_plan(url: str, study_name: str, plan: Sequence[TrialSpec], workers: int = 1,
             stale_after: int = DEFAULT_STALE_AFTER, on_progress: Callable[[int], None] | None = None) -> dict:
    """Enqueue ``plan`` and run it with ``workers`` processes (1: in this process).

    Returns ``{"trials": {key: FrozenTrial}, "ran": n, "ran_here": m}``: the trial that counts for each
    key, how many finished during this call (the rest were already complete) and how many of those
    this call's own workers ran (the others: workers of another process or machine on the same study).
    """
    storage = open_storage(url, stale_after)
    study = load_study(storage, study_name)
    run_id = uuid.uuid4().hex
    done_before = len(completed(study, plan))
    if on_progress is not None:
        on_progress(done_before)
    _fail_stale(study)
    enqueue_missing(study, plan, run_id)
    if workers == 1:
        count = [done_before]

        def tick():
            count[0] += 1
            if on_progress is not None:
                on_progress(count[0])

        work(study, storage, plan, tick, run_id)
    else:
        _run_processes(url, study_name, plan, workers, stale_after, study, on_progress, run_id)
    finished = completed(study, plan)
    missing = len(plan) - len(finished)
    if missing:
        raise RuntimeError(f"{missing} planned trials did not complete in study {study_name!r}")
    here = sum(1 for t in finished.values() if t.user_attrs["result"].get("run") == run_id)
    return {"trials": finished, "ran": len(finished) - done_before, "ran_here": here}


def _context():
    """Worker processes come from a fork server that has imported torch and optimlab once: each worker
    then starts in milliseconds, and none inherits the caller's thread pools (unlike a plain fork).
    The preload includes what the first storage open imports (Optuna's RDB storage, alembic): about
    0.7 s per worker otherwise."""
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(
        ["torch", "torch._dynamo", "numba", "optuna", "optuna.storages._rdb.storage", "alembic.command",
         "alembic.migration", "sqlalchemy.dialects.sqlite", "optimlab.bench.tasks", "optimlab.tune.study"])
    return ctx


def _run_processes(url, study_name, plan, workers, stale_after, study, on_progress, run_id) -> None:
    from multiprocessing.connection import wait as mp_wait

    ctx = _context()
    payload = [asdict(s) for s in plan]
    procs = [ctx.Process(target=_worker_main, args=(url, study_name, payload, stale_after, run_id),
                         daemon=False)
             for _ in range(workers)]
    for p in procs:
        p.start()
    try:
        while alive := [p.sentinel for p in procs if p.is_alive()]:
            if on_progress is not None:
                on_progress(len(completed(study, plan)))
            mp_wait(alive, timeout=POLL_SECONDS)  # back at once when a worker exits
            failed = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if failed:
                enqueue_missing(study, plan, run_id)  # raises the failed trial's own error, if one failed
                raise RuntimeError(f"a tuning worker exited with status {failed[0]}")
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
    if on_progress is not None:
        on_progress(len(completed(study, plan)))
